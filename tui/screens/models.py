"""The Models list (`tab` from the Prompts screen): the database's model configurations, the
built-in offline model first ("offline · no key, no network"). Each shows its litellm model
string, api base, the NAME of the environment variable holding its key and whether that is set
in this environment ("set" / "missing": never the value), prices and default params.

`n` adds one, `e` edits one, `delete` removes one (never the offline model), `t` tests one
with a real call through ``engine.llm.LLMClient`` in an async worker (litellm is imported in a
thread first, so the event loop never waits on it): latency, tokens and cost, or the error.
A store error (``ModelConfigError``: a key pasted where its NAME belongs) is shown in the form,
which keeps what was typed."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Header, Input, Label, Static

from store.audit import default_author
from store.errors import NotFound
from store.model_configs import OFFLINE_NAME, ModelConfig, add_model, get_model, list_models, remove_model
from tui.actions import write_in_thread
from tui.format import ago
from tui.messages import WriteDone
from tui.registry import BtScreen, Command, register_screen
from tui.screens.dialogs import MenuScreen
from tui.screens.prompts import format_params, parse_params, tabs_line
from tui.widgets.keybar import KeyBar
from tui.widgets.line_input import LineInput
from tui.widgets.paged_table import NARROW, Column, ListSource, PagedTable

OFFLINE_LABEL = "offline · no key, no network"
TEST_MESSAGES = [{"role": "user", "content": "Reply with one word: OK"}]
TEST_TIMEOUT = 60.0


# --- what a row shows ------------------------------------------------------------------------------

def key_status(cfg: ModelConfig, environ: Optional[dict] = None) -> Text:
    """Where the key comes from and whether it is there: ``OPENAI_API_KEY set`` / ``missing``
    (the value is never read into the text), or the offline label."""
    env = os.environ if environ is None else environ
    if cfg.offline:
        return Text(OFFLINE_LABEL, style="green")
    if not cfg.key_env:
        return Text("no key env", style="dim")
    t = Text(cfg.key_env + " ")
    t.append("set", style="bold green") if env.get(cfg.key_env) else t.append("missing", style="bold red")
    return t


def _price(p: Optional[float]) -> str:
    if p is None:
        return "?"
    return f"${p:g}"


def prices_text(cfg: ModelConfig) -> Text:
    """USD per million tokens in / out; litellm's price list when not configured."""
    if cfg.offline:
        return Text("free", style="dim")
    if cfg.input_price is None and cfg.output_price is None:
        return Text("litellm's", style="dim")
    return Text(f"{_price(cfg.input_price)} / {_price(cfg.output_price)}")


def model_columns() -> list[Column]:
    return [
        Column("name", "name", lambda m, w: Text(m.name, style="bold"), 16, narrow=((NARROW, 10),)),
        Column("model", "litellm model", lambda m, w: Text(m.model)),
        Column("key", "key", lambda m, w: key_status(m), 28),
        Column("api_base", "api base", lambda m, w: Text(m.api_base or "", style="dim"), 24, show_from=110),
        Column("prices", "$/Mtok in/out", lambda m, w: prices_text(m), 14, show_from=NARROW),
        Column("params", "params", lambda m, w: Text(format_params(m.params), style="dim"), 20, show_from=130),
    ]


@dataclass
class TestResult:
    """One test call: what came back (or the error), how long, how many tokens, the cost."""

    ok: bool
    text: str = ""  # the answer, or the error line
    latency: Optional[float] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    tokens: Optional[int] = None
    cost: Optional[float] = None
    when: float = 0.0

    def line(self) -> Text:
        t = Text()
        if not self.ok:
            t.append("✗ ", style="bold red")
            t.append(self.text, style="red")
            if self.latency is not None:
                t.append(f"  ({self.latency * 1000:.0f} ms)", style="dim")
            return t
        t.append("✓ ", style="bold green")
        t.append(f"{self.latency * 1000:.0f} ms" if self.latency is not None else "? ms")
        toks = self.tokens if self.tokens is not None else (
            (self.prompt_tokens or 0) + (self.completion_tokens or 0) if self.prompt_tokens is not None else None)
        t.append(f" · {toks} tokens" if toks is not None else " · tokens unknown")
        if self.prompt_tokens is not None or self.completion_tokens is not None:
            t.append(f" ({self.prompt_tokens or 0} in, {self.completion_tokens or 0} out)", style="dim")
        t.append(f" · ${self.cost:.6f}" if self.cost is not None else " · cost unknown")
        t.append(" · answer: ", style="dim")
        answer = " ".join((self.text or "").split())
        t.append(repr(answer[:80] + ("…" if len(answer) > 80 else "")))
        return t


