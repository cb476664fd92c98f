"""The `bt-tui` command line: help, options, project/db selection, exit codes, import hygiene."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BT_TUI
from helpers import assert_one_line_error, make_traces, read_jsonl, write_jsonl

HELP = {
    (): ["--db", "--project", "import", "export", "feedback", "projects", "demo"],
    ("import",): ["logs"],
    ("import", "logs"): ["--format", "--skip-invalid"],
    ("export",): ["logs"],
    ("export", "logs"): ["--format", "--output", "-o"],
    ("feedback",): ["--score", "--expected", "--comment", "--tag", "--author"],
    ("projects",): ["--format"],
    ("demo",): ["--launch", "--no-launch"],
}


@pytest.mark.parametrize("cmd", list(HELP), ids=lambda c: " ".join(c) or "root")
def test_help(run_cli, db_path, cmd):
    res = run_cli(*cmd, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage:" in res.stdout
    for word in HELP[cmd]:
        assert word in res.stdout, (cmd, word)
    assert not db_path.exists(), "--help must not create the database"


def test_projects_lists_projects_with_counts(run_cli, tmp_path):
    rows = make_traces(4, children=2)  # 4 traces, 12 spans
    src = write_jsonl(tmp_path / "a.jsonl", rows)
    assert run_cli("import", "logs", src).returncode == 0
    other = write_jsonl(tmp_path / "b.jsonl", make_traces(1, children=1, prefix="o"))
    assert run_cli("--project", "other", "import", "logs", other).returncode == 0

    res = run_cli("projects")
    assert res.returncode == 0, res.stderr
    table = {line.split()[0]: line.split() for line in res.stdout.splitlines()[1:]}
    assert table["default"][1:3] == ["12", "4"]
    assert table["other"][1:3] == ["2", "1"]

    res = run_cli("projects", "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    got = {p["name"]: (p["spans"], p["traces"]) for p in map(json.loads, res.stdout.splitlines())}
    assert got == {"default": (12, 4), "other": (2, 1)}


def test_project_option_routes_import_and_export(run_cli, tmp_path, sql):
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(2, children=1))
    res = run_cli("--project", "other", "import", "logs", src)
    assert res.returncode == 0, res.stderr
    assert "'other'" in res.stderr
    assert sql("SELECT p.name, count(*) FROM spans s JOIN projects p ON p.id = s.project_id GROUP BY 1") == [("other", 4)]
    assert len(read_jsonl(run_cli("-p", "other", "export", "logs").stdout)) == 4
    # The default project has no logs: exporting it is a clear error, not an empty success.
    assert_one_line_error(run_cli("export", "logs"), 2)
    # BT_TUI_PROJECT works too.
    assert len(read_jsonl(run_cli("export", "logs", env={"BT_TUI_PROJECT": "other"}).stdout)) == 4


def test_same_ids_in_two_projects_are_separate_rows(run_cli, tmp_path, sql):
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(2, children=1))
    assert run_cli("import", "logs", src).returncode == 0
    assert run_cli("--project", "other", "import", "logs", src).returncode == 0
    assert sql("SELECT count(*) FROM spans")[0][0] == 8
    assert run_cli("feedback", "t000000-row0", "--score", "only_default=1", "--author", "a").returncode == 0
    other = {r["id"]: r for r in read_jsonl(run_cli("-p", "other", "export", "logs").stdout)}
    assert "only_default" not in other["t000000-row0"]["scores"]


def test_db_option_beats_env(run_cli, tmp_path):
    env_db = tmp_path / "env.db"
    opt_db = tmp_path / "opt.db"
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(1, children=1))
    res = run_cli("--db", opt_db, "import", "logs", src, env={"BT_TUI_DB": env_db})
    assert res.returncode == 0, res.stderr
    assert opt_db.exists()
    assert not env_db.exists()
    res = run_cli("--db", opt_db, "export", "logs", env={"BT_TUI_DB": env_db})
    assert len(read_jsonl(res.stdout)) == 2
    # And the env var alone is used when there is no --db.
    assert run_cli("import", "logs", src, env={"BT_TUI_DB": env_db}).returncode == 0
    assert env_db.exists()


def test_cli_module_imports_no_textual_or_litellm():
    code = (
        "import sys, json; import tui.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'litellm'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
    # Every command group module, however it is reached (a new group must stay light too).
    code = (
        "import importlib, pkgutil, sys, tui.cli; "
        "[importlib.import_module('tui.cli.' + m.name) for m in pkgutil.iter_modules(tui.cli.__path__)"
        " if m.name != '__main__']; "
        "assert 'textual' not in sys.modules and 'litellm' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'litellm'))"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_tui_holds_no_sql():
    """The TUI and the CLI ask the store with typed values: no sqlite3, no SQL statements.
    (sqlite3 may still be loaded through store/; what matters is that tui/ never uses it.)"""
    root = Path(__file__).resolve().parent.parent / "tui"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"^\s*(import\s.*\bsqlite3\b|from\s+sqlite3\b)", code) or ".execute(" in code:
                offenders.append(f"{path.relative_to(root.parent)}:{n}: {line.strip()}")
    assert offenders == []


def test_python_m_tui_cli_is_the_same_entry_point(cli_env):
    res = subprocess.run([sys.executable, "-m", "tui.cli", "projects", "--format", "xml"], capture_output=True,
                         text=True, env=cli_env)
    assert res.returncode == 2
    assert res.stderr.startswith("bt-tui: ") and len(res.stderr.splitlines()) == 1


def test_store_imports_no_textual_or_litellm():
    code = (
        "import sys, json, pkgutil, importlib, store; "
        "[importlib.import_module('store.' + m.name) for m in pkgutil.iter_modules(store.__path__)]; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'litellm', 'tui', 'engine'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


RUN_COMMANDS = """
import json, sys
from tui import cli

