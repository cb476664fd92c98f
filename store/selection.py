"""Typed selections of a project's rows: what the TUI's counts, exports and batch actions act on.

A thin stand-in over today's store functions, with the API the store split provides (it
replaces this module when the branches meet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from .db import Store
from .query import LogsQuery, filter_where, iter_filtered_rows, matching_ids
from .spans import _ro_project_id, iter_export_lines, iter_row_lines, iter_trace_lines, retag


@dataclass(frozen=True)
class Selection:
    project: str
    filter: str = ""  # filter text; "" = everything
    shape: str = "traces"  # "traces" (a row stands for its whole trace) | "spans"
    ids: Optional[tuple[str, ...]] = None  # explicit row ids; None = all matching the filter
    strict: bool = False  # filter-bar rules when False (plain words = full-text search)


def _in_chunks(store: Store, sel: Selection, sql: str, keys: list[str]) -> Iterator[str]:
    """``sql`` (with ``{marks}``) over ``keys`` 500 at a time; the first column of each row."""
    pid = _ro_project_id(store, sel.project)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        marks = ", ".join("?" for _ in chunk)
        for (value,) in store.conn.execute(sql.format(marks=marks), (pid, *chunk)):
            yield value


def _roots(store: Store, sel: Selection) -> list[str]:
    """root_span_ids of the traces the selected rows belong to."""
    return sorted(set(_in_chunks(store, sel, "SELECT root_span_id FROM spans WHERE project_id = ? AND id IN ({marks})",
                                 list(dict.fromkeys(sel.ids or ())))))


def _strict_where(store: Store, sel: Selection) -> tuple[str, list]:
    if not sel.filter.strip():
        return "", []
    return filter_where(store, sel.project, sel.filter, traces=sel.shape == "traces")


def count_selection(store: Store, sel: Selection) -> int:
    if sel.ids is not None:
        return len(_roots(store, sel)) if sel.shape == "traces" else len(set(sel.ids))
    if sel.strict:
        if sel.shape == "traces":
            return len({r[3] for r in _strict_rows(store, sel)})
        return sum(1 for _ in _strict_rows(store, sel))
    return LogsQuery(store, sel.project, sel.filter, shape=sel.shape).count()


def _strict_rows(store: Store, sel: Selection) -> Iterator[tuple]:
    where, params = _strict_where(store, sel)
    return iter_filtered_rows(store, sel.project, where, params)


def selection_row_ids(store: Store, sel: Selection) -> Iterator[str]:
    """Every span row id the selection covers (traces: every span of each trace)."""
    if sel.ids is not None:
        if sel.shape == "spans":
            yield from dict.fromkeys(sel.ids)
            return
        yield from _in_chunks(store, sel, "SELECT id FROM spans WHERE project_id = ? AND root_span_id IN ({marks})",
                              _roots(store, sel))
        return
    if sel.strict:
        for r in _strict_rows(store, sel):
            yield r[1]
        return
    yield from matching_ids(store, sel.project, sel.filter, sel.shape)


def export_selection(store: Store, sel: Selection) -> Iterator[str]:
    """The selection's spans as JSONL lines (no newline), in created order."""
    if sel.ids is not None:
        if sel.shape == "traces":
            yield from iter_trace_lines(store, sel.project, _roots(store, sel))
        else:
            yield from iter_row_lines(store, sel.project, list(sel.ids))
        return
    if sel.strict:
        where, params = _strict_where(store, sel)
    else:
        where, params = LogsQuery(store, sel.project, sel.filter, shape=sel.shape).export_where()
    yield from iter_export_lines(store, sel.project, where=where, params=tuple(params), order="s.created, s.rid")


def retag_selection(store: Store, sel: Selection, *, add=(), remove=(), author: str) -> int:
    """Add and/or remove tags on every row the selection covers; how many rows changed."""
    return retag(store, sel.project, selection_row_ids(store, sel), add=add, remove=remove, author=author)
