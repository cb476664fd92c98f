"""Open in the playground, from a span (Langfuse #12811: playground variables filled from a real
trace) or from a prompt.

From a span (`ctrl+o` on the Logs screen: the current trace's root span, or the current span in
the spans view; on the Trace screen: the current span): a dialog picks a prompt (the one that
best matches the span first: the prompt its metadata names, then those whose variables the
span's input fills, then by shared words) and a model, and previews the prompt's first message
rendered with the span's variables (``engine.runs.variables``). Then, in a worker: the span
becomes a record of the dataset ``playground scratch`` (its input; its output as expected;
``store.datasets.add_from_logs``: a span added again updates its record, never duplicates it),
the playground ``scratch`` is set over that dataset with the chosen prompt and model as its
base variant (created, or updated: other variants stay), and the Playground screen opens on
that record.

From a prompt (`p` on the Prompts screen): pick a dataset; the playground ``scratch`` is set
over it with that prompt (and its model) as the base variant."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from engine.chat import is_chat
from engine.prompts import MissingVariable
from engine.runs import Row, render_messages, variables
from store.audit import default_author
from store.datasets import (add_from_logs, get_record, iter_records, list_datasets, origin_record_id,
                            span_to_record, upsert_records)
from store.errors import NotFound
from store.experiments import get_playground, playground_cells, replace_traces, save_playground
from store.export import get_span
from store.model_configs import OFFLINE_NAME, list_models
from store.prompts import ROLES, PromptVersion, list_prompts, save_prompt
from tui.format import preview
from tui.screens.prompts import template_variables
from tui.widgets.transcript import ROLE_STYLE

SCRATCH_DATASET = "playground scratch"
SCRATCH_PLAYGROUND = "scratch"
NEW_SLUG = "from-span"  # the prompt "a new prompt from this span" saves (a new version each time it differs)
NEW = "\x00new"  # the option id of that prompt
PREVIEW_LINES = 3
META_KEYS = ("prompt", "prompt_slug", "prompt_version", "prompt_ref", "prompt_name")


# --- matching a span to prompts ----------------------------------------------------------------------

def span_row(span: dict) -> Row:
    """The playground row a span becomes: its input, its output as expected, its metadata."""
    return Row(id=str(span.get("id") or "span"), input=span.get("input"), expected=span.get("output"),
               metadata=span.get("metadata") or {})


def _strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    return out


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _named(span: dict) -> list[str]:
    meta = span.get("metadata") or {}
    return [str(meta[k]) for k in META_KEYS if isinstance(meta.get(k), str)]


def _is_named(slug: str, names: list[str]) -> bool:
    return any(n == slug or n.startswith(slug + "@") for n in names)


@dataclass
class Match:
    """A prompt's fit to a span: ``missing`` names the first variable the span cannot fill."""

    prompt: PromptVersion
    score: float
    missing: Optional[str] = None
    named: bool = False
    error: Optional[str] = None  # the template does not render at all
    preview: Optional[Text] = None  # its first message(s) rendered with the span's variables


def rank_prompts(prompts: list, span: dict) -> list[Match]:
    """The prompts (``PromptInfo`` or ``PromptVersion``), best match to the span first: the
    prompt the span's metadata names (``metadata.prompt``, ``prompt_version``: ``slug`` or
    ``slug@V``), then the prompts whose variables the span's input all fills, then by the words
    their rendered messages share with the span's input. Ties keep the given order."""
    vars_ = variables(span_row(span))
    names = _named(span)
    span_words = _words(" ".join(_strings(span.get("input"), [])))
    out = []
    for p in prompts:
        pv = getattr(p, "latest", p)
        m = Match(pv, 0.0, named=_is_named(pv.slug, names))
        try:
            render_messages(pv, vars_, strict=True)
        except MissingVariable as exc:
            m.missing = exc.name
        except Exception as exc:
            m.error = " ".join(str(exc).split())
        text = ""
        if m.error is None:
            text = " ".join(x["content"] for x in render_messages(pv, vars_, strict=False))
        words = _words(text)
        overlap = len(words & span_words) / len(words | span_words) if words or span_words else 0.0
        m.score = (100.0 if m.named else 0.0) + (10.0 if m.missing is None and m.error is None else 0.0) + overlap
        out.append(m)
    return sorted(out, key=lambda m: -m.score)  # stable: ties keep the given order