db, src, out = sys.argv[1:4]
for argv in (["import", "logs", src], ["export", "logs", "-o", out], ["projects"]):
    sys.argv = ["bt-tui", "--db", db, *argv]
    try:
        cli.main()
    except SystemExit as e:
        assert e.code in (0, None), e.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "litellm"))
print(json.dumps(loaded), file=sys.stderr)
"""


def test_running_commands_imports_no_textual(tmp_path, cli_env):
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(1, children=1))
    out = tmp_path / "o.jsonl"
    p = subprocess.run(
        [sys.executable, "-c", RUN_COMMANDS, str(tmp_path / "x.db"), str(src), str(out)],
        capture_output=True, text=True, env=cli_env,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stderr.strip().splitlines()[-1]) == []
    assert len(read_jsonl(out)) == 2


def test_unknown_format_is_exit_2(run_cli, sample_file):
    assert run_cli("import", "logs", sample_file).returncode == 0
    for args in (
        ("import", "logs", str(sample_file), "--format", "xml"),
        ("export", "logs", "--format", "xml"),
        ("projects", "--format", "xml"),
    ):
        line = assert_one_line_error(run_cli(*args), 2)
        assert "xml" in line, args


def test_unknown_file_type_without_format_is_exit_2(run_cli, tmp_path):
    weird = tmp_path / "data.bin"
    weird.write_bytes(b"\x00\x01not json at all")
    assert_one_line_error(run_cli("import", "logs", weird), 2)


def test_export_on_missing_database_is_exit_2_and_creates_nothing(run_cli, tmp_path):
    missing = tmp_path / "missing.db"
    assert_one_line_error(run_cli("export", "logs", env={"BT_TUI_DB": missing}), 2)
    assert_one_line_error(run_cli("projects", env={"BT_TUI_DB": missing}), 2)
    assert not missing.exists()


@pytest.mark.parametrize("args,fragment", [
    (("export", "logs", "--no-such-option"), "No such option: --no-such-option"),
    (("no-such-command",), "No such command 'no-such-command'"),
    (("feedback",), "Missing argument"),
    (("-p", "", "projects"), "--project: the project name is empty"),
    (("feedback", "r", "--tag", " "), "a tag cannot be empty"),
])
def test_bad_usage_is_one_line_and_exit_2(run_cli, args, fragment):
    line = assert_one_line_error(run_cli(*args), 2)
    assert fragment in line


def test_group_without_a_command_shows_its_help(run_cli):
    res = run_cli("import")
    assert res.returncode == 0 and "logs" in res.stdout and res.stderr == ""


def test_file_and_directory_mistakes_are_one_line(run_cli, sample_file, tmp_path):
    assert "is a directory" in assert_one_line_error(run_cli("import", "logs", tmp_path), 2)
    run_cli("import", "logs", sample_file)
    line = assert_one_line_error(run_cli("export", "logs", "-o", tmp_path / "missing" / "x.jsonl"), 2)
    assert "no such directory" in line
    not_db = tmp_path / "notes.db"
    not_db.write_text("not a database at all, just some text that is long enough\n" * 10)
    assert "not a bt-tui database" in assert_one_line_error(run_cli("--db", not_db, "projects"), 2)


def test_query_table_into_closed_pipe_is_quiet(tmp_path, cli_env):
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(800, children=2))  # far more than a pipe holds
    env = dict(cli_env, BT_TUI_DB=str(tmp_path / "p.db"))
    subprocess.run([*BT_TUI, "import", "logs", str(src)], env=env, check=True, capture_output=True)
    p = subprocess.Popen([*BT_TUI, "query", "select: id, input | limit: 2000"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert p.returncode == 0, err


def test_export_into_closed_pipe_is_quiet(tmp_path, cli_env):
    src = write_jsonl(tmp_path / "a.jsonl", make_traces(800, children=2))
    env = dict(cli_env, BT_TUI_DB=str(tmp_path / "p.db"))
    subprocess.run([*BT_TUI, "import", "logs", str(src)], env=env, check=True, capture_output=True)
    p = subprocess.Popen([*BT_TUI, "export", "logs"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert json.loads(first)["id"] == "t000000-row0"
    assert p.returncode == 0, err
    assert "Traceback" not in err and "Error" not in err


def test_stdout_is_data_only_and_messages_go_to_stderr(run_cli, sample_file, sample_rows):
    res = run_cli("import", "logs", sample_file)
    assert res.stdout == ""
    assert f"imported {len(sample_rows)}" in res.stderr
    res = run_cli("export", "logs")
    assert res.stderr == ""
    assert len(read_jsonl(res.stdout)) == len(sample_rows)


def test_demo_seeds_once_without_launching(run_cli, tmp_path):
    demo_db = tmp_path / "demo.db"
    res = run_cli("demo", "--no-launch", env={"BT_TUI_DB": demo_db})
    assert res.returncode == 0, res.stderr
    assert "seeded" in res.stderr
    n = len(read_jsonl(run_cli("export", "logs", env={"BT_TUI_DB": demo_db}).stdout))
    assert n > 0
    res = run_cli("demo", "--no-launch", env={"BT_TUI_DB": demo_db})
    assert res.returncode == 0, res.stderr
    assert "already" in res.stderr
    assert len(read_jsonl(run_cli("export", "logs", env={"BT_TUI_DB": demo_db}).stdout)) == n


FILTERS = [
    ("scores.accuracy > 0.5", ["t000003-row0", "t000004-row0"]),
    ("tags includes 'vip'", ["t000000-row0", "t000005-row0"]),
    ("metadata.model = 'gpt-4o' AND is_root", ["t000000-row0", "t000003-row0"]),
    ("WHERE output MATCH 'refund'", ["t000000-row0"]),
]


def test_export_with_filter(run_cli, sample_file):
    """DESIGN.md section 4: `export logs --filter EXPR` (sample rows are make_traces(6, 2))."""
    assert run_cli("import", "logs", sample_file).returncode == 0
    for expr, want in FILTERS:
        res = run_cli("export", "logs", "--filter", expr)
        assert res.returncode == 0, res.stderr
        assert sorted(r["id"] for r in read_jsonl(res.stdout)) == want, expr


def test_export_bad_filter_is_exit_2_with_position(run_cli, sample_file):
    assert run_cli("import", "logs", sample_file).returncode == 0
    res = run_cli("export", "logs", "--filter", "scores.accuracy >")
    assert res.returncode == 2
    assert res.stdout == ""
    assert "Traceback" not in res.stderr and "sqlite" not in res.stderr.lower()
    first = res.stderr.splitlines()[0]
    assert "column" in first


HOSTILE_TEXT = ["'); DROP TABLE spans; --", "a' || (SELECT group_concat(sql) FROM sqlite_master) || '",
                "名前 😀 \u202eevil \"q\" `id` $(true)"]


def test_hostile_text_through_the_writing_commands_is_stored_as_itself(run_cli, tmp_path, sql, sample_file):
    """The query path has its hostile-input tests; the writing commands take text too: a project
    name, a tag, a comment, an author and a score name are stored as given, and nothing else
    changes (bench/bench_faults.py runs ~75 strings through every entry point)."""
    assert run_cli("import", "logs", sample_file).returncode == 0
    schema = sql("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    default_rows = sql("SELECT * FROM spans ORDER BY rid")
    small = write_jsonl(tmp_path / "small.jsonl", make_traces(1, children=0, prefix="h"))
    for n, text in enumerate(HOSTILE_TEXT):
        res = run_cli("--project", text, "import", "logs", small)
        assert res.returncode == 0, res.stderr
        res = run_cli("--project", text, "feedback", "h000000-row0", "--tag", text, "--comment", text,
                      "--author", text, "--score", f"{text}=0.25")
        assert res.returncode == 0, res.stderr
        rows = read_jsonl(run_cli("--project", text, "export", "logs").stdout)
        assert len(rows) == 1 and text in rows[0]["tags"] and rows[0]["scores"][text] == 0.25
        assert [(c["text"], c["author"]) for c in rows[0]["comments"]] == [(text, text)]
    names = [json.loads(line)["name"] for line in run_cli("projects", "--format", "jsonl").stdout.splitlines()]
    assert sorted(names) == sorted(["default", *HOSTILE_TEXT])
    assert sql("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert sql("SELECT * FROM spans WHERE project_id = (SELECT id FROM projects WHERE name = 'default')"
               " ORDER BY rid") == default_rows
    assert sql("PRAGMA integrity_check") == [("ok",)]