def model_detail(cfg: ModelConfig, test: Any = None) -> Group:
    head = Text()
    head.append(cfg.name, style="bold")
    head.append(f"  {cfg.model}", style="cyan")
    if cfg.builtin:
        head.append("  built-in", style="dim")
    elif cfg.created:
        head.append(f"  added {ago(cfg.created)} by {cfg.author or '?'}", style="dim")
    rows = Text()
    for label, value in (("api base", Text(cfg.api_base or "(the provider's default)", style="" if cfg.api_base
                                            else "dim")),
                         ("key", key_status(cfg)),
                         ("prices", prices_text(cfg).append(" USD per million tokens in / out", style="dim")
                          if not cfg.offline else prices_text(cfg)),
                         ("params", Text(format_params(cfg.params) or "none", style="" if cfg.params else "dim"))):
        rows.append(f"{label:<9}", style="dim")
        rows.append_text(value)
        rows.append("\n")
    if cfg.offline:
        rows.append("answers from the project's own logs (the logged output of the most similar input):"
                    " deterministic, no key, no network\n", style="dim")
    test_line = Text("test     ", style="dim")
    if test is None:
        test_line.append("t makes one real call with a tiny prompt", style="dim")
    elif test == "running":
        test_line.append("calling…", style="yellow")
    else:
        test_line.append_text(test.line())
    return Group(head, rows, test_line)


# --- the list --------------------------------------------------------------------------------------

class ModelsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="models.down"),
        Binding("k", "cursor_up", "Up", show=False, id="models.up"),
    ]


def _connect(screen: "ModelsScreen", cfg: ModelConfig) -> tuple[Any, Any]:
    """(the model client a test call goes through, the model's spec for it). The offline
    model answers from the project's logs."""
    from engine.llm import LLMClient
    from engine.runs import model_spec

    kwargs: dict = {"concurrency": 1, "timeout": TEST_TIMEOUT, "max_retries": 0}
    try:
        from engine.offline import OfflineModel

        kwargs["offline"] = OfflineModel(screen.store, screen.app.project)
    except ImportError:
        pass
    return LLMClient(**kwargs), model_spec(cfg)


