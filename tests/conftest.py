"""Shared fixtures: a temp database, the real `bt-tui` CLI in a subprocess, a span factory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

import helpers

_BIN = Path(sys.executable).parent / "bt-tui"
# The installed console script when there is one, else the module (same entry point: main()).
BT_TUI = [str(_BIN)] if _BIN.exists() else [sys.executable, "-m", "tui.cli"]


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def base_env(tmp_path: Path, db_path: Path | None) -> dict:
    env = dict(os.environ)
    for var in ("BT_TUI_DB", "BT_TUI_PROJECT", "BT_TUI_AUTHOR", "BT_TUI_USER"):
        env.pop(var, None)
    env["CI"] = "1"
    env["COLUMNS"] = "200"
    env["PYTHONIOENCODING"] = "utf-8"
    # Never touch the real user data directory (e.g. `demo` without --db).
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    if db_path is not None:
        env["BT_TUI_DB"] = str(db_path)
    return env


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bt.db"


@pytest.fixture
def cli_env(tmp_path: Path, db_path: Path) -> dict:
    return base_env(tmp_path, db_path)


@pytest.fixture
def run_cli(tmp_path: Path, cli_env: dict):
    """run_cli(*args, input=None, env=None) -> CliResult(returncode, stdout, stderr).

    Runs the real `bt-tui` in a subprocess with BT_TUI_DB set to the test's database (unless
    ``env`` gives one; a value of None in ``env`` removes that variable) and CI=1.
    """

    def run(*args, input=None, env=None, timeout=180, cwd=None) -> CliResult:
        full_env = dict(cli_env)
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = str(v)
        if isinstance(input, str):
            input = input.encode("utf-8")
        proc = subprocess.run(
            [*BT_TUI, *map(str, args)],
            input=input,
            capture_output=True,
            env=full_env,
            cwd=str(cwd or tmp_path),
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))

    return run


@pytest.fixture
def span_factory():
    """The deterministic span factory of tests/helpers.py (make_trace, make_traces, small_span)."""
    return helpers


@pytest.fixture
def sample_rows() -> list[dict]:
    """Six traces of three spans each (18 rows), every contract key present."""
    return helpers.make_traces(6, children=2)


@pytest.fixture
def sample_file(tmp_path: Path, sample_rows) -> Path:
    return helpers.write_jsonl(tmp_path / "sample.jsonl", sample_rows)


@pytest.fixture
def sql(db_path: Path):
    """sql(query, params=()) -> list of rows, on a fresh plain connection each call."""

    def q(query: str, params=()):
        conn = sqlite3.connect(str(db_path))
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    return q
