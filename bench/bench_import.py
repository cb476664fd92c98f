"""Import/export benchmark (issue 2's budget).

    python bench/bench_import.py [--spans 1000000]

In one run, on the same generated file (bench/data/corpus-<N>.jsonl, made by gen_corpus.py
if missing):
  1. the plain loader (bench/plain_loader.py: stdlib json + sqlite3.executemany into one
     table without indexes) into a fresh database;
  2. `bt-tui import logs` (validation, upsert, secondary indexes, FTS5, score/tag side
     tables) into a fresh database;
  3. `bt-tui export logs -o FILE` of everything imported.
Prints wall-clock seconds, spans/s and the import ratio (ours / plain; <= 1.0 meets the budget).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def run(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=1_000_000)
    a = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    corpus = DATA / f"corpus-{a.spans}.jsonl"
    if not corpus.exists():
        print(f"generating {corpus} ...", flush=True)
        run([sys.executable, str(HERE / "gen_corpus.py"), str(a.spans), "-o", str(corpus)])
    size_mb = corpus.stat().st_size / 1e6
    print(f"corpus: {a.spans} spans, {size_mb:.0f} MB", flush=True)
    env = {**os.environ, "CI": "1"}
    # Warm the page cache so neither side pays for the first read of the file.
    with open(corpus, "rb") as f:
        while f.read(1 << 24):
            pass
    plain = run([sys.executable, str(HERE / "plain_loader.py"), str(corpus), str(fresh(DATA / "plain.db"))])
    print(f"plain executemany loader: {plain:7.1f} s  {a.spans / plain:9.0f} spans/s", flush=True)
    ours_db = fresh(DATA / "bench.db")
    ours = run(["bt-tui", "--db", str(ours_db), "import", "logs", str(corpus)], env)
    print(f"bt-tui import logs:       {ours:7.1f} s  {a.spans / ours:9.0f} spans/s", flush=True)
    out = DATA / "export.jsonl"
    exp = run(["bt-tui", "--db", str(ours_db), "export", "logs", "-o", str(out)], env)
    print(f"bt-tui export logs:       {exp:7.1f} s  {a.spans / exp:9.0f} spans/s", flush=True)
    print(f"import ratio (ours / plain): {ours / plain:.2f}  (budget: <= 1.00)")
    print(f"export rate: {a.spans / exp:.0f} spans/s  (budget: >= 50000)")
    print(f"database size: {ours_db.stat().st_size / 1e6:.0f} MB; plain: {(DATA / 'plain.db').stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
