"""Files a command writes on the side and removes when done: the import's spill directories
and an export's ``.part`` file. A command killed with SIGKILL runs no cleanup, so each such
file carries its writer's PID and is locked (``flock``) while in use; the next command that
would make one removes those whose writer is gone (the lock is free: the kernel released it
when the process died; without ``flock``, the PID is not running)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator, Optional

try:
    import fcntl
except ImportError:  # not POSIX: fall back to the PID alone
    fcntl = None  # type: ignore[assignment]

SPILL_MARK = ".import-tmp-"  # DB.import-tmp-PID-XXXXXXXX/: an import's spill directory, beside the database
LOCK_NAME = "lock"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours, another user's, or a zombie)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process
        return True
    return True


def _lock(fd: int) -> Optional[bool]:
    """Take an exclusive lock on ``fd`` without waiting: True when taken, False when someone
    holds it, None when locks do not work here (no flock, or a file system without it)."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _owner_gone(pid: Optional[int], lock_file: Optional[str]) -> bool:
    """Whether the writer (PID ``pid``) of a side file is gone. Its lock, when the file can be
    opened and locks work, is the answer (it also survives PID reuse and PID namespaces);
    else the PID."""
    if pid is None:
        return False  # not one of ours
    if lock_file is not None:
        try:
            fd = os.open(lock_file, os.O_RDONLY)
        except OSError:
            fd = None  # not created yet (or gone): the PID decides
        if fd is not None:
            try:
                free = _lock(fd)
            finally:
                os.close(fd)
            if free is not None:
                return free
    return not pid_alive(pid)


def _pid_after(name: str, mark: str) -> Optional[int]:
    """The PID in ``...{mark}PID-...`` or ``...{mark}PID``, else None."""
    if mark not in name:
        return None
    digits = name.rsplit(mark, 1)[1].split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


# --- the import's spill directories ------------------------------------------------------------


def _spill_homes(db_path: str) -> list[tuple[str, str]]:
    """(directory, name prefix) where an import of ``db_path`` may keep its spill directory:
    beside the database, else (a directory we cannot write, an in-memory database) the
    temporary directory."""
    homes = [(tempfile.gettempdir(), "bt-tui" + SPILL_MARK)]
    if db_path != ":memory:":
        p = os.path.abspath(db_path)
        homes.insert(0, (os.path.dirname(p), os.path.basename(p) + SPILL_MARK))
    return homes


def remove_stale_spill_dirs(db_path: str) -> list[str]:
    """Remove the spill directories that killed imports of ``db_path`` left (and those of the
    temporary directory's fallback); returns their paths."""
    removed = []
    for home, prefix in _spill_homes(db_path):
        for path in glob.glob(os.path.join(glob.escape(home), glob.escape(prefix) + "*")):
            pid = _pid_after(os.path.basename(path), SPILL_MARK)
            if os.path.isdir(path) and _owner_gone(pid, os.path.join(path, LOCK_NAME)):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


class SpillDir:
    """A fresh spill directory for one import, ``DB.import-tmp-PID-XXXXXXXX`` beside the
    database, locked while it lives; ``remove()`` when done. Making one first removes the
    leftovers of killed imports."""

    def __init__(self, db_path: str) -> None:
        remove_stale_spill_dirs(db_path)
        self.path = ""
        for home, prefix in _spill_homes(db_path):
            try:
                self.path = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=home)
                break
            except OSError:
                continue
        if not self.path:
            self.path = tempfile.mkdtemp(prefix=f"bt-tui{SPILL_MARK}{os.getpid()}-")
        self._fd: Optional[int] = os.open(os.path.join(self.path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        _lock(self._fd)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --- an export's .part file ---------------------------------------------------------------------


def _part_name(target: Path, pid: int) -> Path:
    return target.with_name(f"{target.name}.{pid}.part")


def remove_stale_parts(target: str | os.PathLike) -> list[Path]:
    """Remove ``TARGET.PID.part`` files that killed writes of ``target`` left behind."""
    target = Path(target)
    removed = []
    pattern = glob.escape(target.name) + ".*.part"
    for path in target.parent.glob(pattern):
        middle = path.name[len(target.name) + 1:-len(".part")]
        pid = int(middle) if middle.isdigit() else None
        if path.is_file() and _owner_gone(pid, str(path)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike, *, encoding: str = "utf-8", newline: str = "") -> Iterator[IO[str]]:
    """Write ``target`` whole or not at all: through ``TARGET.PID.part`` beside it (locked while
    written), renamed over ``target`` when the block ends, removed when it raises. The leftovers
    of killed writers to the same target are removed first."""
    target = Path(target)
    remove_stale_parts(target)
    tmp = _part_name(target, os.getpid())
    try:
        with open(tmp, "w", encoding=encoding, newline=newline) as out:
            locked = _lock(out.fileno())
            yield out
            out.flush()
            if locked:  # renamed while still locked: no one takes it for a leftover meanwhile
                tmp.replace(target)
        if not locked:
            tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
