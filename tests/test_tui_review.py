"""Pilot tests of focused review (tui/screens/review.py): twenty flagged traces reviewed with
the keyboard only (categorical 1-9, continuous typed and stepped, thumbs, text), undo across
items, enter completes; then the database is read with the store API. Two reviewers are not
handed the same item; the audit trail shows an edit; snapshots at 80x24 and 160x48."""

from __future__ import annotations

import io

import orjson
import pytest

from store import Store
from store.export import get_span
from store.jsonl import import_jsonl
from store.review import add_score_config, claim, flag, get_item, human_values, make_config, queue_counts
from tui.screens.audit_trail import AuditTrailScreen
from tui.screens.review import FocusedReviewScreen
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    make_app,
    notifications,
    quick_pilot,
    root_span,
    screen_text,
    settle,
    tui_env,
    wait_for,
)

N = 20
IDS = [f"r-row-{i:06d}" for i in range(N)]
TONES = ["friendly", "neutral", "rude"]


def seed(path, flagged: bool = True) -> None:
    rows = [root_span(i, prefix="r", scores={"user_rating": (i % 5) / 10}, metadata={"thumbs_up": i % 2 == 0},
                      input=[{"role": "user", "content": f"question {i}: where is my order?"}],
                      output=f"answer {i}") for i in range(N)]
    store = Store(path)
    try:
        import_jsonl(store, "default", io.BytesIO(b"\n".join(orjson.dumps(r) for r in rows)), label="seed")
        add_score_config(store, "default", make_config("tone", "categorical",
                                                       [("friendly", 1), ("neutral", 0.5), ("rude", 0)]), author="s")
        add_score_config(store, "default", make_config("helpfulness", "continuous"), author="s")
        add_score_config(store, "default", make_config("policy_correct", "boolean"), author="s")
        add_score_config(store, "default", make_config("note", "text"), author="s")
        if flagged:
            flag(store, "default", IDS, author="s")
    finally:
        store.close()


@pytest.fixture
def db(tmp_path, tui_env):
    path = tmp_path / "review.db"
    seed(path)
    return path


def read(db, fn, *args, **kw):
    store = Store(db)
    try:
        return fn(store, "default", *args, **kw)
    finally:
        store.close()


async def open_review(pilot, **kw) -> FocusedReviewScreen:
    app = pilot.app
    await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the first screen")
    await settle(pilot)
    app.push_screen(FocusedReviewScreen("default", **kw))
    screen = await wait_for(pilot, lambda: isinstance(app.screen, FocusedReviewScreen) and app.screen.ready
                            and app.screen, "focused review")
    await settle(pilot)
    return screen


async def on_item(pilot, screen, item_id: str) -> None:
    await wait_for(pilot, lambda: screen.item is not None and screen.item.id == item_id, f"item {item_id}")


async def saved(pilot, screen) -> None:
    await wait_for(pilot, lambda: screen.idle, "the writes")
    await settle(pilot)


def expected_values(i: int) -> dict:
    """What the test gives item i: tone option i%3+1; helpfulness typed (even) or stepped
    three times with l (odd); thumbs up on even, down on odd; a note on every fifth."""
    return {"tone": TONES[i % 3], "helpfulness": 0.7 if i % 2 == 0 else 0.3,
            "policy_correct": 1.0 if i % 2 == 0 else 0.0, "note": f"n{i}" if i % 5 == 0 else None}


async def review_one(pilot, screen, i: int) -> None:
    await on_item(pilot, screen, IDS[i])
    assert screen.focused_field() is screen.fields()[0], "the first field has focus when an item opens"
    await pilot.press(str(i % 3 + 1), "tab")
    if i % 2 == 0:
        await pilot.press("7", "0", "tab")  # typed: 70%, saved when leaving the field
        await pilot.press("y", "tab")
    else:
        await pilot.press("l", "l", "l", "down")  # stepped: 30%; down moves to the next field too
        await pilot.press("n", "tab")
    if i % 5 == 0:
        await pilot.press(*f"n{i}", "enter")  # enter in the text field saves it (and steps on)
    await pilot.press("enter")  # complete and advance


