"""Spans out of the store in the span-row shape (DESIGN.md section 2): JSONL lines built inside
SQLite, whole rows as dicts, and the JSONL/CSV writers of `bt-tui export logs`."""

from __future__ import annotations

import csv
from typing import IO, Callable, Iterable, Iterator, Optional

import orjson

from .connection import Store, time_limit
from .errors import InputError, NotFound
from .models import SPAN_KEYS
from .projects import project_id

# A span's comments as export gives them: a JSON array of {id, text, author, created}, oldest first.
COMMENTS_JSON = """CASE WHEN EXISTS (SELECT 1 FROM comments c WHERE c.span_rid = s.rid)
        THEN (SELECT json_group_array(json_object('id', c.id, 'text', c.text, 'author', c.author,
                'created', c.created))
              FROM (SELECT * FROM comments c WHERE c.span_rid = s.rid ORDER BY c.created, c.id) c)
        ELSE '[]' END"""

# A span's export line, built inside SQLite (C string operations; Python only writes the
# lines). Stored JSON text is spliced in as it is. An SQL expression over the alias ``s``.
EXPORT_LINE = """'{"id":' || json_quote(s.id) || ',"span_id":' || json_quote(s.span_id)
    || ',"root_span_id":' || json_quote(s.root_span_id) || ',"span_parents":' || coalesce(s.span_parents, 'null')
    || ',"created":' || json_quote(s.created) || ',"input":' || coalesce(s.input, 'null')
    || ',"output":' || coalesce(s.output, 'null') || ',"expected":' || coalesce(s.expected, 'null')
    || ',"error":' || coalesce(s.error, 'null') || ',"scores":' || s.scores || ',"metadata":' || s.metadata
    || ',"metrics":' || s.metrics || ',"tags":' || s.tags || ',"span_attributes":' || s.span_attributes
    || ',"comments":' || """ + COMMENTS_JSON + """ || '}'"""


def iter_export_lines(
    store: Store, project: str, *, where: str = "", params: tuple = (), order: str = "s.rid", batch: int = 5000,
    timeout: Optional[float] = None,
) -> Iterator[str]:
    """Finished JSONL lines (no newline) of a project's spans, streamed; every span in insertion
    order by default. ``where`` (over alias ``s``) may use numbered parameters (?1, ?2, ...
    from the query compiler): the project id takes the next free number. ``timeout``: the
    whole stream stops with ``QueryTimeout`` that many seconds after it starts. An unknown
    project raises ``NotFound`` here, not when iterated."""
    pid = project_id(store, project, create=False)
    sql = f"SELECT {EXPORT_LINE} FROM spans s WHERE s.project_id = ?{len(params) + 1}"
    if where:
        sql += f" AND ({where})"
    sql += f" ORDER BY {order}"
    return _stream(store, sql, (*params, pid), batch, timeout)


def _stream(store: Store, sql: str, params: tuple, batch: int, timeout: Optional[float]) -> Iterator[str]:
    conn = store.conn
    with time_limit(conn, timeout):
        cur = conn.execute(sql, params)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            for (line,) in rows:
                yield line


def value_names(store: Store, project: str, *, where: str = "", params: tuple = (),
                timeout: Optional[float] = None) -> tuple[list[str], list[str]]:
    """The score names and the metric names of a project's spans (of those ``where`` keeps,
    as in ``iter_export_lines``), sorted: the CSV export's ``scores.NAME``/``metrics.NAME``
    columns. One pass over the spans inside SQLite."""
    pid = project_id(store, project, create=False)
    cond = f"s.project_id = ?{len(params) + 1}" + (f" AND ({where})" if where else "")
    sql = (f"SELECT DISTINCT 's', j.key FROM spans s, json_each(s.scores) j WHERE {cond} AND s.scores <> '{{}}'"
           f" UNION SELECT DISTINCT 'm', j.key FROM spans s, json_each(s.metrics) j WHERE {cond} AND s.metrics <> '{{}}'")
    with time_limit(store.conn, timeout):
        found = store.conn.execute(sql, (*params, pid)).fetchall()
    return sorted(k for t, k in found if t == "s"), sorted(k for t, k in found if t == "m")


def count_spans(store: Store, project: str) -> int:
    pid = project_id(store, project, create=False)
    return store.conn.execute("SELECT count(*) FROM spans WHERE project_id = ?", (pid,)).fetchone()[0]


def get_span(store: Store, project: str, row_id: str) -> dict:
    """One whole span row, comments included."""
    pid = project_id(store, project, create=False)
    row = store.conn.execute(
        f"SELECT {EXPORT_LINE} FROM spans s WHERE s.project_id = ? AND s.id = ?", (pid, row_id)
    ).fetchone()
    if not row:
        raise NotFound(f"no row with id {row_id!r} in project {project!r}")
    return orjson.loads(row[0])


# --- writers ------------------------------------------------------------------------------------


def write_jsonl(lines: Iterable[str], out: IO[str], progress: Optional[Callable[[int], None]] = None) -> int:
    n = 0
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        n += 1
        if len(buf) >= 2000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
            if progress:
                progress(2000)
    if buf:
        out.write("\n".join(buf) + "\n")
        if progress:
            progress(len(buf))
    return n


def write_csv(lines: Iterable[str], out: IO[str], progress: Optional[Callable[[int], None]] = None, *,
              score_names: Iterable[str] = (), metric_names: Iterable[str] = ()) -> int:
    """CSV with the span keys as columns (nested values as JSON text, strings as themselves),
    then one column per score (``scores.NAME``) and per metric (``metrics.NAME``) named."""
    scores, metrics = list(score_names), list(metric_names)
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*SPAN_KEYS, *(f"scores.{n}" for n in scores), *(f"metrics.{n}" for n in metrics)])
    n = 0
    for line in lines:
        d = orjson.loads(line)
        w.writerow([*(_cell(d[k]) for k in SPAN_KEYS), *(_cell(d["scores"].get(k)) for k in scores),
                    *(_cell(d["metrics"].get(k)) for k in metrics)])
        n += 1
        if progress and n % 2000 == 0:
            progress(2000)
    if progress:
        progress(n % 2000)
    return n


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return orjson.dumps(v).decode()


def write_export(lines: Iterable[str], out: IO[str], *, fmt: str = "jsonl",
                 progress: Optional[Callable[[int], None]] = None,
                 score_names: Iterable[str] = (), metric_names: Iterable[str] = ()) -> int:
    """Write export lines as ``fmt`` (jsonl or csv; csv adds the named score and metric
    columns, see ``value_names``); returns how many spans."""
    if fmt == "jsonl":
        return write_jsonl(lines, out, progress)
    if fmt == "csv":
        return write_csv(lines, out, progress, score_names=score_names, metric_names=metric_names)
    raise InputError(f"unknown export format {fmt!r} (expected jsonl or csv)")
