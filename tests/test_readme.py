"""The README's promises about the project itself: its test command, and that CI runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("Install and run the tests", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", section, re.S).group(1)
    return block.strip().split(" && ")[-1]


def test_ci_runs_the_readme_test_command():
    command = _readme_test_command()
    assert command == "python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == command


def test_the_readme_test_command_ends_with_a_count_of_passed_tests(tmp_path):
    """`-q` in the project's addopts plus `-q` on the command line hid the `N passed` line."""
    test = tmp_path / "test_one.py"
    test.write_text("def test_one():\n    assert True\n\ndef test_two():\n    assert True\n")
    args = _readme_test_command().split()[3:]  # the options after `python -m pytest`
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider", str(test)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^2 passed in [\d.]+s$", proc.stdout.strip().splitlines()[-1]), proc.stdout
