"""Import/export benchmark (issue 2's budget; issue 8: varied corpora).

    python bench/bench_import.py [--spans 1000000] [--shape default]
    python bench/bench_import.py --all-shapes [--repeat 2]

In one run, on the same generated file (bench/data/corpus-<N>.jsonl for the default shape,
corpus-<shape>-<N>.jsonl for the others, made by gen_corpus.py if missing):
  1. the plain loader (bench/plain_loader.py: stdlib json + sqlite3.executemany into one
     table without indexes) into a fresh database;
  2. `bt-tui import logs` (validation, upsert, secondary indexes, FTS5, score/tag side
     tables) into a fresh database, right after (back to back: same load, warm page cache);
  3. `bt-tui export logs -o FILE` of everything imported (single-shape runs, or --export).
Prints wall-clock seconds, spans/s, the import ratio (ours / plain; <= 1.0 meets the budget),
the CPU seconds of each side (all its processes) and, because the box is shared, what else was
running: "others" = cores kept busy by other processes during the run (from /proc/stat minus
our own CPU time; 1.0 = one of the two cores taken throughout) and the 1-minute load average
(which includes the benchmark's own processes and lags). Ours parses in a second process: with
one core taken by others it cannot overlap, and the ratio tends to its CPU ratio.

--all-shapes runs every shape of gen_corpus.py (200,000 spans each; long-transcript 20,000,
~640 MB, as 200,000 of ~32 KB would be 6 GB; --spans overrides the default shape's count)
and prints one table. --repeat N runs each comparison N times (each pair back to back).
--source DIR runs bt-tui from another source tree (an older revision: before/after figures).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from gen_corpus import SHAPES  # noqa: E402

ALL_SHAPES = ("default", *SHAPES)
SHAPE_SPANS = {"long-transcript": 20_000}  # --all-shapes counts; others 200,000


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat; 0 elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


LAST: dict = {}  # the last run's CPU figures


def run(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of ``cmd``. Also records in LAST its CPU seconds (all its processes) and
    ``others``: how many cores other processes kept busy meanwhile, on average (the box is
    shared: 1.0 means one of the two cores was taken for the whole run)."""
    r0, b0 = resource.getrusage(resource.RUSAGE_CHILDREN), _busy_seconds()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    r1, b1 = resource.getrusage(resource.RUSAGE_CHILDREN), _busy_seconds()
    if done.returncode:
        sys.stderr.buffer.write(done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    LAST.update(cpu=cpu, others=max(0.0, (b1 - b0 - cpu) / elapsed) if b1 else float("nan"))
    return elapsed


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def load() -> str:
    return "%.2f" % os.getloadavg()[0]


def corpus_file(shape: str, spans: int) -> Path:
    DATA.mkdir(exist_ok=True)
    name = f"corpus-{spans}.jsonl" if shape == "default" else f"corpus-{shape}-{spans}.jsonl"
    path = DATA / name
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        tmp = path.with_suffix(".tmp")
        run([sys.executable, str(HERE / "gen_corpus.py"), str(spans), "--shape", shape, "-o", str(tmp)])
        tmp.rename(path)
    return path


SOURCE: list[str] = []  # --source DIR: run bt-tui from that source tree instead


def bt_tui() -> list[str]:
    if SOURCE:
        boot = f"import sys; sys.path.insert(0, {SOURCE[0]!r}); from tui.cli import main; sys.exit(main())"
        return [sys.executable, "-c", boot]
    beside = Path(sys.executable).parent / "bt-tui"
    return [str(beside) if beside.exists() else (shutil.which("bt-tui") or "bt-tui")]


def compare(shape: str, spans: int, *, export: bool, verbose: bool = True) -> dict:
    corpus = corpus_file(shape, spans)
    size_mb = corpus.stat().st_size / 1e6
    if verbose:
        print(f"corpus: {shape}, {spans} spans, {size_mb:.0f} MB ({corpus.stat().st_size / spans:.0f} B/span)", flush=True)
    env = {**os.environ, "CI": "1"}
    # Warm the page cache so neither side pays for the first read of the file.
    with open(corpus, "rb") as f:
        while f.read(1 << 24):
            pass
    r = {"shape": shape, "spans": spans, "mb": size_mb, "load_plain": load()}
    r["plain"] = run([sys.executable, str(HERE / "plain_loader.py"), str(corpus), str(fresh(DATA / "plain.db"))])
    r["cpu_plain"], r["others_plain"] = LAST["cpu"], LAST["others"]
    if verbose:
        print(f"plain executemany loader: {r['plain']:7.1f} s  {spans / r['plain']:9.0f} spans/s  "
              f"(cpu {r['cpu_plain']:.1f} s; load {r['load_plain']}, other processes {r['others_plain']:.2f} cores)", flush=True)
    ours_db = fresh(DATA / "bench.db")
    r["load_ours"] = load()
    r["ours"] = run([*bt_tui(), "--db", str(ours_db), "import", "logs", str(corpus)], env)
    r["cpu_ours"], r["others_ours"] = LAST["cpu"], LAST["others"]
    r["load_after"] = load()
    r["ratio"] = r["ours"] / r["plain"]
    if verbose:
        print(f"bt-tui import logs:       {r['ours']:7.1f} s  {spans / r['ours']:9.0f} spans/s  "
              f"(cpu {r['cpu_ours']:.1f} s; load {r['load_ours']}, other processes {r['others_ours']:.2f} cores)", flush=True)
    if export:
        out = DATA / "export.jsonl"
        r["export"] = run([*bt_tui(), "--db", str(ours_db), "export", "logs", "-o", str(out)], env)
        if verbose:
            print(f"bt-tui export logs:       {r['export']:7.1f} s  {spans / r['export']:9.0f} spans/s", flush=True)
    if verbose:
        print(f"import ratio (ours / plain): {r['ratio']:.2f}  (budget: <= 1.00)")
        if export:
            print(f"export rate: {spans / r['export']:.0f} spans/s  (budget: >= 50000)")
        print(f"database size: {ours_db.stat().st_size / 1e6:.0f} MB; plain: {(DATA / 'plain.db').stat().st_size / 1e6:.0f} MB")
    return r


def table(rows: list[dict]) -> None:
    """One line per comparison. cpu: CPU seconds of all the run's processes. others: cores kept
    busy by other processes during each run (plain / ours). load: 1-minute load average before
    each run and after ours (it includes the benchmark's own processes and lags)."""
    print()
    print(f"{'shape':<16} {'spans':>9} {'MB':>5} {'plain s':>7} {'ours s':>7} {'ratio':>5} {'plain/s':>8} "
          f"{'ours/s':>8} {'cpu plain':>9} {'cpu ours':>8}  {'others':>9}  load (plain, ours, after)")
    for r in rows:
        print(f"{r['shape']:<16} {r['spans']:>9,} {r['mb']:>5.0f} {r['plain']:>7.1f} {r['ours']:>7.1f} "
              f"{r['ratio']:>5.2f} {r['spans'] / r['plain']:>8,.0f} {r['spans'] / r['ours']:>8,.0f} "
              f"{r['cpu_plain']:>9.1f} {r['cpu_ours']:>8.1f}  {r['others_plain']:>4.2f}/{r['others_ours']:<4.2f}  "
              f"{r['load_plain']}, {r['load_ours']}, {r['load_after']}", flush=True)
    by_shape: dict = {}
    for r in rows:
        by_shape.setdefault(r["shape"], []).append(r["ratio"])
    if any(len(v) > 1 for v in by_shape.values()):
        print("median ratio: " + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in by_shape.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=None, help="default: 1,000,000 (single shape), see --all-shapes")
    ap.add_argument("--shape", default="default", choices=ALL_SHAPES)
    ap.add_argument("--all-shapes", action="store_true", help="every shape, one table")
    ap.add_argument("--shapes", default="", help="with --all-shapes: a comma-separated subset")
    ap.add_argument("--repeat", type=int, default=1, help="run each comparison N times")
    ap.add_argument("--export", action="store_true", help="also time the export (always on for one shape)")
    ap.add_argument("--source", help="run bt-tui from this source tree (e.g. `git archive REV | tar -x -C DIR`): "
                                     "before/after comparisons")
    a = ap.parse_args()
    if a.source:
        SOURCE.append(str(Path(a.source).resolve()))
    print(time.strftime("%Y-%m-%d %H:%M"), "load", " ".join("%.2f" % x for x in os.getloadavg()), flush=True)
    if not a.all_shapes:
        rows = [compare(a.shape, a.spans or 1_000_000, export=True) for _ in range(a.repeat)]
        if a.repeat > 1:
            table(rows)
        return
    shapes = [s for s in a.shapes.split(",") if s] or list(ALL_SHAPES)
    rows = []
    for shape in shapes:
        spans = (a.spans if shape == "default" and a.spans else SHAPE_SPANS.get(shape, 200_000))
        for _ in range(a.repeat):
            r = compare(shape, spans, export=a.export, verbose=False)
            rows.append(r)
            print(f"  {shape}: plain {r['plain']:.1f} s, ours {r['ours']:.1f} s, ratio {r['ratio']:.2f} "
                  f"(others {r['others_plain']:.2f}/{r['others_ours']:.2f} cores; load {r['load_plain']}, {r['load_ours']})",
                  flush=True)
    table(rows)


if __name__ == "__main__":
    main()
