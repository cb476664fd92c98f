"""Reliability under faults (DESIGN.md section 7), the larger versions of the tests:

    python bench/bench_faults.py [--only writes,kills,injection] [--spans 200000] [--writers 8]
                                 [--writes 100] [--via api|cli] [--kills 10] [--kill-spans 100000]

1. writes: WRITERS processes each give WRITES pieces of feedback (a score, a tag and a comment:
   one write transaction each) to the same 50 rows, starting once `bt-tui import logs` of SPANS
   spans holds the write lock (so each writer's first write waits for the import's commit, up
   to its whole duration, and the rest follow at once), and a reader exports meanwhile. Every write must land (scores, tags, comments and
   audit rows all counted), none may see "database is locked".
2. kills: KILLS times, `bt-tui import logs` of KILL_SPANS spans into a seeded database is killed
   with SIGKILL at a random moment (a CPU-time point between start-up and the end of a full
   import); then: no process of it survives, PRAGMA integrity_check and the FTS5 integrity
   check pass, the seed rows are unchanged and nothing of the killed import is visible; the
   next import leaves no spill directory; re-running the import gives an export identical to
   that of an import that was never killed.
3. injection: hostile strings (SQL, FTS5 and JSON-path syntax, quotes, comments, control and
   bidi characters, very long text) through every entry point that takes text: as a filter
   (`export logs --filter`, `query` filter clause), as a whole query, as a project name
   (export, import), as a tag, a comment, an author and a score name (`feedback`). Reads
   must leave the database unchanged, writes must store the string as itself (tags and score
   names trimmed of surrounding whitespace) and change nothing else; every command exits 0
   or 2 (never 1, never a traceback).

Prints one figure per check and a summary; exits 1 when a check failed. Runs the CLI from
this source tree (`python -m tui.cli` with PYTHONPATH set), on a temporary directory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "CI": "1", "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
for _var in ("BT_TUI_DB", "BT_TUI_PROJECT"):
    ENV.pop(_var, None)
CLI = [sys.executable, "-m", "tui.cli"]
FAILURES: list[str] = []


def check(ok: bool, what: str) -> bool:
    if not ok:
        FAILURES.append(what)
        print(f"  FAILED: {what}", flush=True)
    return ok


def cli(db: Path, *args, input: bytes | None = None, project: str | None = None) -> subprocess.CompletedProcess:
    pre = ["--db", str(db)] + (["--project", project] if project is not None else [])
    return subprocess.run([*CLI, *pre, *map(str, args)], env=ENV, input=input, capture_output=True, cwd=ROOT)


def span(i: int, prefix: str = "b") -> dict:
    ts = 1_700_000_000 + i
    return {
        "id": f"{prefix}{i}", "span_id": f"{prefix}s{i}", "root_span_id": f"{prefix}s{i}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ts)),
        "input": f"question {i} about refunds", "output": f"answer {i} w{i % 97}",
        "scores": {"s": (i % 10) / 10}, "metadata": {"model": ("gpt-4o", "claude", "llama")[i % 3]},
        "metrics": {"start": ts, "end": ts + 1}, "tags": [f"g{i % 4}"],
    }


def write_corpus(path: Path, n: int, prefix: str = "b") -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(span(i, prefix), separators=(",", ":")) + "\n")
    return path


def proc_stat(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[1] == pid and st[0] != "Z":
                out.append(int(name))
    return out


def alive(pid: int) -> bool:
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def cpu(pid: int) -> float:
    st = proc_stat(pid)
    return st[2] if st else 0.0


def integrity(db: Path) -> bool:
    conn = sqlite3.connect(str(db))
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO spans_fts (spans_fts) VALUES ('integrity-check')")  # raises when corrupt
        return ok
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def fingerprint(db: Path) -> str:
    """A digest of every table's rows and of the schema (what a read must not change)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'spans_fts_%' ORDER BY name")]
        for t in tables:
            h.update(t.encode())
            for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY 1'):
                h.update(repr(row).encode())
        for row in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def load() -> str:
    return " ".join("%.2f" % x for x in os.getloadavg())


