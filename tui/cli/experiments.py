"""`bt-tui experiment ...` and `bt-tui export experiment`: the project's experiments from the
command line (DESIGN.md section 4; the store is store/experiments.py, the arithmetic of a
comparison store/compare.py).

- ``experiment list`` (jsonl: ``{name, created, dataset, dataset_version, rows, scores: {name:
  avg}}``, then ``prompt, model, errors, status, author``), oldest first;
- ``experiment compare BASE CANDIDATE`` (jsonl, one line per score: ``{score, base, candidate,
  diff, improvements, regressions}``, then ``matched, interval, significant``); with ``--rows``
  the matched rows instead;
- ``experiment show NAME``: the info, and the comparison against its previous experiment;
- ``export experiment NAME``: every span of every row, exactly as ``export logs`` writes them.

An unknown experiment is bad input: exit 2 with one line naming it and the names that exist.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from .common import (
    FORMAT_HELP,
    UsageError,
    app,
    check_format,
    export_app,
    note,
    open_store,
    print_jsonl,
    print_rows,
    state,
    table_ts,
    terminable,
    user_errors,
)

experiment_app = typer.Typer(help="Experiments: list, compare, show (export: `bt-tui export experiment`).",
                             no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")

BOOTSTRAP_RESAMPLES = 1000  # store.compare.BOOTSTRAP_RESAMPLES (tests check they agree); not imported: fast --help
ROWS = ("all", "regressed", "improved", "changed")
CELL = 200  # a table cell's text is cut to this many characters before the table sizes it

SIGNIFICANCE_HELP = (
    "Significance: for each score, a 95% paired bootstrap confidence interval of the mean per-row "
    f"difference (candidate - base) over the rows matched in both experiments ({BOOTSTRAP_RESAMPLES:,} "
    "resamples of the matched rows, percentile interval, a fixed seed: the same data gives the same "
    "interval). 'real' when the interval excludes 0; 'could be noise' when it contains 0; '-' with "
    "fewer than 2 matched rows."
)


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


# --- finding an experiment ----------------------------------------------------------------------

def unknown_experiment(names: list[str], name: str, project: str) -> str:
    """One line: the name that is not there, and the ones that are (a close match first)."""
    import difflib

    if not names:
        return f"no experiment named {name!r} in project {project!r} (it has none yet: `bt-tui run` or `bt-tui eval` makes one)"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5) or [n for n in names if n.lower() == name.lower()]
    ordered = close + [n for n in reversed(names) if n not in close]  # then the newest first
    shown = ", ".join(repr(n) for n in ordered[:8]) + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")
    did = f"; did you mean {close[0]!r}?" if close else ""
    return f"no experiment named {name!r} in project {project!r}{did} (experiments: {shown})"


def find_experiment(store, name: str):
    """The ExperimentInfo of ``name`` in the --project project, or UsageError (exit 2)."""
    from store.errors import NotFound
    from store.experiments import get_experiment, list_experiments, projects_with_experiment

    try:
        return get_experiment(store, state.project, name)
    except NotFound:
        elsewhere = projects_with_experiment(store, name)
        if elsewhere:  # e.g. an Eval's experiments live in the project named after the Eval
            import shlex

            raise UsageError(f"no experiment named {name!r} in project {state.project!r}; project "
                             f"{elsewhere[0]!r} has one: `bt-tui -p {shlex.quote(elsewhere[0])} ...`") from None
        raise UsageError(unknown_experiment([e.name for e in list_experiments(store, state.project)], name,
                                            state.project)) from None


# --- formatting -----------------------------------------------------------------------------------

def pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{v * 100:.2f}%"


def signed_pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{v * 100:+.2f}%"


def interval_text(sc) -> str:
    return "-" if sc.low is None else f"[{signed_pct(sc.low)}, {signed_pct(sc.high)}]"


def verdict(sc) -> str:
    return {True: "real", False: "could be noise"}.get(sc.significant, "-")


def _text(v) -> str:
    """A value as one line of a table cell (strings as themselves), cut to CELL characters."""
    if v is None:
        return ""
    if not isinstance(v, str):
        import orjson

        v = orjson.dumps(v, default=str).decode()
    v = " ".join(v.split())
    return v if len(v) <= CELL else v[:CELL - 1] + "…"


def aligned(headers: list, rows: list) -> str:
    """A small table as plain aligned text, never cut (a comparison has a few scores)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


