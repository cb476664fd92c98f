"""Native JSONL import of spans, streaming (the export side is store/export.py)."""

from __future__ import annotations

import functools
import itertools
import marshal
import multiprocessing
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Callable, Optional

from pydantic import ValidationError

from .connection import Store
from .errors import InputError, StoreError
from .migrations import secondary_indexes
from .models import SpanIn, now_iso
from .projects import drop_new_project, ensure_project
from .spans import (
    TraceTimes,
    index_new_rows,
    max_rid,
    project_has_rows,
    record_trace_times,
    span_record,
    write_spans,
)

BATCH = 2000  # rows per batch handed from the parser to the writer, at most...
BATCH_BYTES = 2 << 20  # ...and at most this much JSONL (long spans: smaller batches, the writer starts sooner)
FTS_EVERY = 20_000  # rows between full-text/side-table index passes during an import, at most...
FTS_EVERY_BYTES = 32 << 20  # ...and at most this much JSONL (the rows are read back while still in the page cache)
BULK_MIN_ROWS = 50_000  # past this many rows (and more than the table held) rebuild indexes at the end
MAX_LINE_BYTES = 16 << 20  # one line (one span), its newline included; a longer one is a bad line
MAX_REASONS = 20  # bad lines named one by one (FILE:LINE: reason); the rest are counted
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark (Windows tools write one): accepted at a line's start


# Keys of Braintrust's own exported rows that bt-tui has no use for: ignored without a word
# (any other unknown key is ignored too, but reported: it is likely a typo).
BRAINTRUST_ROW_KEYS = frozenset({
    "_xact_id", "_pagination_key", "_object_delete", "_is_merge", "_merge_paths", "_parent_id", "_async_scoring_state",
    "project_id", "log_id", "org_id", "experiment_id", "dataset_id", "prompt_session_id", "context", "origin",
    "is_root", "span_name", "audit_data",
})


@dataclass
class ImportResult:
    imported: int = 0
    new: int = 0  # rows that were not in the database before
    skipped: int = 0
    lines: int = 0
    reasons: list[str] = field(default_factory=list)  # the first MAX_REASONS skipped lines, "FILE:LINE: why"
    reason_counts: dict[str, int] = field(default_factory=dict)
    trace_times: Optional[TraceTimes] = None  # filled by the parser
    unknown_keys: dict[str, int] = field(default_factory=dict)  # key -> lines that had it (ignored)
    kept_edits: int = 0  # rows whose human edits were kept over the imported values (``write_spans``)


def more_bad_lines(n: int) -> str:
    """The line that ends a list of bad lines cut at MAX_REASONS."""
    return f"... and {n} more bad line{'s' if n != 1 else ''}"


def too_long() -> str:
    return f"line is longer than {MAX_LINE_BYTES / (1 << 20):g} MB (the limit for one span)"


from .models import validation_reason  # noqa: E402  (it explains any SpanIn error; lives with the models)


def _kind(reason: str) -> str:
    return reason.split(":", 1)[0] if not reason.startswith("malformed JSON") else "malformed JSON"


def refresh_stats(conn, new_rows: int) -> None:
    """Keep the planner's statistics fresh: after an import that grew the spans table by
    more than a tenth (or when there are none yet), ANALYZE (~2 s per million spans).
    The query layer picks between index-driven and scan plans; it needs these numbers."""
    total = max_rid(conn)
    has_stats = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).fetchone() and conn.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'spans' LIMIT 1").fetchone()
    if total >= 1000 and (not has_stats or new_rows * 10 >= total):
        for table in ("spans", "span_scores", "span_tags"):
            conn.execute(f"ANALYZE {table}")


def _bulk(rows: int, read: int, size: int, existing: int) -> bool:
    """Whether an import is a bulk load (drop the secondary indexes, rebuild them at the end):
    more than BULK_MIN_ROWS rows and more than the table held. Decided before the first batch
    is written when the file's size is known (its rows estimated from the bytes per row so
    far: the first BULK_MIN_ROWS rows then skip the index upkeep too), else once that many
    rows have come."""
    if size and read:
        rows = max(rows, int(size * rows / read))
    return rows > max(existing, BULK_MIN_ROWS)


