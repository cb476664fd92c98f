"""Saved views: named filters of a project's logs. Built-in views plus the team's own."""

from __future__ import annotations

from dataclasses import dataclass

from .audit import audit
from .connection import Store
from .models import now_iso
from .projects import project_id
from .query.btql import parse_filter


@dataclass(frozen=True)
class View:
    name: str
    filter: str
    shape: str = "traces"
    builtin: bool = False
    author: str = ""


BUILTIN_VIEWS = (
    View("Errors", "error IS NOT NULL", builtin=True),
    View("Low user rating", "scores.user_rating < 0.5", builtin=True),
    View("Has feedback comment", "comment IS NOT NULL", builtin=True),
    View("Unreviewed", "is_root and comment IS NULL and not (tags includes 'reviewed')", builtin=True),
)


def list_views(store: Store, project: str) -> list[View]:
    own = [
        View(r["name"], r["filter"], r["shape"], False, r["author"])
        for r in store.db.query(
            "SELECT v.name, v.filter, v.shape, v.author FROM views v JOIN projects p ON p.id = v.project_id"
            " WHERE p.name = ? ORDER BY v.name",
            [project],
        )
    ]
    return list(BUILTIN_VIEWS) + own


def save_view(store: Store, project: str, name: str, filter_text: str, shape: str, author: str) -> View:
    """Save (or replace) a named view. The filter must parse (a bad one raises QueryError)."""
    name = name.strip()
    if not name:
        raise ValueError("a view needs a name")
    if any(v.name == name for v in BUILTIN_VIEWS):
        raise ValueError(f"{name!r} is a built-in view; pick another name")
    if filter_text.strip():
        parse_filter(filter_text)
    pid = project_id(store, project)
    with store.write() as conn:
        before = conn.execute("SELECT filter FROM views WHERE project_id = ? AND name = ?", (pid, name)).fetchone()
        conn.execute(
            "INSERT INTO views (project_id, name, filter, shape, author, created) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (project_id, name) DO UPDATE SET filter = excluded.filter, shape = excluded.shape,"
            " author = excluded.author, created = excluded.created",
            (pid, name, filter_text, shape, author, now_iso()),
        )
        audit(conn, pid, "view", name, "filter", author, before[0] if before else None, filter_text)
    return View(name, filter_text, shape, False, author)

