"""Issue 12's playground budgets in the real app (DESIGN.md section 6).

    python bench/bench_playground_tui.py [--rows 200] [--big-rows 1000] [--stream]

1. Run wall time and keys during a run: a playground over a dataset of --rows records with two
   variants (two prompt versions, each on a model configuration pointing at tests/llm_server.py's
   FakeLLMServer with latency 0.1 s), concurrency 20, run with `r` in a headless Textual harness
   at 120x40. Wall time is the engine's (first request sent to last response received; ideal
   rows x 2 x 0.1 / 20). While it runs, j/k alternate every ~50 ms: each key's time from the key
   event reaching the app to the first frame displayed after its handler moved the cursor.
2. A playground of --big-rows records x 4 variants with the offline model, every cell already
   run and stored: opening the grid (push to the first frame showing rows), j/k with nothing
   running, and j/k while the 4,000 cells run again on the offline model.

Prints one JSON object; bench/RESULTS.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

KEY_ENV = "BT_TUI_BENCH_FAKE_KEY"


def stats(ts: list[float]) -> dict:
    ts = sorted(ts)
    if not ts:
        return {"n": 0}
    return {"n": len(ts), "median_ms": round(statistics.median(ts), 1),
            "p95_ms": round(ts[max(0, int(len(ts) * 0.95) - 1)], 1), "max_ms": round(ts[-1], 1)}


def build_small(db: Path, rows: int, base_url: str) -> None:
    from store import Store
    from store.datasets import upsert_records
    from store.experiments import save_playground
    from store.model_configs import add_model
    from store.prompts import save_prompt

    store = Store(db)
    try:
        upsert_records(store, "default", "bench", [
            {"id": f"r{i:04d}", "input": {"question": f"how do I get a refund for order {i}?"},
             "expected": f"echo: how do I get a refund for order {i}?"} for i in range(rows)], author="bench")
        save_prompt(store, "default", "bot", [{"role": "user", "content": "{{question}}"}], author="bench")
        save_prompt(store, "default", "bot", [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "{{question}} Thanks."}], author="bench")
        for name in ("fake-a", "fake-b"):
            add_model(store, name, "openai/fake-model", api_base=base_url, key_env=KEY_ENV, input_price=0.15,
                      output_price=0.6)
        save_playground(store, "default", "bench", dataset="bench", dataset_version=None, author="bench",
                        variants=[{"id": "A", "prompt": "bot@1", "model": "fake-a"},
                                  {"id": "B", "prompt": "bot@2", "model": "fake-b"}])
    finally:
        store.close()


def build_big(db: Path, rows: int) -> None:
    """The demo corpus as the project's logs (what the offline model answers from), a dataset of
    ``rows`` of its questions, 4 variants on the offline model, every cell run and stored."""
    from tui_fixtures import import_sample, sample_roots

    from engine.llm import LLMClient
    from engine.offline import OfflineModel
    from engine.playground import PlaygroundSession
    from engine.scorers import resolve_scorer
    from store import Store
    from store.datasets import upsert_records
    from store.experiments import save_playground
    from store.prompts import save_prompt
    from tui.format import preview
    import orjson

    import_sample(db)
    roots = [r for r in sample_roots() if r.get("input")]
    store = Store(db)
    try:
        records = []
        for i in range(rows):
            r = roots[i % len(roots)]
            q = preview(orjson.dumps(r["input"]).decode(), 400)
            records.append({"id": f"b{i:05d}", "input": {"question": q},
                            "expected": preview(orjson.dumps(r.get("output")).decode(), 400)})
        upsert_records(store, "default", "big", records, author="bench")
        save_prompt(store, "default", "support", [{"role": "user", "content": "{{question}}"}], author="bench")
        save_prompt(store, "default", "support", [{"role": "system", "content": "Refunds within 14 days."},
                                                  {"role": "user", "content": "{{question}}"}], author="bench")
        save_playground(store, "default", "big", dataset="big", dataset_version=None, author="bench",
                        variants=[{"id": "A", "prompt": "support@1", "model": "offline"},
                                  {"id": "B", "prompt": "support@2", "model": "offline"},
                                  {"id": "C", "prompt": "support@1", "model": "offline", "params": {"temperature": 1}},
                                  {"id": "D", "prompt": "support@2", "model": "offline", "params": {"seed": 2}}])
        session = PlaygroundSession(store, "default", "big")
        client = LLMClient(concurrency=20, offline=OfflineModel(store, "default"))
        scorers = [resolve_scorer("Levenshtein"), resolve_scorer("ExactMatch")]
        asyncio.run(session.run_cells(client=client, scorers=scorers, stream=False))
    finally:
        store.close()


class KeyTimer:
    """Key event sent -> its handler moved the table's cursor -> the first frame after that."""

    def __init__(self, app, frames: list[float]):
        self.app = app
        self.frames = frames
        self.handled: list[float] = []
        self.times: list[float] = []
        self.hooked = None

    def hook(self, table) -> None:
        if self.hooked is table:
            return
        orig = type(table).watch_cursor_row

        def watch(old: int, new: int) -> None:
            self.handled.append(time.perf_counter())
            orig(table, old, new)

        table.watch_cursor_row = watch
        self.hooked = table

    async def press(self, pilot, key: str) -> None:
        from textual import events
        from tui_harness import until

        n = len(self.handled)
        t0 = time.perf_counter()
        ev = events.Key(key, key)
        ev.set_sender(self.app)
        self.app._driver.send_message(ev)
        await until(pilot, lambda: len(self.handled) > n, 10)
        th = self.handled[n]
        await until(pilot, lambda: self.frames and self.frames[-1] > th, 10)
        self.times.append((next(f for f in self.frames if f > th) - t0) * 1000)


