"""Pilot tests of the Logs screen: every key binding, asserted by what the user sees and by
what lands in the database.  The demo corpus (300 traces, 2,162 spans) is the data unless a
test builds its own."""

from __future__ import annotations

import json

import pytest
from rich.text import Text
from textual.command import CommandPalette

import tui.screens.logs as logs_mod
from store import Store
from store.query.pager import LogsQuery
from store.audit import audit_log
from store.export import get_span
from store.projects import list_projects
from store.spans import log_spans
from store.views import list_views
from tui.app import BtTuiApp
from tui.format import fmt_time
from tui.screens.dialogs import HelpScreen, MenuScreen, PromptScreen
from tui.screens.logs import LogsScreen
from tui.screens.trace import TraceScreen
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
    sample_rows,
    sample_trace,
    screen_text,
    settle,
    static_text,
    status_text,
    tui_env,
    wait_for,
    wait_rows,
)

FACT_FILTER = "scores.Factuality < 0.5"


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(demo_db, tui_env) -> BtTuiApp:
    return make_app(demo_db)


def table_of(screen):
    return screen.query_one("#table")


def table_ids(screen) -> list[str]:
    return table_of(screen).row_ids()


def cell(screen, row_id: str, column: str) -> str:
    value = table_of(screen).get_cell(row_id, column)
    return value.plain if isinstance(value, Text) else str(value)


def root_ids(roots) -> list[str]:
    return [r["id"] for r in roots]


def traces_where(pred) -> list[dict]:
    """Roots (newest first) of the demo traces having at least one span matching ``pred``."""
    hit = {s["root_span_id"] for s in sample_rows() if pred(s)}
    return [r for r in sample_roots() if r["root_span_id"] in hit]


def low_factuality(span: dict) -> bool:
    v = (span.get("scores") or {}).get("Factuality")
    return v is not None and v < 0.5


async def type_filter(pilot, screen, text: str, *, keys: bool = False) -> None:
    """`/`, the text (typed key by key with ``keys``, else pasted), enter; waits for the rows."""
    await pilot.press("slash")
    assert pilot.app.focused is screen.query_one("#filter")
    await pilot.press("end", "ctrl+u")
    if keys:
        await pilot.press(*text)
    else:
        await paste(pilot, text)
    assert screen.query_one("#filter").value == text
    await pilot.press("enter")
    await settle(pilot)


async def answer_prompt(pilot, text: str, clear: bool = True) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "a prompt")
    if clear:
        await pilot.press("end", "ctrl+u")
    await paste(pilot, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, PromptScreen), "the prompt to close")


