"""`bt-tui dataset ...`, `bt-tui import dataset` and `bt-tui export dataset`: a project's
versioned datasets from the command line (DESIGN.md section 4).

Listings take ``--format table|jsonl`` (jsonl: one object a line, stable keys). A write prints
one line on stdout: ``dataset 'x': version 12: +3 added, ~1 updated, -0 deleted``, or
``dataset 'x': no change (...): no new version``. The acting person is ``--author``, else
``BT_TUI_USER``, else the OS user.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .common import (
    AUTHOR_HELP,
    FORMAT_HELP,
    UsageError,
    app,
    check_format,
    export_app,
    import_app,
    note,
    note_hints,
    open_store,
    print_jsonl,
    print_rows,
    progress_bar,
    progress_wanted,
    state,
    table_ts,
    terminable,
    user_errors,
)

dataset_app = typer.Typer(
    help="Datasets: list, from-logs, show, remove, versions, diff, history, restore, snapshot.",
    no_args_is_help=True,
)
app.add_typer(dataset_app, name="dataset")

def _said(name: str, result, what: str = "") -> str:
    """The one line a write prints."""
    created = " (new dataset)" if getattr(result, "created_dataset", False) else ""
    return f"dataset {name!r}{created}: {what}{result.summary()}"


def _one_of(version: Optional[int], snapshot: Optional[str]) -> None:
    if version is not None and snapshot is not None:
        raise UsageError("give --version or --snapshot, not both")


# --- import / export ----------------------------------------------------------------------------

def _detect(file: str, fmt: str, stream=None) -> str:
    from store.dataset_io import detect_format

    if fmt != "auto":
        return fmt
    if stream is not None:  # stdin: peek, never consume
        head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
        found = detect_format(head)
    elif Path(file).is_file():
        with open(file, "rb") as f:
            found = detect_format(f.read(4096), file)
    else:
        found = detect_format(b"", file) or "jsonl"  # a pipe or a device: reading ahead would consume it
    if found is None:
        raise UsageError(f"{file if stream is None else '<stdin>'}: cannot tell the format; pass --format jsonl"
                         " or --format csv")
    return found


@import_app.command("dataset")
def import_dataset_cmd(
    file: str = typer.Argument(..., metavar="FILE", help="JSONL (one record a line) or CSV file, or - for stdin."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset (created when it does not exist)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto | jsonl | csv (auto: by the extension, else the content)"),
    map_: List[str] = typer.Option([], "--map", metavar="COLUMN=FIELD",
                                   help="CSV: read COLUMN as FIELD (input, expected, metadata, tags, id, created,"
                                        " origin, or input.KEY / expected.KEY / metadata.KEY). Repeatable."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the good records, report the bad ones (default: all or nothing)."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Import records into a dataset as ONE version (upsert by id; a record without an id gets
    one from its input, so importing the same file again changes nothing)."""
    from store.dataset_io import parse_mapping, read_records, write_read
    from store.datasets import check_name
    from store.jsonl import more_bad_lines

    with user_errors(), terminable():
        if fmt not in ("auto", "jsonl", "csv"):
            raise UsageError(f"unknown format {fmt!r} (expected auto, jsonl or csv)")
        check_name(name)
        mapping = parse_mapping(map_)
        if file != "-" and Path(file).is_dir():
            raise UsageError(f"{file}: is a directory, not a file")
        if file != "-" and not Path(file).exists():
            raise UsageError(f"{file}: no such file")
        label = "<stdin>" if file == "-" else file
        # stdin: a reader of our own on fd 0, never closed (as `import logs` does)
        stream = open(sys.stdin.fileno(), "rb", closefd=False) if file == "-" else open(file, "rb")
        try:
            kind = _detect(file, fmt, stream if file == "-" else None)
            if mapping and kind != "csv":
                raise UsageError("--map goes with CSV files (--format csv)")
            size = Path(file).stat().st_size if file != "-" and Path(file).is_file() else None
            # Everything is read and checked first (a bad file writes nothing), then written.
            with progress_bar(f"reading {Path(label).name}", size) as adv:
                read = read_records(stream, fmt=kind, label=label, skip_invalid=skip_invalid, mapping=mapping,
                                    progress=adv)
        finally:
            if file != "-":
                stream.close()
        if read.ignored_keys:
            keys = ", ".join(f"{k!r}" for k in sorted(read.ignored_keys))
            note(f"note: ignored Braintrust row keys that a record does not keep: {keys}")
        if read.skipped:
            kinds = ", ".join(f"{k} ({n})" for k, n in sorted(read.reason_counts.items(), key=lambda kv: -kv[1]))
            note(f"skipped {read.skipped} invalid record{'s' if read.skipped != 1 else ''}: {kinds}")
            for r in read.reasons:
                note(r)
            if read.skipped > len(read.reasons):
                note(more_bad_lines(read.skipped - len(read.reasons)))
        if not read.records:
            note(f"nothing to import: {label} has no {'valid ' if read.skipped else ''}records")
            return
        store = open_store()
        with progress_bar(f"writing {len(read.records)} records", len(read.records), unit="rows") as adv:
            written = write_read(store, state.project, name, read, label=label, author=author, progress=adv)
        sys.stdout.write(_said(name, written) + "\n")


