"""The ``qt-pennylane`` command.

Example (shell)::

    qt-pennylane train --task iris --out runs/iris
    qt-pennylane train --task iris --optimizer paper --periods 21 --phi-iters 100 --gamma-iters 10
    qt-pennylane train --task iris --optimizer paper --device default.qubit --shots 13x
    qt-pennylane train --task mnist --data-root ../shared/data --mapping learned --hidden 16,16 --reps 16
    qt-pennylane train --task mnist-mlp --mapping batched --data-root ../shared/data
    qt-pennylane train --task iris --mapping mps --bond 4 --max-circuit-qubits 4

Every user error ends in one line, ``qt-pennylane: error: ...``, naming the option and its
value, with exit status 2; nothing is trained or written before the options are checked.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

from ._validation import SEED_MAX
from .devices.ibm import IBMCredentialsError
from .circuit.sampling import SHOT_NOISE
from .mappings import MAPPINGS
from .run_files import OutputFolder
from .scaling import SCALES
from .tasks import TASKS
from .training.loop import NonFiniteError
from .training.losses import LOSSES
from .training.registry import TRAINERS

GRADIENT_OPTIONS = ("lr", "mapping_lr", "classical_lr", "lr_schedule", "epochs", "batch_size", "eval_every",
                    "train_eval_limit")
"""Options that only gradient optimizers use."""

SCHEDULE_OPTIONS = ("periods", "phi_iters", "gamma_iters", "cobyla_step", "gamma_step", "loss")
"""Options that only the paper schedule uses."""

MAPPING_OPTIONS = ("hidden", "chunk_size", "bond")
"""Command-line options that go to the mapping (each only to a mapping that takes it)."""

SCHEDULE_DEFAULTS = dict(periods=21, phi_iters=100, gamma_iters=10, cobyla_step=0.5, gamma_step=0.2, loss="paper")


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def positive_int(text: str) -> int:
    """An argparse type: a positive int."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an int >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def seed_int(text: str) -> int:
    """An argparse type: a seed in ``[0, 2**63 - 1]``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**63 - 1], got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**63 - 1], got {text!r}")
    return value


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
    add("--optimizer", choices=sorted(TRAINERS), default="adam")
    add("--lr", type=positive_float, help="learning rate (default: the task's)")
    add("--mapping-lr", type=positive_float, help="learning rate of the mapping's parameters (default: the task's)")
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
    add("--seed", type=seed_int, default=0)
    add("--data-root", help="root of MNIST/FashionMNIST raw files (default: $QT_PENNYLANE_DATA)")
    add("--limit", type=positive_int, help="use only the first LIMIT train and test examples")
    add("--out", type=out_folder, help="folder for summary.json, checkpoint.pt and classical_model.pt")
    add("--resume", type=Path, help="checkpoint to continue from")
    add("--overwrite", action="store_true", help="replace the files of a finished run in --out")
    add("--quiet", action="store_true", help="no progress bar")
    return parser


def check_options(args: argparse.Namespace) -> None:
    """Refuse options the chosen optimizer or mapping does not use, before any work."""
    paper = args.optimizer == "paper"
    unused = GRADIENT_OPTIONS if paper else SCHEDULE_OPTIONS
    given = [name for name in unused if getattr(args, name) is not None]
    if given:
        name = given[0]
        raise ValueError(f"{_option(name)} {getattr(args, name)} applies to "
                         f"{'gradient optimizers' if paper else '--optimizer paper'}, not --optimizer {args.optimizer}")
    if args.resume is not None and not args.resume.is_file():
        raise ValueError(f"--resume {str(args.resume)!r} does not exist")


def _mapping_options(args: argparse.Namespace, mapping: str, defaults: dict) -> dict:
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


def _generate_policy(text: str | None, default):
    if text is None:
        return default
    if text in ("all", "weights"):
        return text
    return [part.strip() for part in text.split(",") if part.strip()]


def run_train(args: argparse.Namespace) -> dict:
    """Train as the arguments say; return the JSON summary."""
    import torch

    from .mappings import qubits_for
    from .model import QuantumTrainModel
    from .tasks import get_task, save_classical
    from .training.batchnorm import has_batchnorm, update_bn
    from .training.losses import make_loss
    from .training.registry import check_trainer

    check_options(args)
    task = get_task(args.task)
    defaults = task.defaults
    mapping = args.mapping or defaults.get("mapping", "learned")
    options = _mapping_options(args, mapping, defaults)
    folder = OutputFolder(args.out, resume=args.resume is not None, overwrite=args.overwrite)
    with folder:
        target = task.build_model()
        reps = args.reps if args.reps is not None else defaults["reps"]
        generate = _generate_policy(args.generate, defaults.get("generate", "weights"))
        scale = args.scale or defaults.get("scale", "init")
        train_set, test_set = task.load(data_root=args.data_root, limit=args.limit)
        from .generation import select_parameters

        slots, _ = select_parameters(target, generate)
        n_generated = sum(slot.numel for slot in slots)
        n_qubits = qubits_for(mapping, n_generated, **options)
        shots = resolve_shots(args.shots, n_qubits)
        model = QuantumTrainModel(
            target, generate=generate, scale=scale, reps=reps, mapping=mapping, mapping_options=options or None,
            entanglement=args.entanglement, device=args.device, shots=shots, backend=args.backend, seed=args.seed,
            engine=args.engine, shot_noise=args.shot_noise, max_circuit_qubits=args.max_circuit_qubits,
        )
        check_trainer(args.optimizer, model)
        config = {
            "task": args.task, "n_qubits": n_qubits, "reps": reps, "mapping": mapping, "hidden": args.hidden,
            "mapping_options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
            "max_circuit_qubits": args.max_circuit_qubits,
            "generate": generate, "scale": scale, "entanglement": args.entanglement, "device": args.device,
            "backend": args.backend, "shots": shots, "shot_noise": args.shot_noise if shots is not None else None,
            "engine": args.engine, "optimizer": args.optimizer, "seed": args.seed, "limit": args.limit,
        }
        checkpoint = folder.path("checkpoint.pt")
        started = time.perf_counter()
        progress = not args.quiet
        if args.optimizer == "paper":
            from .training.schedule import paper_schedule

            settings = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in SCHEDULE_DEFAULTS.items()}
            config.update({k: v for k, v in settings.items() if k != "periods"})  # a resumed run may extend
            history = paper_schedule(
                model, train_set, test_set, periods=settings["periods"], phi_iters=settings["phi_iters"],
                gamma_iters=settings["gamma_iters"], cobyla_step=settings["cobyla_step"],
                gamma_step=settings["gamma_step"], loss_fn=make_loss(settings["loss"]), checkpoint=checkpoint,
                resume=args.resume, config=config, progress=progress,
            )
        else:
            from .training.gradient import fit

            lr = args.lr if args.lr is not None else defaults["lr"]
            batch_size = args.batch_size if args.batch_size is not None else defaults["batch_size"]
            lr_schedule = args.lr_schedule or "cosine"
            mapping_lr = args.mapping_lr if args.mapping_lr is not None else defaults.get("mapping_lr")
            classical_lr = args.classical_lr if args.classical_lr is not None else defaults.get("classical_lr")
            config.update(lr=lr, mapping_lr=mapping_lr, classical_lr=classical_lr, batch_size=batch_size,
                          lr_schedule=lr_schedule)
            history = fit(
                model, train_set, test_set, optimizer=args.optimizer, lr=lr, mapping_lr=mapping_lr,
                classical_lr=classical_lr,
                epochs=args.epochs if args.epochs is not None else defaults["epochs"], batch_size=batch_size,
                seed=args.seed, checkpoint=checkpoint, resume=args.resume, config=config, lr_schedule=lr_schedule,
                train_eval_limit=args.train_eval_limit if args.train_eval_limit is not None
                else defaults.get("train_eval_limit"),
                eval_every=args.eval_every if args.eval_every is not None else defaults.get("eval_every", 1),
                progress=progress,
            )
        seconds = time.perf_counter() - started
        batchnorm = has_batchnorm(model.target)
        if batchnorm:
            update_bn(model, train_set)
        classical = model.export()
        counts = model.counts()
        target_params = sum(p.numel() for p in target.parameters())
        summary = {
            **config,
            **counts,
            "target_params": target_params,
            "param_ratio": counts["trainable_params"] / target_params,
            "source": model.generator.source.description,
            "batchnorm_recomputed": batchnorm,
            "train_accuracy": history[-1]["train_accuracy"],
            "test_accuracy": history[-1]["test_accuracy"],
            "seconds": round(seconds, 3),
            "torch_threads": torch.get_num_threads(),
            "history": history,
        }
        if batchnorm:
            from .training.evaluation import evaluate

            summary["test_accuracy"] = evaluate(classical, test_set)["accuracy"]
        if args.out is not None:
            save_classical(classical, args.task, folder.path("classical_model.pt"))
            folder.write_text("summary.json", json.dumps(summary, indent=2))
    return summary


USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, ImportError, NonFiniteError, IBMCredentialsError)
"""What ends the command with one error line instead of a traceback."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qt-pennylane`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = run_train(args)
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        parser.exit(2, f"qt-pennylane: error: {message}\n")
    except KeyboardInterrupt:
        parser.exit(130, "qt-pennylane: interrupted; resume with --resume <out>/checkpoint.pt\n")
    summary.pop("history")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
