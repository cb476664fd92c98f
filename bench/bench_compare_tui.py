"""Issue 13's compare budget in the real app (DESIGN.md section 6: compare two experiments of
10,000 rows, first paint under 500 ms; any key to repaint under 50 ms).

    python bench/bench_compare_tui.py [--rows 10000] [--trials 1] [--runs 3] [--db PATH]

The corpus (``build``): two experiments of --rows rows each in a temp database, over the same
inline data. Each row is a trace as the eval runner writes it: an ``eval`` root span (input
~200 characters, output ~400, expected, 3 scores, metadata), a ``task`` span, an ``llm`` span
and one ``score`` span per scorer (6 spans a row). The candidate changes ~30% of the outputs
(and their scores); with --trials N the candidate runs each case N times.

Measured in a headless Textual harness of the real App at 120x40 (the compare screen pushed on
top of the Experiments screen, as enter does):

- first paint: the screen pushed -> the first frame showing the matched rows (the comparison
  without intervals, in a worker), then -> the frame with the score strip's intervals;
- j/k: each key's time from the key event reaching the app to the first frame displayed after
  its handler moved the cursor (the detail pane follows after DETAIL_DELAY_S, not counted),
  down 60 rows (pages load on the way) and back up.

Prints a table (and, with --json, one JSON object); bench/RESULTS.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCORES = ("Levenshtein", "ExactMatch", "Factuality")
WORDS = ("refund order shipping label return policy window days account charge invoice card package "
         "delivery courier warehouse replacement warranty receipt customer support ticket agent answer").split()


def text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    n = 0
    while n < chars:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:chars]


def trace(exp: str, i: int, trial: int, inp: dict, expected: str, output: str, scores: dict, ts: float) -> list:
    root = f"{exp}-{i:05d}-{trial}"
    created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1e6) % 1_000_000:06d}Z"

    def span(sid: str, parent: str | None, kind: str, name: str, **kw) -> dict:
        return {"id": sid, "span_id": sid, "root_span_id": root, "span_parents": [parent] if parent else None,
                "created": created, "span_attributes": {"name": name, "type": kind},
                "metrics": {"start": ts, "end": ts + 0.4}, **kw}

    spans = [span(root, None, "eval", "eval", input=inp, output=output, expected=expected, scores=scores,
                  metadata={"record_id": f"r{i:05d}", "trial": trial}),
             span(f"{root}-t", root, "task", "task", input=inp, output=output),
             span(f"{root}-l", f"{root}-t", "llm", "Chat Completion",
                  input=[{"role": "user", "content": inp["question"]}], output=output,
                  metrics={"start": ts, "end": ts + 0.3, "prompt_tokens": 60, "completion_tokens": 90, "tokens": 150})]
    for name, v in scores.items():
        spans.append(span(f"{root}-s-{name}", root, "score", name, output={"score": v}, scores={name: v}))
    return spans


def build(db: Path, rows: int, trials: int = 1, changed: float = 0.3, seed: int = 13) -> dict:
    """The two experiments ('base', 'candidate') in ``db``; returns what was made."""
    from store import Store
    from store.experiments import create_experiment, finish_experiment
    from store.spans import log_spans

    rng = random.Random(seed)
    cases = []
    for i in range(rows):
        q = f"[{i}] " + text(rng, 190)
        cases.append(({"question": q, "customer": f"c{i % 997}"}, text(rng, 400)))
    store = Store(db)
    t0 = time.perf_counter()
    n_spans = 0
    try:
        for name, n_trials, change in (("base", 1, 0.0), ("candidate", trials, changed)):
            exp = create_experiment(store, "default", name, model="offline", prompt_slug="bot",
                                    prompt_version=1 if name == "base" else 2, author="bench")
            batch: list = []
            ts = 1_893_456_000.0
            for i, (inp, expected) in enumerate(cases):
                for trial in range(n_trials):
                    r = random.Random(seed * 1_000_003 + i)  # the same base answer for both
                    output = expected if r.random() < 0.3 else text(r, 400)
                    scores = {"Levenshtein": round(r.random(), 3), "ExactMatch": float(output == expected),
                              "Factuality": r.choice((0.0, 0.4, 0.6, 1.0))}
                    if rng.random() < change:
                        output = text(rng, 400)
                        scores = {"Levenshtein": round(rng.random(), 3), "ExactMatch": float(output == expected),
                                  "Factuality": rng.choice((0.0, 0.4, 0.6, 1.0))}
                    ts += 0.001
                    batch += trace(name, i, trial, inp, expected, output, scores, ts)
                if len(batch) >= 6000:
                    log_spans(store, exp.rows_project, batch)
                    n_spans += len(batch)
                    batch = []
            if batch:
                log_spans(store, exp.rows_project, batch)
                n_spans += len(batch)
            finish_experiment(store, exp)
    finally:
        store.close()
    return {"rows": rows, "trials": trials, "spans": n_spans, "build_s": round(time.perf_counter() - t0, 1)}


def stats(ts: list[float]) -> dict:
    ts = sorted(ts)
    if not ts:
        return {"n": 0}
    return {"n": len(ts), "median_ms": round(statistics.median(ts), 1),
            "p95_ms": round(ts[max(0, int(len(ts) * 0.95) - 1)], 1), "max_ms": round(ts[-1], 1)}


async def wait(pilot, cond, timeout: float = 30.0, poll: float = 0.02) -> None:
    """Let the app run until ``cond()`` holds, looking every ``poll`` seconds (a busier poll
    takes the GIL from the comparison's worker thread many times a millisecond, which a user's
    idle terminal does not)."""
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError
        await pilot.pause(poll)


def hook_rows(table, at: list) -> None:
    """Record the time the table's rows are first put on (the frame after it shows them)."""
    orig = table._replace

    def replace(*a, **k):
        if not at:
            at.append(time.perf_counter())
        return orig(*a, **k)

    table._replace = replace


