"""The audit trail: every human edit (feedback, tags, comments, views) with its author."""

from __future__ import annotations

import getpass
import os
import sqlite3
from typing import Any, Optional

import orjson

from .connection import Store
from .jsontext import json_or_null
from .models import now_iso


def default_author() -> str:
    """Who is acting when no --author is given: $BT_TUI_USER (DESIGN.md), else $BT_TUI_AUTHOR
    (the name earlier versions read), else the OS user."""
    for var in ("BT_TUI_USER", "BT_TUI_AUTHOR"):
        if os.environ.get(var, "").strip():
            return os.environ[var].strip()
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def audit(conn: sqlite3.Connection, pid: int, object_type: str, object_id: str, fld: str, author: str,
          before: Any, after: Any) -> None:
    """Record one change, inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO audit (project_id, object_type, object_id, field, author, created, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (pid, object_type, object_id, fld, author, now_iso(), json_or_null(before), json_or_null(after)),
    )


def audit_log(store: Store, object_id: Optional[str] = None, limit: int = 100) -> list[dict]:
    """The newest audit entries (of one object when ``object_id`` is given), before/after decoded."""
    where, params = ("object_id = ?", [object_id]) if object_id else (None, None)
    rows = store.db["audit"].rows_where(
        where, params, select="object_type, object_id, field, author, created, before, after",
        order_by="id DESC", limit=limit,
    )
    return [
        {**r, "before": None if r["before"] is None else orjson.loads(r["before"]),
         "after": None if r["after"] is None else orjson.loads(r["after"])}
        for r in rows
    ]