def new_prompt_messages(span: dict) -> list[dict]:
    """The messages of "a new prompt from this span": a logged chat's messages as they are
    (the LLM call, replayed), else one user message sending the input."""
    value = span.get("input")
    if is_chat(value):
        msgs = [{"role": m.get("role"), "content": m.get("content")} for m in value
                if m.get("role") in ROLES and isinstance(m.get("content"), str)]
        if msgs:
            return msgs
    return [{"role": "user", "content": "{{input}}"}]


def first_message_preview(pv: Optional[PromptVersion], messages: list[dict], span: dict) -> Text:
    """The first message rendered with the span's variables (strict first: a missing one is named)."""
    vars_ = variables(span_row(span))
    probe = PromptVersion(pv.slug if pv else NEW_SLUG, pv.version if pv else 0, messages)
    t = Text()
    try:
        rendered = render_messages(probe, vars_, strict=True)
    except MissingVariable as exc:
        t.append(f"the span has no {{{{{exc.name}}}}}: it renders empty\n", style="yellow")
        rendered = render_messages(probe, vars_, strict=False)
    except Exception as exc:
        t.append(f"the template does not render: {' '.join(str(exc).split())}", style="bold red")
        return t
    if not rendered:
        return t
    shown = [0]
    if not template_variables(messages[0].get("content") or ""):  # a fixed first message: also the first filled one
        filled = next((i for i, m in enumerate(messages) if template_variables(m.get("content") or "")), None)
        if filled is not None:
            shown.append(filled)
    for n, i in enumerate(shown):
        role = rendered[i]["role"]
        if n:
            t.append("\n")
        t.append(f"▌ {role}", style=f"bold {ROLE_STYLE.get(role, 'white')}")
        t.append(f"  message {i + 1} of {len(rendered)}" + (", with the span's variables" if
                 template_variables(messages[i].get("content") or "") else ""), style="dim")
        budget = PREVIEW_LINES if len(shown) == 1 or n else 1
        lines = [line for line in rendered[i]["content"].splitlines() if line.strip()] or [""]
        t.append("\n" + "\n".join(lines[:budget]))
        if len(lines) > budget:
            more = len(lines) - budget
            t.append(f"\n… {more} more line{'s' if more != 1 else ''}", style="dim")
    return t


# --- the writes (worker threads) ------------------------------------------------------------------------

def add_span_to_scratch(store, project: str, span_project: str, span: dict, author: str) -> str:
    """The span into ``playground scratch`` (its output as expected): the record's id. A span
    added before updates its record."""
    note = f"open in playground: span {span['id']}"
    if span_project == project:
        add_from_logs(store, project, SCRATCH_DATASET, [span["id"]], expected_from="output", author=author, note=note)
    else:  # a span of an experiment's or a playground's rows: the record is made from it as read
        content = span_to_record(span, "output")
        upsert_records(store, project, SCRATCH_DATASET, [{"id": origin_record_id(span["id"]), **content}],
                       author=author, note=note)
    rec = get_record(store, project, SCRATCH_DATASET, origin_record_id(span["id"]))
    if rec is not None and (rec.origin or {}).get("id") == span["id"]:
        return rec.id
    for rec in iter_records(store, project, SCRATCH_DATASET):
        if (rec.origin or {}).get("id") == span["id"]:
            return rec.id
    raise NotFound(f"span {span['id']} is not in {SCRATCH_DATASET!r} after adding it")


