"""`bt-tui import logs` and `bt-tui export logs`: spans in and out of a project's logs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .common import (
    UsageError,
    check_timeout,
    export_app,
    import_app,
    note,
    note_hints,
    open_store,
    progress_bar,
    progress_wanted,
    state,
    terminable,
    user_errors,
)


def _detect_format(file: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if file == "-" or not Path(file).is_file():
        return "jsonl"  # stdin, a pipe, a device (/dev/null): reading ahead would consume it
    suffix = Path(file).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json", ".jl"):
        return "jsonl"
    with open(file, "rb") as f:
        head = f.read(64).lstrip()
    if head.startswith(b"{") or not head:
        return "jsonl"  # an empty file: nothing to import, whatever its format
    raise UsageError(f"{file}: cannot tell the format; pass --format jsonl")


@import_app.command("logs")
def import_logs(
    file: str = typer.Argument(..., help="JSONL file of spans (one span row per line), or - for stdin."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto | jsonl"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good lines, report the bad ones (default: all or nothing)."),
) -> None:
    """Import spans into the project's logs (upsert by id: re-importing changes nothing)."""
    from store.jsonl import import_jsonl, more_bad_lines

    with user_errors(), terminable():
        if fmt not in ("auto", "jsonl"):
            raise UsageError(f"unknown format {fmt!r} (expected auto or jsonl)")
        if file != "-" and Path(file).is_dir():
            raise UsageError(f"{file}: is a directory, not a JSONL file")
        if file != "-" and not Path(file).exists():
            raise UsageError(f"{file}: no such file")
        _detect_format(file, fmt)
        store = open_store()
        t0 = time.perf_counter()
        # A new project is made inside the import's transaction: a failed import leaves none.
        if file == "-":
            # A reader of our own on fd 0, never closed: a parser thread a SIGTERM leaves blocked
            # in it (the input stays open) then holds neither the interpreter's sys.stdin (at exit
            # Python aborts on it) nor a reader we would wait on to close.
            stdin = open(sys.stdin.fileno(), "rb", closefd=False)
            with progress_bar("importing <stdin>", None) as adv:
                res = import_jsonl(store, state.project, stdin, label="<stdin>", skip_invalid=skip_invalid, progress=adv)
        else:
            size = Path(file).stat().st_size if Path(file).is_file() else None
            with open(file, "rb") as f, progress_bar(f"importing {Path(file).name}", size) as adv:
                res = import_jsonl(store, state.project, f, label=file, skip_invalid=skip_invalid, progress=adv)
        dt = time.perf_counter() - t0
        if not res.lines:
            note(f"nothing to import: {'<stdin>' if file == '-' else file} has no spans")
            return
        updated = res.imported - res.new
        note(
            f"imported {res.imported} spans into project {state.project!r} in {dt:.1f}s"
            f" ({res.new} new, {updated} already present: updated where they differed)"
        )
        if res.kept_edits:
            n = res.kept_edits
            note(f"kept human edits on {n} row{'s' if n != 1 else ''}: scores, tags, expected and"
                 " metadata people changed after the row was logged win over the imported values")
        if res.unknown_keys:
            keys = sorted(res.unknown_keys.items(), key=lambda kv: -kv[1])
            shown = ", ".join(f"{k!r} ({n} line{'s' if n != 1 else ''})" for k, n in keys[:8])
            more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
            note(f"note: ignored keys that are not part of the span row: {shown}{more}")
        if res.skipped:
            kinds = ", ".join(f"{k} ({n})" for k, n in sorted(res.reason_counts.items(), key=lambda kv: -kv[1]))
            note(f"skipped {res.skipped} invalid lines: {kinds}")
            for r in res.reasons:  # one line each, FILE:LINE: reason, as a failed import names them
                note(r)
            if res.skipped > len(res.reasons):
                note(more_bad_lines(res.skipped - len(res.reasons)))


@export_app.command("logs")
def export_logs_cmd(
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl | csv"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="Only spans matching this filter expression (the query language)."),
    traces: bool = typer.Option(False, "--traces", help="With --filter: every span of each trace that has a matching span."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS",
                                            help="Stop the export after SECONDS (exit 2; with -o no file is left). Default: no limit."),
) -> None:
    """Export the project's logs (every span, in insertion order; with --filter, in time order)."""
    from store.errors import QueryTimeout

    with user_errors(), terminable():
        try:
            _export(fmt, output, filter_, traces, timeout)
        except QueryTimeout:
            raise QueryTimeout(timeout) from None  # the limit the user gave, not what was left of it


def _export(fmt: str, output: Optional[str], filter_: Optional[str], traces: bool, timeout: Optional[float],
            *, store=None, project: Optional[str] = None) -> None:
    """``project``: another project's spans (an experiment's rows project: `export experiment`)."""
    from store.export import count_spans, iter_export_lines, value_names, write_export

    if fmt not in ("jsonl", "csv"):
        raise UsageError(f"unknown format {fmt!r} (expected jsonl or csv)")
    if filter_ is not None and not filter_.strip():
        filter_ = None  # a blank filter is no filter, as in the TUI
    if traces and not filter_:
        raise UsageError("--traces goes with --filter")
    limit = check_timeout(timeout)
    started = time.monotonic()

    def left() -> Optional[float]:  # one --timeout for the whole export (CSV: its column pass too)
        return None if limit is None else max(limit - (time.monotonic() - started), 1e-3)

    store = store or open_store(readonly=True)
    project = project or state.project
    columns = {}
    if filter_:
        from store.selection import Selection, export_selection, selection_value_names

        sel = Selection(project, filter_, "traces" if traces else "spans", strict=True)
        if fmt == "csv":  # the column pass compiles the filter too: a bad one fails before any output
            columns = dict(zip(("score_names", "metric_names"), selection_value_names(store, sel, timeout=left())))
        lines = export_selection(store, sel, timeout=left())  # a bad filter or project fails here, before any output
        note_hints(store, filter_)
    else:
        if fmt == "csv":
            columns = dict(zip(("score_names", "metric_names"), value_names(store, project, timeout=left())))
        lines = iter_export_lines(store, project, timeout=left())  # every span, in insertion order
    total = count_spans(store, project) if (output and progress_wanted() and not filter_) else None
    if output:
        if not Path(output).parent.is_dir():
            raise UsageError(f"{output}: no such directory {str(Path(output).parent)!r}")
        if Path(output).is_dir():
            raise UsageError(f"{output}: is a directory; give a file name")
        from store.tempfiles import atomic_output

        # Through OUTPUT.PID.part, renamed when complete; a killed export's is removed next time.
        with atomic_output(output) as out, progress_bar("exporting", total, unit="rows") as adv:
            n = write_export(lines, out, fmt=fmt, progress=adv, **columns)
        note(f"exported {n} spans to {output}")
    else:  # no bar: rich's live display would take over stdout (the spans)
        write_export(lines, sys.stdout, fmt=fmt, **columns)
        sys.stdout.flush()
