"""The playground's set-up dialogs: a variant (prompt version, model, params, repeat) and the
scorers (a checklist over ``engine.scorers.BUILTIN``, with the judge model LLM judges need).
What they list is read by the caller in a worker thread (:func:`read_choices`); the dialogs
only show it and hand back what was picked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from tui.widgets.line_input import LineInput

MAX_REPEAT = 20
LLM_JUDGES = ("Factuality", "ClosedQA")  # engine.scorers' builtins that call a model
NO_PROMPT = ("No prompt in this project yet: a variant is a prompt version with a model.\n"
             "Make one with  bt-tui prompt save SLUG --message 'user:{{input}}'  (or the Prompts screen, M).")


@dataclass
class Choices:
    """What the set-up dialogs offer: datasets, prompt versions (newest first per prompt),
    models (offline first)."""

    datasets: list = field(default_factory=list)  # store.datasets.DatasetInfo
    prompts: list = field(default_factory=list)  # store.prompts.PromptVersion, every version
    models: list = field(default_factory=list)  # store.model_configs.ModelConfig


def read_choices(store, project: str, *, datasets: bool = True) -> Choices:
    """Read in a worker thread: the project's datasets, every prompt version, the models."""
    from store.datasets import list_datasets
    from store.model_configs import list_models
    from store.prompts import list_prompts, prompt_history

    out = Choices(models=list_models(store))
    if datasets:
        out.datasets = list_datasets(store, project)
    for info in list_prompts(store, project):
        out.prompts += list(reversed(prompt_history(store, project, info.slug)))
    return out


def parse_params(text: str) -> dict:
    """``temperature=0.2 max_tokens=200 stop=END`` -> a dict; each value is JSON when it parses
    (numbers, true, null, [..]) and a string otherwise. Items are separated by blanks or commas."""
    out: dict = {}
    for item in text.replace(",", " ").split():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r}: params are KEY=VALUE (e.g. temperature=0.2)")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def params_text(params: dict) -> str:
    return " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in params.items())


def parse_repeat(text: str) -> int:
    text = text.strip() or "1"
    if not text.isdigit() or not 1 <= int(text) <= MAX_REPEAT:
        raise ValueError(f"repeat is a whole number from 1 to {MAX_REPEAT}")
    return int(text)


def model_label(m) -> str:
    if m.offline:
        return f"{m.name}  (built-in, offline: answers from this project's logs; no key, no network)"
    where = f" at {m.api_base}" if m.api_base else ""
    return f"{m.name}  ({m.model}{where})"


