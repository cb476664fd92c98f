"""Query-language budgets on the 1M-span bench database (issue 3).

    python bench/bench_query.py [--db bench/data/bench.db] [--plans]

Times, on a warm page cache, the first page (50 rows, newest first) of filters on indexed
fields (scores, metadata.model, tags, created), MATCH, counts, and a summary-shape page,
each the median of 5 runs. --plans prints EXPLAIN QUERY PLAN for each filter's page query.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store import Store  # noqa: E402
from store.query.compiler import Compiler  # noqa: E402
from store.query.pager import LogsQuery  # noqa: E402
from store.query.runner import run_query  # noqa: E402

FILTERS = [
    ("scores", "scores.Factuality > 0.8"),
    ("scores (rare)", "scores.Factuality > 0.999"),
    ("metadata.model", 'metadata.model = "gpt-4o"'),
    ("metadata.model IN", 'metadata.model IN ["gpt-4o-mini", "claude-3-5-sonnet"]'),
    ("tags", 'tags includes "triage"'),
    ("tags (absent)", 'tags includes "no-such-tag"'),
    ("created", 'created > "2025-11-15"'),
    ("created (old end)", 'created < "2025-11-13T06:00:00Z"'),
    ("created (older third)", 'created < "2025-11-14"'),
    ("created (last day)", "created > now() - interval 1 day"),
    ("scores and tags", 'scores.Factuality > 0.5 and tags includes "vip"'),
    ("error", "error IS NOT NULL"),
]
MATCHES = [
    ("MATCH common", 'output MATCH "refund"'),
    ("MATCH rare", 'input MATCH "xyzzy"'),
    ("MATCH two words", 'output MATCH "refund policy"'),
    ("free text", "password reset"),
]


def timed(fn, n: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(Path(__file__).parent / "data" / "bench.db"))
    ap.add_argument("--plans", action="store_true")
    a = ap.parse_args()
    store = Store(a.db, readonly=True)
    n = store.conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    print(f"database: {a.db}, {n:,} spans")
    print(f"{'what':<22} {'shape':<7} {'first page':>11} {'rows':>5} {'count':>10} {'count ms':>9}  filter")
    for group, budget in ((FILTERS, 100), (MATCHES, 150)):
        for label, text in group:
            for shape in ("spans", "traces"):
                lq = LogsQuery(store, "default", text, shape=shape)
                ms, page = timed(lambda: lq.page())
                cms, count = timed(lambda: lq.count(), n=3)
                flag = "" if ms <= budget else "  OVER"
                print(f"{label:<22} {shape:<7} {ms:9.1f}ms {len(page.rows):5} {count:10,} {cms:8.0f}ms  {text}{flag}")
                if a.plans:
                    # page() tries the probe plan within a budget, then the drive plan.
                    for kind, probe in (("probe", True), ("drive", False)):
                        c = Compiler(text, 1, probe=probe)
                        base, al = lq._base(c, 1)
                        sql = f"SELECT {al}.rid {base} ORDER BY {al}.created DESC LIMIT 50"
                        for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, c.params):
                            print(f"      {kind} plan:", row[3])
    lq = LogsQuery(store, "default", "", shape="traces")
    ms, page = timed(lambda: lq.page())
    print(f"{'summary page (no filter)':<30} {ms:9.1f}ms  (budget 300 ms)")
    ms, res = timed(lambda: run_query(store, "from: project_logs('default') summary | limit: 50"))
    print(f"{'summary shape query, 50 rows':<30} {ms:9.1f}ms  (budget 300 ms)")
    ms, res = timed(lambda: run_query(store, "from: project_logs('default') summary | filter: scores.Factuality > 0.9 | limit: 50"))
    print(f"{'summary shape + filter':<30} {ms:9.1f}ms  (budget 300 ms)")
    ms, res = timed(lambda: run_query(store, "dimensions: metadata.model as model | measures: count(1) as calls, avg(duration) as d"), n=1)
    print(f"{'aggregate by model (1M scan)':<30} {ms:9.1f}ms")


if __name__ == "__main__":
    main()
