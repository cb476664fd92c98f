"""bt-tui's public Python API, a thin facade over engine/ and store/.

    from bt_tui import init_logger
    log = init_logger(project="support-bot", db="traces.db")
    log.log(input=..., output=..., scores={"accuracy": 1})
"""

from __future__ import annotations

from typing import Any, Optional

from store import InputError, NotFound, Store, StoreError
from store.models import FeedbackIn, SpanIn


class Logger:
    """Writes span rows (the DESIGN.md row shape) into a project's logs."""

    def __init__(self, project: str = "default", db: Optional[str] = None) -> None:
        from store.paths import resolve_db_path

        self.project = project
        self.store = Store(resolve_db_path(db))

    def log(self, **row: Any) -> str:
        """Log one span (a root span unless span_parents is given); returns its row id."""
        import uuid

        from store.spans import log_spans

        row.setdefault("id", uuid.uuid4().hex)
        row.setdefault("span_attributes", {"name": "log", "type": "task"})
        return log_spans(self.store, self.project, [row])[0]

    def log_feedback(self, id: str, *, scores: Optional[dict] = None, expected: Any = None,
                     comment: Optional[str] = None, tags: Optional[list] = None,
                     author: Optional[str] = None, **kw: Any) -> None:
        from store.spans import apply_feedback, default_author

        fb = FeedbackIn(scores=scores or {}, expected=expected, has_expected="expected" in kw or expected is not None,
                        comment=comment, tags=tags or [], author=author or default_author())
        apply_feedback(self.store, self.project, id, fb)


def init_logger(project: str = "default", db: Optional[str] = None) -> Logger:
    return Logger(project, db)


__all__ = ["init_logger", "Logger", "Store", "StoreError", "InputError", "NotFound", "SpanIn"]