async def open_compare(app, pilot, frames: list, how: str) -> tuple:
    """``how``: "explicit" (base and candidate given, as c on two marked does) or "enter" (the
    list's enter: the default base, store.compare.previous_experiment). Returns (screen,
    first paint ms, intervals painted ms)."""
    from tui.screens.experiment_compare import ExperimentCompareScreen
    from tui.screens.experiments import ExperimentsScreen

    lst = app.screen
    assert isinstance(lst, ExperimentsScreen)
    cand = next(e for e in lst.experiments if e.name == "candidate")
    base = next(e for e in lst.experiments if e.name == "base")
    screen = ExperimentCompareScreen(cand, base if how == "explicit" else None)
    at: list = []

    t0 = time.perf_counter()
    app.push_screen(screen)
    await wait(pilot, lambda: screen.is_mounted, poll=0.001)
    hook_rows(screen.table, at)
    iv_at: list = []
    paint = screen._paint_scores

    def paint_scores() -> None:
        paint()
        if screen.comp is not None and not screen.computing and not iv_at:
            iv_at.append(time.perf_counter())

    screen._paint_scores = paint_scores
    await wait(pilot, lambda: at and frames and frames[-1] > at[0])
    first = (next(f for f in frames if f > at[0]) - t0) * 1000
    await wait(pilot, lambda: iv_at and frames and frames[-1] > iv_at[0])
    iv = (next(f for f in frames if f > iv_at[0]) - t0) * 1000
    return screen, round(first, 1), round(iv, 1)


