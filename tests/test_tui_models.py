"""The Models list (tab from the Prompts screen): the offline model first and labelled, each
key env NAME with "set"/"missing" (never the value); add (a key pasted where its NAME belongs is
refused with the store's message, the form keeps what was typed), edit, remove (never the
offline model), test with one call (a fake client; the real client against tests/llm_server.py on
127.0.0.1; the offline model); 80x24 renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest

from store import Store
from store.errors import NotFound
from store.model_configs import add_model, get_model, list_models
from tui.screens.dialogs import MenuScreen
from llm_server import llm_server  # noqa: F401  (fixture)
from tui.screens.models import OFFLINE_LABEL, TEST_MESSAGES, ModelFormScreen, ModelsScreen
from tui.widgets.line_input import LineInput
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    quick_pilot,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

SECRET = "sk-test-0123456789abcdefghijklmnopqrstuv"


def seed(path) -> None:
    store = Store(path)
    try:
        add_model(store, "gpt-mini", "openai/gpt-4o-mini", key_env="BT_TEST_OPENAI_KEY", input_price=0.15,
                  output_price=0.6, params={"temperature": 0.2}, author="maya")
        add_model(store, "local", "ollama/llama3", api_base="http://127.0.0.1:11434", author="maya")
    finally:
        store.close()


def models(path) -> list:
    store = Store(path)
    try:
        return list_models(store)
    finally:
        store.close()


def model(path, name: str):
    store = Store(path)
    try:
        return get_model(store, name)
    finally:
        store.close()


async def open_models(pilot, name: Optional[str] = None) -> ModelsScreen:
    app = pilot.app
    await wait_rows(pilot)
    await pilot.press("M")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "PromptsScreen", "the Prompts screen")
    await pilot.press("tab")
    await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen), "the Models screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.table.total is not None, "the models counted")
    await settle(pilot)
    if name is not None:
        screen.table.cursor_row = next(i for i, m in enumerate(screen.table.rows) if m.name == name)
        await pilot.pause()
    return screen


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_offline_first_and_key_env_set_or_missing_never_the_value(demo_db, tui_env, monkeypatch):
    seed(demo_db)
    monkeypatch.setenv("BT_TEST_OPENAI_KEY", SECRET)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_models(pilot)
        assert [m.name for m in screen.table.rows] == ["offline", "gpt-mini", "local"]
        text = screen_text(app)
        lines: dict = {}
        for line in text.splitlines():  # the table's rows (the detail pane below starts with a name too)
            if line.split() and line.split()[0] in ("offline", "gpt-mini", "local"):
                lines.setdefault(line.split()[0], line)
        assert OFFLINE_LABEL in lines["offline"]
        assert "BT_TEST_OPENAI_KEY set" in lines["gpt-mini"] and "$0.15 / $0.6" in lines["gpt-mini"]
        assert "no key env" in lines["local"] and "http://127.0.0.1:11434" in lines["local"]
        assert SECRET not in text
        monkeypatch.delenv("BT_TEST_OPENAI_KEY")
        await pilot.press("r")
        await settle(pilot)
        assert "BT_TEST_OPENAI_KEY missing" in screen_text(app)
        screen.table.cursor_row = 1
        await pilot.pause()
        detail = static_text(screen.query_one("#m-detail-text"))
        assert "openai/gpt-4o-mini" in detail and "temperature=0.2" in detail and "BT_TEST_OPENAI_KEY missing" in detail


async def fill(pilot, form: ModelFormScreen, **values: str) -> None:
    for key, value in values.items():
        form.field(key).value = value
    await pilot.pause()


async def test_add_refuses_a_pasted_key_and_keeps_the_form(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelFormScreen), "the form")
        form = app.screen
        assert app.focused is form.field("name")
        await type_text(pilot, "mini")
        await pilot.press("enter")  # enter moves on to the next field
        assert app.focused is form.field("model")
        await fill(pilot, form, model="openai/gpt-4o-mini", key_env=SECRET, input_price="0.15", output_price="0.6",
                   params="temperature=0.3")
        await pilot.press("ctrl+s")
        error = form.query_one("#mf-error")
        await wait_for(pilot, lambda: error.display, "the refusal")
        said = static_text(error)
        assert "takes the NAME of the environment variable" in said and "never the key itself" in said
        assert isinstance(app.screen, ModelFormScreen) and app.focused is form.field("key_env")
        assert form.field("key_env").value == SECRET and form.field("model").value == "openai/gpt-4o-mini"
        assert [m.name for m in models(demo_db)] == ["offline"]
        form.field("input_price").value = "cheap"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "input price: a number of USD per million tokens" in static_text(error)
        await fill(pilot, form, input_price="$0.15", key_env="OPENAI_API_KEY")
        form.field("params").focus()
        await pilot.press("enter")  # on the last field: saves
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen), "back on the list")
        await settle(pilot)
        assert any("model 'mini' added" in n for n in notifications(app))
        cfg = model(demo_db, "mini")
        assert (cfg.model, cfg.key_env, cfg.input_price, cfg.output_price, cfg.params) == (
            "openai/gpt-4o-mini", "OPENAI_API_KEY", 0.15, 0.6, {"temperature": 0.3})
        assert app.screen.table.current_row().name == "mini"


async def test_add_refuses_a_taken_name_and_the_offline_name(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelFormScreen), "the form")
        form = app.screen
        await fill(pilot, form, name="gpt-mini", model="openai/gpt-4o")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "a model named 'gpt-mini' exists" in static_text(form.query_one("#mf-error")),
                       "the refusal")
        assert model(demo_db, "gpt-mini").model == "openai/gpt-4o-mini"  # not replaced
        await fill(pilot, form, name="offline")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "is the built-in offline model" in static_text(form.query_one("#mf-error")),
                       "the refusal")
        assert app.focused is form.field("name")


async def test_edit_saves_the_changes(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot, "gpt-mini")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelFormScreen), "the form")
        form = app.screen
        assert form.field("name").disabled and form.field("name").value == "gpt-mini"
        assert form.field("params").value == "temperature=0.2" and form.field("input_price").value == "0.15"
        await fill(pilot, form, model="openai/gpt-4.1-mini", output_price="", params="temperature=0 seed=7")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen), "back on the list")
        assert any("model 'gpt-mini' saved" in n for n in notifications(app))
        cfg = model(demo_db, "gpt-mini")
        assert (cfg.model, cfg.input_price, cfg.output_price, cfg.params) == (
            "openai/gpt-4.1-mini", 0.15, None, {"temperature": 0, "seed": 7})
        screen = app.screen
        screen.table.cursor_row = 0
        await pilot.pause()
        await pilot.press("e")  # the offline model: nothing to edit
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)
        assert any("'offline' is built in" in n for n in notifications(app))


async def test_remove_and_the_offline_model_stays(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_models(pilot, "local")
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirmation")
        await pilot.press("1")
        await wait_for(pilot, lambda: [m.name for m in screen.table.rows] == ["offline", "gpt-mini"], "removed")
        with pytest.raises(NotFound):
            model(demo_db, "local")
        screen.table.cursor_row = 0
        await pilot.pause()
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)
        assert any("the built-in 'offline' model cannot be removed" in n for n in notifications(app))
        assert [m.name for m in models(demo_db)] == ["offline", "gpt-mini"]


# --- test calls -------------------------------------------------------------------------------------------

@dataclass
class FakeCall:
    output: Optional[str] = None
    error: Optional[str] = None
    latency: float = 0.25
    prompt_tokens: int = 7
    completion_tokens: int = 1
    tokens: int = 8
    cost: float = 0.0000012


class FakeClient:
    def __init__(self, call: FakeCall) -> None:
        self.call = call
        self.requests: list = []

    async def warm_up(self) -> None:  # as LLMClient's: nothing to load here
        pass

    async def complete(self, spec, messages, params=None, response_format=None, on_delta=None):
        self.requests.append((spec, messages, params))
        return self.call


async def test_t_shows_latency_tokens_and_cost_or_the_error(demo_db, tui_env, monkeypatch):
    seed(demo_db)
    client = FakeClient(FakeCall(output="OK"))
    monkeypatch.setattr(ModelsScreen, "connect", staticmethod(lambda screen, cfg: (client, cfg.name)))
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_models(pilot, "gpt-mini")
        await pilot.press("t")
        await wait_for(pilot, lambda: not isinstance(screen.tests.get("gpt-mini"), (str, type(None))), "the result")
        await pilot.pause()
        detail = static_text(screen.query_one("#m-detail-text"))
        assert "✓ 250 ms · 8 tokens (7 in, 1 out) · $0.000001 · answer: 'OK'" in detail
        spec, messages, params = client.requests[0]
        assert spec == "gpt-mini" and messages[0]["role"] == "user" and params == {"temperature": 0.2}
        client.call = FakeCall(error="AuthenticationError: invalid api key", latency=0.1)
        await pilot.press("t")
        await wait_for(pilot, lambda: not screen.tests["gpt-mini"].ok if not isinstance(
            screen.tests["gpt-mini"], str) else False, "the error")
        await pilot.pause()
        detail = static_text(screen.query_one("#m-detail-text"))
        assert "✗ AuthenticationError: invalid api key" in detail
        assert any("gpt-mini: ✗ AuthenticationError" in n for n in notifications(app))


async def test_t_calls_a_local_openai_compatible_server(demo_db, tui_env, monkeypatch, llm_server):
    """The real client (litellm over HTTP) against tests/llm_server.py on 127.0.0.1."""
    base_url = llm_server.base_url
    monkeypatch.setenv("BT_TEST_LOCAL_KEY", SECRET)
    store = Store(demo_db)
    add_model(store, "local-fake", "openai/fake-model", api_base=base_url, key_env="BT_TEST_LOCAL_KEY")
    store.close()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_models(pilot, "local-fake")
        await pilot.press("t")
        await wait_for(pilot, lambda: not isinstance(screen.tests.get("local-fake"), (str, type(None))),
                       "the answer", timeout=60)
        result = screen.tests["local-fake"]
        assert result.ok, result.text
        assert result.text == "echo: " + TEST_MESSAGES[0]["content"]  # the server's answer
        words = len(TEST_MESSAGES[0]["content"].split())
        assert (result.prompt_tokens, result.completion_tokens) == (words, words + 1)  # the server counts words
        detail = static_text(screen.query_one("#m-detail-text"))
        assert "✓" in detail and f"{2 * words + 1} tokens ({words} in, {words + 1} out)" in detail
        assert SECRET not in screen_text(app)
    (request,) = llm_server.requests
    assert request["_headers"]["authorization"] == f"Bearer {SECRET}"  # the key went to the server, nowhere else


async def test_models_render_at_80x24(demo_db, tui_env, monkeypatch):
    seed(demo_db)
    monkeypatch.delenv("BT_TEST_OPENAI_KEY", raising=False)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_models(pilot)
        text = screen_text(app)
        assert "Models" in text and "offline · no key, no network" in text and "BT_TEST_OPENAI_KEY missing" in text
        assert "t Test" in text and "q Quit" in text
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelFormScreen), "the form")
        text = screen_text(app)
        for label in ("name", "litellm model", "api base", "key env NAME", "input $/Mtok", "output $/Mtok", "params"):
            assert label in text, label
        assert isinstance(app.focused, LineInput)


async def test_t_on_the_offline_model_answers_from_the_logs(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_models(pilot, "offline")
        await pilot.press("t")
        await wait_for(pilot, lambda: not isinstance(screen.tests.get("offline"), (str, type(None))), "the answer",
                       timeout=60)
        result = screen.tests["offline"]
        assert result.ok and result.text and result.tokens > 0 and result.cost == 0.0
        assert "✓" in static_text(screen.query_one("#m-detail-text"))
