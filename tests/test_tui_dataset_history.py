"""Pilot tests of a dataset's history screens: the versions (diff, marked diff, restore,
snapshot), the diff with its word-level highlight, a record's history."""

from __future__ import annotations

import pytest

from store import Store
from store.datasets import get_record, iter_records, list_versions, upsert_records, write_records
from tui.format import ago
from tui.screens.dataset_history import DiffScreen, RecordHistoryScreen, VersionsScreen
from tui.widgets.paged_table import ListSource
from tui.screens.dialogs import HelpScreen, MenuScreen, PromptScreen
from tui.widgets.word_diff import ADDED, REMOVED
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

DS = "refunds"


def seed(path) -> list[int]:
    """Three versions: v1 adds r1..r3; v2 changes a word of r1's expected and deletes r3;
    v3 adds r4. Returns the versions."""
    store = Store(path)
    try:
        v1 = upsert_records(store, "default", DS, [
            {"id": "r1", "input": "can I get a refund", "expected": "Refunds take 30 days to arrive",
             "metadata": {"k": 1}},
            {"id": "r2", "input": "where is my order", "expected": "It ships tomorrow"},
            {"id": "r3", "input": "cancel please", "expected": "Done"},
        ], author="alice").version
        v2 = write_records(store, "default", DS, upserts=[
            {"id": "r1", "input": "can I get a refund", "expected": "Refunds take 14 days to arrive",
             "metadata": {"k": 1}},
        ], deletes=["r3"], author="bob", note="fix refund delay").version
        v3 = upsert_records(store, "default", DS, [{"id": "r4", "input": "hello", "expected": "hi"}],
                            author="alice").version
    finally:
        store.close()
    return [v1, v2, v3]


@pytest.fixture
def versions(demo_db) -> list[int]:
    return seed(demo_db)


@pytest.fixture
def app(demo_db, tui_env, versions):
    return make_app(demo_db)


def detail_text(screen) -> str:
    return static_text(screen.query_one("#h-detail-text"), width=100)


def detail_content(screen):
    return screen.query_one("#h-detail-text").content


def styled(text, style) -> list[str]:
    """The pieces of a rendered Text in ``style``."""
    return [text.plain[s.start:s.end] for s in text.spans if str(s.style) == str(style)]


async def open_versions(pilot) -> VersionsScreen:
    app = pilot.app
    await wait_rows(pilot)
    app.push_screen(VersionsScreen("default", DS))
    await wait_for(pilot, lambda: isinstance(app.screen, VersionsScreen) and app.screen.loaded, "versions")
    await settle(pilot)
    return app.screen


async def wait_diff(pilot) -> DiffScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff screen")
    await wait_for(pilot, lambda: app.screen.loaded, "the diff rows")
    await settle(pilot)
    return app.screen


def test_list_source_pages_forwards_and_backwards():
    src = ListSource(list(range(10)), str)
    p = src.page(None, 4)
    assert p.rows == [0, 1, 2, 3] and p.after == 3
    p = src.page(p.after, 4)
    assert p.rows == [4, 5, 6, 7] and p.after == 7
    p = src.page(p.after, 4)
    assert p.rows == [8, 9] and p.after is None
    p = src.page(None, 4, reverse=True)
    assert p.rows == [6, 7, 8, 9] and p.after == 6
    p = src.page(p.after, 4, reverse=True)
    assert p.rows == [2, 3, 4, 5] and p.after == 2
    assert src.page(2, 4, reverse=True).rows == [0, 1] and src.page(2, 4, reverse=True).after is None
    assert src.count() == 10 and src.cursor_of(7) == 7


def test_ago():
    from datetime import datetime, timezone

    now = datetime(2030, 1, 2, 12, 0, tzinfo=timezone.utc)
    assert ago("2030-01-02T11:59:50Z", now) == "just now"
    assert ago("2030-01-02T11:55:00.000000Z", now) == "5m ago"
    assert ago("2030-01-02T09:00:00Z", now) == "3h ago"
    assert ago("2029-12-31T12:00:00Z", now) == "2d ago"
    assert ago("2029-01-01T00:00:00Z", now) == "2029-01-01"


