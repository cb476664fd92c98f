"""The Prompts & models screen (`M`): the prompts list and its detail, the prompt editor (a new
prompt by keys, an edit as a new version, no version for an identical save, invalid fields
refused with the text kept, messages added, removed, reordered, their roles changed), the
history (diff with the changed word highlighted, marked diff, restore as a new version), the
render preview (strict mode names a missing variable), copy as JSON; 80x24 renders."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Select, TextArea

from store import Store
from store.prompts import prompt_history, save_prompt
from tui.screens.dialogs import MenuScreen, TextEditScreen
from tui.screens.prompt_history import (PromptDiffScreen, PromptHistoryScreen, PromptVersionScreen, change_summary,
                                        prompt_diff_text)
from tui.screens.prompts import (NEW_PROMPT, PromptEditorScreen, PromptsScreen, RenderPreviewScreen,
                                 format_kind, format_params, highlight_template, parse_params, response_format_from,
                                 template_variables)
from tui.widgets.line_input import LineInput
from tui.widgets.word_diff import ADDED, REMOVED, changed_spans
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

SYSTEM_V1 = "You are Acme Support Bot. Refunds are possible within 30 days of purchase."
SYSTEM_V2 = "You are Acme Support Bot. Refunds are possible within 14 days of purchase."
USER = "Customer: {{message}}"


def seed(path, versions: int = 1) -> None:
    """support-bot v1 (30 days) and, with ``versions`` 2, v2 (14 days); qa v1."""
    store = Store(path)
    try:
        save_prompt(store, "default", "support-bot", [{"role": "system", "content": SYSTEM_V1},
                                                      {"role": "user", "content": USER}],
                    model="offline", params={"temperature": 0.2}, author="maya")
        if versions >= 2:
            save_prompt(store, "default", "support-bot", [{"role": "system", "content": SYSTEM_V2},
                                                          {"role": "user", "content": USER}],
                        model="offline", params={"temperature": 0.2}, author="sam")
        save_prompt(store, "default", "qa", [{"role": "user", "content": "Q: {{question}}"}], author="maya")
    finally:
        store.close()


def history(path, slug: str = "support-bot"):
    store = Store(path)
    try:
        return prompt_history(store, "default", slug)
    finally:
        store.close()


async def open_prompts(pilot, slug: str | None = "support-bot") -> PromptsScreen:
    app = pilot.app
    await wait_rows(pilot)
    await pilot.press("M")
    await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "the Prompts screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.table.total is not None, "the prompts counted")
    await settle(pilot)
    if slug is not None:
        idx = next(i for i, r in enumerate(screen.table.rows) if r.slug == slug)
        screen.table.cursor_row = idx
        await pilot.pause()
    return screen


async def open_editor(pilot, key: str = "e") -> PromptEditorScreen:
    app = pilot.app
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, PromptEditorScreen), "the editor")
    await settle(pilot)
    return app.screen


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


# --- pure helpers -------------------------------------------------------------------------------------

def test_params_round_trip_and_errors():
    assert parse_params("temperature=0.2 max_tokens=200, stop=[\"\\n\"] user=bob") == {
        "temperature": 0.2, "max_tokens": 200, "stop": ["\n"], "user": "bob"}
    assert parse_params('{"top_p": 0.9}') == {"top_p": 0.9}
    assert parse_params("  ") == {}
    params = {"temperature": 0.2, "stop": ["a", "b"], "user": "bob", "note": "a b", "flag": "true", "n": "12",
              "empty": "", "none": None, "obj": {"k": [1, 2]}}
    assert parse_params(format_params(params)) == params
    assert parse_params(format_params({"a key": 1})) == {"a key": 1}  # not NAME=VALUE-able: JSON
    for bad, said in (("temperature", "expected name=value at column 1"), ("temperature=", "needs a value"),
                      ("stop=[1", "not valid JSON"), ("a=1 a=2", "given twice"), ('{"a": 1', "not valid JSON"),
                      ("[1]", "expected name=value")):
        with pytest.raises(ValueError, match=said):
            parse_params(bad)


def test_template_variables_and_highlight():
    t = "Hi {{name}} {{#items}}{{x}}{{/items}} {{! no}} {{{raw}}} {{a.b}} {{^empty}}-{{/empty}} {{& amp}} {{.}}"
    assert template_variables(t) == ["name", "items", "raw", "a", "empty", "amp"]
    text = highlight_template("Q: {{question}} {{#ctx}}{{.}}{{/ctx}}")
    styled = {text.plain[s.start:s.end]: str(s.style) for s in text.spans}
    assert styled["{{question}}"] == "bold magenta" and styled["{{#ctx}}"] == "bold blue"
    assert text.plain == "Q: {{question}} {{#ctx}}{{.}}{{/ctx}}"


def test_response_formats():
    assert response_format_from("none", "") is None
    assert response_format_from("json_object", "ignored") == {"type": "json_object"}
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    assert response_format_from("json_schema", json.dumps(schema)) == {
        "type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    named = {"name": "reply", "schema": schema, "strict": True}
    rf = response_format_from("json_schema", json.dumps(named))
    assert rf == {"type": "json_schema", "json_schema": named}
    assert format_kind(rf) == ("json_schema", json.dumps(named, indent=2))
    with pytest.raises(ValueError, match="not valid JSON"):
        response_format_from("json_schema", "{\"type\": ")


# --- the list ----------------------------------------------------------------------------------------

async def test_list_and_detail_show_the_latest_version(demo_db, tui_env):
    seed(demo_db, versions=2)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_prompts(pilot)
        assert [r.slug for r in screen.table.rows] == ["qa", "support-bot"]
        row = screen.table.current_row()
        assert (row.slug, row.latest.version, row.versions) == ("support-bot", 2, 2)
        text = screen_text(app)
        assert "support-bot" in text and "v2" in text and "offline" in text
        detail = static_text(screen.query_one("#p-detail-text"))
        assert "v2 of 2" in detail and "14 days" in detail and "temperature=0.2" in detail
        assert "▌ system" in detail and "▌ user" in detail and "{{message}}" in detail
        content = screen.query_one("#p-detail-text").content
        spans = [p for p in content.renderables if hasattr(p, "spans")]
        assert any(t.plain[s.start:s.end] == "{{message}}" and str(s.style) == "bold magenta"
                   for t in spans for s in t.spans), "the variable is highlighted"


async def test_empty_project_says_how_to_make_a_prompt(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot, slug=None)
        text = screen_text(app)
        assert "No prompts in project 'default' yet" in text and "bt-tui prompt save" in text


# --- the editor ---------------------------------------------------------------------------------------

async def test_new_prompt_by_keys(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot, slug=None)
        editor = await open_editor(pilot, "n")
        assert isinstance(app.focused, LineInput) and app.focused.id == "pe-slug"
        await type_text(pilot, "greeter")
        for _ in range(8):  # tab through model, format, params to the first message
            if isinstance(app.focused, TextArea) and app.focused.parent is editor.blocks[0]:
                break
            await pilot.press("tab")
        assert app.focused is editor.blocks[0].area
        await pilot.press("end")
        await type_text(pilot, " Be brief.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "back on the list")
        await settle(pilot)
        assert "saved greeter v1" in notifications(app)
        assert app.screen.table.current_row().slug == "greeter"
        (v1,) = history(demo_db, "greeter")
        assert v1.messages == [{"role": "system", "content": NEW_PROMPT[0]["content"] + " Be brief."},
                               {"role": "user", "content": "{{input}}"}]
        assert v1.model == "offline" and v1.author == "tester"


async def test_new_prompt_refuses_a_taken_slug_and_a_bad_one(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot, "n")
        await type_text(pilot, "qa")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: editor.query_one("#pe-error").display, "the error")
        assert "a prompt named 'qa' exists (v1)" in static_text(editor.query_one("#pe-error"))
        slug = editor.query_one("#pe-slug", LineInput)
        slug.value = "no spaces please"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "is not a prompt slug" in static_text(editor.query_one("#pe-error")),
                       "the slug error")
        assert isinstance(app.screen, PromptEditorScreen) and slug.value == "no spaces please"
        assert len(history(demo_db, "qa")) == 1


async def test_edit_saves_version_2_and_an_identical_save_makes_none(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot)
        assert app.focused is editor.blocks[-1].area  # the last message, ready to type
        await pilot.press("end")
        await type_text(pilot, " Thanks")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "back on the list")
        await settle(pilot)
        assert "saved support-bot v2" in notifications(app)
        versions = history(demo_db)
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].messages[1]["content"] == USER + " Thanks"
        assert versions[1].params == {"temperature": 0.2} and versions[1].model == "offline"
        await wait_for(pilot, lambda: app.screen.table.current_row().latest.version == 2, "v2 listed")
        await open_editor(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "back on the list")
        await settle(pilot)
        assert "no change: still v2 of support-bot" in notifications(app)
        assert len(history(demo_db)) == 2


async def test_invalid_fields_are_refused_with_the_text_kept(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot)
        error = editor.query_one("#pe-error")
        params = editor.query_one("#pe-params", LineInput)
        params.value = "temperature=0.2 max_tokens="
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert static_text(error).strip() == "params: max_tokens= needs a value (column 28)"
        assert app.focused is params and params.value == "temperature=0.2 max_tokens="
        params.value = "temperature=0.5"
        area = editor.blocks[1].area
        area.text = "Customer: {{#message}} unclosed"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert static_text(error).startswith("message 2 (user): the template does not parse")
        assert app.focused is area and area.text == "Customer: {{#message}} unclosed"
        area.text = "   "
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "message 2 (user): the template is empty" in static_text(error)
        area.text = USER
        fmt = editor.query_one("#pe-format", Select)
        fmt.value = "json_schema"
        await pilot.pause()
        schema = editor.query_one("#pe-schema", TextArea)
        assert schema.display
        schema.text = '{"type": "object", "properties": '
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert static_text(error).startswith("response format: not valid JSON")
        assert isinstance(app.screen, PromptEditorScreen) and len(history(demo_db)) == 1
        schema.text = '{"type": "object", "properties": {"answer": {"type": "string"}}}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "saved")
        v2 = history(demo_db)[-1]
        assert v2.params == {"temperature": 0.5}
        assert v2.response_format == {"type": "json_schema", "json_schema": {
            "name": "response", "schema": {"type": "object", "properties": {"answer": {"type": "string"}}}}}


async def test_messages_added_removed_reordered_and_roles_changed(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot)
        await pilot.press("ctrl+n")  # below the user message: an assistant turn
        await wait_for(pilot, lambda: len(editor.blocks) == 3 and app.focused is editor.blocks[2].area, "a new block")
        assert editor.blocks[2].role == "assistant"
        await type_text(pilot, "Sure")
        await pilot.press("ctrl+r")  # assistant -> system
        assert editor.blocks[2].role == "system"
        await pilot.press("ctrl+r")  # system -> user
        assert editor.blocks[2].role == "user"
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert [b.role for b in editor.blocks] == ["system", "user", "user"]
        assert editor.blocks[1].text == "Sure" and app.focused is editor.blocks[1].area
        assert "message 2 of 3" in static_text(editor.blocks[1].query_one(".mb-head"))
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert [b.text for b in editor.blocks] == ["Sure", SYSTEM_V1, USER]
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert [b.text for b in editor.blocks] == [SYSTEM_V1, "Sure", USER]
        editor.blocks[2].area.focus()
        await pilot.press("ctrl+g")  # remove the {{message}} turn
        await wait_for(pilot, lambda: len(editor.blocks) == 2, "the block removed")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "saved")
        assert history(demo_db)[-1].messages == [{"role": "system", "content": SYSTEM_V1},
                                                 {"role": "user", "content": "Sure"}]


async def test_escape_after_an_edit_asks_twice(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot)
        await type_text(pilot, "x")
        await pilot.press("escape")
        assert isinstance(app.screen, PromptEditorScreen)
        assert "escape again throws it away" in static_text(editor.query_one("#pe-error"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "left")
        assert len(history(demo_db)) == 1
        await open_editor(pilot)
        await pilot.press("escape")  # nothing typed: one escape leaves
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "left at once")


async def test_the_app_keys_never_leave_the_editor_from_a_field(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        editor = await open_editor(pilot)
        for field in ("#pe-model", "#pe-format", "#pe-params"):
            editor.query_one(field).focus()
            await pilot.press("q", "L", "M")
            await pilot.pause()
            assert app.is_running and app.screen is editor, field


async def test_edit_as_json_saves_a_new_version(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the JSON editor")
        area = app.screen.query_one(TextArea)
        value = json.loads(area.text)
        value["model"] = None
        value["oops"] = 1
        area.text = json.dumps(value)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "unknown key 'oops'" in static_text(app.screen.query_one("#edit-error"))
        del value["oops"]
        area.text = json.dumps(value)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "saved support-bot v2" in notifications(app), "saved")
        assert history(demo_db)[-1].model is None


async def test_edit_as_json_in_editor(demo_db, tui_env, monkeypatch):
    from tui_fixtures import record_suspends

    seed(demo_db)
    monkeypatch.setenv("EDITOR", "sed -i 's/30 days/7 days/'")
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        suspended = record_suspends(app, monkeypatch)
        await open_prompts(pilot)
        await pilot.press("E")
        await wait_for(pilot, lambda: "saved support-bot v2" in notifications(app), "saved")
        assert suspended == [True]
        assert history(demo_db)[-1].messages[0]["content"] == SYSTEM_V1.replace("30 days", "7 days")


# --- history -------------------------------------------------------------------------------------------

async def open_history(pilot) -> PromptHistoryScreen:
    app = pilot.app
    await pilot.press("h")
    await wait_for(pilot, lambda: isinstance(app.screen, PromptHistoryScreen) and app.screen.table.rows,
                   "the versions")
    await settle(pilot)
    return app.screen


async def test_history_lists_versions_and_diff_highlights_the_changed_word(demo_db, tui_env):
    seed(demo_db, versions=2)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        screen = await open_history(pilot)
        assert [v.version for v in screen.table.rows] == [2, 1]
        text = screen_text(app)
        assert "message 1 text" in text and "first version" in text and "sam" in text
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptDiffScreen), "the diff")
        body = app.screen.query_one("#t-text").content
        assert changed_spans(body) == ["30", "14"]
        styles = {body.plain[s.start:s.end]: s.style for s in body.spans if s.style in (ADDED, REMOVED)}
        assert styles == {"30": REMOVED, "14": ADDED}
        assert "v1 → v2" in body.plain and "message 1 text" in body.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptHistoryScreen), "back")
        await pilot.press("j")  # v1: nothing before it
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, PromptHistoryScreen)
        assert any("v1 is the first version" in n for n in notifications(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptVersionScreen), "v1 shown")
        shown = screen_text(app)
        assert "support-bot@1" in shown and "the latest is v2" in shown and "30 days" in shown


async def test_mark_two_versions_and_diff_them(demo_db, tui_env):
    seed(demo_db, versions=2)
    store = Store(demo_db)
    save_prompt(store, "default", "support-bot", [{"role": "system", "content": SYSTEM_V2},
                                                  {"role": "user", "content": USER}],
                model="gpt-mini", params={"temperature": 0.2}, author="maya")
    store.close()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        screen = await open_history(pilot)
        await pilot.press("space")  # mark v3, the cursor goes on to v2
        assert screen.marked == 3
        await pilot.press("j")  # v1
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptDiffScreen), "the diff")
        diff = app.screen
        assert (diff.a.version, diff.b.version) == (1, 3)
        body = diff.query_one("#t-text").content.plain
        assert "message 1 text" in body and "model offline→gpt-mini" in body


async def test_restore_v1_writes_v3_equal_to_v1(demo_db, tui_env):
    seed(demo_db, versions=2)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        screen = await open_history(pilot)
        await pilot.press("r")  # on the latest: nothing to restore
        await pilot.pause()
        assert not isinstance(app.screen, MenuScreen)
        await pilot.press("j", "r")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirmation")
        await pilot.press("1")
        await wait_for(pilot, lambda: "restored v1 of support-bot as v3" in notifications(app), "restored")
        await wait_for(pilot, lambda: [v.version for v in screen.table.rows] == [3, 2, 1], "v3 listed")
        versions = history(demo_db)
        assert versions[2].content() == versions[0].content() and versions[2].author == "tester"
        assert screen.summaries[3].startswith("= v1")
        assert screen.table.current_row().version == 3
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "the list")
        await wait_for(pilot, lambda: app.screen.table.current_row().latest.version == 3, "the list re-read")


def test_change_summary_and_diff_text():
    from store.prompts import PromptVersion

    a = PromptVersion("s", 1, [{"role": "system", "content": "one two"}], model="m1", params={})
    b = PromptVersion("s", 2, [{"role": "user", "content": "one three"}, {"role": "user", "content": "x"}],
                      model="m2", params={"t": 1})
    assert change_summary(None, a, []) == "first version"
    assert change_summary(a, b, []) == "message 1 role system→user, message 1 text, +message 2, model m1→m2, params"
    c = PromptVersion("s", 3, a.messages, model="m1", params={})
    assert change_summary(b, c, [a]) == ("= v1 · message 1 role user→system, message 1 text, -message 2,"
                                         " model m2→m1, params")
    text = prompt_diff_text(a, b)
    assert changed_spans(text)[:4] == ["system", "user", "two", "three"]
    assert "+ [user] x" in text.plain and "t=1" in text.plain


# --- render preview, copy ----------------------------------------------------------------------------

async def test_render_preview_strict_names_a_missing_variable(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the variables")
        area = app.screen.query_one(TextArea)
        assert json.loads(area.text) == {"message": ""}  # prefilled from the templates
        area.text = '{"question": "hi"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RenderPreviewScreen), "the preview")
        status = static_text(app.screen.query_one("#render-status"))
        assert "missing variable: {{message}}" in status
        assert "Customer: \n" in static_text(app.screen.query_one("#render-text"))  # rendered empty below
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "back")
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the variables again")
        area = app.screen.query_one(TextArea)
        assert json.loads(area.text) == {"question": "hi"}  # what was given last time
        area.text = '{"message": {"order": 42}}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RenderPreviewScreen), "the preview")
        assert "strict: every variable given" in static_text(app.screen.query_one("#render-status"))
        assert 'Customer: {"order":42}' in static_text(app.screen.query_one("#render-text"))


async def test_copy_as_json(demo_db, tui_env, tmp_path):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("copied" in n for n in notifications(app)), "copied")
    saved = json.loads((tmp_path / "cache" / "bt-tui" / "clipboard.txt").read_text(encoding="utf-8"))
    assert saved["slug"] == "support-bot" and saved["version"] == 1 and saved["messages"][1]["content"] == USER


async def test_tab_goes_to_the_models_and_back(demo_db, tui_env):
    from tui.screens.models import ModelsScreen

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot, slug=None)
        await pilot.press("tab")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen), "the models")
        assert len(app.screen_stack) == 2  # a top-level screen, as the prompts are
        await pilot.press("tab")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "the prompts")


# --- small terminals --------------------------------------------------------------------------------------

async def test_screens_render_at_80x24(demo_db, tui_env):
    seed(demo_db, versions=2)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_prompts(pilot)
        text = screen_text(app)
        assert "Prompts" in text and "support-bot" in text and "v2 of 2" in text and "q Quit" in text
        editor = await open_editor(pilot)
        text = screen_text(app)
        assert "Edit support-bot" in text and "model" in text and "params" in text and "▌ system" in text
        assert "temperature=0.2" in text and "^s Save" in text
        assert editor.blocks[-1].area.region.bottom <= 22  # the messages fit above the hint and key bar
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "the list")
        await open_history(pilot)
        text = screen_text(app)
        assert "v2" in text and "v1" in text and "message 1 text" in text
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptDiffScreen), "the diff")
        assert "v1 → v2" in screen_text(app) and "14" in screen_text(app)


async def test_every_binding_has_an_id(demo_db, tui_env):
    from textual.binding import Binding

    from tui.app import _HELP_SKIP_ACTIONS

    seed(demo_db)
    app = make_app(demo_db)

    def missing() -> list[str]:
        return [f"{type(a.node).__name__}:{k}" for k, a in app.screen.active_bindings.items()
                if isinstance(a.binding, Binding) and a.binding.description and not a.binding.id
                and a.node is not app and type(a.node).__name__ not in ("VerticalScroll", "Input", "LineInput",
                                                                       "TextArea", "Select", "SelectCurrent")
                and a.binding.description != "palette" and a.binding.action not in _HELP_SKIP_ACTIONS]

    async with app.run_test(size=SIZE) as pilot:
        await open_prompts(pilot)
        assert missing() == []
        await open_editor(pilot)
        assert missing() == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptsScreen), "the list")
        await open_history(pilot)
        assert missing() == []

