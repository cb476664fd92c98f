"""Issue 11's key budget: every review key repaints in under 50 ms (DESIGN.md section 6).

    python bench/bench_review_tui.py [--db DB] [--items 40]

Builds a copy of the demo database (bt-tui demo's logs, score configurations and queue) with
--items more traces flagged, opens focused review on the queue in a headless Textual harness at
160x48 and reviews every item keyboard-only as a person does: pick a tone (1-3), tab, type a
helpfulness, tab, thumbs, enter (complete and advance); every tenth item also `u` (undo) and `j`.
For each key: from the key press to the first frame displayed after it (the writes run in a
thread; the screen repaints from what it knows). Prints median, p95 and max per key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build(db: Path, items: int) -> None:
    subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(db), "demo", "--no-launch"], check=True,
                   cwd=ROOT, capture_output=True)
    from store import Store
    from store.review import flag
    from store.selection import Selection, selection_root_ids

    store = Store(db)
    ids = list(selection_root_ids(store, Selection("default", "scores.user_rating >= 0.6", strict=True)))[:items]
    flag(store, "default", ids, author="bench")
    store.close()


async def measure(db: str, items: int) -> dict:
    from tui.app import BtTuiApp
    from tui_harness import record_frames, until
    from tui.screens.review import FocusedReviewScreen

    app = BtTuiApp(db, "default")
    frames = record_frames(app)
    times: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(1.0)
        app.push_screen(FocusedReviewScreen("default"))
        await until(pilot, lambda: isinstance(app.screen, FocusedReviewScreen) and app.screen.ready)
        screen = app.screen
        await pilot.pause(0.5)

        async def key(k: str, label: str) -> None:
            t0 = time.perf_counter()
            await pilot.press(k)
            await until(pilot, lambda: frames and frames[-1] > t0)
            times.setdefault(label, []).append((next(f for f in frames if f > t0) - t0) * 1000)

        for i in range(items):
            if screen.item is None:
                break
            await key(str(i % 3 + 1), "1-9 (pick an option)")
            await key("tab", "tab (next field)")
            await key("7", "digit (continuous)")
            await key("tab", "tab (next field)")
            await key("1" if i % 2 else "2", "1/2 (thumbs)")
            if i % 10 == 9:
                await key("u", "u (undo)")
                await key("j", "j (next item)")
                await key("k", "k (previous item)")
            await key("enter", "enter (complete, advance)")
            await pilot.pause(0.05)  # a person's pace between items (the writes are threads)
        await until(pilot, lambda: screen.idle)
    out = {}
    for label, ts in times.items():
        ts.sort()
        out[label] = {"n": len(ts), "median_ms": round(statistics.median(ts), 1),
                      "p95_ms": round(ts[int(len(ts) * 0.95) - 1 if len(ts) > 1 else 0], 1), "max_ms": round(ts[-1], 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        db = work / "review.db"
        build(db, args.items)
        print(json.dumps(asyncio.run(measure(str(db), args.items)), indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
