"""Datasets: named, versioned collections of records ``{id, input, expected, metadata, tags,
created, origin}`` per project (DESIGN.md section 2).

Every write (an upsert, a delete, a restore, a from-logs) that changes something is one
**version**: an integer increasing across the database, with author, time and counts of added,
updated and deleted records. A write that changes nothing makes no version. A record's states
are **revisions** (the table ``dataset_revisions``): the content a version wrote, valid from
``version`` until the version that replaced it (``until``; NULL while current). Reading as of
version V is "revisions with version <= V < until, not deleted": one range test on an index,
the same plan for the oldest version and the latest. History is never rewritten: a restore
writes a new version equal to an old one. Named snapshots point at a version.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

import orjson

from .audit import default_author
from .connection import Store
from .errors import NotFound, StoreError
from .jsontext import dumps_text, json_or_null, loads
from .models import RECORD_KEYS, RecordIn, now_iso
from .projects import ensure_project, project_id
from .query.compiler import RecordCompiler, sql_error
from .query.filterbar import Filter, interpret

FIELDS = ("input", "expected", "metadata", "tags")  # what a diff compares (and an edit changes)
ORIGIN_LOGS = "project_logs"
PAGE = 100


class DatasetError(StoreError):
    """A dataset request that cannot be met (a missing version, a bad name)."""


# --- typed values -------------------------------------------------------------------------------

@dataclass
class DatasetInfo:
    id: int
    project: str
    name: str
    description: str
    created: str
    author: str
    records: int = 0
    version: Optional[int] = None  # the latest version (None: never written)
    last_change: Optional[str] = None  # when the latest version was written
    last_author: Optional[str] = None  # ...and by whom
    versions: int = 0

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "records": self.records,
                "version": self.version, "versions": self.versions, "created": self.created,
                "last_change": self.last_change, "last_author": self.last_author}


@dataclass
class Record:
    id: str
    input: Any = None
    expected: Any = None
    metadata: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    created: str = ""
    origin: Optional[dict] = None
    version: int = 0  # the version that wrote this state
    seq: int = 0  # the record's place in the dataset (its order)

    def to_json(self) -> dict:
        """The record in the contract's shape (export, diff, the editor)."""
        return {"id": self.id, "input": self.input, "expected": self.expected, "metadata": self.metadata,
                "tags": self.tags, "created": self.created, "origin": self.origin}

    def content(self) -> dict:
        """What a person edits: input, expected, metadata, tags."""
        return {"input": self.input, "expected": self.expected, "metadata": self.metadata, "tags": self.tags}


@dataclass
class WriteResult:
    version: Optional[int]  # the version written; None when nothing changed
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    ids: list = field(default_factory=list)  # the records the version changed, in order
    created_dataset: bool = False

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.deleted

    def summary(self) -> str:
        if self.version is None:
            return f"no change ({self.unchanged} record(s) already as given): no new version"
        parts = [f"+{self.added} added", f"~{self.updated} updated", f"-{self.deleted} deleted"]
        return f"version {self.version}: " + ", ".join(parts)


@dataclass
class VersionInfo:
    version: int
    created: str
    author: str
    added: int
    updated: int
    deleted: int
    note: str = ""
    snapshots: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"version": self.version, "created": self.created, "author": self.author, "added": self.added,
                "updated": self.updated, "deleted": self.deleted, "snapshots": self.snapshots}


@dataclass
class RecordChange:
    """How one record differs between two versions (``diff``)."""

    id: str
    change: str  # added | updated | deleted
    fields: list  # the fields that differ (input, expected, metadata, tags)
    before: Optional[Record]
    after: Optional[Record]

    def to_json(self) -> dict:
        return {"id": self.id, "change": self.change, "fields": self.fields}


@dataclass
class Revision:
    """One change of one record (``record_history``): the version, who, when, before and after."""

    version: int
    created: str
    author: str
    change: str  # added | updated | deleted
    fields: list
    before: Optional[Record]
    after: Optional[Record]


# --- row <-> record -------------------------------------------------------------------------------

_COLS = "r.id, r.input, r.expected, r.metadata, r.tags, r.created, r.origin, r.version, r.seq, r.deleted"


