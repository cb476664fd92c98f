"""`bt-tui experiment ...`: the project's experiments from the command line (DESIGN.md section 4;
the store is store/experiments.py). ``experiment list`` (jsonl: ``{name, created, dataset,
dataset_version, rows, scores: {name: avg}}``, then ``prompt, model, errors, status, author``),
oldest first. Experiments come from ``bt-tui run`` and the playground's "save as experiments".
"""

from __future__ import annotations

import typer

from .common import FORMAT_HELP, app, check_format, open_store, print_jsonl, print_rows, state, table_ts, user_errors

experiment_app = typer.Typer(help="Experiments: list.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("list")
def list_cmd(fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP)) -> None:
    """The project's experiments, oldest first: dataset and version, rows, each score's average."""
    from store.experiments import list_experiments
    from store.paths import resolve_db_path

    with user_errors():
        check_format(fmt)
        exps = list_experiments(open_store(readonly=True), state.project) if resolve_db_path(state.db).exists() else []
        if fmt == "jsonl":
            print_jsonl(e.to_json() for e in exps)
            return
        rows = []
        for e in exps:
            scores = ", ".join(f"{k} {v * 100:.2f}%" for k, v in e.scores.items())
            dataset = f"{e.dataset}@{e.dataset_version}" if e.dataset else "-"
            rows.append([e.name, table_ts(e.created), dataset, e.prompt or "-", e.model or "-", e.rows, e.errors,
                         scores or "-", e.status])
        print_rows(["name", "created", "dataset", "prompt", "model", "rows", "errors", "scores", "status"], rows)
