"""Shared helpers for the TUI tests (Pilot, snapshots, tmux): temp databases, a temp config
file, bounded polling waits, and plain-text rendering of widgets.

Test modules import the fixtures they use explicitly:
``from tui_fixtures import demo_db, tui_env, ...``.
"""

from __future__ import annotations

import json
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import pytest
from rich.console import Console

from store import Store
from store.jsonl import import_jsonl

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "support_traces.jsonl"
SIZE = (120, 40)
WAIT = 15.0  # seconds: the upper bound of every polling wait (normally a few ms)


# --- data ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _sample_rows() -> tuple:
    with open(SAMPLE, encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def sample_rows() -> list[dict]:
    """The demo corpus, parsed (a fresh list; rows are shared, do not mutate them)."""
    return list(_sample_rows())


def sample_roots() -> list[dict]:
    """Root spans of the demo corpus, newest first (the Logs screen's default order)."""
    roots = [r for r in _sample_rows() if r["span_id"] == r["root_span_id"]]
    return sorted(roots, key=lambda r: r["created"], reverse=True)


def sample_trace(root_span_id: str) -> list[dict]:
    return [r for r in _sample_rows() if r["root_span_id"] == root_span_id]


def import_sample(path: Path, project: str = "default") -> Path:
    store = Store(path)
    try:
        with open(SAMPLE, "rb") as f:
            import_jsonl(store, project, f, label=str(SAMPLE))
    finally:
        store.close()
    return path


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory) -> Path:
    """The demo corpus imported once per session (copied per test: tests write to it)."""
    return import_sample(tmp_path_factory.mktemp("demo-template") / "demo.db")


@pytest.fixture
def demo_db(tmp_path: Path, demo_db_template: Path) -> Path:
    dst = tmp_path / "demo.db"
    shutil.copyfile(demo_db_template, dst)
    return dst


@pytest.fixture(autouse=True)
def quick_pilot(monkeypatch) -> None:
    """Pilot waits for the process to go idle after every key, polling every 20 ms; poll every
    5 ms instead. Correctness does not depend on it: the tests wait for what they assert with
    ``wait_for``/``settle``. (A private Textual knob: if it goes away, nothing breaks.)"""
    import textual._wait

    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005, raising=False)


@pytest.fixture
def tui_env(tmp_path: Path, monkeypatch) -> Path:
    """A temp config file (never the user's), a fixed author, no inherited db/project,
    clipboard command or editor, a temp cache directory."""
    cfg = tmp_path / "config" / "bt-tui.json"
    monkeypatch.setenv("BT_TUI_CONFIG", str(cfg))
    monkeypatch.setenv("BT_TUI_AUTHOR", "tester")
    monkeypatch.delenv("BT_TUI_DB", raising=False)
    monkeypatch.delenv("BT_TUI_PROJECT", raising=False)
    monkeypatch.delenv("BT_TUI_CLIPBOARD", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # copies are saved here, not in ~
    return cfg


def root_span(i: int, *, prefix: str = "g", created: Optional[str] = None, ts: Optional[float] = None,
              **extra) -> dict:
    """A small valid root span; ``created``/``ts`` default to 2030-01-01 + i seconds."""
    from datetime import datetime, timezone

    base = 1_893_456_000.0  # 2030-01-01T00:00:00Z
    ts = base + i if ts is None else ts
    created = created or datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    span = {
        "id": f"{prefix}-row-{i:06d}",
        "span_id": f"{prefix}-{i:06d}",
        "root_span_id": f"{prefix}-{i:06d}",
        "created": created,
        "input": f"question {prefix} {i}",
        "output": f"answer {prefix} {i}",
        "scores": {"q": (i % 10) / 10},
        "metrics": {"start": ts, "end": ts + 1 + (i % 7)},
        "tags": [],
        "span_attributes": {"name": f"{prefix}_root", "type": "task"},
    }
    span.update(extra)
    return span


def make_app(db_path, project: str = "default"):
    """The app under test, with animations off (Pilot waits for every animation to finish;
    without them a key press takes a fraction of the time and nothing else changes)."""
    from tui.app import BtTuiApp

    app = BtTuiApp(str(db_path), project)
    app.animation_level = "none"
    return app


# --- waiting -----------------------------------------------------------------------------------


async def wait_for(pilot, cond: Callable[[], object], what: str = "condition", timeout: float = WAIT):
    """Poll ``cond`` (letting the app run between polls) until it is truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await pilot.pause(0.01)


async def settle(pilot, timeout: float = WAIT) -> None:
    """Wait until no worker of the app is running (queries, counts, writes), then one more pause."""
    app = pilot.app
    await pilot.pause()
    await wait_for(pilot, lambda: all(w.is_finished for w in list(app.workers)), "workers to finish", timeout)
    await pilot.pause()


def logs_screen(app):
    from tui.screens.logs import LogsScreen

    screen = app.find_screen(LogsScreen)
    assert isinstance(screen, LogsScreen), f"no Logs screen in {app.screen_stack}"
    return screen


async def wait_rows(pilot, min_rows: int = 1, timeout: float = WAIT):
    """Wait for the Logs screen to show rows and finish counting them; returns the screen."""
    app = pilot.app
    from tui.screens.logs import LogsScreen

    await wait_for(pilot, lambda: app.find_screen(LogsScreen) is not None, "the Logs screen", timeout)
    screen = logs_screen(app)
    await wait_for(
        pilot,
        lambda: len(screen.table.rows) >= min_rows and screen.query_one("#table").row_count >= min_rows,
        f"at least {min_rows} rows",
        timeout,
    )
    await settle(pilot, timeout)
    return screen


# --- reading widgets -----------------------------------------------------------------------------


def render_plain(renderable, width: int = 120) -> str:
    console = Console(width=width, record=True, color_system=None, force_terminal=False, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


def static_text(widget, width: int = 120) -> str:
    """A Static's content as plain text (as Rich would print it)."""
    content = widget.content
    if isinstance(content, str):
        return content
    return render_plain(content, width)


def status_text(app) -> str:
    return static_text(logs_screen(app).query_one("#status"))


def notifications(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def screen_text(app) -> str:
    """The current screen as plain text (what a user sees), one line per terminal row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def paste(pilot, text: str) -> None:
    """Paste ``text`` into the focused widget, as a terminal's bracketed paste delivers it.

    Much faster than one key press per character (each Pilot key press waits for idle); the
    tests that are about typing type with ``pilot.press`` instead."""
    from textual import events

    focused = pilot.app.focused
    assert focused is not None, "nothing has focus to paste into"
    focused.post_message(events.Paste(text))
    await pilot.pause()


def record_suspends(app, monkeypatch) -> list[bool]:
    """The headless test driver cannot suspend the app (a terminal would hand itself to
    $EDITOR or $PAGER there): record each suspend instead. Returns the record."""
    from contextlib import contextmanager

    suspended: list[bool] = []

    @contextmanager
    def fake_suspend():
        suspended.append(True)
        yield

    monkeypatch.setattr(app, "suspend", fake_suspend)
    return suspended