def _record(row: tuple) -> Optional[Record]:
    """A revision row (``_COLS``) as a record; None for a deletion."""
    if row[9]:
        return None
    return Record(
        id=row[0], input=None if row[1] is None else loads(row[1]),
        expected=None if row[2] is None else loads(row[2]), metadata=loads(row[3]), tags=loads(row[4]),
        created=row[5], origin=None if row[6] is None else loads(row[6]), version=row[7], seq=row[8],
    )


def _texts(rec: RecordIn | Record) -> tuple:
    """The stored texts of a record's content: (input, expected, metadata, tags, origin)."""
    origin = rec.origin
    if origin is not None and not isinstance(origin, dict):
        origin = origin.model_dump()
    return (json_or_null(rec.input), json_or_null(rec.expected), dumps_text(rec.metadata or {}),
            dumps_text(list(rec.tags or [])), json_or_null(origin))


def _row_texts(row: tuple) -> tuple:
    return (row[1], row[2], row[3], row[4], row[6])


def changed_fields(before: Optional[Record], after: Optional[Record]) -> list[str]:
    """The content fields that differ between two states of a record (all of them when one
    side is missing)."""
    if before is None or after is None:
        return [f for f in FIELDS if (before or after) is not None]
    return [f for f in FIELDS if dumps_text(getattr(before, f)) != dumps_text(getattr(after, f))]


def derived_id(value: Any, occurrence: int = 0) -> str:
    """A record id made from an input (import lines without an ``id``): the same file imported
    again gives the same ids, so it makes no version. The Nth repeat of one input gets its own."""
    digest = hashlib.sha1(orjson.dumps(value, option=orjson.OPT_SORT_KEYS) if value is not None else b"null")
    if occurrence:
        digest.update(b"#%d" % occurrence)
    return "rec-" + digest.hexdigest()[:20]


def origin_record_id(row_id: str) -> str:
    """The id a logged span's record gets: the same span gives the same id in any database
    (a round trip keeps it; a span added again after its record was deleted brings it back)."""
    return "rec-" + hashlib.sha1(f"{ORIGIN_LOGS}:{row_id}".encode()).hexdigest()[:20]


def new_record_id() -> str:
    import uuid

    return "rec-" + uuid.uuid4().hex[:20]


# --- datasets -------------------------------------------------------------------------------------

def _dataset_row(conn: sqlite3.Connection, pid: int, name: str) -> Optional[tuple]:
    return conn.execute(
        "SELECT id, name, description, created, author FROM datasets WHERE project_id = ? AND name = ?", (pid, name)
    ).fetchone()


def _no_dataset(project: str, name: str) -> NotFound:
    return NotFound(f"no dataset named {name!r} in project {project!r} (bt-tui dataset list shows them)")


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DatasetError("a dataset needs a name")
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        raise DatasetError("a dataset name is one line of at most 200 characters")
    return name


def _ensure_dataset(conn: sqlite3.Connection, project: str, name: str, author: str, description: str = "",
                    create: bool = True) -> tuple[int, bool]:
    """The dataset's id, created inside the caller's transaction when missing (``create``)."""
    pid, _ = ensure_project(conn, project) if create else (project_id_in(conn, project), False)
    row = _dataset_row(conn, pid, name)
    if row:
        return row[0], False
    if not create:
        raise _no_dataset(project, name)
    cur = conn.execute(
        "INSERT INTO datasets (project_id, name, description, created, author) VALUES (?, ?, ?, ?, ?)",
        (pid, check_name(name), description or "", now_iso(), author),
    )
    return cur.lastrowid, True


def project_id_in(conn: sqlite3.Connection, project: str) -> int:
    row = conn.execute("SELECT id FROM projects WHERE name = ?", (project,)).fetchone()
    if not row:
        raise NotFound(f"no project named {project!r}")
    return row[0]


def create_dataset(store: Store, project: str, name: str, description: str = "", *, author: Optional[str] = None,
                   exist_ok: bool = False) -> DatasetInfo:
    name = check_name(name)
    with store.write() as conn:
        _, created = _ensure_dataset(conn, project, name, author or default_author(), description)
    if not created and not exist_ok:
        raise DatasetError(f"project {project!r} already has a dataset named {name!r}")
    return get_dataset(store, project, name)


def set_description(store: Store, project: str, name: str, description: str) -> None:
    with store.write() as conn:
        ds, _ = _ensure_dataset(conn, project, name, "", create=False)
        conn.execute("UPDATE datasets SET description = ? WHERE id = ?", (description, ds))


