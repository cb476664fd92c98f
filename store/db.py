"""SQLite connection handling, schema and forward migrations.

One connection per thread (``Store.conn``), WAL journal, a generous busy timeout,
and ``BEGIN IMMEDIATE`` for every read-then-write transaction (``Store.write()``),
retried on SQLITE_BUSY so that users never see "database is locked".
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
from typing import Iterator

from .errors import StoreError

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)  # like FTS5's unicode61 tokenizer
BUSY_TIMEOUT_MS = 60_000
# How long a writer keeps retrying a transaction that could not get the lock.
WRITE_RETRY_SECONDS = 600.0

# --- migrations -----------------------------------------------------------------------------
# Each entry upgrades the schema from version i to version i+1. Never edit a released entry:
# add a new one. Version 1 is the core row store; version 2 adds the search index and the
# score/tag side tables (with a backfill of rows written by version 1).

MIGRATIONS: list[str] = [
    # v1: projects, spans, comments, audit
    """
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    );
    CREATE TABLE spans (
        rid INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        root_span_id TEXT NOT NULL,
        parent_id TEXT,
        span_parents TEXT,
        is_root INTEGER NOT NULL,
        created TEXT NOT NULL,
        name TEXT,
        type TEXT,
        start_ts REAL,
        end_ts REAL,
        input TEXT,
        output TEXT,
        expected TEXT,
        error TEXT,
        scores TEXT NOT NULL DEFAULT '{}',
        metadata TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        span_attributes TEXT NOT NULL DEFAULT '{}',
        model TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.model')) VIRTUAL,
        UNIQUE (project_id, id)
    );
    CREATE INDEX spans_created ON spans (project_id, created);
    CREATE INDEX spans_roots_created ON spans (project_id, created) WHERE is_root = 1;
    CREATE INDEX spans_errors_created ON spans (project_id, created) WHERE error IS NOT NULL;
    CREATE INDEX spans_tree ON spans (project_id, root_span_id, parent_id, start_ts);
    CREATE INDEX spans_model_created ON spans (project_id, model, created);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        span_rid INTEGER NOT NULL REFERENCES spans(rid) ON DELETE CASCADE,
        text TEXT NOT NULL,
        author TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX comments_span ON comments (span_rid, created);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        project_id INTEGER,
        object_type TEXT NOT NULL,
        object_id TEXT NOT NULL,
        field TEXT NOT NULL,
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX audit_object ON audit (object_type, object_id, created);
    """,
    # v2: score and tag side tables (indexable `scores.x > 0.5`, `tags includes 'x'`) and FTS5.
    """
    CREATE TABLE span_scores (
        span_rid INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL,
        PRIMARY KEY (span_rid, name)
    ) WITHOUT ROWID;
    CREATE INDEX span_scores_value ON span_scores (name, value);
    CREATE TABLE span_tags (
        span_rid INTEGER NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (span_rid, tag)
    ) WITHOUT ROWID;
    CREATE INDEX span_tags_tag ON span_tags (tag, span_rid);
    CREATE VIRTUAL TABLE spans_fts USING fts5 (
        input, output, expected, metadata,
        content='spans', content_rowid='rid', detail='column'
    );
    INSERT INTO span_scores (span_rid, name, value)
        SELECT s.rid, j.key, j.value FROM spans s, json_each(s.scores) j;
    INSERT INTO span_tags (span_rid, tag)
        SELECT DISTINCT s.rid, j.value FROM spans s, json_each(s.tags) j WHERE j.type = 'text';
    INSERT INTO spans_fts (spans_fts) VALUES ('rebuild');
    -- New rows are indexed in bulk by store.spans.index_new_rows (one statement per batch:
    -- an FTS5 insert from a per-row trigger flushes a segment per row, 5x slower).
    -- Updates and deletes keep the side tables and the index in step through triggers.
    CREATE TRIGGER spans_ad AFTER DELETE ON spans BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        DELETE FROM span_scores WHERE span_rid = old.rid;
        DELETE FROM span_tags WHERE span_rid = old.rid;
    END;
    CREATE TRIGGER spans_au_text AFTER UPDATE OF input, output, expected, metadata ON spans BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        INSERT INTO spans_fts (rowid, input, output, expected, metadata)
            VALUES (new.rid, new.input, new.output, new.expected, new.metadata);
    END;
    CREATE TRIGGER spans_au_scores AFTER UPDATE OF scores ON spans BEGIN
        DELETE FROM span_scores WHERE span_rid = old.rid;
        INSERT INTO span_scores (span_rid, name, value)
            SELECT new.rid, key, value FROM json_each(new.scores);
    END;
    CREATE TRIGGER spans_au_tags AFTER UPDATE OF tags ON spans BEGIN
        DELETE FROM span_tags WHERE span_rid = old.rid;
        INSERT OR IGNORE INTO span_tags (span_rid, tag)
            SELECT new.rid, value FROM json_each(new.tags) WHERE type = 'text';
    END;
    """,
    # v3: saved views (named filters) per project, shared by everyone on the database.
    """
    CREATE TABLE views (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        filter TEXT NOT NULL,
        shape TEXT NOT NULL DEFAULT 'traces',
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    """,
    # v4: rows inserted but not yet added to the search index / side tables (a bulk import
    # indexes every few thousand rows) must not be touched by the update/delete triggers:
    # a row updated twice in one import would otherwise corrupt the FTS index. The
    # watermark says which rows are indexed; index_new_rows moves it.
    """
    CREATE TABLE index_state (indexed_rid INTEGER NOT NULL);
    INSERT INTO index_state (indexed_rid) SELECT coalesce(max(rid), 0) FROM spans;
    DROP TRIGGER spans_ad;
    DROP TRIGGER spans_au_text;
    DROP TRIGGER spans_au_scores;
    DROP TRIGGER spans_au_tags;
    CREATE TRIGGER spans_ad AFTER DELETE ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        DELETE FROM span_scores WHERE span_rid = old.rid;
        DELETE FROM span_tags WHERE span_rid = old.rid;
    END;
    CREATE TRIGGER spans_au_text AFTER UPDATE OF input, output, expected, metadata ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        INSERT INTO spans_fts (rowid, input, output, expected, metadata)
            VALUES (new.rid, new.input, new.output, new.expected, new.metadata);
    END;
    CREATE TRIGGER spans_au_scores AFTER UPDATE OF scores ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        DELETE FROM span_scores WHERE span_rid = old.rid;
        INSERT INTO span_scores (span_rid, name, value)
            SELECT new.rid, key, value FROM json_each(new.scores);
    END;
    CREATE TRIGGER spans_au_tags AFTER UPDATE OF tags ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        DELETE FROM span_tags WHERE span_rid = old.rid;
        INSERT OR IGNORE INTO span_tags (span_rid, tag)
            SELECT new.rid, value FROM json_each(new.tags) WHERE type = 'text';
    END;
    """,
    # v5: a leaner, faster full-text index. FTS5 flushes a new segment each time its pending
    # terms pass `hashsize` (1 MB by default): a 1M-span import made thousands of tiny
    # segments, merged again and again, and a MATCH probe of one row had to seek in every
    # segment (0.3-0.6 ms; 0.02-0.05 ms with 64 MB). `automerge` 16 merges less eagerly;
    # `columnsize=0` drops the per-row size table (we rank by time, never by bm25).
    # Measured on 1M spans: index build 8.4 s -> 4.8 s.
    """
    DROP TABLE spans_fts;
    CREATE VIRTUAL TABLE spans_fts USING fts5 (
        input, output, expected, metadata,
        content='spans', content_rowid='rid', detail='column', columnsize=0
    );
    INSERT INTO spans_fts (spans_fts, rank) VALUES ('automerge', 16);
    INSERT INTO spans_fts (spans_fts, rank) VALUES ('hashsize', 67108864);
    INSERT INTO spans_fts (rowid, input, output, expected, metadata)
        SELECT rid, input, output, expected, metadata FROM spans
        WHERE rid <= (SELECT indexed_rid FROM index_state);
    """,
    # v6: per-project facts the query planner relies on. `max_lead` (seconds): how far any span
    # was created before its trace's root (0 in well-formed traces). With it, the newest trace
    # that has a span matching a filter cannot be newer than the newest matching span plus
    # max_lead, so a traces page skips the newer traces instead of probing them one by one.
    """
    CREATE TABLE project_stats (
        project_id INTEGER PRIMARY KEY REFERENCES projects(id),
        max_lead REAL NOT NULL DEFAULT 0
    );
    INSERT INTO project_stats (project_id, max_lead)
        SELECT p.id, coalesce((
            SELECT max((julianday(r.created) - julianday(s.created)) * 86400.0)
            FROM spans s JOIN spans r ON r.project_id = s.project_id AND r.root_span_id = s.root_span_id
                AND r.is_root = 1
            WHERE s.project_id = p.id AND s.is_root = 0 AND s.created < r.created), 0)
        FROM projects p;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def _is_busy(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in msg or "busy" in msg
    )


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
        _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


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


def _retry(fn, deadline: float | None = None):
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


def secondary_indexes(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE sql) of the indexes a bulk load may drop and rebuild in one transaction."""
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).fetchall()


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if not row:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target``. Returns the version it started at."""

    def run() -> int:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"database schema version {current} is newer than this bt-tui supports "
                    f"({SCHEMA_VERSION}); upgrade bt-tui to open it"
                )
            if current == 0:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                conn.execute("INSERT INTO schema_version (version) VALUES (0)")
            for version in range(current, target):
                for stmt in _split_sql(MIGRATIONS[version]):
                    conn.execute(stmt)
                conn.execute("UPDATE schema_version SET version = ?", (version + 1,))
            conn.execute("COMMIT")
            return current
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    return _retry(run)


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (trigger bodies keep their inner ';')."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        chunk = "\n".join(buf).strip()
        if chunk and sqlite3.complete_statement(chunk):
            out.append(chunk)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out


class Store:
    """A database file: hands each thread its own connection, runs migrations once."""

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, migrate_db: bool = True):
        self.path = str(path)
        self.readonly = readonly
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if readonly:
            conn = self.conn
            v = schema_version(conn)
            if v > SCHEMA_VERSION:
                raise StoreError(
                    f"database schema version {v} is newer than this bt-tui supports "
                    f"({SCHEMA_VERSION}); upgrade bt-tui to open it"
                )
            if v < SCHEMA_VERSION and os.access(self.path, os.W_OK):
                # An older database: upgrade it once through a writable connection.
                wconn = connect(self.path)
                try:
                    migrate(wconn)
                finally:
                    wconn.close()
                v = schema_version(conn)
            if v < SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: database schema version {v} needs an upgrade; "
                    "open it once with a writable command (e.g. `bt-tui projects`)"
                )
        elif migrate_db:
            migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=self.readonly)
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
        _retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            _retry(lambda: conn.execute("COMMIT"))

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
