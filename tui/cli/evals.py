"""`bt-tui eval FILE.py|DIR...`: run the Evals of Braintrust-style eval files (DESIGN.md section 4;
the runner is engine/evals.py, the public API bt_tui/evals.py).

Each file is imported (a DIR: its ``eval_*.py`` files) and every ``Eval(...)`` in it is run and
stored as an experiment of its project (the Eval's ``project=``, else its name; an explicit
``--project`` wins). A progress bar per Eval on a terminal, quiet when piped; then Braintrust's
summary (``77.78% 'Levenshtein' score``) against the base (``--base``, the Eval's
``base_experiment``, else the previous experiment of the project on the same data), and bt-tui's
lines: for each score whether the change is real or could be noise (a 95% paired bootstrap
interval of the per-row difference over the rows matched by input), errors, how to open it.
``--jsonl``: one JSON line per Eval instead.

Exit codes: 0; 1 when a gate fails (``--fail-under SCORE=VALUE``, ``--no-regressions``), a task
raised on some row (every row is still run and stored), or the run was interrupted (ctrl+c: the
experiment is marked cancelled, what finished is kept); 2 for bad usage (an unknown file, a file
that fails to import: one line with file:line, a bad SCORE=VALUE, a gate naming an unknown score).
"""

from __future__ import annotations

import asyncio
import sys
from typing import List, Optional

import typer

from .common import UsageError, app, fail, note, open_store, progress_wanted, state, stop_on_signals, user_errors

GATE_HELP = ("Fail (exit 1) when the score's average is under VALUE (0.8 or 80%). Repeatable.")


def parse_gate(text: str) -> tuple[str, float]:
    """``SCORE=VALUE`` with VALUE in [0, 1] or a percentage (``80%``)."""
    name, sep, value = text.rpartition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise UsageError(f"--fail-under {text!r}: expected SCORE=VALUE (e.g. Levenshtein=0.8 or Levenshtein=80%)")
    try:
        v = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise UsageError(f"--fail-under {text!r}: {value!r} is not a number (0.8 or 80%)") from None
    if not 0 <= v <= 1:
        raise UsageError(f"--fail-under {text!r}: the threshold must be between 0 and 1 (or 0% and 100%)")
    return name, v


def _explicit_project(ctx: typer.Context) -> Optional[str]:
    """The global --project when the user gave it (on the command line or in $BT_TUI_PROJECT)."""
    parent = ctx.parent
    if parent is None:
        return None
    try:
        source = parent.get_parameter_source("project")
    except Exception:
        return None
    name = getattr(source, "name", "")
    return state.project if name in ("COMMANDLINE", "ENVIRONMENT") else None


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    paths: List[str] = typer.Argument(..., metavar="FILE.py|DIR...", help="Eval files, or directories of eval_*.py files."),
    name: Optional[str] = typer.Option(None, "--name", "-n", metavar="NAME",
                                       help="The experiment's name (NAME/EVAL when several Evals run; default: the"
                                            " Eval's experiment_name, else its name; a name in use gets ' #2')."),
    base: Optional[str] = typer.Option(None, "--base", metavar="EXPERIMENT",
                                       help="Compare with this experiment (default: the previous one on the same data)."),
    fail_under: List[str] = typer.Option([], "--fail-under", metavar="SCORE=VALUE", help=GATE_HELP),
    no_regressions: bool = typer.Option(False, "--no-regressions",
                                        help="Fail (exit 1) when any score regressed on any row matched with the base."),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON line per Eval instead of the summary text: {name,"
                                                      " experiment, base, rows, errors, scores, gates, passed}."),
    max_concurrency: Optional[int] = typer.Option(None, "--max-concurrency", "-c", metavar="N",
                                                  help="Rows (tasks) in flight at once (default: the Eval's, else 20)."),
    trials: Optional[int] = typer.Option(None, "--trials", metavar="N", help="Run each case N times (default: the"
                                                                             " Eval's trial_count)."),
    author: Optional[str] = typer.Option(None, "--author", help="Who ran it (default: $BT_TUI_USER, else the OS user)."),
) -> None:
    """Run Braintrust-style eval files and store each Eval as an experiment; print Braintrust's
    summary against the previous experiment (or --base), with whether each change is real or noise
    (a 95% paired bootstrap interval over the rows matched by input)."""
    from engine import evals as ev

    with user_errors():
        gates = dict(parse_gate(g) for g in fail_under)
        if max_concurrency is not None and max_concurrency < 1:
            raise UsageError(f"--max-concurrency {max_concurrency}: give 1 or more")
        if trials is not None and trials < 1:
            raise UsageError(f"--trials {trials}: give 1 or more")
        try:
            files = ev.eval_files(paths)
        except ev.EvalFileError as exc:
            raise UsageError(str(exc)) from None
        from store.paths import resolve_db_path

        db_path = str(resolve_db_path(state.db))
        ev.active_db = db_path
        project_override = _explicit_project(ctx)
        ev.active_project = project_override
        defs = []
        for f in files:
            try:
                found = ev.load_eval_file(f)
            except ev.EvalFileError as exc:
                raise UsageError(str(exc)) from None
            if not found:
                note(f"note: {f}: no Eval(...) in this file")
            defs.extend(found)
        if not defs:
            raise UsageError("no Eval(...) found in " + ", ".join(str(f) for f in files))
        try:  # a gate on a score no Eval gives: say so before anything runs
            ev.check_gate_names(defs, gates)
        except ev.GateError as exc:
            raise UsageError(str(exc)) from None
        store = open_store()
        _check_bases(store, defs, base, project_override)
        code = asyncio.run(_run_all(store, defs, name=name, base=base, gates=gates, no_regressions=no_regressions,
                                    jsonl=jsonl, max_concurrency=max_concurrency, trials=trials, author=author,
                                    project=project_override, db_path=db_path))
        if code:
            raise typer.Exit(code)


