"""Several reviewers and an importer on one database (issue 11, DESIGN.md section 7).

    python bench/bench_review_concurrency.py [--seconds 300] [--reviewers 4] [--db PATH] [--json]

Sets up a fresh database (project ``default``: ``--traces`` traces of 3 spans, the score
configurations tone (categorical), helpfulness (continuous), ok (boolean) and note (text), every
trace flagged), then runs, for ``--seconds``, in separate processes:

  * ``--reviewers`` reviewers (``store.review``): loop next_item -> set_value on tone,
    helpfulness, ok and note -> complete; every 5th item they also score (tone, helpfulness) a
    trace another reviewer completed, so rows get several reviewers' values;
  * one importer (``store.jsonl.import_jsonl``): alternately imports a batch of new traces (and
    flags them, as a script would with `bt-tui flag`) and re-imports a batch of traces already
    in the queue (new output and automated scores, same ids), some of them reviewed meanwhile.

Each worker logs every event to its own JSONL file as it happens (a claim with its time, each
saved value, each completion, every exception). Then ``check`` reads the logs and the database:

  * no lost score: each reviewer's last saved value of each score on each row is in
    human_scores, and the row's scores.NAME is the average of every reviewer's last value (the
    text is in metadata.note), after all the re-imports;
  * no item was handed to two reviewers at once (claim intervals per item do not overlap);
  * no exception at all, so none that mentions "locked";
  * the queue counts add up (every trace flagged is there once; completed = completions logged).

Prints writes/s per reviewer and the write latencies (max, p99) of the reviewers' and the
importer's calls. tests/test_review_concurrency.py runs the same for a few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROJECT = "default"
SCORES = ("tone", "helpfulness", "ok", "note")
TONES = (("friendly", 1.0), ("neutral", 0.5), ("curt", 0.0))
BASE_TS = 1_700_000_000


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def trace_rows(n: int, version: int = 0) -> list[dict]:
    """Trace ``n`` (a root and two children); ``version`` changes its output and automated scores."""
    root = f"tr{n:07d}"
    start = BASE_TS + n
    rows = [{
        "id": f"{root}-0", "span_id": root, "root_span_id": root, "span_parents": None, "created": _iso(start),
        "input": {"message": f"question {n}"}, "output": {"answer": f"answer {n} v{version}"},
        "scores": {"auto": (n + version) % 10 / 10}, "metadata": {"model": "m", "v": version},
        "metrics": {"start": start, "end": start + 1}, "tags": ["bench"],
        "span_attributes": {"name": "bot", "type": "task"},
    }]
    for c in (1, 2):
        rows.append({
            "id": f"{root}-{c}", "span_id": f"{root}-s{c}", "root_span_id": root, "span_parents": [root],
            "created": _iso(start + c / 10), "input": [{"role": "user", "content": f"step {c}"}],
            "output": {"content": f"step {c} v{version}"}, "scores": {}, "metadata": {},
            "metrics": {"start": start + c / 10, "end": start + c / 10 + 0.05},
            "span_attributes": {"name": f"llm_{c}", "type": "llm"},
        })
    return rows


def _jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def configs():
    from store.review import make_config

    return {
        "tone": make_config("tone", "categorical", TONES),
        "helpfulness": make_config("helpfulness", "continuous"),
        "ok": make_config("ok", "boolean"),
        "note": make_config("note", "text"),
    }


def setup(db: Path, traces: int) -> list[str]:
    """A fresh database with ``traces`` traces, the four configurations, every trace flagged."""
    import io

    from store import Store
    from store.jsonl import import_jsonl
    from store.review import add_score_config, flag

    store = Store(db)
    rows = [r for n in range(traces) for r in trace_rows(n)]
    import_jsonl(store, PROJECT, io.BytesIO(_jsonl_bytes(rows)), label="setup")
    for c in configs().values():
        add_score_config(store, PROJECT, c, author="setup")
    ids = [f"tr{n:07d}-0" for n in range(traces)]
    flag(store, PROJECT, ids, author="setup")
    store.close()
    return ids


# --- workers (each its own process: `python bench_review_concurrency.py --worker ...`) ---------------

class Log:
    def __init__(self, path: Path):
        self.f = open(path, "a", encoding="utf-8")

    def __call__(self, **event) -> None:
        self.f.write(json.dumps(event) + "\n")
        self.f.flush()


def _timed(lat: list, fn, *a, **kw):
    t = time.perf_counter()
    try:
        return fn(*a, **kw)
    finally:
        lat.append(time.perf_counter() - t)


def reviewer(db: Path, k: int, until: float, log: Log) -> None:
    from store import Store
    from store.review import complete, next_item, set_value

    name = f"reviewer{k}"
    cfg = configs()
    store = Store(db)
    n = 0
    while time.time() < until:
        lat: list = []
        try:
            item = _timed(lat, next_item, store, PROJECT, name)
            if item is None:
                log(ev="idle", t=time.time())
                time.sleep(0.05)
                continue
            log(ev="claim", id=item.id, t=time.time())
            label, _ = TONES[(n + k) % 3]
            values = {"tone": ("labels", [label]), "helpfulness": ("value", ((n * 7 + k) % 101) / 100),
                      "ok": ("value", float((n + k) % 2)), "note": ("text", f"{name} on {item.id} #{n}")}
            for score, (kind, v) in values.items():
                ch = _timed(lat, set_value, store, PROJECT, item.id, cfg[score], author=name, **{kind: v})
                log(ev="saved", id=item.id, name=score, author=name, value=ch.after.value, text=ch.after.text)
            if n % 5 == 4:  # a second opinion on a trace someone else completed
                others = _others_done(db, name)
                if others:
                    other = others[n % len(others)]
                    for score, kw in (("tone", {"labels": [TONES[n % 3][0]]}), ("helpfulness", {"value": 0.25})):
                        ch = _timed(lat, set_value, store, PROJECT, other, cfg[score], author=name, **kw)
                        log(ev="saved", id=other, name=score, author=name, value=ch.after.value, text=ch.after.text)
            _timed(lat, complete, store, PROJECT, item.id, name)
            log(ev="complete", id=item.id, t=time.time(), lat=lat)
            n += 1
        except Exception as exc:  # every exception is a failure the check reports
            log(ev="error", error=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc(), t=time.time())
            time.sleep(0.05)
    store.close()
    log(ev="end", items=n)


def _others_done(db: Path, me: str) -> list[str]:
    """Traces other reviewers completed (as the queue shows them)."""
    from store import Store
    from store.review import queue_items

    store = Store(db, readonly=True)
    try:
        return [i.id for i in queue_items(store, PROJECT, state="complete", limit=200, reverse=True)
                if i.completed_by and i.completed_by != me]
    finally:
        store.close()


def importer(db: Path, first_new: int, until: float, log: Log, batch: int = 40) -> None:
    import io

    from store import Store
    from store.jsonl import import_jsonl
    from store.review import flag

    store = Store(db)
    nxt, rnd = first_new, 0
    while time.time() < until:
        rnd += 1
        try:
            t = time.perf_counter()
            if rnd % 2:  # new traces, flagged
                ns = list(range(nxt, nxt + batch))
                rows = [r for n in ns for r in trace_rows(n)]
                import_jsonl(store, PROJECT, io.BytesIO(_jsonl_bytes(rows)), label=f"new-{rnd}")
                ids = [f"tr{n:07d}-0" for n in ns]
                flag(store, PROJECT, ids, author="importer")
                nxt += batch
                log(ev="flagged", ids=ids, lat=time.perf_counter() - t)
            else:  # re-import traces already queued (some reviewed meanwhile): same ids, new output
                lo = max(0, (rnd * 17) % max(1, nxt - batch))
                rows = [r for n in range(lo, lo + batch) for r in trace_rows(n, version=rnd)]
                import_jsonl(store, PROJECT, io.BytesIO(_jsonl_bytes(rows)), label=f"re-{rnd}")
                log(ev="reimported", first=lo, n=batch, lat=time.perf_counter() - t)
        except Exception as exc:
            log(ev="error", error=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc(), t=time.time())
        time.sleep(0.1)
    store.close()
    log(ev="end", rounds=rnd)


# --- the run and the check -------------------------------------------------------------------------

def run(db: Path, seconds: float, reviewers: int = 4, traces: int = 300, logs: Path | None = None) -> dict:
    """Set up ``db``, run the workers for ``seconds``, return what ``check`` found."""
    logs = Path(logs or tempfile.mkdtemp(prefix="review-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    initial = setup(db, traces)
    start = time.time() + 1.0  # every process is up before the clock starts
    until = start + seconds
    procs = []
    for k in range(reviewers):
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", "reviewer", "--k", str(k), "--db", str(db),
                                       "--until", repr(until), "--log", str(logs / f"reviewer{k}.jsonl")]))
    procs.append(subprocess.Popen([sys.executable, __file__, "--worker", "importer", "--k", str(traces), "--db", str(db),
                                   "--until", repr(until), "--log", str(logs / "importer.jsonl")]))
    rcs = [p.wait(timeout=seconds + 120) for p in procs]
    report = check(db, logs, initial, reviewers)
    report["exit_codes"] = rcs
    report["seconds"] = seconds
    return report


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def check(db: Path, logs: Path, initial: list[str], reviewers: int) -> dict:
    """What went wrong (``problems``, empty when nothing did) and the figures."""
    from store import Store
    from store.review import human_values, queue_counts, queue_items
    from store.selection import Selection, export_selection

    problems: list[str] = []
    errors: list[str] = []
    last: dict[tuple, dict] = {}  # (row, name, author) -> the last value the reviewer saved
    claims: dict[str, list] = {}  # item -> [(reviewer, t_claim, t_complete)]
    completed: list[str] = []
    per_reviewer = {}
    all_lat: list[float] = []
    for k in range(reviewers):
        name = f"reviewer{k}"
        open_claim: dict[str, float] = {}
        writes, lat = 0, []
        evs = _events(logs / f"{name}.jsonl")
        for e in evs:
            if e["ev"] == "claim":
                open_claim[e["id"]] = e["t"]
            elif e["ev"] == "saved":
                last[(e["id"], e["name"], e["author"])] = e
            elif e["ev"] == "complete":
                claims.setdefault(e["id"], []).append((name, open_claim.pop(e["id"], e["t"]), e["t"]))
                completed.append(e["id"])
                writes += len(e["lat"])
                lat += e["lat"]
            elif e["ev"] == "error":
                errors.append(f"{name}: {e['error']}")
        if not any(e["ev"] == "end" for e in evs):
            problems.append(f"{name} did not finish")
        for item, t in open_claim.items():  # claimed, not completed (stopped mid-item by an error)
            claims.setdefault(item, []).append((name, t, float("inf")))
        per_reviewer[name] = {"items": sum(1 for e in evs if e["ev"] == "complete"), "writes": writes,
                              "max_ms": round(max(lat, default=0) * 1000, 1),
                              "p99_ms": round(_pct(lat, 99) * 1000, 1), "p50_ms": round(_pct(lat, 50) * 1000, 1)}
        all_lat += lat
    imp = _events(logs / "importer.jsonl")
    flagged = list(initial) + [i for e in imp if e["ev"] == "flagged" for i in e["ids"]]
    errors += [f"importer: {e['error']}" for e in imp if e["ev"] == "error"]
    if not any(e["ev"] == "end" for e in imp):
        problems.append("the importer did not finish")
    imp_lat = [e["lat"] for e in imp if e["ev"] in ("flagged", "reimported")]

    problems += [f"exception: {e}" for e in errors]
    locked = [e for e in errors if "locked" in e.lower()]
    # no item handed to two reviewers at once
    for item, cs in claims.items():
        cs = sorted(cs, key=lambda c: c[1])
        for a, b in zip(cs, cs[1:]):
            if a[0] != b[0] and b[1] < a[2]:
                problems.append(f"{item} was handed to {a[0]} and {b[0]} at once")
    if len(completed) != len(set(completed)):
        problems.append("an item was completed twice")

    store = Store(db, readonly=True)
    try:
        rows_seen = {r["id"]: r for r in map(json.loads, export_selection(
            store, Selection(PROJECT, shape="spans", ids=tuple({k[0] for k in last}))))}
        by_row: dict[str, dict] = {}
        for (row, name, author), e in last.items():
            by_row.setdefault(row, {}).setdefault(name, {})[author] = e
        lost = 0
        for row, names in by_row.items():
            stored = human_values(store, PROJECT, row)
            for name, authors in names.items():
                kept = {h.author: h for h in stored.get(name, [])}
                for author, e in authors.items():
                    h = kept.get(author)
                    if h is None or h.value != e["value"] or h.text != e["text"]:
                        lost += 1
                        problems.append(f"lost: {author}'s {name} on {row}: saved {e['value'] if name != 'note' else e['text']!r},"
                                        f" stored {None if h is None else (h.value if name != 'note' else h.text)!r}")
                span = rows_seen.get(row, {})
                if name == "note":
                    want = {e["text"] for e in authors.values()}
                    if (span.get("metadata") or {}).get("note") not in want:
                        problems.append(f"lost: metadata.note of {row} is {(span.get('metadata') or {}).get('note')!r}")
                else:
                    vals = [e["value"] for e in authors.values()]
                    avg = round(sum(vals) / len(vals), 6)
                    got = (span.get("scores") or {}).get(name)
                    if got is None or abs(got - avg) > 1e-6:
                        problems.append(f"lost: scores.{name} of {row} is {got!r}, the reviewers' average is {avg}")
        reimported = sum(1 for row in by_row if ((rows_seen.get(row) or {}).get("metadata") or {}).get("v"))
        several = sum(1 for names in by_row.values() if any(len(a) > 1 for a in names.values()))
        counts = queue_counts(store, PROJECT)
        items = queue_items(store, PROJECT)
        ids = [i.id for i in items]
        if sorted(ids) != sorted(set(flagged)):
            problems.append(f"the queue holds {len(ids)} items, {len(set(flagged))} were flagged")
        if counts["complete"] != len(set(completed)):
            problems.append(f"{counts['complete']} complete in the queue, {len(set(completed))} completions logged")
        if sum(counts.values()) != len(set(flagged)):
            problems.append(f"queue counts {counts} do not add up to {len(set(flagged))} flagged")
        stuck = [i.id for i in items if i.state == "pending" and i.id not in {c for c in claims}]
        if stuck:
            problems.append(f"{len(stuck)} items pending that nobody claimed: {stuck[:3]}")
    finally:
        store.close()
    return {
        "problems": problems, "locked": locked, "per_reviewer": per_reviewer,
        "writes": sum(r["writes"] for r in per_reviewer.values()), "values_saved": len(last), "lost": lost,
        "rows_with_several_reviewers": several,
        "reviewed_rows_reimported": reimported, "queue": counts, "flagged": len(set(flagged)),
        "completed": len(completed), "max_ms": round(max(all_lat, default=0) * 1000, 1),
        "p99_ms": round(_pct(all_lat, 99) * 1000, 1), "p50_ms": round(_pct(all_lat, 50) * 1000, 1),
        "importer": {"rounds": len(imp_lat), "new": sum(1 for e in imp if e["ev"] == "flagged"),
                     "reimports": sum(1 for e in imp if e["ev"] == "reimported"),
                     "max_ms": round(max(imp_lat, default=0) * 1000, 1), "p99_ms": round(_pct(imp_lat, 99) * 1000, 1)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--reviewers", type=int, default=4)
    ap.add_argument("--traces", type=int, default=2000, help="traces flagged at the start")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--worker", choices=("reviewer", "importer"), help=argparse.SUPPRESS)
    ap.add_argument("--k", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--until", type=float, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker == "reviewer":
        reviewer(a.db, a.k, a.until, Log(a.log))
        return
    if a.worker == "importer":
        importer(a.db, a.k, a.until, Log(a.log))
        return
    tmp = Path(tempfile.mkdtemp(prefix="review-bench-"))
    db = a.db or tmp / "review.db"
    if db.exists():
        sys.exit(f"{db} exists: give a new --db (the bench sets it up)")
    rep = run(db, a.seconds, a.reviewers, a.traces, logs=tmp / "logs")
    if a.json:
        print(json.dumps(rep, indent=2))
    else:
        s = a.seconds
        print(f"{a.reviewers} reviewers + 1 importer, {s:g} s on {db}")
        for name, r in rep["per_reviewer"].items():
            print(f"  {name}: {r['items']} items, {r['writes']} writes, {r['writes'] / s:.1f} writes/s,"
                  f" p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms")
        print(f"  all reviewer writes: {rep['writes']} ({rep['writes'] / s:.1f}/s), p50 {rep['p50_ms']} ms,"
              f" p99 {rep['p99_ms']} ms, max {rep['max_ms']} ms")
        im = rep["importer"]
        print(f"  importer: {im['new']} batches of 40 new traces (flagged), {im['reimports']} re-imports of 40 queued"
              f" traces; per batch p99 {im['p99_ms']} ms, max {im['max_ms']} ms")
        print(f"  values saved {rep['values_saved']}, lost {rep['lost']}; rows scored by several reviewers"
              f" {rep['rows_with_several_reviewers']}; reviewed rows re-imported {rep['reviewed_rows_reimported']}; queue {rep['queue']} ({rep['flagged']} flagged)")
        print(f"  'database is locked': {len(rep['locked'])}; problems: {len(rep['problems'])}")
        for p in rep["problems"][:20]:
            print("   ", p)
    sys.exit(1 if rep["problems"] else 0)


if __name__ == "__main__":
    os.environ.setdefault("BT_TUI_USER", "bench")
    main()
