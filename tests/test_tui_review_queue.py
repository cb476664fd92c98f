"""Pilot tests of the Review screen (the review queue: its views, the kanban) and of flagging
from the Logs screen, asserted by what the screen shows and by what lands in the database.
Focused review (tui.screens.review) is another screen's: here a stand-in records the push."""

from __future__ import annotations

import shutil
import sys
import types

import pytest
from textual.screen import Screen

from store import Store
from store.review import claim, flag, get_item, queue_counts, queue_items, set_state
from store.spans import log_spans
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.screens.logs import LogsScreen
from tui.screens.review_queue import KanbanTable, ReviewQueueScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    root_span,
    sample_roots,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

ME = "tester"  # tui_env's acting person


# --- helpers -------------------------------------------------------------------------------------

def roots(n: int, start: int = 0) -> list[str]:
    return [r["id"] for r in sample_roots()[start:start + n]]


def seed_queue(db) -> dict:
    """A queue: 6 in the backlog (2 assigned to me, 1 to maya), 2 pending, 3 complete."""
    ids = roots(11)
    store = Store(db)
    try:
        flag(store, "default", ids[:6], author="lead")
        flag(store, "default", ids[1:3], assignee=ME, author="lead")
        flag(store, "default", ids[3:4], assignee="maya", author="lead")
        flag(store, "default", ids[6:11], author="lead")
        for i in ids[6:8]:
            set_state(store, "default", i, "pending", author="maya")
        for i in ids[8:11]:
            set_state(store, "default", i, "complete", author="maya")
    finally:
        store.close()
    return {"awaiting": ids[:8], "mine": ids[1:3], "completed": ids[8:11], "backlog": ids[:6],
            "pending": ids[6:8], "complete": ids[8:11]}


def db_items(db, **kw) -> list:
    store = Store(db)
    try:
        return queue_items(store, "default", **kw)
    finally:
        store.close()


def db_item(db, trace_id: str):
    store = Store(db)
    try:
        return get_item(store, "default", trace_id)
    finally:
        store.close()


async def open_review(pilot) -> ReviewQueueScreen:
    app = pilot.app
    await wait_rows(pilot)
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewQueueScreen), "the Review screen")
    screen = app.screen
    await wait_for(pilot, lambda: not screen.table.fetching and screen.table.total is not None, "the queue")
    await settle(pilot)
    return screen


def status(screen) -> str:
    return static_text(screen.query_one("#rq-status"))


async def answer_prompt(pilot, text: str) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "a prompt")
    await pilot.press("end", "ctrl+u")
    if text:
        await paste(pilot, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, PromptScreen), "the prompt to close")


async def pick(pilot, title_part: str, item_id: str) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MenuScreen), "a menu")
    menu = pilot.app.screen
    assert title_part in menu.title_text
    ids = [k for k, _ in menu.items]
    await pilot.press(str(ids.index(item_id) + 1))
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, MenuScreen), "the menu to close")


@pytest.fixture
def focused(monkeypatch) -> list:
    """A stand-in for tui.screens.review (another engineer's): records each screen pushed."""
    pushed: list = []

    class FocusedReviewScreen(Screen):
        def __init__(self, project, *, filter=None, mine=False, start=None) -> None:
            super().__init__()
            pushed.append({"project": project, "filter": filter, "mine": mine, "start": start})

    module = types.ModuleType("tui.screens.review")
    module.FocusedReviewScreen = FocusedReviewScreen
    monkeypatch.setitem(sys.modules, "tui.screens.review", module)
    return pushed


# --- the views -----------------------------------------------------------------------------------

async def test_views_show_their_items_with_counts(demo_db, tui_env):
    want = seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        assert screen.table.row_ids() == want["awaiting"]  # queue order: the order they were flagged
        await wait_for(pilot, lambda: "1 Awaiting review (8)" in status(screen), "the counts")
        line = status(screen)
        assert "2 Assigned to me (2)" in line and "3 Completed (3)" in line and f"you: {ME}" in line
        assert f"as {ME}" in app.sub_title  # the header says who is acting
        assert screen.table.total == 8
        shown = screen_text(app)
        assert "backlog" in shown and "pending" in shown and "maya" in shown
        await pilot.press("2")
        await wait_for(pilot, lambda: screen.table.row_ids() == want["mine"], "my items")
        assert all(r.item.assignee == ME for r in screen.table.rows)
        await pilot.press("3")
        await wait_for(pilot, lambda: screen.table.row_ids() == want["completed"], "the completed items")
        await settle(pilot)
        assert screen.table.total == 3
        await pilot.press("v")  # cycles back to the first view
        await wait_for(pilot, lambda: screen.table.row_ids() == want["awaiting"], "the awaiting items again")
        # Someone else reviewing an item now shows as ● and their name.
        store = Store(demo_db)
        try:
            claim(store, "default", want["pending"][0], "maya")
        finally:
            store.close()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.table.get_cell(want["pending"][0], "claimed").plain == "● maya"
        assert screen.table.get_cell(want["pending"][1], "claimed").plain == ""
        await pilot.press("escape")  # back to Logs
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen), "the Logs screen")


