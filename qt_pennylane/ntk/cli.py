"""The ``qt-pennylane ntk`` subcommand: one run of the paper's experiment, one JSON line.

Example (shell)::

    qt-pennylane ntk --digits 8,9 --n 512 --kernel fc-erf --trials 4 --seed 0
    qt-pennylane ntk --digits 1,0 --n 16 --kernel cnn-relu --depth 3

Example:
    >>> import argparse
    >>> commands = argparse.ArgumentParser(prog="qt-pennylane").add_subparsers(dest="command")
    >>> add_parser(commands).parse_args(["--n", "16"]).kernel
    'fc-erf'
"""
from __future__ import annotations

import argparse
import time

from .experiment import KERNELS, TEST_SIZE, run_experiment


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``ntk`` subcommand to ``subparsers`` (from ``ArgumentParser.add_subparsers``); return it."""
    parser = subparsers.add_parser("ntk", help="sparsified NTK training (arXiv:2107.09200); print a JSON summary")
    parser.add_argument("--kernel", default="fc-erf", help=f"one of {sorted(KERNELS)}")
    parser.add_argument("--digits", help="two MNIST digits, e.g. 8,9 (default: 8,9 for fc-erf, 1,0 for cnn-relu)")
    parser.add_argument("--n", default="512", help="training points per trial (even)")
    parser.add_argument("--trials", default="1")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--test-size", default=str(TEST_SIZE))
    parser.add_argument("--depth", help="network depth (default: the paper's)")
    parser.add_argument("--bootstraps", default="3", help="sparsity patterns per trial")
    parser.add_argument("--solver", default="splu", help="sparse solve: splu or cg")
    parser.add_argument("--data-root", help="root of MNIST/raw (default: $QT_PENNYLANE_DATA)")
    return parser


def _integer(option: str, text: str | None) -> int | None:
    """``"16"`` → 16 (argparse's own type errors would not name the program as ``qt-pennylane: error``)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{option}: expected an integer, got {text!r}") from None


def run(args: argparse.Namespace) -> dict:
    """Run the experiment the arguments describe; return its JSON summary.

    Raises:
        ValueError: a bad option, with the option's name in the message (``--n 7``, ``--kernel x``...).
        FileNotFoundError: the MNIST files are missing.
    """
    options = {"kernel": "--kernel", "digits": "--digits", "n": "--n", "trials": "--trials", "seed": "--seed",
               "test_size": "--test-size", "depth": "--depth", "bootstraps": "--bootstraps", "solver": "--solver"}
    started = time.perf_counter()
    numbers = {name: _integer(options[name], getattr(args, name))
               for name in ("n", "trials", "seed", "test_size", "depth", "bootstraps")}
    try:
        summary = run_experiment(kernel=args.kernel, digits=args.digits, data_root=args.data_root,
                                 solver=args.solver, **numbers)
    except ValueError as error:
        message = str(error)
        name = message.split("=", 1)[0]
        raise ValueError(f"{options[name]}: {message}" if name in options else message) from None
    return {**summary, "seconds": round(time.perf_counter() - started, 3)}
