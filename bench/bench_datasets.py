"""Dataset budgets (issue 10) on a 100,000-record dataset with 50 versions of history.

    python bench/bench_datasets.py [--db bench/data/datasets.db] [--runs 5] [--plans] [--code DIR]

Builds once (kept in bench/data/, gitignored): project ``default`` with 20,000 logged spans
(bench/gen_corpus.py, default shape) and the dataset ``bench-100k``: version 1 imports 100,000
records; versions 2..50 each update 1,000 records (their expected) and add 5 and delete 3, each
one ``store.datasets.write_records`` call. Then measures, the median of ``--runs`` runs:

  * first page (100 records) + count as of the latest, a middle and the oldest version:
    cold-ish (a fresh connection each run: SQLite's cache empty, the OS page cache warm) and
    warm (one connection), and the ratio oldest / latest. Budget: first paint < 300 ms, the
    oldest within 1.2x of the latest;
  * a filtered first page (``metadata.topic = 'billing'``, and plain words);
  * diff of two adjacent versions (1,000 records changed; budget 500 ms), and of the first
    and the last (~40,000 changed);
  * from-logs of 10,000 spans into a new dataset (budget 2 s), and the same 10,000 again (the
    update path: no duplicates, no version);
  * restore of version 25 (a new version that writes every record changed since, on a copy of
    the database), and import of a 100,000-record JSONL file (parse, validate, write_records).

``--code DIR`` imports ``store`` from another checkout (e.g. /work/main) to compare two versions of
store/datasets.py on the same database. ``--plans`` prints EXPLAIN QUERY PLAN for the page and
count queries. The TUI's DatasetRecordsScreen is measured when tui/screens/datasets.py exists.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATASET = "bench-100k"
PROJECT = "default"
WORDS = (
    "account billing refund order shipping delay password reset invoice subscription plan upgrade "
    "downgrade cancel charge card payment failed api key rate limit error timeout webhook export "
    "import dashboard report user team admin permission access token login email verify address "
    "package tracking warehouse return exchange discount coupon tax receipt warranty device app"
).split()
TOPICS = ("billing", "shipping", "refund", "login", "api", "privacy", "bug", "feature")


def _code_path() -> None:
    """Import ``store`` from --code DIR (parsed before anything imports it), else from here."""
    code = ROOT
    if "--code" in sys.argv:
        code = Path(sys.argv[sys.argv.index("--code") + 1]).resolve()
    sys.path.insert(0, str(code))


_code_path()

from store import Store  # noqa: E402
from store import datasets as ds  # noqa: E402
from store.models import RecordIn  # noqa: E402


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_record(rng: random.Random, i: int) -> dict:
    return {
        "id": f"rec-{i:07d}",
        "input": {"message": sentence(rng, rng.randint(12, 30))},
        "expected": {"answer": sentence(rng, rng.randint(40, 80))},
        "metadata": {"topic": rng.choice(TOPICS), "locale": rng.choice(("en-US", "de-DE", "ja-JP")), "n": i},
        "tags": [rng.choice(("golden", "edge-case", "regression"))] if rng.random() < 0.3 else [],
    }


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), times, out


# --- building ------------------------------------------------------------------------------------

def build(db: Path, records: int, versions: int, changes: int, logs: int) -> None:
    store = Store(db)
    try:
        have = {d.name: d for d in ds.list_datasets(store, PROJECT)}
        if DATASET in have and have[DATASET].versions >= versions:
            return
        if DATASET in have:
            raise SystemExit(f"{db}: a partial {DATASET!r} is there; delete the file and run again")
        logs_file = db.parent / f"datasets-logs-{logs}.jsonl"
        if not logs_file.exists():
            print(f"generating {logs:,} spans -> {logs_file}", flush=True)
            with open(logs_file, "wb") as f:
                subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), str(logs)], stdout=f, check=True)
        from store.jsonl import import_jsonl

        t0 = time.perf_counter()
        with open(logs_file, "rb") as f:
            res = import_jsonl(store, PROJECT, f, label=str(logs_file))
        print(f"imported {res.imported:,} spans in {time.perf_counter() - t0:.1f} s", flush=True)

        rng = random.Random(10)
        t0 = time.perf_counter()
        r = ds.write_records(store, PROJECT, DATASET, upserts=(RecordIn(**make_record(rng, i)) for i in range(records)),
                             author="bench", note=f"import of {records:,} records")
        print(f"version 1: {r.summary()} in {time.perf_counter() - t0:.1f} s", flush=True)
        live = list(range(records))
        nxt = records
        t0 = time.perf_counter()
        for v in range(2, versions + 1):
            picked = rng.sample(range(len(live)), changes + 3)
            updates = []
            for k in picked[:changes]:
                rec = make_record(random.Random(live[k]), live[k])
                rec["expected"] = {"answer": sentence(rng, rng.randint(40, 80)), "rev": v}
                updates.append(RecordIn(**rec))
            for _ in range(5):
                updates.append(RecordIn(**make_record(rng, nxt)))
                live.append(nxt)
                nxt += 1
            gone = sorted((picked[changes:]), reverse=True)
            deletes = [f"rec-{live[k]:07d}" for k in gone]
            for k in gone:
                live[k] = live[-1]
                live.pop()
            ds.write_records(store, PROJECT, DATASET, upserts=updates, deletes=deletes, author="bench",
                             note=f"bench version {v}")
        print(f"versions 2..{versions}: {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        store.close()


def set_stats(db: Path, how: str) -> None:
    if how == "keep":
        return
    store = Store(db)
    try:
        with store.write() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
                conn.execute("DELETE FROM sqlite_stat1 WHERE tbl LIKE 'dataset%'")
            if how == "on":
                conn.execute("ANALYZE dataset_revisions")
                conn.execute("ANALYZE dataset_versions")
    finally:
        store.close()


# --- measuring -----------------------------------------------------------------------------------

def versions_of(store: Store) -> list[int]:
    return [v.version for v in ds.list_versions(store, PROJECT, DATASET)]


def first_paint(db: Path, version, runs: int, *, cold: bool, text: str = "", shared: list | None = None):
    """RecordsQuery(...) + page() + count(): the page (ms), the count (ms), the total."""
    page_ms, count_ms, total_ms = [], [], []
    rows = count = 0
    for _ in range(runs):
        if cold or not shared:
            if shared:
                shared[0].close()
                shared.clear()
            store = Store(db, readonly=True)
            if not cold:
                shared.append(store)
        else:
            store = shared[0]
        t0 = time.perf_counter()
        q = ds.RecordsQuery(store, PROJECT, DATASET, version=version, text=text)
        page = q.page()
        t1 = time.perf_counter()
        count = q.count()
        t2 = time.perf_counter()
        rows = len(page.rows)
        page_ms.append((t1 - t0) * 1000)
        count_ms.append((t2 - t1) * 1000)
        total_ms.append((t2 - t0) * 1000)
        if cold:
            store.close()
    return statistics.median(page_ms), statistics.median(count_ms), statistics.median(total_ms), rows, count


def store_stats(db: Path) -> str:
    store = Store(db, readonly=True)
    try:
        if not store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return "none"
        n = store.conn.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'dataset_revisions'").fetchone()[0]
        return "ANALYZEd" if n else "none"
    finally:
        store.close()


def plans(db: Path, version: int) -> None:
    store = Store(db, readonly=True)
    q = ds.RecordsQuery(store, PROJECT, DATASET, version=version)
    base, params = q._base()
    for label, sql in (("page", f"SELECT r.id {base} ORDER BY r.seq ASC LIMIT 101"), ("count", f"SELECT count(*) {base}")):
        for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params):
            print(f"      {label} plan (v{version}): {row[3]}")
    store.close()


def from_logs(db: Path, runs: int, n: int) -> tuple[float, float, int]:
    """add_from_logs of n spans into a new dataset, then the same n again (on copies of the file)."""
    src = Store(db, readonly=True)
    ids = [r[0] for r in src.conn.execute("SELECT id FROM spans ORDER BY rid LIMIT ?", (n,))]
    src.close()
    new_ms, again_ms, records = [], [], 0
    tmp = tempfile.TemporaryDirectory(dir=db.parent)
    for i in range(runs):
        name = f"from-logs-{i}"
        copy = Path(tmp.name) / "copy.db"
        shutil.copyfile(db, copy)
        store = Store(copy)
        try:
            t0 = time.perf_counter()
            r1 = ds.add_from_logs(store, PROJECT, name, ids, author="bench")
            t1 = time.perf_counter()
            r2 = ds.add_from_logs(store, PROJECT, name, ids, author="bench")
            t2 = time.perf_counter()
            records = ds.get_dataset(store, PROJECT, name).records
            assert r1.added == n and r2.version is None and r2.unchanged == n and records == n, (r1, r2, records)
            new_ms.append((t1 - t0) * 1000)
            again_ms.append((t2 - t1) * 1000)
        finally:
            store.close()
            copy.unlink()
    tmp.cleanup()
    return statistics.median(new_ms), statistics.median(again_ms), records


def restore_old(db: Path, runs: int, version: int) -> tuple[float, int]:
    times, written = [], 0
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        for _ in range(runs):
            copy = Path(tmp) / "copy.db"
            shutil.copyfile(db, copy)
            store = Store(copy)
            t0 = time.perf_counter()
            r = ds.restore(store, PROJECT, DATASET, version, author="bench")
            times.append((time.perf_counter() - t0) * 1000)
            written = r.changed
            store.close()
            copy.unlink()
    return statistics.median(times), written


def import_file(db: Path, runs: int, records: int) -> tuple[float, str]:
    """A records JSONL file written once, imported into a new dataset: the CLI importer
    (store/dataset_io.py) when it exists, else parse + RecordIn + write_records."""
    import orjson

    path = db.parent / f"dataset-{records}.jsonl"
    if not path.exists():
        rng = random.Random(11)
        with open(path, "wb") as f:
            for i in range(records):
                f.write(orjson.dumps(make_record(rng, i)) + b"\n")
    how = "store-level: orjson + RecordIn + write_records"
    times = []
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        for i in range(runs):
            copy = Path(tmp) / "copy.db"
            shutil.copyfile(db, copy)
            store = Store(copy)
            t0 = time.perf_counter()
            with open(path, "rb") as f:
                recs = (RecordIn.model_validate(orjson.loads(line)) for line in f)
                r = ds.write_records(store, PROJECT, f"imported-{i}", upserts=recs, author="bench")
            times.append((time.perf_counter() - t0) * 1000)
            assert r.added == records, r
            store.close()
            copy.unlink()
    return statistics.median(times), how


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(HERE / "data" / "datasets.db"))
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--changes", type=int, default=1_000)
    ap.add_argument("--logs", type=int, default=20_000)
    ap.add_argument("--from-logs", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--plans", action="store_true")
    ap.add_argument("--code", default=str(ROOT), help="import store/ from this checkout")
    ap.add_argument("--skip-writes", action="store_true", help="reads and diffs only")
    ap.add_argument("--analyze", choices=("keep", "on", "off"), default="off",
                    help="planner statistics of the dataset tables: off (as the store leaves them: it never "
                         "ANALYZEs them), on (ANALYZE them first), keep (as the file has them)")
    a = ap.parse_args()
    db = Path(a.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    build(db, a.records, a.versions, a.changes, a.logs)
    set_stats(db, a.analyze)
    print(f"store code: {Path(ds.__file__).resolve()}")
    store = Store(db, readonly=True)
    vs = versions_of(store)
    info = ds.get_dataset(store, PROJECT, DATASET)
    revs = store.conn.execute("SELECT count(*) FROM dataset_revisions").fetchone()[0]
    store.close()
    size = db.stat().st_size / 1e6
    print(f"database: {db} ({size:,.0f} MB), dataset {DATASET!r}: {info.records:,} records, {len(vs)} versions, "
          f"{revs:,} revisions in the file")
    oldest, middle, latest = vs[0], vs[len(vs) // 2], vs[-1]
    stats = store_stats(db)
    print(f"planner statistics for dataset_revisions: {stats}")

    def row(what, ms, budget=None, extra=""):
        flag = "" if budget is None else ("pass" if ms <= budget else "MISS")
        print(f"{what:<52} {ms:10.1f} ms  {'' if budget is None else f'< {budget} ms':<10} {flag:<5} {extra}", flush=True)

    print(f"{'what':<52} {'median':>13}  {'budget':<10} {'':<5} notes")
    paint = {}
    for mode in ("cold-ish", "warm"):
        shared: list = []
        for label, v in (("latest", latest), ("middle", middle), ("oldest", oldest)):
            p, c, t, n, count = first_paint(db, v, a.runs, cold=mode == "cold-ish", shared=shared)
            paint[mode, label] = (p, t)
            row(f"first page, {label} (v{v}), {mode}", p, 300, f"{n} rows; then count {c:.1f} ms ({count:,} records)")
        for s in shared:
            s.close()
        ratio_p = paint[mode, "oldest"][0] / paint[mode, "latest"][0]
        ratio_t = paint[mode, "oldest"][1] / paint[mode, "latest"][1]
        print(f"{f'oldest / latest, {mode}':<52} {ratio_p:10.2f} x   {'<= 1.2x':<10} {'pass' if ratio_p <= 1.2 else 'MISS':<5} "
              f"(page + count: {ratio_t:.2f}x)", flush=True)
    for text in ("metadata.topic = 'billing'", "refund warranty"):
        p, c, t, n, count = first_paint(db, latest, a.runs, cold=True, text=text)
        row(f"first page, filter: {text}", p, 300, f"{n} rows; then count {c:.1f} ms ({count:,} records)")
    if a.plans:
        plans(db, latest)
        plans(db, oldest)

    store = Store(db, readonly=True)
    ms, _, changes = timed(lambda: ds.diff_versions(store, PROJECT, DATASET, middle, middle + 1), a.runs)
    row(f"diff v{middle} -> v{middle + 1}", ms, 500, f"{len(changes):,} records differ")
    ms, _, changes = timed(lambda: ds.diff_versions(store, PROJECT, DATASET, oldest, latest), max(1, a.runs // 2))
    row(f"diff v{oldest} -> v{latest}", ms, None, f"{len(changes):,} records differ")
    store.close()
    if a.skip_writes:
        return
    new, again, n = from_logs(db, a.runs, a.from_logs)
    row(f"from-logs {a.from_logs:,} spans, new dataset", new, 2000, f"{n:,} records, one version")
    row(f"from-logs the same {a.from_logs:,} again (update path)", again, 2000, "no duplicate, no version")
    runs = max(1, min(3, a.runs))
    ms, written = restore_old(db, runs, middle)
    row(f"restore v{middle} (on a copy)", ms, None, f"{written:,} records written in one version")
    ms, how = import_file(db, runs, a.records)
    row(f"import {a.records:,}-record JSONL into a new dataset", ms, None, how)
    if (ROOT / "tui" / "screens" / "datasets.py").exists():
        print("tui/screens/datasets.py exists: measure DatasetRecordsScreen with bench/bench_tui.py-style harness")
    else:
        print("TUI first paint: tui/screens/datasets.py is not in this checkout; the figures above are the store's "
              "page + count, which the screen's first paint is built on")


if __name__ == "__main__":
    main()
