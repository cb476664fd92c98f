"""Smoke test of the real `bt-tui` binary in a real terminal (tmux): start, filter, open a
trace, page a value through $PAGER, go back, add a trace to a dataset and look at it, flag a
trace and review it, quit; and a focused review killed after it showed values as saved."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tui_fixtures import demo_db, demo_db_template, sample_roots, sample_rows, tui_env  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (not on PATH)")

_BIN = Path(sys.executable).parent / "bt-tui"
BT_TUI = [str(_BIN)] if _BIN.exists() else [sys.executable, "-m", "tui.cli"]
WAIT = 15.0


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> str:
        # An explicit environment: the process's C-level environ can carry stray COLUMNS/LINES
        # (set by a terminal library during the test run) that would pin the app to 80x24.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
                              env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "bt")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "bt", *(["-l"] if literal else []), *keys)

    def wait_for(self, pred, what: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; the screen was:\n{text}")


@pytest.fixture
def tmux():
    t = Tmux(f"bt-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield t
    finally:
        t.run("kill-server", check=False)


def test_real_binary_in_tmux(tmux, demo_db, tmp_path, tui_env):
    cfg = tui_env  # a temp config file (also set in this process's environment)
    paged = tmp_path / "paged.json"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\ncp "$1" "{paged}"\n', encoding="utf-8")
    pager.chmod(pager.stat().st_mode | stat.S_IXUSR)
    env = {
        "BT_TUI_CONFIG": str(cfg),
        "BT_TUI_AUTHOR": "tmux-tester",
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "PAGER": str(pager),
        "TERM": "xterm-256color",
    }
    from store import Store
    from store.review import add_score_config, make_config

    store = Store(demo_db)  # a score configuration to review with
    add_score_config(store, "default", make_config("tone", "categorical", [("friendly", 1), ("neutral", 0.5),
                                                                            ("curt", 0)]), author="setup")
    store.close()
    exit_file = tmp_path / "exit-status"
    command = " ".join(
        ["env", "-u", "BT_TUI_DB", "-u", "BT_TUI_PROJECT", "-u", "EDITOR", "-u", "COLUMNS", "-u", "LINES"]
        + [f"{k}={shlex.quote(v)}" for k, v in env.items()]
        + [shlex.quote(part) for part in BT_TUI]
        + ["--db", shlex.quote(str(demo_db))]
    )
    # The shell records the exit status: tmux 3.3 sometimes leaves its pane's process unreaped
    # (a zombie, so no #{pane_dead_status}), whatever that process did.
    command = f"{command}; echo $? > {shlex.quote(str(exit_file))}"
    tmux.run("new-session", "-d", "-s", "bt", "-x", "120", "-y", "40", command)
    tmux.run("set-option", "-w", "-t", "bt", "remain-on-exit", "on")

    newest = sample_roots()[0]
    text = tmux.wait_for(lambda s: "300 matching" in s and "support_request" in s, "the first rows")
    assert "11-20 23:39:23" in text  # the newest trace is the first row
    assert text.index("11-20 23:39:23") < text.index("11-20 22:40:42")

    # / filter enter: the filter runs, the status says so.
    low = {s["root_span_id"] for s in sample_rows()
           if (s.get("scores") or {}).get("Factuality") is not None and s["scores"]["Factuality"] < 0.5}
    first_low = next(r for r in sample_roots() if r["root_span_id"] in low)
    tmux.keys("/")
    time.sleep(0.5)  # a human pause: keys sent in the same burst as "/" can reach the table before focus moves
    tmux.keys("scores.Factuality < 0.5", literal=True)
    tmux.keys("Enter")
    text = tmux.wait_for(lambda s: "traces · filter ·" in s and f"{len(low)} matching" in s, "the filtered rows")
    from tui.format import fmt_time

    assert fmt_time(first_low["created"]) in text.split("\n")[4]  # the first row is the newest match
    if newest["root_span_id"] not in low:
        assert fmt_time(newest["created"]) not in text

    # enter opens the first matching trace.
    tmux.keys("Enter")
    text = tmux.wait_for(lambda s: f"trace {first_low['root_span_id']}" in s and " spans" in s, "the trace screen")
    assert "support_request" in text

    # o pages the shown value (the root's input) through $PAGER in the real terminal, as text;
    # O as raw JSON.
    def page(key: str) -> str:
        if paged.exists():
            paged.unlink()
        tmux.keys(key)
        deadline = time.monotonic() + WAIT
        while not (paged.exists() and paged.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        tmux.wait_for(lambda s: f"trace {first_low['root_span_id']}" in s, "the trace screen after the pager")
        return paged.read_text(encoding="utf-8")

    as_text = page("o")
    assert as_text.startswith("message:\n") and "\\n" not in as_text  # text with its line breaks, no escapes
    assert all("  " + line in as_text for line in first_low["input"]["message"].splitlines() if line)
    assert json.loads(page("O")) == first_low["input"]

    # escape goes back to the (still filtered) Logs screen.
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "traces · filter ·" in s and "/ Filter" in s, "the Logs screen again")

    # a adds the current trace to a new dataset; D lists it; enter opens it; h shows its version.
    tmux.keys("a")
    tmux.wait_for(lambda s: "Add this trace to a dataset" in s, "the add-to-dataset dialog")
    time.sleep(0.3)
    tmux.keys("smoke cases", literal=True)
    tmux.wait_for(lambda s: "new dataset 'smoke cases'" in s, "the new dataset's name offered")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "to 'smoke cases'" in s, "the notice of what was added")
    tmux.keys("D")
    text = tmux.wait_for(lambda s: "Datasets of project" in s and "smoke cases" in s, "the Datasets screen")
    assert "tmux-tester" in text  # who made it
    tmux.keys("Enter")
    text = tmux.wait_for(lambda s: "smoke cases · version" in s and "1 record" in s, "the dataset's records")
    tmux.keys("h")
    tmux.wait_for(lambda s: "+1 ~0 -0" in s and "tmux-tester" in s, "the dataset's versions")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "smoke cases · version" in s, "the records again")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Datasets of project" in s, "the Datasets screen again")

    # the playground over that dataset (set up through the store), run for real on the offline
    # model: the run goes to a worker process of the real binary and its answer comes back.
    setup = Store(demo_db)
    try:
        from store.experiments import save_playground
        from store.prompts import save_prompt

        save_prompt(setup, "default", "smoke-bot", [{"role": "user", "content": "{{input}}"}], model="offline")
        save_playground(setup, "default", "smoke", dataset="smoke cases", dataset_version=None,
                        variants=[{"id": "A", "prompt": "smoke-bot@1", "model": "offline"}])
    finally:
        setup.close()
    tmux.keys("Y")
    tmux.wait_for(lambda s: "Playgrounds of project" in s and "smoke" in s, "the Playgrounds screen")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "smoke · mode All" in s and "1 row" in s, "the playground's grid")
    tmux.keys("r")
    tmux.wait_for(lambda s: "1/1" in s and "done" in s and "✓" in s, "the run's answer")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Playgrounds of project" in s, "the Playgrounds screen again")

    # a short review: L, f flags the current trace; R lists it; r reviews it: 2 picks "neutral",
    # enter completes it and the queue is empty.
    tmux.keys("L")
    tmux.wait_for(lambda s: "traces · all rows · 300 matching" in s, "the Logs screen (a new one: all rows)")
    tmux.keys("f")
    tmux.wait_for(lambda s: "flagged" in s, "the flag notice")
    tmux.keys("R")
    tmux.wait_for(lambda s: "Awaiting review (1)" in s and "backlog" in s, "the Review screen")
    tmux.keys("r")
    tmux.wait_for(lambda s: "review · tmux-tester · 1 / 1" in s and "1 friendly" in s and "2 neutral" in s,
                  "focused review with the tone field")
    tmux.keys("2")
    time.sleep(0.3)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Nothing to review" in s, "the empty queue")
    store = Store(demo_db, readonly=True)
    try:
        from store.review import human_values, queue_items

        (item,) = queue_items(store, "default")
        assert item.state == "complete" and item.id == newest["id"]  # the first row: the newest trace
        assert [(v.author, v.value, v.text) for v in human_values(store, "default", item.id)["tone"]] == [
            ("tmux-tester", 0.5, "neutral")]
    finally:
        store.close()
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Awaiting review (0)" in s, "the Review screen again")

    # q quits: the process ends, cleanly.
    tmux.keys("q")
    deadline = time.monotonic() + WAIT
    while not (exit_file.exists() and exit_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    status = exit_file.read_text().strip() if exit_file.exists() else "(still running)"
    assert status == "0", f"exit status {status}; screen:\n{tmux.screen()}"
    assert "Traceback" not in tmux.screen()


def test_no_color_is_respected(tmux, demo_db, tmp_path, tui_env):
    """With NO_COLOR set the real binary paints no colour at all (attributes such as bold and
    reverse still mark the header and the cursor)."""
    command = " ".join(
        ["env", "-u", "BT_TUI_DB", "-u", "COLUMNS", "-u", "LINES", "NO_COLOR=1", "TERM=xterm-256color",
         f"BT_TUI_CONFIG={shlex.quote(str(tui_env))}"]
        + [shlex.quote(part) for part in BT_TUI]
        + ["--db", shlex.quote(str(demo_db))]
    )
    tmux.run("new-session", "-d", "-s", "bt", "-x", "100", "-y", "30", command)
    tmux.wait_for(lambda s: "300 matching" in s and "support_request" in s, "the first rows")
    painted = tmux.run("capture-pane", "-e", "-p", "-t", "bt")
    import re

    colours = re.findall(r"\x1b\[[0-9;]*(?:3[0-7]|4[0-7]|38;[25]|48;[25]|9[0-7]|10[0-7])[0-9;]*m", painted)
    assert not colours, f"colour escapes with NO_COLOR set: {colours[:5]}"
    assert "\x1b[" in painted  # still styled (bold header, reverse cursor): not a blank capture


def test_a_killed_review_loses_nothing_it_showed_as_saved(tmux, demo_db, tmp_path, tui_env):
    """Focused review in the real binary: values picked, the header says "saved", then the
    process is killed (SIGKILL: no clean-up at all). Every value it showed as saved is in the
    database, with its author."""
    from store import Store
    from store.review import add_score_config, flag, human_values, make_config

    roots = [r["id"] for r in sample_roots()[:3]]
    store = Store(demo_db)
    add_score_config(store, "default", make_config("tone", "categorical", [("friendly", 1), ("neutral", 0.5),
                                                                            ("curt", 0)]), author="setup")
    add_score_config(store, "default", make_config("helpfulness", "continuous"), author="setup")
    flag(store, "default", roots, author="setup")
    store.close()
    pid_file = tmp_path / "pid"
    command = " ".join(
        ["env", "-u", "BT_TUI_DB", "-u", "EDITOR", f"BT_TUI_CONFIG={shlex.quote(str(tui_env))}", "BT_TUI_USER=killed",
         f"XDG_DATA_HOME={shlex.quote(str(tmp_path / 'xdg'))}", "TERM=xterm-256color", "sh", "-c",
         shlex.quote(f"echo $$ > {shlex.quote(str(pid_file))}; exec "
                     + " ".join(shlex.quote(p) for p in [*BT_TUI, "--db", str(demo_db), "review"]))])
    tmux.run("new-session", "-d", "-s", "bt", "-x", "120", "-y", "40", command)
    for i, root in enumerate(roots[:2]):
        tmux.wait_for(lambda s: f"{root}  " in s or s.split("\n")[0].rstrip().endswith(root), f"item {root}")
        tmux.wait_for(lambda s: "1 friendly" in s, "the fields")
        tmux.keys("3" if i == 0 else "1")
        tmux.keys("Tab")
        tmux.keys("6", "0")
        tmux.keys("Tab")  # leaving the field saves the typed 60%
        # the header says this item's helpfulness is saved (not a previous save's notice)
        tmux.wait_for(lambda s: "saved helpfulness" in s.split("\n")[0] and "saving" not in s.split("\n")[0],
                      "helpfulness saved")
        if i == 0:
            tmux.keys("Enter")
    os.kill(int(pid_file.read_text().strip()), 9)
    time.sleep(0.5)
    store = Store(demo_db, readonly=True)
    try:
        got = {r: {n: [(v.author, v.value) for v in vs] for n, vs in human_values(store, "default", r).items()}
               for r in roots[:2]}
    finally:
        store.close()
    assert got == {roots[0]: {"tone": [("killed", 0.0)], "helpfulness": [("killed", 0.6)]},
                   roots[1]: {"tone": [("killed", 1.0)], "helpfulness": [("killed", 0.6)]}}


def test_experiments_in_tmux_at_80x24(tmux, tmp_path, tui_env):
    """`bt-tui demo` in a real 80x24 terminal: X lists the demo's two experiments, enter compares
    the 14-day fix with the baseline (the score strip's figures whole), m picks "regressed on
    Levenshtein", O opens the candidate's trace and escape comes back to the same rows; q quits."""
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k not in ("BT_TUI_DB", "COLUMNS", "LINES")}
    env["BT_TUI_CONFIG"] = str(tui_env)
    seeded = subprocess.run([*BT_TUI, "--db", str(db), "demo", "--no-launch"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    exit_file = tmp_path / "exit"
    command = " ".join(
        ["env", "-u", "BT_TUI_DB", "-u", "COLUMNS", "-u", "LINES", "TERM=xterm-256color",
         f"BT_TUI_CONFIG={shlex.quote(str(tui_env))}"]
        + [shlex.quote(part) for part in BT_TUI]
        + ["--db", shlex.quote(str(db)), ";", "echo", "$?", ">", shlex.quote(str(exit_file)), ";", "sleep", "30"]
    )
    tmux.run("new-session", "-d", "-s", "bt", "-x", "80", "-y", "24", command)
    tmux.wait_for(lambda s: "300 matching" in s, "the Logs screen")
    tmux.keys("X")
    tmux.wait_for(lambda s: "Experiments of project 'default'" in s and "support-bot@2 14-day fix" in s
                  and "support-bot@1 baseline" in s, "the Experiments screen")
    tmux.keys("Enter")  # the newest, the fix, against its default base, the baseline
    screen = tmux.wait_for(lambda s: "10 matched by input" in s and "Levenshtein" in s and "▼2" in s,
                           "the comparison")
    assert "candidate support-bot@2 14-day fix" in screen and "base      support-bot@1 baseline" in screen
    lev = next(line for line in screen.splitlines() if line.lstrip().startswith("Levenshtein"))
    assert "61.9% → 59.9%" in lev and "-2.0%" in lev and "▲1 ▼2" in lev  # the figures, never cut at 80
    tmux.keys("m")
    screen = tmux.wait_for(lambda s: "regressed on Levenshtein (2)" in s, "the mode menu")
    import re

    digit = re.search(r"(\d)\s+regressed on Levenshtein \(2\)", screen).group(1)
    tmux.keys(digit)
    tmux.wait_for(lambda s: "showing regressed on Levenshtein (2 of 10 rows)" in s, "the regressed rows")
    tmux.keys("O")
    tmux.wait_for(lambda s: "eval" in s and "task" in s and "Levenshtein" in s and "matched by input" not in s,
                  "the candidate's trace")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "showing regressed on Levenshtein (2 of 10 rows)" in s, "the same rows again")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Experiments of project 'default'" in s, "the Experiments screen again")
    tmux.keys("q")
    deadline = time.monotonic() + WAIT
    while not (exit_file.exists() and exit_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    status = exit_file.read_text().strip() if exit_file.exists() else "(still running)"
    assert status == "0", f"exit status {status}; screen:\n{tmux.screen()}"
    assert "Traceback" not in tmux.screen()
