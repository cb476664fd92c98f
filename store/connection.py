"""SQLite connections: one per thread (``Store.conn``), WAL journal, a generous busy timeout,
and ``BEGIN IMMEDIATE`` for every read-then-write transaction (``Store.write()``), retried on
SQLITE_BUSY so that users never see "database is locked". Also the SQL functions the query
compiler's SQL calls (``bt_words``, ``bt_percentile``).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from .errors import ForeignDatabase, NoDatabase, NotADatabase, QueryTimeout, StoreError
from .migrations import READ_COMPATIBLE_FROM, SCHEMA_VERSION, migrate, newer_schema, schema_version

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)  # like FTS5's unicode61 tokenizer
BUSY_TIMEOUT_MS = 60_000
# How long a writer keeps retrying a transaction that could not get the lock.
WRITE_RETRY_SECONDS = 600.0

T = TypeVar("T")


def _is_busy(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in msg or "busy" in msg
    )


def retry_busy(fn: Callable[[], T], deadline: Optional[float] = None) -> T:
    """``fn()``, again with backoff while SQLite says the database is busy or locked."""
    deadline = deadline or (time.monotonic() + WRITE_RETRY_SECONDS)
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 2, 0.5)


def database_error(exc: BaseException, path: str) -> Optional[NotADatabase]:
    """SQLite's "file is not a database" / "database disk image is malformed" as a store error
    naming the file; None for any other exception."""
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in str(exc) or "malformed" in str(exc)):
        return NotADatabase(path, str(exc))
    return None


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _is_ours(tables: set[str]) -> bool:
    return "schema_version" in tables


def _readonly_dir_error(exc: BaseException) -> bool:
    """SQLite could not open a WAL database read-only because it cannot create FILE-shm (or
    FILE-wal) next to it: the directory is not writable."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorname", "") in (
        "SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY_CANTINIT",
    )


def access_error(exc: BaseException, path: str, readonly: bool) -> Optional[StoreError]:
    """SQLite's "unable to open database file" / "attempt to write a readonly database" at
    open as one line saying what is needed; None for any other exception."""
    name = getattr(exc, "sqlite_errorname", "") if isinstance(exc, sqlite3.OperationalError) else ""
    if name == "SQLITE_CANTOPEN":
        need = "read access to it" if readonly else "read and write access to it and its directory"
        return StoreError(f"{path}: cannot open the database (you need {need})")
    if name.startswith("SQLITE_READONLY") and not readonly:
        where = "its directory is not writable" if name == "SQLITE_READONLY_DIRECTORY" else "it is read-only here"
        return StoreError(f"{path}: cannot write to the database: {where}; reading commands (query, export,"
                          " projects) still work")
    return None