@export_app.command("dataset")
def export_dataset_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    version: Optional[int] = typer.Option(None, "--version", "-v", help="As of this version (default: the latest)."),
    snapshot: Optional[str] = typer.Option(None, "--snapshot", "-s", help="As of the version this snapshot names."),
    fmt: str = typer.Option("jsonl", "--format", "-f",
                            help="jsonl | csv | openai (chat fine-tuning lines: input -> user/system messages,"
                                 " expected -> the assistant's answer)"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout (whole or not at all)."),
    input_field: Optional[str] = typer.Option(None, "--input-field", metavar="KEY",
                                              help="openai: the user's message is the input's text under KEY (an input object like {message, subject})."),
    expected_field: Optional[str] = typer.Option(None, "--expected-field", metavar="KEY",
                                                 help="openai: the assistant's answer is the expected's text under KEY (e.g. answer)."),
) -> None:
    """Export a dataset's records (in dataset order) as of a version or snapshot."""
    from store.dataset_io import FORMATS_OUT, check_openai, write_dataset
    from store.datasets import RecordsQuery

    with user_errors(), terminable():
        if fmt not in FORMATS_OUT:
            raise UsageError(f"unknown format {fmt!r} (expected jsonl, csv or openai)")
        _one_of(version, snapshot)
        if (input_field or expected_field) and fmt != "openai":
            raise UsageError("--input-field and --expected-field are for --format openai")
        fields = dict(input_field=input_field, expected_field=expected_field)
        if output:
            if not Path(output).parent.is_dir():
                raise UsageError(f"{output}: no such directory {str(Path(output).parent)!r}")
            if Path(output).is_dir():
                raise UsageError(f"{output}: is a directory; give a file name")
        store = open_store(readonly=True)
        query = RecordsQuery(store, state.project, name, version=version, snapshot=snapshot)  # errors before output
        if output:
            from store.tempfiles import atomic_output

            total = query.count() if progress_wanted() else None
            with atomic_output(output) as out, progress_bar("exporting", total, unit="rows") as adv:
                n, lossy = write_dataset(query, out, fmt=fmt, progress=adv, **fields)
            note(f"exported {n} records of dataset {name!r} (version {query.version}) to {output}")
        else:
            if fmt == "openai":
                check_openai(query, **fields)  # every record first: a bad one leaves no partial output
            n, lossy = write_dataset(query, sys.stdout, fmt=fmt, **fields)
            sys.stdout.flush()
        if lossy:
            note(f"note: {lossy} record{'s' if lossy != 1 else ''} have a number or boolean as input or expected;"
                 " CSV gives it back as text (--format jsonl keeps it)")


# --- dataset ... --------------------------------------------------------------------------------

