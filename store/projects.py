"""Projects: the one lookup of a project's id, the list of projects, per-project facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .connection import Store
from .errors import NotFound
from .models import now_iso


def project_id(store: Store, name: str, *, create: bool = True) -> int:
    """The id of project ``name``. A missing project is created (``create``, the write paths)
    or raises ``NotFound`` (``create=False``: never writes, so it works read-only)."""
    row = store.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    if row:
        return row[0]
    if not create:
        raise NotFound(f"no project named {name!r}")
    with store.write() as c:
        return ensure_project(c, name)[0]


def ensure_project(conn, name: str) -> tuple[int, bool]:
    """The id of project ``name``, created when missing, inside the caller's write transaction
    (so a write that fails leaves no project behind); and whether this call created it."""
    row = conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    if row:
        return row[0], False
    cur = conn.execute("INSERT INTO projects (name, created) VALUES (?, ?)", (name, now_iso()))
    return cur.lastrowid, True


def find_project(store: Store, name: str) -> Optional[int]:
    """The id of project ``name``, or None; never writes."""
    row = store.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def drop_new_project(conn, pid: int) -> None:
    """Remove a project this write transaction created and put nothing in (an import of no
    spans): what ``ensure_project`` made, undone in the same transaction."""
    conn.execute("DELETE FROM project_stats WHERE project_id = ?", (pid,))
    conn.execute("DELETE FROM projects WHERE id = ?", (pid,))


@dataclass
class ProjectInfo:
    name: str
    spans: int
    traces: int
    last: Optional[str]


def has_kinds(conn) -> bool:
    """Whether projects carry a kind (schema v10); a read-only older file has only logs."""
    return any(r[1] == "kind" for r in conn.execute("PRAGMA table_info(projects)"))


def hidden_project(conn, kind: str, name: str) -> int:
    """A new project of kind ``kind`` (an experiment's or a playground's rows) inside the
    caller's write transaction. Its name cannot be typed by a user by accident (it starts with a
    control character) and listings leave it out."""
    cur = conn.execute("INSERT INTO projects (name, created, kind) VALUES (?, ?, ?)",
                       (f"\x1f{kind}:{name}", now_iso(), kind))
    return cur.lastrowid


def project_name(store: Store, pid: int) -> str:
    row = store.conn.execute("SELECT name FROM projects WHERE id = ?", (pid,)).fetchone()
    if not row:
        raise NotFound(f"no project with id {pid}")
    return row[0]


def list_projects(store: Store) -> list[ProjectInfo]:
    """The projects people log to (not the hidden ones holding experiment or playground rows)."""
    where = "WHERE p.kind = 'logs'" if has_kinds(store.conn) else ""
    rows = store.db.query(
        f"""
        SELECT p.name,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id) AS spans,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id AND s.is_root = 1) AS traces,
               (SELECT max(created) FROM spans s WHERE s.project_id = p.id) AS last
        FROM projects p {where} ORDER BY p.name
        """
    )
    return [ProjectInfo(**r) for r in rows]


def max_lead(conn, pid: int) -> float:
    """Seconds by which some span of the project was created before its trace's root (>= 0);
    the span writer keeps it (``spans.record_trace_times``), see migration v6."""
    row = conn.execute("SELECT max_lead FROM project_stats WHERE project_id = ?", (pid,)).fetchone()
    return float(row[0]) if row else 0.0
