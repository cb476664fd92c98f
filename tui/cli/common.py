"""What every command group shares: the root Typer app and its `import`/`export` groups, the
global options (--db, --project), opening the store, the error handler (one line on stderr and
the contract's exit code, never a traceback), progress bars and notes on stderr.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 1 anything else.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Callable, Iterator, Optional

import typer

from store.errors import InputError, NotFound, QueryError, QueryTimeout, StoreError

app = typer.Typer(
    name="bt-tui",
    help="Keyboard-first terminal app over one SQLite file: LLM traces, filters, comments, tags, scores, export.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
# Groups that several modules add commands to (`import logs`, later `import dataset`, ...).
import_app = typer.Typer(help="Import spans (logs) or dataset records into the database.", no_args_is_help=True)
export_app = typer.Typer(help="Export logs, a dataset or an experiment (stdout by default).", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


class State:
    db: Optional[str] = None
    project: str = "default"


state = State()


class UsageError(Exception):
    """Bad usage or bad input: exit 2 with one line."""


def fail(msg: str, code: int) -> "typer.Exit":
    sys.stderr.write(f"bt-tui: {msg}\n")
    return typer.Exit(code)


def _db_label() -> str:
    return state.db or os.environ.get("BT_TUI_DB") or "the database"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn our errors into one line on stderr and the contract's exit code; never a traceback."""
    try:
        yield
    except QueryError as exc:
        sys.stderr.write(f"bt-tui: {exc}\n{indent(exc.caret())}\n")
        raise typer.Exit(2) from None
    except QueryTimeout as exc:
        raise fail(f"{exc} (--timeout); narrow the filter or raise --timeout", 2) from None
    except (InputError, UsageError, NotFound) as exc:
        exit_ = fail(str(exc), 2)
        for line in getattr(exc, "also", ()):  # the other bad lines of a file, one each
            note(line)
        raise exit_ from None
    except StoreError as exc:
        raise fail(str(exc), 2) from None
    except KeyboardInterrupt:
        raise fail("interrupted; an import is all or nothing, and re-running it is harmless", 130) from None
    except Terminated as exc:
        try:
            exit_ = fail(f"stopped by {exc.name}; an import is all or nothing, and re-running it is harmless",
                         128 + exc.signum)
        except OSError:  # SIGHUP: the terminal may be gone
            exit_ = typer.Exit(128 + exc.signum)
        raise exit_ from None
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
            from store.models import validation_reason

            raise fail(validation_reason(exc), 2) from None
        from store.connection import database_error  # a file that turned out damaged mid-command

        damaged = database_error(exc, _db_label())
        if damaged is not None:
            raise fail(str(damaged), 2) from None
        raise fail(f"{type(exc).__name__}: {exc}", 1) from None


class Terminated(BaseException):
    """SIGTERM or SIGHUP during a command that cleans up after itself (see ``terminable``)."""

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


@contextmanager
def terminable() -> Iterator[None]:
    """SIGTERM and SIGHUP (a `kill`, a closed terminal) unwind the command like Ctrl-C does,
    instead of ending the process on the spot: the import's transaction rolls back, its parser
    process stops, its spill files and an export's ``.part`` file are removed. The first
    signal does it; more while unwinding are ignored. (SIGKILL cannot be caught: the parser
    process dies with us and the next command removes the files, see store/tempfiles.py.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if not fired:
            fired.append(signum)
            raise Terminated(signum)

    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def open_store(*, readonly: bool = False, must_exist: bool = False):
    """The database of --db / $BT_TUI_DB. ``readonly`` (query, export, projects): never creates,
    never touches a file that is not ours; a missing file is bad usage (exit 2) and leaves no
    file behind."""
    from store import Store
    from store.paths import resolve_db_path

    path = resolve_db_path(state.db)
    if (readonly or must_exist) and not path.exists():
        raise UsageError(f"{path}: no such database (import some logs first, or pass --db)")
    store = Store(path, readonly=readonly, create=not must_exist)
    if store.immutable:
        note(f"note: {path}: its directory is not writable, so it is read as a snapshot"
             " (changes other processes make meanwhile are not seen)")
    return store


def check_timeout(seconds: Optional[float]) -> Optional[float]:
    """--timeout SECONDS: a positive number, or 0 for no limit (None)."""
    if seconds is None or seconds == 0:
        return None
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(f"--timeout {seconds:g}: give a number of seconds (0: no limit)")
    return seconds


def progress_wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bar(description: str, total: Optional[float], unit: str = "bytes") -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; a no-op callback when piped."""
    if not progress_wanted():
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


def note(msg: str) -> None:
    sys.stderr.write(msg + "\n")


def note_hints(store, text: str) -> None:
    """Near-miss names in a query or filter (`scores.factuality`): a note on stderr each."""
    from store.query.hints import query_hints

    for hint in query_hints(store, state.project, text):
        note(f"note: {hint}")


# --- listings (--format table|jsonl) ------------------------------------------------------------

FORMAT_HELP = "table | jsonl"
AUTHOR_HELP = "Who makes the change (default: $BT_TUI_USER, else the OS user)."


def check_format(fmt: str, allowed: tuple = ("table", "jsonl")) -> None:
    if fmt not in allowed:
        raise UsageError(f"unknown format {fmt!r} (expected {' or '.join(allowed)})")


def print_jsonl(rows) -> None:
    from store.jsontext import dumps_text

    out = sys.stdout
    for row in rows:
        out.write(dumps_text(row) + "\n")
    out.flush()


def print_rows(columns: list, rows: list, ids: tuple = (0,)) -> None:
    """Rows as the query command's table (sized to the terminal; id columns are never cut)."""
    from .query import _print_table

    _print_table(SimpleNamespace(columns=columns, rows=rows, id_columns=frozenset(ids)))


def table_ts(text: Optional[str]) -> str:
    """A stored timestamp as a table shows it: to the second, UTC."""
    return (text or "")[:19].replace("T", " ")


@contextmanager
def stop_on_signals(on_stop: Callable[[], None], what: str) -> Iterator[Callable[[], bool]]:
    """While a run (``run``, ``eval``) works on the running event loop: the first ctrl+c (or
    SIGTERM / SIGHUP) calls ``on_stop()`` once and says ``stopping: cancelling WHAT``; a second
    ctrl+c is Python's KeyboardInterrupt (quit at once). Yields ``stopped()``: whether a signal
    came."""
    import asyncio
    import signal

    loop = asyncio.get_running_loop()
    fired: list[int] = []
    handled: list = []

    def stop(signum: int) -> None:
        if fired:
            return
        fired.append(signum)
        on_stop()
        if signum == signal.SIGINT:  # a second ctrl+c: Python's KeyboardInterrupt, quit at once
            loop.remove_signal_handler(signal.SIGINT)
            handled.remove(signal.SIGINT)
        try:
            note(f"stopping: cancelling {what} (ctrl+c again quits at once)")
        except OSError:  # SIGHUP: the terminal may be gone
            pass

    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop, sig)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            pass
    try:
        yield lambda: bool(fired)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