async def measure(db: str, keys: int = 120) -> dict:
    from bench_playground_tui import KeyTimer
    from tui_harness import record_frames

    from tui.app import BtTuiApp
    from tui.screens.experiments import ExperimentsScreen

    app = BtTuiApp(db, "default")
    app.animation_level = "none"
    frames = record_frames(app)
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)  # the Logs screen settles first
        app.switch_to("experiments")
        await wait(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded
                   and app.screen.table.rows)
        await pilot.pause(0.5)
        lst = app.screen
        screen, out["enter_first_paint_ms"], out["enter_intervals_painted_ms"] = \
            await open_compare(app, pilot, frames, "enter")
        app.pop_screen()
        await wait(pilot, lambda: app.screen is lst)
        await pilot.pause(0.3)
        screen, out["first_paint_ms"], out["intervals_painted_ms"] = await open_compare(app, pilot, frames, "explicit")
        out["matched"] = screen.comp.matched
        out["regressions"] = {s.score: s.regressions for s in screen.comp.scores}
        await pilot.pause(0.3)
        timer = KeyTimer(app, frames)
        timer.hook(screen.table)
        for i in range(keys):  # down (pages load on the way), then back up
            await timer.press(pilot, "j" if i < keys // 2 else "k")
            await asyncio.sleep(0.02)
        out["jk"] = stats(timer.times)
        # a mode change (regressed on the first score: m, 2) and a sort (s, 2: worst first)
        for what, change in (("mode_ms", lambda: screen.set_mode(("regressed", screen.comp.score_names()[0]))),
                             ("sort_ms", lambda: screen.set_sort(("worst", screen.comp.score_names()[0])))):
            at: list = []
            hook_rows(screen.table, at)
            t = time.perf_counter()
            change()
            await wait(pilot, lambda: at and frames and frames[-1] > at[0], poll=0.002)
            out[what] = round((next(f for f in frames if f > at[0]) - t) * 1000, 1)
            screen.table._replace = type(screen.table)._replace.__get__(screen.table)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--trials", type=int, default=1, help="candidate trials per case")
    ap.add_argument("--runs", type=int, default=3, help="measurements (a new app each)")
    ap.add_argument("--db", help="reuse (or build once into) this database")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="bt-bench-compare-")) / "compare.db"
    result: dict = {}
    if not db.exists():
        result["corpus"] = build(db, args.rows, args.trials)
    runs = [asyncio.run(measure(str(db))) for _ in range(args.runs)]
    first = sorted(r["first_paint_ms"] for r in runs)
    iv = sorted(r["intervals_painted_ms"] for r in runs)
    jk = [r["jk"] for r in runs]
    result.update({"db": str(db), "runs": runs, "first_paint_ms_median": statistics.median(first),
                   "intervals_ms_median": statistics.median(iv)})
    if args.json:
        print(json.dumps(result))
        return
    c = result.get("corpus")
    if c:
        print(f"corpus: 2 experiments x {c['rows']:,} rows (candidate trials {c['trials']}), {c['spans']:,} spans,"
              f" built in {c['build_s']} s")
    print(f"{'what':<44}{'median':>10}{'worst':>10}{'budget':>10}")
    print(f"{'compare screen: push -> first rows painted':<44}{statistics.median(first):>8.0f}ms{first[-1]:>8.0f}ms"
          f"{'500ms':>10}")
    print(f"{'  -> score strip with intervals painted':<44}{statistics.median(iv):>8.0f}ms{iv[-1]:>8.0f}ms{'':>10}")
    ent = sorted(r["enter_first_paint_ms"] for r in runs)
    print(f"{'enter on the list (default base) -> rows':<44}{statistics.median(ent):>8.0f}ms{ent[-1]:>8.0f}ms"
          f"{'500ms':>10}")
    med = statistics.median(j["median_ms"] for j in jk)
    p95 = max(j["p95_ms"] for j in jk)
    print(f"{'j/k repaint (median of runs; p95 worst run)':<44}{med:>8.1f}ms{p95:>8.1f}ms{'50ms':>10}")
    modes = sorted(r["mode_ms"] for r in runs)
    sorts = sorted(r["sort_ms"] for r in runs)
    print(f"{'mode: regressed on a score -> painted':<44}{statistics.median(modes):>8.1f}ms{modes[-1]:>8.1f}ms"
          f"{'50ms':>10}")
    print(f"{'sort: worst first -> painted':<44}{statistics.median(sorts):>8.1f}ms{sorts[-1]:>8.1f}ms{'50ms':>10}")
    print(f"matched {runs[0]['matched']:,}; regressions {runs[0]['regressions']}")


if __name__ == "__main__":
    main()