async def test_queue_pages_past_the_first_page(demo_db, tui_env):
    """A queue longer than a page: the paged table reads on (backlog and pending merged in
    queue order), and the count covers all of it."""
    ids = roots(130)
    store = Store(demo_db)
    try:
        flag(store, "default", ids, author="lead")
        for i in ids[::3]:
            set_state(store, "default", i, "pending", author="lead")
    finally:
        store.close()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        assert screen.table.total == 130
        await pilot.press("end")
        await wait_for(pilot, lambda: screen.table.current_row() is not None
                       and screen.table.current_row().id == ids[-1], "the last item")
        await pilot.press("home")
        await wait_for(pilot, lambda: screen.table.row_ids()[:3] == ids[:3], "the first items")
        for _ in range(3):
            await pilot.press("pagedown")
            await settle(pilot)
        seen = screen.table.row_ids()
        assert seen == [i for i in ids if i in set(seen)] and len(seen) > 50


async def test_empty_queue_says_how_to_flag(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await wait_for(pilot, lambda: screen.query_one("#rq-empty").display, "the empty state")
        text = static_text(screen.query_one("#rq-empty"))
        assert "Nothing awaits review" in text and "bt-tui flag" in text and "Flag for review" in text


# --- the kanban ----------------------------------------------------------------------------------

async def test_kanban_moves_cards_with_keys_and_the_database_follows(demo_db, tui_env):
    want = seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("K")
        col = {s: screen.column(s) for s in ("backlog", "pending", "complete")}
        await wait_for(pilot, lambda: all(c.total is not None for c in col.values()), "the columns")
        await settle(pilot)
        assert col["backlog"].row_ids() == want["backlog"]
        assert col["pending"].row_ids() == want["pending"]
        assert col["complete"].row_ids() == want["complete"]
        assert app.focused is col["backlog"]
        assert "Backlog (6)" in static_text(screen.query_one("#title-backlog"))
        assert "Complete (3)" in static_text(screen.query_one("#title-complete"))
        # j to the second card, L moves it to Pending; the cursor stays in Backlog, on the next card.
        await pilot.press("j", "L")
        moved = want["backlog"][1]
        await wait_for(pilot, lambda: moved in col["pending"].row_ids(), "the card in Pending")
        await settle(pilot)
        assert db_item(demo_db, moved).state == "pending"
        assert moved not in col["backlog"].row_ids()
        assert col["backlog"].cursor_id() == want["backlog"][2]
        assert "Pending (3)" in static_text(screen.query_one("#title-pending"))
        # l to Pending lands on the card just moved there; > moves it on to Complete (by me).
        await pilot.press("l")
        assert app.focused is col["pending"]
        first = col["pending"].cursor_id()
        assert first == moved
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: first in col["complete"].row_ids(), "the card in Complete")
        item = db_item(demo_db, first)
        assert item.state == "complete" and item.completed_by == ME
        await settle(pilot)
        await pilot.press("l", "g")  # the card is in queue order (the order flagged) in its column
        await pilot.press(*["j"] * col["complete"].row_ids().index(first))
        assert app.focused is col["complete"] and col["complete"].cursor_id() == first
        await pilot.press("H")
        await wait_for(pilot, lambda: db_item(demo_db, first).state == "pending", "back to Pending")
        await pilot.press("right")  # past the last column: stays
        assert app.focused is col["complete"]
        await pilot.press("g", "L")  # Complete is the last state
        await wait_for(pilot, lambda: any("already in Complete" in n for n in notifications(app)), "the notice")
        await pilot.press("h", "h")
        assert app.focused is col["backlog"]
        await pilot.press("K")  # back to the table: L is the Logs screen's key again
        assert not screen.kanban and screen.table.display
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen), "the Logs screen")


# --- assign, remove ------------------------------------------------------------------------------