async def pick(pilot, title_part: str, item_id: str) -> None:
    """Pick an item of the open MenuScreen by its number key."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MenuScreen), "a menu")
    menu = pilot.app.screen
    assert title_part in menu.title_text
    ids = [k for k, _ in menu.items]
    assert item_id in ids, f"{item_id!r} not in menu {ids}"
    index = ids.index(item_id)
    if index < 9:
        await pilot.press(str(index + 1))
    else:  # past the digits: move down to it, enter
        await pilot.press(*(["j"] * index), "enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, MenuScreen), "the menu to close")


def open_store(path) -> Store:
    return Store(path)


# --- loading and the filter bar ----------------------------------------------------------------


async def test_rows_load_newest_first(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        expected = sample_roots()
        assert len(expected) == 300
        assert table_ids(screen) == root_ids(expected[:50])  # one page, newest first
        assert [r.id for r in screen.table.rows] == root_ids(expected[:50])
        first = expected[0]
        assert cell(screen, first["id"], "time") == fmt_time(first["created"])
        assert cell(screen, first["id"], "name").startswith("support_request ·")
        assert table_of(screen).cursor_row == 0
        status = status_text(app)
        assert status.startswith("traces · all rows · 300 matching · sort created ↓")
        assert app.focused is table_of(screen)


async def test_slash_focuses_filter_and_a_typed_filter_shows_only_matching_rows(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#filter")
        # Keys now type into the filter instead of running bindings (q does not quit).
        await pilot.press("q", "s")
        assert screen.query_one("#filter").value == "qs"
        assert app.is_running and app.screen is screen
        await pilot.press("escape")  # back to the table; the bar shows the applied filter again
        assert app.focused is table_of(screen)
        assert screen.filter_text == "" and status_text(app).startswith("traces · all rows")
        assert screen.query_one("#filter").value == ""
        # Type a valid filter, enter: only the matching traces.
        await type_filter(pilot, screen, FACT_FILTER, keys=True)
        expected = traces_where(low_factuality)
        assert 0 < len(expected) < 50
        assert table_ids(screen) == root_ids(expected)
        status = status_text(app)
        assert status.startswith("traces · filter · ")
        assert f"{len(expected):,} matching" in status
        assert "full-text" not in status
        assert screen.query_one("#filter-error").display is False
        assert app.focused is table_of(screen)  # enter hands focus back to the table


async def test_filter_bar_lists_completions_with_counts_and_right_accepts(app):
    """Typing a partial field or tag shows what it can become (with counts, exact for tags and
    scores) under the bar; → completes to the first; the list goes away with the focus."""
    rows = sample_rows()
    tag_count = {t: sum(t in (r.get("tags") or []) for r in rows) for r in rows for t in (r.get("tags") or [])}
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await wait_for(pilot, lambda: screen.suggester.tags, "completions loaded")
        hint = screen.query_one("#filter-hint")
        await pilot.press("slash")
        await pilot.press(*"tags includes 'es")
        await wait_for(pilot, lambda: hint.display, "the completion list")
        assert f"escalated ({tag_count['escalated']:,})" in static_text(hint)
        await pilot.press("tab")
        assert screen.query_one("#filter").value == "tags includes 'escalated'"
        assert app.focused is screen.query_one("#filter")  # tab completed; the focus stayed
        await paste(pilot, " and scores.He")
        await wait_for(pilot, lambda: "scores.Helpfulness (" in static_text(hint), "score names listed")
        n_help = sum("Helpfulness" in (r.get("scores") or {}) for r in rows)
        assert f"scores.Helpfulness ({n_help:,})" in static_text(hint)
        await pilot.press("right", "space", *"> 0.5", "enter")
        await wait_for(pilot, lambda: screen.filter_text == "tags includes 'escalated' and scores.Helpfulness > 0.5",
                       "the completed filter applied")
        assert hint.display is False
        assert screen.query_one("#filter-error").display is False


async def test_filter_bar_completes_metadata_values_with_counts(app):
    """After `metadata.model = '` the line under the bar lists the values the project has, with
    how many spans have each; typing narrows them, tab takes the first (quote closed)."""
    import collections

    models = collections.Counter((r.get("metadata") or {}).get("model") for r in sample_rows())
    models.pop(None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await wait_for(pilot, lambda: screen.suggester.fields, "completions loaded")
        hint = screen.query_one("#filter-hint")
        await pilot.press("slash")
        await pilot.press(*"metadata.model = '")
        await wait_for(pilot, lambda: hint.display and "gpt-4o (" in static_text(hint), "the values")
        line = static_text(hint)
        for model, n in models.items():
            assert f"{model} ({n:,})" in line, (model, line)
        assert line.index("gpt-4o (") < line.index("gpt-4-turbo (")  # most common first
        await pilot.press(*"cl")
        await wait_for(pilot, lambda: "gpt" not in static_text(hint), "the narrowed list")
        assert f"claude-3-5-sonnet ({models['claude-3-5-sonnet']:,})" in static_text(hint)
        await pilot.press("tab")
        assert screen.query_one("#filter").value == "metadata.model = 'claude-3-5-sonnet'"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.filter_text == "metadata.model = 'claude-3-5-sonnet'" and screen.table.total > 0
        # Double quotes, another key.
        await pilot.press("slash", "end", "ctrl+u")
        await pilot.press(*'metadata.channel == "')
        await wait_for(pilot, lambda: hint.display and "slack (" in static_text(hint), "the channel values")
        await pilot.press(*"we", "tab")
        assert screen.query_one("#filter").value == 'metadata.channel == "web"'


async def test_tab_completion_keeps_order_with_keys_typed_fast(app):
    """Keys arriving in one burst (SSH, tmux): tab completes before the keys behind it land."""
    from textual import events

    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await wait_for(pilot, lambda: screen.suggester.fields, "completions loaded")
        await pilot.press("slash")
        burst = [*"scores.Fa", "tab", *" < 0.5", "enter"]
        for key in burst:  # queued all at once, as a terminal delivers them
            char = {"tab": "\t", "enter": "\r"}.get(key, key)
            app.post_message(events.Key({" ": "space", "<": "less_than_sign", ".": "full_stop"}.get(key, key), char))
        await wait_for(pilot, lambda: screen.filter_text == "scores.Factuality < 0.5", "the completed filter")
        assert isinstance(app.screen, LogsScreen)


async def test_plain_words_run_full_text_search(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await type_filter(pilot, screen, "refund please", keys=True)
        status = status_text(app)
        assert "full-text search" in status
        assert "searched the words" in status
        shown = [r.root_span_id for r in screen.table.rows]
        assert 0 < screen.table.total < 300
        # Every trace found contains both words somewhere in its spans.
        for root in shown:
            text = json.dumps(sample_trace(root), ensure_ascii=False).lower()
            assert "refund" in text and "please" in text, root


async def test_full_text_search_shows_where_each_row_matched(app):
    """While a search is on, the input column gives way to a snippet of the match (its field
    named when it is not the input), the matched word highlighted; a filter brings the input
    back."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await type_filter(pilot, screen, "fasttext")
        keys = [c.key for c in table_of(screen).ordered_columns]
        assert "match" in keys and "input" not in keys
        header = next(line for line in screen_text(app).splitlines() if " time " in line)
        assert " match " in header
        for rid in table_ids(screen)[:10]:
            value = table_of(screen).get_cell(rid, "match")
            assert value.plain.startswith("meta: ")
            hit = [value.plain[sp.start:sp.end] for sp in value.spans if "reverse" in str(sp.style)]
            assert hit and hit[0].lower().startswith("fasttext"), value.plain
        assert "fasttex" in screen_text(app)
        await type_filter(pilot, screen, "refund")
        for rid in table_ids(screen)[:10]:
            value = table_of(screen).get_cell(rid, "match")
            assert "refund" in value.plain.lower()
        await type_filter(pilot, screen, FACT_FILTER)
        keys = [c.key for c in table_of(screen).ordered_columns]
        assert "input" in keys and "match" not in keys


