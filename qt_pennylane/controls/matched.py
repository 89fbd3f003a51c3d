"""Controls at exactly a stated trainable count: size the control's free numbers to match a Quantum-Train model.

A :class:`~qt_pennylane.QuantumTrainModel` with a control generator has
``trainable = K + gains + classical``: the control's ``K`` free numbers (buckets, subspace
dimension), one gain per generated tensor (``scale="init"``), and the parameters the policy keeps
classical (biases, normalization). :func:`control_budget` solves for ``K``; :func:`matched_control`
builds the model. The fixed-random-input control needs no sizing: it is
``QuantumTrainModel(target, source="fixed-random", ...)`` with the Quantum-Train model's own
options, which has exactly the circuit's angles fewer trainable numbers.

Example:
    >>> import torch
    >>> from qt_pennylane import QuantumTrainModel
    >>> target = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    >>> qt = QuantumTrainModel(target, mapping="learned", reps=2, seed=0)
    >>> trainable = qt.counts()["trainable_params"]
    >>> control = matched_control(target, "hashednets", trainable, seed=0)
    >>> control.counts()["trainable_params"] == trainable
    True
"""
from __future__ import annotations

from torch import nn

from .._validation import check_choice, check_positive_int, fail
from .fastfood import FastfoodSubspaceGenerator
from .hashednets import HashedNetsGenerator
from .subspace import RandomSubspaceGenerator

CONTROLS = {
    "hashednets": (HashedNetsGenerator, "buckets"),
    "subspace": (RandomSubspaceGenerator, "n_trainable"),
    "fastfood": (FastfoodSubspaceGenerator, "n_trainable"),
}
"""Sized controls by name: the generator class and the keyword that takes its free-number count."""

DENSE_LIMIT_BYTES = 2**31
"""The largest dense projection ``"subspace"`` builds (float32 bytes); beyond it use ``"fastfood"``."""


def control_budget(target: nn.Module, trainable: int, *, generate="weights", scale: str = "init") -> int:
    """The free numbers ``K`` a control needs so that its model has ``trainable`` trainable numbers.

    Raises:
        ValueError: ``trainable`` leaves no free number after the gains and the classical parameters.

    Example:
        >>> control_budget(nn.Linear(10, 4), 20)   # 20 − 1 gain − 4 classical biases
        15
    """
    from ..generation import select_parameters
    from ..scaling import SCALES

    check_positive_int("trainable", trainable)
    check_choice("scale", scale, SCALES)
    slots, classical = select_parameters(target, generate)
    fixed = sum(target.get_parameter(name).numel() for name in classical) + (len(slots) if scale == "init" else 0)
    if trainable <= fixed:
        raise fail("trainable", f"more than the {fixed} gains and classical parameters of the target", trainable)
    return trainable - fixed


def matched_control(target: nn.Module, name: str, trainable: int, *, generate="weights", scale: str = "init",
                    seed: int | None = None, **options):
    """A :class:`~qt_pennylane.QuantumTrainModel` of ``target`` whose weights come from the control ``name``,
    with exactly ``trainable`` trainable numbers (``counts()["trainable_params"]``).

    Args:
        target: the network.
        name: a key of :data:`CONTROLS`.
        trainable: the trainable count to match (e.g. a Quantum-Train model's ``counts()["trainable_params"]``).
        generate: the generation policy (as the model being matched).
        scale: the per-tensor scale (as the model being matched).
        seed: seed of the control's random structure.
        **options: further options of the control's class (e.g. ``init_std``).

    Raises:
        ValueError: for a bad argument; for ``"subspace"``, a dense projection over
            :data:`DENSE_LIMIT_BYTES` (use ``"fastfood"``).
    """
    from ..generation import select_parameters
    from ..model import QuantumTrainModel

    check_choice("name", name, CONTROLS)
    budget = control_budget(target, trainable, generate=generate, scale=scale)
    n_generated = sum(slot.numel for slot in select_parameters(target, generate)[0])
    if name == "subspace" and 4 * n_generated * budget > DENSE_LIMIT_BYTES:
        raise ValueError(f"name='subspace' needs a dense {n_generated} x {budget} projection "
                         f"({4 * n_generated * budget / 2**30:.1f} GiB); use name='fastfood'")
    cls, keyword = CONTROLS[name]
    generator = cls(n_generated, seed=seed, **{keyword: budget}, **options)
    return QuantumTrainModel(target, generator=generator, generate=generate, scale=scale)