_INFO_SQL = """
SELECT d.id, d.name, d.description, d.created, d.author,
       (SELECT count(*) FROM dataset_revisions r WHERE r.dataset_id = d.id AND r.until IS NULL AND r.deleted = 0),
       v.version, v.created, v.author,
       (SELECT count(*) FROM dataset_versions x WHERE x.dataset_id = d.id)
FROM datasets d
LEFT JOIN dataset_versions v ON v.version = (SELECT max(version) FROM dataset_versions y WHERE y.dataset_id = d.id)
WHERE d.project_id = ?
"""


def _info(project: str, row: tuple) -> DatasetInfo:
    return DatasetInfo(id=row[0], project=project, name=row[1], description=row[2], created=row[3], author=row[4],
                       records=row[5], version=row[6], last_change=row[7], last_author=row[8], versions=row[9])


def has_datasets(store: Store) -> bool:
    """False only for a file older than the dataset tables, opened read-only (a read never
    upgrades a file): it has no datasets."""
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'datasets'").fetchone() is not None


def list_datasets(store: Store, project: str) -> list[DatasetInfo]:
    """The project's datasets, most recently changed first."""
    if not has_datasets(store):
        return []
    try:
        pid = project_id(store, project, create=False)
    except NotFound:
        return []
    rows = store.conn.execute(_INFO_SQL + " ORDER BY coalesce(v.created, d.created) DESC, d.name", (pid,)).fetchall()
    return [_info(project, r) for r in rows]


def get_dataset(store: Store, project: str, name: str) -> DatasetInfo:
    if not has_datasets(store):
        raise _no_dataset(project, name)
    try:
        pid = project_id(store, project, create=False)
    except NotFound:
        raise _no_dataset(project, name) from None
    row = store.conn.execute(_INFO_SQL + " AND d.name = ?", (pid, name)).fetchone()
    if row is None:
        raise _no_dataset(project, name)
    return _info(project, row)


def _dataset_id(store: Store, project: str, name: str) -> int:
    """The dataset's id (NotFound), without counting its records."""
    if not has_datasets(store):
        raise _no_dataset(project, name)
    row = store.conn.execute(
        "SELECT d.id FROM datasets d JOIN projects p ON p.id = d.project_id WHERE p.name = ? AND d.name = ?",
        (project, name)).fetchone()
    if row is None:
        raise _no_dataset(project, name)
    return row[0]


def _latest(conn: sqlite3.Connection, ds: int) -> int:
    """The dataset's latest version (0 before its first write)."""
    return conn.execute("SELECT coalesce(max(version), 0) FROM dataset_versions WHERE dataset_id = ?", (ds,)).fetchone()[0]


# --- versions -------------------------------------------------------------------------------------

def resolve_version(store: Store, project: str, name: str, version: Optional[int] = None,
                    snapshot: Optional[str] = None) -> int:
    """The version to read: ``version`` (one of this dataset's), the one ``snapshot`` names, or
    the latest (0 for a dataset never written)."""
    ds = _dataset_id(store, project, name)
    return _resolve(store.conn, ds, name, version, snapshot)


def _resolve(conn: sqlite3.Connection, ds: int, name: str, version: Optional[int], snapshot: Optional[str]) -> int:
    if snapshot is not None:
        row = conn.execute("SELECT version FROM dataset_snapshots WHERE dataset_id = ? AND name = ?",
                           (ds, snapshot)).fetchone()
        if row is None:
            names = [r[0] for r in conn.execute("SELECT name FROM dataset_snapshots WHERE dataset_id = ? ORDER BY name", (ds,))]
            known = f" (its snapshots: {', '.join(names)})" if names else " (it has no snapshots)"
            raise DatasetError(f"dataset {name!r} has no snapshot named {snapshot!r}{known}")
        return row[0]
    if version is None:
        return _latest(conn, ds)
    row = conn.execute("SELECT 1 FROM dataset_versions WHERE dataset_id = ? AND version = ?", (ds, version)).fetchone()
    if row is None:
        have = [r[0] for r in conn.execute("SELECT version FROM dataset_versions WHERE dataset_id = ? ORDER BY version", (ds,))]
        if not have:
            raise DatasetError(f"dataset {name!r} has no versions yet")
        shown = ", ".join(map(str, have)) if len(have) <= 10 else (
            ", ".join(map(str, have[:3])) + ", ... " + ", ".join(map(str, have[-5:])))
        raise DatasetError(f"dataset {name!r} has no version {version} (its versions: {shown})")
    return version


