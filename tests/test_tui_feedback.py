"""Human edits from the TUI go through store.feedback with the acting author (audited as the
CLI's `feedback` is): `e` edits expected (in $EDITOR when set, else a dialog; bad JSON says
where and loses nothing; a concurrent change is never overwritten), `s` on the trace screen
(and the palette) enters a score, and the tag editor applies what changed, not a stale list."""

from __future__ import annotations

import json
import stat

import pytest
from textual.command import CommandList, CommandPalette

from store import Store
from store.audit import audit_log
from store.export import get_span
from store.feedback import apply_feedback
from store.models import FeedbackIn
from tui.screens.dialogs import MenuScreen, PromptScreen, TextEditScreen
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    record_suspends,
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    sample_roots,
    sample_trace,
    settle,
    tui_env,
    wait_for,
    wait_rows,
)

FIRST = sample_roots()[0]


@pytest.fixture
def app(demo_db, tui_env):
    return make_app(demo_db)


def read(demo_db, row_id: str) -> dict:
    store = Store(demo_db)
    try:
        return get_span(store, "default", row_id)
    finally:
        store.close()


def audit(demo_db, row_id: str) -> list[dict]:
    store = Store(demo_db)
    try:
        return audit_log(store, row_id)
    finally:
        store.close()


def write_other(demo_db, row_id: str, **kw) -> None:
    """Another process (the CLI's `feedback`) writes meanwhile."""
    store = Store(demo_db)
    try:
        apply_feedback(store, "default", row_id, FeedbackIn(author="cli-user", **kw))
    finally:
        store.close()


async def open_trace(pilot) -> TraceScreen:
    app = pilot.app
    await wait_rows(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "the trace")
    await settle(pilot)
    return app.screen


# --- tags: what changed, not a stale list --------------------------------------------------------