SCORE_COLUMNS = ["score", "base", "candidate", "diff", "interval (95%)", "improvements", "regressions", "verdict"]


def score_table(comp) -> str:
    rows = [[sc.score, pct(sc.base), pct(sc.candidate), signed_pct(sc.diff), interval_text(sc), sc.improvements,
             sc.regressions, verdict(sc)] for sc in comp.scores]
    return aligned(SCORE_COLUMNS, rows) if rows else "no scores in either experiment"


def unmatched_line(comp) -> str:
    b, c = comp.base.name, comp.candidate.name
    line = (f"{comp.matched} row{'s' if comp.matched != 1 else ''} matched by {comp.key}; "
            f"{comp.only_base} only in {b!r}, {comp.only_candidate} only in {c!r}")
    if comp.matched == 0 and comp.only_base and comp.only_candidate and comp.key != "input":
        line += (f" (no row matched: does {comp.key} name a field both experiments' rows have? "
                 "--key input matches by input)")
    return line


def _side_json(side) -> Optional[dict]:
    if side is None:
        return None
    return {"ids": side.ids, "output": side.output, "error": side.error, "scores": side.scores,
            "trials": side.trials, "spread": {k: list(v) for k, v in side.spread.items()}}


def row_json(comp, r) -> dict:
    import orjson

    try:
        key = orjson.loads(r.key)
    except orjson.JSONDecodeError:
        key = r.key
    deltas = {n: d for n in comp.score_names() if (d := r.delta(n)) is not None}
    return {"key": key, "input": r.input, "expected": r.expected, "base": _side_json(r.base),
            "candidate": _side_json(r.candidate), "deltas": deltas}


def _keep(r, which: str, score: Optional[str]) -> bool:
    if which == "all":
        return True
    if which == "regressed":
        return r.regressed(score)
    if which == "improved":
        return r.improved(score)
    return r.regressed(score) or r.improved(score)  # changed


# --- compare --------------------------------------------------------------------------------------

@experiment_app.command("compare", help=(
    "Compare CANDIDATE against BASE: per score each experiment's average, the difference, how many "
    "matched rows improved and regressed, a 95% interval of the difference and whether it is real or "
    "could be noise; then how many rows are only in one of them. Rows are matched by input (or --key); "
    "several rows with one key are trials, averaged. With --rows, the matched rows instead (jsonl: "
    "{key, input, expected, base: {ids, output, error, scores, trials, spread}, candidate: {...}, "
    "deltas: {score: candidate - base}}). " + SIGNIFICANCE_HELP))