async def test_assign_with_completion_and_unassign(demo_db, tui_env):
    want = seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = want["awaiting"][0]
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the assign prompt")
        await pilot.press("m", "a")  # completes to a known person
        box = app.screen.query_one("#prompt-input")
        await wait_for(pilot, lambda: box._suggestion == "maya", "the suggestion")
        await pilot.press("right", "enter")
        await settle(pilot)
        assert db_item(demo_db, first).assignee == "maya"
        await wait_for(pilot, lambda: screen.table.get_cell(first, "assignee").plain == "maya", "the new assignee")
        # Marked items: both assigned to me, then in my view.
        await pilot.press("g", "space", "space")
        await pilot.press("A")
        await answer_prompt(pilot, ME)
        await settle(pilot)
        assert {db_item(demo_db, i).assignee for i in want["awaiting"][:2]} == {ME}
        assert not screen.table.marked
        assert any("assigned 2 items to tester" in n for n in notifications(app))
        # An empty name unassigns.
        await pilot.press("g", "A")
        await answer_prompt(pilot, "")
        await settle(pilot)
        assert db_item(demo_db, first).assignee is None
        assert db_item(demo_db, first).state == "backlog"  # the state stays


async def test_x_removes_from_the_queue_after_asking(demo_db, tui_env):
    want = seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        first = want["awaiting"][0]
        await pilot.press("x")
        await pick(pilot, "Remove this trace from the review queue?", "no")
        assert db_item(demo_db, first) is not None
        await pilot.press("x")
        await pick(pilot, "Remove this trace", "yes")
        await settle(pilot)
        assert db_item(demo_db, first) is None
        assert screen.table.row_ids() == want["awaiting"][1:]
        assert screen.table.cursor_id() == want["awaiting"][1]
        await wait_for(pilot, lambda: "Awaiting review (7)" in status(screen), "the new count")


# --- into focused review -------------------------------------------------------------------------

async def test_enter_r_and_m_start_focused_review(demo_db, tui_env, focused):
    want = seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: focused, "the push")
        assert focused[-1] == {"project": "default", "filter": None, "mine": False, "start": want["awaiting"][1]}
        app.pop_screen()
        await pilot.press("r")
        assert focused[-1]["start"] is None and not focused[-1]["mine"]
        app.pop_screen()
        await pilot.press("m")
        assert focused[-1]["mine"] is True
        app.pop_screen()
        await pilot.press("K")
        await settle(pilot)
        await pilot.press("l", "enter")  # a card: its item
        assert focused[-1]["start"] == want["pending"][0]
        assert app.screen is not screen


async def test_r_on_logs_reviews_the_filter(demo_db, tui_env, focused):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("r")
        assert focused[-1] == {"project": "default", "filter": "", "mine": False, "start": None}
        app.pop_screen()
        await pilot.press("slash")
        await paste(pilot, "scores.Factuality < 0.5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.filter_text == "scores.Factuality < 0.5", "the filter")
        await settle(pilot)
        await pilot.press("r")
        assert focused[-1]["filter"] == "scores.Factuality < 0.5"


async def test_run_app_start_review_opens_focused_review_over_logs(demo_db, tui_env, focused):
    from tui.app import BtTuiApp

    app = BtTuiApp(str(demo_db), "default", start_review={"filter": "tags includes 'vip'", "mine": True})
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: focused, "focused review")
        assert focused == [{"project": "default", "filter": "tags includes 'vip'", "mine": True, "start": None}]
        assert isinstance(app.screen_stack[-2], LogsScreen)


async def test_without_focused_review_a_notice_not_a_crash(demo_db, tui_env, monkeypatch):
    monkeypatch.setitem(sys.modules, "tui.screens.review", None)  # import fails
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: any("not available" in n for n in notifications(app)), "the notice")
        assert isinstance(app.screen, LogsScreen)


# --- flagging from the Logs screen ----------------------------------------------------------------