def set_scratch_playground(store, project: str, base: dict, dataset: str, author: str):
    """Playground ``scratch`` over ``dataset`` (its latest version) with ``base``
    ({"prompt", "model", "params", "repeat"}) as its base variant. An existing one keeps its
    other variants; a base that changed (or a new dataset) drops the cells it made stale."""
    try:
        old = get_playground(store, project, SCRATCH_PLAYGROUND)
    except NotFound:
        old = None
    if old is None:
        return save_playground(store, project, SCRATCH_PLAYGROUND, dataset=dataset, dataset_version=None,
                               variants=[{"id": "A", **base}], author=author)
    old_variants = list(old.variants or [])
    old_base = old_variants[0] if old_variants else None
    base_id = old_base["id"] if old_base else "A"
    same = old_base is not None and old_base.get("prompt") == base["prompt"] and old_base.get("model") == base["model"]
    new_base = old_base if same else {"id": base_id, **base}
    variants = [new_base] + [v for v in old_variants[1:] if v.get("id") != base_id]
    info = save_playground(store, project, SCRATCH_PLAYGROUND, dataset=dataset, dataset_version=None,
                           variants=variants, author=author)
    if old.dataset != dataset:
        stale = [c.root_span_id for c in playground_cells(store, old)]
    elif not same:
        stale = [c.root_span_id for c in playground_cells(store, old) if c.variant == base_id]
    else:
        stale = []
    if stale:
        replace_traces(store, old.rows_project, stale)
    return info


@dataclass
class Opened:
    """What the dialog set up: the playground to open, the record to focus, what to say."""

    playground: str
    record_id: Optional[str]
    message: str


def open_span(store, project: str, span_project: str, span: dict, prompt: Optional[PromptVersion], model: str,
              new_messages: Optional[list[dict]] = None) -> Opened:
    """(In a worker thread.) The span as a record of ``playground scratch``, the playground
    ``scratch`` over it with ``prompt`` (None: a new prompt of ``new_messages``) and ``model``."""
    author = default_author()
    if prompt is None:
        prompt, _ = save_prompt(store, project, NEW_SLUG, new_messages or new_prompt_messages(span), model=model,
                                author=author, description="made from a logged span (open in playground)")
    record_id = add_span_to_scratch(store, project, span_project, span, author)
    set_scratch_playground(store, project, {"prompt": prompt.ref, "model": model, "params": {}, "repeat": 1},
                           SCRATCH_DATASET, author)
    return Opened(SCRATCH_PLAYGROUND, record_id,
                  f"span added to {SCRATCH_DATASET!r}; playground {SCRATCH_PLAYGROUND!r}: {prompt.ref} · {model}")


def push_playground(app, opened: Opened) -> None:
    """The Playground screen on the playground (focused on the record), or, when this build has
    no Playground screen, a notice of what was set up."""
    app.notify(opened.message)
    try:
        from tui.screens.playground import PlaygroundScreen
    except ImportError:
        app.notify(f"playground {opened.playground!r} is saved; this build has no Playground screen to show it",
                   severity="warning")
        return
    app.push_screen(PlaygroundScreen(opened.playground, focus_record=opened.record_id))


# --- from a span: the dialog --------------------------------------------------------------------------

def open_span_in_playground(screen, span_project: str, row_id: str) -> None:
    """The way in from the Logs and Trace screens: the dialog for span ``row_id`` (of
    ``span_project``); what it sets up opens in the Playground screen."""
    app = screen.app

    def done(opened: Optional[Opened]) -> None:
        if opened is not None:
            push_playground(app, opened)

    app.push_screen(OpenInPlaygroundScreen(app.project, span_project, row_id), done)


HINT = "↑/↓ prompt · tab the model list · enter opens · escape cancels"


