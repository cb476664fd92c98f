"""Typed records validated at the boundary (import, feedback, API).

The span row is DESIGN.md's contract: the keys below, nothing renamed. Unknown keys in
input (e.g. Braintrust's ``_xact_id``, ``project_id``, ``log_id``) are ignored.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator

SPAN_KEYS = (
    "id",
    "span_id",
    "root_span_id",
    "span_parents",
    "created",
    "input",
    "output",
    "expected",
    "error",
    "scores",
    "metadata",
    "metrics",
    "tags",
    "span_attributes",
    "comments",
)

Number = Union[StrictInt, StrictFloat]
# A score: a number in [0, 1] (checked in pydantic-core, not in Python: import speed).
Score = Annotated[Union[StrictInt, StrictFloat], Field(ge=0, le=1)]


def now_iso() -> str:
    return format_ts(datetime.now(timezone.utc))


def format_ts(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_ts(value: Any) -> str:
    """Any ISO-8601 string (or unix seconds) -> canonical, sortable UTC text."""
    if isinstance(value, bool):
        raise ValueError("created must be an ISO-8601 timestamp")
    if isinstance(value, (int, float)):
        return format_ts(from_unix(value, "created"))
    if not isinstance(value, str):
        raise ValueError("created must be an ISO-8601 timestamp string")
    text = value.strip()
    try:
        if len(text) == 27 and text[10] == "T" and text[19] == "." and text[26] == "Z":
            datetime.fromisoformat(text[:26])  # validates the canonical form; no re-formatting
            return text
        dt = datetime.fromisoformat(text.replace("z", "Z"))
        return format_ts(dt)
    except (ValueError, OverflowError):
        raise ValueError(f"created is not a valid ISO-8601 timestamp: {value!r}") from None


def from_unix(value: float, what: str = "timestamp") -> datetime:
    """Unix seconds -> aware UTC datetime; ValueError (not OverflowError) when out of range."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number of seconds")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{what} {value!r} is out of range") from None


class Comment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Optional[StrictStr] = None
    text: StrictStr
    author: StrictStr = "unknown"
    created: Optional[str] = None

    @field_validator("created")
    @classmethod
    def _ts(cls, v: Any) -> Any:
        return None if v is None else normalize_ts(v)


class SpanIn(BaseModel):
    """One span as it arrives (JSONL import, the logging API)."""

    # Unknown keys are kept aside (``model_extra``), not stored: an import reports them.
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    id: Optional[StrictStr] = None
    span_id: Optional[StrictStr] = None
    root_span_id: Optional[StrictStr] = None
    span_parents: Optional[list[StrictStr]] = None
    created: Optional[Any] = None
    input: Any = None
    output: Any = None
    expected: Any = None
    error: Any = None
    scores: Optional[dict[str, Optional[Score]]] = None
    metadata: Optional[dict[str, Any]] = None
    metrics: Optional[dict[str, Optional[Number]]] = None
    tags: Optional[list[StrictStr]] = None
    span_attributes: Optional[dict[str, Any]] = None
    comments: Optional[list[Comment]] = None

    @field_validator("created")
    @classmethod
    def _created(cls, v: Any) -> Any:
        return None if v is None else normalize_ts(v)

    @field_validator("span_attributes")
    @classmethod
    def _attrs(cls, v: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if v:
            for key in ("name", "type"):
                if key in v and v[key] is not None and not isinstance(v[key], str):
                    raise ValueError(f"span_attributes.{key} must be a string")
        return v


def content_id(raw: bytes | str) -> str:
    """A stable id for a row that arrived without one, so re-imports stay idempotent."""
    if isinstance(raw, str):
        raw = raw.encode()
    return "row-" + hashlib.sha1(raw.strip()).hexdigest()[:24]


def comment_id(row_id: str, c: Comment) -> str:
    """A stable id for a comment that arrived without one (re-imports do not duplicate it)."""
    h = hashlib.sha1(f"{row_id}\x00{c.author}\x00{c.created}\x00{c.text}".encode()).hexdigest()
    return "c-" + h[:20]


class FeedbackIn(BaseModel):
    """`bt-tui feedback` / `log_feedback`: merged into an existing row."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, Optional[Score]] = Field(default_factory=dict)
    expected: Any = None
    has_expected: bool = False
    comment: Optional[StrictStr] = None
    tags: list[StrictStr] = Field(default_factory=list)
    metadata: Optional[dict[str, Any]] = None
    author: StrictStr

    @field_validator("tags")
    @classmethod
    def _tags_not_blank(cls, tags: list[str]) -> list[str]:
        if any(not t.strip() for t in tags):
            raise ValueError("a tag cannot be empty")
        return [t.strip() for t in tags]
