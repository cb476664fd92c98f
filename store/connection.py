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

from .errors import NotADatabase, StoreError
from .migrations import SCHEMA_VERSION, migrate, newer_schema, schema_version

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


def connect(path: str | os.PathLike, *, readonly: bool = False) -> sqlite3.Connection:
    """Open one connection with our pragmas. Autocommit mode: transactions are explicit."""
    path = str(path)
    if readonly:
        if path != ":memory:" and not Path(path).exists():
            raise StoreError(f"{path}: no such database")
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        new = path == ":memory:" or not Path(path).exists() or Path(path).stat().st_size == 0
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if new:
            # Spans are ~1 KB: 8 KB pages hold several per page (measured: ~20% faster import).
            conn.execute("PRAGMA page_size = 8192")
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


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("bt_words", 2, _words, deterministic=True)
    conn.create_aggregate("bt_percentile", 2, _Percentile)


# --- the database file --------------------------------------------------------------------------


class Store:
    """A database file: hands each thread its own connection, runs migrations once.

    A file that is not a SQLite database (or is damaged) raises ``NotADatabase``; a database
    made by a newer bt-tui raises ``StoreError``."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, migrate_db: bool = True):
        self.path = str(path)
        self.readonly = readonly
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            if readonly:
                self._check_readonly_schema()
            elif migrate_db:
                conn = self.conn
                retry_busy(lambda: migrate(conn))
        except sqlite3.DatabaseError as exc:
            self.close()
            err = database_error(exc, self.path)
            if err is None:
                raise
            raise err from None

    def _check_readonly_schema(self) -> None:
        conn = self.conn
        v = schema_version(conn)
        if v > SCHEMA_VERSION:
            raise newer_schema(v)
        if v < SCHEMA_VERSION and os.access(self.path, os.W_OK):
            # An older database: upgrade it once through a writable connection.
            wconn = connect(self.path)
            try:
                retry_busy(lambda: migrate(wconn))
            finally:
                wconn.close()
            v = schema_version(conn)
        if v < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: database schema version {v} needs an upgrade; "
                "open it once with a writable command (e.g. `bt-tui projects`)"
            )

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = connect(self.path, readonly=self.readonly)
            except sqlite3.DatabaseError as exc:
                err = database_error(exc, self.path)
                if err is None:
                    raise
                raise err from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
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
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                with contextlib.suppress(Exception):
                    c.close()
            self._all.clear()
        self._local = threading.local()
