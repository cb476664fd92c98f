"""The `bt-tui` command line (Typer).

This module must stay light: it imports no Textual (only when the TUI launches) and no
litellm, so `bt-tui export ...` starts fast. Exit codes: 0 success, 2 bad usage or bad
input (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from store.errors import InputError, NotFound, QueryError, StoreError

app = typer.Typer(
    name="bt-tui",
    help="Keyboard-first terminal app over one SQLite file: LLM traces, filters, review, datasets, experiments.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
import_app = typer.Typer(help="Import spans (logs) into the database.", no_args_is_help=True)
export_app = typer.Typer(help="Export logs as JSONL or CSV (stdout by default).", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


class State:
    db: Optional[str] = None
    project: str = "default"


state = State()


class UsageError(Exception):
    """Bad usage or bad input: exit 2 with one line."""


def _fail(msg: str, code: int) -> "typer.Exit":
    sys.stderr.write(f"bt-tui: {msg}\n")
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our errors into one line on stderr and the contract's exit code; never a traceback."""
    try:
        yield
    except QueryError as exc:
        sys.stderr.write(f"bt-tui: {exc}\n{_indent(exc.caret())}\n")
        raise typer.Exit(2) from None
    except (InputError, UsageError, NotFound) as exc:
        raise _fail(str(exc), 2) from None
    except StoreError as exc:
        raise _fail(str(exc), 2) from None
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise _fail(f"{state.db or os.environ.get('BT_TUI_DB') or 'the database'}: not a bt-tui database ({exc})",
                        2) from None
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; an import is all or nothing, and re-running it is harmless", 130) from None
    except BrokenPipeError:
        # `bt-tui export logs | head`: the reader went away; that is fine.
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            os._exit(0)
    except typer.Exit:
        raise
    except Exception as exc:  # anything else: one line, exit 1
        if type(exc).__name__ == "ValidationError":  # pydantic, at the boundary: bad input
            from store.jsonl import validation_reason

            raise _fail(validation_reason(exc), 2) from None
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def open_store(*, readonly: bool = False, must_exist: bool = False):
    from store import Store
    from store.paths import resolve_db_path

    path = resolve_db_path(state.db)
    if (readonly or must_exist) and not path.exists():
        raise UsageError(f"{path}: no such database (import some logs first, or pass --db)")
    return Store(path, readonly=readonly)


