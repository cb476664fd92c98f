"""Typed records validated at the boundary (import, feedback, API).

The span row is DESIGN.md's contract: the keys below, nothing renamed. Unknown keys in
input (e.g. Braintrust's ``_xact_id``, ``project_id``, ``log_id``) are ignored.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator

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

# A metric: a finite number within a 64-bit integer's range (SQLite's; start and end become
# REAL columns and a bigger integer cannot be bound). Checked in pydantic-core: import speed.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Number = Annotated[Union[StrictInt, StrictFloat], Field(ge=INT64_MIN, le=INT64_MAX)]
# JSON values nest at most this deep, counting the innermost value (``[[1]]`` is 3 levels): what
# the import's JSON parser accepts inside a row, so everything stored can be imported again.
MAX_JSON_DEPTH = 200
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


class Origin(BaseModel):
    """Where a dataset record came from: ``{"object_type": "project_logs", "id": ROW_ID}``."""

    model_config = ConfigDict(extra="allow")

    object_type: StrictStr
    id: StrictStr


RECORD_KEYS = ("id", "input", "expected", "metadata", "tags", "created", "origin")


class RecordIn(BaseModel):
    """One dataset record as it arrives (``import dataset``, the TUI's editor, the API). No
    ``id``: the importer derives one from the input (see ``store.datasets.derived_id``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: Optional[StrictStr] = None
    input: Any = None
    expected: Any = None
    metadata: Optional[dict[str, Any]] = None
    tags: Optional[list[StrictStr]] = None
    created: Optional[Any] = None
    origin: Optional[Origin] = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not v.strip():
            raise ValueError("a record id must not be blank")
        return v

    @field_validator("created")
    @classmethod
    def _created(cls, v: Any) -> Any:
        return None if v is None else normalize_ts(v)

    @field_validator("input", "expected", "metadata")
    @classmethod
    def _depth(cls, value: Any) -> Any:
        return check_depth(value, "")


# --- one line for a validation error ----------------------------------------------------------

_UNION_TAGS = {"int", "float", "str", "bool", "constrained-int", "constrained-float"}


def _short(value) -> str:
    """A value as it appears in a message: at most 40 characters (a 300-digit number too)."""
    from .jsontext import dumps

    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, float):
        text = str(value)
    else:
        try:
            text = dumps(value).decode()
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def too_deep() -> str:
    return f"a value is nested deeper than {MAX_JSON_DEPTH} levels (the limit for JSON values)"


def validation_reason(exc: ValidationError) -> str:
    """One line from a pydantic error: the field path and what is wrong with it."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err.get("loc", ())]
    while loc and loc[-1] in _UNION_TAGS:
        loc.pop()
    path = ".".join(loc)
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    kind = err.get("type", "")
    if kind == "json_invalid":
        detail = str(err.get("ctx", {}).get("error", msg))
        if detail.startswith("recursion limit exceeded"):
            return too_deep()
        return malformed_json(detail, err.get("input"))
    if kind == "model_type" or (not path and "dictionary" in msg.lower()):
        return "each line must be a JSON object"
    got = err.get("input")
    if kind == "extra_forbidden" and len(loc) == 1:
        return f"unknown key {path!r} (a dataset record has {', '.join(RECORD_KEYS)})"
    if loc and loc[0] in ("scores",) and len(loc) == 2:
        return f"{path}: a score must be a number in [0, 1] or null, got {_short(got)}"
    if loc and loc[0] == "metrics" and len(loc) == 2:
        if kind in ("less_than_equal", "greater_than_equal"):
            return f"{path}: a metric must be a number between -2^63 and 2^63-1 or null, got {_short(got)}"
        return f"{path}: a metric must be a finite number or null, got {_short(got)}"
    return f"{path}: {msg}" if path else msg


_JSON_AT = re.compile(r"^(.*) at line (\d+) column (\d+)$", re.S)


def malformed_json(detail: str, text: Any) -> str:
    """``malformed JSON at column C: what`` for the JSON parser's ``what at line L column C``
    about one JSONL line (``text``, its newline included). The parser counts bytes and sees
    the line's newline as a second line ("EOF ... at line 2 column 0"); the user wants the
    column of their line, in characters, so: the character under the parser's byte column,
    and for a line that ends too early, the column just past its last character."""
    m = _JSON_AT.match(detail)
    if m is None or not isinstance(text, (bytes, str)):
        return f"malformed JSON ({detail})"
    what, line, col = m.group(1), int(m.group(2)), int(m.group(3))
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    own = raw.split(b"\n", 1)[0].rstrip(b"\r")
    if line > 1 or what.startswith("EOF while parsing"):
        column = len(own.decode("utf-8", "replace")) + 1
        if "string" in what or "string" in detail:
            what = "the line ends inside a string"
        elif what.startswith("EOF while parsing a value"):
            what = "the line ends where a value should be"
        elif what.startswith("EOF while parsing"):
            what = "the line ends inside " + what.removeprefix("EOF while parsing ")
    else:
        column = len(raw[:max(col - 1, 0)].decode("utf-8", "replace")) + 1
    return f"malformed JSON at column {column}: {what}"


def json_depth(value: Any) -> int:
    """How many levels a decoded JSON value spans, as the import's JSON parser counts them: a
    scalar or an empty container is 1, a container 1 more than its deepest element
    (``[[1]]``: 3). Iterative, so a value too deep for recursion is measured too."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        if isinstance(v, dict):
            stack.extend((c, d + 1) for c in v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend((c, d + 1) for c in v)
    return deepest


def check_depth(value: Any, what: str) -> Any:
    """``value`` itself; ValueError (``WHAT: a value is nested deeper ...``) when it nests
    deeper than ``MAX_JSON_DEPTH``."""
    if isinstance(value, (dict, list, tuple)) and json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"{what}: {too_deep()}" if what else too_deep())
    return value


def parse_json(text: str | bytes, what: str = "value") -> Any:
    """JSON text as the import reads it: every digit of a big integer kept (``1e+300`` is not
    ``10**300``), NaN/Infinity refused, the same depth limit. ValueError, one line."""
    from pydantic_core import from_json

    try:
        value = from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        detail = str(exc)
        if "recursion limit exceeded" in detail:
            raise ValueError(f"{what}: {too_deep()}") from None
        raise ValueError(f"{what}: not valid JSON ({detail})") from None
    return check_depth(value, what)


class FeedbackIn(BaseModel):
    """`bt-tui feedback` / `log_feedback` / the TUI's edits: changes applied to an existing row
    inside the write transaction, against its current values (``store.feedback``): scores set
    per name (``remove_scores`` drops names), tags added and removed, expected replaced,
    metadata merged, a comment appended."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scores: dict[str, Optional[Score]] = Field(default_factory=dict)
    remove_scores: list[StrictStr] = Field(default_factory=list)
    expected: Any = None
    has_expected: bool = False
    comment: Optional[StrictStr] = None
    tags: list[StrictStr] = Field(default_factory=list)
    remove_tags: list[StrictStr] = Field(default_factory=list)
    metadata: Optional[dict[str, Any]] = None
    author: StrictStr

    @field_validator("tags", "remove_tags")
    @classmethod
    def _tags_not_blank(cls, tags: list[str]) -> list[str]:
        if any(not t.strip() for t in tags):
            raise ValueError("a tag cannot be empty")
        return [t.strip() for t in tags]

    @field_validator("comment")
    @classmethod
    def _comment_not_blank(cls, text: Optional[str]) -> Optional[str]:
        if text is not None and not text.strip():
            raise ValueError("a comment cannot be empty")
        return text

    @field_validator("expected")
    @classmethod
    def _expected_depth(cls, value: Any) -> Any:
        return check_depth(value, "")

    @field_validator("metadata")
    @classmethod
    def _metadata_depth(cls, value: Any) -> Any:
        return check_depth(value, "")