def _index_since(conn, after_rid: int) -> int:
    index_new_rows(conn, after_rid)
    return max_rid(conn)


_LINE_ERRORS = (ValidationError, InputError, ValueError, OverflowError, TypeError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    if isinstance(exc, InputError):
        return exc.reason
    return str(exc)


def _second_look(validate, pid, line, import_time, exc):
    """A line that failed: once more without a leading UTF-8 byte order mark, if it has one
    (only bad lines pay for the check). ``(span, record, None)``, or ``(None, None, reason)``."""
    bom = BOM if isinstance(line, bytes) else "\ufeff"
    if line.startswith(bom):
        line = line[len(bom):]
        try:
            span = validate(line)
            return span, span_record(pid, span, line, import_time), None
        except _LINE_ERRORS as again:
            exc = again
    return None, None, _reason(exc)


def _skip_rest(readline) -> int:
    """Read past the rest of a too long line, a MB at a time (never holding it); its bytes."""
    n = 0
    while True:
        chunk = readline(1 << 20)
        n += len(chunk)
        if not chunk or chunk[-1:] in (b"\n", "\n"):
            return n


def _parse_batches(stream, pid, label, skip_invalid, import_time, out) -> None:
    """Producer: read, validate and turn lines into bound parameters, a batch at a time.

    Puts ``(batch, nbytes)`` items, then ``("done", ImportResult)``; or an exception.
    Runs beside the writer (a thread, or a process for big files) so that parsing overlaps
    with SQLite writing.

    A bad line is counted and the first MAX_REASONS are named. Without ``skip_invalid`` the
    first one dooms the import: the rest of the file is still checked (so the error names
    every bad line, not just the first) but no more rows go to the writer, and the end is an
    ``InputError`` for the first bad line with the others in its ``also``.
    """
    result = ImportResult()
    times = TraceTimes()
    add_times = times.add
    validate = SpanIn.__pydantic_validator__.validate_json  # SpanIn.model_validate_json, minus a wrapper
    batch: list = []
    read_bytes = lines = 0
    limit = MAX_LINE_BYTES
    failed = False  # a bad line and not skip_invalid: check the rest, write nothing more
    first_bad: Optional[InputError] = None
    reasons = result.reasons

    def bad_line(lineno: int, reason: str) -> None:
        nonlocal failed, first_bad, batch
        result.skipped += 1
        kind = _kind(reason)
        result.reason_counts[kind] = result.reason_counts.get(kind, 0) + 1
        if len(reasons) < MAX_REASONS:
            reasons.append(f"{label}:{lineno}: {reason}")
        if first_bad is None:
            first_bad = InputError(reason, path=label, line=lineno)
        if not skip_invalid:
            failed, batch = True, []

    # Lines are read at most ``limit + 1`` bytes at a time (a too long line is never held
    # whole); a stream without readline (any iterable of lines) is iterated.
    readline = getattr(stream, "readline", None)
    if readline is not None:
        head = readline(limit + 1)
        source = itertools.chain((head,), iter(functools.partial(readline, limit + 1), head[:0]))
    else:
        source = stream
    try:
        for lineno, line in enumerate(source, 1):
            n = len(line)
            read_bytes += n
            if n > limit:
                if readline is not None and line[-1:] not in (b"\n", "\n"):
                    read_bytes += _skip_rest(readline)
                lines += 1
                bad_line(lineno, too_long())
                continue
            if not line.strip():
                continue
            lines += 1
            try:
                span = validate(line)
                params = span_record(pid, span, line, import_time)
            except _LINE_ERRORS as exc:
                span, params, reason = _second_look(validate, pid, line, import_time, exc)
                if reason is not None:
                    bad_line(lineno, reason)
                    continue
            batch.append((tuple(params), span.comments))  # a plain tuple: see SpanRecord
            add_times(params)
            extra = span.__pydantic_extra__
            if extra:
                for key in extra:
                    if key not in BRAINTRUST_ROW_KEYS:
                        result.unknown_keys[key] = result.unknown_keys.get(key, 0) + 1
            if read_bytes >= BATCH_BYTES or len(batch) >= BATCH:
                out.put((batch if not failed else [], read_bytes))  # doomed: the bytes, for progress
                batch, read_bytes = [], 0
        result.lines = lines
        if failed:
            out.put(([], read_bytes))
            also = reasons[1:]
            if result.skipped > len(reasons):
                also.append(more_bad_lines(result.skipped - len(reasons)))
            first_bad.also = tuple(also)
            out.put(first_bad)
            return
        out.put((batch, read_bytes))
        result.trace_times = times.settle()
        out.put(("done", result))
    except UnicodeDecodeError as exc:
        out.put(InputError(f"not UTF-8 text ({exc.reason})", path=label, line=lines + 1))
    except _Stop:
        raise
    except BaseException as exc:  # an unreadable file: hand it to the writer
        out.put(InputError(f"cannot read: {exc}", path=label))


SPILL_AHEAD = 8  # batches the parser process may have spilled that the writer has not taken yet


class _SpillQueue:
    """The parser process's side of the hand-over: each batch goes to its own file in a
    spill directory and only its name crosses the pipe. Pushing 2 MB batches through a
    multiprocessing queue's pipe made both processes wait on each other (64 KB at a time, each
    chunk needing the feeder thread to win the GIL back from the parser): ~7 s of a 1M-span
    import. The writer answers each batch it takes with one byte; at most SPILL_AHEAD batches
    wait on disk. Batches are written with ``marshal`` (plain tuples of str/int/float/None:
    twice as fast to write as pickle, a little faster to read); a batch with comments
    (pydantic objects) is pickled.

    Plain one-way pipes rather than a ``multiprocessing.Queue``: no named semaphores for the
    resource tracker to find leaked (and warn about on the caller's stderr) when the import
    is killed, and a parser whose writer died gets EOF or EPIPE at once."""

    def __init__(self, items, acks, directory: str) -> None:
        self.items, self.acks, self.directory, self.n, self.ahead = items, acks, directory, 0, 0

    def put(self, item) -> None:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], list):
            while self.ahead >= SPILL_AHEAD:
                self.acks.recv_bytes()  # EOFError when the writer is gone: we end too
                self.ahead -= 1
            self.n += 1
            name = os.path.join(self.directory, f"{self.n}.batch")
            batch, nbytes = item
            if any(comments for _, comments in batch):
                import pickle

                data, fmt = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL), "pickle"
            else:
                data, fmt = marshal.dumps(([params for params, _ in batch], nbytes)), "marshal"
            with open(name, "wb") as f:
                f.write(data)
            item = ("spilled", name, fmt)
            self.ahead += 1
        self.items.send(item)


