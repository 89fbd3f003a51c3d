import pytest
import torch

from qt_pennylane import CrossEntropyWithErrorRate
from qt_pennylane.training.losses import LOSSES, error_rate, make_loss


def test_error_rate_on_a_hand_made_example():
    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    targets = torch.tensor([0, 1, 0, 2])  # rows 2 and 3 are wrong
    assert error_rate(logits, targets).item() == 0.5
    expected = torch.nn.functional.cross_entropy(logits, targets) + 0.5
    assert torch.isclose(CrossEntropyWithErrorRate()(logits, targets), expected)


def test_error_rate_term_has_no_gradient():
    logits = torch.randn(6, 3, requires_grad=True)
    targets = torch.tensor([0, 1, 2, 0, 1, 2])
    CrossEntropyWithErrorRate()(logits, targets).backward()
    grad_full = logits.grad.clone()
    logits.grad = None
    torch.nn.functional.cross_entropy(logits, targets).backward()
    assert torch.allclose(grad_full, logits.grad)


def test_losses_by_name():
    logits, targets = torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([0, 1])
    cross_entropy = torch.nn.functional.cross_entropy(logits, targets)
    assert torch.isclose(make_loss("paper")(logits, targets), cross_entropy + 0.5)
    assert torch.isclose(make_loss("cross-entropy")(logits, targets), cross_entropy)
    assert sorted(LOSSES) == ["cross-entropy", "paper"]


def test_unknown_loss_name_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"loss must be one of \['cross-entropy', 'paper'\], got 'hinge'"):
        make_loss("hinge")