def connect(path: str | os.PathLike, *, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """Open one connection with our pragmas. Autocommit mode: transactions are explicit.

    Writable: a missing (or empty) file becomes a new database; an existing one must be ours
    (``ForeignDatabase`` otherwise, raised before anything is written: no WAL switch). Read-only
    (``mode=ro``) never creates or changes anything; ``immutable`` reads the file as a snapshot
    without locks, for a database in a directory we cannot write (see ``Store``)."""
    path = str(path)
    if readonly:
        if path != ":memory:" and not Path(path).exists():
            raise NoDatabase(path)
        uri = Path(path).resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        new = path == ":memory:" or not Path(path).exists() or Path(path).stat().st_size == 0
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if new:
            # Spans are ~1 KB: 8 KB pages hold several per page (measured: ~20% faster import).
            conn.execute("PRAGMA page_size = 8192")
        else:
            try:
                tables = retry_busy(lambda: _tables(conn))
            except BaseException:
                conn.close()
                raise
            if tables and not _is_ours(tables):
                conn.close()
                raise ForeignDatabase(path)
    register_functions(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB page cache
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA mmap_size = 268435456")
    if not readonly:
        retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextlib.contextmanager
def time_limit(conn: sqlite3.Connection, seconds: Optional[float]) -> Iterator[None]:
    """Stop SQLite work on ``conn`` once ``seconds`` have passed (its progress handler): the
    statement running then raises ``QueryTimeout``. None or 0: no limit."""
    if not seconds:
        yield
        return
    end = time.monotonic() + seconds
    fired = False

    def handler() -> int:
        nonlocal fired
        if time.monotonic() > end:
            fired = True
            return 1
        return 0

    conn.set_progress_handler(handler, 20_000)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if fired and "interrupt" in str(exc).lower():
            raise QueryTimeout(seconds) from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


# --- SQL functions ----------------------------------------------------------------------------


class _Percentile:
    """percentile(x, p): linear interpolation between closest ranks (like numpy's default)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.p = 0.5

    def step(self, value, p) -> None:
        if value is not None and not isinstance(value, (str, bytes)):
            self.values.append(float(value))
        if p is not None:
            self.p = float(p)

    def finalize(self):
        if not self.values:
            return None
        v = sorted(self.values)
        k = (len(v) - 1) * self.p
        lo = int(k)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _words(text, words) -> int:
    """Whole-word, case-insensitive: does ``text`` contain every word of ``words``?"""
    if text is None or words is None:
        return 0
    hay = {w.casefold() for w in _WORD_RE.findall(str(text))}
    return int(all(w.casefold() in hay for w in _WORD_RE.findall(str(words))))


_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


def _json_unescape(m: re.Match) -> str:
    c = m.group(1)
    return chr(int(c[1:], 16)) if len(c) == 5 else " " if c in "nrtbf" else c


def _json_words(text, words) -> int:
    """``bt_words`` over JSON text: escapes read as what they stand for (``"a\\nb"`` holds the
    words a and b, not a and nb)."""
    if text is None or words is None:
        return 0
    return _words(_JSON_ESCAPE.sub(_json_unescape, str(text)), words)


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("bt_words", 2, _words, deterministic=True)
    conn.create_function("bt_json_words", 2, _json_words, deterministic=True)
    conn.create_aggregate("bt_percentile", 2, _Percentile)


# --- the database file --------------------------------------------------------------------------


class Store:
    """A database file: hands each thread its own connection, runs migrations once.

    A file that is not a SQLite database (or is damaged) raises ``NotADatabase``; a SQLite
    database of another application raises ``ForeignDatabase`` and is left untouched; a
    database made by a newer bt-tui raises ``StoreError``.

    ``readonly``: never creates or changes anything. A bt-tui database of an older schema is
    read as it is when it can be (``READ_COMPATIBLE_FROM``); one older still is upgraded once
    when the file can be written, as any bt-tui command would (``StoreError`` asking for it
    otherwise). A missing file raises
    ``NoDatabase``. In a directory we cannot write, SQLite cannot create the WAL's ``-shm``
    file: the database is then read as an immutable snapshot (``immutable`` is True; changes
    other processes make meanwhile are not seen), unless a ``-wal`` file holds changes not yet
    in the database file (``StoreError`` saying so).

    ``create=False``: a missing file raises ``NoDatabase`` instead of becoming a new database
    (writable stores). ``created`` says whether this store made the file; ``close(discard_unused=True)``
    removes it again when nothing was written to it (see ``discard_if_unused``)."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, migrate_db: bool = True,
                 create: bool = True):
        self.path = str(path)
        self.readonly = readonly
        self.immutable = False
        self.created = False
        self._local = threading.local()
        self._all: dict[sqlite3.Connection, threading.Thread] = {}  # every open connection: its thread
        self._lock = threading.Lock()
        if not readonly and self.path != ":memory:":
            exists = Path(self.path).exists()
            if not exists and not create:
                raise NoDatabase(self.path)
            self.created = not exists
        try:
            if readonly:
                self._open_readonly()
            elif migrate_db:
                conn = self.conn
                retry_busy(lambda: migrate(conn))
        except sqlite3.DatabaseError as exc:
            self.close()
            err = database_error(exc, self.path) or access_error(exc, self.path, readonly)
            if err is None:
                raise
            raise err from None
        except BaseException:
            self.close()
            raise

    def _open_readonly(self) -> None:
        try:
            conn = self.conn
            tables = _tables(conn)
        except sqlite3.OperationalError as exc:
            if not _readonly_dir_error(exc) or not Path(self.path).exists():
                raise
            self.release_thread()
            wal = Path(self.path + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreError(
                    f"{self.path}: cannot read it here: its directory is not writable (SQLite needs to create "
                    f"{Path(self.path).name}-shm) and {wal.name} holds changes not yet in the database file; "
                    "open it once where the directory is writable, or copy both files elsewhere"
                ) from None
            self.immutable = True
            conn = self.conn
            tables = _tables(conn)
        if not _is_ours(tables):
            raise ForeignDatabase(self.path)
        self._check_readonly_schema()

    def _check_readonly_schema(self) -> None:
        conn = self.conn
        v = schema_version(conn)
        if v > SCHEMA_VERSION:
            raise newer_schema(v)
        if READ_COMPATIBLE_FROM <= v <= SCHEMA_VERSION:
            return  # readable as it is: a read does not upgrade (write) the file
        if not self.immutable and os.access(self.path, os.W_OK):
            # A much older bt-tui database: upgrade it once through a writable connection.
            try:
                wconn = connect(self.path)
            except sqlite3.OperationalError:
                wconn = None
            if wconn is not None:
                try:
                    retry_busy(lambda: migrate(wconn))
                except sqlite3.OperationalError:
                    pass  # cannot write after all (e.g. a read-only directory): say so below
                finally:
                    wconn.close()
            v = schema_version(conn)
        if v < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: database schema version {v} needs an upgrade; "
                "open it once with a writable command (e.g. `bt-tui import logs /dev/null`)"
            )

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = connect(self.path, readonly=self.readonly, immutable=self.immutable)
            except sqlite3.DatabaseError as exc:
                err = database_error(exc, self.path)
                if err is None:
                    raise
                raise err from None
            self._local.conn = conn
            with self._lock:
                self._all[conn] = threading.current_thread()
        return conn

    @property
    def db(self):
        """sqlite-utils over this thread's connection: introspection and the small, read-side
        queries (projects, views, audit). The hot paths (bulk import, pages of the logs, export)
        use the connection directly, and writes go through ``write()``: sqlite-utils' own
        inserts commit through ``with conn:``, which would end our ``BEGIN IMMEDIATE`` early.
        Imported on first use (~75 ms) so the CLI's fast paths never pay for it."""
        import sqlite_utils

        db = getattr(self._local, "db", None)
        if db is None or db.conn is not self.conn:
            db = sqlite_utils.Database(self.conn, recursive_triggers=False, execute_plugins=False)
            self._local.db = db
        return db

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction; busy errors at BEGIN are retried with backoff.

        The body must not be retried automatically (it may have side effects), so only
        acquiring the write lock is retried; once held, the transaction cannot hit BUSY.
        """
        if self.readonly:
            raise StoreError("database opened read-only")
        conn = self.conn
        retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            retry_busy(lambda: conn.execute("COMMIT"))

    def release_thread(self) -> None:
        """Close and forget the calling thread's connection (worker threads call this when
        done, so short-lived threads do not pile up connections)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        self._local.db = None
        with self._lock:
            self._all.pop(conn, None)
        with contextlib.suppress(Exception):
            conn.close()

    def is_unused(self) -> bool:
        """Nothing was ever written to this database: no project holds spans, views or audit
        entries, and no comment exists (an empty project alone does not count)."""
        conn = self.conn
        return not any(
            conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
            for table in ("spans", "views", "audit", "comments")
        )

    def close(self, *, discard_unused: bool = False) -> None:
        """Close this thread's connection and those of threads that have ended. A connection
        another live thread holds may be in the middle of a query (a worker reading a page
        while the app shuts down): closing it under the query crashes the process, so it is
        interrupted instead, and its thread closes it (``release_thread``, which every worker
        calls when done). ``discard_unused``: when this store created the file and nothing was
        written to it, remove it (``discard_if_unused``)."""
        me = threading.current_thread()
        with self._lock:
            for c, owner in list(self._all.items()):
                if owner is me or not owner.is_alive():
                    with contextlib.suppress(Exception):
                        c.close()
                    del self._all[c]
                else:
                    with contextlib.suppress(Exception):
                        c.interrupt()
        self._local.conn = None  # this thread's (the others' stay known to them, to release)
        self._local.db = None
        if discard_unused and self.created:
            discard_if_unused(self.path)


def discard_if_unused(path: str | os.PathLike) -> bool:
    """Remove the database at ``path`` (and its -wal/-shm) when it is a bt-tui database that
    nothing was written to (``Store.is_unused``) and no other process has it open: what
    `bt-tui --db typo.db` leaves behind when one only looked. True when removed.

    "No other process": switching the journal mode out of WAL needs the only connection, so
    it is the test (and leaves a file someone else uses alone)."""
    path = str(path)
    if path == ":memory:" or not Path(path).exists():
        return False
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    except sqlite3.Error:
        return False
    try:
        tables = _tables(conn)
        if not _is_ours(tables):
            return False
        if any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
               for t in ("spans", "views", "audit", "comments") if t in tables):
            return False
        if conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0].lower() != "delete":
            return False  # someone else has it open
        conn.execute("BEGIN EXCLUSIVE")
        try:
            if any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
                   for t in ("spans", "views", "audit", "comments") if t in tables):
                return False
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path + suffix)
            return True
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    finally:
        conn.close()