def list_versions(store: Store, project: str, name: str) -> list[VersionInfo]:
    """Every version of the dataset, oldest first, with the snapshots that point at it."""
    ds = _dataset_id(store, project, name)
    snaps: dict[int, list[str]] = {}
    for snap, v in store.conn.execute("SELECT name, version FROM dataset_snapshots WHERE dataset_id = ? ORDER BY name", (ds,)):
        snaps.setdefault(v, []).append(snap)
    rows = store.conn.execute(
        "SELECT version, created, author, added, updated, deleted, note FROM dataset_versions"
        " WHERE dataset_id = ? ORDER BY version", (ds,)).fetchall()
    return [VersionInfo(*r, snapshots=snaps.get(r[0], [])) for r in rows]


def snapshot(store: Store, project: str, name: str, snapshot_name: str, version: Optional[int] = None, *,
             author: Optional[str] = None) -> int:
    """Name a version (the latest by default); naming an existing snapshot again moves it.
    Returns the version."""
    snapshot_name = (snapshot_name or "").strip()
    if not snapshot_name:
        raise DatasetError("a snapshot needs a name")
    with store.write() as conn:
        ds, _ = _ensure_dataset(conn, project, name, "", create=False)
        v = _resolve(conn, ds, name, version, None)
        if v == 0:
            raise DatasetError(f"dataset {name!r} has no versions yet: nothing to snapshot")
        conn.execute(
            "INSERT INTO dataset_snapshots (dataset_id, name, version, created, author) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (dataset_id, name) DO UPDATE SET version = excluded.version, created = excluded.created,"
            " author = excluded.author",
            (ds, snapshot_name, v, now_iso(), author or default_author()),
        )
    return v


# --- writing --------------------------------------------------------------------------------------

class _Writer:
    """One version in the making, inside the caller's write transaction. The version row is
    made at the first real change, so a write that changes nothing leaves no trace."""

    def __init__(self, conn: sqlite3.Connection, ds: int, author: str, note: str) -> None:
        self.conn = conn
        self.ds = ds
        self.author = author
        self.note = note
        self.result = WriteResult(version=None)
        self.seq = conn.execute("SELECT coalesce(max(seq), 0) FROM dataset_revisions WHERE dataset_id = ?", (ds,)).fetchone()[0]
        self.now = now_iso()
        self._seen: set[str] = set()

    def _version(self) -> int:
        if self.result.version is None:
            cur = self.conn.execute(
                "INSERT INTO dataset_versions (dataset_id, created, author, added, updated, deleted, note)"
                " VALUES (?, ?, ?, 0, 0, 0, ?)", (self.ds, self.now, self.author, self.note))
            self.result.version = cur.lastrowid
        return self.result.version

    def current(self, record_id: str) -> Optional[tuple]:
        return self.conn.execute(
            f"SELECT {_COLS}, r.rid FROM dataset_revisions r WHERE r.dataset_id = ? AND r.id = ? AND r.until IS NULL",
            (self.ds, record_id)).fetchone()

    def by_origin(self, origin_id: str) -> Optional[str]:
        row = self.conn.execute(
            "SELECT id FROM dataset_revisions WHERE dataset_id = ? AND origin_id = ? AND until IS NULL AND deleted = 0"
            " LIMIT 1", (self.ds, origin_id)).fetchone()
        return row[0] if row else None

    def _write(self, record_id: str, cur: Optional[tuple], texts: tuple, created: Optional[str],
               origin_id: Optional[str], deleted: bool = False) -> None:
        v = self._version()
        if cur is not None:
            self.conn.execute("UPDATE dataset_revisions SET until = ? WHERE rid = ?", (v, cur[10]))
            seq = cur[8]
        else:
            self.seq += 1
            seq = self.seq
        self.conn.execute(
            "INSERT INTO dataset_revisions (dataset_id, id, seq, version, deleted, created, input, expected, metadata,"
            " tags, origin, origin_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.ds, record_id, seq, v, int(deleted), created or self.now, *texts, origin_id),
        )
        self.result.ids.append(record_id)

    def put(self, record_id: str, texts: tuple, created: Optional[str] = None) -> str:
        """Make the record's content ``texts`` (``_texts``); returns added|updated|unchanged."""
        if record_id in self._seen:
            raise DatasetError(f"record {record_id!r} is given twice in one write")
        self._seen.add(record_id)
        cur = self.current(record_id)
        origin = texts[4]
        origin_id = _origin_id(origin)
        if cur is not None and not cur[9] and _row_texts(cur) == texts:
            self.result.unchanged += 1
            return "unchanged"
        if cur is None or cur[9]:
            # a new record, or one deleted before: it keeps its place and its created time
            self._write(record_id, cur, texts, created if cur is None else cur[5], origin_id)
            self.result.added += 1
            return "added"
        self._write(record_id, cur, texts, cur[5], origin_id)
        self.result.updated += 1
        return "updated"

    def delete(self, record_id: str) -> bool:
        cur = self.current(record_id)
        if cur is None or cur[9]:
            return False
        self._write(record_id, cur, (None, None, "{}", "[]", None), cur[5], None, deleted=True)
        self.result.deleted += 1
        return True

    def finish(self) -> WriteResult:
        r = self.result
        if r.version is not None:
            self.conn.execute("UPDATE dataset_versions SET added = ?, updated = ?, deleted = ? WHERE version = ?",
                              (r.added, r.updated, r.deleted, r.version))
        return r


