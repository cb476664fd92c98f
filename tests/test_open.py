"""Opening a database: reads never write (a foreign SQLite file is refused untouched, a missing
file stays missing), `bt-tui --db typo.db` leaves no file behind, and a database in a directory
we cannot write can still be read (issue 9, points 3 and 4)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BT_TUI
from helpers import assert_one_line_error, make_traces, read_jsonl, write_jsonl
from store import ForeignDatabase, NoDatabase, Store, StoreError
from store.connection import discard_if_unused
from store.spans import log_spans


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def foreign(tmp_path) -> Path:
    """Some other application's SQLite file (rollback journal, a table of its own)."""
    path = tmp_path / "app.sqlite"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ada'), ('grace')")
    conn.commit()
    conn.close()
    return path


FOREIGN_COMMANDS = [
    ("query", "select: id"),
    ("export", "logs"),
    ("export", "logs", "--filter", "scores.x > 0"),
    ("export", "logs", "--format", "csv"),
    ("projects",),
    ("feedback", "row-1", "--score", "a=1"),
    ("import", "logs", "SPANS"),
]


@pytest.mark.parametrize("args", FOREIGN_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_foreign_sqlite_file_is_refused_untouched(run_cli, tmp_path, foreign, args):
    """`query`/`export` on another application's file added 14 tables and switched it to WAL."""
    spans = write_jsonl(tmp_path / "spans.jsonl", make_traces(1))
    args = [str(spans) if a == "SPANS" else a for a in args]
    before = _sha(foreign)
    line = assert_one_line_error(run_cli("--db", foreign, *args), 2)
    assert line == f"bt-tui: {foreign} is not a bt-tui database (no bt-tui schema)"
    assert _sha(foreign) == before
    assert _journal_mode(foreign) == "delete"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.sqlite")) == ["app.sqlite"]


def test_the_tui_refuses_a_foreign_file_before_it_starts(run_cli, foreign):
    before = _sha(foreign)
    line = assert_one_line_error(run_cli("--db", foreign), 2)
    assert line == f"bt-tui: {foreign} is not a bt-tui database (no bt-tui schema)"
    assert _sha(foreign) == before and _journal_mode(foreign) == "delete"


@pytest.mark.parametrize("readonly", [True, False])
def test_the_store_refuses_a_foreign_file_untouched(foreign, readonly):
    before = _sha(foreign)
    with pytest.raises(ForeignDatabase) as info:
        Store(foreign, readonly=readonly)
    assert str(info.value) == f"{foreign} is not a bt-tui database (no bt-tui schema)"
    assert _sha(foreign) == before and _journal_mode(foreign) == "delete"


@pytest.mark.parametrize("args", [("query", "select: id"), ("export", "logs"), ("projects",),
                                  ("feedback", "r", "--comment", "x")], ids=lambda a: a[0])
def test_a_missing_database_for_a_read_is_exit_2_and_stays_missing(run_cli, tmp_path, args):
    missing = tmp_path / "typo.db"
    line = assert_one_line_error(run_cli("--db", missing, *args), 2)
    assert line == f"bt-tui: {missing}: no such database (import some logs first, or pass --db)"
    assert list(tmp_path.glob("typo.db*")) == []


def test_reading_an_empty_file_leaves_it_empty(run_cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    line = assert_one_line_error(run_cli("--db", empty, "query", "select: id"), 2)
    assert line == f"bt-tui: {empty} is not a bt-tui database (no bt-tui schema)"
    assert empty.read_bytes() == b"" and list(tmp_path.glob("empty.db-*")) == []


# --- the TUI on a file that does not exist yet ----------------------------------------------------


def _launch_in_process(monkeypatch, db: Path, tui) -> None:
    """`bt-tui --db DB` in this process, the TUI replaced by ``tui(path)``."""
    from tui.cli import app, launch

    monkeypatch.setattr(launch, "launch_tui", lambda path, project: tui(path))
    app(["--db", str(db)], standalone_mode=False)


def test_looking_at_a_new_database_in_the_tui_leaves_no_file(monkeypatch, tmp_path):
    typo = tmp_path / "typo.db"

    def tui(path):  # what the app does today: open (and so create) the database, look, quit
        Store(path).close()
        assert Path(path).exists()

    _launch_in_process(monkeypatch, typo, tui)
    assert list(tmp_path.glob("typo.db*")) == []


def test_a_database_the_tui_wrote_to_is_kept(monkeypatch, tmp_path):
    new = tmp_path / "new.db"

    def tui(path):
        s = Store(path)
        log_spans(s, "default", [{"id": "r1"}])
        s.close()

    _launch_in_process(monkeypatch, new, tui)
    assert new.exists()
    s = Store(new, readonly=True)
    assert s.conn.execute("SELECT id FROM spans").fetchall() == [("r1",)]
    s.close()


def test_an_existing_empty_database_is_never_removed(monkeypatch, tmp_path):
    existing = tmp_path / "kept.db"
    Store(existing).close()
    _launch_in_process(monkeypatch, existing, lambda path: Store(path).close())
    assert existing.exists()


def test_real_tui_on_a_typo_leaves_no_file(tmp_path, cli_env):
    """The real binary in a terminal (tmux): start on a path that does not exist, quit."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    import shlex
    import time

    typo = tmp_path / "typo.db"
    done = tmp_path / "exit-status"
    socket = f"bt-open-{os.getpid()}"
    env = {k: v for k, v in cli_env.items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE", "CI")}
    env["TERM"] = "xterm-256color"
    env["BT_TUI_CONFIG"] = str(tmp_path / "config.json")
    command = " ".join([*map(shlex.quote, BT_TUI), "--db", shlex.quote(str(typo))]) + f"; echo $? > {done}"

    def tmux(*args):
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, env=env, timeout=10)

    try:
        tmux("new-session", "-d", "-s", "bt", "-x", "100", "-y", "30", command)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "/ Filter" not in tmux("capture-pane", "-p", "-t", "bt").stdout:
            time.sleep(0.1)
        assert typo.exists()  # the app is up, on its (new, empty) database
        tmux("send-keys", "-t", "bt", "q")
        while time.monotonic() < deadline and not (done.exists() and done.read_text().strip()):
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        tmux("kill-server")
    assert list(tmp_path.glob("typo.db*")) == []


def test_store_create_false_and_discard(tmp_path):
    missing = tmp_path / "m.db"
    with pytest.raises(NoDatabase):
        Store(missing, create=False)
    with pytest.raises(NoDatabase):
        Store(missing, readonly=True)
    assert not missing.exists()
    s = Store(missing)
    assert s.created and s.is_unused()
    s.close(discard_unused=True)
    assert not missing.exists()
    s = Store(missing)
    log_spans(s, "p", [{"id": "x"}])
    assert not s.is_unused()
    s.close(discard_unused=True)
    assert missing.exists()
    assert discard_if_unused(missing) is False  # it has rows


def test_discard_leaves_a_database_someone_else_has_open(tmp_path):
    path = tmp_path / "shared.db"
    other = Store(path)
    other.conn.execute("SELECT 1").fetchone()
    try:
        assert discard_if_unused(path) is False
        assert path.exists()
    finally:
        other.close()
    assert discard_if_unused(path) is True and not path.exists()


# --- a database in a directory we cannot write ------------------------------------------------------


def _unprivileged(cmd: list[str]) -> list[str]:
    """``cmd`` as a process that file permissions apply to. As root (chmod alone would not
    stop it): root without the capabilities that override file permissions (setpriv)."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a directory unwritable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *cmd]


@pytest.fixture
def readonly_dir_db(tmp_path, run_cli):
    """A bt-tui database (WAL mode, cleanly closed: no -wal or -shm) in a 0555 directory."""
    d = Path(tempfile.mkdtemp(prefix="bt-ro-", dir=tmp_path))
    db = d / "bt.db"
    src = write_jsonl(tmp_path / "spans.jsonl", make_traces(2, children=1))
    assert run_cli("--db", db, "import", "logs", src).returncode == 0
    assert _journal_mode(db) == "wal" and sorted(p.name for p in d.iterdir()) == ["bt.db"]
    d.chmod(0o555)
    probe = subprocess.run(_unprivileged(["touch", str(d / "probe")]), capture_output=True)
    if probe.returncode == 0:
        d.chmod(0o755)
        pytest.skip("cannot make a directory unwritable here")
    yield db
    d.chmod(0o755)


@pytest.mark.parametrize("args", [("export", "logs"), ("query", "select: id | sort: id"), ("projects",),
                                  ("export", "logs", "--filter", "is_root")], ids=lambda a: " ".join(a[:2]))
def test_reads_work_in_a_directory_we_cannot_write(readonly_dir_db, cli_env, args):
    """`export` and `query` failed with `attempt to write a readonly database` (exit 1)."""
    db = readonly_dir_db
    before = _sha(db)
    env = dict(cli_env, BT_TUI_DB=str(db))
    proc = subprocess.run(_unprivileged([*BT_TUI, *args]), capture_output=True, text=True, env=env,
                          cwd=db.parent.parent, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"note: {db}: its directory is not writable, so it is read as a snapshot")
    if args[0] == "export":
        assert len(read_jsonl(proc.stdout)) == (4 if len(args) == 2 else 2)
    else:
        assert "t000000" in proc.stdout or "default" in proc.stdout
    assert _sha(db) == before and sorted(p.name for p in db.parent.iterdir()) == ["bt.db"]


def test_a_pending_wal_in_a_directory_we_cannot_write_is_explained(tmp_path):
    """Reading it as a snapshot would miss the changes in -wal: say what is needed instead."""
    d = tmp_path / "ro"
    d.mkdir()
    db = d / "bt.db"
    s = Store(db)
    log_spans(s, "p", [{"id": "a"}])
    s.close()
    # A second writer leaves a WAL behind (the checkpoint on close is skipped).
    conn = sqlite3.connect(str(db))
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE spans SET output = '\"late\"'")
    conn.commit()
    wal = (d / "bt.db-wal").read_bytes()
    conn.close()
    (d / "bt.db-shm").unlink(missing_ok=True)
    (d / "bt.db-wal").write_bytes(wal)
    d.chmod(0o555)
    try:
        script = (
            "import sys\n"
            "from store import Store, StoreError\n"
            "try:\n"
            f"    Store({str(db)!r}, readonly=True)\n"
            "except StoreError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        import sys

        probe = subprocess.run(_unprivileged(["touch", str(d / "probe")]), capture_output=True)
        if probe.returncode == 0:
            pytest.skip("cannot make a directory unwritable here")
        proc = subprocess.run(_unprivileged([sys.executable, "-c", script]), capture_output=True, text=True,
                              cwd=Path(__file__).parent.parent)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert "bt.db-wal holds changes not yet in the database file" in proc.stdout
    finally:
        d.chmod(0o755)


def test_a_read_never_migrates_a_database_one_schema_behind(tmp_path):
    """The newest migration only adds what writers need: a read of a database one version
    older works without upgrading it (a read never writes)."""
    from store import SCHEMA_VERSION, migrations
    from store.connection import connect

    path = tmp_path / "older.db"
    conn = connect(path)
    migrations.migrate(conn, target=SCHEMA_VERSION - 1)
    conn.close()
    before = _sha(path)
    s = Store(path, readonly=True)
    try:
        assert migrations.schema_version(s.conn) == SCHEMA_VERSION - 1
    finally:
        s.close()
    assert _sha(path) == before
    with pytest.raises(StoreError, match="newer"):
        bad = sqlite3.connect(str(path))
        bad.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
        bad.commit()
        bad.close()
        Store(path, readonly=True)


def test_writing_in_a_directory_we_cannot_write_says_what_is_needed(readonly_dir_db, cli_env, tmp_path):
    db = readonly_dir_db
    src = write_jsonl(tmp_path / "more.jsonl", make_traces(1, prefix="m"))
    env = dict(cli_env, BT_TUI_DB=str(db))
    for args in (("import", "logs", str(src)), ("feedback", "t000000-row0", "--comment", "hi")):
        proc = subprocess.run(_unprivileged([*BT_TUI, *args]), capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == (f"bt-tui: {db}: cannot write to the database: its directory is not writable;"
                               " reading commands (query, export, projects) still work\n")


def test_an_unreadable_database_is_one_line(tmp_path, cli_env, run_cli):
    db = tmp_path / "locked.db"
    assert run_cli("--db", db, "import", "logs", write_jsonl(tmp_path / "a.jsonl", make_traces(1))).returncode == 0
    db.chmod(0o000)
    try:
        proc = subprocess.run(_unprivileged([*BT_TUI, "--db", str(db), "query", "select: id"]), capture_output=True,
                              text=True, env=cli_env, timeout=120)
        if proc.returncode == 0:
            pytest.skip("file permissions do not apply here")
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"bt-tui: {db}: cannot open the database (you need read access to it)\n"
    finally:
        db.chmod(0o644)


def test_closing_the_store_while_another_thread_queries_interrupts_it_never_crashes(tmp_path):
    """The app closes its store on exit while a worker may be mid-query (a page being read).
    Closing that thread's connection under the query crashed the process (SIGSEGV); close()
    interrupts it instead and the worker closes it when done (release_thread)."""
    import threading

    s = Store(tmp_path / "busy.db")
    s.conn.execute("SELECT 1")
    started, outcome = threading.Event(), {}

    def worker() -> None:
        conn = s.conn
        started.set()
        try:
            conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000)"
                         " SELECT count(*) FROM n").fetchone()
            outcome["result"] = "finished"
        except sqlite3.OperationalError as exc:
            outcome["result"] = str(exc)
        finally:
            s.release_thread()

    t = threading.Thread(target=worker)
    t.start()
    started.wait(10)
    time.sleep(0.2)  # the query is running
    s.close()
    t.join(30)
    assert not t.is_alive() and outcome["result"] == "interrupted"
    assert not s._all  # the worker closed its own connection