async def test_versions_lists_newest_first_with_counts(app, versions):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_versions(pilot)
        t = screen.table
        assert t.row_ids() == [str(v) for v in reversed(versions)]
        v2 = str(versions[1])
        assert t.get_cell(v2, "changes").plain == "+0 ~1 -1"
        assert t.get_cell(str(versions[0]), "changes").plain == "+3 ~0 -0"
        assert t.get_cell(v2, "who").plain == "bob" and t.get_cell(v2, "note").plain == "fix refund delay"
        assert t.get_cell(v2, "when").plain == "just now"
        head = static_text(screen.query_one("#h-head"))
        assert "3 versions" in head and f"latest {versions[2]}" in head and "3 records" in head
        text = screen_text(app)
        assert "fix refund delay" in text and "bob" in text
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        help_text = static_text(app.screen.query_one("#help-text"))
        for bid in ("versions.diff", "versions.mark", "versions.restore", "versions.snapshot", "versions.back"):
            assert bid in help_text
        await pilot.press("escape")
        await pilot.press("escape")  # back to the logs
        await wait_for(pilot, lambda: not isinstance(app.screen, VersionsScreen), "escape goes back")


async def test_d_diffs_with_latest_and_shows_the_changed_word(app, versions):
    async with app.run_test(size=SIZE) as pilot:
        await open_versions(pilot)
        await pilot.press("j", "j")  # v1
        await pilot.press("d")
        screen = await wait_diff(pilot)
        head = static_text(screen.query_one("#h-head"))
        assert f"version {versions[0]} -> version {versions[2]} (latest)" in head
        assert "+1 ~1 -1" in head
        assert screen.table.row_ids() == ["r1", "r3", "r4"]
        assert screen.table.get_cell("r1", "change").plain == "~"
        assert screen.table.get_cell("r3", "change").plain == "-"
        assert screen.table.get_cell("r4", "change").plain == "+"
        assert screen.table.get_cell("r1", "fields").plain == "expected"
        content = detail_content(screen)
        assert styled(content, REMOVED) == ["30"] and styled(content, ADDED) == ["14"]
        text = detail_text(screen)
        assert "expected" in text and "unchanged: input, metadata, tags" in text
        assert "Refunds take 30 days" in text and "Refunds take 14 days" in text
        # j moves to the next record; its detail follows
        await pilot.press("j")
        await settle(pilot)
        assert "- deleted" in detail_text(screen) and "cancel please" in detail_text(screen)
        # tab gives the detail focus; j still moves the record
        await pilot.press("tab")
        assert app.focused is screen.query_one("#h-detail")
        await pilot.press("j")
        await settle(pilot)
        assert screen.current_row().id == "r4" and "+ added" in detail_text(screen)
        await pilot.press("tab")
        assert app.focused is screen.table
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, VersionsScreen), "back to the versions")


async def test_marked_version_diffs_with_the_cursor_and_backwards(app, versions):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("space")  # marks v3 and moves down to v2
        assert screen.marked == versions[2]
        assert "marked" in static_text(screen.query_one("#h-head"))
        assert screen.table.get_cell(str(versions[2]), "mark").plain == "●"
        await pilot.press("d")  # marked v3 -> cursor v2: backwards
        diff = await wait_diff(pilot)
        head = static_text(diff.query_one("#h-head"))
        assert f"version {versions[2]} -> version {versions[1]}" in head and "backwards" in head
        assert diff.table.row_ids() == ["r4"] and diff.table.get_cell("r4", "change").plain == "-"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the versions")
        await pilot.press("j", "d")  # marked v3 -> v1
        diff = await wait_diff(pilot)
        assert diff.table.row_ids() == ["r1", "r3", "r4"]
        assert [diff.table.get_cell(i, "change").plain for i in ("r1", "r3", "r4")] == ["~", "+", "-"]
        content = detail_content(diff)
        assert styled(content, REMOVED) == ["14"] and styled(content, ADDED) == ["30"]


