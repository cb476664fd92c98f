"""Pilot tests of the Trace screen: the lazy span tree, the detail tabs, and every key binding."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import orjson
import pytest

from store import Store
from store.audit import audit_log
from store.export import get_span
from store.spans import log_spans
from tui.app import BtTuiApp
from tui.screens.dialogs import HelpScreen, MenuScreen, PromptScreen
from tui.screens.logs import LogsScreen
from tui.screens.trace import CHILD_PAGE, TraceScreen
from tui.widgets.span_detail import TABS
from tui_fixtures import (  # noqa: F401  (fixtures)
    record_suspends,
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
    tui_env,
    wait_for,
    wait_rows,
)

FIRST = sample_roots()[0]  # root, classify_intent, search_kb, lookup_account, chat_completion (llm)
FIRST_TRACE = sorted(sample_trace(FIRST["root_span_id"]), key=lambda s: s["metrics"]["start"])
DEEP_ROOT = "c923c047d0ec4125"  # support_request > search_kb > embed_query (a grandchild)


@pytest.fixture
def app(demo_db, tui_env) -> BtTuiApp:
    return make_app(demo_db)


def tree_of(screen):
    return screen.query_one("#tree")


def node_name(node) -> str:
    return node.data["node"].name


def tab_text(screen, tab: str) -> str:
    """What a detail tab shows, as text: its value view, or its JSON tree (expanded nodes).

    The detail pane shows one tab at a time: switch to ``tab``, read it, switch back."""
    detail = screen.detail
    previous = detail.tab
    detail.render_tab(tab)
    try:
        tree = screen.query_one("#j-value")
        if tree.display:
            lines: list[str] = []

            def walk(node, depth: int) -> None:
                for child in node.children:
                    lines.append("  " * depth + str(child.label))
                    if child.is_expanded:
                        walk(child, depth + 1)

            walk(tree.root, 0)
            return "\n".join(lines)
        return static_text(screen.query_one("#v-value"), width=100)
    finally:
        detail.render_tab(previous)


async def open_trace(pilot, root_span_id: str = FIRST["root_span_id"]) -> TraceScreen:
    """From the Logs screen (after its rows load), open a trace and wait for its first span."""
    app = pilot.app
    await wait_rows(pilot)
    if root_span_id == FIRST["root_span_id"]:
        await pilot.press("enter")  # the first row is this trace
    else:
        app.push_screen(TraceScreen(root_span_id))
    await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen), "the trace screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.span is not None, "the first span's detail")
    await settle(pilot)
    return screen


def current_span_id(screen) -> str:
    node = tree_of(screen).cursor_node
    return node.data["node"].span_id


async def wait_detail(pilot, screen, span_id: str) -> None:
    await wait_for(pilot, lambda: screen.span is not None and screen.span["span_id"] == span_id,
                   f"the detail of span {span_id}")


# --- the tree ----------------------------------------------------------------------------------------


async def test_tree_shows_root_then_children_and_loads_grandchildren_lazily(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        tree = tree_of(screen)
        assert tree.show_root is False
        [root] = tree.root.children
        assert root.data["node"].span_id == FIRST["root_span_id"]
        assert root.is_expanded
        assert [node_name(c) for c in root.children] == [s["span_attributes"]["name"] for s in FIRST_TRACE[1:]]
        assert current_span_id(screen) == FIRST["root_span_id"]
        text = screen_text(app)
        assert f"trace {FIRST['root_span_id']} · 5 spans · 1.7s" in text
        lines = [line for line in text.splitlines() if "support_request" in line or "chat_completion" in line]
        assert "task support_request" in lines[0] and "847 tok" in lines[0]
        assert "llm  chat_completion" in lines[1]

        # A trace three levels deep: the grandchild is read only when its parent is expanded.
        await pilot.press("escape")
        app.push_screen(TraceScreen(DEEP_ROOT))
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen is not screen
                       and app.screen.span is not None, "the second trace")
        screen = app.screen
        await settle(pilot)
        root = tree_of(screen).root.children[0]
        search = next(c for c in root.children if node_name(c) == "search_kb")
        assert search.allow_expand and not search.is_expanded
        assert len(search.children) == 0 and search.data["loaded"] == 0  # not read from the db yet
        await pilot.press("n", "n")  # classify_intent, then search_kb
        assert current_span_id(screen) == search.data["node"].span_id
        await pilot.press("enter")  # expand it
        await settle(pilot)
        assert search.is_expanded
        assert [node_name(c) for c in search.children] == ["embed_query"]


async def test_n_steps_into_unloaded_children(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot, DEEP_ROOT)
        await pilot.press("n", "n")  # search_kb, children not loaded yet
        assert node_name(tree_of(screen).cursor_node) == "search_kb"
        await pilot.press("n")  # expands search_kb and steps on to its child
        await settle(pilot)
        assert node_name(tree_of(screen).cursor_node) == "embed_query"


@pytest.fixture
def wide_db(tmp_path) -> Path:
    """One trace whose root has 1,000 children."""
    path = tmp_path / "wide.db"
    base = 1_893_456_000.0
    spans = [root_span(0, prefix="wide", metrics={"start": base, "end": base + 2000})]
    root_id = spans[0]["span_id"]
    for i in range(1000):
        spans.append({
            "id": f"wide-child-{i:04d}", "span_id": f"wc-{i:04d}", "root_span_id": root_id,
            "span_parents": [root_id], "created": "2030-01-01T00:00:01Z",
            "input": f"child input {i}", "output": f"child output {i}",
            "metrics": {"start": base + 1 + i, "end": base + 1.5 + i},
            "span_attributes": {"name": f"child_{i:04d}", "type": "tool"},
        })
    store = Store(path)
    try:
        log_spans(store, "default", spans)
    finally:
        store.close()
    return path


async def test_thousand_children_load_a_page_at_a_time(wide_db, tui_env):
    app = make_app(wide_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot, "wide-000000")
        tree = tree_of(screen)
        root = tree.root.children[0]
        await wait_for(pilot, lambda: len(root.children) > 0, "the first page of children")
        await settle(pilot)
        kids = list(root.children)
        assert len(kids) == CHILD_PAGE + 1  # one page of span nodes, then the "more" node
        assert [node_name(c) for c in kids[:-1]] == [f"child_{i:04d}" for i in range(CHILD_PAGE)]
        more = kids[-1]
        assert "more_of" in more.data and "node" not in more.data
        assert str(more.label).startswith(f"… {1000 - CHILD_PAGE} more")
        assert len(tree_of(screen).visible_span_nodes()) == 1 + CHILD_PAGE  # nothing else was created
        # n stops at the last loaded child: it never loads more by itself.
        tree.move_cursor(kids[-2])
        await pilot.press("n")
        assert node_name(tree.cursor_node) == f"child_{CHILD_PAGE - 1:04d}"
        # Selecting the "more" node loads the next page.
        tree.move_cursor(more)
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        kids = list(root.children)
        assert len(kids) == 2 * CHILD_PAGE + 1
        assert node_name(kids[2 * CHILD_PAGE - 1]) == f"child_{2 * CHILD_PAGE - 1:04d}"
        assert str(kids[-1].label).startswith(f"… {1000 - 2 * CHILD_PAGE} more")
        assert more not in kids  # the old "more" node is gone


# --- moving between spans -----------------------------------------------------------------------------


async def test_n_p_move_between_spans_and_update_the_detail(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        assert "My payment failed" in tab_text(screen, "input")
        ids = [s["span_id"] for s in FIRST_TRACE]
        for expected in ids[1:]:
            await pilot.press("n")
            assert current_span_id(screen) == expected
            await wait_detail(pilot, screen, expected)
        # The llm span: chat messages rendered as a conversation with role headers.
        text = tab_text(screen, "input")
        assert "▌ system" in text and "▌ user" in text
        assert "Subject: Double charge" in text
        assert not text.lstrip().startswith("[")  # not the raw JSON list
        await pilot.press("2")
        out = tab_text(screen, "output")
        assert "▌ assistant" in out and "14-day grace period" in out
        await pilot.press("n")  # the last span: stays
        assert current_span_id(screen) == ids[-1]
        await pilot.press("p", "p")
        assert current_span_id(screen) == ids[-3]
        await wait_detail(pilot, screen, ids[-3])
        await pilot.press("1")
        assert "payment failed grace period downgrade" in tab_text(screen, "input")  # search_kb's query
        # j/k move the tree cursor too.
        await pilot.press("k")
        assert current_span_id(screen) == ids[-4]
        await pilot.press("j")
        assert current_span_id(screen) == ids[-3]


async def test_number_keys_and_brackets_switch_tabs(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        tabs = screen.query_one("#detail")
        assert tabs.active == "input"
        for i, tab in enumerate(TABS, start=1):
            await pilot.press(str(i))
            assert tabs.active == tab
        await pilot.press("right_square_bracket")  # wraps to the first tab
        assert tabs.active == "input"
        await pilot.press("left_square_bracket")
        assert tabs.active == "comments"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tabs.active == "metrics"
        await pilot.press("right_square_bracket")
        assert tabs.active == "scores"
        # What the tabs show for the root span.
        assert "Factuality" in tab_text(screen, "scores") and "0.903" in tab_text(screen, "scores")
        assert "user-229527" in tab_text(screen, "metadata") and "production" in tab_text(screen, "metadata")
        assert "847" in tab_text(screen, "metrics")
        assert "no comments yet" in tab_text(screen, "comments")
        assert "(none)" in tab_text(screen, "expected")
        await pilot.press("6")
        assert "Factuality" in screen_text(app)  # the active tab is what is on screen


async def test_find_moves_cursor_to_matching_span(app):
    target = FIRST_TRACE[3]  # lookup_account
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the find prompt")
        await paste(pilot, "Lookup_ACCOUNT")  # case-insensitive
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert current_span_id(screen) == target["span_id"]
        await wait_detail(pilot, screen, target["span_id"])
        assert "user-229527" in tab_text(screen, "input")
        # lookup_account is named by its own span, and found in the text of the llm span's prompt.
        status = static_text(screen.query_one("#trace-status"))
        assert "match 1 of 2 for 'Lookup_ACCOUNT'" in status
        marked = [c.data["node"].span_id for c in tree_of(screen).visible_span_nodes() if str(c.label).startswith("◆")]
        assert len(marked) == 2 and target["span_id"] in marked
        # n and p now go from match to match (and wrap); escape ends the find, then goes back.
        await pilot.press("n")
        await settle(pilot)
        second = current_span_id(screen)
        assert second in marked and second != target["span_id"]
        assert "match 2 of 2" in static_text(screen.query_one("#trace-status"))
        await pilot.press("n")
        await settle(pilot)
        assert current_span_id(screen) == target["span_id"]
        await pilot.press("escape")
        assert app.screen is screen and "match" not in static_text(screen.query_one("#trace-status"))
        assert not any(str(c.label).startswith("◆") for c in tree_of(screen).visible_span_nodes())
        await pilot.press("slash")  # the other key for find
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the find prompt")
        await paste(pilot, "no such text anywhere")
        await pilot.press("enter")
        await pilot.pause()
        assert any("nothing in this trace contains" in n for n in notifications(app))
        assert current_span_id(screen) == target["span_id"]


async def test_find_reveals_a_span_in_an_unloaded_subtree(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot, DEEP_ROOT)
        await pilot.press("f")
        await paste(pilot, "embed_query")
        await pilot.press("enter")
        await settle(pilot)
        node = tree_of(screen).cursor_node
        assert node_name(node) == "embed_query"
        assert node.parent.is_expanded and node_name(node.parent) == "search_kb"  # the path was expanded


async def test_open_span_from_spans_view_focuses_it(app):
    async with app.run_test(size=SIZE) as pilot:
        logs = await wait_rows(pilot)
        await pilot.press("T", "slash")
        await paste(pilot, "name = 'embed_query'")
        await pilot.press("enter")
        await settle(pilot)
        row = logs.current_row()
        assert row.name == "embed_query" and not row.is_root
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen), "the trace screen")
        screen = app.screen
        await settle(pilot)
        assert current_span_id(screen) == row.span_id


# --- copy, pager --------------------------------------------------------------------------------------


async def test_y_copies_span_and_trace_as_json_and_markdown(app, monkeypatch):
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    llm = FIRST_TRACE[-1]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n", "n", "n", "n")  # the llm span
        await wait_detail(pilot, screen, llm["span_id"])
        for n, item in enumerate(["span-json", "span-md", "trace-json", "trace-md"], start=1):
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the copy menu")
            assert [k for k, _ in app.screen.items][n - 1] == item
            await pilot.press(str(n))
            await wait_for(pilot, lambda: len(copied) == n, f"copy #{n}")
            assert app.screen is screen
        await wait_for(pilot, lambda: sum("copied" in msg for msg in notifications(app)) == 4, "four notices")
        await settle(pilot)
        assert sum("copied" in msg for msg in notifications(app)) == 4  # one each
    span_json, span_md, trace_json, trace_md = copied
    assert json.loads(span_json) == llm
    assert span_md.startswith("### chat_completion (llm)")
    assert "**user**: Subject: Double charge" in span_md
    assert "**Output**" in span_md and "**assistant**: Thanks for getting in touch" in span_md
    assert json.loads(trace_json) == FIRST_TRACE
    parts = trace_md.split("\n\n---\n\n")
    assert [p.splitlines()[0] for p in parts] == [
        f"### {s['span_attributes']['name']} ({s['span_attributes']['type']})" for s in FIRST_TRACE
    ]
    assert parts[-1] == span_md


@pytest.fixture
def pager(tmp_path, monkeypatch) -> Path:
    """$PAGER: a script that copies the file it is given (and records its name)."""
    out = tmp_path / "paged.txt"
    script = tmp_path / "fake-pager.sh"
    script.write_text(f'#!/bin/sh\ncp "$1" "{out}"\nprintf "%s" "$1" > "{out}.name"\n', encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGER", str(script))
    monkeypatch.delenv("EDITOR", raising=False)
    return out


async def test_o_opens_value_in_pager(app, pager, monkeypatch):
    suspended = record_suspends(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n", "n", "n", "n")
        llm = FIRST_TRACE[-1]
        await wait_detail(pilot, screen, llm["span_id"])
        # o: the value as text (strings with their line breaks, a chat as a conversation).
        await pilot.press("1", "o")
        await wait_for(pilot, lambda: pager.exists(), "the pager to run")
        assert suspended == [True]
        paged = pager.read_text(encoding="utf-8")
        assert "\\n" not in paged and '\\"' not in paged  # no JSON escapes
        for m in llm["input"]:
            if isinstance(m.get("content"), str):
                assert m["content"] in paged  # whole, line breaks and all
        assert f"── {llm['input'][0]['role']}" in paged
        tmp = Path(Path(str(pager) + ".name").read_text(encoding="utf-8"))
        assert not tmp.exists()  # the temp file is cleaned up
        # O: the raw JSON, exactly.
        pager.unlink()
        await pilot.press("O")
        await wait_for(pilot, lambda: pager.exists(), "the pager (raw JSON)")
        assert json.loads(pager.read_text(encoding="utf-8")) == llm["input"]
        assert pager.read_text(encoding="utf-8") == orjson.dumps(llm["input"], option=orjson.OPT_INDENT_2).decode()
        assert suspended == [True, True]
        # The output tab of the root: a different value (an object: its fields, as text).
        pager.unlink()
        await pilot.press("p", "p", "p", "p", "2")
        await wait_detail(pilot, screen, FIRST["span_id"])
        await pilot.press("o")
        await wait_for(pilot, lambda: pager.exists(), "the pager to run again")
        paged = pager.read_text(encoding="utf-8")
        assert paged.startswith("answer:\n") and FIRST["output"]["answer"].split("\n")[0] in paged
        assert "  " + FIRST["output"]["answer"].split("\n")[-1] in paged  # its lines, indented under the key
        pager.unlink()
        await pilot.press("O")
        await wait_for(pilot, lambda: pager.exists(), "the pager (raw JSON) again")
        assert json.loads(pager.read_text(encoding="utf-8")) == FIRST["output"]
        assert app.screen is screen and app.is_running


# --- comments, tags ------------------------------------------------------------------------------------


async def test_c_comment_writes_to_db(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n")
        span = FIRST_TRACE[1]
        await wait_detail(pilot, screen, span["span_id"])
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the comment prompt")
        assert "classify_intent" in app.screen.title_text
        await paste(pilot, "intent should be billing_issue")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("7")
        await wait_for(pilot, lambda: "intent should be billing_issue" in tab_text(screen, "comments"),
                       "the comment in the Comments tab")
        assert "tester" in tab_text(screen, "comments")
    store = Store(demo_db)
    try:
        comments = get_span(store, "default", span["id"])["comments"]
        assert [(c["text"], c["author"]) for c in comments] == [("intent should be billing_issue", "tester")]
        assert audit_log(store, span["id"])[0]["field"] == "comment"
    finally:
        store.close()


async def test_t_tags_write_to_db(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the tags prompt")
        inp = app.screen.query_one("#prompt-input")
        assert inp.value == ", ".join(FIRST["tags"])
        await pilot.press("end", *", needs-fix", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.span["tags"] == FIRST["tags"] + ["needs-fix"], "the new tags")
        assert "needs-fix" in tab_text(screen, "metadata")
    store = Store(demo_db)
    try:
        assert get_span(store, "default", FIRST["id"])["tags"] == FIRST["tags"] + ["needs-fix"]
        entry = audit_log(store, FIRST["id"])[0]
        assert entry["field"] == "tags" and entry["author"] == "tester"
        assert entry["after"] == FIRST["tags"] + ["needs-fix"]
    finally:
        store.close()


# --- leaving, help -------------------------------------------------------------------------------------


async def test_help_lists_trace_keys_and_escape_goes_back(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        text = static_text(app.screen.query_one("#help-text"))
        assert "Trace screen" in text and "Span tree" in text
        for desc in ("Back", "Next span", "Prev span", "Find", "Copy", "Open in pager", "Comment", "Tags",
                     "Next tab", "Prev tab", "Input", "Comments", "Down", "Up"):
            assert f"  {desc}" in text, desc
        await pilot.press("escape")  # closes the help
        assert app.screen is screen
        await pilot.press("escape")  # back to the Logs screen, on the row that was opened
        assert isinstance(app.screen, LogsScreen)
        assert app.screen.current_row().id == FIRST["id"]
        assert app.is_running


async def test_error_leads_the_output_tab_metrics_read_as_times_and_q_goes_back(app):
    rows = sample_rows()
    failed = next(s for s in rows if s.get("error") and s.get("span_parents") and s.get("metrics", {}).get("start"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot, failed["root_span_id"])
        screen.reveal(failed["span_id"])
        await settle(pilot)
        await wait_detail(pilot, screen, failed["span_id"])
        out = tab_text(screen, "output")
        assert out.startswith("error")
        error_text = failed["error"] if isinstance(failed["error"], str) else json.dumps(failed["error"])
        assert error_text.split()[0] in out
        metrics = tab_text(screen, "metrics")
        start = failed["metrics"]["start"]
        assert metrics.startswith("duration") and "UTC" in metrics and f"({start})" in metrics
        await pilot.press("q")  # on a detail screen q goes back, it does not quit
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, TraceScreen)


async def test_store_errors_become_notices_and_a_missing_trace_says_so(app, monkeypatch):
    """Every read of the trace screen runs in a worker: a failure is a one-line notice, never a
    traceback, and the screen stays usable."""
    import tui.screens.trace as trace_mod

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_trace(pilot, DEEP_ROOT)
        monkeypatch.setattr(trace_mod, "children_of", boom)
        monkeypatch.setattr(trace_mod, "find_in_trace", boom)
        await pilot.press("n", "n", "enter")  # search_kb: its children cannot be read
        await wait_for(pilot, lambda: any("could not read the spans under search_kb: disk on fire" in n
                                          for n in notifications(app)), "the children notice")
        await pilot.press("f")
        await paste(pilot, "anything")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("find failed: disk on fire" in n for n in notifications(app)),
                       "the find notice")
        await settle(pilot)
        assert app.is_running and app.screen is screen and app._exception is None
        await pilot.press("p")  # keys still work
        assert node_name(tree_of(screen).cursor_node) == "classify_intent"
        # A trace that is not there: the status line says so; escape goes back.
        await pilot.press("escape")
        app.push_screen(TraceScreen("no-such-trace"))

        def status() -> str:
            found = app.screen.query("#trace-status")
            return static_text(found.first()) if found else ""

        await wait_for(pilot, lambda: "no trace 'no-such-trace'" in status(), "the missing-trace status")
        assert "press escape to go back" in status()
        await pilot.press("escape")
        assert isinstance(app.screen, LogsScreen)


# --- orphans and cycles ------------------------------------------------------------------------------


async def test_orphan_and_cycle_spans_show_under_the_root_marked(tmp_path, tui_env):
    from test_traces_tree import span as tspan

    path = tmp_path / "odd.db"
    store = Store(path)
    try:
        log_spans(store, "default", [tspan("R", None, 0, "root"), tspan("C", "R", 1, "child"),
                                     tspan("O", "gone", 2, "lost child"), tspan("A", "B", 3, "loop a"),
                                     tspan("B", "A", 4, "loop b")])
    finally:
        store.close()
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "the trace")
        screen = app.screen
        await settle(pilot)
        tree = tree_of(screen)
        root = tree.root.children[0]
        assert node_name(root) == "root"
        under = {node_name(c): str(c.label) for c in root.children}
        assert list(under) == ["child", "lost child", "loop a"]
        assert "parent missing" in under["lost child"] and "parent missing" not in under["child"]
        assert "parent cycle" in under["loop a"]
        text = screen_text(app)
        assert "lost child" in text and "loop a" in text
        # n walks into the cycle once, and on to its end: nothing loops.
        await pilot.press("n", "n", "n", "n")
        await settle(pilot)
        assert node_name(tree.cursor_node) == "loop b"
        await pilot.press("n")
        await settle(pilot)
        assert node_name(tree.cursor_node) == "loop b"
        # find reaches a span inside the cycle.
        await pilot.press("p", "p", "p")
        await pilot.press("f")
        await paste(pilot, "loop b")
        await pilot.press("enter")
        await settle(pilot)
        assert node_name(tree.cursor_node) == "loop b"


# --- reading the detail ---------------------------------------------------------------------------------


async def test_one_tab_key_reaches_the_detail_and_it_scrolls(app):
    """From the tree, one `tab` puts the focus in the value (the tab strip is for 1-7 and [ ]);
    the value scrolls with the arrow keys."""
    llm = FIRST_TRACE[-1]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n", "n", "n", "n")
        await wait_detail(pilot, screen, llm["span_id"])
        await settle(pilot)
        value = screen.query_one("#s-value")
        assert value.max_scroll_y > 0  # the chat is longer than the pane
        await pilot.press("tab")
        assert app.focused is value
        for n in (1, 2, 3):  # (keys a moment apart: Textual scrolls from where the last scroll ended)
            await pilot.press("down")
            await wait_for(pilot, lambda: value.scroll_y >= n, f"the value to scroll down {n}")
        await pilot.press("shift+tab")
        assert app.focused is tree_of(screen)


async def test_g_and_G_go_to_the_root_and_the_last_span(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert current_span_id(screen) == FIRST_TRACE[-1]["span_id"]
        await wait_detail(pilot, screen, FIRST_TRACE[-1]["span_id"])
        await pilot.press("g")
        await settle(pilot)
        assert current_span_id(screen) == FIRST["span_id"]
        await wait_detail(pilot, screen, FIRST["span_id"])


async def test_long_strings_in_the_json_view_are_shown_whole(app):
    """search_kb's output (a list of objects) is a JSON tree: its long snippets wrap onto
    lines of their own instead of being cut at the pane's edge."""
    search = FIRST_TRACE[2]
    assert search["span_attributes"]["name"] == "search_kb"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_trace(pilot)
        await pilot.press("n", "n", "2")
        await wait_detail(pilot, screen, search["span_id"])
        await settle(pilot)
        assert screen.query_one("#j-value").display
        x = tree_of(screen).outer_size.width
        pane = " ".join(line[x:] for line in screen_text(app).splitlines())
        for ch in '│├└▼▶▽▷"':
            pane = pane.replace(ch, " ")
        first = search["output"][0]["snippet"]
        assert " ".join(first.split()) in " ".join(pane.split())  # on screen, whole


async def test_find_opens_the_tab_that_holds_the_match(app):
    classify = FIRST_TRACE[1]
    assert classify["span_attributes"]["name"] == "classify_intent"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trace(pilot)
        tabs = screen.query_one("#detail")
        for text, span, tab in (("fasttext-intent", classify, "metadata"),      # in its metadata only
                                ("billing_dispute", classify, "output"),        # in its output
                                ("new card ending in", FIRST_TRACE[-1], "output")):
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the find prompt")
            await paste(pilot, text)
            await pilot.press("enter")
            await settle(pilot)
            if current_span_id(screen) != span["span_id"]:  # another span matched first: step to it
                for _ in range(len(screen.matches)):
                    await pilot.press("n")
                    await settle(pilot)
                    if current_span_id(screen) == span["span_id"]:
                        break
            assert current_span_id(screen) == span["span_id"], text
            await wait_detail(pilot, screen, span["span_id"])
            assert tabs.active == tab and screen.detail.tab == tab, text
            await pilot.press("escape")  # end the find
        # A match in the input: back to the Input tab.
        await pilot.press("f")
        await paste(pilot, "Double charge")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail.tab == "input"