async def test_bad_expression_shows_error_with_caret_and_keeps_rows(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        before = table_ids(screen)
        await type_filter(pilot, screen, "scores.x >", keys=True)
        err = screen.query_one("#filter-error")
        await wait_for(pilot, lambda: err.display, "the filter error")
        lines = static_text(err).rstrip("\n").splitlines()
        assert lines[0] == " " * len("scores.x >") + "^"  # the caret under the end of the text
        assert "expected a value" in lines[1]
        assert "at column 11" in lines[1]
        assert table_ids(screen) == before  # the previous rows stay
        assert screen.filter_text == ""
        assert status_text(app).startswith("traces · all rows · 300 matching")
        # The error is also visible on screen, under the filter bar.
        assert "at column 11" in screen_text(app)
        # Editing the text takes the stale caret away; escape puts back the applied filter.
        assert app.focused is screen.query_one("#filter")
        await pilot.press("space")
        assert err.display is False
        await pilot.press("escape")
        assert screen.query_one("#filter").value == "" and app.focused is table_of(screen)


async def test_unbalanced_or_unknown_expressions_are_errors_not_searches(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        err = screen.query_one("#filter-error")
        for text, message in (("(error is null", "expected ')'"), ("lowr(name) = 'x'", "did you mean lower()"),
                              ("tags inc 'vip'", "after 'tags'"), ("scores.Factuality", "expected a condition")):
            await type_filter(pilot, screen, text)
            await wait_for(pilot, lambda: err.display, f"the error for {text!r}")
            assert message in static_text(err), text
            assert screen.filter_text == ""
            await pilot.press("escape")


async def test_status_line_keeps_notes_whole_and_nothing_stale_at_80_columns(app):
    """A note on the filter (a score name that does not exist) is shown whole, on its own
    line, under the count and the sort; a new error in the bar hides it; at 80 columns the
    sort and the auto-refresh mark stay visible."""
    scores = sorted({k for r in sample_rows() for k in (r.get("scores") or {})})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("F")
        await type_filter(pilot, screen, "scores.correctness > 0.5")
        await wait_for(pilot, lambda: "no score named" in status_text(app), "the note")
        shown = screen_text(app)
        flat = " ".join(shown.split())
        assert "0 matching" in flat and "sort created ↓" in flat and "auto-refresh" in flat
        note = f"no score named 'correctness' in project 'default' (scores: {', '.join(scores)})"
        assert note in flat  # whole, every valid name
        assert not any(c.key.startswith("score:") for c in screen.table.ordered_columns)  # no column for it
        # The note is under the status, not in its way.
        lines = status_text(app).splitlines()
        assert lines[0].startswith("traces · filter · 0 matching · sort created ↓")
        # A bad filter typed next: its error shows, and the old note goes.
        await type_filter(pilot, screen, "scores.x >")
        await wait_for(pilot, lambda: screen.query_one("#filter-error").display, "the error")
        assert "no score named" not in status_text(app)
        assert "no score named" not in screen_text(app)
        # An auto-refresh of the applied filter's rows meanwhile keeps the error and hides the note.
        reloads = screen.table._seq
        await wait_for(pilot, lambda: screen.table._seq > reloads and not screen.table.fetching, "an auto-refresh")
        await settle(pilot)
        assert screen.query_one("#filter-error").display
        assert "no score named" not in status_text(app)
        # escape puts back the applied filter: its note with it.
        await pilot.press("escape")
        assert "no score named 'correctness'" in status_text(app)
        # A new filter: no note from the old one.
        await type_filter(pilot, screen, FACT_FILTER)
        assert "no score named" not in status_text(app)
        await pilot.press("j", "j")  # more pages, more rows: still no stale note
        assert "no score named" not in status_text(app)
        # A long status wraps between its items, never inside one.
        await pilot.press("s")
        await pick(pilot, "Sort by", "scores.ContextRelevance")
        await settle(pilot)
        await pilot.press("A")
        lines = status_text(app).rstrip("\n").splitlines()
        assert len(lines) >= 2 and "sort scores.ContextRelevance ↓" in status_text(app)
        for line in lines:
            assert not line.startswith(("ms", "↓", "matching")) and not line.rstrip().endswith("·"), lines


async def test_escape_clears_marks_then_filter(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await type_filter(pilot, screen, FACT_FILTER)
        filtered = table_ids(screen)
        await pilot.press("space")
        assert "1 marked" in status_text(app)
        await pilot.press("escape")  # 1st: marks
        assert screen.table.marked == set() and not screen.table.all_marked
        assert "marked" not in status_text(app)
        assert screen.filter_text == FACT_FILTER and table_ids(screen) == filtered
        await pilot.press("escape")  # 2nd: the filter
        await settle(pilot)
        assert screen.filter_text == ""
        assert screen.query_one("#filter").value == ""
        assert table_ids(screen) == root_ids(sample_roots()[:50])
        assert status_text(app).startswith("traces · all rows · 300 matching")


# --- opening and moving --------------------------------------------------------------------------


async def test_enter_opens_highlighted_trace(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("j", "j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen), "the trace screen")
        target = sample_roots()[2]
        assert app.screen.root_span_id == target["root_span_id"]
        await settle(pilot)
        assert f"trace {target['root_span_id']}" in screen_text(app)
        await pilot.press("escape")
        assert app.screen is screen
        assert table_of(screen).cursor_row == 2


async def test_j_k_G_g_move_the_cursor(app):
    roots = sample_roots()
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        table = table_of(screen)
        await pilot.press("j", "j", "j")
        assert table.cursor_row == 3
        assert screen.current_row().id == roots[3]["id"]
        await pilot.press("k")
        assert table.cursor_row == 2
        await pilot.press("down")
        assert table.cursor_row == 3
        await pilot.press("up", "k")
        assert table.cursor_row == 1
        # G: the last page, the oldest trace highlighted.
        await pilot.press("G")
        await wait_for(pilot, lambda: screen.table.rows[-1].id == roots[-1]["id"], "the last page")
        await settle(pilot, timeout=5)
        assert screen.current_row().id == roots[-1]["id"]
        assert table.cursor_row == len(screen.table.rows) - 1
        assert len(screen.table.rows) <= 100  # the last page (and at most one more), not all 300 rows
        assert "11-14 00:42:55" in screen_text(app)  # the oldest trace is on screen
        # g: back to the newest.
        await pilot.press("g")
        await settle(pilot, timeout=5)
        assert screen.current_row().id == roots[0]["id"]
        assert table.cursor_row == 0


async def test_resize_keeps_the_cursor_row(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("j", "j", "j", "j", "j")
        row_id = screen.current_row().id
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert screen.current_row().id == row_id
        assert table_of(screen).cursor_row == 5


async def test_S_reverses_and_s_sorts_by_duration(app):
    durations = sorted(
        (r["metrics"]["end"] - r["metrics"]["start"] for r in sample_roots()), reverse=True
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("S")  # reverse the default order: oldest first
        await settle(pilot)
        assert table_ids(screen) == root_ids(list(reversed(sample_roots()))[:50])
        assert "sort created ↑" in status_text(app)
        await pilot.press("S")
        await settle(pilot)
        assert table_ids(screen) == root_ids(sample_roots()[:50])
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the sort menu")
        keys = [k for k, _ in app.screen.items]
        assert keys[:4] == ["created", "duration", "tokens", "cost"] and keys[4].startswith("scores.")
        assert {"name", "type", "error", "input", "output", "tags"} <= set(keys)  # any column
        await pick(pilot, "Sort by", "duration")
        await settle(pilot)
        assert screen.sort_key == "duration" and screen.desc
        got = [r.duration for r in screen.table.rows]
        assert got == pytest.approx(durations[:50])
        assert "sort duration ↓" in status_text(app)
        await pilot.press("S")
        await settle(pilot)
        assert not screen.desc
        got = [r.duration for r in screen.table.rows]
        assert got == pytest.approx(sorted(durations)[:50])
        assert "sort duration ↑" in status_text(app)
        # A new column starts largest first even after S; rows without the score come last.
        await pilot.press("s")
        await pick(pilot, "Sort by", "scores.Factuality")
        await settle(pilot)
        assert screen.sort_key == "scores.Factuality" and screen.desc
        facts = [r.scores.get("Factuality") for r in screen.table.rows]
        assert facts[0] is not None and facts[0] >= max(f for f in facts if f is not None) - 1e-9
        await pilot.press("S")
        await settle(pilot)
        assert screen.table.rows[0].scores.get("Factuality") is not None  # ascending: the missing ones last


async def test_T_toggles_traces_and_spans(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("T")
        await settle(pilot)
        assert screen.shape == "spans"
        status = status_text(app)
        assert status.startswith("spans · all rows · 2,162 matching")
        newest = sorted(sample_rows(), key=lambda s: s["created"], reverse=True)
        assert table_ids(screen) == [s["id"] for s in newest[:50]]
        assert any(not r.is_root for r in screen.table.rows)
        await pilot.press("T")
        await settle(pilot)
        assert screen.shape == "traces"
        assert status_text(app).startswith("traces · all rows · 300 matching")


# --- views ---------------------------------------------------------------------------------------


async def test_v_views_errors_applies_error_filter(app):
    expected = traces_where(lambda s: s.get("error") is not None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the views menu")
        labels = [label for _, label in app.screen.items]
        assert any(label.startswith("Errors") and "error IS NOT NULL" in label for label in labels)
        await pick(pilot, "Saved views", "v0")  # Errors is the first built-in view
        await settle(pilot)
        assert screen.filter_text == "error IS NOT NULL"
        assert screen.query_one("#filter").value == "error IS NOT NULL"
        assert table_ids(screen) == root_ids(expected)
        assert all(cell(screen, rid, "error") == "!" for rid in table_ids(screen))
        assert f"{len(expected):,} matching" in status_text(app)
        # "All rows" clears it again.
        await pilot.press("v")
        await pick(pilot, "Saved views", "clear")
        await settle(pilot)
        assert screen.filter_text == "" and screen.table.total == 300


async def test_V_saves_current_filter_as_view(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("V")  # nothing to save yet
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert any("type a filter first" in n for n in notifications(app))
        await type_filter(pilot, screen, FACT_FILTER)
        await pilot.press("V")
        await answer_prompt(pilot, "Low factuality")
        await settle(pilot)
        assert any("saved view 'Low factuality'" in n for n in notifications(app))
    store = open_store(demo_db)
    try:
        views = {v.name: v for v in list_views(store, "default")}
    finally:
        store.close()
    assert views["Low factuality"].filter == FACT_FILTER
    assert views["Low factuality"].author == "tester"
    assert not views["Low factuality"].builtin


# --- refreshing ----------------------------------------------------------------------------------


async def test_ctrl_r_refresh_shows_rows_written_meanwhile(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        other = open_store(demo_db)
        try:
            [new_id] = log_spans(other, "default", [root_span(1, prefix="late")])
        finally:
            other.close()
        await pilot.pause(0.1)
        assert new_id not in table_ids(screen)  # no refresh yet
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert table_ids(screen)[0] == new_id
        assert "301 matching" in status_text(app)


async def test_F_auto_refresh_shows_new_rows_without_a_key(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("F")
        assert screen.table.auto_refresh
        assert "auto-refresh" in status_text(app)
        assert any("auto-refresh on" in n for n in notifications(app))
        other = open_store(demo_db)
        try:
            [new_id] = log_spans(other, "default", [root_span(2, prefix="auto")])
        finally:
            other.close()
        await wait_for(pilot, lambda: table_ids(screen)[:1] == [new_id], "the new row to appear by itself", 10)
        await wait_for(pilot, lambda: "301 matching" in status_text(app), "the new count")
        await pilot.press("F")
        assert not screen.table.auto_refresh and screen.table._auto_timer is None
        assert "auto-refresh" not in status_text(app)


# --- marks and batch actions -------------------------------------------------------------------


async def test_space_marks_and_A_marks_all(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        ids = table_ids(screen)
        await pilot.press("space")
        assert screen.table.marked == {ids[0]}
        assert "1 marked" in status_text(app)
        assert cell(screen, ids[0], "mark") == "●"
        assert table_of(screen).cursor_row == 1  # space moves on
        await pilot.press("space")
        assert "2 marked" in status_text(app)
        await pilot.press("k", "space")  # unmark the second one
        assert screen.table.marked == {ids[0]}
        assert cell(screen, ids[1], "mark") == ""
        await pilot.press("A")
        assert screen.table.all_marked and not screen.table.marked
        assert "all marked" in status_text(app)
        assert all(cell(screen, rid, "mark") == "●" for rid in ids)
        await pilot.press("A")
        assert not screen.table.all_marked
        assert all(cell(screen, rid, "mark") == "" for rid in ids)


async def test_batch_add_and_remove_tag(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        ids = table_ids(screen)
        await pilot.press("space", "space")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert "2 marked" in app.screen.title_text
        await pick(pilot, "Batch action", "tag")
        await answer_prompt(pilot, "needs-review")
        await settle(pilot)
        await wait_for(pilot, lambda: "tagged 2 marked traces with 'needs-review'" in notifications(app),
                       "the tag notification")
        await wait_for(pilot, lambda: "needs-review" in screen.table.rows[0].tags, "the row to show its new tag")
        assert "needs-review" in screen.table.rows[1].tags and "needs-review" not in screen.table.rows[2].tags
        # Without marks the batch acts on the current row: remove the tag from the first row again.
        await pilot.press("escape", "g")
        assert not screen.table.marked and screen.current_row().id == ids[0]
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert "the current" in app.screen.title_text
        await pick(pilot, "Batch action", "untag")
        await answer_prompt(pilot, "needs-review")
        await settle(pilot)
        await wait_for(pilot, lambda: "needs-review" not in screen.table.rows[0].tags, "the tag to go")
    by_id = {r["id"]: r for r in sample_roots()}
    store = open_store(demo_db)
    try:
        assert get_span(store, "default", ids[0])["tags"] == by_id[ids[0]]["tags"]  # added, then removed
        assert [e["after"] for e in audit_log(store, ids[0])] == [by_id[ids[0]]["tags"],
                                                                   by_id[ids[0]]["tags"] + ["needs-review"]]
        assert get_span(store, "default", ids[1])["tags"] == by_id[ids[1]]["tags"] + ["needs-review"]
        entry = audit_log(store, ids[1])[0]
        assert entry["field"] == "tags" and entry["author"] == "tester"
        assert get_span(store, "default", ids[2])["tags"] == by_id[ids[2]]["tags"]
    finally:
        store.close()


async def test_batch_tag_all_matching_traces_says_traces(app, demo_db, monkeypatch):
    """In the traces view "all matching" is traces: the selection goes to the store in the
    traces shape and the toast counts traces; in the spans view it counts spans."""
    matching = traces_where(low_factuality)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await type_filter(pilot, screen, FACT_FILTER)
        sent = []
        import tui.actions as actions_mod

        real = actions_mod.retag_selection

        def spy(store, sel, **kw):
            sent.append(sel)
            return real(store, sel, **kw)

        monkeypatch.setattr(actions_mod, "retag_selection", spy)
        await pilot.press("A", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert f"all matching traces ({len(matching)})" in app.screen.title_text
        await pick(pilot, "Batch action", "tag")
        await answer_prompt(pilot, "triaged")
        await wait_for(pilot, lambda: f"tagged {len(matching)} traces with 'triaged'" in notifications(app),
                       "the toast in traces")
        assert sent[-1].shape == "traces" and sent[-1].ids is None and sent[-1].filter == FACT_FILTER
        # Marked rows in the traces view: the traces shape with their ids.
        await settle(pilot)
        await pilot.press("escape", "g", "space", "b")
        await pick(pilot, "Batch action", "untag")
        await answer_prompt(pilot, "triaged")
        await wait_for(pilot, lambda: "untagged 1 marked trace ('triaged')" in notifications(app),
                       "the untag toast")
        assert sent[-1].shape == "traces" and sent[-1].ids == (matching[0]["id"],)
        # The spans view counts spans.
        await settle(pilot)
        await pilot.press("escape", "T")
        await settle(pilot)
        n_spans = screen.table.total
        await pilot.press("A", "b")
        await pick(pilot, "Batch action", "tag")
        await answer_prompt(pilot, "low-fact")
        await wait_for(pilot, lambda: f"tagged {n_spans} spans with 'low-fact'" in notifications(app),
                       "the toast in spans")
        assert sent[-1].shape == "spans"
    store = open_store(demo_db)
    try:
        for r in matching:
            assert "triaged" in get_span(store, "default", r["id"])["tags"] or r["id"] == matching[0]["id"]
    finally:
        store.close()


async def test_batch_export_marked_spans(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "m.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("T")
        await settle(pilot)
        ids = table_ids(screen)[:3]
        await pilot.press("space", "space", "space")
        await pilot.press("b")
        await pick(pilot, "Batch action", "export")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the export prompt")
        default = app.screen.query_one("#prompt-input").value
        assert default.startswith(str(tmp_path)) and default.endswith(".jsonl")
        await pilot.press("end", "ctrl+u", *"m.jsonl")  # typed: a path relative to the working directory
        await answer_prompt(pilot, "", clear=False)
        await settle(pilot)
        await wait_for(pilot, lambda: any("exported 3 spans" in n for n in notifications(app)), "the export")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["id"] for d in lines) == sorted(ids)
    by_id = {s["id"]: s for s in sample_rows()}
    for d in lines:
        assert d == by_id[d["id"]]  # the full span row, exactly as imported


async def test_batch_export_marked_and_all_traces_exports_whole_traces(app, tmp_path):
    """In the traces view a selected row stands for its whole trace: every span is exported."""
    two, everything = tmp_path / "two.jsonl", tmp_path / "all.jsonl"
    matching = traces_where(low_factuality)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await type_filter(pilot, screen, FACT_FILTER)
        await pilot.press("space", "space", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert "2 marked" in app.screen.title_text
        await pick(pilot, "Batch action", "export")
        await answer_prompt(pilot, str(two))
        await settle(pilot)
        await wait_for(pilot, lambda: two.exists() and any("exported" in n for n in notifications(app)), "export")
        await pilot.press("A", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        assert "all matching" in app.screen.title_text
        await pick(pilot, "Batch action", "export")
        await answer_prompt(pilot, str(everything))
        await settle(pilot)
        await wait_for(pilot, lambda: everything.exists() and sum("exported" in n for n in notifications(app)) == 2,
                       "the second export")

    def exported(path) -> list[str]:
        return sorted(json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines())

    assert exported(two) == sorted(s["id"] for r in matching[:2] for s in sample_trace(r["root_span_id"]))
    assert exported(everything) == sorted(s["id"] for r in matching for s in sample_trace(r["root_span_id"]))


# --- comments, tags, copy ------------------------------------------------------------------------


async def test_c_adds_comment_and_audits_it(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("j")
        row = screen.current_row()
        await pilot.press("c", *"never", "escape")  # escape cancels: nothing is written
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the comment prompt")
        assert row.id in app.screen.title_text
        await answer_prompt(pilot, "  tone is too formal  ")
        await settle(pilot)
        await wait_for(pilot, lambda: any("comment added" in n for n in notifications(app)), "the notification")
    store = open_store(demo_db)
    try:
        comments = get_span(store, "default", row.id)["comments"]
        assert [(c["text"], c["author"]) for c in comments] == [("tone is too formal", "tester")]
        assert len(audit_log(store, row.id)) == 1
        entry = audit_log(store, row.id)[0]
        assert entry["field"] == "comment" and entry["author"] == "tester"
        assert entry["after"]["text"] == "tone is too formal"
    finally:
        store.close()


async def test_t_edits_tags(app, demo_db):
    first = sample_roots()[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the tags prompt")
        assert app.screen.query_one("#prompt-input").value == ", ".join(first["tags"])
        await answer_prompt(pilot, "vip, billing,  vip ,")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.table.rows and screen.table.rows[0].tags == ["vip", "billing"], "the row's new tags")
    store = open_store(demo_db)
    try:
        assert get_span(store, "default", first["id"])["tags"] == ["vip", "billing"]
        entry = audit_log(store, first["id"])[0]
        assert entry["field"] == "tags"
        assert entry["before"] == first["tags"] and entry["after"] == ["vip", "billing"]
    finally:
        store.close()


async def test_y_copies_row_as_json(app, monkeypatch):
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("j", "y")
        await pilot.pause()
    assert len(copied) == 1
    data = json.loads(copied[0])
    assert data == sample_roots()[1]  # the row exactly as it was imported (contract keys)


# --- help, quit, projects, palette ---------------------------------------------------------------


async def test_help_lists_the_screen_keys(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        text = static_text(app.screen.query_one("#help-text"))
        assert "Logs: newest traces first" in text
        assert "Logs screen" in text and "Table" in text and "App" in text
        for desc in ("Filter", "First row", "Last row", "Sort", "Reverse sort", "Traces/spans", "Views", "Save view",
                     "Refresh", "Auto-refresh", "Mark", "Mark all", "Batch", "Comment", "Tags", "Copy",
                     "Flag", "Review these",
                     "Clear", "Down", "Up", "Quit", "Help", "Project", "Command palette"):
            assert f"  {desc}" in text, desc
        logs_part = text.split("Logs screen", 1)[1].split("Table", 1)[0]
        for keys, desc in (("/", "Filter"), ("G", "Last row"), ("T", "Traces/spans"), ("A", "Mark all"),
                           ("F", "Auto-refresh"), ("f", "Flag"), ("r", "Review these")):
            assert any(line.split() [:1] == [keys] and desc in line for line in logs_part.splitlines()), keys
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("f1")  # the other help key
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen (f1)")
        assert static_text(app.screen.query_one("#help-text")) == text
        await pilot.press("question_mark")  # ? closes it again
        assert app.screen is screen


async def test_q_quits(app):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit, "the app to exit")
    assert app.return_code == 0


async def test_P_switches_project(demo_db, tui_env):
    store = open_store(demo_db)
    try:
        other_ids = log_spans(store, "other", [root_span(i, prefix="oth") for i in range(3)])
        names = [p.name for p in list_projects(store)]
    finally:
        store.close()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the project menu")
        assert [k for k, _ in app.screen.items] == names
        await pick(pilot, "Switch project", "other")
        await wait_for(pilot, lambda: app.project == "other", "the project switch")
        screen = await wait_rows(pilot)
        await settle(pilot)
        assert table_ids(screen) == list(reversed(other_ids))
        assert "3 matching" in status_text(app)
        assert "other" in app.sub_title
        assert len(app.screen_stack) == 2  # the old Logs screen was replaced, not stacked


async def test_ctrl_p_opens_palette_and_runs_a_command(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await paste(pilot, "Toggle traces")
        from textual.command import CommandList

        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "palette hits")
        await pilot.pause(0.3)  # let the search finish (hits arrive in batches)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette to close")
        await settle(pilot)
        assert screen.shape == "spans"
        assert status_text(app).startswith("spans")


async def test_palette_runs_batch_tagging_on_the_current_row(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        row = screen.current_row()
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await paste(pilot, "Add a tag to the selection")
        from textual.command import CommandList

        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "palette hits")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await answer_prompt(pilot, "from-palette")
        await wait_for(pilot, lambda: "from-palette" in get_span(app.store, "default", row.id)["tags"],
                       "the tag in the database")


# --- layout ----------------------------------------------------------------------------------------


async def test_narrow_terminal_keeps_time_input_output(app):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_rows(pilot)
        table = table_of(screen)
        keys = [c.key for c in table.ordered_columns]
        for k in ("time", "input", "output"):
            assert k in keys
        # All columns fit in the table's width: none is pushed off to the right.
        total = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert total <= table.size.width
        text = screen_text(app)
        header = next(line for line in text.splitlines() if " time " in line)
        assert "input" in header and "output" in header
        first = sample_roots()[0]
        assert fmt_time(first["created"])[:11] in text
        assert first["input"]["message"].split()[0] in text  # an input preview is visible


async def test_active_score_gets_a_column_and_score_names_are_recognisable(app, demo_db):
    names = sorted({k for r in sample_rows() for k in (r.get("scores") or {})})
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)

        def keys() -> list[str]:
            return [c.key for c in table_of(screen).ordered_columns]

        def check_names(row_id: str, skip: str = "") -> None:
            text = cell(screen, row_id, "scores").replace(" …", "")
            parts = text.split()
            for name in parts[0::2]:  # "Name .90 Other 1"
                assert name != skip, (skip, text)
                full = [n for n in names if n == name]
                prefixed = [n for n in names if n.startswith(name)]
                assert full or (len(name) >= 6 and len(prefixed) == 1), f"{name!r} is cryptic in {text!r}"

        assert not any(k.startswith("score:") for k in keys())
        for rid in table_ids(screen):
            check_names(rid)
        # Sorting by a score: it has a column of its own, named in full, next to the previews.
        await pilot.press("s")
        await pick(pilot, "Sort by", "scores.Factuality")
        await settle(pilot)
        assert "score:Factuality" in keys()
        header = next(line for line in screen_text(app).splitlines() if " time " in line)
        assert "Factuality" in header
        top = screen.table.rows[0]
        assert cell(screen, top.id, "score:Factuality").strip() == f"{top.scores['Factuality']:.2f}"
        check_names(top.id, skip="Factuality")
        assert "Fact" not in cell(screen, top.id, "scores")
        # Filtering on another score: that one gets the column.
        await type_filter(pilot, screen, "scores.Relevance < 0.5")
        await pilot.press("s")
        await pick(pilot, "Sort by", "created")
        await settle(pilot)
        assert "score:Relevance" in keys() and "score:Factuality" not in keys()
        row = screen.table.rows[0]
        assert float(cell(screen, row.id, "score:Relevance")) == pytest.approx(row.scores["Relevance"], abs=0.005)
        # Rows with comments or tags carry a mark.
        await pilot.press("escape")
        await settle(pilot)
        first, second, third = table_ids(screen)[:3]
        by_id = {r["id"]: r for r in sample_roots()}
        assert by_id[first]["tags"] and cell(screen, first, "notes") == "#"
        store = open_store(demo_db)
        try:
            from store.feedback import add_comment, retag

            retag(store, "default", [second], remove=by_id[second]["tags"], author="tester")
            add_comment(store, "default", third, "looked at it", "tester")
        finally:
            store.close()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert cell(screen, first, "notes") == "#"
        assert cell(screen, second, "notes") == ""  # no tags, no comments
        assert cell(screen, third, "notes") == "✎"
        # In the traces view a comment on any span of the trace counts.
        child = next(sp for sp in sample_trace(by_id[second]["root_span_id"]) if sp["id"] != second)
        store = open_store(demo_db)
        try:
            add_comment(store, "default", child["id"], "the tool call is wrong", "tester")
        finally:
            store.close()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert cell(screen, second, "notes") == "✎"


async def test_80x24_is_first_class(app):
    """At 80x24: previews of 15 characters at least, durations whole, `q Quit` in the key bar;
    on the trace screen every tab is visible and reachable, the tree's durations whole."""
    from tui.format import fmt_duration

    roots = sample_roots()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_rows(pilot)
        widths = {c.key: c.width for c in table_of(screen).ordered_columns}
        assert widths["input"] >= 15 and widths["output"] >= 15
        text = screen_text(app)
        lines = text.splitlines()
        assert "q Quit" in lines[-1] and "? Help" in lines[-1]
        for r in roots[:10]:
            line = next(line for line in lines if fmt_time(r["created"])[:11] in line)
            assert f" {fmt_duration(r['metrics']['end'] - r['metrics']['start'])} " in line, line
        assert " ".join(roots[0]["input"]["message"].split())[:14] in text  # "Hello, My paym"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        await settle(pilot)
        trace = app.screen
        lines = screen_text(app).splitlines()
        assert "esc Back" in lines[-1]
        tab_row = next(line for line in lines if " In " in line or "Input" in line)
        for label in ("In", "Out", "Exp", "Meta", "Metr", "Scores", "Cmts"):
            assert f" {label} " in tab_row + " ", (label, tab_row)
        root_line = next(line for line in lines if "support_req" in line)
        dur = fmt_duration(roots[0]["metrics"]["end"] - roots[0]["metrics"]["start"])
        assert f" {dur} " in root_line, root_line
        for sp in FIRST_TRACE_SPANS():
            name = sp["span_attributes"]["name"]
            line = next((line for line in lines if name[:10] in line.split("│")[0]), None)
            if line is not None:
                d = fmt_duration(sp["metrics"]["end"] - sp["metrics"]["start"])
                assert f" {d} " in line, (d, line)
        await pilot.press("6")
        await settle(pilot)
        assert "Factuality" in screen_text(app)
        await pilot.press("7")
        await settle(pilot)
        assert "no comments yet" in screen_text(app)
        assert trace.detail.tab == "comments"


def FIRST_TRACE_SPANS() -> list[dict]:
    return sample_trace(sample_roots()[0]["root_span_id"])


# --- big databases: paging ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_db_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.db"
    store = Store(path)
    try:
        log_spans(store, "default", [root_span(i, prefix="big") for i in range(3000)])
    finally:
        store.close()
    return path


@pytest.fixture
def big_app(big_db_template, tmp_path, tui_env):
    import shutil

    path = tmp_path / "big.db"
    shutil.copyfile(big_db_template, path)
    return make_app(path)


BIG_ORDER = [f"big-row-{i:06d}" for i in reversed(range(3000))]  # newest first


def assert_window(screen) -> None:
    """The rows held are a contiguous slice of the full order, and the table matches them."""
    ids = [r.id for r in screen.table.rows]
    start = BIG_ORDER.index(ids[0])
    assert ids == BIG_ORDER[start:start + len(ids)]
    assert table_ids(screen) == ids


async def test_big_j_loads_more_pages_and_G_g_jump(big_app):
    app = big_app
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        assert screen.table.total == 3000
        table = table_of(screen)
        assert len(screen.table.rows) == 50 and screen.table.more_after is not None
        await pilot.press("pagedown")
        start = table.cursor_row
        for _ in range(55 - start):
            await pilot.press("j")
        await settle(pilot)
        assert table.cursor_row == 55
        assert screen.current_row().id == BIG_ORDER[55]
        assert len(screen.table.rows) == 100  # the second page was loaded below
        assert_window(screen)
        await pilot.press("k")
        assert screen.current_row().id == BIG_ORDER[54]
        # G: the last page, the oldest trace highlighted.
        await pilot.press("G")
        await settle(pilot)
        assert screen.current_row().id == BIG_ORDER[-1]
        assert table.cursor_row == len(screen.table.rows) - 1 and len(screen.table.rows) <= logs_mod.MAX_ROWS
        assert_window(screen)
        assert "question big 0 " in screen_text(app) + " "
        # g: back to the newest.
        await pilot.press("g")
        await settle(pilot)
        assert screen.current_row().id == BIG_ORDER[0] and table.cursor_row == 0


async def test_big_table_never_holds_more_than_max_rows(big_app, monkeypatch):
    monkeypatch.setattr(logs_mod, "MAX_ROWS", 120)
    app = big_app
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        table = table_of(screen)

        def position() -> int:
            return BIG_ORDER.index(screen.current_row().id)

        # Down far (page by page): pages are appended below, the top of the window dropped.
        last = position()
        while last < 250:  # more than twice MAX_ROWS: the window is dropped and refilled
            await pilot.press("pagedown")
            await settle(pilot, timeout=5)
            assert table.row_count <= 120 and len(screen.table.rows) <= 120
            assert_window(screen)
            now = position()
            assert now > last, f"the cursor went from row {last} to row {now} on pagedown"
            last = now
        for _ in range(3):
            await pilot.press("j")
            await settle(pilot, timeout=5)
            assert position() == last + 1
            last += 1
        assert screen.table.more_before is not None and screen.table.rows[0].id != BIG_ORDER[0]
        # Back up: pages are loaded above again, and the bottom dropped, up to the newest row.
        while last > 0:
            await pilot.press("pageup")
            await settle(pilot, timeout=5)
            assert table.row_count <= 120 and len(screen.table.rows) <= 120
            assert_window(screen)
            now = position()
            assert now < last, f"the cursor went from row {last} to row {now} on pageup"
            last = now
        assert screen.table.rows[0].id == BIG_ORDER[0] and screen.table.more_before is None
        await pilot.press("j", "k", "k")
        assert screen.current_row().id == BIG_ORDER[0]


# --- no tracebacks ---------------------------------------------------------------------------------


async def test_failing_query_becomes_a_notification(app, monkeypatch):
    def boom(self, *a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(LogsQuery, "page", boom)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: any("query failed: disk on fire" in n for n in notifications(app)),
                       "the error notification")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, LogsScreen)
        assert app._exception is None
        # The toast is on screen, and keys still work.
        await wait_for(pilot, lambda: "disk on fire" in screen_text(app), "the toast")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert sum("disk on fire" in n for n in notifications(app)) >= 2
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter")
    assert app.return_code in (None, 0)

