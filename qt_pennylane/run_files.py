"""A run's output folder: checked before training, held by one run at a time, written atomically.

:class:`OutputFolder` guards the CLI's ``--out``:

* it must be a folder (or not exist yet), never an existing file;
* a finished run's files (``summary.json``) are replaced only with ``overwrite=True``, and an
  interrupted run's checkpoint only when resuming or overwriting;
* a lock file (``.lock``, holding the process id) keeps a second run out while the first writes;
  a lock left by a process that no longer runs is taken over;
* temporary files that killed writes left behind are removed on entry.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with OutputFolder(out) as folder:
    ...     folder.write_text("summary.json", "{}")
    >>> sorted(p.name for p in out.iterdir())
    ['summary.json']
"""
from __future__ import annotations

import os
from pathlib import Path

from .training.checkpoint import remove_stale_temporaries

RUN_FILES = ("checkpoint.pt", "summary.json", "classical_model.pt")
"""The files a run writes into its folder."""


class FolderLockedError(FileExistsError):
    """Another running process holds the output folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputFolder:
    """The output folder of one run (``path=None``: the run writes nothing).

    Args:
        path: the folder.
        resume: the run continues from a checkpoint (its files may be there).
        overwrite: replace the files of a finished or interrupted run.

    Raises:
        ValueError: ``path`` is an existing file.
        FileExistsError: the folder holds another run's files and neither ``resume`` nor ``overwrite`` is set.
    """

    def __init__(self, path: Path | None, *, resume: bool = False, overwrite: bool = False):
        self.root = None if path is None else Path(path)
        self.overwrite = overwrite
        self._lock = None
        if self.root is None:
            return
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"--out {str(self.root)!r} is an existing file; name a folder")
        if overwrite or resume:
            return
        if (self.root / "summary.json").exists():
            raise FileExistsError(f"--out {str(self.root)!r} holds a finished run (summary.json); pass --overwrite "
                                  "to replace it, or choose another folder")
        if (self.root / "checkpoint.pt").exists():
            raise FileExistsError(f"--out {str(self.root)!r} holds an interrupted run (checkpoint.pt); pass --resume "
                                  f"{str(self.root / 'checkpoint.pt')!r} to continue it or --overwrite to start again")

    def path(self, name: str) -> Path | None:
        """The path of file ``name`` in the folder, or ``None`` without a folder."""
        return None if self.root is None else self.root / name

    def __enter__(self) -> OutputFolder:
        if self.root is None:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = self.root / ".lock"
        self._acquire()
        for name in RUN_FILES:
            remove_stale_temporaries(self.root / name)
        if self.overwrite:
            (self.root / "summary.json").unlink(missing_ok=True)
        return self

    def _acquire(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self._lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self._lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _alive(pid):
                    self._lock = None
                    raise FolderLockedError(f"--out {str(self.root)!r} is in use by another run (process {pid}); "
                                            "wait for it or choose another folder") from None
                self._lock.unlink(missing_ok=True)  # left by a process that no longer runs
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            return
        raise FolderLockedError(f"--out {str(self.root)!r}: could not take its lock file {str(self._lock)!r}")

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None

    def write_text(self, name: str, text: str) -> None:
        """Write file ``name`` atomically (a temporary file renamed over it)."""
        if self.root is None:
            return
        target = self.root / name
        tmp = self.root / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, target)