class VariantScreen(ModalScreen[Optional[dict]]):
    """A variant's set-up: pick a prompt version and a model (arrows, enter moves on), type the
    params and the repeat count; enter on the last field (or ctrl+s) saves. Returns the
    variant ``{"id", "prompt": "slug@V", "model", "params", "repeat"}``."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="variant.cancel"),
        Binding("ctrl+s", "save", "Save", id="variant.save"),
    ]
    DEFAULT_CSS = """
    VariantScreen { align: center middle; }
    VariantScreen .dialog { max-height: 95%; }
    VariantScreen OptionList { height: auto; max-height: 7; }
    VariantScreen .field { padding: 1 0 0 0; color: $text-muted; }
    VariantScreen #v-error { height: auto; }
    """

    def __init__(self, title: str, vid: str, prompts: list, models: list, current: Optional[dict] = None) -> None:
        super().__init__()
        self.title_text = title
        self.vid = vid
        self.prompts = prompts
        self.models = models
        self.current = dict(current or {})

    def compose(self) -> ComposeResult:
        latest: dict = {}
        for p in self.prompts:
            latest.setdefault(p.slug, p.version)
        popts = [Option(f"{p.ref}" + ("  (latest)" if latest[p.slug] == p.version else "")
                        + (f"  model {p.model}" if p.model else ""), id=p.ref) for p in self.prompts]
        mopts = [Option(model_label(m), id=m.name) for m in self.models]
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label("Prompt version", classes="field")
            yield OptionList(*popts, id="v-prompt")
            yield Label("Model", classes="field")
            yield OptionList(*mopts, id="v-model")
            yield Label("Params  KEY=VALUE ... (temperature=0.2 max_tokens=200; over the prompt's and model's)",
                        classes="field")
            yield LineInput(params_text(self.current.get("params") or {}), placeholder="none", id="v-params")
            yield Label(f"Repeat  1-{MAX_REPEAT}: ask each row N times; the cell says how many answers agree",
                        classes="field")
            yield LineInput(str(self.current.get("repeat") or 1), id="v-repeat")
            yield Static("", id="v-error")
            yield Static("arrows pick · enter next field · tab moves · enter on Repeat or ctrl+s saves · escape cancels",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        plist = self.query_one("#v-prompt", OptionList)
        mlist = self.query_one("#v-model", OptionList)
        want = self.current.get("prompt")
        refs = [p.ref for p in self.prompts]
        if want in refs:
            plist.highlighted = refs.index(want)
        elif refs:
            plist.highlighted = 0
        names = [m.name for m in self.models]
        model = self.current.get("model")
        if model is None and self.prompts:
            model = self._prompt_at(plist.highlighted).model
        mlist.highlighted = names.index(model) if model in names else 0
        plist.focus()

    def _prompt_at(self, i: Optional[int]):
        return self.prompts[i or 0]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "v-prompt":
            self.query_one("#v-model", OptionList).focus()
        else:
            self.query_one("#v-params", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "v-params":
            self.query_one("#v-repeat", Input).focus()
        else:
            self.action_save()

    def _error(self, text: str) -> None:
        self.query_one("#v-error", Static).update(Text(text, style="bold red"))

    def result(self) -> dict:
        """The variant as picked (ValueError naming what is wrong)."""
        plist = self.query_one("#v-prompt", OptionList)
        mlist = self.query_one("#v-model", OptionList)
        if not self.prompts or plist.highlighted is None:
            raise ValueError("pick a prompt version")
        if mlist.highlighted is None:
            raise ValueError("pick a model")
        try:
            params = parse_params(self.query_one("#v-params", Input).value)
        except ValueError as exc:
            self.query_one("#v-params", Input).focus()
            raise exc
        try:
            repeat = parse_repeat(self.query_one("#v-repeat", Input).value)
        except ValueError as exc:
            self.query_one("#v-repeat", Input).focus()
            raise exc
        return {"id": self.vid, "prompt": self.prompts[plist.highlighted].ref,
                "model": self.models[mlist.highlighted].name, "params": params, "repeat": repeat}

    def action_save(self) -> None:
        try:
            value = self.result()
        except ValueError as exc:
            self._error(str(exc))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class ScorerChoice:
    names: list  # scorer names, in the order picked (the first is the grid's score)
    judge: Optional[str] = None  # the model configuration LLM judges call


class ScorersScreen(ModalScreen[Optional[ScorerChoice]]):
    """A checklist of the builtin scorers (space toggles, enter saves); when an LLM judge is
    ticked, the model it calls (one of the configured models; the offline model cannot judge)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="scorers.cancel"),
        Binding("ctrl+s", "save", "Save", id="scorers.save"),
        Binding("j", "down", "Down", show=False, id="scorers.down"),
        Binding("k", "up", "Up", show=False, id="scorers.up"),
    ]
    DEFAULT_CSS = """
    ScorersScreen { align: center middle; }
    ScorersScreen SelectionList { height: auto; max-height: 12; }
    ScorersScreen OptionList { height: auto; max-height: 6; }
    ScorersScreen .field { padding: 1 0 0 0; color: $text-muted; }
    ScorersScreen #s-error { height: auto; }
    """

    def __init__(self, builtin: list[str], current: list[str], judges: list, judge: Optional[str] = None) -> None:
        super().__init__()
        # The current ones first, in their order (the first is the one the grid shows).
        self.names = [n for n in current if n in builtin] + [n for n in builtin if n not in current]
        self.current = current
        self.judges = judges  # ModelConfig, not offline
        self.judge = judge

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Scorers of this playground (the first ticked is the score each cell shows)",
                        classes="dialog-title")
            yield SelectionList(*[Selection(n + ("  (LLM judge)" if n in LLM_JUDGES else ""), n, n in self.current)
                                  for n in self.names], id="s-list")
            yield Label("Judge model (for Factuality, ClosedQA)", classes="field")
            if self.judges:
                yield OptionList(*[Option(model_label(m), id=m.name) for m in self.judges], id="s-judge")
            else:
                yield Static("none: LLM judges need a model with a key or a local server "
                             "(bt-tui model add NAME --model ... --key-env VAR)", classes="dialog-hint")
            yield Static("", id="s-error")
            yield Static("space ticks · tab to the judge model · enter or ctrl+s saves · escape cancels",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        if self.judges:
            ol = self.query_one("#s-judge", OptionList)
            names = [m.name for m in self.judges]
            ol.highlighted = names.index(self.judge) if self.judge in names else 0
        self.query_one(SelectionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "s-judge":
            self.action_save()

    def on_key(self, event) -> None:
        if event.key == "enter" and isinstance(self.focused, SelectionList):
            event.stop()
            event.prevent_default()
            self.action_save()

    def action_down(self) -> None:
        if isinstance(self.focused, (SelectionList, OptionList)):
            self.focused.action_cursor_down()

    def action_up(self) -> None:
        if isinstance(self.focused, (SelectionList, OptionList)):
            self.focused.action_cursor_up()

    def action_save(self) -> None:
        picked = set(self.query_one(SelectionList).selected)
        names = [n for n in self.names if n in picked]
        judge = None
        if any(n in LLM_JUDGES for n in names):
            if not self.judges:
                self.query_one("#s-error", Static).update(Text(
                    "Factuality and ClosedQA need a judge model: add one (bt-tui model add), or untick them",
                    style="bold red"))
                return
            ol = self.query_one("#s-judge", OptionList)
            judge = self.judges[ol.highlighted or 0].name
        self.dismiss(ScorerChoice(names, judge))

    def action_cancel(self) -> None:
        self.dismiss(None)


def judge_model(cfg) -> Any:
    """engine.scorers.JudgeModel of a model configuration."""
    from engine.scorers import JudgeModel

    return JudgeModel(model=cfg.model, api_base=cfg.api_base, key_env=cfg.key_env, params=dict(cfg.params))