# --- 1. concurrent feedback during an import ---------------------------------------------------

WRITER = textwrap.dedent("""
    import json, os, subprocess, sys, time
    k, n, rows, db, via, cli, go = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5],
                                    json.loads(sys.argv[6]), sys.argv[7])
    out = []
    log = None
    if via == "api":
        from bt_tui import init_logger
        log = init_logger(project="default", db=db)
    open(go + f".ready-{k}", "w").close()
    while not os.path.exists(go):  # ready: start when the import holds the write lock
        time.sleep(0.002)
    for j in range(n):
        row = f"fb-{(j * 7 + k) % rows}"
        t0 = time.time()
        if via == "api":
            try:
                log.log_feedback(row, scores={f"w{k}_{j}": 0.5}, tags=[f"w{k}-t{j}"], comment=f"w{k} c{j}",
                                 author=f"writer{k}")
                err = ""
            except Exception as exc:
                err = f"{type(exc).__name__}: {exc}"
        else:
            p = subprocess.run(cli + ["--db", db, "feedback", row, "--score", f"w{k}_{j}=0.5", "--tag", f"w{k}-t{j}",
                                      "--comment", f"w{k} c{j}", "--author", f"writer{k}"], capture_output=True, text=True)
            err = "" if p.returncode == 0 else f"exit {p.returncode}: {p.stderr.strip()}"
        out.append([k, row, j, t0, time.time(), err])
    if log is not None:
        log.close()
    print(json.dumps(out))
""")

READER = textwrap.dedent("""
    import json, subprocess, sys, time
    db, cli, until = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
    out = []
    while time.time() < until:
        p = subprocess.run(cli + ["--db", db, "export", "logs"], capture_output=True, text=True)
        out.append([p.returncode, p.stderr.strip()[:200], len(p.stdout.splitlines())])
    print(json.dumps(out))
""")