async def test_tag_editor_keeps_a_tag_written_while_it_was_open(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the tag editor")
        assert app.screen.query_one("#prompt-input").value == ", ".join(FIRST["tags"])
        write_other(demo_db, FIRST["id"], tags=["from-cli"])  # `bt-tui feedback --tag from-cli` meanwhile
        await pilot.press("end", *", mine", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: any("tags saved" in n for n in notifications(app)), "the notice")
    tags = read(demo_db, FIRST["id"])["tags"]
    assert set(tags) == set(FIRST["tags"]) | {"from-cli", "mine"}
    assert audit(demo_db, FIRST["id"])[0]["author"] == "tester"


async def test_tag_editor_removes_only_what_was_removed(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the tag editor")
        write_other(demo_db, FIRST["id"], tags=["from-cli"])
        await pilot.press("end", "ctrl+u", "enter")  # every tag it showed removed
        await settle(pilot)
        await wait_for(pilot, lambda: any("tags saved" in n for n in notifications(app)), "the notice")
    assert read(demo_db, FIRST["id"])["tags"] == ["from-cli"]


# --- expected -----------------------------------------------------------------------------------


async def test_e_edits_expected_in_a_dialog_and_bad_json_says_where(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the expected editor")
        dialog = app.screen
        area = dialog.query_one("#edit-text")
        assert area.text.strip() == json.dumps(FIRST.get("expected"))
        area.text = '{\n  "answer": "refund",\n  "ok": tru\n}'
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog  # still open, the text kept
        assert area.text == '{\n  "answer": "refund",\n  "ok": tru\n}'
        error = str(dialog.query_one("#edit-error").render())
        assert "line 3, column 9" in error
        assert area.cursor_location == (2, 8)  # the cursor at the error
        area.text = '{\n  "answer": "refund",\n  "ok": true\n}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, TextEditScreen), "the dialog to close")
        await wait_for(pilot, lambda: any("expected saved" in n for n in notifications(app)), "the notice")
    assert read(demo_db, FIRST["id"])["expected"] == {"answer": "refund", "ok": True}
    entry = audit(demo_db, FIRST["id"])[0]
    assert entry["field"] == "expected" and entry["author"] == "tester"
    assert entry["after"] == {"answer": "refund", "ok": True}


async def test_escape_with_an_edit_asks_before_it_is_thrown_away(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the expected editor")
        dialog = app.screen
        dialog.query_one("#edit-text").text = '"draft"'
        await pilot.press("escape")
        assert app.screen is dialog and "escape again" in str(dialog.query_one("#edit-error").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, TextEditScreen)
    assert read(demo_db, FIRST["id"]).get("expected") == FIRST.get("expected")


async def test_expected_changed_meanwhile_is_not_overwritten(app, demo_db):
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the expected editor")
        write_other(demo_db, FIRST["id"], expected="set by someone else", has_expected=True)
        app.screen.query_one("#edit-text").text = '"mine"'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("changed since" in n for n in notifications(app)), "the refusal")
        notice = next(n for n in notifications(app) if "changed since" in n)
        assert "not saved" in notice and "reload" in notice
        saved = notice.split("your text is in ", 1)[1].rstrip(")").strip()
        assert json.loads(open(saved, encoding="utf-8").read()) == "mine"  # nothing lost
        assert app.screen is screen
    assert read(demo_db, FIRST["id"])["expected"] == "set by someone else"


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """$EDITOR: a script that writes, run after run, the texts queued in ``texts``."""
    queue = tmp_path / "queue"
    queue.mkdir()
    script = tmp_path / "fake-editor.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(ls "{queue}" | sort | head -1)\n'
        f'cp "$1" "{tmp_path}/seen-$n"\n'
        f'cat "{queue}/$n" > "$1" && rm "{queue}/$n"\n',
        encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(script))

    def texts(*values: str) -> None:
        for i, v in enumerate(values):
            (queue / f"{i:02d}").write_text(v, encoding="utf-8")

    return texts


async def test_e_on_the_trace_screen_uses_EDITOR_and_edit_again_keeps_the_text(app, demo_db, editor, tmp_path,
                                                                                 monkeypatch):
    suspended = record_suspends(app, monkeypatch)
    llm = sorted(sample_trace(FIRST["root_span_id"]), key=lambda s: s["metrics"]["start"])[-1]
    editor('{"intent": "billing",\n "tone": }', '{"intent": "billing", "tone": "warm"}')
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n", "n", "n", "n")
        await wait_for(pilot, lambda: screen.span["span_id"] == llm["span_id"], "the llm span")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the bad-JSON menu")
        assert "line 2, column 10" in app.screen.title_text
        await pilot.press("1")  # edit it again: the editor opens on what was typed
        await wait_for(pilot, lambda: any("expected saved" in n for n in notifications(app)), "the save")
        assert suspended == [True, True]
        assert (tmp_path / "seen-01").read_text(encoding="utf-8") == '{"intent": "billing",\n "tone": }'
        await wait_for(pilot, lambda: screen.span.get("expected") == {"intent": "billing", "tone": "warm"},
                       "the detail to show it")
    assert read(demo_db, llm["id"])["expected"] == {"intent": "billing", "tone": "warm"}
    assert audit(demo_db, llm["id"])[0]["author"] == "tester"


# --- scores -------------------------------------------------------------------------------------


async def test_s_on_the_trace_screen_enters_a_validated_score(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the score prompt")
        prompt = app.screen
        await paste(pilot, "accuracy=1.5")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is prompt
        assert "a number in [0, 1]" in str(prompt.query_one(".dialog-hint").render())
        await pilot.press("ctrl+u")
        await paste(pilot, "accuracy")
        await pilot.press("enter")
        assert app.screen is prompt and "name=value" in str(prompt.query_one(".dialog-hint").render())
        await pilot.press("ctrl+u")
        await paste(pilot, "accuracy=0.8, tone=75%")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("scores saved" in n for n in notifications(app)), "the notice")
        await wait_for(pilot, lambda: (screen.span.get("scores") or {}).get("accuracy") == 0.8, "the detail")
    scores = read(demo_db, FIRST["id"])["scores"]
    assert scores["accuracy"] == 0.8 and scores["tone"] == 0.75
    assert scores["Factuality"] == FIRST["scores"]["Factuality"]  # merged, not replaced
    entry = audit(demo_db, FIRST["id"])[0]
    assert entry["field"] == "scores" and entry["author"] == "tester"


async def test_the_palette_scores_the_current_logs_row(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await paste(pilot, "Score the current row")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "palette hits")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the score prompt")
        await paste(pilot, "helpful=1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("scores saved" in n for n in notifications(app)), "the notice")
    assert read(demo_db, FIRST["id"])["scores"]["helpful"] == 1
