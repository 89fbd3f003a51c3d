"""What every benchmark JSON records about how it was made: the command and the machine.

Example:
    >>> import time
    >>> sorted(run_meta("benchmarks/iris.py", ["--quick"], time.perf_counter()))
    ['command', 'cpu_count', 'platform', 'scipy', 'torch', 'torch_threads', 'wall_seconds']
"""
from __future__ import annotations

import os
import platform
import shlex
import sys
import time

import scipy
import torch


def run_meta(script: str, argv: list[str] | None, started: float) -> dict:
    """The command line (``argv``, else this process's arguments), wall seconds since ``started`` and machine facts."""
    return {
        "command": "python " + shlex.join([script, *(argv if argv is not None else sys.argv[1:])]),
        "wall_seconds": time.perf_counter() - started, "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
        "scipy": scipy.__version__,  # its COBYLA steers the paper schedule
    }
