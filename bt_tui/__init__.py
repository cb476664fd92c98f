"""bt-tui's public Python API, a thin facade over engine/ and store/.

    from bt_tui import init_logger
    log = init_logger(project="support-bot", db="traces.db")
    log.log(input=..., output=..., scores={"accuracy": 1})

Evals in Braintrust's shape (``Eval``, ``init_dataset``, ``init_experiment``, ``load_prompt``,
``completion``): see bt_tui/evals.py.
"""

from __future__ import annotations

from typing import Any, Optional

from store import InputError, NotFound, Store, StoreError
from store.models import FeedbackIn, SpanIn


_UNSET: Any = object()


def _validated(fn, *args, **kwargs):
    """Run ``fn``; a pydantic ValidationError (bad input) becomes our InputError, one line."""
    from pydantic import ValidationError

    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        from store.models import validation_reason

        raise InputError(validation_reason(exc)) from None


class Logger:
    """Writes span rows (the DESIGN.md row shape) into a project's logs."""

    def __init__(self, project: str = "default", db: Optional[str] = None) -> None:
        from store.paths import resolve_db_path

        self.project = project
        self.store = Store(resolve_db_path(db))

    def log(self, **row: Any) -> str:
        """Log one span, given as the span row's keys (input=, output=, expected=, scores=,
        metadata=, metrics=, tags=, span_attributes=, id=, span_id=, root_span_id=,
        span_parents=, created=, error=). A root span unless span_parents is given. Returns
        its row id. Raises InputError (one line) on a bad value, e.g. a score outside [0, 1]."""
        import uuid

        from store.models import SPAN_KEYS
        from store.spans import log_spans

        unknown = sorted(set(row) - set(SPAN_KEYS))
        if unknown:
            raise InputError(f"unknown span keys: {', '.join(unknown)} (expected some of {', '.join(SPAN_KEYS)})")
        row.setdefault("id", uuid.uuid4().hex)
        row.setdefault("span_attributes", {"name": "log", "type": "task"})
        return _validated(log_spans, self.store, self.project, [row])[0]

    def log_feedback(self, id: str, *, scores: Optional[dict] = None, expected: Any = _UNSET,
                     comment: Optional[str] = None, tags: Optional[list] = None,
                     metadata: Optional[dict] = None, author: Optional[str] = None) -> None:
        """Braintrust's feedback on a logged row: ``scores`` merge into its scores, ``tags``
        are added, ``expected`` replaces its expected (``expected=None`` clears it),
        ``metadata`` merges, ``comment`` is added with ``author`` (default: the OS user).
        Every change is recorded in the audit table."""
        from store.audit import default_author
        from store.feedback import apply_feedback

        fb = _validated(FeedbackIn, scores=scores or {}, expected=None if expected is _UNSET else expected,
                        has_expected=expected is not _UNSET, comment=comment, tags=tags or [],
                        metadata=metadata, author=author or default_author())
        apply_feedback(self.store, self.project, id, fb)

    def close(self) -> None:
        self.store.close()


def init_logger(project: str = "default", db: Optional[str] = None) -> Logger:
    """A Logger for ``project`` in the database ``db`` (default: $BT_TUI_DB, else the file in
    the user data directory, the same one `bt-tui` opens)."""
    return Logger(project, db)


from .evals import (  # noqa: E402  (the eval API: Braintrust's Eval, datasets, experiments, prompts, models)
    Dataset,
    Eval,
    EvalAsync,
    EvalCase,
    EvalHooks,
    EvalResult,
    EvalSummary,
    ExperimentLogger,
    Prompt,
    acompletion,
    completion,
    init_dataset,
    init_experiment,
    load_prompt,
)

__all__ = ["init_logger", "Logger", "Store", "StoreError", "InputError", "NotFound", "SpanIn", "Eval", "EvalAsync",
           "EvalCase", "EvalHooks", "EvalResult", "EvalSummary", "Dataset", "ExperimentLogger", "Prompt",
           "init_dataset", "init_experiment", "load_prompt", "completion", "acompletion"]
