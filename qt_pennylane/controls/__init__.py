"""Non-quantum controls: weight generators and a probability source that take the circuit out.

Each generator is an ``nn.Module`` with an ``n_params`` attribute whose ``forward()`` takes no input
and returns the flat weight vector θ of length ``n_params``, so it can be passed as
``QuantumTrainModel(target, generator=...)``. They answer the ablation question "does the
quantum circuit matter, or would any low-dimensional parameterization of θ do?"

- :class:`RandomSubspaceGenerator`: θ = θ0 + P·z with a fixed dense random projection P
  ("intrinsic dimension", Li et al. 2018, arXiv:1804.08838).
- :class:`FastfoodSubspaceGenerator`: the same with a structured (Fastfood) projection, for sizes
  where a dense one does not fit in memory.
- :class:`HashedNetsGenerator`: HashedNets (Chen et al. 2015, arXiv:1504.04788): every weight is a
  trainable bucket value chosen by a fixed random hash, with a fixed random sign.
- :class:`SoftmaxPaperGenerator`: the paper's fixed mapping fed by a trainable softmax over
  ``2**N`` logits instead of the circuit's probabilities.

And one probability source, for the same generator with the circuit taken out:

- :class:`FixedRandomSource`: a fixed random probability vector in place of the circuit's
  (``QuantumTrainModel(target, source="fixed-random")``).

:func:`matched_control` builds a control model at exactly a stated trainable count (:mod:`.matched`).

Example:
    >>> gen = RandomSubspaceGenerator(131, n_trainable=32, seed=0)
    >>> gen().shape, sum(p.numel() for p in gen.parameters())
    (torch.Size([131]), 32)
"""
from .fastfood import FastfoodSubspaceGenerator
from .fixed_random import FixedRandomSource
from .hashednets import HashedNetsGenerator
from .matched import CONTROLS, control_budget, matched_control
from .softmax import SoftmaxPaperGenerator
from .subspace import RandomSubspaceGenerator

__all__ = ["CONTROLS", "FastfoodSubspaceGenerator", "FixedRandomSource", "HashedNetsGenerator",
           "RandomSubspaceGenerator", "SoftmaxPaperGenerator", "control_budget", "matched_control"]
