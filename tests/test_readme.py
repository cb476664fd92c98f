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


def test_the_readme_answers_average_factuality_per_model_on_the_demo_data(run_cli):
    """Scores sit on roots and models on LLM spans: the README's query must give real numbers
    on the demo corpus (`bt-tui demo` seeds it), the same as computing them by hand."""
    import json

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if "avg(scores.Factuality)" in ln and ln.startswith("bt-tui query"))
    query = line[len('bt-tui query "'):line.rindex('"')]
    sample = ROOT / "sample_data" / "support_traces.jsonl"
    assert run_cli("import", "logs", sample).returncode == 0
    res = run_cli("query", query, "--format", "jsonl")
    assert res.returncode == 0, res.stderr
    got = [json.loads(x) for x in res.stdout.splitlines()]

    spans = [json.loads(x) for x in sample.read_text(encoding="utf-8").splitlines() if x.strip()]
    roots = {s["root_span_id"]: s for s in spans if s["span_id"] == s["root_span_id"]}
    llm = {}
    for s in sorted(spans, key=lambda s: (s.get("metrics") or {}).get("start", 0)):
        model = (s.get("metadata") or {}).get("model")
        if (s.get("span_attributes") or {}).get("type") == "llm" and model:
            llm.setdefault(s["root_span_id"], model)
    by_model: dict = {}
    for trace, root in roots.items():
        model = (root.get("metadata") or {}).get("model") or llm.get(trace)
        by_model.setdefault(model, []).append((root.get("scores") or {}).get("Factuality"))
    want = {m: (len(v), sum(x for x in v if x is not None) / len([x for x in v if x is not None]))
            for m, v in by_model.items() if m and any(x is not None for x in v)}
    assert len(want) >= 3
    rows = {r["model"]: (r["traces"], r["factuality"]) for r in got if r["model"]}
    assert rows.keys() == want.keys()
    for m, (n, avg) in want.items():
        assert rows[m][0] == n and abs(rows[m][1] - avg) < 1e-9, m
    assert [r["factuality"] for r in got if r["model"]] == sorted((r["factuality"] for r in got if r["model"]),
                                                                 reverse=True)
