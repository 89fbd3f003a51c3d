"""The ``qt-pennylane`` command.

Example (shell)::

    qt-pennylane train --task iris --out runs/iris
    qt-pennylane train --task iris --optimizer paper --periods 21 --phi-iters 100 --gamma-iters 10
    qt-pennylane train --task iris --optimizer paper --device default.qubit --shots 13x
    qt-pennylane train --task mnist --data-root ../shared/data --mapping learned --hidden 16,16 --reps 16
    qt-pennylane train --task mnist-mlp --mapping batched --data-root ../shared/data
    qt-pennylane train --task iris --mapping mps --bond 4 --max-circuit-qubits 4
    qt-pennylane train --task iris --device qiskit.remote --backend fake_guadalupe --shots 1024 \
        --ibm-mode batch --optimizer spsa --mitigate

Every user error ends in one line, ``qt-pennylane: error: ...``, naming the option and its
value, with exit status 2; nothing is trained or written before the options are checked.

Data-parallel on several processes (see :mod:`qt_pennylane.training.distributed`)::

    torchrun --nproc-per-node 2 -m qt_pennylane.cli train --task mnist --data-root ../shared/data --out runs/m

Rank 0 checks the options, takes the ``--out`` folder's lock, writes its files, shows progress
and prints the summary; an error it finds stops every rank (the other ranks repeat it with their
rank in the line).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from ._validation import SEED_MAX
from .devices.ibm import IBMCredentialsError
from .devices.modes import EXECUTION_MODES
from .circuit.sampling import SHOT_NOISE
from .mappings import MAPPINGS
from .run_files import OutputFolder
from .scaling import SCALES
from .tasks import TASKS
from .training import distributed
from .training.loop import NonFiniteError
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


def _kind(optimizer: str) -> str:
    return optimizer if optimizer in ("paper", "spsa") else "gradient"


OPTIONS_OF = {"gradient": GRADIENT_OPTIONS + EPOCH_OPTIONS, "spsa": EPOCH_OPTIONS + SPSA_OPTIONS,
              "paper": SCHEDULE_OPTIONS}
"""The options each kind of trainer uses."""

_WHO = {"gradient": "gradient optimizers", "spsa": "--optimizer spsa", "paper": "--optimizer paper"}


def check_options(args: argparse.Namespace) -> None:
    """Refuse options the chosen optimizer, device or mapping does not use, before any work."""
    kind = _kind(args.optimizer)
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


def trainer_settings(args: argparse.Namespace, defaults: dict) -> dict:
    """The chosen trainer's settings: the options given, else the task's defaults, else the trainer's."""
    kind = _kind(args.optimizer)
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


def remote_source(args: argparse.Namespace, n_qubits: int, reps: int, shots: int | None):
    """The probability source of a ``qiskit.remote`` run, built before the model so that its run is
    estimated before any circuit runs; ``None`` for other devices (the model builds its own source)."""
    if args.device not in REMOTE_DEVICES:
        return None
    if args.max_circuit_qubits is not None:
        raise ValueError(f"--max-circuit-qubits {args.max_circuit_qubits} applies to the engine and PennyLane's "
                         f"simulators, not --device {args.device}")
    import torch

    if args.ibm_mode is not None:
        from .circuit.qiskit_sampler import SamplerSource

        return SamplerSource(n_qubits, reps=reps, backend=args.backend, shots=shots, mode=args.ibm_mode,
                             mitigate=args.mitigate, entanglement=args.entanglement, seed=args.seed)
    from .circuit.sources import make_source

    with torch.random.fork_rng(devices=[]):  # the angles the generator would draw with this seed
        torch.manual_seed(args.seed)
        return make_source(n_qubits, reps=reps, device=args.device, shots=shots, backend=args.backend,
                           entanglement=args.entanglement, engine=args.engine, seed=args.seed)