async def measure_small(db: str, stream) -> dict:
    from tui.app import BtTuiApp
    from tui.screens.playground import PlaygroundScreen
    from tui_harness import record_frames, until

    app = BtTuiApp(db, "default")
    app.animation_level = "none"
    frames = record_frames(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        screen = PlaygroundScreen("bench")
        screen.stream = stream
        app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.table.rows)
        await pilot.pause(0.3)
        timer = KeyTimer(app, frames)
        timer.hook(screen.table)
        # the model client's first load (litellm, in a thread) is not part of the run's wall time
        await pilot.press("r")
        await until(pilot, lambda: screen.state == "running" and any(
            c.status != "pending" for c in screen.session.cells.values()), 60)
        i = 0
        while screen.state == "running":
            await timer.press(pilot, "j" if i % 2 == 0 else "k")
            i += 1
            await asyncio.sleep(0.05)
        await until(pilot, lambda: screen.state in ("done", "cancelled"), 60)
        cells = list(screen.session.cells.values())
        wall = screen.run_wall if screen.run_in_process else screen.session.run.wall_time
        out = {"cells": len(cells), "errors": sum(c.status == "error" for c in cells),
               "in_process": not screen.run_in_process, "wall_s": round(wall, 3),
               "keys_during_run": stats(timer.times)}
    return out


async def measure_big(db: str) -> dict:
    from tui.app import BtTuiApp
    from tui.screens.playground import PlaygroundScreen
    from tui_harness import record_frames, until

    app = BtTuiApp(db, "default")
    app.animation_level = "none"
    frames = record_frames(app)
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        screen = PlaygroundScreen("big")
        t0 = time.perf_counter()
        app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.table.rows)
        t_rows = time.perf_counter()
        await until(pilot, lambda: frames and frames[-1] > t_rows)
        out["first_paint_ms"] = round((next(f for f in frames if f > t_rows) - t0) * 1000, 1)
        out["cells"] = len(screen.session.cells)
        await pilot.pause(0.5)
        timer = KeyTimer(app, frames)
        timer.hook(screen.table)
        for i in range(60):  # down 40 rows (pages load on the way), then back up
            await timer.press(pilot, "j" if i < 40 else "k")
            await asyncio.sleep(0.02)
        out["keys_idle"] = stats(timer.times)
        timer.times = []
        await pilot.press("r")
        await until(pilot, lambda: screen.state == "running" and screen.run_cells_, 60)
        i = 0
        while screen.state == "running" and i < 400:
            await timer.press(pilot, "j" if (i // 20) % 2 == 0 else "k")
            i += 1
            await asyncio.sleep(0.05)
        out["keys_during_offline_run"] = stats(timer.times)
        await until(pilot, lambda: screen.state in ("done", "cancelled"), 600)
        wall = screen.run_wall if screen.run_in_process else screen.session.run.wall_time
        out["offline_run_wall_s"] = round(wall, 2) if wall else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--big-rows", type=int, default=1000)
    ap.add_argument("--stream", choices=("auto", "on", "off"), default="auto",
                    help="stream the answers into the cells (auto: the screen's rule, small runs only)")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--server", choices=("thread", "process"), default="process",
                    help="the fake model server in a thread of this process, or in a child process (default: "
                         "a real model server is not in the TUI's process, so its CPU should not share our GIL)")
    args = ap.parse_args()
    os.environ[KEY_ENV] = "sk-bench-not-a-real-key"
    os.environ.setdefault("BT_TUI_CONFIG", str(Path(tempfile.gettempdir()) / "bt-tui-bench-config.json"))
    from bench_llm import Server

    work = Path(tempfile.mkdtemp(prefix="bench-playground-"))
    result: dict = {}
    try:
        with Server(args.server, 0.1) as server:
            db = work / "small.db"
            build_small(db, args.rows, server.base_url)
            small = asyncio.run(measure_small(str(db), {"auto": None, "on": True, "off": False}[args.stream]))
            small["ideal_s"] = round(args.rows * 2 * 0.1 / 20, 3)
            small["ratio"] = round(small["wall_s"] / small["ideal_s"], 3)
            small["server"] = args.server
            if args.server == "thread":
                small["max_in_flight"] = server.fake.max_in_flight
            result["run_200x2"] = small
        if not args.skip_big:
            db = work / "big.db"
            t = time.perf_counter()
            build_big(db, args.big_rows)
            result["big_build_s"] = round(time.perf_counter() - t, 1)
            result["grid_1000x4"] = asyncio.run(measure_big(str(db)))
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
