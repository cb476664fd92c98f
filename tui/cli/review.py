"""`bt-tui scores ...`, `bt-tui flag`, `bt-tui queue` and `bt-tui review`: human review from the
command line (DESIGN.md section 4; the store is store/review.py).

- ``scores list | add NAME --type ... | remove NAME``: the project's score configurations
  (jsonl: ``{name, type, options: [{label, value}], to_expected, description}``).
- ``flag (--filter EXPR | ROW_ID...) [--assign USER]``: traces into the review queue; a row id
  of any span flags its trace. Prints ``flagged N traces (M already queued)``.
- ``queue [--state S] [--assignee USER]``: the queue in the order it was flagged (jsonl:
  ``{id, state, assignee, updated}``).
- ``review [--filter EXPR] [--mine]``: launch the TUI into focused review.

Listings take ``--format table|jsonl``; writes take ``--author`` (else ``BT_TUI_USER``, else the
OS user). A bad configuration, state, option or id is bad input: one line, exit 2.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

from .common import (
    AUTHOR_HELP,
    FORMAT_HELP,
    UsageError,
    app,
    check_format,
    fail,
    note,
    note_hints,
    open_store,
    print_jsonl,
    print_rows,
    state,
    table_ts,
    user_errors,
)

scores_app = typer.Typer(help="Score configurations for human review: list, add, remove.", no_args_is_help=True)
app.add_typer(scores_app, name="scores")


def _fmt_value(v: float) -> str:
    return f"{v:g}"


def _describe(c) -> str:
    """A configuration in a few words: ``categorical: friendly=1, neutral=0.5, curt=0``."""
    if c.type == "categorical":
        opts = ", ".join(f"{o.label}={_fmt_value(o.value)}" for o in c.options)
        where = " -> expected" + (" (multi)" if c.multi else "") if c.to_expected else ""
        return f"categorical{where}: {opts}"
    if c.type == "text":
        return f"text -> metadata.{c.metadata_key}"
    if c.type == "continuous":
        return "continuous: 0-100%"
    return "boolean: yes=1, no=0"


# --- scores --------------------------------------------------------------------------------------

@scores_app.command("list")
def scores_list_cmd(fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP)) -> None:
    """The project's score configurations, in the order they were added."""
    from store.review import list_score_configs

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        rows = list_score_configs(store, state.project)
        if fmt == "jsonl":
            print_jsonl(c.to_json() for c in rows)
            return
        if not rows:
            note(f"no score configurations in project {state.project!r} yet: `bt-tui scores add NAME --type"
                 " categorical --option good=1 --option bad=0` makes one")
            return
        print_rows(["name", "type", "options", "stored in", "description"],
               [[c.name, c.type, ", ".join(f"{o.label}={_fmt_value(o.value)}" for o in c.options),
                 c.stored_in, c.description] for c in rows])


