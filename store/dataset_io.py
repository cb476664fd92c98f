"""Dataset records in and out of files (`bt-tui import dataset`, `bt-tui export dataset`).

In: JSONL (one record a line, the keys of ``RecordIn``) and CSV (a header naming the fields).
Both are read whole and checked before anything is written: by default a file with a bad
line writes nothing (``InputError`` naming the first bad lines ``FILE:LINE: reason``, as
`import logs` does); ``skip_invalid`` keeps the good ones. A record without an ``id`` gets
one derived from its input (``store.datasets.derived_id``; the Nth repeat of one input in a
file gets its own), so importing the same file again makes no new version, and a file whose
``expected`` was edited updates those records. The whole file is ONE version.

Out: JSONL (the contract's record shape, stable keys), CSV (``id,input,expected,metadata,
tags,created,origin``, JSON cells for what is not a plain string, so it imports back to the
same records) and OpenAI chat fine-tuning lines (``{"messages": [...]}``, see
``openai_example``).

CSV cells (import):

- The header names fields: ``id``, ``input``, ``expected``, ``metadata``, ``tags``,
  ``created``, ``origin`` (any case), or a dotted path ``input.KEY``, ``expected.KEY``,
  ``metadata.KEY`` (``metadata.a.b`` nests) whose cells build an object. ``--map COLUMN=FIELD``
  (``mapping``) gives any other column a field. A column that names no field is an error.
- A cell starting with ``{``, ``[`` or ``"`` is JSON (a malformed one is an error naming the
  column); the ``tags`` cell is a JSON array or comma-separated words; any other cell is a
  string; an empty cell is absent (null).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator, Optional

from pydantic import ValidationError

from .connection import Store
from .datasets import DatasetError, Record, WriteResult, derived_id, write_records
from .errors import InputError
from .jsonl import BOM, BRAINTRUST_ROW_KEYS, MAX_LINE_BYTES, MAX_REASONS, _skip_rest, more_bad_lines
from .jsontext import dumps, dumps_text
from .models import RECORD_KEYS, RecordIn, check_depth, malformed_json, validation_reason

FORMATS_IN = ("jsonl", "csv")
FORMATS_OUT = ("jsonl", "csv", "openai")
CSV_COLUMNS = RECORD_KEYS  # the export's columns, in this order
DOTTED_ROOTS = ("input", "expected", "metadata")  # fields a dotted column (``input.question``) builds
JSON_STARTS = ("{", "[", '"')  # a CSV cell starting with one of these is JSON

# Keys of Braintrust's own exported dataset rows that a record has no use for: dropped
# without a word (any other unknown key is a bad line: likely a typo).
BRAINTRUST_RECORD_KEYS = frozenset(BRAINTRUST_ROW_KEYS - {"origin"}) | {"span_id", "root_span_id", "span_parents"}

_validate_json = RecordIn.__pydantic_validator__.validate_json


def _kind(reason: str) -> str:
    """A bad line's kind, for the count by kind (``skipped 3 invalid records: malformed JSON (2), ...``)."""
    if reason.startswith("column "):
        reason = reason.split(": ", 1)[-1]
    for kind in ("malformed JSON", "unknown key", "record id", "cannot derive an id"):
        if reason.startswith(kind):
            return kind
    return reason.split(":", 1)[0]


def too_long() -> str:
    return f"line is longer than {MAX_LINE_BYTES / (1 << 20):g} MB (the limit for one record)"


# --- reading ------------------------------------------------------------------------------------