async def test_review_twenty_items_keyboard_only(db, tui_env):
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        assert screen.author == "tester"
        for i in range(N):
            await review_one(pilot, screen, i)
            if i == 6:
                # undo after advancing: back to item 6, no longer complete; then its last value
                await on_item(pilot, screen, IDS[7])
                await saved(pilot, screen)
                await pilot.press("u")
                await on_item(pilot, screen, IDS[6])
                await saved(pilot, screen)
                assert "undone: complete of r-row-000006" in screen_text(app)
                assert read(db, get_item, IDS[6]).state == "pending"
                await pilot.press("u")  # its last value: thumbs up
                await saved(pilot, screen)
                assert "policy_correct" not in read(db, human_values, IDS[6])
                await pilot.press("tab", "tab", "1", "enter")  # up again (1 on a boolean), complete
        await wait_for(pilot, lambda: screen.item is None, "the empty queue")
        await saved(pilot, screen)
        text = screen_text(app)
        assert "Nothing to review" in text and "bt-tui flag --filter" in text

    assert read(db, queue_counts) == {"backlog": 0, "pending": 0, "complete": N}
    for i, rid in enumerate(IDS):
        want = expected_values(i)
        hv = read(db, human_values, rid)
        assert [v.author for vs in hv.values() for v in vs] == ["tester"] * len(hv)
        assert hv["tone"][0].text == want["tone"]
        assert hv["helpfulness"][0].value == pytest.approx(want["helpfulness"])
        assert hv["policy_correct"][0].value == want["policy_correct"]
        span = read(db, get_span, rid)
        assert span["scores"]["tone"] == {"friendly": 1, "neutral": 0.5, "rude": 0}[want["tone"]]
        assert span["scores"]["helpfulness"] == pytest.approx(want["helpfulness"])
        assert span["scores"]["policy_correct"] == want["policy_correct"]
        assert span["scores"]["user_rating"] == (i % 5) / 10  # the production feedback is untouched
        if want["note"]:
            assert hv["note"][0].text == want["note"] and span["metadata"]["note"] == want["note"]
        else:
            assert "note" not in hv


async def test_undo_steps_back_through_values(db, tui_env):
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("1", "3", "tab", "h", "l", "l")
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["scores"]["helpfulness"] == pytest.approx(0.2)
        await pilot.press("u")
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["scores"]["helpfulness"] == pytest.approx(0.1)
        await pilot.press("u", "u")
        await saved(pilot, screen)
        assert "helpfulness" not in read(db, get_span, IDS[0])["scores"]
        assert read(db, human_values, IDS[0])["tone"][0].text == "rude"
        await pilot.press("u")
        await saved(pilot, screen)
        assert read(db, human_values, IDS[0])["tone"][0].text == "friendly"
        assert "undone: tone" in screen_text(app)


async def test_two_reviewers_are_not_handed_the_same_item(db, tui_env):
    store = Store(db)
    try:
        assert claim(store, "default", IDS[0], "alice")  # alice holds the first item
    finally:
        store.close()
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await on_item(pilot, screen, IDS[1])  # not alice's
        await pilot.press("j")
        await on_item(pilot, screen, IDS[2])
        await settle(pilot)  # the next one (3) is read ahead ...
        store = Store(db)
        try:
            assert claim(store, "default", IDS[3], "alice")  # ... and alice takes it meanwhile
        finally:
            store.close()
        await pilot.press("j")
        await on_item(pilot, screen, IDS[4])  # the queue handed out the next free one
        await saved(pilot, screen)
        assert read(db, get_item, IDS[3]).claimed_by == "alice"
        assert read(db, get_item, IDS[4]).claimed_by == "tester"
        assert read(db, get_item, IDS[2]).claimed_by is None  # released on moving on
        await pilot.press("escape")
        await saved(pilot, screen)
    assert read(db, get_item, IDS[4]).claimed_by is None  # released on leaving


async def test_audit_trail_and_trace_tree_are_one_key_away(db, tui_env):
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("2")
        await saved(pilot, screen)
        await pilot.press("w")
        trail = await wait_for(pilot, lambda: isinstance(app.screen, AuditTrailScreen) and app.screen.entries
                               and app.screen, "the audit trail")
        await settle(pilot)
        text = screen_text(app)
        assert "tester" in text and "scores" in text and "tone: ∅ → 0.5" in text
        assert trail.entries[0]["after"]["tone"] == 0.5 and trail.entries[0]["author"] == "tester"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to review")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "trace")
        assert app.screen.span["id"] == IDS[0]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to review")