class _ProcessChannel:
    """The writer's side of the hand-over with the parser process (see ``_SpillQueue``)."""

    def __init__(self, ctx) -> None:
        self.items, self.child_items = ctx.Pipe(duplex=False)  # parser -> writer
        self.child_acks, self.acks = ctx.Pipe(duplex=False)  # writer -> parser, a byte per batch taken

    def started(self) -> None:
        """The parser process has its ends: drop ours, so that its death reads as EOF."""
        self.child_items.close()
        self.child_acks.close()

    def get(self, timeout: float):
        if not self.items.poll(timeout):
            raise queue.Empty
        try:
            item = self.items.recv()
        except EOFError:
            time.sleep(min(timeout, 0.05))  # it ended; let ``_next`` see that it is not alive
            raise queue.Empty from None
        if isinstance(item, tuple) and len(item) == 3 and item[0] == "spilled":
            try:
                self.acks.send_bytes(b"1")
            except OSError:
                pass  # it is gone; _next will say so
        return item

    def close(self) -> None:
        self.items.close()
        self.acks.close()


def _unspill(item):
    """The writer's side of ``_SpillQueue``: read a spilled batch back, remove its file."""
    if isinstance(item, tuple) and len(item) == 3 and item[0] == "spilled":
        _, name, fmt = item
        with open(name, "rb") as f:
            data = f.read()
        os.unlink(name)
        if fmt == "pickle":
            import pickle

            return pickle.loads(data)
        rows, nbytes = marshal.loads(data)
        return [(params, None) for params in rows], nbytes
    return item


