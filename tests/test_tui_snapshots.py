"""Snapshot tests (pytest-textual-snapshot) of the Logs and Trace screens on the demo corpus.

Regenerate after an intended change of the picture:
    pytest tests/test_tui_snapshots.py --snapshot-update
and look at the SVGs under tests/__snapshots__/test_tui_snapshots/ before committing them.

What varies between runs is pinned: the database path in the header (a relative 'demo.db' in a
temp working directory), the query time on the status line (0 ms), the config file (temp).
"""

from __future__ import annotations

import shutil

import pytest

from store.query.pager import LogsQuery
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    demo_db,
    demo_db_template,
    make_app,
    quick_pilot,
    settle,
    tui_env,
    wait_for,
    wait_rows,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture
def snap_app(tmp_path, monkeypatch, demo_db, tui_env):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(demo_db, work / "demo.db")
    monkeypatch.chdir(work)
    original = LogsQuery.page

    def page(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        result.elapsed_ms = 0.0  # the status line shows the query time: pin it
        return result

    monkeypatch.setattr(LogsQuery, "page", page)
    return make_app("demo.db")


async def logs_ready(pilot) -> None:
    screen = await wait_rows(pilot)
    assert screen.table.total == 300
    await settle(pilot)


async def trace_ready(pilot) -> None:
    await logs_ready(pilot)
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_logs_screen(snap_compare, snap_app, size):
    """The Logs screen: newest traces first, the filter bar, the status line, the footer."""
    assert snap_compare(snap_app, terminal_size=size, run_before=logs_ready)


@pytest.mark.parametrize("size", SIZES)
def test_trace_screen(snap_compare, snap_app, size):
    """The newest trace: the span tree with its waterfall bars, and the root span's Input tab."""
    assert snap_compare(snap_app, terminal_size=size, run_before=trace_ready)


async def search_ready(pilot) -> None:
    await logs_ready(pilot)
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter").value = "refund"
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen.filter_text == "refund", "the search")
    await settle(pilot)


def test_logs_search_80x24(snap_compare, snap_app):
    """A full-text search at 80x24: where each trace matched in place of the input."""
    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=search_ready)


def test_empty_database_80x24(snap_compare, tmp_path, monkeypatch, tui_env):
    """An empty database says how to start."""
    from store import Store

    monkeypatch.chdir(tmp_path)
    Store(tmp_path / "empty.db").close()

    async def ready(pilot) -> None:
        await wait_for(pilot, lambda: pilot.app.screen.query("#empty") and pilot.app.screen.query_one("#empty").display,
                       "the empty-state help")
        await settle(pilot)

    assert snap_compare(make_app("empty.db"), terminal_size=(80, 24), run_before=ready)