async def test_R_restores_an_old_version_as_a_new_one(app, demo_db, versions):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("j", "j", "R")  # v1
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirm dialog")
        title = app.screen.title_text
        assert f"Restore '{DS}' to version {versions[0]}?" in title and "history is kept" in title
        assert f"a new version (after {versions[2]})" in title
        await pilot.press("1")
        await wait_for(pilot, lambda: len(screen.table.rows) == 4, "the new version on the list")
        await settle(pilot)
        assert any(f"restored '{DS}' to version {versions[0]}" in n for n in notifications(app))
        assert screen.table.cursor_row == 0 and screen.current_row().version > versions[2]
    store = Store(demo_db)
    try:
        assert len(list_versions(store, "default", DS)) == 4
        as_v1 = [r.to_json() for r in iter_records(store, "default", DS, version=versions[0])]
        latest = [r.to_json() for r in iter_records(store, "default", DS)]
        assert latest == as_v1
    finally:
        store.close()


async def test_R_cancel_writes_nothing(app, demo_db, versions):
    async with app.run_test(size=SIZE) as pilot:
        await open_versions(pilot)
        await pilot.press("j", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirm dialog")
        await pilot.press("escape")
        await settle(pilot)
    store = Store(demo_db)
    try:
        assert len(list_versions(store, "default", DS)) == 3
    finally:
        store.close()


async def test_s_names_a_snapshot_of_the_cursor_version(app, demo_db, versions):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_versions(pilot)
        await pilot.press("j", "s")  # v2
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the name prompt")
        await paste(pilot, "baseline")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.table.rows and screen.table.get_cell(str(versions[1]), "snapshots").plain
                       == "baseline", "the snapshot on its version")
        assert f"snapshot 'baseline' names version {versions[1]}" in notifications(app)
    store = Store(demo_db)
    try:
        snaps = {v.version: v.snapshots for v in list_versions(store, "default", DS)}
        assert snaps[versions[1]] == ["baseline"]
    finally:
        store.close()


async def test_record_history_lists_revisions_newest_first(app, versions):
    async with app.run_test(size=SIZE) as pilot:
        await open_versions(pilot)
        await pilot.press("j", "j", "d")
        diff = await wait_diff(pilot)
        assert diff.current_row().id == "r1"
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordHistoryScreen) and app.screen.loaded,
                       "the record history")
        await settle(pilot)
        screen = app.screen
        assert screen.table.row_ids() == [str(versions[1]), str(versions[0])]
        assert screen.table.get_cell(str(versions[1]), "change").plain == "~ updated"
        assert screen.table.get_cell(str(versions[0]), "change").plain == "+ added"
        assert "newest first" in static_text(screen.query_one("#h-head"))
        content = detail_content(screen)
        assert styled(content, REMOVED) == ["30"] and styled(content, ADDED) == ["14"]
        assert "bob" in detail_text(screen)
        await pilot.press("j")
        await settle(pilot)
        assert "+ added" in detail_text(screen) and "can I get a refund" in detail_text(screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is diff, "back to the diff")


async def test_store_error_becomes_a_notice(app):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        app.push_screen(VersionsScreen("default", "no-such-dataset"))
        await wait_for(pilot, lambda: any("no dataset named 'no-such-dataset'" in n for n in notifications(app)),
                       "the notice")
        app.push_screen(DiffScreen("default", DS, 999))
        await wait_for(pilot, lambda: any("has no version 999" in n for n in notifications(app)), "the notice")


async def test_80x24_shows_rows_and_detail(app, versions, demo_db):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_versions(pilot)
        text = await wait_for(pilot, lambda: "+0 ~1 -1" in screen_text(app) and screen_text(app), "the rows painted")
        assert "fix refund delay" in text and "esc Back" in text and "s Snapshot" in text
        await pilot.press("j", "j", "d")
        await wait_diff(pilot)
        text = await wait_for(pilot, lambda: "Refunds take 14" in screen_text(app) and screen_text(app), "the detail")
        assert "r1" in text and "Refunds take 30 days" in text and "unchanged: input, metadata, tags" in text
        await pilot.press("q")  # a detail screen: q goes back, never quits
        await wait_for(pilot, lambda: isinstance(app.screen, VersionsScreen), "back to the versions")
    store = Store(demo_db)
    try:
        assert get_record(store, "default", DS, "r1").expected == "Refunds take 14 days to arrive"
    finally:
        store.close()
