"""The built-in tasks' networks: the papers' Iris MLP and MNIST CNN, a large MNIST MLP, and the zoo.

Example:
    >>> sum(p.numel() for p in IrisMLP().parameters()), sum(p.numel() for p in MnistCNN().parameters())
    (131, 6690)
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_bool, check_widths


class IrisMLP(nn.Sequential):
    """The paper's Iris network 4–16–3: 131 parameters (N = 8 qubits).

    The paper does not name its activation. ``activation=True`` puts a ReLU between the two
    layers; ``activation=False`` puts none, as the authors' released code does in its CNN. The
    network is then affine in its input (a softmax-linear classifier of rank ≤ 3), with the same
    131 parameters. The ``"iris"`` task uses the choice with the higher cross-validation accuracy
    on the training set under the paper's schedule (``benchmarks/iris.py --only network``).

    Example:
        >>> IrisMLP(activation=False)
        IrisMLP(
          (0): Linear(in_features=4, out_features=16, bias=True)
          (1): Identity()
          (2): Linear(in_features=16, out_features=3, bias=True)
        )
    """

    def __init__(self, *, activation: bool = True):
        check_bool("activation", activation)
        super().__init__(nn.Linear(4, 16), nn.ReLU() if activation else nn.Identity(), nn.Linear(16, 3))


class MnistCNN(nn.Module):
    """The MNIST/FashionMNIST CNN of the Quantum-Train papers: 6,690 parameters (N = 13).

    Conv(1→8, k5) – MaxPool(2) – Conv(8→12, k5) – MaxPool(2) – Linear(192→20) – Linear(20→10),
    with ReLU after each conv and the first linear layer; ``activation=False`` gives the
    authors' activation-free version (same parameter count).

    Example:
        >>> MnistCNN()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, *, activation: bool = True):
        check_bool("activation", activation)
        super().__init__()
        act = nn.ReLU if activation else nn.Identity
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5), act(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 5), act(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(192, 20), act(), nn.Linear(20, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class MnistMLP(nn.Sequential):
    """A large MNIST MLP, 784–1024–1024–10 with ReLU: 1,863,690 parameters (1,861,632 weights, 2,058 biases).

    It flattens its ``(n, 1, 28, 28)`` input itself.

    Args:
        hidden: the hidden layers' widths.
        classes: output classes.

    Example:
        >>> net = MnistMLP()
        >>> net(torch.zeros(2, 1, 28, 28)).shape, sum(p.numel() for p in net.parameters())
        (torch.Size([2, 10]), 1863690)
    """

    def __init__(self, hidden: tuple[int, ...] = (1024, 1024), classes: int = 10):
        widths = [784, *check_widths("hidden", hidden)]
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        super().__init__(*layers, nn.Linear(widths[-1], classes))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with BatchNorm and a residual connection (a 1×1 projection when the shape changes)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(channels_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A small ResNet for 28×28 grey images: a stem, three stages of basic blocks, global pooling.

    Args:
        widths: channels of the three stages (the second and third halve the resolution).
        blocks: basic blocks per stage.
        classes: output classes.

    Example:
        >>> net = ResNet()
        >>> net(torch.zeros(2, 1, 28, 28)).shape, sum(p.numel() for p in net.parameters())
        (torch.Size([2, 10]), 44014)
    """

    def __init__(self, widths: tuple[int, int, int] = (12, 24, 48), blocks: int = 1, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        layers, channels = [], widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks):
                layers.append(BasicBlock(channels, width, stride=2 if stage > 0 and block == 0 else 1))
                channels = width
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class RowLSTM(nn.Module):
    """An LSTM that reads a 28×28 image row by row (28 time steps of 28 pixels) and classifies it.

    The classifier sees the last layer's final hidden state (both directions when bidirectional).

    Args:
        hidden: hidden units per direction.
        layers: stacked LSTM layers.
        bidirectional: read the rows both ways.
        classes: output classes.

    Example:
        >>> net = RowLSTM(hidden=32, layers=2, bidirectional=True)   # the 41,610-weight model
        >>> net(torch.zeros(2, 1, 28, 28)).shape, sum(p.numel() for p in net.parameters())
        (torch.Size([2, 10]), 41610)
    """

    def __init__(self, hidden: int = 64, layers: int = 1, bidirectional: bool = False, classes: int = 10):
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x.reshape(x.shape[0], 28, 28))
        final = torch.cat([h[-2], h[-1]], dim=1) if self.lstm.bidirectional else h[-1]
        return self.head(final)