def bench_writes(work: Path, spans: int, writers: int, writes: int, via: str) -> None:
    total = writers * writes
    print(f"\n1. {total} feedback writes ({writers} processes x {writes}, via {via}) during an import of "
          f"{spans:,} spans; load {load()}", flush=True)
    db = work / "writes.db"
    rows = 50
    seed = work / "seed.jsonl"
    with open(seed, "w") as f:
        for i in range(rows):
            f.write(json.dumps(dict(span(i, "fb-"), id=f"fb-{i}", scores={"base": 0.5}, tags=["seed"])) + "\n")
    assert cli(db, "import", "logs", seed).returncode == 0
    big = write_corpus(work / "writes-big.jsonl", spans, "big")

    go = work / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(k), str(writes), str(rows), str(db), via,
                               json.dumps(CLI), str(go)], env=ENV, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(writers)]
    end = time.time() + 300  # the writers start up (imports, open the database) before the import does
    while time.time() < end and len(list(work.glob("go.ready-*"))) < writers and all(p.poll() is None for p in procs):
        time.sleep(0.05)
    t0 = time.time()
    importer = subprocess.Popen([*CLI, "--db", str(db), "import", "logs", str(big)], env=ENV, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[tuple[float, str]] = []
    import threading

    def read_err() -> None:
        for line in importer.stderr:
            lines.append((time.time(), line))

    errt = threading.Thread(target=read_err, daemon=True)
    errt.start()
    probe = sqlite3.connect(str(db), timeout=0, isolation_level=None)
    held = None
    while importer.poll() is None and held is None:  # wait until the import holds the write lock
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            time.sleep(0.01)
        except sqlite3.OperationalError:
            held = time.time()
    probe.close()
    go.touch()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), json.dumps(CLI), str(time.time() + 5)],
                              env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    importer.wait()
    errt.join()
    import_end = time.time()
    imp_err = "".join(line for _, line in lines)
    committed = next((t for t, line in lines if line.startswith("imported")), import_end)  # printed at commit
    results = []
    for p in procs:
        out, err = p.communicate()
        check(p.returncode == 0, f"writer process failed: {err.strip()[-300:]}")
        results.extend(json.loads(out) if p.returncode == 0 else [])
    r_out, r_err = reader.communicate()
    reads = json.loads(r_out) if reader.returncode == 0 else []

    errors = [r for r in results if r[5]]
    locked = [r for r in results if "locked" in r[5].lower()]
    during = [r for r in results if r[3] < committed and r[4] - r[3] > 0.2]  # waited for the import's commit
    waits = [r[4] - r[3] for r in during]
    check(importer.returncode == 0, f"import failed: {imp_err.strip()}")
    check("locked" not in imp_err.lower(), "the import saw 'locked'")

    conn = sqlite3.connect(str(db))
    try:
        got = {rid: (json.loads(sc), json.loads(tg)) for rid, sc, tg in
               conn.execute("SELECT id, scores, tags FROM spans WHERE id LIKE 'fb-%'")}
        comments = set(conn.execute("SELECT text, author FROM comments"))
        audit = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        n_spans = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    finally:
        conn.close()
    lost = total - len(results)  # calls a writer never reported
    for k, row, j, _, _, err in results:
        scores, tags = got.get(row, ({}, []))
        if err or f"w{k}_{j}" not in scores or f"w{k}-t{j}" not in tags or (f"w{k} c{j}", f"writer{k}") not in comments:
            lost += 1
    check(lost == 0, f"{lost} writes lost")
    check(not locked, f"{len(locked)} writes saw 'database is locked'")
    check(not errors, f"{len(errors)} writes failed: {errors[:3]}")
    check(audit == 3 * total, f"audit rows {audit}, expected {3 * total}")
    check(n_spans == spans + rows, f"spans {n_spans}, expected {spans + rows}")
    bad_reads = [r for r in reads if r[0] != 0 or "locked" in r[1].lower()]
    check(not bad_reads, f"reads failed: {bad_reads[:3]}")
    print(f"  import: {import_end - t0:.1f} s (exit {importer.returncode}), the write lock held from "
          f"{(held or t0) - t0:.1f} s to {committed - t0:.1f} s; {len(during)} writes (one per writer) were issued "
          f"meanwhile and waited for its commit, the other {total - len(during)} came right after")
    print(f"  writes: {total} made, {total - lost} landed, {lost} lost, {len(locked)} 'locked', "
          f"{len(errors)} errors; audit rows {audit} (expected {3 * total})")
    if waits:
        print(f"  their wait: median {statistics.median(waits):.2f} s, max {max(waits):.2f} s (the import's "
              f"transaction); every write's: median {statistics.median(r[4] - r[3] for r in results) * 1000:.1f} ms")
    print(f"  concurrent exports: {len(reads)} runs, {len(bad_reads)} failed or 'locked'")


# --- 2. kill -9 during imports ------------------------------------------------------------------


def export_text(db: Path) -> str:
    res = cli(db, "export", "logs")
    assert res.returncode == 0, res.stderr
    return res.stdout


def spill_dirs(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".import-tmp-*"))