def _origin_id(origin_text: Optional[str]) -> Optional[str]:
    if origin_text is None:
        return None
    origin = loads(origin_text)
    if isinstance(origin, dict) and origin.get("object_type") == ORIGIN_LOGS and isinstance(origin.get("id"), str):
        return origin["id"]
    return None


def _as_record_in(value: RecordIn | dict | Record) -> RecordIn:
    if isinstance(value, RecordIn):
        return value
    if isinstance(value, Record):
        return RecordIn(id=value.id, input=value.input, expected=value.expected, metadata=value.metadata,
                        tags=value.tags, created=value.created or None, origin=value.origin)
    return RecordIn.model_validate(value)


def write_records(store: Store, project: str, name: str, *, upserts: Iterable[RecordIn | dict | Record] = (),
                  deletes: Iterable[str] = (), author: Optional[str] = None, note: str = "",
                  create: bool = True, description: str = "") -> WriteResult:
    """Upsert and delete records as ONE version (none when nothing changes). A record without
    an ``id`` gets a new one. The dataset is created when missing (``create``)."""
    author = author or default_author()
    with store.write() as conn:
        ds, created = _ensure_dataset(conn, project, name, author, description, create=create)
        w = _Writer(conn, ds, author, note)
        for value in upserts:
            rec = _as_record_in(value)
            w.put(rec.id or new_record_id(), _texts(rec), rec.created)
        for record_id in deletes:
            w.delete(record_id)
        result = w.finish()
    result.created_dataset = created
    return result


def upsert_records(store: Store, project: str, name: str, records: Iterable[RecordIn | dict | Record], **kw) -> WriteResult:
    return write_records(store, project, name, upserts=records, **kw)


def delete_records(store: Store, project: str, name: str, ids: Iterable[str], *, author: Optional[str] = None,
                   note: str = "") -> WriteResult:
    """Delete records (one version). An id that is not in the dataset is an error, named."""
    ids = list(ids)
    with store.write() as conn:
        ds, _ = _ensure_dataset(conn, project, name, "", create=False)
        w = _Writer(conn, ds, author or default_author(), note or f"removed {len(ids)} record(s)")
        missing = [i for i in ids if not w.delete(i)]
        if missing:
            raise NotFound(f"dataset {name!r} has no record {missing[0]!r}"
                           + (f" (and {len(missing) - 1} more missing)" if len(missing) > 1 else ""))
        return w.finish()


def _states(conn: sqlite3.Connection, ds: int, version: int, ids: list[str]) -> dict[str, tuple]:
    """The revision rows in force at ``version`` of the given records (absent: no such record then)."""
    out: dict[str, tuple] = {}
    for i in range(0, len(ids), 5000):
        chunk = dumps_text(ids[i:i + 5000])
        for row in conn.execute(
            f"SELECT {_COLS} FROM dataset_revisions r WHERE r.dataset_id = ? AND r.id IN (SELECT value FROM json_each(?))"
            " AND r.version <= ? AND (r.until IS NULL OR r.until > ?)", (ds, chunk, version, version)):
            out[row[0]] = row
    return out