@dataclass
class ReadResult:
    """A file's records, checked: ``records`` holds ``(id, JSON)`` of each good one, in file
    order (the JSON of the record as read, without its derived id; ``records_in`` gives them
    as ``RecordIn``). Held as JSON bytes, not objects: a file's worth of memory."""

    records: list = field(default_factory=list)
    lines: int = 0  # records read (blank lines not counted), good and bad
    skipped: int = 0
    derived: int = 0  # records that got an id derived from their input
    reasons: list[str] = field(default_factory=list)  # the first MAX_REASONS bad lines, "FILE:LINE: why"
    reason_counts: dict[str, int] = field(default_factory=dict)
    ignored_keys: dict[str, int] = field(default_factory=dict)  # Braintrust's row keys dropped -> lines

    def records_in(self, progress: Optional[Callable[[int], None]] = None) -> Iterator[RecordIn]:
        """The good records as ``RecordIn`` (ids filled in), one at a time."""
        for n, (record_id, raw) in enumerate(self.records, 1):
            rec = _validate_json(raw)
            rec.id = record_id
            yield rec
            if progress and n % 500 == 0:
                progress(500)
        if progress and len(self.records) % 500:
            progress(len(self.records) % 500)


class _Collector:
    """Good records and bad lines of one file: ids derived and checked for repeats, bad lines
    counted and the first MAX_REASONS named. ``finish`` raises for a bad file unless
    ``skip_invalid``."""

    def __init__(self, label: str, skip_invalid: bool) -> None:
        self.label = label
        self.skip_invalid = skip_invalid
        self.result = ReadResult()
        self.first_bad: Optional[InputError] = None
        self._seen: dict[str, int] = {}  # id -> the line that gave it
        self._repeats: dict[str, int] = {}  # input (as its derived id) -> records without an id so far

    def bad(self, lineno: int, reason: str) -> None:
        r = self.result
        r.skipped += 1
        kind = _kind(reason)
        r.reason_counts[kind] = r.reason_counts.get(kind, 0) + 1
        if len(r.reasons) < MAX_REASONS:
            r.reasons.append(f"{self.label}:{lineno}: {reason}")
        if self.first_bad is None:
            self.first_bad = InputError(reason, path=self.label, line=lineno)
        if not self.skip_invalid:
            r.records = []  # doomed: keep checking the rest, keep nothing

    def good(self, lineno: int, rec: RecordIn, raw: bytes) -> None:
        record_id = rec.id
        if record_id is None:
            try:
                key = derived_id(rec.input)
            except TypeError:  # orjson: an integer past 64 bits
                self.bad(lineno, "cannot derive an id from this input (it holds an integer past 64 bits): give the record an id")
                return
            n = self._repeats.get(key, 0)
            self._repeats[key] = n + 1
            record_id = key if n == 0 else derived_id(rec.input, n)
            self.result.derived += 1
        first = self._seen.get(record_id)
        if first is not None:
            self.bad(lineno, f"record id {record_id!r} is given again (first on line {first})")
            return
        self._seen[record_id] = lineno
        if self.first_bad is None or self.skip_invalid:
            self.result.records.append((record_id, raw))

    def finish(self) -> ReadResult:
        r = self.result
        if self.first_bad is not None and not self.skip_invalid:
            also = r.reasons[1:]
            if r.skipped > len(r.reasons):
                also.append(more_bad_lines(r.skipped - len(r.reasons)))
            self.first_bad.also = tuple(also)
            raise self.first_bad
        return r


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    return str(exc)


def _extra_keys(exc: ValidationError) -> Optional[list]:
    """The unknown top-level keys, in line order, when they are the line's only problem."""
    errors = exc.errors(include_url=False)
    if errors and all(e.get("type") == "extra_forbidden" and len(e.get("loc", ())) == 1 for e in errors):
        return [str(e["loc"][0]) for e in errors]
    return None


def _without_braintrust_keys(line: bytes, col: _Collector, keys: list) -> tuple[RecordIn, bytes]:
    """A line whose only unknown keys are Braintrust's own (``_xact_id``, ``dataset_id``, ...):
    the record without them. ValueError naming the first other unknown key."""
    other = [k for k in keys if k not in BRAINTRUST_RECORD_KEYS]
    if other:
        raise ValueError(f"unknown key {other[0]!r} (a dataset record has {', '.join(RECORD_KEYS)})")
    from .models import parse_json

    value = parse_json(line)
    for key in keys:
        value.pop(key, None)
        col.result.ignored_keys[key] = col.result.ignored_keys.get(key, 0) + 1
    raw = bytes(memoryview(dumps(value)))
    return _validate_json(raw), raw