def compare_cmd(
    base: str = typer.Argument(..., help="The experiment compared against (the old one)."),
    candidate: str = typer.Argument(..., help="The experiment being judged (the new one)."),
    key: str = typer.Option("input", "--key", "-k",
                            help="What matches rows: input (default), expected, metadata, or a dotted path "
                                 "in one of them (metadata.record_id, input.question)."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
    rows: Optional[str] = typer.Option(None, "--rows",
                                       help="Print rows instead of scores: all | regressed | improved | changed "
                                            "(a score went up or down)."),
    score: Optional[str] = typer.Option(None, "--score", "-s",
                                        help="With --rows regressed|improved|changed: on this score only."),
) -> None:
    from store.compare import compare_experiments

    with user_errors():
        check_format(fmt)
        if rows is not None and rows not in ROWS:
            raise UsageError(f"--rows {rows!r}: expected {', '.join(ROWS)}")
        if score is not None and rows is None:
            raise UsageError("--score goes with --rows")
        store = open_store(readonly=True)
        b, c = find_experiment(store, base), find_experiment(store, candidate)
        comp = compare_experiments(store, state.project, b, c, key=key, intervals=rows is None)
        if score is not None and score not in comp.score_names():
            raise UsageError(f"--score {score!r}: neither experiment has it (scores: "
                             f"{', '.join(comp.score_names()) or 'none'})")
        if rows is not None:
            _print_rows(comp, rows, score, fmt)
            return
        if fmt == "jsonl":
            print_jsonl(sc.to_json() for sc in comp.scores)
            if comp.only_base or comp.only_candidate:
                note(f"note: {unmatched_line(comp)}")
            return
        print(score_table(comp))
        print(unmatched_line(comp))
        sys.stdout.flush()


def _print_rows(comp, which: str, score: Optional[str], fmt: str) -> None:
    kept = [r for r in comp.rows if _keep(r, which, score)]
    if fmt == "jsonl":
        print_jsonl(row_json(comp, r) for r in kept)
        return
    names = [score] if score else comp.score_names()
    table = []
    for r in kept:
        deltas = [f"{n} {signed_pct(d)}" for n in names if (d := r.delta(n)) is not None and d != 0]
        if r.base is None or r.candidate is None:
            deltas = [f"only in {'candidate' if r.base is None else 'base'}"]
        table.append([_text(r.input), _text(r.base.output if r.base else None),
                      _text(r.candidate.output if r.candidate else None), ", ".join(deltas) or "="])
    # The deltas are what a reader scans for: never cut while the other columns keep 12 characters.
    import shutil

    widest = max((len(r[3]) for r in table), default=0)
    keep = widest + 3 * 12 + 3 * 4 + 1 <= shutil.get_terminal_size().columns
    print_rows(["input", "base output", "candidate output", "deltas"], table, ids=(3,) if keep else ())


# --- show -----------------------------------------------------------------------------------------

@experiment_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="The experiment."),
    base: Optional[str] = typer.Option(None, "--base", help="Compare with this experiment (default: its previous "
                                                            "experiment on the same data)."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """One experiment: what it ran (dataset and version, prompt, model, params), rows, errors, each
    score's average, and the comparison against its base (the previous experiment of the project
    on the same data, else --base). jsonl: one line, `experiment list`'s keys, then params,
    metadata, base (a name or null) and compare (`experiment compare`'s lines, or null)."""
    from store.compare import compare_experiments, previous_experiment

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        exp = find_experiment(store, name)
        b = find_experiment(store, base) if base else previous_experiment(store, state.project, exp)
        comp = compare_experiments(store, state.project, b, exp) if b is not None else None
        if fmt == "jsonl":
            print_jsonl([{**exp.to_json(), "params": exp.params, "metadata": exp.metadata,
                          "base": b.name if b else None,
                          "compare": [sc.to_json() for sc in comp.scores] if comp else None}])
            return
        dataset = f"{exp.dataset}@{exp.dataset_version}" if exp.dataset else "inline data"
        facts = [["name", exp.name], ["created", table_ts(exp.created)], ["author", exp.author],
                 ["dataset", dataset], ["prompt", exp.prompt or "-"], ["model", exp.model or "-"],
                 ["params", _text(exp.params) if exp.params else "-"], ["status", exp.status],
                 ["rows", exp.rows], ["errors", exp.errors]]
        facts += [[f"scores.{k}", pct(v)] for k, v in exp.scores.items()]
        width = max(len(k) for k, _ in facts)
        print("\n".join(f"{k.ljust(width)}  {v}" for k, v in facts))
        print()
        if comp is None:
            print("no base: no earlier experiment on the same data (compare with one: --base NAME)")
        else:
            print(f"compared with {b.name!r} (base):")
            print(score_table(comp))
            print(unmatched_line(comp))
        sys.stdout.flush()


# --- export ---------------------------------------------------------------------------------------

@export_app.command("experiment")
def export_experiment_cmd(
    name: str = typer.Argument(..., help="The experiment."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl | csv"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
) -> None:
    """Export an experiment: every span of every row (eval root, task, LLM and score spans) in the
    span row shape, in insertion order, exactly as `export logs` writes spans. The jsonl can be
    imported as logs (`bt-tui import logs`)."""
    from .logs import _export

    with user_errors(), terminable():
        if fmt not in ("jsonl", "csv"):
            raise UsageError(f"unknown format {fmt!r} (expected jsonl or csv)")
        store = open_store(readonly=True)
        exp = find_experiment(store, name)
        _export(fmt, output, None, False, None, store=store, project=exp.rows_project)