def _progress_wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bar(description: str, total: Optional[float], unit: str = "bytes") -> Iterator:
    """A rich progress bar on stderr when it is a terminal; a no-op callback when piped."""
    if not _progress_wanted():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    cols = [TextColumn("{task.description}"), BarColumn()]
    if unit == "bytes":
        cols += [DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
    else:
        cols += [MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*cols, console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n: prog.advance(task, n)


def _note(msg: str) -> None:
    sys.stderr.write(msg + "\n")


# --- root: options and the TUI --------------------------------------------------------------


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
        raise _fail("--project: the project name is empty", 2)
    if ctx.invoked_subcommand is None:
        with user_errors():
            store = open_store()
            path = store.path
            store.close()
        launch_tui(path, project)


def launch_tui(db_path: str, project: str) -> None:
    from tui.app import run_app  # Textual is imported only here

    run_app(db_path, project)


# --- demo ------------------------------------------------------------------------------------


def sample_file() -> Path:
    from importlib.resources import files

    return Path(str(files("sample_data") / "support_traces.jsonl"))


@app.command()
def demo(
    launch: bool = typer.Option(True, "--launch/--no-launch", help="Open the TUI after seeding."),
) -> None:
    """Seed a demo database from sample_data/ (once) and launch the TUI on it."""
    from store import Store
    from store.jsonl import import_jsonl
    from store.paths import demo_db_path

    with user_errors():
        path = Path(state.db) if state.db else (Path(os.environ["BT_TUI_DB"]) if os.environ.get("BT_TUI_DB") else demo_db_path())
        store = Store(path)
        from store.projects import list_projects

        existing = {p.name: p.spans for p in list_projects(store)}
        if not existing.get(state.project):
            src = sample_file()
            if not src.exists():
                raise UsageError(f"{src}: demo data is missing from this installation")
            with open(src, "rb") as f, progress_bar("seeding demo", src.stat().st_size) as adv:
                res = import_jsonl(store, state.project, f, label=str(src), progress=adv)
            _note(f"seeded {res.imported} demo spans into {path} (project {state.project!r})")
        else:
            _note(f"demo database {path} already has {existing[state.project]} spans in {state.project!r}")
        store.close()
    if launch:
        launch_tui(str(path), state.project)


# --- import ----------------------------------------------------------------------------------


def _detect_format(file: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if file == "-":
        return "jsonl"
    suffix = Path(file).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json", ".jl"):
        return "jsonl"
    with open(file, "rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"{"):
        return "jsonl"
    raise UsageError(f"{file}: cannot tell the format; pass --format jsonl")


@import_app.command("logs")
def import_logs(
    file: str = typer.Argument(..., help="JSONL file of spans (one span row per line), or - for stdin."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto | jsonl"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good lines, report the bad ones (default: all or nothing)."),
) -> None:
    """Import spans into the project's logs (upsert by id: re-importing changes nothing)."""
    from store.jsonl import import_jsonl

    with user_errors():
        if fmt not in ("auto", "jsonl"):
            raise UsageError(f"unknown format {fmt!r} (expected auto or jsonl)")
        if file != "-" and Path(file).is_dir():
            raise UsageError(f"{file}: is a directory, not a JSONL file")
        if file != "-" and not Path(file).is_file():
            raise UsageError(f"{file}: no such file")
        _detect_format(file, fmt)
        store = open_store()
        t0 = time.perf_counter()
        if file == "-":
            with progress_bar("importing <stdin>", None) as adv:
                res = import_jsonl(store, state.project, sys.stdin.buffer, label="<stdin>", skip_invalid=skip_invalid, progress=adv)
        else:
            size = Path(file).stat().st_size
            with open(file, "rb") as f, progress_bar(f"importing {Path(file).name}", size) as adv:
                res = import_jsonl(store, state.project, f, label=file, skip_invalid=skip_invalid, progress=adv)
        dt = time.perf_counter() - t0
        updated = res.imported - res.new
        _note(
            f"imported {res.imported} spans into project {state.project!r} in {dt:.1f}s"
            f" ({res.new} new, {updated} already present: updated where they differed)"
        )
        if res.unknown_keys:
            keys = sorted(res.unknown_keys.items(), key=lambda kv: -kv[1])
            shown = ", ".join(f"{k!r} ({n} line{'s' if n != 1 else ''})" for k, n in keys[:8])
            more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
            _note(f"note: ignored keys that are not part of the span row: {shown}{more}")
        if res.skipped:
            kinds = ", ".join(f"{k} ({n})" for k, n in sorted(res.reason_counts.items(), key=lambda kv: -kv[1]))
            _note(f"skipped {res.skipped} invalid lines: {kinds}")
            for r in res.reasons:
                _note(f"  {r}")


# --- export ----------------------------------------------------------------------------------


@export_app.command("logs")
def export_logs_cmd(
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl | csv"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="Only spans matching this filter expression (the query language)."),
    traces: bool = typer.Option(False, "--traces", help="With --filter: every span of each trace that has a matching span."),
) -> None:
    """Export the project's logs (every span, in insertion order; with --filter, in time order)."""
    from store.export import count_spans, iter_export_lines, write_export

    with user_errors():
        if fmt not in ("jsonl", "csv"):
            raise UsageError(f"unknown format {fmt!r} (expected jsonl or csv)")
        if filter_ is not None and not filter_.strip():
            filter_ = None  # a blank filter is no filter, as in the TUI
        if traces and not filter_:
            raise UsageError("--traces goes with --filter")
        store = open_store(readonly=True)
        if filter_:
            from store.selection import Selection, export_selection

            sel = Selection(state.project, filter_, "traces" if traces else "spans", strict=True)
            lines = export_selection(store, sel)  # a bad filter or project fails here, before any output
            _note_hints(store, filter_)
        else:
            lines = iter_export_lines(store, state.project)  # every span, in insertion order
        total = count_spans(store, state.project) if (output and _progress_wanted() and not filter_) else None
        if output:
            if not Path(output).parent.is_dir():
                raise UsageError(f"{output}: no such directory {str(Path(output).parent)!r}")
            if Path(output).is_dir():
                raise UsageError(f"{output}: is a directory; give a file name")
            tmp = Path(output).with_name(Path(output).name + ".part")
            try:
                with open(tmp, "w", encoding="utf-8", newline="") as out, progress_bar("exporting", total, unit="rows") as adv:
                    n = write_export(lines, out, fmt=fmt, progress=adv)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            tmp.replace(output)
            _note(f"exported {n} spans to {output}")
        else:
            write_export(lines, sys.stdout, fmt=fmt)
            sys.stdout.flush()


@app.command()
def query(
    text: str = typer.Argument(..., help="A full query (SQL form or BTQL clauses) or a filter expression."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | jsonl | csv"),
) -> None:
    """Run a query: SELECT ... FROM project_logs('p') WHERE ... GROUP BY ... ORDER BY ... LIMIT n,
    or BTQL clauses (select:, from:, filter:, dimensions:, measures:, sort:, limit:) separated
    by newlines or |. Opens the database read-only."""
    import orjson

    from store.query.runner import run_query

    with user_errors():
        if fmt not in ("table", "jsonl", "csv"):
            raise UsageError(f"unknown format {fmt!r} (expected table, jsonl or csv)")
        store = open_store(readonly=True)
        res = run_query(store, text, state.project)
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
            _note(f"showing the first {len(res.rows)} rows; add a LIMIT to see more or fewer")
        _note_hints(store, text)


def _note_hints(store, text: str) -> None:
    """Near-miss names in a query or filter (`scores.factuality`): a note on stderr each."""
    from store.query.hints import query_hints

    for hint in query_hints(store, state.project, text):
        _note(f"note: {hint}")


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


# --- feedback --------------------------------------------------------------------------------


def parse_score(text: str) -> tuple[str, Optional[float]]:
    if "=" not in text:
        raise UsageError(f"--score {text!r}: expected NAME=VALUE, e.g. --score accuracy=0.8")
    name, _, raw = text.partition("=")
    name = name.strip()
    if not name:
        raise UsageError(f"--score {text!r}: the score name is empty")
    raw = raw.strip()
    if raw.lower() in ("null", "none", ""):
        return name, None
    try:
        value = float(raw) + 0.0  # + 0.0: -0 is 0
    except ValueError:
        raise UsageError(f"--score {text!r}: {raw!r} is not a number") from None
    if not (0.0 <= value <= 1.0):
        raise UsageError(f"--score {text!r}: a score must be between 0 and 1")
    return name, value


def parse_json_arg(option: str, text: str):
    import orjson

    stripped = text.strip()
    looks_json = stripped[:1] in ('{', '[', '"') or stripped in ("true", "false", "null")
    try:
        return orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        if looks_json:
            raise UsageError(f"{option}: not valid JSON ({exc})") from None
        try:
            float(stripped)
        except ValueError:
            return text  # a plain string
        raise UsageError(f"{option}: not valid JSON") from None


@app.command()
def feedback(
    row_id: str = typer.Argument(..., help="The row's id (the `id` key of the span row)."),
    score: List[str] = typer.Option([], "--score", "-s", help="NAME=VALUE (0..1 or null); merges into the row's scores. Repeatable."),
    expected: Optional[str] = typer.Option(None, "--expected", "-e", help="JSON (or plain text) that replaces the row's expected."),
    comment: Optional[str] = typer.Option(None, "--comment", "-c", help="Add a comment."),
    tag: List[str] = typer.Option([], "--tag", "-t", help="Add a tag. Repeatable."),
    author: Optional[str] = typer.Option(None, "--author", help="Who gives the feedback (default: the OS user)."),
) -> None:
    """Record feedback on a row: scores merge, tags are added, expected is replaced, comments append."""
    import orjson

    from store.models import FeedbackIn
    from store.audit import default_author
    from store.feedback import apply_feedback

    with user_errors():
        if not (score or expected is not None or comment is not None or tag):
            raise UsageError("nothing to record: give --score, --expected, --comment or --tag")
        scores = dict(parse_score(s) for s in score)
        fb_kwargs = dict(scores=scores, tags=tag, comment=comment, author=author or default_author())
        if expected is not None:
            fb_kwargs.update(expected=parse_json_arg("--expected", expected), has_expected=True)
        fb = FeedbackIn(**fb_kwargs)  # a ValidationError becomes one line (user_errors)
        store = open_store(must_exist=True)
        res = apply_feedback(store, state.project, row_id, fb)
        out = {"id": res.row_id, "scores": res.scores, "tags": res.tags, "expected": res.expected}
        if res.comment_id:
            out["comment_id"] = res.comment_id
        sys.stdout.write(orjson.dumps(out).decode() + "\n")


# --- projects --------------------------------------------------------------------------------


@app.command()
def projects(
    fmt: str = typer.Option("table", "--format", "-f", help="table | jsonl"),
) -> None:
    """List projects with their span and trace counts."""
    import orjson

    from store.projects import list_projects

    with user_errors():
        store = open_store(must_exist=True)
        rows = list_projects(store)
        if fmt == "jsonl":
            for p in rows:
                sys.stdout.write(orjson.dumps(p.__dict__).decode() + "\n")
            return
        if fmt != "table":
            raise UsageError(f"unknown format {fmt!r} (expected table or jsonl)")
        if not rows:
            _note("no projects yet: `bt-tui import logs FILE` creates one")
            return
        w = max(7, *(len(p.name) for p in rows))
        print(f"{'project':<{w}}  {'spans':>10}  {'traces':>10}  last span")
        for p in rows:
            print(f"{p.name:<{w}}  {p.spans:>10}  {p.traces:>10}  {p.last or '-'}")


def main() -> None:
    try:
        rv = app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("bt-tui: interrupted\n")
        raise SystemExit(130)
    except Exception as exc:
        # Typer vendors click (typer._click): match its exceptions by name, not by import.
        names = {c.__name__ for c in type(exc).__mro__}
        if "NoArgsIsHelpError" in names:  # `bt-tui import`: show that group's help
            ctx = getattr(exc, "ctx", None)
            sys.stdout.write((ctx.get_help() if ctx else str(exc)) + "\n")
            raise SystemExit(0)
        if "ClickException" not in names:
            raise
        # One line, as for every other bad input (click's default is usage + hint + error).
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None and "UsageError" in names else ""
        sys.stderr.write(f"bt-tui: {exc.format_message()}{hint}\n")
        raise SystemExit(getattr(exc, "exit_code", 2))
    except SystemExit as exc:
        code = exc.code
        raise SystemExit(code if code is not None else 0)
    raise SystemExit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