def _import_litellm() -> None:
    """(In a thread.) litellm takes seconds to import: never on the event loop."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm  # noqa: F401
    except ImportError:
        pass


class ModelsScreen(BtScreen):
    """The model configurations (database-wide), the offline model first."""

    BINDINGS = [
        Binding("n", "add", "Add", id="models.add"),
        Binding("e", "edit", "Edit", id="models.edit"),
        Binding("enter", "edit", "Edit", show=False, id="models.open"),
        Binding("delete,x", "remove", "Remove", id="models.remove"),
        Binding("t", "test", "Test", id="models.test"),
        Binding("tab", "prompts", "Prompts", id="models.prompts"),
        Binding("r", "refresh", "Refresh", show=False, id="models.refresh"),
        Binding("g,home", "top", "First row", show=False, id="models.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="models.bottom"),
        Binding("escape", "back", "Back to Logs", show=False, id="models.back"),
    ]
    DEFAULT_CSS = """
    ModelsScreen #m-tabs { height: 1; padding: 0 1; }
    ModelsScreen #m-status { height: 1; padding: 0 1; }
    ModelsScreen #m-table { height: 1fr; min-height: 4; }
    ModelsScreen #m-detail { height: auto; max-height: 12; border-top: solid $primary-darken-2; padding: 0 1; }
    """
    HELP = ("Models: named model configurations shared by every project of the database (a litellm model"
            " string, an api base for any OpenAI-compatible server, the NAME of the environment variable"
            " holding the key: keys are never stored). n adds, e edits, delete removes, t tests with one real"
            " call. The offline model needs no key and no network. tab switches to the prompts.")

    # (screen, cfg) -> (client, spec): a client has ``async complete(spec, messages, params=...)``
    # returning a call result (output, error, latency, tokens, cost). Tests swap it for a fake.
    connect: ClassVar[Callable[["ModelsScreen", ModelConfig], tuple[Any, Any]]] = staticmethod(_connect)

    @dataclass
    class Tested(Message):
        name: str
        result: TestResult

    def __init__(self) -> None:
        super().__init__()
        self.tests: dict[str, Any] = {}  # name -> "running" | TestResult
        self._keep: Optional[str] = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tabs_line("Models"), id="m-tabs")
        yield Static("", id="m-status")
        yield ModelsTable(model_columns(), id="m-table")
        with VerticalScroll(id="m-detail"):
            yield Static("", id="m-detail-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#m-detail", VerticalScroll).can_focus = False
        self.table.focus()
        self.reload()

    @property
    def table(self) -> ModelsTable:
        return self.query_one(ModelsTable)

    def current(self) -> Optional[ModelConfig]:
        return self.table.current_row()

    def reload(self, keep: Optional[str] = None) -> None:
        store = self.store
        self.table.set_source(ListSource(lambda: list_models(store), lambda m: m.name, store.release_thread), keep)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode in ("replace", "last"):
            self._update_status()
            self._show_detail()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        self.notify(f"could not read the models: {event.error}", severity="error")

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        self._show_detail()

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def _update_status(self) -> None:
        n = self.table.total
        what = "counting…" if n is None else f"{n:,} model{'s' if n != 1 else ''}"
        self.query_one("#m-status", Static).update(
            Text(f"Models of this database (all projects) · {what} · keys from the environment", style="dim"))

    def _show_detail(self) -> None:
        cfg = self.current()
        self.query_one("#m-detail-text", Static).update(
            model_detail(cfg, self.tests.get(cfg.name)) if cfg is not None else Text(""))

    # -- moving, going elsewhere
    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def action_back(self) -> None:
        self.app.switch_to("logs")

    def action_prompts(self) -> None:
        self.app.switch_to("prompts")

    def after_write(self, event: WriteDone) -> None:
        if event.changed:
            self.reload(self._keep or self.table.cursor_id())
            self._keep = None

    # -- add, edit, remove
    def action_add(self) -> None:
        self.app.push_screen(ModelFormScreen(None), self._saved)

    def action_edit(self) -> None:
        cfg = self.current()
        if cfg is None:
            return
        if cfg.builtin:
            self.notify(f"{cfg.name!r} is built in ({OFFLINE_LABEL}): nothing to configure; n adds a model",
                        severity="warning")
            return
        self.app.push_screen(ModelFormScreen(cfg), self._saved)

    def _saved(self, result: Optional[tuple[ModelConfig, bool]]) -> None:
        if result is None:
            return
        cfg, new = result
        self.tests.pop(cfg.name, None)  # a test of the old settings says nothing of the new ones
        self.notify(f"model {cfg.name!r} {'added' if new else 'saved'}" + ("" if cfg.key_env is None or
                    os.environ.get(cfg.key_env) else f" ({cfg.key_env} is not set in this environment)"))
        self.reload(cfg.name)

    def action_remove(self) -> None:
        cfg = self.current()
        if cfg is None:
            return
        if cfg.builtin:
            self.notify(f"the built-in {cfg.name!r} model cannot be removed", severity="warning")
            return

        def picked(key: Optional[str]) -> None:
            if key == "remove":
                self._keep = None
                write_in_thread(self, f"model {cfg.name!r} removed", remove_model, cfg.name,
                                failed="could not remove")

        self.app.push_screen(MenuScreen(
            f"Remove model {cfg.name!r} ({cfg.model})?\nPrompts and playgrounds naming it keep the name; their"
            " runs fail until a model of that name is added again.",
            [("remove", f"Remove {cfg.name}"), ("cancel", "Cancel")]), picked)

    # -- test
    def action_test(self) -> None:
        cfg = self.current()
        if cfg is None:
            return
        if self.tests.get(cfg.name) == "running":
            self.notify(f"{cfg.name}: a test call is on its way")
            return
        self.tests[cfg.name] = "running"
        self._show_detail()
        self.run_worker(self._test(cfg), group=f"model-test-{cfg.name}", exit_on_error=False)

    async def _test(self, cfg: ModelConfig) -> None:
        """One real call (an async worker on the event loop: the app keeps answering keys)."""
        t0 = time.monotonic()
        try:
            client, spec = type(self).connect(self, cfg)
            if not cfg.offline:  # litellm loads in a thread: the event loop never waits on its import
                warm_up = getattr(client, "warm_up", None)
                await (warm_up() if warm_up is not None else asyncio.to_thread(_import_litellm))
            call = await asyncio.wait_for(client.complete(spec, list(TEST_MESSAGES), params=dict(cfg.params)),
                                          TEST_TIMEOUT + 5)
        except ImportError as exc:
            result = TestResult(False, f"the model client is not in this build ({exc})")
        except asyncio.TimeoutError:
            result = TestResult(False, f"no answer within {TEST_TIMEOUT + 5:.0f} s", latency=time.monotonic() - t0)
        except Exception as exc:
            result = TestResult(False, _one_line(f"{type(exc).__name__}: {exc}"), latency=time.monotonic() - t0)
        else:
            error = getattr(call, "error", None)
            latency = getattr(call, "latency", None)
            if error:
                result = TestResult(False, _one_line(str(error)), latency=latency)
            else:
                output = getattr(call, "output", "")
                result = TestResult(True, output if isinstance(output, str) else str(output), latency=latency,
                                    prompt_tokens=getattr(call, "prompt_tokens", None),
                                    completion_tokens=getattr(call, "completion_tokens", None),
                                    tokens=getattr(call, "tokens", None), cost=getattr(call, "cost", None))
        result.when = time.time()
        self.post_message(self.Tested(cfg.name, result))

    def on_models_screen_tested(self, event: Tested) -> None:
        self.tests[event.name] = event.result
        self._show_detail()
        line = event.result.line().plain
        self.notify(f"{event.name}: {line}", severity="information" if event.result.ok else "error")

    def palette_commands(self) -> list[Command]:
        return [
            Command("Add a model", self.action_add, "a litellm model string, api base, key env NAME, prices"),
            Command("Edit the current model", self.action_edit, "e"),
            Command("Remove the current model", self.action_remove, "not the offline one"),
            Command("Test the current model", self.action_test, "one real call: latency, tokens, cost"),
            Command("Prompts", self.action_prompts, "the project's prompts; tab"),
        ]


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


# --- the form --------------------------------------------------------------------------------------

FIELDS = (
    ("name", "name", "e.g. gpt-4o-mini or local-llama"),
    ("model", "litellm model", "e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku, ollama/llama3"),
    ("api_base", "api base", "optional: http://localhost:11434 (any OpenAI-compatible server)"),
    ("key_env", "key env NAME", "e.g. OPENAI_API_KEY: the variable's NAME, never the key"),
    ("input_price", "input $/Mtok", "optional: USD per million input tokens (else litellm's)"),
    ("output_price", "output $/Mtok", "optional: USD per million output tokens"),
    ("params", "params", "optional: temperature=0.2 max_tokens=500 (or JSON)"),
)


class ModelFormScreen(ModalScreen[Optional[tuple[ModelConfig, bool]]]):
    """Add a model (``cfg`` None) or edit one. enter goes to the next field (saves on the
    last), ctrl+s saves, escape cancels. A refused save says why under the fields; what was
    typed stays."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="model_form.save"),
        Binding("escape", "cancel", "Cancel", id="model_form.cancel"),
    ]
    DEFAULT_CSS = """
    ModelFormScreen { align: center middle; }
    ModelFormScreen .mf-row { height: 1; }
    ModelFormScreen .mf-label { width: 15; }
    ModelFormScreen .mf-row LineInput { width: 1fr; }
    ModelFormScreen #mf-error { height: auto; padding: 1 0 0 0; }
    """

    @dataclass
    class Refused(Message):
        message: str
        field: Optional[str] = None

    @dataclass
    class Done(Message):
        cfg: ModelConfig
        new: bool

    def __init__(self, cfg: Optional[ModelConfig]) -> None:
        super().__init__()
        self.cfg = cfg
        self._saving = False

    def _value(self, key: str) -> str:
        cfg = self.cfg
        if cfg is None:
            return ""
        value = getattr(cfg, key)
        if key == "params":
            return format_params(value)
        if value is None:
            return ""
        return f"{value:g}" if isinstance(value, float) else str(value)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Edit model {self.cfg.name!r}" if self.cfg else "Add a model", classes="dialog-title")
            for key, label, placeholder in FIELDS:
                with Horizontal(classes="mf-row"):
                    yield Label(label, classes="mf-label")
                    yield LineInput(self._value(key), placeholder=placeholder, id=f"mf-{key}", compact=True,
                                    disabled=key == "name" and self.cfg is not None)
            yield Static("", id="mf-error")
            yield Static("enter next field (saves on the last) · ctrl+s saves · escape cancels",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#mf-error").display = False
        self.query_one("#mf-model" if self.cfg else "#mf-name").focus()

    def field(self, key: str) -> LineInput:
        return self.query_one(f"#mf-{key}", LineInput)

    def say(self, text: str, key: Optional[str] = None) -> None:
        err = self.query_one("#mf-error", Static)
        err.update(Text(text, style="bold red"))
        err.display = True
        if key is not None:
            self.field(key).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        keys = [k for k, _, _ in FIELDS]
        key = (event.input.id or "")[len("mf-"):]
        if key in keys and keys.index(key) < len(keys) - 1:
            self.field(keys[keys.index(key) + 1]).focus()
        else:
            self.action_save()

    def values(self) -> Optional[dict]:
        """The typed values, checked as far as the form can (the store checks the rest)."""
        out: dict = {}
        for key in ("name", "model", "api_base", "key_env"):
            out[key] = self.field(key).value.strip() or None
        for key, label in (("input_price", "input price"), ("output_price", "output price")):
            text = self.field(key).value.strip().lstrip("$")
            if not text:
                out[key] = None
                continue
            try:
                out[key] = float(text)
            except ValueError:
                self.say(f"{label}: a number of USD per million tokens (e.g. 0.15), not {text!r}", key)
                return None
        try:
            out["params"] = parse_params(self.field("params").value)
        except ValueError as exc:
            self.say(f"params: {exc}", "params")
            return None
        if not out["name"]:
            self.say("name: give the model a name (what prompts and playgrounds call it)", "name")
            return None
        if not out["model"]:
            self.say("litellm model: e.g. openai/gpt-4o-mini or ollama/llama3", "model")
            return None
        return out

    def action_save(self) -> None:
        if self._saving:
            return
        values = self.values()
        if values is None:
            return
        self._saving = True
        self._write(values)

    @work(thread=True, exclusive=True, group="model-form")
    def _write(self, values: dict) -> None:
        store = self.app.store
        try:
            if self.cfg is None and values["name"] != OFFLINE_NAME:  # (the store says why not the offline name)
                try:
                    get_model(store, values["name"])
                except NotFound:
                    pass
                else:
                    self.post_message(self.Refused(f"name: a model named {values['name']!r} exists (e on the list"
                                                   " edits it)", "name"))
                    return
            cfg, new = add_model(store, values["name"], values["model"], api_base=values["api_base"],
                                 key_env=values["key_env"], input_price=values["input_price"],
                                 output_price=values["output_price"], params=values["params"],
                                 author=default_author())
        except Exception as exc:
            self.post_message(self.Refused(str(exc), _field_of(str(exc))))
            return
        finally:
            store.release_thread()
        self.post_message(self.Done(cfg, new))

    def on_model_form_screen_refused(self, event: Refused) -> None:
        self._saving = False
        self.say(event.message, event.field)

    def on_model_form_screen_done(self, event: Done) -> None:
        self._saving = False
        self.dismiss((event.cfg, event.new))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _field_of(message: str) -> Optional[str]:
    """The form field a store error is about (it names the CLI option)."""
    for option, key in (("--key-env", "key_env"), ("--api-base", "api_base"), ("--input-price", "input_price"),
                        ("--output-price", "output_price"), ("--model", "model"), ("model name", "name"),
                        ("built-in offline", "name")):
        if option in message:
            return key
    return None


register_screen("models", "Models", ModelsScreen)


__all__ = ["ModelsScreen", "ModelFormScreen", "TestResult", "key_status", "prices_text", "model_detail",
           "OFFLINE_NAME"]