@dataset_app.command("list")
def list_cmd(fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP)) -> None:
    """The project's datasets, most recently changed first."""
    from store.datasets import list_datasets

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        rows = list_datasets(store, state.project)
        if fmt == "jsonl":
            print_jsonl(d.to_json() for d in rows)
            return
        if not rows:
            note(f"no datasets in project {state.project!r} yet: `bt-tui import dataset FILE --name NAME` or"
                 " `bt-tui dataset from-logs NAME --filter EXPR` makes one")
            return
        print_rows(["name", "records", "version", "versions", "last change", "by", "description"],
               [[d.name, d.records, d.version, d.versions, table_ts(d.last_change or d.created), d.last_author or d.author,
                 d.description] for d in rows])


@dataset_app.command("from-logs")
def from_logs_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset (created when it does not exist)."),
    filter_: str = typer.Option(..., "--filter", help="Which logged rows (a filter expression, the query language)."),
    expected_from: str = typer.Option("auto", "--expected-from",
                                      help="auto | output | expected | none (auto: the span's expected when set, else its output)"),
    traces: bool = typer.Option(True, "--traces/--spans",
                                help="--traces (default): each matching trace's root span; --spans: each matching span."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Logged spans into a dataset as ONE version: input, expected, metadata and tags, with the
    span as origin. A span already in the dataset updates its record, never duplicates it."""
    from store.datasets import EXPECTED_FROM, check_name, from_selection
    from store.projects import project_id
    from store.selection import Selection, count_selection

    with user_errors():
        check_name(name)
        if expected_from not in EXPECTED_FROM:
            raise UsageError(f"--expected-from {expected_from!r}: expected one of {', '.join(EXPECTED_FROM)}")
        if not filter_.strip():
            raise UsageError("--filter is empty: give a filter expression, e.g. --filter \"tags INCLUDES 'golden'\"")
        store = open_store(must_exist=True)
        sel = Selection(state.project, filter_, "traces" if traces else "spans", strict=True)
        project_id(store, state.project, create=False)  # a missing project says so (exit 2)
        matched = count_selection(store, sel)  # a bad filter fails here, before any write
        note_hints(store, filter_)
        if not matched:
            sys.stdout.write(f"dataset {name!r}: no {'trace' if traces else 'span'} matches the filter:"
                             " nothing to add, no new version\n")
            return
        result = from_selection(store, name, sel, expected_from=expected_from, author=author,
                                note=f"from logs: {filter_.strip()}")
        sys.stdout.write(_said(name, result) + "\n")


@dataset_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    version: Optional[int] = typer.Option(None, "--version", "-v", help="As of this version (default: the latest)."),
    snapshot: Optional[str] = typer.Option(None, "--snapshot", "-s", help="As of the version this snapshot names."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="Only records matching this expression (fields: id, input,"
                                                                 " expected, metadata, tags, created, origin)."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="At most N records (table default: 100)."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """A dataset's records, in dataset order (jsonl: the export's record shape)."""
    from store.datasets import RecordsQuery
    from store.query.filterbar import expression_filter

    with user_errors():
        check_format(fmt)
        _one_of(version, snapshot)
        if limit is not None and limit < 0:
            raise UsageError("--limit: give a number of records (0 or more)")
        text = (filter_ or "").strip()
        if text:
            expression_filter(text)  # an expression, as `export logs --filter` takes: no word search
        store = open_store(readonly=True)
        query = RecordsQuery(store, state.project, name, version=version, snapshot=snapshot, text=text)
        cap = limit if limit is not None else (100 if fmt == "table" else None)
        rows = []
        for rec in query:
            if cap is not None and len(rows) >= cap:
                break
            rows.append(rec)
        if fmt == "jsonl":
            print_jsonl(r.to_json() for r in rows)
            return
        if not rows:
            note(f"dataset {name!r} (version {query.version}) has no records"
                 + (" matching the filter" if text else ""))
            return
        print_rows(["id", "input", "expected", "metadata", "tags"],
               [[r.id, r.input, r.expected, r.metadata or None, ", ".join(r.tags)] for r in rows])
        total = query.count()
        if total > len(rows):
            note(f"showing {len(rows)} of {total} records; --limit N shows more, --format jsonl all")


@dataset_app.command("remove")
def remove_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    record_ids: List[str] = typer.Argument(..., metavar="RECORD_ID", help="The records to remove."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Remove records (one version; they stay readable in older versions). A missing id is an
    error and removes nothing."""
    from store.datasets import delete_records

    with user_errors():
        store = open_store(must_exist=True)
        result = delete_records(store, state.project, name, record_ids, author=author)
        sys.stdout.write(_said(name, result) + "\n")


