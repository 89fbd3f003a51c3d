"""The ``qt-pennylane`` command's options: the parser, its value types, which options each trainer
uses, and the checks and defaults that turn them into settings (:mod:`qt_pennylane.cli` runs them).

Example:
    >>> args = build_parser().parse_args(["train", "--task", "iris", "--shots", "13x"])
    >>> args.task, args.shots, resolve_shots(args.shots, n_qubits=8)
    ('iris', '13x', 3328)
    >>> trainer_settings(args, {"lr": 0.1, "epochs": 1000, "batch_size": None})["lr"]
    0.1
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from ._validation import SEED_MAX
from .circuit.sampling import SHOT_NOISE
from .devices.modes import EXECUTION_MODES
from .mappings import MAPPINGS
from .scaling import SCALES
from .tasks import TASKS
from .training.losses import LOSSES
from .training.registry import TRAINERS


GRADIENT_OPTIONS = ("mapping_lr", "classical_lr", "lr_schedule")
"""Options that only gradient optimizers use."""

EPOCH_OPTIONS = ("lr", "epochs", "batch_size", "eval_every", "train_eval_limit")
"""Options of the trainers that step over batches: gradient optimizers and SPSA."""

SCHEDULE_OPTIONS = ("periods", "phi_iters", "gamma_iters", "cobyla_step", "gamma_step", "loss")
"""Options that only the paper schedule uses."""

SPSA_OPTIONS = ("perturbation", "lr_decay", "perturbation_decay")
"""Options that only SPSA uses."""

REMOTE_DEVICES = ("qiskit.remote", "qiskit.ibmq")
"""Devices that run on an IBM backend (fake or real): their runs are estimated before they start."""

MAPPING_OPTIONS = ("hidden", "chunk_size", "bond")
"""Command-line options that go to the mapping (each only to a mapping that takes it)."""

SCHEDULE_DEFAULTS = dict(periods=21, phi_iters=100, gamma_iters=10, cobyla_step=0.5, gamma_step=0.2, loss="paper")

SPSA_DEFAULTS = dict(lr=1.0, perturbation=0.15, lr_decay=0.602, perturbation_decay=0.101)
"""SPSA's defaults (those of :func:`qt_pennylane.training.spsa.spsa`)."""

CONFIG_SETTINGS = {"paper": ("phi_iters", "gamma_iters", "cobyla_step", "gamma_step", "loss"),
                   "gradient": ("lr", "mapping_lr", "classical_lr", "batch_size", "lr_schedule"),
                   "spsa": ("lr", "batch_size", "perturbation", "lr_decay", "perturbation_decay")}
"""Trainer settings stored in the run's config (compared on resume; the run's length may change)."""


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _argument_type(convert, accept, expected: str):
    """An argparse type: ``convert(text)`` where ``accept`` holds, else the one-line error ``must be <expected>``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
        return value

    parse.__name__ = expected
    return parse


positive_int = _argument_type(int, lambda v: v >= 1, "a positive int")
non_negative_int = _argument_type(int, lambda v: v >= 0, "an int >= 0")
positive_float = _argument_type(float, lambda v: math.isfinite(v) and v > 0, "a positive finite number")
seed_int = _argument_type(int, lambda v: 0 <= v <= SEED_MAX, "an int in [0, 2**63 - 1]")


def out_folder(text: str) -> Path:
    """An argparse type: a folder path (not empty)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a folder, got {text!r}")
    return Path(text)