def _check_bases(store, defs, base: Optional[str], project: Optional[str]) -> None:
    """A base that is not there is bad usage, said before anything runs (not after a whole run)."""
    from store.errors import NotFound
    from store.experiments import get_experiment, list_experiments

    from .experiments import unknown_experiment

    for defn in defs:
        wanted = base or defn.base_experiment
        if not wanted:
            continue
        proj = project or defn.project_name
        try:
            get_experiment(store, proj, wanted)
        except NotFound:
            where = "--base" if base else f"{defn.name}: base_experiment"
            raise UsageError(f"{where}: " + unknown_experiment([e.name for e in list_experiments(store, proj)],
                                                               wanted, proj)) from None


async def _run_all(store, defs, *, name, base, gates, no_regressions, jsonl, max_concurrency, trials, author,
                   project, db_path) -> int:
    from engine import evals as ev

    cancel = asyncio.Event()
    code = 0
    labels = [d.experiment_name or d.name for d in defs]  # --name NAME with several Evals: NAME/LABEL
    with stop_on_signals(cancel.set, "the rows in flight"):
        for defn in defs:
            if cancel.is_set():
                break
            label = defn.experiment_name or defn.name
            exp_name = name if name is None or len(defs) == 1 else f"{name}/{label}"
            if exp_name is not None and labels.count(label) > 1 and len(defs) > 1:
                exp_name = f"{exp_name} #{labels[:defs.index(defn) + 1].count(label)}"
            proj = project or defn.project_name
            with _progress(defn.name) as progressed:
                result = await ev.run_eval(defn, store, project=proj, name=exp_name, max_concurrency=max_concurrency,
                                           trials=trials, on_progress=progressed, author=author, db_path=db_path,
                                           cancel=cancel)
            summary = ev.summarize(store, proj, result.experiment, eval_name=defn.name,
                                   base=base or defn.base_experiment, score_order=result.score_order,
                                   results=result.results)
            result.summary = summary
            try:
                ev.check_gates(summary, gates, no_regressions, strict=len(defs) == 1)
            except ev.GateError as exc:
                _print(summary, jsonl)
                raise UsageError(str(exc)) from None
            _print(summary, jsonl)
            if result.errors:
                note(f"Evaluator {defn.name} failed with {len(result.errors)} error"
                     f"{'s' if len(result.errors) != 1 else ''} (every row was run and stored)")
                code = 1
            for g in summary.gates:
                if not g.passed and g.message:
                    note(f"gate failed: {g.message}")
                    code = 1
            if result.timed_out:
                note(f"{defn.name}: timed out after {defn.timeout:g} s; the rows unfinished were cancelled")
                code = 1
    if cancel.is_set():
        raise fail("interrupted: the eval was cancelled; what finished is kept and the experiment is marked"
                   " cancelled", 1)
    return code


def _print(summary, jsonl: bool) -> None:
    if jsonl:
        from .common import print_jsonl

        print_jsonl([summary.to_json()])
        return
    sys.stdout.write(summary.text())
    sys.stdout.flush()


class _progress:
    """A progress bar per Eval (N/M rows) on a terminal; nothing when piped."""

    def __init__(self, label: str):
        self.label = label
        self._prog = None

    def __enter__(self):
        if not progress_wanted():
            return lambda done, total: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("rows"), TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self._prog.__enter__()
        task = self._prog.add_task(self.label, total=None)

        def progressed(done: int, total: int) -> None:
            self._prog.update(task, completed=done, total=total)

        return progressed

    def __exit__(self, *exc):
        if self._prog is not None:
            self._prog.__exit__(*exc)
        return False