@dataset_app.command("versions")
def versions_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """Every version of a dataset, oldest first, with the snapshots that name it."""
    from store.datasets import list_versions

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        rows = list_versions(store, state.project, name)
        if fmt == "jsonl":
            print_jsonl(v.to_json() for v in rows)
            return
        if not rows:
            note(f"dataset {name!r} has no versions yet")
            return
        print_rows(["version", "created", "author", "added", "updated", "deleted", "snapshots", "note"],
               [[v.version, table_ts(v.created), v.author, v.added, v.updated, v.deleted, ", ".join(v.snapshots), v.note]
                for v in rows])


SIGNS = {"added": "+", "updated": "~", "deleted": "-"}


@dataset_app.command("diff")
def diff_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    from_version: int = typer.Argument(..., metavar="FROM", help="The version to compare from."),
    to_version: Optional[int] = typer.Argument(None, metavar="TO", help="The version to compare to (default: the latest)."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """How a dataset changed between two versions: one line per record that differs."""
    from store.datasets import diff_versions

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        changes = diff_versions(store, state.project, name, from_version, to_version)
        if fmt == "jsonl":
            print_jsonl(c.to_json() for c in changes)
            return
        if not changes:
            note(f"no differences between version {from_version} and {to_version or 'the latest'}")
            return
        print_rows(["", "id", "change", "fields"],
               [[SIGNS[c.change], c.id, c.change, ", ".join(c.fields)] for c in changes], ids=(1,))
        counts = {k: sum(c.change == k for c in changes) for k in SIGNS}
        note(f"{len(changes)} record(s) differ: " + ", ".join(f"{SIGNS[k]}{n} {k}" for k, n in counts.items()))


@dataset_app.command("history")
def history_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    record_id: str = typer.Argument(..., metavar="RECORD_ID", help="The record."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """One record's history: every version that changed it, oldest first."""
    from store.datasets import record_history

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        revs = record_history(store, state.project, name, record_id)
        rows = [{"version": r.version, "created": r.created, "author": r.author, "change": r.change,
                 "fields": r.fields} for r in revs]
        if fmt == "jsonl":
            print_jsonl(rows)
            return
        print_rows(["version", "created", "author", "change", "fields"],
               [[r["version"], table_ts(r["created"]), r["author"], r["change"], ", ".join(r["fields"])] for r in rows])


@dataset_app.command("restore")
def restore_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    version: int = typer.Option(..., "--version", "-v", help="The version to bring back."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Write a new version equal to an old one (the versions in between stay readable)."""
    from store.datasets import restore

    with user_errors():
        store = open_store(must_exist=True)
        result = restore(store, state.project, name, version, author=author)
        if result.version is None:
            sys.stdout.write(f"dataset {name!r}: already as version {version}: no new version\n")
        else:
            sys.stdout.write(_said(name, result, f"restored version {version}: ") + "\n")


@dataset_app.command("snapshot")
def snapshot_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The dataset."),
    snapshot_name: str = typer.Argument(..., metavar="SNAPSHOT", help="The snapshot's name (an existing one moves)."),
    version: Optional[int] = typer.Option(None, "--version", "-v", help="The version to name (default: the latest)."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Name a version of a dataset (`export dataset NAME --snapshot SNAPSHOT` reads it back)."""
    from store.datasets import snapshot

    with user_errors():
        store = open_store(must_exist=True)
        v = snapshot(store, state.project, name, snapshot_name, version, author=author)
        sys.stdout.write(f"dataset {name!r}: snapshot {snapshot_name.strip()!r} -> version {v}\n")