def _jsonl_record(line: bytes, col: _Collector) -> tuple[RecordIn, bytes]:
    try:
        return _validate_json(line), line
    except ValidationError as exc:
        if line.startswith(BOM):  # a UTF-8 byte order mark (Windows tools): accepted
            return _jsonl_record(line[len(BOM):], col)
        keys = _extra_keys(exc)
        if not keys:
            raise
        return _without_braintrust_keys(line, col, keys)


def read_jsonl(stream: IO[bytes], *, label: str = "<stdin>", skip_invalid: bool = False,
               progress: Optional[Callable[[int], None]] = None) -> ReadResult:
    """Records from a JSONL byte stream: blank lines skipped, a UTF-8 byte order mark
    accepted, a line longer than MAX_LINE_BYTES is a bad line (never held whole)."""
    col = _Collector(label, skip_invalid)
    limit = MAX_LINE_BYTES
    readline = stream.readline
    lineno = 0
    pending = 0
    while True:
        line = readline(limit + 1)
        if not line:
            break
        lineno += 1
        n = len(line)
        pending += n
        if progress and pending >= 1 << 20:
            progress(pending)
            pending = 0
        if n > limit:
            if line[-1:] != b"\n":
                pending += _skip_rest(readline)
            col.result.lines += 1
            col.bad(lineno, too_long())
            continue
        if not line.strip() or line.strip() == BOM:
            continue
        col.result.lines += 1
        try:
            rec, raw = _jsonl_record(line, col)
        except (ValidationError, ValueError) as exc:
            col.bad(lineno, _reason(exc))
            continue
        col.good(lineno, rec, raw.rstrip(b"\r\n"))
    if progress and pending:
        progress(pending)
    return col.finish()


# --- CSV ----------------------------------------------------------------------------------------

def parse_target(text: str) -> Optional[tuple[str, tuple[str, ...]]]:
    """A header cell or a ``--map`` field as ``(field, path)``: ``input`` -> ``("input", ())``,
    ``metadata.a.b`` -> ``("metadata", ("a", "b"))``; None when it names no field."""
    name = text.strip()
    root, dot, rest = name.partition(".")
    root = root.lower()
    if not dot:
        return (root, ()) if root in RECORD_KEYS else None
    parts = tuple(rest.split("."))
    if root not in DOTTED_ROOTS or any(not p for p in parts):
        return None
    return root, parts


def field_help() -> str:
    return f"{', '.join(RECORD_KEYS)}, or {' / '.join(r + '.KEY' for r in DOTTED_ROOTS)}"