def _die_with_parent(parent_pid: int) -> None:
    """The parser process must not outlive the import. A parent killed with SIGKILL runs no
    cleanup: its parser would sleep forever on the full queue, holding the input and the
    caller's stdout/stderr (`bt-tui import logs big.jsonl | tee log` would never end). On
    Linux the kernel kills us with the parent (PR_SET_PDEATHSIG); everywhere a thread checks
    every half second that the parent is still ours (an orphan is re-parented)."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError, TypeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the prctl
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="bt-tui-parent-watch", daemon=True).start()


def _parse_file_in_process(path, pid, label, skip_invalid, import_time, items, acks, spill_dir, parent_pid) -> None:
    """Entry point of the parser process (big files): no GIL shared with the writer."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it terminates us
    _die_with_parent(parent_pid)
    # Nothing to say on stdout and nothing to read from stdin: hold neither of the caller's.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        with open(path, "rb") as stream:
            _parse_batches(stream, pid, label, skip_invalid, import_time, _SpillQueue(items, acks, spill_dir))
    except (EOFError, BrokenPipeError):
        os._exit(1)  # the writer is gone
    items.close()


class _Stop(Exception):
    """The writer stopped listening: the parser thread ends (see ``_ThreadChannel``)."""


class _ThreadChannel(queue.Queue):
    """The hand-over with a parser thread: a bounded queue that the writer can close, after
    which the parser's next ``put`` raises ``_Stop``. Draining it instead (to unblock the
    parser) read a stdin import's whole input before an interrupted import could end."""

    stopped = False

    def put(self, item, block: bool = True, timeout: Optional[float] = None) -> None:
        while True:
            if self.stopped:
                raise _Stop
            try:
                return super().put(item, timeout=0.2)
            except queue.Full:
                continue

    def stop(self) -> None:
        self.stopped = True


def _parse_in_thread(stream, pid, label, skip_invalid, import_time, out) -> None:
    try:
        _parse_batches(stream, pid, label, skip_invalid, import_time, out)
    except _Stop:
        pass


def _next(q, worker):
    """The next item from the producer; an error if it died without a word."""
    while True:
        try:
            return q.get(timeout=0.5)
        except queue.Empty:
            if not worker.is_alive():
                try:
                    return q.get(timeout=0.5)
                except queue.Empty:
                    code = getattr(worker, "exitcode", None)
                    return StoreError(f"the import's parser stopped unexpectedly (exit code {code})")


# Below this a parser thread is enough (no spawn cost). The environment variable is for tests
# (a small file through the process path).
PROCESS_MIN_BYTES = int(os.environ.get("BT_TUI_IMPORT_PROCESS_MIN_BYTES") or 32 * 1024 * 1024)
IMPORT_CACHE_KB = -262144  # 256 MB (negative: KiB, SQLite's convention)