def parse_shots(text: str) -> int | str | None:
    """``"none"`` → exact, ``"4096"`` → 4096 shots, ``"13x"`` → 13·2^N shots (resolved once N is known)."""
    if text.lower() in ("none", "exact", "inf"):
        return None
    multiple = text.lower().endswith("x")
    try:
        value = int(text[:-1] if multiple else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int, 'Kx' (K·2^N) or 'none', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    if value > 2**40:
        raise argparse.ArgumentTypeError(f"must be at most 2**40, got {text!r}")
    return f"{value}x" if multiple else value


def parse_widths(text: str) -> tuple[int, ...]:
    """``"16,16"`` → ``(16, 16)``."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive ints, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive ints, got {text!r}")
    return widths


def resolve_shots(shots: int | str | None, n_qubits: int) -> int | None:
    """Turn a ``"Kx"`` shots request into ``K * 2**n_qubits``."""
    if isinstance(shots, str):
        return int(shots[:-1]) * 2**n_qubits
    return shots


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported in one line (no usage block): ``qt-pennylane: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"qt-pennylane: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qt-pennylane", description="Quantum-Train for PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a built-in task and print a JSON summary")
    add = train.add_argument
    add("--task", choices=sorted(TASKS), default="iris")
    add("--reps", type=non_negative_int, help="EfficientSU2 repetitions L (default: the task's)")
    add("--mapping", choices=sorted(MAPPINGS), help="probabilities → weights (default: the task's)")
    add("--hidden", type=parse_widths, help="learned and batched mappings: hidden widths, e.g. 16,16")
    add("--chunk-size", type=positive_int, help="batched mapping: weights per chunk (default: the task's)")
    add("--bond", type=positive_int, help="mps mapping: bond dimension")
    add("--max-circuit-qubits", type=positive_int,
        help="distributed ansatz: independent sub-circuits of at most this many qubits")
    add("--generate", help="which parameters the circuit makes: all, weights, or comma-separated name patterns "
                           "(default: the task's)")
    add("--scale", choices=list(SCALES), help="per-tensor scale of the generated weights (default: the task's)")
    add("--entanglement", default="reverse_linear")
    add("--device", help="a PennyLane device name (default: the fast engine)")
    add("--backend", help="backend of qiskit.remote, e.g. fake_manila or ibm_brisbane")
    add("--shots", type=parse_shots, default=None, help="int, 'Kx' for K·2^N, or 'none' (exact)")
    add("--shot-noise", choices=list(SHOT_NOISE), default="fresh",
        help="with shots on a simulator: new samples per evaluation (fresh) or the same random numbers (fixed)")
    add("--engine", choices=["auto", "engine", "qnode"], default="auto")
    add("--ibm-mode", choices=sorted(EXECUTION_MODES),
        help="qiskit.remote: run through Qiskit's SamplerV2, one job per optimizer step, in this execution mode "
             "(without it: PennyLane's device, one job per circuit)")
    add("--mitigate", action="store_true", help="with --ibm-mode: M3 readout-error mitigation (mthree)")
    add("--yes", action="store_true", help="run on real hardware even when the estimate is above the threshold")
    add("--optimizer", choices=sorted(TRAINERS), default="adam")
    add("--lr", type=positive_float, help="learning rate (default: the task's)")
    add("--mapping-lr", type=positive_float,
        help="learning rate of the mapping's parameters (default: the task's, else the mapping's share of --lr)")
    add("--classical-lr", type=positive_float,
        help="learning rate of the parameters kept classical (default: the task's, else --lr)")
    add("--lr-schedule", choices=["cosine", "constant"], help="default: cosine")
    add("--epochs", "--steps", dest="epochs", type=positive_int, help="epochs (full-batch tasks: steps)")
    add("--batch-size", type=positive_int, help="minibatch size (default: the task's)")
    add("--eval-every", type=positive_int, help="epochs between evaluations and checkpoints")
    add("--train-eval-limit", type=positive_int, help="training accuracy on the first N examples (default: the task's)")
    add("--periods", type=positive_int, help="paper schedule: periods N_train (default 21)")
    add("--phi-iters", type=positive_int,
        help="paper schedule: COBYLA iterations N_phi after its len(phi)+1-point first simplex (default 100)")
    add("--gamma-iters", type=positive_int, help="paper schedule: Nelder-Mead iterations N_gamma (default 10)")
    add("--cobyla-step", type=positive_float, help="paper schedule: COBYLA's initial radius in rad (default 0.5)")
    add("--gamma-step", type=positive_float, help="paper schedule: Nelder-Mead's initial step (default 0.2)")
    add("--loss", choices=sorted(LOSSES), help="paper schedule: the paper's CE + training error rate (default) or CE")
    add("--perturbation", type=positive_float, help="SPSA: the first perturbation c (default 0.15)")
    add("--lr-decay", type=positive_float, help="SPSA: alpha, the gain's decay exponent (default 0.602)")
    add("--perturbation-decay", type=positive_float, help="SPSA: gamma, the perturbation's decay exponent "
                                                           "(default 0.101)")
    add("--seed", type=seed_int, default=0)
    add("--data-root", help="root of MNIST/FashionMNIST raw files (default: $QT_PENNYLANE_DATA)")
    add("--limit", type=positive_int, help="use only the first LIMIT train and test examples")
    add("--out", type=out_folder, help="folder for summary.json, checkpoint.pt and classical_model.pt")
    add("--resume", type=Path, help="checkpoint to continue from")
    add("--overwrite", action="store_true", help="replace the files of a finished run in --out")
    add("--quiet", action="store_true", help="no progress bar")
    from .ntk.cli import add_parser as add_ntk_parser

    add_ntk_parser(commands)
    return parser


def kind_of(optimizer: str) -> str:
    return optimizer if optimizer in ("paper", "spsa") else "gradient"


OPTIONS_OF = {"gradient": GRADIENT_OPTIONS + EPOCH_OPTIONS, "spsa": EPOCH_OPTIONS + SPSA_OPTIONS,
              "paper": SCHEDULE_OPTIONS}
"""The options each kind of trainer uses."""

_WHO = {"gradient": "gradient optimizers", "spsa": "--optimizer spsa", "paper": "--optimizer paper"}


def check_options(args: argparse.Namespace) -> None:
    """Refuse options the chosen optimizer, device or mapping does not use, before any work."""
    kind = kind_of(args.optimizer)
    for name in sorted({n for names in OPTIONS_OF.values() for n in names} - set(OPTIONS_OF[kind])):
        if getattr(args, name) is not None:
            users = " and ".join(_WHO[k] for k, names in OPTIONS_OF.items() if name in names)
            raise ValueError(f"{_option(name)} {getattr(args, name)} applies to {users}, not --optimizer {args.optimizer}")
    if args.ibm_mode is not None and args.device not in REMOTE_DEVICES:
        raise ValueError(f"--ibm-mode {args.ibm_mode} applies to --device qiskit.remote, not --device {args.device}")
    if args.ibm_mode is not None and args.engine != "auto":
        raise ValueError(f"--engine {args.engine} does not apply with --ibm-mode (the circuit runs through SamplerV2)")
    if args.mitigate and args.ibm_mode is None:
        raise ValueError("--mitigate applies to --ibm-mode job|batch|session (SamplerV2), not PennyLane's device")
    if args.resume is not None and not args.resume.is_file():
        what = "is a folder, not a checkpoint file" if args.resume.is_dir() else "does not exist"
        raise ValueError(f"--resume {str(args.resume)!r} {what}")


def mapping_options_of(args: argparse.Namespace, mapping: str, defaults: dict) -> dict:
    """The mapping's options: the task's (for the task's own mapping), overridden by those given."""
    from .mappings import mapping_options

    known = mapping_options(mapping)
    for name in MAPPING_OPTIONS:
        if getattr(args, name) is not None and name not in known:
            takers = [m for m in sorted(MAPPINGS) if name in mapping_options(m)]
            raise ValueError(f"{_option(name)} {getattr(args, name)} applies to --mapping {' or '.join(takers)}, "
                             f"not --mapping {mapping}")
    options = dict(defaults.get("mapping_options") or {}) if mapping == defaults.get("mapping") else {}
    options.update({name: getattr(args, name) for name in MAPPING_OPTIONS if getattr(args, name) is not None})
    return options


def generate_policy(text: str | None, default):
    if text is None:
        return default
    if text in ("all", "weights"):
        return text
    return [part.strip() for part in text.split(",") if part.strip()]


def trainer_settings(args: argparse.Namespace, defaults: dict) -> dict:
    """The chosen trainer's settings: the options given, else the task's defaults, else the trainer's."""
    kind = kind_of(args.optimizer)
    if kind == "paper":
        return {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in SCHEDULE_DEFAULTS.items()}
    settings = {
        "lr": args.lr if args.lr is not None else (SPSA_DEFAULTS["lr"] if kind == "spsa" else defaults["lr"]),
        "epochs": args.epochs if args.epochs is not None else defaults["epochs"],
        "batch_size": args.batch_size if args.batch_size is not None else defaults["batch_size"],
        "eval_every": args.eval_every if args.eval_every is not None else defaults.get("eval_every", 1),
        "train_eval_limit": args.train_eval_limit if args.train_eval_limit is not None
        else defaults.get("train_eval_limit"),
    }
    if kind == "spsa":
        settings.update({k: getattr(args, k) if getattr(args, k) is not None else v for k, v in SPSA_DEFAULTS.items()
                         if k != "lr"})
    else:
        settings.update(mapping_lr=args.mapping_lr if args.mapping_lr is not None else defaults.get("mapping_lr"),
                        classical_lr=args.classical_lr if args.classical_lr is not None
                        else defaults.get("classical_lr"),
                        lr_schedule=args.lr_schedule or "cosine")
    return settings
