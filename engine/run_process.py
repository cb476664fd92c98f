"""Playground runs in a process of their own.

litellm spends ~4 ms of CPU per call (bench/RESULTS.md, issue 12). A playground run of 200
calls a second in the TUI's process shares one interpreter lock with the screen: the run is
slower and the keys wait. :class:`RunProcess` is a worker process (started at the first run,
kept warm) that runs :class:`engine.playground.PlaygroundSession` cells with its own
interpreter, its own litellm and its own SQLite connection; each cell change comes back as a
message and the screen paints it. The two cores work side by side.

The worker is ``python -m engine.run_process DB PROJECT CONCURRENCY``. Messages are JSON lines
on its stdin and stdout (anything else it would print goes to /dev/null: the screen owns the
terminal):
  to the worker:   ["run", {playground, only, scorers, judge, stream}], ["cancel"], ["exit"]
  from the worker: ["status", text], ["cell", Cell fields], ["done", {...}], ["error", line]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from typing import Callable, Optional

import orjson

from .runs import Cell


class _Lines:
    """One JSON message per line over a pair of binary streams."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.lock = threading.Lock()

    def send(self, msg) -> None:
        data = orjson.dumps(msg, default=str) + b"\n"
        with self.lock:
            self.writer.write(data)
            self.writer.flush()

    def recv(self):
        line = self.reader.readline()
        if not line:
            raise EOFError
        return orjson.loads(line)


def _judge(store, name: Optional[str]):
    if not name:
        return None
    from store.model_configs import get_model

    from .scorers import JudgeModel

    cfg = get_model(store, name)
    return JudgeModel(model=cfg.model, api_base=cfg.api_base, key_env=cfg.key_env, params=dict(cfg.params))


def _worker(conn, db_path: str, project: str, concurrency: int) -> None:
    """The worker process: one run at a time, cancel at any moment, exit on ("exit",) or EOF."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from store.connection import Store

    from .llm import LLMClient
    from .offline import OfflineModel
    from .playground import PlaygroundSession
    from .scorers import resolve_scorer

    store = Store(db_path)
    client = LLMClient(concurrency=concurrency, offline=OfflineModel(store, project))
    loop = asyncio.new_event_loop()
    current: dict = {}
    send_lock = threading.Lock()  # the run's loop and the command reader both send

    def send(msg) -> None:
        with send_lock:
            try:
                conn.send(msg)
            except (BrokenPipeError, OSError, ValueError):
                pass

    async def run(req: dict) -> None:
        try:
            session = PlaygroundSession(store, project, req["playground"])
            current["session"] = session
            only = [tuple(k) for k in req["only"]] if req.get("only") is not None else None
            keys = set(only) if only is not None else None
            variants = [v for v in session.variants if keys is None or any(k[0] == v.id for k in keys)]
            judge = _judge(store, req.get("judge"))
            scorers = [resolve_scorer(n, judge=judge) for n in req.get("scorers") or []]
            if any(not v.model.offline for v in variants) or any(s.llm for s in scorers):
                send(["status", "model client"])
                await client.warm_up()
            if current.get("cancelled"):
                send(["done", {"cancelled": True}])
                return
            send(["status", "running"])

            def on_cell(cell: Cell) -> None:
                send(["cell", asdict(cell)])

            await session.run_cells(client=client, scorers=scorers, only=only, on_cell=on_cell,
                                    stream=bool(req.get("stream")))
            run_ = session.run
            send(["done", {"first_request": run_.first_request if run_ else None,
                           "last_response": run_.last_response if run_ else None}])
        except Exception as exc:
            send(["error", f"{type(exc).__name__}: {exc}"])
        finally:
            current.clear()
            store.release_thread()

    def reader() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = ("exit",)
            kind = msg[0]
            if kind == "run":
                current["cancelled"] = False
                loop.call_soon_threadsafe(lambda req=msg[1]: loop.create_task(run(req)))
            elif kind == "cancel":
                def cancel() -> None:
                    current["cancelled"] = True
                    session = current.get("session")
                    if session is not None:
                        session.cancel()
                loop.call_soon_threadsafe(cancel)
            elif kind == "exit":
                loop.call_soon_threadsafe(loop.stop)
                return

    threading.Thread(target=reader, name="bt-tui-run-commands", daemon=True).start()
    send(["status", "ready"])
    try:
        loop.run_forever()
    finally:
        store.close()


class RunProcess:
    """A warm worker process for playground runs (see the module docstring). ``run`` is awaited
    on the caller's loop; the messages are read in a thread and handed to ``on_cell`` there
    (make it thread-safe). One run at a time."""

    def __init__(self, db_path: str, project: str, *, concurrency: int = 20):
        self.db_path = str(db_path)
        self.project = project
        self.concurrency = concurrency
        self._proc: Optional[subprocess.Popen] = None
        self._conn: Optional[_Lines] = None
        self._lock = threading.Lock()

    def start(self) -> "RunProcess":
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + [env.get("PYTHONPATH", "")])
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "engine.run_process", self.db_path, self.project, str(self.concurrency)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                    start_new_session=True)  # ctrl+c in the terminal is the screen's, not the worker's
                self._conn = _Lines(self._proc.stdout, self._proc.stdin)
        return self

    async def run(self, playground: str, *, only=None, scorers=(), judge: Optional[str] = None, stream: bool = False,
                  on_cell: Callable[[Cell], None], on_status: Callable[[str], None] = lambda s: None) -> dict:
        """Run the cells in the worker; returns its "done" payload. Raises RuntimeError with the
        worker's one-line error, or when the worker died."""
        self.start()
        conn = self._conn
        try:
            conn.send(["run", {"playground": playground, "only": [list(k) for k in only] if only is not None else None,
                               "scorers": list(scorers), "judge": judge, "stream": stream}])
        except (BrokenPipeError, OSError, ValueError):
            raise RuntimeError("the run process stopped unexpectedly") from None

        def pump() -> dict:
            while True:
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError, ValueError):
                    raise RuntimeError("the run process stopped unexpectedly") from None
                if kind == "cell":
                    on_cell(Cell(**payload))
                elif kind == "status":
                    if payload != "ready":
                        on_status(payload)
                elif kind == "done":
                    return payload
                elif kind == "error":
                    raise RuntimeError(payload)

        return await asyncio.to_thread(pump)

    def cancel(self) -> None:
        """Cancel the run in progress: the worker cancels its cells and then says done."""
        if self._conn is not None:
            try:
                self._conn.send(["cancel"])
            except (BrokenPipeError, OSError, ValueError):
                pass

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(["exit"])
                except (BrokenPipeError, OSError, ValueError):
                    pass
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                for f in (self._proc.stdin, self._proc.stdout):
                    try:
                        f.close()
                    except OSError:
                        pass
            self._proc = self._conn = None


def main(argv: list[str]) -> None:
    """The worker's entry: stdin and stdout carry the messages; fd 1 is then /dev/null, so
    nothing a library prints can break a message line."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = open(os.devnull, "w")
    _worker(_Lines(sys.stdin.buffer, out), argv[0], argv[1], int(argv[2]))


if __name__ == "__main__":
    main(sys.argv[1:])
