"""The ``qt-pennylane`` command.

Example (shell)::

    qt-pennylane train --task iris --reps 1 --mapping paper --out runs/iris
    qt-pennylane train --task iris --optimizer paper --periods 21 --phi-iters 100 --gamma-iters 10
    qt-pennylane train --task iris --optimizer paper --device default.qubit --shots 13x
    qt-pennylane train --task iris --optimizer paper --shots 13x --shot-noise fixed
    qt-pennylane train --task iris --optimizer paper --loss cross-entropy
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from .losses import LOSSES, make_loss
from .mapping import MAPPINGS, n_qubits_for
from .model import QuantumTrainModel
from .sampling import SHOT_NOISE
from .tasks import TASKS, get_task
from .train import LR_SCHEDULES, OPTIMIZERS

PAPER = "paper"


def parse_shots(text: str) -> int | str | None:
    """``"none"`` → exact, ``"4096"`` → 4096 shots, ``"13x"`` → 13·2^N shots (resolved once N is known)."""
    if text.lower() in ("none", "exact", "inf"):
        return None
    multiple = text.lower().endswith("x")
    try:
        value = int(text[:-1] if multiple else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shots must be an int, 'Kx' (K·2^N) or 'none', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--shots must be positive, got {text!r}")
    return f"{value}x" if multiple else value


def parse_widths(text: str) -> tuple[int, ...]:
    """``"16,16"`` → ``(16, 16)``."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated ints, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"--hidden widths must be positive, got {text!r}")
    return widths


def resolve_shots(shots: int | str | None, n_qubits: int) -> int | None:
    """Turn a ``"Kx"`` shots request into ``K * 2**n_qubits``."""
    if isinstance(shots, str):
        return int(shots[:-1]) * 2**n_qubits
    return shots


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qt-pennylane", description="Quantum-Train for PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a built-in task and print a JSON summary")
    train.add_argument("--task", choices=sorted(TASKS), default="iris")
    train.add_argument("--reps", type=int, help="EfficientSU2 repetitions L (default: the task's)")
    train.add_argument("--mapping", choices=sorted(MAPPINGS), default="paper")
    train.add_argument("--hidden", type=parse_widths, help="learned mapping: G's hidden widths, e.g. 16,16")
    train.add_argument("--entanglement", default="reverse_linear")
    train.add_argument("--device", default="default.qubit")
    train.add_argument("--backend", help="backend of qiskit.remote, e.g. fake_manila or ibm_brisbane")
    train.add_argument("--shots", type=parse_shots, default=None, help="int, 'Kx' for K·2^N, or 'none' (exact)")
    train.add_argument("--shot-noise", choices=list(SHOT_NOISE), default="fresh",
                       help="with shots on a simulator: new samples per evaluation (fresh) or the same random numbers (fixed)")
    train.add_argument("--engine", choices=["auto", "engine", "qnode"], default="auto")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS) + [PAPER], default="adam")
    train.add_argument("--lr", type=float, help="learning rate (default: the task's)")
    train.add_argument("--mapping-lr", type=float, help="learning rate of the mapping's parameters (default: --lr)")
    train.add_argument("--lr-schedule", choices=list(LR_SCHEDULES), default="cosine")
    train.add_argument("--epochs", "--steps", dest="epochs", type=int, help="epochs (full-batch tasks: steps)")
    train.add_argument("--batch-size", type=int, help="minibatch size (default: the task's)")
    train.add_argument("--eval-every", type=int, help="epochs between evaluations and checkpoints")
    train.add_argument("--train-eval-limit", type=int, help="training accuracy on the first N examples (default: the task's)")
    train.add_argument("--periods", type=int, default=21, help="paper schedule: periods N_train")
    train.add_argument("--phi-iters", type=int, default=100,
                       help="paper schedule: COBYLA iterations N_phi (after its len(phi)+1-point first simplex)")
    train.add_argument("--gamma-iters", type=int, default=10, help="paper schedule: Nelder-Mead iterations N_gamma")
    train.add_argument("--cobyla-step", type=float, default=0.5, help="paper schedule: COBYLA's initial radius (rad)")
    train.add_argument("--gamma-step", type=float, default=0.2, help="paper schedule: Nelder-Mead's initial step in log gamma")
    train.add_argument("--loss", choices=sorted(LOSSES), default=None,
                       help="paper schedule: its objective, the paper's CE + training error rate (default) or CE alone")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data-root", help="root of MNIST/FashionMNIST raw files (default: $QT_PENNYLANE_DATA)")
    train.add_argument("--limit", type=int, help="use only the first LIMIT train and test examples")
    train.add_argument("--out", type=Path, help="directory for summary.json, checkpoint.pt and classical_model.pt")
    train.add_argument("--resume", type=Path, help="checkpoint to continue from")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    from .ntk.cli import add_parser as add_ntk_parser

    add_ntk_parser(commands)
    return parser


