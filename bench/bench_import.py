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
Prints wall-clock seconds, spans/s, the import ratio (ours / plain; <= 1.0 meets the budget)
and the 1-minute load average before each step (the box is shared: read figures with it).

--all-shapes runs every shape of gen_corpus.py (200,000 spans each; long-transcript 20,000,
~640 MB, as 200,000 of ~32 KB would be 6 GB; --spans overrides the default shape's count)
and prints one table. --repeat N runs each comparison N times (each pair back to back).
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def run(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if done.returncode:
        sys.stderr.buffer.write(done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
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


def bt_tui() -> str:
    beside = Path(sys.executable).parent / "bt-tui"
    return str(beside) if beside.exists() else (shutil.which("bt-tui") or "bt-tui")


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
    if verbose:
        print(f"plain executemany loader: {r['plain']:7.1f} s  {spans / r['plain']:9.0f} spans/s  (load {r['load_plain']})", flush=True)
    ours_db = fresh(DATA / "bench.db")
    r["load_ours"] = load()
    r["ours"] = run([bt_tui(), "--db", str(ours_db), "import", "logs", str(corpus)], env)
    r["load_after"] = load()
    r["ratio"] = r["ours"] / r["plain"]
    if verbose:
        print(f"bt-tui import logs:       {r['ours']:7.1f} s  {spans / r['ours']:9.0f} spans/s  (load {r['load_ours']})", flush=True)
    if export:
        out = DATA / "export.jsonl"
        r["export"] = run([bt_tui(), "--db", str(ours_db), "export", "logs", "-o", str(out)], env)
        if verbose:
            print(f"bt-tui export logs:       {r['export']:7.1f} s  {spans / r['export']:9.0f} spans/s", flush=True)
    if verbose:
        print(f"import ratio (ours / plain): {r['ratio']:.2f}  (budget: <= 1.00)")
        if export:
            print(f"export rate: {spans / r['export']:.0f} spans/s  (budget: >= 50000)")
        print(f"database size: {ours_db.stat().st_size / 1e6:.0f} MB; plain: {(DATA / 'plain.db').stat().st_size / 1e6:.0f} MB")
    return r


def table(rows: list[dict]) -> None:
    print()
    print(f"{'shape':<16} {'spans':>9} {'MB':>6} {'plain s':>8} {'ours s':>8} {'ratio':>6} "
          f"{'plain/s':>9} {'ours/s':>9}  load (plain, ours, after)")
    for r in rows:
        print(f"{r['shape']:<16} {r['spans']:>9,} {r['mb']:>6.0f} {r['plain']:>8.1f} {r['ours']:>8.1f} "
              f"{r['ratio']:>6.2f} {r['spans'] / r['plain']:>9,.0f} {r['spans'] / r['ours']:>9,.0f}  "
              f"{r['load_plain']}, {r['load_ours']}, {r['load_after']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=None, help="default: 1,000,000 (single shape), see --all-shapes")
    ap.add_argument("--shape", default="default", choices=ALL_SHAPES)
    ap.add_argument("--all-shapes", action="store_true", help="every shape, one table")
    ap.add_argument("--shapes", default="", help="with --all-shapes: a comma-separated subset")
    ap.add_argument("--repeat", type=int, default=1, help="run each comparison N times")
    ap.add_argument("--export", action="store_true", help="also time the export (always on for one shape)")
    a = ap.parse_args()
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
                  f"(load {r['load_plain']}, {r['load_ours']})", flush=True)
    table(rows)


if __name__ == "__main__":
    main()
