"""TUI budget of issue 10 on the bench dataset (bench/bench_datasets.py builds it):

    python bench/bench_dataset_tui.py [--db bench/data/datasets.db] [--dataset bench-100k]

In a headless Textual harness, per version (the latest, a middle one, the oldest): from pushing
the dataset's records screen to the first frame that shows its rows (DESIGN.md: a dataset of
100,000 records, first paint under 300 ms, an old version the same as the latest), then `j`
to repaint while browsing. Medians of --runs pushes per version, one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


async def measure(db: str, name: str, runs: int) -> dict:
    from store import Store
    from store.datasets import list_versions
    from tui.app import BtTuiApp
    from tui_harness import record_frames, until
    from tui.screens.datasets import DatasetRecordsScreen, RecordsTable

    store = Store(db, readonly=True)
    versions = [v.version for v in list_versions(store, "default", name)]
    store.close()
    picks = {"latest": None, "middle": versions[len(versions) // 2], "oldest": versions[0]}
    app = BtTuiApp(db, "default")
    frames = record_frames(app)
    out: dict = {}
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(1.0)
        for label, version in picks.items():
            paints = []
            for _ in range(runs):
                t0 = time.perf_counter()
                await app.push_screen(DatasetRecordsScreen("default", name, version))

                def ready():
                    s = app.screen
                    return isinstance(s, DatasetRecordsScreen) and s.query_one(RecordsTable).row_count > 0

                await until(pilot, ready)
                t_rows = time.perf_counter()
                await until(pilot, lambda: frames and frames[-1] >= t_rows)
                paints.append((next(f for f in frames if f >= t_rows) - t0) * 1000)
                keys = []
                for _ in range(20):
                    k0 = time.perf_counter()
                    await pilot.press("j")
                    await until(pilot, lambda: frames[-1] > k0)
                    keys.append((next(f for f in frames if f > k0) - k0) * 1000)
                await app.pop_screen()
                await pilot.pause(0.2)
            out[label] = {"version": version, "first_paint_ms": round(statistics.median(paints), 1),
                          "first_paint_all": [round(p) for p in paints],
                          "key_ms_median": round(statistics.median(keys), 1), "key_ms_max": round(max(keys), 1)}
    out["oldest/latest"] = round(out["oldest"]["first_paint_ms"] / out["latest"]["first_paint_ms"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "bench" / "data" / "datasets.db"))
    ap.add_argument("--dataset", default="bench-100k")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(measure(args.db, args.dataset, args.runs)), indent=1))


if __name__ == "__main__":
    main()