def run_train(args: argparse.Namespace) -> dict:
    """Train as the arguments say; return the JSON summary."""
    task = get_task(args.task)
    defaults = task.defaults
    target = task.build_model()
    n_params = sum(p.numel() for p in target.parameters())
    n_qubits = n_qubits_for(n_params)
    shots = resolve_shots(args.shots, n_qubits)
    reps = args.reps if args.reps is not None else defaults["reps"]
    if args.optimizer != PAPER:
        from .devices import check_gradient_support

        check_gradient_support(args.device, shots, args.optimizer, backend=args.backend)
    if args.resume is not None and not args.resume.is_file():
        raise ValueError(f"--resume {str(args.resume)!r} does not exist")
    train_set, test_set = task.load(data_root=args.data_root, limit=args.limit)
    if args.loss is not None and args.optimizer != PAPER:
        raise ValueError(f"--loss {args.loss} applies to --optimizer {PAPER}; gradient optimizers minimize cross-entropy")
    if args.hidden is not None and args.mapping != "learned":
        raise ValueError(f"--hidden {args.hidden} applies to --mapping learned, not --mapping {args.mapping}")
    model = QuantumTrainModel(
        target, reps=reps, mapping=args.mapping, mapping_options={"hidden": args.hidden} if args.hidden else None,
        entanglement=args.entanglement, device=args.device,
        shots=shots, backend=args.backend, seed=args.seed, engine=args.engine, shot_noise=args.shot_noise,
    )
    config = {
        "task": args.task, "n_qubits": n_qubits, "reps": reps, "mapping": args.mapping, "hidden": args.hidden,
        "entanglement": args.entanglement, "device": args.device, "backend": args.backend, "shots": shots,
        "shot_noise": args.shot_noise if shots is not None else None, "optimizer": args.optimizer,
        "seed": args.seed, "limit": args.limit,
    }
    checkpoint = args.out / "checkpoint.pt" if args.out is not None else None
    started = time.perf_counter()
    if args.optimizer == PAPER:
        from .optim import paper_schedule

        loss = args.loss if args.loss is not None else "paper"
        config.update(phi_iters=args.phi_iters, gamma_iters=args.gamma_iters, cobyla_step=args.cobyla_step,
                      gamma_step=args.gamma_step, loss=loss)
        history = paper_schedule(
            model, train_set, test_set, periods=args.periods, phi_iters=args.phi_iters,
            gamma_iters=args.gamma_iters, cobyla_step=args.cobyla_step, gamma_step=args.gamma_step,
            loss_fn=make_loss(loss), checkpoint=checkpoint, resume=args.resume, config=config, progress=not args.quiet,
        )
    else:
        from .train import fit

        lr = args.lr if args.lr is not None else defaults["lr"]
        batch_size = args.batch_size if args.batch_size is not None else defaults["batch_size"]
        config.update(lr=lr, mapping_lr=args.mapping_lr, batch_size=batch_size, lr_schedule=args.lr_schedule)
        history = fit(
            model, train_set, test_set, optimizer=args.optimizer, lr=lr, mapping_lr=args.mapping_lr,
            epochs=args.epochs if args.epochs is not None else defaults["epochs"], batch_size=batch_size,
            seed=args.seed, checkpoint=checkpoint, resume=args.resume, config=config,
            lr_schedule=args.lr_schedule,
            train_eval_limit=args.train_eval_limit if args.train_eval_limit is not None else defaults.get("train_eval_limit"),
            eval_every=args.eval_every if args.eval_every is not None else defaults.get("eval_every", 1),
            progress=not args.quiet,
        )
    seconds = time.perf_counter() - started
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    summary = {
        **config,
        "trainable_params": trainable,
        "target_params": n_params,
        "param_ratio": trainable / n_params,
        "train_accuracy": history[-1]["train_accuracy"],
        "test_accuracy": history[-1]["test_accuracy"],
        "seconds": round(seconds, 3),
        "history": history,
    }
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        from .checkpoint import save_atomic

        save_atomic(model.export(), args.out / "classical_model.pt")
        tmp = args.out / ".summary.json.tmp"
        tmp.write_text(json.dumps(summary, indent=2))
        tmp.replace(args.out / "summary.json")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qt-pennylane`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "ntk":
            from .ntk.cli import run as run_ntk

            summary = run_ntk(args)
        else:
            summary = run_train(args)
    except (ValueError, FileNotFoundError, ImportError) as error:
        parser.exit(2, f"qt-pennylane: error: {error}\n")
    summary.pop("history", None)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
