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
import sys
import time
from contextlib import ExitStack

from .cli_options import (CONFIG_SETTINGS, REMOTE_DEVICES, build_parser, check_options, kind_of, mapping_options_of,
                          generate_policy, resolve_shots, trainer_settings)
from .devices.ibm import IBMCredentialsError
from .run_files import OutputFolder
from .training import distributed
from .training.loop import NonFiniteError


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
    kind = kind_of(args.optimizer)
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

    kind, progress = kind_of(args.optimizer), not args.quiet
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
    options = mapping_options_of(args, mapping, defaults)
    with ExitStack() as stack:
        with distributed.agreed():  # rank 0 checks (it alone reads --resume) and takes the folder
            if main:
                check_options(args)
            folder = stack.enter_context(OutputFolder(args.out if main else None, resume=args.resume is not None,
                                                      overwrite=args.overwrite))
        target = task.build_model()
        reps = args.reps if args.reps is not None else defaults["reps"]
        generate = generate_policy(args.generate, defaults.get("generate", "weights"))
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
        config.update({k: settings[k] for k in CONFIG_SETTINGS[kind_of(args.optimizer)]})
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
