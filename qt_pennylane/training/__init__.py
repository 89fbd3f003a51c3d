"""Training: one loop (:mod:`.loop`) shared by the trainers of the registry (:mod:`.registry`).

Gradient optimizers run through :func:`fit` (:mod:`.gradient`), the paper's gradient-free
schedule through :func:`paper_schedule` (:mod:`.schedule`), SPSA through :func:`spsa` (:mod:`.spsa`); :func:`param_groups` serves custom
loops, :func:`update_bn` recomputes BatchNorm statistics, :func:`evaluate` measures a module.
"""
from .batchnorm import update_bn
from .evaluation import evaluate
from .gradient import fit, param_groups
from .loop import NonFiniteError
from .registry import TRAINERS, check_trainer
from .schedule import paper_schedule
from .spsa import spsa

__all__ = ["NonFiniteError", "TRAINERS", "check_trainer", "evaluate", "fit", "paper_schedule", "param_groups",
           "spsa", "update_bn"]
