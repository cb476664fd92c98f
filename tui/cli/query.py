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
    import orjson
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)

    def reader_went_away() -> None:  # `bt-tui query ... | head`: fine, exit 0 (Rich's default: 1)
        os._exit(0)

    console.on_broken_pipe = reader_went_away  # type: ignore[method-assign]
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False)
    for c in res.columns:
        table.add_column(str(c), overflow="ellipsis", max_width=60, no_wrap=True)
    for row in res.rows:
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif isinstance(v, str):
                cells.append(v)
            elif isinstance(v, float):
                cells.append(f"{v:.4g}")
            else:
                cells.append(orjson.dumps(v).decode() if not isinstance(v, (int,)) else str(v))
        table.add_row(*cells)
    console.print(table)
    console.print(f"{len(res.rows)} row{'s' if len(res.rows) != 1 else ''}", style="dim")