def _changed_ids(conn: sqlite3.Connection, ds: int, lo: int, hi: int) -> list[str]:
    """Records with a revision written after ``lo`` up to ``hi``, in dataset order."""
    return [r[0] for r in conn.execute(
        "SELECT id FROM dataset_revisions WHERE dataset_id = ? AND version > ? AND version <= ?"
        " GROUP BY id ORDER BY min(seq)", (ds, lo, hi))]


def restore(store: Store, project: str, name: str, version: int, *, ids: Optional[Iterable[str]] = None,
            author: Optional[str] = None, note: str = "") -> WriteResult:
    """Write one new version equal to ``version`` (only the records ``ids`` when given: the TUI's
    undo). History is kept: the versions in between stay readable. No change, no version."""
    with store.write() as conn:
        ds, _ = _ensure_dataset(conn, project, name, "", create=False)
        target = _resolve(conn, ds, name, version, None) if version else 0
        latest = _latest(conn, ds)
        wanted = list(ids) if ids is not None else _changed_ids(conn, ds, target, latest)
        old = _states(conn, ds, target, wanted)
        w = _Writer(conn, ds, author or default_author(), note or f"restore of version {version}")
        for record_id in wanted:
            row = old.get(record_id)
            if row is None or row[9]:
                w.delete(record_id)
            else:
                w.put(record_id, _row_texts(row))
        return w.finish()


def revert_version(store: Store, project: str, name: str, version: int, *, author: Optional[str] = None
                   ) -> tuple[WriteResult, int]:
    """Undo one version: the records it changed go back to their state just before it, as a new
    version. A record changed again since (by a later version) is left alone: undo never
    clobbers someone else's edit. Returns the write and how many records were left alone."""
    with store.write() as conn:
        ds, _ = _ensure_dataset(conn, project, name, "", create=False)
        _resolve(conn, ds, name, version, None)
        rows = conn.execute("SELECT id, until FROM dataset_revisions WHERE dataset_id = ? AND version = ? ORDER BY seq",
                            (ds, version)).fetchall()
        ids = [r[0] for r in rows if r[1] is None]
        before = _states(conn, ds, version - 1, ids)
        w = _Writer(conn, ds, author or default_author(), f"undo of version {version}")
        for record_id in ids:
            row = before.get(record_id)
            if row is None or row[9]:
                w.delete(record_id)
            else:
                w.put(record_id, _row_texts(row))
        return w.finish(), len(rows) - len(ids)


# --- reading --------------------------------------------------------------------------------------

def get_record(store: Store, project: str, name: str, record_id: str, version: Optional[int] = None) -> Optional[Record]:
    ds = _dataset_id(store, project, name)
    v = _resolve(store.conn, ds, name, version, None)
    row = _states(store.conn, ds, v, [record_id]).get(record_id)
    return None if row is None else _record(row)


def diff_versions(store: Store, project: str, name: str, from_version: int, to_version: Optional[int] = None
                  ) -> list[RecordChange]:
    """How the dataset changed from one version to another (either way round; the latest when
    ``to_version`` is None): one entry per record that differs, in dataset order, with the
    fields that differ. A record changed and changed back does not differ."""
    conn = store.conn
    ds = _dataset_id(store, project, name)
    a = _resolve(conn, ds, name, from_version, None)
    b = _resolve(conn, ds, name, to_version, None)
    ids = _changed_ids(conn, ds, min(a, b), max(a, b))
    before, after = _states(conn, ds, a, ids), _states(conn, ds, b, ids)
    out = []
    for record_id in ids:
        x = _record(before[record_id]) if record_id in before else None
        y = _record(after[record_id]) if record_id in after else None
        if x is None and y is None:
            continue
        if x is None:
            out.append(RecordChange(record_id, "added", changed_fields(None, y), None, y))
        elif y is None:
            out.append(RecordChange(record_id, "deleted", changed_fields(x, None), x, None))
        else:
            fields = changed_fields(x, y)
            if fields:
                out.append(RecordChange(record_id, "updated", fields, x, y))
    return out


