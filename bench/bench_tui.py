"""TUI budgets on the 1M-span bench database (issue 4), in a headless Textual harness.

    python bench/bench_tui.py [--db bench/data/bench.db]

Measures, each in a fresh process:
  * start to first rows painted: from before the interpreter starts (the parent's clock)
    to the moment the logs table holds its first page;
  * key to repaint while browsing: `j` presses (and one page boundary) until the screen
    has refreshed, median and max;
  * filter first page through the filter bar (indexed field), enter to rows shown;
  * opening a trace of 10,000 spans to the first paint of its tree and detail
    (a 10,000-span trace is added to the database once, under trace id big-trace-10k);
  * resident memory (VmRSS) after all of that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIG = "big-trace-10k"


def ensure_big_trace(db: str) -> None:
    from store import Store
    from store.spans import log_spans

    store = Store(db)
    have = store.conn.execute("SELECT count(*) FROM spans WHERE root_span_id = ?", (BIG,)).fetchone()[0]
    if have >= 10_000:
        return
    base = 1_763_100_000.0
    rows = [{"id": BIG, "span_id": BIG, "root_span_id": BIG, "created": None,
             "metrics": {"start": base, "end": base + 600}, "span_attributes": {"name": "batch_job", "type": "task"},
             "input": {"jobs": 100}, "output": {"ok": True}}]
    # 100 workers under the root, 99 steps under each: 1 + 100 + 9,900 = 10,001 spans.
    for w in range(100):
        wid = f"{BIG}-w{w:03d}"
        rows.append({"id": wid, "span_id": wid, "root_span_id": BIG, "span_parents": [BIG],
                     "metrics": {"start": base + w * 5, "end": base + w * 5 + 5},
                     "span_attributes": {"name": f"worker {w}", "type": "task"}, "input": {"worker": w}})
        for k in range(99):
            sid = f"{wid}-s{k:02d}"
            rows.append({"id": sid, "span_id": sid, "root_span_id": BIG, "span_parents": [wid],
                         "metrics": {"start": base + w * 5 + k * 0.05, "end": base + w * 5 + k * 0.05 + 0.04,
                                     "tokens": 100},
                         "span_attributes": {"name": "llm step", "type": "llm"},
                         "input": [{"role": "user", "content": f"step {k} of worker {w}"}],
                         "output": {"role": "assistant", "content": "done"}})
    for r in rows:
        r["created"] = None
    for i in range(0, len(rows), 2000):
        log_spans(store, "default", rows[i:i + 2000])
    store.close()


async def child(db: str, t_spawn: float) -> dict:

    from tui.app import BtTuiApp
    from tui.screens.logs import LogsScreen
    from tui.screens.trace import TraceScreen
    from tui.widgets.span_tree import SpanTree

    out: dict = {}
    app = BtTuiApp(db, "default")
    # Timestamps taken inside the app (Pilot's own waits add ~85 ms per key press, which
    # is harness overhead, not the app): when a frame is displayed, when rows are applied.
    frames: list[float] = []
    applied: list[float] = []
    orig_display = app._display

    def display(*a, **k):
        frames.append(time.perf_counter())
        return orig_display(*a, **k)

    app._display = display
    orig_apply = LogsScreen._apply_page

    def apply(self, *a, **k):
        r = orig_apply(self, *a, **k)
        applied.append(time.perf_counter())
        return r

    LogsScreen._apply_page = apply

    async with app.run_test(size=(160, 48)) as pilot:
        async def until(cond, timeout=30.0):
            end = time.perf_counter() + timeout
            while not cond():
                if time.perf_counter() > end:
                    raise TimeoutError
                await pilot.pause(0.002)

        def table():
            s = app.screen
            return s.query_one("#table") if isinstance(s, LogsScreen) else None

        await until(lambda: table() is not None and table().row_count > 0)
        # first rows: the first frame displayed after the first page was applied
        await until(lambda: frames and frames[-1] >= applied[0])
        first_frame = next(f for f in frames if f >= applied[0])
        out["first_rows_s"] = time.time() - t_spawn - (time.perf_counter() - first_frame)
        await pilot.pause(1.0)
        # key -> next frame while browsing (80 presses cross page boundaries at ~40 and ~90)
        times = []
        for _ in range(80):
            t0 = time.perf_counter()
            await pilot.press("j")
            await until(lambda: frames and frames[-1] > t0)
            await until(lambda: not app.screen.table.fetching)
            times.append((next(f for f in frames if f > t0) - t0) * 1000)
        out["key_ms_all"] = [round(t) for t in times]
        out["key_ms_median"] = statistics.median(times)
        out["key_ms_p95"] = sorted(times)[int(len(times) * 0.95)]
        out["key_ms_max"] = max(times)
        # filter through the bar: enter -> the first frame showing the new rows
        screen = app.screen
        for text in ('metadata.model = "gpt-4o"', "scores.Factuality > 0.9", 'tags includes "vip"',
                     'output MATCH "refund"'):
            screen.query_one("#filter").focus()
            await pilot.pause()
            screen.query_one("#filter").value = text
            n_applied = len(applied)
            t0 = time.perf_counter()
            await pilot.press("enter")
            await until(lambda: len(applied) > n_applied)
            await until(lambda: frames[-1] >= applied[-1])
            shown = next(f for f in frames if f >= applied[-1])
            out[f"filter_ms[{text}]"] = (shown - t0) * 1000
        # the 10k-span trace: push -> first frame with its tree and detail
        t0 = time.perf_counter()
        await app.push_screen(TraceScreen(BIG))
        await until(lambda: isinstance(app.screen, TraceScreen)
                    and len(app.screen.query_one(SpanTree).root.children) > 0
                    and app.screen.span is not None)
        t_ready = time.perf_counter()
        await until(lambda: frames[-1] >= t_ready)
        out["trace_10k_first_paint_ms"] = (next(f for f in frames if f >= t_ready) - t0) * 1000
        out["trace_nodes_created"] = sum(1 for _ in _walk(app.screen.query_one(SpanTree).root))
        # memory
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024
        print(json.dumps(out), flush=True)
        await pilot.press("escape")
        await pilot.pause(0.2)
    return out


def _walk(node):
    for c in node.children:
        yield c
        yield from _walk(c)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "bench" / "data" / "bench.db"))
    ap.add_argument("--child", type=float, default=None)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if a.child is not None:
        try:
            asyncio.run(child(a.db, a.child))
        except Exception:
            pass  # results were printed before teardown
        return
    ensure_big_trace(a.db)
    env = {**os.environ, "BT_TUI_CONFIG": str(ROOT / "bench" / "data" / "bench-config.json")}
    results = []
    for _ in range(a.runs):
        t = time.time()
        p = subprocess.run([sys.executable, __file__, "--db", a.db, "--child", repr(t)], capture_output=True,
                           text=True, env=env)
        lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
        if not lines:
            sys.exit(f"harness failed:\n{p.stdout}\n{p.stderr}")
        results.append(json.loads(lines[-1]))
    for key in results[0]:
        vals = [r[key] for r in results]
        if isinstance(vals[0], list):
            continue  # per-press figures: for debugging with --child
        print(f"{key:<45} " + "  ".join(f"{v:9.3f}" if isinstance(v, float) else f"{v:9}" for v in vals))


if __name__ == "__main__":
    main()