class OpenInPlaygroundScreen(ModalScreen[Optional[Opened]]):
    """Pick a prompt and a model for a span; preview the first message; enter sets up the
    playground ``scratch`` on the span's record."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="open_playground.cancel"),
        Binding("tab", "switch_list", "Prompt/model", id="open_playground.switch"),
        Binding("j", "move(1)", "Down", show=False, id="open_playground.down"),
        Binding("k", "move(-1)", "Up", show=False, id="open_playground.up"),
    ]
    DEFAULT_CSS = """
    OpenInPlaygroundScreen { align: center middle; }
    OpenInPlaygroundScreen #op-span { height: auto; max-height: 2; }
    OpenInPlaygroundScreen #op-lists { height: auto; padding: 1 0 0 0; }
    OpenInPlaygroundScreen #op-lists > Vertical { height: auto; }
    OpenInPlaygroundScreen #op-prompt-box { width: 1fr; }
    OpenInPlaygroundScreen #op-model-box { width: 26; padding: 0 0 0 2; }
    OpenInPlaygroundScreen OptionList { height: auto; max-height: 6; }
    OpenInPlaygroundScreen .op-head { color: $text-muted; }
    OpenInPlaygroundScreen Vertical:focus-within > .op-head { color: $accent; text-style: bold; }
    OpenInPlaygroundScreen #op-preview { height: auto; max-height: 7; padding: 1 0 0 0; }
    OpenInPlaygroundScreen #op-what { height: auto; }
    """

    @dataclass
    class Read(Message):
        span: Optional[dict] = None
        matches: list = field(default_factory=list)
        models: list = field(default_factory=list)
        base_model: Optional[str] = None  # the scratch playground's base model, if any
        new_preview: Optional[Text] = None  # the preview of "a new prompt from this span"
        error: str = ""

    @dataclass
    class Failed(Message):
        message: str

    @dataclass
    class Done(Message):
        opened: Opened

    def __init__(self, project: str, span_project: str, row_id: str) -> None:
        super().__init__()
        self.project = project
        self.span_project = span_project
        self.row_id = row_id
        self.span: Optional[dict] = None
        self.matches: list[Match] = []
        self.models: list[str] = []
        self.base_model: Optional[str] = None
        self.new_preview: Optional[Text] = None
        self._model_picked = False  # the user chose a model: a new prompt no longer changes it
        self._setting = False
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Open in the playground", classes="dialog-title")
            yield Static(Text("reading the span…", style="dim"), id="op-span")
            with Horizontal(id="op-lists"):
                with Vertical(id="op-prompt-box"):
                    yield Static("prompt (best match first)", classes="op-head")
                    yield OptionList(id="op-prompts", compact=True)
                with Vertical(id="op-model-box"):
                    yield Static("model", classes="op-head")
                    yield OptionList(id="op-models", compact=True)
            yield Static("", id="op-preview")
            yield Static(Text(f"enter: the span becomes a row of dataset {SCRATCH_DATASET!r} (its output as"
                              f" expected); playground {SCRATCH_PLAYGROUND!r} opens on it", style="dim"), id="op-what")
            yield Static(HINT, classes="dialog-hint", id="op-hint")

    def on_mount(self) -> None:
        # wider and tighter than the app's dialogs (inline styles: the app's stylesheet wins over DEFAULT_CSS)
        box = self.query_one(".dialog")
        box.styles.width = "90%"
        box.styles.max_width = 110
        self.query_one(".dialog-title").styles.padding = 0
        self.query_one(".dialog-hint").styles.padding = 0
        self.query_one("#op-prompts").focus()
        self._read()

    @work(thread=True, exclusive=True, group="open-playground-read")
    def _read(self) -> None:
        store = self.app.store
        try:
            span = get_span(store, self.span_project, self.row_id)
            prompts = list_prompts(store, self.project)
            models = [m.name for m in list_models(store)]
            try:
                pg = get_playground(store, self.project, SCRATCH_PLAYGROUND)
                base_model = (pg.variants[0].get("model") if pg.variants else None)
            except NotFound:
                base_model = None
        except Exception as exc:
            self.post_message(self.Read(error=str(exc)))
            return
        finally:
            store.release_thread()
        matches = rank_prompts(prompts, span)
        for m in matches:  # rendered here, off the event loop (an input can be large)
            m.preview = first_message_preview(m.prompt, m.prompt.messages, span)
        new_preview = first_message_preview(None, new_prompt_messages(span), span)
        self.post_message(self.Read(span, matches, models, base_model, new_preview))

    def on_open_in_playground_screen_read(self, event: Read) -> None:
        if event.error:
            self.query_one("#op-span", Static).update(Text(f"could not read the span: {event.error}",
                                                           style="bold red"))
            return
        self.span, self.matches, self.models, self.base_model = event.span, event.matches, event.models, event.base_model
        self.new_preview = event.new_preview
        span = event.span
        head = Text()
        name = (span.get("span_attributes") or {}).get("name") or "span"
        head.append(f"{name} ", style="bold")
        head.append(f"{span['id']}", style="dim")
        head.append("\ninput  ", style="dim")
        head.append(preview(orjson.dumps(span.get("input")).decode(), 200) or "(none)")
        self.query_one("#op-span", Static).update(head)
        opts = []
        for m in self.matches:
            label = Text(m.prompt.ref, style="bold")
            if m.prompt.model:
                label.append(f" · {m.prompt.model}", style="dim")
            if m.named:
                label.append(" · named by the span", style="green")
            if m.error:
                label.append(" · does not render", style="red")
            elif m.missing:
                label.append(f" · no {{{{{m.missing}}}}} in the span", style="yellow")
            opts.append(Option(label, id=m.prompt.slug))
        opts.append(Option(Text.assemble(("+ new prompt ", "green"), (NEW_SLUG, "bold green"),
                                         (" from this span", "green")), id=NEW))
        ol = self.query_one("#op-prompts", OptionList)
        ol.clear_options()
        ol.add_options(opts)
        ol.highlighted = 0
        ml = self.query_one("#op-models", OptionList)
        ml.clear_options()
        ml.add_options([Option(n + (" (no key)" if n == OFFLINE_NAME else ""), id=n) for n in self.models])
        self._prompt_changed()

    # -- choosing
    def chosen_match(self) -> Optional[Match]:
        ol = self.query_one("#op-prompts", OptionList)
        if ol.highlighted is None or not ol.option_count:
            return None
        opt = ol.get_option_at_index(ol.highlighted)
        return next((m for m in self.matches if m.prompt.slug == opt.id), None)

    def chosen_model(self) -> str:
        ml = self.query_one("#op-models", OptionList)
        if ml.highlighted is not None and ml.option_count:
            return str(ml.get_option_at_index(ml.highlighted).id)
        return OFFLINE_NAME

    def _default_model(self, m: Optional[Match]) -> str:
        for name in ((m.prompt.model if m else None), self.base_model, OFFLINE_NAME):
            if name and name in self.models:
                return name
        return self.models[0] if self.models else OFFLINE_NAME

    def _prompt_changed(self) -> None:
        if self.span is None:
            return
        m = self.chosen_match()
        if not self._model_picked:
            ml = self.query_one("#op-models", OptionList)
            name = self._default_model(m)
            if name in self.models:
                self._setting = True
                ml.highlighted = self.models.index(name)
                self._setting = False
        self.query_one("#op-preview", Static).update((m.preview if m else self.new_preview) or Text(""))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_list.id == "op-prompts":
            self._prompt_changed()
        elif not self._setting and event.option_list.has_focus:
            self._model_picked = True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._submit()

    def action_switch_list(self) -> None:
        prompts, models = self.query_one("#op-prompts"), self.query_one("#op-models")
        (prompts if models.has_focus else models).focus()

    def action_move(self, step: int) -> None:
        ol = self.focused if isinstance(self.focused, OptionList) else self.query_one("#op-prompts", OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def _submit(self) -> None:
        if self.span is None or self._busy:
            return
        m = self.chosen_match()
        self._busy = True
        self.query_one("#op-hint", Static).update(Text("setting up the playground…", style="yellow"))
        self._write(m.prompt if m else None, self.chosen_model())

    @work(thread=True, exclusive=True, group="open-playground-write")
    def _write(self, prompt: Optional[PromptVersion], model: str) -> None:
        store = self.app.store
        try:
            opened = open_span(store, self.project, self.span_project, self.span, prompt, model)
        except Exception as exc:
            self.post_message(self.Failed(f"could not set up the playground: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(self.Done(opened))

    def on_open_in_playground_screen_failed(self, event: Failed) -> None:
        self._busy = False
        self.query_one("#op-hint", Static).update(Text(event.message, style="bold red"))

    def on_open_in_playground_screen_done(self, event: Done) -> None:
        self._busy = False
        self.dismiss(event.opened)

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- from a prompt: pick a dataset ---------------------------------------------------------------------

def open_prompt_in_playground(screen, pv: PromptVersion) -> None:
    """The way in from the Prompts screen: pick a dataset; the playground ``scratch`` runs
    ``pv`` (with its model) over it."""
    app = screen.app

    def done(opened: Optional[Opened]) -> None:
        if opened is not None:
            push_playground(app, opened)

    app.push_screen(PromptToPlaygroundScreen(app.project, pv), done)


class PromptToPlaygroundScreen(ModalScreen[Optional[Opened]]):
    """Which dataset the prompt runs over in the playground ``scratch``."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt_playground.cancel"),
        Binding("j", "move(1)", "Down", show=False, id="prompt_playground.down"),
        Binding("k", "move(-1)", "Up", show=False, id="prompt_playground.up"),
    ]
    DEFAULT_CSS = """
    PromptToPlaygroundScreen { align: center middle; }
    PromptToPlaygroundScreen OptionList { height: auto; max-height: 12; }
    """

    @dataclass
    class Read(Message):
        datasets: list
        current: Optional[str]
        error: str = ""

    @dataclass
    class Failed(Message):
        message: str

    @dataclass
    class Done(Message):
        opened: Opened

    def __init__(self, project: str, pv: PromptVersion) -> None:
        super().__init__()
        self.project = project
        self.pv = pv
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Open {self.pv.ref} in the playground over which dataset?", classes="dialog-title")
            yield Static(Text(f"playground {SCRATCH_PLAYGROUND!r}, base variant {self.pv.ref} ·"
                              f" {self.pv.model or OFFLINE_NAME}", style="dim"))
            yield OptionList(id="pp-list")
            yield Static("enter opens · escape cancels", classes="dialog-hint", id="pp-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._read()

    @work(thread=True, exclusive=True, group="prompt-playground-read")
    def _read(self) -> None:
        store = self.app.store
        try:
            datasets = list_datasets(store, self.project)
            try:
                current = get_playground(store, self.project, SCRATCH_PLAYGROUND).dataset
            except NotFound:
                current = None
        except Exception as exc:
            self.post_message(self.Read([], None, str(exc)))
            return
        finally:
            store.release_thread()
        self.post_message(self.Read(datasets, current))

    def on_prompt_to_playground_screen_read(self, event: Read) -> None:
        if event.error:
            self.query_one("#pp-hint", Static).update(Text(f"could not read the datasets: {event.error}",
                                                           style="bold red"))
            return
        names = [d.name for d in event.datasets]
        first = [n for n in (event.current, SCRATCH_DATASET) if n in names]
        order = list(dict.fromkeys(first + names))
        by_name = {d.name: d for d in event.datasets}
        opts = []
        for n in order:
            label = Text(n, style="bold")
            label.append(f"  {by_name[n].records:,} records", style="dim")
            if n == event.current:
                label.append("  (the playground's now)", style="green")
            opts.append(Option(label, id=n))
        if SCRATCH_DATASET not in names:
            opts.append(Option(Text.assemble(("+ new empty dataset ", "green"), (repr(SCRATCH_DATASET), "bold green"),
                                             (" (ctrl+o on a trace adds rows to it)", "dim")), id=SCRATCH_DATASET))
        ol = self.query_one(OptionList)
        ol.add_options(opts)
        ol.highlighted = 0

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not self._busy:
            self._busy = True
            self._write(str(event.option.id))

    @work(thread=True, exclusive=True, group="prompt-playground-write")
    def _write(self, dataset: str) -> None:
        store = self.app.store
        author = default_author()
        model = self.pv.model or OFFLINE_NAME
        try:
            from store.datasets import create_dataset

            create_dataset(store, self.project, dataset, author=author, exist_ok=True)
            set_scratch_playground(store, self.project, {"prompt": self.pv.ref, "model": model, "params": {},
                                                         "repeat": 1}, dataset, author)
        except Exception as exc:
            self.post_message(self.Failed(f"could not set up the playground: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(self.Done(Opened(SCRATCH_PLAYGROUND, None, f"playground {SCRATCH_PLAYGROUND!r}:"
                                                                     f" {self.pv.ref} · {model} over {dataset!r}")))

    def on_prompt_to_playground_screen_failed(self, event: Failed) -> None:
        self._busy = False
        self.query_one("#pp-hint", Static).update(Text(event.message, style="bold red"))

    def on_prompt_to_playground_screen_done(self, event: Done) -> None:
        self.dismiss(event.opened)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["OpenInPlaygroundScreen", "PromptToPlaygroundScreen", "open_span_in_playground",
           "open_prompt_in_playground", "rank_prompts", "first_message_preview", "span_row", "open_span",
           "set_scratch_playground", "add_span_to_scratch", "SCRATCH_DATASET", "SCRATCH_PLAYGROUND", "Opened"]
