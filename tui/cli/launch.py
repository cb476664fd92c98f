"""`bt-tui` with no command (launch the TUI on the Logs screen) and `bt-tui demo`. Textual is
imported only when the TUI launches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from .common import UsageError, app, fail, note, open_store, progress_bar, state, user_errors


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(None, "--db", help="Database file (default: $BT_TUI_DB, else a file in the user data directory)."),
    project: str = typer.Option("default", "--project", "-p", envvar="BT_TUI_PROJECT", help="Project name."),
) -> None:
    """Launch the TUI when no command is given."""
    state.db = db
    state.project = project
    if not project.strip():
        raise fail("--project: the project name is empty", 2)
    if ctx.invoked_subcommand is None:
        from store.connection import discard_if_unused
        from store.paths import resolve_db_path

        path = resolve_db_path(state.db)
        existed = path.exists()
        if existed:
            with user_errors():  # not ours, damaged, newer: refused (exit 2) before the TUI starts
                open_store().close()
        try:
            launch_tui(str(path), project)
        finally:
            if not existed:  # `bt-tui --db typo.db` and quit: no new empty file left behind
                discard_if_unused(path)


def launch_tui(db_path: str, project: str) -> None:
    from tui.app import run_app  # Textual is imported only here

    run_app(db_path, project)


def sample_file() -> Path:
    from importlib.resources import files

    return Path(str(files("sample_data") / "support_traces.jsonl"))


@app.command()
def demo(
    launch: bool = typer.Option(True, "--launch/--no-launch", help="Open the TUI after seeding."),
) -> None:
    """Seed a demo database from sample_data/ (logs, two datasets, score configurations and a review queue, prompts and a playground, two experiments to compare, once) and launch the TUI on it."""
    from sample_data.demo_datasets import describe, seed_demo_datasets
    from sample_data.demo_experiments import describe as describe_experiments, seed_demo_experiments
    from sample_data.demo_prompts import describe as describe_prompts, seed_demo_prompts
    from sample_data.demo_review import describe as describe_review, seed_demo_review
    from store import Store
    from store.jsonl import import_jsonl
    from store.paths import demo_db_path
    from store.projects import list_projects

    with user_errors():
        path = Path(state.db) if state.db else (Path(os.environ["BT_TUI_DB"]) if os.environ.get("BT_TUI_DB") else demo_db_path())
        store = Store(path)
        existing = {p.name: p.spans for p in list_projects(store)}
        if not existing.get(state.project):
            src = sample_file()
            if not src.exists():
                raise UsageError(f"{src}: demo data is missing from this installation")
            with open(src, "rb") as f, progress_bar("seeding demo", src.stat().st_size) as adv:
                res = import_jsonl(store, state.project, f, label=str(src), progress=adv)
            note(f"seeded {res.imported} demo spans into {path} (project {state.project!r})")
        else:
            note(f"demo database {path} already has {existing[state.project]} spans in {state.project!r}")
        made = seed_demo_datasets(store, state.project)
        if made:
            note(f"added demo datasets {describe(store, state.project, made)}")
        if seed_demo_review(store, state.project):
            note(f"added demo review: {describe_review(store, state.project)}")
        if seed_demo_prompts(store, state.project):
            note(f"added demo {describe_prompts(store, state.project)}")
        if seed_demo_experiments(store, state.project):
            note(f"added demo {describe_experiments(store, state.project)}")
        store.close()
    if launch:
        launch_tui(str(path), state.project)