def record_history(store: Store, project: str, name: str, record_id: str) -> list[Revision]:
    """Every version in which the record changed, oldest first, with its state before and after."""
    ds = _dataset_id(store, project, name)
    rows = store.conn.execute(
        f"SELECT {_COLS}, v.created, v.author FROM dataset_revisions r JOIN dataset_versions v ON v.version = r.version"
        " WHERE r.dataset_id = ? AND r.id = ? ORDER BY r.version", (ds, record_id)).fetchall()
    if not rows:
        raise NotFound(f"dataset {name!r} has never had a record {record_id!r}")
    out, prev = [], None
    for row in rows:
        cur = _record(row)
        change = "deleted" if cur is None else "added" if prev is None else "updated"
        out.append(Revision(row[7], row[10], row[11], change, changed_fields(prev, cur), prev, cur))
        prev = cur
    return out


@dataclass
class RecordPage:
    rows: list
    after: Optional[int]  # the cursor (a seq) where the next page starts; None at the end
    filter: Filter = field(default_factory=Filter)


class RecordsQuery:
    """The records of one dataset as of a version, filtered, a page at a time (the shared paged
    table's page source; every call runs on the caller's thread's connection). The latest
    version and an old one are read by the same plan."""

    def __init__(self, store: Store, project: str, name: str, *, version: Optional[int] = None,
                 snapshot: Optional[str] = None, text: str = "") -> None:
        self.store = store
        self.project = project
        self.name = name
        self.dataset = _dataset_id(store, project, name)
        self.latest = _latest(store.conn, self.dataset)
        self.version = _resolve(store.conn, self.dataset, name, version, snapshot)
        self.filter = interpret(text)
        c = RecordCompiler(text, 0, alias="r")
        if self.filter.mode == "filter":
            self._where = c.where(self.filter.node)
        elif self.filter.mode == "search":
            self._where = c.search(self.filter.words)
        else:
            self._where = "1"
        self._params = c.params
        self._count: Optional[int] = None

    @property
    def read_only(self) -> bool:
        """An old version: shown, never edited."""
        return self.version != self.latest

    def _base(self) -> tuple[str, list]:
        n = len(self._params)
        # The order index walks the records in order and tests visibility from the index alone
        # (the planner, left alone, prefers the by-version index and sorts every record).
        sql = (f"FROM dataset_revisions r INDEXED BY dataset_revisions_order WHERE r.dataset_id = ?{n + 1}"
               f" AND r.version <= ?{n + 2}"
               f" AND (r.until IS NULL OR r.until > ?{n + 2}) AND r.deleted = 0 AND ({self._where})")
        return sql, [*self._params, self.dataset, self.version]

    def page(self, after: Optional[int] = None, limit: int = PAGE, *, reverse: bool = False) -> RecordPage:
        base, params = self._base()
        n = len(params)
        if reverse:
            cond = f" AND r.seq < ?{n + 1}" if after is not None else ""
            order = "DESC"
        else:
            cond = f" AND r.seq > ?{n + 1}" if after is not None else ""
            order = "ASC"
        if after is not None:
            params.append(after)
        sql = f"SELECT {_COLS} {base}{cond} ORDER BY r.seq {order} LIMIT {int(limit) + 1}"
        try:
            rows = self.store.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise sql_error(exc, self.filter.text) from None
        more = len(rows) > limit
        rows = rows[:limit]
        recs = [_record(r) for r in rows]
        nxt = recs[-1].seq if more and recs else None
        if reverse:
            recs.reverse()
            nxt = recs[0].seq if more and recs else None
        return RecordPage(recs, nxt, self.filter)

    def count(self) -> int:
        if self._count is None:
            base, params = self._base()
            try:
                self._count = self.store.conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
            except sqlite3.OperationalError as exc:
                raise sql_error(exc, self.filter.text) from None
        return self._count

    def row_id(self, row: Record) -> str:
        return row.id

    def cursor_of(self, row: Record) -> int:
        return row.seq

    def release_thread(self) -> None:
        self.store.release_thread()

    def __iter__(self) -> Iterator[Record]:
        after = None
        while True:
            page = self.page(after, 1000)
            yield from page.rows
            if page.after is None:
                return
            after = page.after


def iter_records(store: Store, project: str, name: str, *, version: Optional[int] = None,
                 snapshot: Optional[str] = None, text: str = "") -> Iterator[Record]:
    """Every record as of a version (the latest by default), in dataset order, streamed."""
    return iter(RecordsQuery(store, project, name, version=version, snapshot=snapshot, text=text))


