"""`bt-tui query`: a full query (SQL form or BTQL clauses) as a table, JSONL or CSV."""

from __future__ import annotations

import os
import sys

import typer

from .common import UsageError, app, check_timeout, note, note_hints, open_store, state, user_errors

DEFAULT_TIMEOUT = 30.0


@app.command()
def query(
    text: str = typer.Argument(..., help="A full query (SQL form or BTQL clauses) or a filter expression."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | jsonl | csv"),
    timeout: float = typer.Option(DEFAULT_TIMEOUT, "--timeout", metavar="SECONDS",
                                  help="Stop the query after SECONDS (exit 2); 0: no limit."),
) -> None:
    """Run a query: SELECT ... FROM project_logs('p') WHERE ... GROUP BY ... ORDER BY ... LIMIT n,
    or BTQL clauses (select:, from:, filter:, dimensions:, measures:, sort:, limit:) separated
    by newlines or |. Opens the database read-only."""
    import orjson

    from store.query.runner import run_query

    with user_errors():
        if fmt not in ("table", "jsonl", "csv"):
            raise UsageError(f"unknown format {fmt!r} (expected table, jsonl or csv)")
        limit = check_timeout(timeout)
        store = open_store(readonly=True)
        res = run_query(store, text, state.project, timeout=limit)
        if fmt == "jsonl":
            out = sys.stdout
            for row in res.rows:
                out.write(orjson.dumps(dict(zip(res.columns, row)), default=str).decode() + "\n")
        elif fmt == "csv":
            import csv

            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow(res.columns)
            for row in res.rows:
                w.writerow(["" if v is None else v if isinstance(v, str) else orjson.dumps(v).decode() for v in row])
        else:
            _print_table(res)
        sys.stdout.flush()  # inside user_errors: a reader that went away (| head) is fine
        if res.truncated:
            note(f"showing the first {len(res.rows)} rows; add a LIMIT to see more or fewer")
        note_hints(store, text)


def _print_table(res) -> None:
    """A table sized to the terminal: other columns give way (cut with an ellipsis), id
    columns never do, so an id can be pasted into `bt-tui feedback` (when they alone are
    wider than the terminal, the table is printed wider and the terminal wraps it)."""
    import orjson
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    ids = getattr(res, "id_columns", frozenset())
    rows = [[_cell(v, orjson) for v in row] for row in res.rows]
    widths = column_widths(res.columns, rows, ids, console.width)
    total = sum(widths) + 3 * len(widths) + 1
    if total > console.width:  # the ids alone do not fit: a wrapped line can be copied, a cut id not
        console = Console(soft_wrap=False, width=total)

    def reader_went_away() -> None:  # `bt-tui query ... | head`: fine, exit 0 (Rich's default: 1)
        os._exit(0)

    console.on_broken_pipe = reader_went_away  # type: ignore[method-assign]
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False)
    for i, (c, w) in enumerate(zip(res.columns, widths)):
        table.add_column(str(c), width=w, no_wrap=True, overflow="fold" if i in ids else "ellipsis")
    for cells in rows:
        table.add_row(*cells)
    console.print(table)
    console.print(f"{len(res.rows)} row{'s' if len(res.rows) != 1 else ''}", style="dim")


def _cell(v, orjson) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int):
        return str(v)
    return orjson.dumps(v, default=str).decode()


MAX_CELL = 60  # a column other than an id is cut to this many characters at most
MIN_CELL = 4


def column_widths(columns: list, rows: list[list[str]], ids, width: int) -> list[int]:
    """Each column's width: id columns their longest value (never cut); the others share what
    is left of ``width`` (less the table's borders and padding: 3 a column, plus 1), each up
    to its longest value (at most MAX_CELL), narrow ones first."""
    natural = [max([len(str(c))] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    out = [natural[i] if i in ids else 0 for i in range(len(columns))]
    others = sorted((i for i in range(len(columns)) if i not in ids), key=lambda i: natural[i])
    left = width - (3 * len(columns) + 1) - sum(out)
    for n, i in enumerate(others):
        share = max(MIN_CELL, left // (len(others) - n))
        out[i] = min(natural[i], MAX_CELL, share)
        left -= out[i]
    return out