def run_plan(args: argparse.Namespace, settings: dict, train_set, build_model, n_angles: int):
    """The whole run in source calls (:mod:`qt_pennylane.devices.estimate`): the trainer's plan, plus the
    model's setup evaluations, the final export and the BatchNorm update."""
    from .devices.estimate import plan_epochs, plan_schedule
    from .training.batchnorm import has_batchnorm

    dry = build_model()  # on the fast engine: counts its parameters and setup, runs no circuit
    kind = _kind(args.optimizer)
    if kind == "paper":
        plan = plan_schedule(periods=settings["periods"], phi_iters=settings["phi_iters"],
                             gamma_iters=settings["gamma_iters"], n_angles=n_angles,
                             n_other=dry.counts()["trainable_params"] - n_angles)
    else:
        size = settings["batch_size"] or len(train_set)
        plan = plan_epochs(kind, epochs=settings["epochs"], steps_per_epoch=-(-len(train_set) // size),
                           eval_every=settings["eval_every"])
    setup = int(dry.scale is not None) + int(hasattr(dry.generator.mapping, "calibrate"))
    return plan.plus_evaluations(setup + 1 + int(has_batchnorm(dry.target)))


def train(args: argparse.Namespace, model, settings: dict, train_set, test_set, checkpoint, config: dict) -> list:
    """Run the chosen trainer; return its history."""
    from .training.losses import make_loss

    kind, progress = _kind(args.optimizer), not args.quiet
    common = dict(checkpoint=checkpoint, resume=args.resume, config=config, progress=progress, confirm=True)
    if kind == "paper":
        from .training.schedule import paper_schedule

        return paper_schedule(model, train_set, test_set, periods=settings["periods"],
                              phi_iters=settings["phi_iters"], gamma_iters=settings["gamma_iters"],
                              cobyla_step=settings["cobyla_step"], gamma_step=settings["gamma_step"],
                              loss_fn=make_loss(settings["loss"]), **common)
    epochs = dict(epochs=settings["epochs"], batch_size=settings["batch_size"], seed=args.seed,
                  eval_every=settings["eval_every"], train_eval_limit=settings["train_eval_limit"], lr=settings["lr"])
    if kind == "spsa":
        from .training.spsa import spsa

        return spsa(model, train_set, test_set, perturbation=settings["perturbation"],
                    lr_decay=settings["lr_decay"], perturbation_decay=settings["perturbation_decay"], **epochs, **common)
    from .training.gradient import fit

    return fit(model, train_set, test_set, optimizer=args.optimizer, mapping_lr=settings["mapping_lr"],
               classical_lr=settings["classical_lr"], lr_schedule=settings["lr_schedule"], **epochs, **common)


def run_train(args: argparse.Namespace) -> dict:
    """Train as the arguments say; return the JSON summary."""
    import torch

    from .mappings import qubits_for
    from .model import QuantumTrainModel
    from .tasks import get_task, save_classical
    from .training.batchnorm import has_batchnorm, update_bn
    from .training.registry import check_trainer

    main = distributed.is_main()
    task = get_task(args.task)
    defaults = task.defaults
    mapping = args.mapping or defaults.get("mapping", "learned")
    options = _mapping_options(args, mapping, defaults)
    with ExitStack() as stack:
        with distributed.agreed():  # rank 0 checks (it alone reads --resume) and takes the folder
            if main:
                check_options(args)
            folder = stack.enter_context(OutputFolder(args.out if main else None, resume=args.resume is not None,
                                                      overwrite=args.overwrite))
        target = task.build_model()
        reps = args.reps if args.reps is not None else defaults["reps"]
        generate = _generate_policy(args.generate, defaults.get("generate", "weights"))
        scale = args.scale or defaults.get("scale", "init")
        from .generation import select_parameters

        slots, _ = select_parameters(target, generate)
        n_generated = sum(slot.numel for slot in slots)
        n_qubits = qubits_for(mapping, n_generated, **options)
        shots = resolve_shots(args.shots, n_qubits)
        if shots is not None and shots > 2**40:
            raise ValueError(f"--shots {args.shots} means {shots} shots on {n_qubits} qubits; at most 2**40 are taken")
        settings = trainer_settings(args, defaults)
        model_options = dict(generate=generate, scale=scale, mapping=mapping, mapping_options=options or None,
                             seed=args.seed)
        source = remote_source(args, n_qubits, reps, shots)
        if source is None:
            model = QuantumTrainModel(target, reps=reps, entanglement=args.entanglement, device=args.device,
                                      shots=shots, backend=args.backend, engine=args.engine,
                                      shot_noise=args.shot_noise, max_circuit_qubits=args.max_circuit_qubits,
                                      **model_options)
            check_trainer(args.optimizer, model)
        train_set, test_set = task.load(data_root=args.data_root, limit=args.limit)  # after every cheap check
        estimate = None
        if source is not None:  # the run's cost is known, and confirmed, before any circuit runs
            from .devices.estimate import check_confirmed, estimate_run

            plan = run_plan(args, settings, train_set,
                            lambda: QuantumTrainModel(task.build_model(), reps=reps, **model_options),
                            source.phi.numel())
            estimate = estimate_run(source, plan)
            if estimate.hardware:
                logging.getLogger(__name__).warning("IBM hardware: %s", estimate.describe())
            check_confirmed(estimate, args.yes, how="--yes")
            model = QuantumTrainModel(target, source=source, **model_options)
            check_trainer(args.optimizer, model)
        config = {
            "task": args.task, "n_qubits": n_qubits, "reps": reps, "mapping": mapping, "hidden": args.hidden,
            "mapping_options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
            "max_circuit_qubits": args.max_circuit_qubits,
            "generate": generate, "scale": scale, "entanglement": args.entanglement, "device": args.device,
            "backend": args.backend, "shots": shots, "shot_noise": args.shot_noise if shots is not None else None,
            "engine": args.engine, "optimizer": args.optimizer, "seed": args.seed, "limit": args.limit,
        }
        if args.ibm_mode is not None:
            config.update(ibm_mode=args.ibm_mode, mitigate=args.mitigate)
        config.update({k: settings[k] for k in CONFIG_SETTINGS[_kind(args.optimizer)]})
        started = time.perf_counter()
        history = train(args, model, settings, train_set, test_set, folder.path("checkpoint.pt"), config)
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
            "processes": distributed.world_size(),
            "history": history,
        }
        if estimate is not None:
            summary["estimate"] = estimate.as_dict()
        if hasattr(source, "usage"):
            summary["submitted"] = source.usage
            source.close()
        if batchnorm:
            from .training.evaluation import evaluate

            summary["test_accuracy"] = evaluate(classical, test_set)["accuracy"]
        if args.out is not None and main:
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
    joined, where = False, ""
    try:
        if args.command == "ntk":
            from .ntk.cli import run as run_ntk

            summary = run_ntk(args)
        else:
            joined = distributed.setup()  # under torchrun: the process group of its environment
            where = "" if distributed.is_main() else f" (rank {distributed.rank()})"
            summary = run_train(args)
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        parser.exit(2, f"qt-pennylane: error{where}: {message}\n")
    except KeyboardInterrupt:
        parser.exit(130, "qt-pennylane: interrupted; resume with --resume <out>/checkpoint.pt\n")
    finally:
        if joined:
            distributed.shutdown()
    summary.pop("history", None)
    if not where:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
