"""A run's output folder: checked before training, held by one run at a time, written atomically.

:class:`OutputFolder` guards the CLI's ``--out``:

* it must be a folder (or not exist yet), never an existing file;
* a finished run's files (``summary.json``) are replaced only with ``overwrite=True``, and an
  interrupted run's checkpoint only when resuming or overwriting;
* a lock on the file ``.lock`` (``flock``; the file holds the process id) keeps a second run
  out while the first runs; the operating system releases it when the run ends, even when
  the run is killed, so no stale lock is ever left to clear;
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


class OutputFolder:
    """The output folder of one run (``path=None``: the run writes nothing).

    Args:
        path: the folder.
        resume: the run continues from a checkpoint (its files may be there).
        overwrite: replace the files of a finished or interrupted run.

    Raises:
        ValueError: ``path`` is an existing file, lies below a file, or is in a folder this process cannot write.
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
        existing = next(folder for folder in (self.root, *self.root.absolute().parents) if folder.exists())
        if not existing.is_dir():
            raise ValueError(f"--out {str(self.root)!r} cannot be created: {str(existing)!r} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"--out {str(self.root)!r} cannot be written: no permission to write in {str(existing)!r}")
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
        import fcntl  # POSIX; the kernel releases the lock when its process ends, however it ends

        while True:
            fd = os.open(self._lock, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                self._lock = None
                raise FolderLockedError(f"--out {str(self.root)!r} is in use by another run (process {holder}); "
                                        "wait for it or choose another folder") from None
            try:
                same = os.stat(self._lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed the file while we waited for it: take the new one
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            os.close(self._fd)
            self._lock = None

    def write_text(self, name: str, text: str) -> None:
        """Write file ``name`` atomically (a temporary file renamed over it)."""
        if self.root is None:
            return
        target = self.root / name
        tmp = self.root / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, target)
