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
        c.execute(
            "INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, now_iso()),
        )
        return c.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()[0]


def find_project(store: Store, name: str) -> Optional[int]:
    """The id of project ``name``, or None; never writes."""
    row = store.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def discard_if_empty(store: Store, name: str) -> bool:
    """Remove project ``name`` when nothing belongs to it (no spans, views or audit entries):
    what a failed or empty import into a new project leaves behind. In one write transaction,
    so rows another process wrote meanwhile keep their project. True when it was removed."""
    with store.write() as c:
        row = c.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if not row:
            return False
        pid = row[0]
        for table in ("spans", "views", "audit"):
            if c.execute(f"SELECT 1 FROM {table} WHERE project_id = ? LIMIT 1", (pid,)).fetchone():
                return False
        c.execute("DELETE FROM project_stats WHERE project_id = ?", (pid,))
        c.execute("DELETE FROM projects WHERE id = ?", (pid,))
        return True


@dataclass
class ProjectInfo:
    name: str
    spans: int
    traces: int
    last: Optional[str]


def list_projects(store: Store) -> list[ProjectInfo]:
    rows = store.db.query(
        """
        SELECT p.name,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id) AS spans,
               (SELECT count(*) FROM spans s WHERE s.project_id = p.id AND s.is_root = 1) AS traces,
               (SELECT max(created) FROM spans s WHERE s.project_id = p.id) AS last
        FROM projects p ORDER BY p.name
        """
    )
    return [ProjectInfo(**r) for r in rows]


def max_lead(conn, pid: int) -> float:
    """Seconds by which some span of the project was created before its trace's root (>= 0);
    the span writer keeps it (``spans.record_trace_times``), see migration v6."""
    row = conn.execute("SELECT max_lead FROM project_stats WHERE project_id = ?", (pid,)).fetchone()
    return float(row[0]) if row else 0.0