async def test_flag_one_marked_and_all_matching_from_logs(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        ids = screen.table.row_ids()
        # f: the current trace.
        await pilot.press("f")
        await wait_for(pilot, lambda: any("flagged 1 trace for review" in n for n in notifications(app)), "flagged")
        assert [i.id for i in db_items(demo_db)] == [ids[0]]
        await pilot.press("f")  # again: said, not duplicated
        await wait_for(pilot, lambda: any("already in the review queue" in n for n in notifications(app)),
                       "already queued")
        assert len(db_items(demo_db)) == 1
        await pilot.press("b")  # again, assigned: it says what changed
        await pick(pilot, "the current trace", "flag")
        await answer_prompt(pilot, ME)
        await wait_for(pilot, lambda: any("already in the review queue: now assigned to tester" in n
                                          for n in notifications(app)), "reassigned")
        assert db_items(demo_db)[0].assignee == ME
        # Marked rows, assigned to maya (the first is queued already).
        await pilot.press("space", "space", "space")
        await pilot.press("b")
        await pick(pilot, "3 marked traces", "flag")
        await answer_prompt(pilot, "maya")
        await wait_for(pilot, lambda: any("flagged 3 traces for review, assigned to maya (1 already queued)" in n
                                          for n in notifications(app)), "the marked flagged")
        assert {i.id: i.assignee for i in db_items(demo_db)} == {i: "maya" for i in ids[:3]}
        # All matching a filter, unassigned.
        await pilot.press("escape")  # clear the marks
        await pilot.press("slash")
        await paste(pilot, "scores.Factuality < 0.5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.filter_text == "scores.Factuality < 0.5", "the filter")
        await settle(pilot)
        matching = screen.table.total
        assert matching and matching < 300
        await pilot.press("A", "b")
        await pick(pilot, "all matching traces", "flag")
        await answer_prompt(pilot, "")
        await wait_for(pilot, lambda: any(f"flagged {matching} traces" in n for n in notifications(app)),
                       "all matching flagged")
        await settle(pilot)
        store = Store(demo_db)
        try:
            counts = queue_counts(store, "default")
        finally:
            store.close()
        queued = {i.id for i in db_items(demo_db)}
        assert set(ids[:3]) <= queued and counts["backlog"] == len(queued) >= matching
        # ... and the Review screen lists them.
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewQueueScreen), "the Review screen")
        review = app.screen
        await wait_for(pilot, lambda: review.table.total == len(queued), "every flagged trace")
        assert review.table.row_ids()[0] == ids[0]  # flagged first, first in the queue
        assert set(review.table.row_ids()[:3]) == set(ids[:3])


async def test_flag_in_the_spans_view_flags_the_trace(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: screen.shape == "spans" and screen.table.rows
                       and screen.table.source.selection.shape == "spans", "spans")
        await settle(pilot)
        row = next(r for r in screen.table.rows if not r.is_root)
        screen.table.cursor_row = screen.table.rows.index(row)
        await pilot.press("f")
        await wait_for(pilot, lambda: db_items(demo_db), "flagged")
        [item] = db_items(demo_db)
        root = next(r for r in sample_roots() if r["root_span_id"] == row.root_span_id)
        assert item.id == root["id"]


# --- keys on the Logs screen ---------------------------------------------------------------------

async def test_logs_refresh_keys_moved_to_ctrl_r_f5_and_F(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        for i, key in enumerate(("ctrl+r", "f5")):
            store = Store(demo_db)
            try:
                [new_id] = log_spans(store, "default", [root_span(i, prefix=f"late{i}")])
            finally:
                store.close()
            await pilot.press(key)
            await settle(pilot)
            assert screen.table.row_ids()[0] == new_id, key
        await pilot.press("F")
        assert screen.table.auto_refresh
        await pilot.press("F")
        assert not screen.table.auto_refresh
        bindings = {b.id: b.key for b in LogsScreen.BINDINGS}
        assert bindings["logs.refresh"] == "ctrl+r,f5" and bindings["logs.auto_refresh"] == "F"
        await pilot.press("R")  # R is the Review screen now
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewQueueScreen), "the Review screen")


async def test_review_screen_in_the_palette_and_help(demo_db, tui_env):
    from tui.app import BtCommands

    seed_queue(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(pilot)
        titles = [t for t, _, _ in BtCommands(app.screen)._commands()]
        assert "Go to Review" in titles and "Review view: Assigned to me" in titles
        assert "Toggle the review kanban" in titles
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help")
        text = static_text(app.screen.query_one("#help-text"))
        for desc in ("Review next", "Mine", "View", "Kanban", "Assign", "Remove", "Awaiting review",
                     "Assigned to me", "Completed", "Refresh"):
            assert f"  {desc}" in text, desc
        assert "Card ←" not in text  # the kanban's keys, in the kanban only
        await pilot.press("escape", "K")
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help")
        text = static_text(app.screen.query_one("#help-text"))
        for desc in ("Card ←", "Card →", "Column left", "Column right"):
            assert f"  {desc}" in text, desc


# --- snapshots -----------------------------------------------------------------------------------

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.mark.parametrize("size", SIZES)
def test_kanban_snapshot(snap_compare, tmp_path, monkeypatch, demo_db, tui_env, size):
    """The kanban of a seeded queue: three columns with counts, cards with their assignees."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(demo_db, work / "demo.db")
    seed_queue(work / "demo.db")
    monkeypatch.chdir(work)

    async def ready(pilot) -> None:
        screen = await open_review(pilot)
        await pilot.press("K")
        await wait_for(pilot, lambda: all(screen.column(s).total is not None for s in ("backlog", "pending",
                                                                                       "complete")), "the columns")
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(pilot.app.focused, KanbanTable)

    assert snap_compare(make_app("demo.db"), terminal_size=size, run_before=ready)
