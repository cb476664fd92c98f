"""`bt-tui projects`: the projects with their span and trace counts."""

from __future__ import annotations

import sys

import typer

from .common import UsageError, app, note, open_store, user_errors


@app.command()
def projects(
    fmt: str = typer.Option("table", "--format", "-f", help="table | jsonl"),
) -> None:
    """List projects with their span and trace counts."""
    import orjson

    from store.projects import list_projects

    with user_errors():
        store = open_store(readonly=True)
        rows = list_projects(store)
        if fmt == "jsonl":
            for p in rows:
                sys.stdout.write(orjson.dumps(p.__dict__).decode() + "\n")
            return
        if fmt != "table":
            raise UsageError(f"unknown format {fmt!r} (expected table or jsonl)")
        if not rows:
            note("no projects yet: `bt-tui import logs FILE` creates one")
            return
        w = max(7, *(len(p.name) for p in rows))
        print(f"{'project':<{w}}  {'spans':>10}  {'traces':>10}  last span")
        for p in rows:
            print(f"{p.name:<{w}}  {p.spans:>10}  {p.traces:>10}  {p.last or '-'}")