async def test_review_a_filter_newest_first(db, tui_env):
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot, filter="scores.user_rating < 0.15")
        matching = [IDS[i] for i in range(N) if (i % 5) / 10 < 0.15][::-1]  # newest first
        await on_item(pilot, screen, matching[0])
        await wait_for(pilot, lambda: f"1 / {len(matching)}" in screen_text(app), "the progress")
        await pilot.press("3", "enter")
        await on_item(pilot, screen, matching[1])
        await pilot.press("k")
        await on_item(pilot, screen, matching[0])
        await saved(pilot, screen)
        assert read(db, get_item, matching[0]).state == "complete"
        assert read(db, human_values, matching[0])["tone"][0].text == "rude"


async def test_start_opens_that_trace_and_empty_queue_says_how_to_flag(tmp_path, tui_env):
    path = tmp_path / "r.db"
    seed(path, flagged=False)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_review(pilot)
        assert screen.item is None
        assert "Nothing to review" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FocusedReviewScreen), "leaving")
        screen = await open_review(pilot, filter="", start=IDS[3])
        await on_item(pilot, screen, IDS[3])


# --- snapshots ---------------------------------------------------------------------------------

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.mark.parametrize("size", SIZES)
def test_focused_review_snapshot(snap_compare, tmp_path, monkeypatch, tui_env, size):
    """Focused review: the panes, the feedback, the four score fields (one picked, one typed)."""
    work = tmp_path / "work"
    work.mkdir()
    seed(work / "r.db")
    monkeypatch.chdir(work)

    async def ready(pilot) -> None:
        screen = await open_review(pilot)
        await on_item(pilot, screen, IDS[0])
        await pilot.press("2", "tab", "6", "5", "tab")
        await saved(pilot, screen)
        # the last notice fades with time: keep the picture still
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app("r.db"), terminal_size=size, run_before=ready)



async def test_keys_typed_faster_than_a_repaint_keep_their_order(db, tui_env):
    """A burst of keys (a fast typist, tmux send-keys): a digit right after tab goes to the
    field tab moved to (focus moves at once, not on the next refresh)."""
    from textual import events

    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        for key, char in [("1", "1"), ("tab", "\t"), ("4", "4"), ("5", "5"), ("tab", "\t"), ("y", "y")]:
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: screen.focused_field() is screen.fields()[2], "the thumbs field")
        await saved(pilot, screen)
        hv = read(db, human_values, IDS[0])
        assert hv["tone"][0].text == "friendly"
        assert hv["helpfulness"][0].value == pytest.approx(0.45)
        assert hv["policy_correct"][0].value == 1.0
        assert not notifications(app)


async def test_tags_expected_and_comment_are_saved_and_tags_expected_undone(db, tui_env):
    from textual.widgets import TextArea

    from tui.screens.dialogs import PromptScreen, TextEditScreen
    from tui_fixtures import paste

    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the tags prompt")
        await paste(pilot, "vip")
        await pilot.press("enter")
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["tags"] == ["vip"]
        await pilot.press("e")
        editor = await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen) and app.screen, "the editor")
        editor.query_one(TextArea).text = '{"answer": "fixed"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "back to review")
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["expected"] == {"answer": "fixed"}
        assert "fixed" in screen_text(app)  # the expected pane shows it
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the comment prompt")
        await paste(pilot, "looks wrong")
        await pilot.press("enter")
        await saved(pilot, screen)
        assert [c["text"] for c in read(db, get_span, IDS[0])["comments"]] == ["looks wrong"]
        await pilot.press("u")  # the expected (a comment is not undone: it stays)
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["expected"] is None
        await pilot.press("u")
        await saved(pilot, screen)
        assert read(db, get_span, IDS[0])["tags"] == []
        assert [c["text"] for c in read(db, get_span, IDS[0])["comments"]] == ["looks wrong"]


async def test_a_number_past_100_is_refused_whole_not_saved_cut_short(db, tui_env):
    """Typing 150 on a percentage: the 0 that makes it 150 clears what was typed and says so;
    tab then saves nothing (never 15%); typing 80 then saves 80%."""
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_review(pilot)
        await on_item(pilot, screen, IDS[0])
        await pilot.press("tab", "1", "5", "0")
        await wait_for(pilot, lambda: any("150 is not 0-100" in n for n in notifications(app)), "the refusal")
        await pilot.press("tab")
        await saved(pilot, screen)
        assert "helpfulness" not in read(db, human_values, IDS[0])
        await pilot.press("shift+tab", "8", "0", "tab")
        await saved(pilot, screen)
        assert read(db, human_values, IDS[0])["helpfulness"][0].value == pytest.approx(0.8)