@scores_app.command("add")
def scores_add_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The score's name (the row's scores.NAME)."),
    type_: str = typer.Option(..., "--type", "-t", help="continuous | categorical | boolean | text"),
    option: List[str] = typer.Option([], "--option", "-o", metavar="LABEL=VALUE",
                                     help="A categorical option and its value in [0, 1] (or a percentage), in the"
                                          " order keys 1-9 pick them. Repeatable."),
    to_expected: bool = typer.Option(False, "--to-expected", help="Categorical: write the label into the row's expected instead of a score."),
    multi: bool = typer.Option(False, "--multi", help="With --to-expected: several labels may be picked (expected is their list)."),
    path: Optional[str] = typer.Option(None, "--path", help="Text: the metadata key it is stored under (default: NAME)."),
    description: str = typer.Option("", "--description", "-d", help="What reviewers should judge (shown in review)."),
    replace: bool = typer.Option(False, "--replace", help="Change the configuration of that name if it exists."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Add a score configuration to the project."""
    from store.review import add_score_config, logged_score_rows, make_config, parse_option

    with user_errors():
        options = [parse_option(o) for o in option]
        config = make_config(name, type_, options, to_expected=to_expected, multi=multi, path=path,
                             description=description)
        store = open_store()
        add_score_config(store, state.project, config, author=author, replace=replace)
        sys.stdout.write(f"score {config.name!r} {'saved' if replace else 'added'} ({_describe(config)})\n")
        clash = logged_score_rows(store, state.project, config.name) if config.type != "text" and not config.to_expected else 0
        if clash:
            note(f"note: {clash} rows already have scores.{config.name} from logging; on a row a reviewer scores,"
                 f" the reviewers' average replaces it (pick another name to keep both)")


@scores_app.command("remove")
def scores_remove_cmd(
    name: str = typer.Argument(..., metavar="NAME"),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Remove a score configuration. The values reviewers gave stay on the rows."""
    from store.review import remove_score_config

    with user_errors():
        store = open_store(must_exist=True)
        remove_score_config(store, state.project, name, author=author)
        sys.stdout.write(f"score {name!r} removed (the values reviewers gave stay on the rows)\n")


# --- flag / queue --------------------------------------------------------------------------------

@app.command("flag")
def flag_cmd(
    row_ids: List[str] = typer.Argument(None, metavar="[ROW_ID]...", help="Rows whose traces to flag (any span of a trace)."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="Flag every trace with a span matching this filter expression."),
    assign: Optional[str] = typer.Option(None, "--assign", help="Assign the traces to this person."),
    reopen: bool = typer.Option(False, "--reopen", help="Put traces already reviewed (complete) back in the backlog."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Put traces into the review queue's backlog, optionally assigned to someone. A trace
    already queued keeps its state: flagging again never undoes a review (--reopen does)."""
    from store.projects import project_id
    from store.review import flag, trace_root_ids
    from store.selection import Selection, selection_root_ids

    with user_errors():
        row_ids = list(row_ids or [])
        if filter_ is not None and row_ids:
            raise UsageError("give --filter or row ids, not both")
        if filter_ is None and not row_ids:
            raise UsageError("nothing to flag: give --filter EXPR or row ids")
        if filter_ is not None and not filter_.strip():
            raise UsageError("--filter is empty: give a filter expression, e.g. --filter \"scores.user_rating < 0.3\"")
        if assign is not None and not assign.strip():
            raise UsageError("--assign is empty: give a person's name")
        store = open_store(must_exist=True)
        project_id(store, state.project, create=False)  # a missing project says so (exit 2)
        if filter_ is not None:
            sel = Selection(state.project, filter_, "traces", strict=True)
            traces = list(selection_root_ids(store, sel))  # a bad filter fails here, before any write
            note_hints(store, filter_)
            if not traces:
                sys.stdout.write("flagged 0 traces: no trace matches the filter\n")
                return
        else:
            traces = trace_root_ids(store, state.project, row_ids)  # an unknown id: exit 2, nothing flagged
        from store.review import get_item

        done_before = sum(1 for t in traces if (q := get_item(store, state.project, t)) and q.state == "complete")
        added, _ = flag(store, state.project, traces, assignee=assign.strip() if assign else None, author=author,
                        reopen=reopen)
        n, already = len(traces), len(traces) - added
        to = f", assigned to {assign.strip()}" if assign else ""
        sys.stdout.write(f"flagged {n} trace{'s' if n != 1 else ''} ({already} already queued){to}\n")
        if done_before:
            note(f"{done_before} of them already reviewed: " + ("back in the backlog (--reopen)" if reopen else
                                                               "kept complete (--reopen reviews them again)"))


@app.command("queue")
def queue_cmd(
    state_: Optional[str] = typer.Option(None, "--state", "-s", help="backlog | pending | complete"),
    assignee: Optional[str] = typer.Option(None, "--assignee", "-a", help="Only items assigned to this person."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """The review queue, in the order traces were flagged."""
    from store.review import STATES, queue_counts, queue_items

    with user_errors():
        check_format(fmt)
        if state_ is not None and state_ not in STATES:
            raise UsageError(f"--state {state_!r}: expected one of {', '.join(STATES)}")
        store = open_store(readonly=True)
        items = queue_items(store, state.project, state=state_, assignee=assignee)
        if fmt == "jsonl":
            print_jsonl(i.to_json() for i in items)
            return
        counts = queue_counts(store, state.project, assignee=assignee)
        summary = ", ".join(f"{counts[s]} {s}" for s in STATES)
        if not items:
            what = f"{state_} " if state_ else ""
            who = f" assigned to {assignee}" if assignee else ""
            note(f"no {what}items in the review queue of project {state.project!r}{who} ({summary});"
                 " `bt-tui flag --filter EXPR` adds traces")
            return
        print_rows(["id", "state", "assignee", "updated", "flagged/completed by"],
               [[i.id, i.state, i.assignee or "", table_ts(i.updated), (i.completed_by if i.state == "complete" else i.flagged_by) or ""]
                for i in items])
        note(f"queue: {summary}")


# --- review --------------------------------------------------------------------------------------

def launch_review(db_path: str, project: str, start_review: dict) -> None:
    from tui.app import run_app  # Textual is imported only here

    run_app(db_path, project, start_review=start_review)


@app.command("review")
def review_cmd(
    filter_: Optional[str] = typer.Option(None, "--filter", help="Review the traces matching this filter (default: the queue)."),
    mine: bool = typer.Option(False, "--mine", help="Only the queue items assigned to me."),
    author: Optional[str] = typer.Option(None, "--author", help="Who reviews (default: $BT_TUI_USER, else the OS user)."),
) -> None:
    """Launch the TUI into focused review of the queue (or of a filter's traces)."""
    from store.paths import resolve_db_path
    from store.projects import project_id
    from store.selection import Selection, count_selection

    with user_errors():
        if filter_ is not None and not filter_.strip():
            filter_ = None  # a blank filter is no filter, as in the TUI
        if author is not None:
            if not author.strip():
                raise UsageError("--author is empty: give a person's name")
            os.environ["BT_TUI_USER"] = author.strip()  # the TUI's acting person
        path = resolve_db_path(state.db)
        store = open_store(readonly=True)  # a missing, damaged or foreign file: exit 2 before the TUI starts
        try:
            project_id(store, state.project, create=False)
            if filter_ is not None:  # a bad filter fails here, not on the screen
                count_selection(store, Selection(state.project, filter_, "traces", strict=True))
                note_hints(store, filter_)
        finally:
            store.close()
    try:
        launch_review(str(path), state.project, {"filter": filter_, "mine": mine})
    except TypeError as exc:  # a TUI without focused review
        if "start_review" not in str(exc):
            raise
        raise fail("this bt-tui's TUI has no focused review yet", 1) from None


__all__ = ["launch_review", "scores_app"]