def bench_kills(work: Path, kills: int, spans: int, seed_value: int) -> None:
    print(f"\n2. {kills} imports of {spans:,} spans killed with SIGKILL at random points; load {load()}", flush=True)
    rng = random.Random(seed_value)
    corpus = write_corpus(work / "kill.jsonl", spans, "k")
    size = corpus.stat().st_size
    print(f"  corpus {size / 1e6:.0f} MB: the parser runs in a {'process' if size >= 32 << 20 else 'thread'}"
          " (a process from 32 MiB)", flush=True)
    seed_rows = work / "kill-seed.jsonl"
    write_corpus(seed_rows, 300, "seed")
    template = work / "kill-template.db"
    assert cli(template, "import", "logs", seed_rows).returncode == 0
    assert cli(template, "feedback", "seed3", "--score", "human=1", "--tag", "kept", "--comment", "c").returncode == 0

    reference = work / "kill-reference.db"
    shutil.copyfile(template, reference)
    t0 = time.time()
    p = subprocess.Popen([*CLI, "--db", str(reference), "import", "logs", str(corpus)], env=ENV, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    full_cpu = 0.0
    while p.poll() is None:
        full_cpu = max(full_cpu, cpu(p.pid))
        time.sleep(0.01)
    assert p.returncode == 0, p.stderr.read()
    print(f"  an import that is not killed: {time.time() - t0:.1f} s, ~{full_cpu:.1f} CPU s in the CLI process")
    want = export_text(reference)
    seed_export = export_text(template)

    stats = {"killed": 0, "finished first": 0, "corrupt": 0, "partial": 0, "orphans": 0, "seed changed": 0,
             "spill dirs left after next import": 0, "re-run differs": 0}
    for i in range(kills):
        db = work / f"kill-{i}.db"
        shutil.copyfile(template, db)
        at = rng.uniform(0.3, max(0.4, full_cpu * 0.95))
        p = subprocess.Popen([*CLI, "--db", str(db), "import", "logs", str(corpus)], env=ENV, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        kids: set[int] = set()
        while p.poll() is None and cpu(p.pid) < at:
            kids.update(children(p.pid))
            time.sleep(0.005)
        kids.update(children(p.pid))
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            stats["killed"] += 1
        else:
            stats["finished first"] += 1
        try:
            p.communicate(timeout=30)  # returns once every holder of its pipes has ended
        except subprocess.TimeoutExpired:
            stats["orphans"] += 1
        end = time.time() + 10
        while time.time() < end and any(alive(k) for k in kids):
            time.sleep(0.05)
        left = [k for k in kids if alive(k)]
        stats["orphans"] += len(left)
        for k in left:
            os.kill(k, signal.SIGKILL)
        ok = integrity(db)
        stats["corrupt"] += not ok
        conn = sqlite3.connect(str(db))
        try:
            n = conn.execute("SELECT count(*) FROM spans WHERE id LIKE 'k%'").fetchone()[0]
        finally:
            conn.close()
        if n not in (0, spans):
            stats["partial"] += 1
        if n == 0 and export_text(db) != seed_export:
            stats["seed changed"] += 1
        left_dirs = len(spill_dirs(db))
        res = cli(db, "import", "logs", corpus)  # the re-run (it also removes the killed one's spill dir)
        check(res.returncode == 0, f"re-run {i} failed: {res.stderr.strip()}")
        stats["spill dirs left after next import"] += len(spill_dirs(db))
        same = export_text(db) == want and integrity(db)
        stats["re-run differs"] += not same
        print(f"  kill {i + 1}: at {at:.2f} CPU s, {'killed' if p.returncode == -9 else 'finished first'}; "
              f"integrity {'ok' if ok else 'FAILED'}; killed import's rows visible: {n}; spill dirs left: "
              f"{left_dirs} -> {len(spill_dirs(db))} after the re-run; re-run export identical: {same}", flush=True)
        db.unlink()
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    for key in ("corrupt", "partial", "orphans", "seed changed", "spill dirs left after next import", "re-run differs"):
        check(stats[key] == 0, f"kills: {key}: {stats[key]}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in stats.items()))


# --- 3. injection -------------------------------------------------------------------------------

HOSTILE = [
    "'", '"', "''", ";", "--", "/*", "*/", "`", "\\",
    "'); DROP TABLE spans; --", "x'; DROP TABLE spans; --", "\"; DROP TABLE spans; --",
    "1; DELETE FROM spans", "' OR '1'='1", "\" OR \"1\"=\"1", "' OR 1=1 --", "') OR ('1'='1",
    "1' UNION SELECT name, sql FROM sqlite_master --", "UNION SELECT * FROM audit",
    "name = 'x'; DROP TABLE spans; --", "name = 'x' --", "/* */ 1 = 1", "name = 'x'' OR ''1''=''1'",
    "name = 'x\\' OR 1=1 --'", "metadata.\"x\\\"]') OR 1=1 --\" = 1", "metadata.\"a') OR ('1'='1\" IS NOT NULL",
    "input LIKE '%'' OR 1=1 --%'", "tags INCLUDES '\"); DROP TABLE spans; --'", "DROP TABLE spans",
    "input MATCH 'refund OR hello'", "input MATCH 'NEAR(refund policy)'", "input MATCH '{input}: refund'",
    "input MATCH '\"refund'", "input MATCH '*'", "refund*", "\"refund", "NEAR(a b)", "{input}: x", "a AND NOT b",
    "json_extract(metadata, '$[') = 1", "json_extract(metadata, '$.a'') OR 1=1 --') = 1",
    "metadata.\"$.a\" = 1", "$.a[0]", "$[#-1]",
    "created > '2024-01-01'; ATTACH DATABASE '/tmp/x.db' AS x; --", "ATTACH DATABASE 'x' AS y",
    "PRAGMA writable_schema = 1", "VACUUM INTO '/tmp/stolen.db'", "load_extension('x')",
    "count(*) > 1", "(" * 100 + "1 = 1" + ")" * 100, " or ".join(["name = 'a'"] * 100),
    "a" * 10_000, "'" * 5_000, "%" * 1_000, "_%_%",
    "😀", "\u202eevil", "名前 = 1", "ünïcødé", "\x01\x02\x1f", "tab\there", "line\nbreak", "\r\n",
    "$(rm -rf /)", "`id`", "${HOME}", "|| true", "&& echo x", "> /tmp/x",
    "%s%s%s%n", "{0}{1}", "{{7*7}}", "<script>alert(1)</script>", "../../etc/passwd",
]


def bench_injection(work: Path) -> None:
    print(f"\n3. injection: {len(HOSTILE)} hostile strings through every entry point that takes text; load {load()}",
          flush=True)
    db = work / "inject.db"
    sample = ROOT / "sample_data" / "support_traces.jsonl"
    assert cli(db, "import", "logs", sample).returncode == 0
    small = write_corpus(work / "inject-small.jsonl", 3, "inj")
    row = json.loads(sample.read_text(encoding="utf-8").splitlines()[0])["id"]
    codes: dict[int, int] = {}
    tracebacks = unchanged_fail = literal_fail = 0
    attempts = 0

    def run(*args, project=None):
        nonlocal attempts, tracebacks
        attempts += 1
        res = cli(db, *args, project=project)
        codes[res.returncode] = codes.get(res.returncode, 0) + 1
        err = res.stderr.decode(errors="replace")
        if "Traceback" in err or res.returncode not in (0, 2):
            tracebacks += 1
            print(f"  BAD: exit {res.returncode} for {args!r} (project {project!r}): {err.strip()[-300:]}")
        return res

    for s in HOSTILE:
        # Reads: the database is unchanged.
        before = fingerprint(db)
        run("export", "logs", "--filter", s)
        run("query", f"select: id | filter: {s}")
        run("query", s)
        run("query", "SELECT id FROM project_logs('" + s.replace("'", "''") + "') LIMIT 1")
        run("export", "logs", project=s)
        if fingerprint(db) != before:
            unchanged_fail += 1
            print(f"  BAD: a read changed the database: {s[:60]!r}")
        # Writes: the string is stored as itself, nothing else changes.
        before_spans = sqlite3.connect(str(db)).execute("SELECT count(*) FROM spans").fetchone()[0]
        tag = run("feedback", row, "--tag", s, "--author", s)
        com = run("feedback", row, "--comment", s, "--author", s)
        score = run("feedback", row, "--score", f"{s}=0.5")
        imp = run("import", "logs", small, project=s)
        ok = True
        if tag.returncode == 0 or com.returncode == 0 or score.returncode == 0:
            got = json.loads(cli(db, "query", f"select: tags, comments, scores | filter: id = '{row}'",
                                 "--format", "jsonl").stdout.splitlines()[0])
            ok &= tag.returncode != 0 or s.strip() in got["tags"]  # tags and score names are trimmed
            ok &= com.returncode != 0 or any(c["text"] == s and c["author"] == s for c in got["comments"])
            ok &= score.returncode != 0 or got["scores"].get(s.strip()) == 0.5
        if imp.returncode == 0:
            projects = [json.loads(x)["name"] for x in cli(db, "projects", "--format", "jsonl").stdout.splitlines()]
            exported = cli(db, "export", "logs", project=s).stdout.splitlines()
            ok &= s in projects and [json.loads(x)["id"] for x in exported] == ["inj0", "inj1", "inj2"]
        after_spans = sqlite3.connect(str(db)).execute("SELECT count(*) FROM spans").fetchone()[0]
        ok &= after_spans == before_spans + (3 if imp.returncode == 0 else 0)
        ok &= integrity(db)
        if not ok:
            literal_fail += 1
            print(f"  BAD: a write did not store {s[:60]!r} as itself (feedback exits {tag.returncode}, "
                  f"{com.returncode}, {score.returncode}; import exit {imp.returncode})")
    conn = sqlite3.connect(str(db))
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        sample_rows = conn.execute("SELECT count(*) FROM spans s JOIN projects p ON p.id = s.project_id"
                                   " WHERE p.name = 'default'").fetchone()[0]
    finally:
        conn.close()
    check(tracebacks == 0, f"injection: {tracebacks} commands exited 1 or with a traceback")
    check(unchanged_fail == 0, f"injection: {unchanged_fail} reads changed the database")
    check(literal_fail == 0, f"injection: {literal_fail} writes did not store the text as itself")
    check({"spans", "audit", "comments", "projects"} <= tables, "injection: a table is gone")
    check(sample_rows == sample.read_text(encoding="utf-8").count("\n"), "injection: the demo rows changed")
    print(f"  {attempts} commands ({len(HOSTILE)} strings x {attempts // len(HOSTILE)} entry points): exit codes "
          + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))
          + f"; reads that changed the database: {unchanged_fail}; writes not stored literally: {literal_fail};"
          f" exit 1 or traceback: {tracebacks}; integrity ok: {integrity(db)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="writes,kills,injection")
    ap.add_argument("--spans", type=int, default=200_000, help="the import during the writes")
    ap.add_argument("--writers", type=int, default=20, help="writer processes (each has one write waiting on the import)")
    ap.add_argument("--writes", type=int, default=40, help="per writer")
    ap.add_argument("--via", choices=("api", "cli"), default="api", help="writes through the Python API or `bt-tui feedback`")
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--kill-spans", type=int, default=150_000, help="150,000: ~47 MB, past the parser process threshold")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    only = set(a.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="bt-tui-faults-"))
    print(time.strftime("%Y-%m-%d %H:%M"), f"load {load()}, {os.cpu_count()} cores, work dir {work}", flush=True)
    t0 = time.time()
    try:
        if "writes" in only:
            bench_writes(work, a.spans, a.writers, a.writes, a.via)
        if "kills" in only:
            bench_kills(work, a.kills, a.kill_spans, a.seed)
        if "injection" in only:
            bench_injection(work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{time.time() - t0:.0f} s; load {load()}; "
          + ("all checks passed" if not FAILURES else f"{len(FAILURES)} checks FAILED: " + "; ".join(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