def parse_mapping(items: Iterable[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``--map COLUMN=FIELD`` options: column -> target. ``InputError`` for a bad one."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for item in items:
        column, eq, target = item.rpartition("=")
        if not eq or not column.strip():
            raise InputError(f"--map {item!r}: expected COLUMN=FIELD, e.g. --map question=input")
        parsed = parse_target(target)
        if parsed is None:
            raise InputError(f"--map {item!r}: {target.strip()!r} is not a record field (fields: {field_help()})")
        if column.strip() in out:
            raise InputError(f"--map {item!r}: column {column.strip()!r} is mapped twice")
        out[column.strip()] = parsed
    return out


def _target_text(target: tuple[str, tuple[str, ...]]) -> str:
    return ".".join((target[0], *target[1]))


def _plan(header: list[str], mapping: dict, label: str, lineno: int) -> list[tuple[int, str, tuple, tuple]]:
    """Each column's place in a record: ``(index, column name, field, path)``. ``InputError``
    (``FILE:LINE: ...``) for a column that names no field, a --map naming a column the file
    lacks, or two columns that would set the same value."""
    names = [h.strip() for h in header]

    def err(reason: str) -> InputError:
        return InputError(reason, path=label, line=lineno)

    missing = [c for c in mapping if c not in names]
    if missing:
        raise err(f"--map names column {missing[0]!r}, which the header does not have"
                  f" (its columns: {', '.join(repr(n) for n in names)})")
    plan, unknown = [], []
    for i, name in enumerate(names):
        if not name:
            raise err(f"column {i + 1} of the header has no name (name it, or remove the column)")
        if names.index(name) != i:
            raise err(f"column {name!r} appears twice in the header")
        target = mapping.get(name) or parse_target(name)
        if target is None:
            unknown.append(name)
            continue
        plan.append((i, name, target[0], target[1]))
    if unknown:
        first = unknown[0]
        more = f" (and {', '.join(repr(u) for u in unknown[1:])})" if len(unknown) > 1 else ""
        key = first if first.replace("_", "").isalnum() else "KEY"
        raise err(f"column {first!r}{more} names no record field (fields: {field_help()});"
                  f" map it: --map {first}=input or --map {first}=metadata.{key}")
    for a in range(len(plan)):
        for b in range(a + 1, len(plan)):
            (_, na, fa, pa), (_, nb, fb, pb) = plan[a], plan[b]
            shorter = min(len(pa), len(pb))
            if fa == fb and pa[:shorter] == pb[:shorter]:
                what = _target_text((fa, pa if len(pa) <= len(pb) else pb))
                raise err(f"columns {na!r} and {nb!r} both set {what} (keep one, or --map one of them elsewhere)")
    return plan


def _cell_json(text: str, column: str) -> Any:
    """A JSON cell's value; ValueError naming the column for malformed JSON."""
    from pydantic_core import from_json

    from .models import too_deep

    try:
        value = from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        detail = str(exc)
        if "recursion limit exceeded" in detail:
            raise ValueError(f"column {column!r}: {too_deep()}") from None
        if "\n" in text:
            raise ValueError(f"column {column!r}: malformed JSON ({detail} of the cell)") from None
        what = malformed_json(detail, text).replace("at column", "at character", 1).replace("the line ends", "the cell ends")
        raise ValueError(f"column {column!r}: {what}") from None
    return check_depth(value, f"column {column!r}")


def _cell_value(cell: str, column: str, fld: str) -> Any:
    stripped = cell.strip()
    if fld == "tags":
        if stripped.startswith("["):
            return _cell_json(stripped, column)
        return [t.strip() for t in cell.split(",") if t.strip()]
    if stripped.startswith(JSON_STARTS):
        return _cell_json(stripped, column)
    return cell


def _csv_record(row: list[str], plan: list, n_columns: int) -> dict:
    if len(row) > n_columns and any(c.strip() for c in row[n_columns:]):
        raise ValueError(f"{len(row)} cells, but the header has {n_columns} columns")
    rec: dict = {}
    for i, column, fld, path in plan:
        cell = row[i] if i < len(row) else ""
        if cell == "":
            continue
        value = _cell_value(cell, column, fld)
        if not path:
            rec[fld] = value
            continue
        obj = rec.setdefault(fld, {})
        for key in path[:-1]:
            obj = obj.setdefault(key, {})
        obj[path[-1]] = value
    return rec


def _csv_reason(exc: BaseException, plan: list) -> str:
    """A record's validation error, naming the CSV column when it is not the field's name."""
    reason = _reason(exc)
    if isinstance(exc, ValidationError):
        loc = exc.errors(include_url=False)[0].get("loc", ())
        if loc:
            columns = [c for _, c, f, p in plan if f == loc[0] and not p]
            if columns and columns[0] != loc[0]:
                reason = f"column {columns[0]!r}: {reason}"
    return reason


_CSV_ERRORS = {
    "unexpected end of data": "a quoted cell is never closed (its record starts here)",
    "',' expected after '\"'": "a quoted cell goes on after its closing quote (inside quotes, write a quote as \"\")",
}


def read_csv(stream: IO[bytes], *, label: str = "<stdin>", skip_invalid: bool = False,
             mapping: Optional[dict] = None, progress: Optional[Callable[[int], None]] = None) -> ReadResult:
    """Records from a CSV byte stream (UTF-8, a byte order mark accepted; quoted cells may
    hold commas, quotes and newlines). Lines are reported where their record starts."""
    col = _Collector(label, skip_invalid)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(text, strict=True)
    plan: Optional[list] = None
    n_columns = 0
    start = 1
    seen_bytes = 0

    def position() -> None:
        nonlocal seen_bytes
        if progress:
            try:
                pos = stream.tell()
            except (OSError, ValueError):
                return
            if pos > seen_bytes:
                progress(pos - seen_bytes)
                seen_bytes = pos

    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                msg = str(exc)
                if "field larger than field limit" in msg:
                    msg = f"a cell is longer than {MAX_LINE_BYTES / (1 << 20):g} MB (the limit for one cell)"
                col.bad(start, _CSV_ERRORS.get(msg, f"not valid CSV ({msg})"))
                break  # the reader cannot find the next record reliably: stop here
            if not any(c.strip() for c in row):
                continue  # a blank line
            if plan is None:
                plan = _plan(row, mapping or {}, label, start)
                n_columns = len(row)
                continue
            col.result.lines += 1
            if col.result.lines % 1000 == 0:
                position()
            try:
                rec_dict = _csv_record(row, plan, n_columns)
                raw = bytes(memoryview(dumps(rec_dict)))  # a copy of its own size: orjson's buffer is bigger
                rec = _validate_json(raw)
            except (ValidationError, ValueError, TypeError) as exc:
                col.bad(start, _csv_reason(exc, plan))
                continue
            col.good(start, rec, raw)
    except UnicodeDecodeError as exc:
        col.bad(reader.line_num + 1, f"not UTF-8 text ({exc.reason})")
    finally:
        csv.field_size_limit(old_limit)
        position()
        text.detach()  # the caller closes the stream
    return col.finish()


# --- format -------------------------------------------------------------------------------------

def detect_format(head: bytes, name: str = "") -> Optional[str]:
    """``jsonl`` or ``csv`` from a file name's extension, else from its first bytes; None
    when neither tells."""
    ext = os.path.splitext(name)[1].lower()
    if ext in (".jsonl", ".ndjson", ".json", ".jl"):
        return "jsonl"
    if ext == ".csv":
        return "csv"
    head = head.removeprefix(BOM).lstrip()
    if not head or head.startswith(b"{"):
        return "jsonl"  # an empty file: nothing to import, whatever its format
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    cells = next(csv.reader([first]), [])
    if any(parse_target(c) for c in cells):
        return "csv"
    return None


def read_records(stream: IO[bytes], *, fmt: str = "jsonl", label: str = "<stdin>", skip_invalid: bool = False,
                 mapping: Optional[dict] = None, progress: Optional[Callable[[int], None]] = None) -> ReadResult:
    """A whole file's records, checked (``read_jsonl`` / ``read_csv``); nothing is written."""
    if fmt == "csv":
        return read_csv(stream, label=label, skip_invalid=skip_invalid, mapping=mapping, progress=progress)
    if fmt != "jsonl":
        raise InputError(f"unknown format {fmt!r} (expected jsonl or csv)")
    if mapping:
        raise InputError("--map goes with CSV files (--format csv)")
    return read_jsonl(stream, label=label, skip_invalid=skip_invalid, progress=progress)


def write_read(store: Store, project: str, name: str, read: ReadResult, *, label: str = "<stdin>",
               author: Optional[str] = None, progress: Optional[Callable[[int], None]] = None) -> Optional[WriteResult]:
    """The records of a read as ONE version (note ``import LABEL``), creating the dataset when
    missing. No record: nothing is written (no empty dataset either) and None is returned."""
    if not read.records:
        return None
    return write_records(store, project, name, upserts=read.records_in(progress), author=author,
                         note=f"import {label}")


def import_dataset(store: Store, project: str, name: str, stream: IO[bytes], *, fmt: str = "jsonl",
                   label: str = "<stdin>", skip_invalid: bool = False, mapping: Optional[dict] = None,
                   author: Optional[str] = None) -> tuple[ReadResult, Optional[WriteResult]]:
    """Read a whole file, then write its records as one version (``read_records`` then
    ``write_read``): a bad file raises before anything is written."""
    read = read_records(stream, fmt=fmt, label=label, skip_invalid=skip_invalid, mapping=mapping)
    return read, write_read(store, project, name, read, label=label, author=author)


# --- writing ------------------------------------------------------------------------------------

def record_line(rec: Record) -> str:
    """A record as one JSONL line (no newline): the contract's keys, in their order."""
    return dumps_text(rec.to_json())


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that imports back to it: None is empty; a string is itself,
    unless it is empty or starts (after spaces) like JSON, when it is written as a JSON string;
    anything else is JSON. (A number or boolean comes back as text: CSV cells are strings.)"""
    if value is None:
        return ""
    if isinstance(value, str):
        if value == "" or value.lstrip().startswith(JSON_STARTS):
            return dumps_text(value)
        return value
    return dumps_text(value)


def csv_row(rec: Record) -> list[str]:
    d = rec.to_json()
    return [csv_cell(d[k]) for k in CSV_COLUMNS]


def scalar_records(rec: Record) -> bool:
    """Whether CSV loses a detail of this record: an input or expected that is a number or a
    boolean (it comes back as text)."""
    return any(isinstance(v, (int, float, bool)) for v in (rec.input, rec.expected))


OPENAI_ROLES = ("system", "user", "assistant")


def _message(m: Any, where: str, record_id: str) -> dict:
    if not isinstance(m, dict) or "role" not in m:
        raise DatasetError(f"record {record_id!r}: {where} is not a chat message (an object with role and content)")
    role = m.get("role")
    if role not in OPENAI_ROLES:
        raise DatasetError(f"record {record_id!r}: {where} has role {role!r}; the openai format takes"
                           f" {', '.join(OPENAI_ROLES)}")
    content = m.get("content")
    if not isinstance(content, str):
        raise DatasetError(f"record {record_id!r}: {where}'s content is not text")
    out = {"role": role, "content": content}
    if isinstance(m.get("name"), str):
        out["name"] = m["name"]
    return out


def _field_text(value: Any, key: str, what: str, record_id: str) -> str:
    """``value[key]`` as text (``--input-field`` / ``--expected-field``)."""
    if not isinstance(value, dict) or key not in value:
        keys = ", ".join(map(str, value)) if isinstance(value, dict) else f"it is a {type(value).__name__}"
        raise DatasetError(f"record {record_id!r}: {what} has no key {key!r} ({'its keys: ' if isinstance(value, dict) else ''}{keys})")
    text = value[key]
    if not isinstance(text, str):
        raise DatasetError(f"record {record_id!r}: {what}.{key} is not text")
    return text


def openai_example(rec: Record, input_field: Optional[str] = None, expected_field: Optional[str] = None) -> dict:
    """A record as one chat fine-tuning example, ``{"messages": [...]}``:

    - input: a string is one user message; a list of chat messages (objects with ``role``:
      system, user or assistant, and text ``content``) is those messages; an object with a
      ``messages`` list is those messages (its other keys are left out);
    - expected: a string is the assistant's answer; a message ``{"role": "assistant",
      "content": TEXT}`` is that message.

    ``input_field`` / ``expected_field``: the text is the input's / expected's value under that
    key (records whose input is an object such as ``{"message": ..., "subject": ...}``).

    Anything else (no expected, an input that is no conversation) raises ``DatasetError``
    naming the record and why."""
    rid = rec.id
    inp = rec.input
    if input_field is not None:
        inp, where = _field_text(inp, input_field, "input", rid), "input." + input_field
    elif isinstance(inp, dict) and "messages" in inp:
        inp, where = inp["messages"], "input.messages"
    else:
        where = "input"
    if isinstance(inp, str):
        messages = [{"role": "user", "content": inp}]
    elif isinstance(inp, list) and inp:
        messages = [_message(m, f"{where}[{i}]", rid) for i, m in enumerate(inp)]
    elif inp is None:
        raise DatasetError(f"record {rid!r}: input is null; the openai format needs the user's message")
    elif isinstance(inp, list):
        raise DatasetError(f"record {rid!r}: {where} is an empty list; the openai format needs the user's message")
    else:
        kind = "an object without a messages list" if isinstance(inp, dict) else f"a {type(inp).__name__}"
        hint = (f" (or name its text with --input-field KEY; its keys: {', '.join(map(str, inp))})"
                if isinstance(inp, dict) else "")
        raise DatasetError(f"record {rid!r}: input is {kind}; the openai format takes a string, a list of chat"
                           f" messages, or an object with a messages list{hint}")
    exp = rec.expected
    if expected_field is not None:
        exp = _field_text(exp, expected_field, "expected", rid)
    if isinstance(exp, str):
        answer = {"role": "assistant", "content": exp}
    elif isinstance(exp, dict) and exp.get("role") == "assistant":
        answer = _message(exp, "expected", rid)
    elif exp is None:
        raise DatasetError(f"record {rid!r}: expected is null; the openai format needs the assistant's answer"
                           " (a string, or {\"role\": \"assistant\", \"content\": ...})")
    else:
        kind = "an object that is not an assistant message" if isinstance(exp, dict) else f"a {type(exp).__name__}"
        hint = (f" (or name its text with --expected-field KEY; its keys: {', '.join(map(str, exp))})"
                if isinstance(exp, dict) else "")
        raise DatasetError(f"record {rid!r}: expected is {kind}; the openai format takes a string or"
                           " {\"role\": \"assistant\", \"content\": ...}" + hint)
    return {"messages": [*messages, answer]}


def check_openai(records: Iterable[Record], input_field: Optional[str] = None,
                 expected_field: Optional[str] = None) -> int:
    """Raise ``DatasetError`` for the first record the openai format cannot take; how many
    records there are."""
    n = 0
    for rec in records:
        openai_example(rec, input_field, expected_field)
        n += 1
    return n


def write_dataset(records: Iterable[Record], out: IO[str], *, fmt: str = "jsonl",
                  progress: Optional[Callable[[int], None]] = None, input_field: Optional[str] = None,
                  expected_field: Optional[str] = None) -> tuple[int, int]:
    """Write records as ``fmt`` (jsonl, csv or openai). Returns (records written, records
    CSV gives back with a number or boolean turned to text)."""
    if fmt not in FORMATS_OUT:
        raise InputError(f"unknown format {fmt!r} (expected {', '.join(FORMATS_OUT)})")
    n = lossy = 0
    w = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if w is not None:
        w.writerow(CSV_COLUMNS)
    buf: list[str] = []
    for rec in records:
        if fmt == "jsonl":
            buf.append(record_line(rec))
        elif fmt == "openai":
            buf.append(dumps_text(openai_example(rec, input_field, expected_field)))
        else:
            w.writerow(csv_row(rec))
            lossy += scalar_records(rec)
        n += 1
        if n % 1000 == 0:
            if buf:
                out.write("\n".join(buf) + "\n")
                buf.clear()
            if progress:
                progress(1000)
    if buf:
        out.write("\n".join(buf) + "\n")
    if progress and n % 1000:
        progress(n % 1000)
    return n, lossy


__all__ = [
    "FORMATS_IN", "FORMATS_OUT", "ReadResult", "check_openai", "csv_cell", "csv_row", "detect_format",
    "import_dataset", "openai_example", "parse_mapping", "parse_target", "read_csv", "read_jsonl", "read_records",
    "record_line", "write_dataset", "write_read",
]
