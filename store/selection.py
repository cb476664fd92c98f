"""Selections: which logged rows an action covers, as typed values (no SQL text leaves the
store). The TUI's batch actions, its counts and `bt-tui export logs --filter` take one.

A selection is a project plus either explicit row ids (marked rows, the current row) or a
filter (every row it matches), in one of two shapes: ``spans`` (a row is itself) or
``traces`` (a row stands for its whole trace). With ``ids`` the filter is not applied.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from .connection import Store
from .errors import NotFound
from .export import iter_export_lines, value_names
from .feedback import retag
from .jsontext import dumps_text
from .projects import project_id
from .query.compiler import Compiler, sql_error
from .query.filterbar import Filter, expression_filter, filter_sql, interpret

SHAPES = ("traces", "spans")


@dataclass(frozen=True)
class Selection:
    project: str
    filter: str = ""  # filter text; "" = everything
    shape: str = "traces"  # "traces" (a row stands for its whole trace) | "spans"
    ids: Optional[tuple[str, ...]] = None  # explicit row ids; None = all matching the filter
    strict: bool = False  # True: the filter must be an expression; False: filter-bar rules

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}")


@dataclass
class _Compiled:
    """A selection as a condition over ``spans s`` (besides ``s.project_id``) that covers
    every span of it: the selected rows (spans) or every span of the selected traces."""

    pid: int
    where: str
    params: list

    def sql(self, select: str) -> tuple[str, list]:
        """``SELECT select FROM spans s`` limited to the selection, and its parameters."""
        params = [*self.params, self.pid]
        return f"SELECT {select} FROM spans s WHERE s.project_id = ?{len(params)} AND ({self.where})", params


def _filter(sel: Selection) -> Filter:
    return expression_filter(sel.filter) if sel.strict else interpret(sel.filter)


def _ids_json(ids: Iterable[str]) -> str:
    return dumps_text(list(ids))


def _compile(store: Store, sel: Selection) -> _Compiled:
    """Resolve the project (``NotFound``) and compile the filter (``QueryError``), now: a bad
    selection fails before any output is written."""
    pid = project_id(store, sel.project, create=False)
    c = Compiler(sel.filter, pid)
    if sel.ids is not None:
        ids = c.p(_ids_json(sel.ids))
        if sel.shape == "spans":
            where = f"s.id IN (SELECT value FROM json_each({ids}))"
        else:  # any row of a trace stands for the trace
            where = (f"s.root_span_id IN (SELECT t.root_span_id FROM spans t WHERE t.project_id = {c.p(pid)}"
                     f" AND t.id IN (SELECT value FROM json_each({ids})))")
        return _Compiled(pid, where, c.params)
    flt = _filter(sel)
    if sel.shape == "spans" or flt.mode == "all":
        where = filter_sql(c, flt, "s")
    else:
        inner = filter_sql(c, flt, "s2")
        where = f"s.root_span_id IN (SELECT s2.root_span_id FROM spans s2 WHERE s2.project_id = {c.p(pid)} AND {inner})"
    try:  # let SQLite's parser see it now, so its limits surface as a QueryError, not mid-export
        store.conn.execute(f"EXPLAIN SELECT 1 FROM spans s WHERE {where}", c.params).fetchone()
    except sqlite3.OperationalError as exc:
        raise sql_error(exc, sel.filter) from None
    return _Compiled(pid, where, c.params)


def count_selection(store: Store, sel: Selection) -> int:
    """How many rows (spans shape) or traces (traces shape) the selection has; 0 when the
    project does not exist."""
    try:
        pid = project_id(store, sel.project, create=False)
    except NotFound:
        return 0
    c = Compiler(sel.filter, pid)
    p = c.p(pid)
    what = "count(*)" if sel.shape == "spans" else "count(DISTINCT s.root_span_id)"
    if sel.ids is not None:
        sql = f"SELECT {what} FROM spans s WHERE s.project_id = {p} AND s.id IN (SELECT value FROM json_each({c.p(_ids_json(sel.ids))}))"
    else:
        flt = _filter(sel)
        if sel.shape == "traces" and flt.mode == "all":
            sql = f"SELECT count(*) FROM spans s WHERE s.project_id = {p} AND s.is_root = 1"  # roots: 1 per trace
        else:
            sql = f"SELECT {what} FROM spans s WHERE s.project_id = {p} AND {filter_sql(c, flt, 's')}"
    try:
        return store.conn.execute(sql, c.params).fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise sql_error(exc, sel.filter) from None


def selection_row_ids(store: Store, sel: Selection, batch: int = 5000) -> Iterator[str]:
    """Row ids of every span the selection covers (traces: every span of each trace),
    streamed, never all in memory at once. A bad selection raises here, not when iterated."""
    sql, params = _compile(store, sel).sql("s.id")
    cur = store.conn.execute(sql, params)
    return (row_id for rows in iter(lambda: cur.fetchmany(batch), []) for (row_id,) in rows)


def export_selection(store: Store, sel: Selection, *, timeout: Optional[float] = None) -> Iterator[str]:
    """Finished JSONL lines (no newline) of every span the selection covers (traces: every
    span of each selected trace), in created order. A bad selection raises here, not when
    iterated. ``timeout`` (seconds): the stream stops with ``QueryTimeout`` past it."""
    comp = _compile(store, sel)
    return iter_export_lines(store, sel.project, where=comp.where, params=tuple(comp.params),
                             order="s.created, s.rid", timeout=timeout)


def selection_value_names(store: Store, sel: Selection, *, timeout: Optional[float] = None
                          ) -> tuple[list[str], list[str]]:
    """The score and metric names of the spans ``export_selection`` gives (sorted)."""
    comp = _compile(store, sel)
    return value_names(store, sel.project, where=comp.where, params=tuple(comp.params), timeout=timeout)


def selection_root_ids(store: Store, sel: Selection, batch: int = 5000) -> Iterator[str]:
    """Row ids of the root span of each trace the selection covers (a trace whose root is
    not stored has none), streamed. A bad selection raises here, not when iterated."""
    sql, params = _compile(store, sel).sql("s.id")
    cur = store.conn.execute(sql + " AND s.is_root = 1", params)
    return (row_id for rows in iter(lambda: cur.fetchmany(batch), []) for (row_id,) in rows)


def retag_selection(store: Store, sel: Selection, *, add: Iterable[str] = (), remove: Iterable[str] = (),
                    author: str) -> int:
    """Add and/or remove tags, audited per row. Spans shape: on every selected span; returns
    how many spans changed. Traces shape: on each selected trace's root span only (as tagging
    one trace does: a trace's tags are its root's); returns how many traces changed."""
    ids = selection_root_ids(store, sel) if sel.shape == "traces" else selection_row_ids(store, sel)
    return retag(store, sel.project, ids, add=add, remove=remove, author=author)