def import_jsonl(
    store: Store,
    project: str,
    stream: IO[bytes],
    *,
    label: str = "<stdin>",
    skip_invalid: bool = False,
    progress: Optional[Callable[[int], None]] = None,
) -> ImportResult:
    """Import spans from a JSONL byte stream.

    Default: all or nothing in one transaction; a bad line raises ``InputError`` for the first
    one (``FILE:LINE: reason``; the next MAX_REASONS - 1 and a count of the rest in its
    ``also``) and nothing is written. ``skip_invalid``: good lines are imported, bad ones
    counted and reported. Re-importing the same rows changes nothing (upsert by id, and an
    update only when a value differs). A missing project is created inside the import's
    transaction: a failed import, or one of no spans, leaves none behind.
    """
    path = getattr(stream, "name", None)
    size = 0
    if isinstance(path, str) and os.path.isfile(path):
        size = os.path.getsize(path)
    from .tempfiles import SpillDir, remove_stale_spill_dirs

    spill: Optional[SpillDir] = None
    worker: "threading.Thread | multiprocessing.process.BaseProcess | None" = None
    q = None
    imported = kept = 0
    # A bigger page cache while importing: the id index takes random inserts and the FTS5
    # segments and index rebuilds sort; 64 MB spilled to the WAL mid-transaction.
    cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KB}")
    try:
        # The parser process spills its batches to files beside the database; making that
        # directory (or, for a thread, just starting) removes what killed imports left.
        if size >= PROCESS_MIN_BYTES:
            spill = SpillDir(store.path)
        else:
            remove_stale_spill_dirs(store.path)
        with store.write() as conn:
            pid, new_project = ensure_project(conn, project)
            args = (pid, label, skip_invalid, now_iso())
            if spill is not None:
                ctx = multiprocessing.get_context("spawn")
                q = _ProcessChannel(ctx)
                worker = ctx.Process(target=_parse_file_in_process, daemon=True,
                                     args=(path, *args, q.child_items, q.child_acks, spill.path, os.getpid()))
                worker.start()
                q.started()
            else:
                q = _ThreadChannel(maxsize=4)
                worker = threading.Thread(target=_parse_in_thread, args=(stream, *args, q), daemon=True)
                worker.start()
            existing = max_rid(conn)
            had_rows = project_has_rows(conn, pid)
            indexed_upto = existing
            dropped: list[tuple[str, str]] = []
            pending = pending_bytes = read = 0
            while True:
                item = _unspill(_next(q, worker))
                if isinstance(item, BaseException):
                    raise item
                if item[0] == "done":
                    result = item[1]
                    break
                batch, nbytes = item
                read += nbytes
                if not dropped and batch and _bulk(imported + len(batch), read, size, existing):
                    # A bulk load: building the secondary indexes once at the end (a sort) is
                    # far cheaper than row by row. Readers keep seeing the old snapshot with
                    # its indexes: the drop and the rebuild are in this one transaction.
                    dropped = secondary_indexes(conn, "spans")
                    for name, _ in dropped:
                        conn.execute(f'DROP INDEX "{name}"')
                if batch:
                    kept += write_spans(conn, pid, batch, index=False)
                    imported += len(batch)
                    pending += len(batch)
                    pending_bytes += nbytes
                if pending >= FTS_EVERY or pending_bytes >= FTS_EVERY_BYTES:
                    indexed_upto = _index_since(conn, indexed_upto)
                    pending = pending_bytes = 0
                if progress:
                    progress(nbytes)
            if new_project and not imported:
                drop_new_project(conn, pid)  # nothing to import: no empty project either
                new = 0
            else:
                _index_since(conn, indexed_upto)
                for _, sql in dropped:
                    conn.execute(sql)
                record_trace_times(conn, pid, result.trace_times, existing, had_rows)
                new = conn.execute("SELECT count(*) FROM spans WHERE rid > ?", (existing,)).fetchone()[0]
                refresh_stats(conn, new)
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(cache)}")
        if isinstance(worker, threading.Thread):
            # Stopped early (error, Ctrl-C, SIGTERM): the parser's next hand-over ends it. One
            # blocked reading a pipe that stays open (`tail -f x | bt-tui import logs -`) is left
            # to end with its next line or the process: it is a daemon thread.
            q.stop()
            worker.join(2)
        elif worker is not None and worker.pid is not None:
            q.close()  # a parser still running meets EOF or EPIPE, and ends
            if worker.is_alive():
                worker.terminate()
                worker.join(5)
                if worker.is_alive():
                    worker.kill()
            worker.join()
        if spill is not None:
            spill.remove()
    result.imported = imported
    result.new = new
    result.kept_edits = kept
    return result