def record_ids(store: Store, project: str, name: str, *, version: Optional[int] = None, text: str = "") -> list[str]:
    return [r.id for r in iter_records(store, project, name, version=version, text=text)]


# --- from logs ------------------------------------------------------------------------------------

EXPECTED_FROM = ("auto", "output", "expected", "none")


def span_to_record(span: dict, expected_from: str = "auto", *, metadata: bool = True, tags: bool = True) -> dict:
    """A logged span as a dataset record's content: its input; expected from its expected
    (``auto``: when set, else its output), its output, or nothing; its metadata and tags; the
    span as origin."""
    if expected_from not in EXPECTED_FROM:
        raise DatasetError(f"--expected-from must be one of {', '.join(EXPECTED_FROM)}, not {expected_from!r}")
    if expected_from == "auto":
        expected = span.get("expected") if span.get("expected") is not None else span.get("output")
    elif expected_from == "none":
        expected = None
    else:
        expected = span.get(expected_from)
    return {"input": span.get("input"), "expected": expected,
            "metadata": (span.get("metadata") or {}) if metadata else {},
            "tags": list(span.get("tags") or []) if tags else [],
            "origin": {"object_type": ORIGIN_LOGS, "id": span["id"]}}


def _spans(conn: sqlite3.Connection, pid: int, ids: list[str]) -> Iterator[dict]:
    for i in range(0, len(ids), 5000):
        chunk = dumps_text(ids[i:i + 5000])
        for row in conn.execute(
            "SELECT s.id, s.input, s.output, s.expected, s.metadata, s.tags FROM spans s"
            " WHERE s.project_id = ? AND s.id IN (SELECT value FROM json_each(?)) ORDER BY s.created, s.rid",
            (pid, chunk)):
            yield {"id": row[0], "input": None if row[1] is None else loads(row[1]),
                   "output": None if row[2] is None else loads(row[2]),
                   "expected": None if row[3] is None else loads(row[3]),
                   "metadata": loads(row[4]), "tags": loads(row[5])}


def add_from_logs(store: Store, project: str, name: str, row_ids: Iterable[str], *, expected_from: str = "auto",
                  metadata: bool = True, tags: bool = True, author: Optional[str] = None,
                  note: str = "", description: str = "") -> WriteResult:
    """Logged spans (by row id) into the dataset as ONE version, created when missing. A span
    already in the dataset (a current record with it as origin) updates that record, never
    duplicates it. Spans that do not exist are skipped (``WriteResult.unchanged`` counts them not)."""
    ids = list(dict.fromkeys(row_ids))
    author = author or default_author()
    if expected_from not in EXPECTED_FROM:
        raise DatasetError(f"--expected-from must be one of {', '.join(EXPECTED_FROM)}, not {expected_from!r}")
    pid = project_id(store, project, create=False)
    with store.write() as conn:
        ds, created = _ensure_dataset(conn, project, name, author, description)
        w = _Writer(conn, ds, author, note or f"{len(ids)} span(s) from logs")
        for span in _spans(conn, pid, ids):
            content = span_to_record(span, expected_from, metadata=metadata, tags=tags)
            rec = RecordIn.model_validate(content)
            w.put(w.by_origin(span["id"]) or origin_record_id(span["id"]), _texts(rec))
        result = w.finish()
    result.created_dataset = created
    return result


def from_selection(store: Store, name: str, sel, **kw) -> WriteResult:
    """``add_from_logs`` over a typed selection (``store.selection.Selection``): each selected
    span (spans shape) or each selected trace's root span (traces shape)."""
    from .selection import selection_root_ids, selection_row_ids

    ids = selection_root_ids(store, sel) if sel.shape == "traces" else selection_row_ids(store, sel)
    return add_from_logs(store, sel.project, name, list(ids), **kw)


__all__ = [
    "DatasetError", "DatasetInfo", "Record", "RecordChange", "RecordsQuery", "Revision", "VersionInfo", "WriteResult",
    "RECORD_KEYS", "add_from_logs", "changed_fields", "create_dataset", "delete_records", "derived_id", "diff_versions",
    "from_selection", "get_dataset", "get_record", "iter_records", "list_datasets", "list_versions", "record_history",
    "record_ids", "resolve_version", "restore", "revert_version", "snapshot", "span_to_record", "upsert_records", "write_records",
]
