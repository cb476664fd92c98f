"""Setting playgrounds up: the project's playgrounds (the list screen, where ``n`` makes one),
the dialogs of a variant (prompt version, model, params, repeat) and of the scorers (a checklist
over ``engine.scorers.BUILTIN``, with the judge model LLM judges need), and the conversations
that chain them (``ask_*``). What they list is read in a worker thread (:func:`read_choices`);
the dialogs only show it and hand back what was picked. The grid is tui/screens/playground.py,
which registers these screens."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Header, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from store.audit import default_author
from tui.format import ago
from tui.messages import WorkFailed
from tui.registry import BtScreen, Command
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.line_input import LineInput
from tui.widgets.paged_table import Column, ListSource, PagedTable

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


# --- the set-up conversations (a screen asks; ``save``/``create`` callbacks do the writing) -------

def ask_new_playground(screen, choices: Choices, taken: set, create: Callable[[str, str, dict], None]) -> None:
    """A new playground: its name, its dataset, its first variant (the base); then
    ``create(name, dataset, variant)``. Without a dataset or a prompt, says how to make one."""
    if not choices.datasets:
        screen.notify("No dataset in this project yet: a playground runs over one. Make one on the Datasets "
                      "screen (D, then n) or with  bt-tui import dataset FILE --name NAME", severity="warning",
                      timeout=10)
        return
    if not choices.prompts:
        screen.notify(NO_PROMPT, severity="warning", timeout=10)
        return

    def name_error(text: str) -> Optional[str]:
        text = text.strip()
        if not text:
            return "a playground needs a name"
        if text in taken:
            return f"there is already a playground named {text!r}"
        if any(ord(ch) < 32 for ch in text) or len(text) > 200:
            return "a name is one line of at most 200 characters"
        return None

    def named(name: Optional[str]) -> None:
        if not name or not name.strip():
            return
        name = name.strip()
        items = [(d.name, f"{d.name}  ({d.records:,} records, version {d.version or 0})") for d in choices.datasets]
        screen.app.push_screen(MenuScreen(f"Playground {name!r}: over which dataset?", items),
                               partial(picked_dataset, name))

    def picked_dataset(name: str, dataset: Optional[str]) -> None:
        if dataset:
            screen.app.push_screen(VariantScreen(f"Playground {name!r} over {dataset!r}: the first variant (the base)",
                                                 "A", choices.prompts, choices.models),
                                   partial(picked_variant, name, dataset))

    def picked_variant(name: str, dataset: str, variant: Optional[dict]) -> None:
        if variant:
            create(name, dataset, variant)

    screen.app.push_screen(PromptScreen("New playground named:", placeholder="e.g. refund answers v2 vs v3",
                                        validate=name_error), named)


def ask_variant(screen, choices: Choices, *, add: bool, specs: list, current: Optional[str], playground: str,
                save: Callable[[str, list, str], None]) -> None:
    """Add a variant (starting from the current one, a new id) or edit the current one; then
    ``save(message, the new variants, the variant to make current)``."""
    from engine.playground import next_variant_id

    if not choices.prompts:
        screen.notify(NO_PROMPT, severity="warning", timeout=10)
        return
    by_id = {v["id"]: dict(v) for v in specs}
    if add:
        vid = next_variant_id(by_id)
        like = by_id.get(current) or (dict(specs[0]) if specs else None)
        start = dict(like or {}, id=vid)
        start["prompt"] = like.get("prompt") if like else choices.prompts[0].ref
        title = f"New variant {vid} of {playground!r}"
    else:
        vid = current
        start = by_id.get(vid)
        if start is None:
            return
        title = f"Variant {vid} of {playground!r} (its answers go when it changes)"

    def picked(variant: Optional[dict]) -> None:
        if not variant:
            return
        what = f"{variant['prompt']} · {variant['model']} (V runs it)"
        if add:
            save(f"variant {variant['id']} added: {what}", [*specs, variant], variant["id"])
            return
        old = by_id[variant["id"]]
        if {k: old.get(k) for k in variant} == variant:
            screen.notify("variant unchanged")
            return
        save(f"variant {variant['id']} changed: {what}",
             [variant if v["id"] == variant["id"] else v for v in specs], variant["id"])

    screen.app.push_screen(VariantScreen(title, vid, choices.prompts, choices.models, start), picked)


def ask_remove_variant(screen, specs: list, vid: Optional[str], save: Callable[[str, list, Optional[str]], None]
                       ) -> None:
    """Remove variant ``vid`` (and its answers) once confirmed; the only variant stays."""
    if vid is None:
        return
    if len(specs) <= 1:
        screen.notify("the only variant stays (a adds another)", severity="warning")
        return
    is_base = specs[0]["id"] == vid
    note = f" {specs[1]['id']} becomes the base" if is_base else ""
    rest = [v for v in specs if v["id"] != vid]

    def go(key: Optional[str]) -> None:
        if key == "yes":
            save(f"variant {vid} removed" + (f";{note}" if note else ""), rest, rest[0]["id"])

    screen.app.push_screen(MenuScreen(f"Remove variant {vid} and its answers?{note}",
                                      [("yes", f"Remove {vid}"), ("no", "Keep it")]), go)


def ask_version(screen, dataset: str, versions: list, latest: Optional[int], pinned: Optional[int],
                save: Callable[[str, Optional[int]], None]) -> None:
    """Which version of the dataset the rows are read as of: the latest (following new
    versions) or one pinned; then ``save(message, version or None)``."""
    items = [("latest", f"latest (version {latest}), following new versions" + ("  ← now" if pinned is None else ""))]
    for v in reversed(versions):
        snaps = f" [{', '.join(v.snapshots)}]" if v.snapshots else ""
        items.append((str(v.version), f"version {v.version}{snaps} · {v.created[:16].replace('T', ' ')} · "
                      f"{v.author} · +{v.added} ~{v.updated} -{v.deleted}" + ("  ← now" if pinned == v.version
                                                                               else "")))

    def picked(key: Optional[str]) -> None:
        if key is None:
            return
        version = None if key == "latest" else int(key)
        if version != pinned:
            said = "the latest version" if version is None else f"version {version} (pinned)"
            save(f"rows of {dataset!r} as of {said}", version)

    screen.app.push_screen(MenuScreen(f"Rows of {dataset!r} as of which version?", items), picked)


def ask_scorers(screen, choices: Choices, current: list, judge: Optional[str],
                picked: Callable[[ScorerChoice], None]) -> None:
    """The scorers checklist (and the judge model of LLM judges); then ``picked(choice)``."""
    from engine.scorers import BUILTIN

    def done(choice: Optional[ScorerChoice]) -> None:
        if choice is None:
            return
        picked(choice)
        said = ", ".join(choice.names) or "none"
        screen.notify(f"scorers: {said}" + (f" (judge {choice.judge})" if choice.judge else "") + " · r runs them")

    screen.app.push_screen(ScorersScreen(list(BUILTIN), current, [m for m in choices.models if not m.offline], judge),
                           done)


# --- the playgrounds list ----------------------------------------------------------------------

def _dataset_ref(p) -> str:
    if not p.dataset:
        return "(no dataset)"
    return f"{p.dataset}@{p.dataset_version if p.dataset_version is not None else 'latest'}"


def _variants_summary(p) -> str:
    return ", ".join(f"{v.get('id')} {v.get('prompt')}·{v.get('model') or 'prompt model'}"
                     + (f"×{v['repeat']}" if (v.get("repeat") or 1) > 1 else "") for v in p.variants)


def playground_columns() -> list[Column]:
    return [
        Column("name", "name", lambda p, w: Text(p.name, style="bold"), 24, narrow=((100, 16),)),
        Column("dataset", "dataset@version", lambda p, w: Text(_dataset_ref(p)), 22, narrow=((100, 16),)),
        Column("variants", "variants", lambda p, w: Text(f"{len(p.variants)}: {_variants_summary(p)}")),
        Column("updated", "updated", lambda p, w: Text(ago(p.updated), style="dim"), 10),
    ]


def empty_playgrounds(project: str) -> Text:
    t = Text()
    t.append(f"No playgrounds in project {project!r} yet.\n\n", style="bold")
    t.append("A playground runs prompt versions x models over a dataset, side by side.\n")
    t.append("  n here: a name, a dataset, then the first variant (a prompt version and a model)\n", style="dim")
    t.append("  it needs a dataset (D, then n; or bt-tui import dataset FILE --name NAME)\n", style="dim")
    t.append("  and a prompt (bt-tui prompt save SLUG --message 'user:{{input}}', or the Prompts screen)\n",
             style="dim")
    return t


class PlaygroundsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="playgrounds.down"),
        Binding("k", "cursor_up", "Up", show=False, id="playgrounds.up"),
    ]


@dataclass
class ChoicesRead(Message):
    """The datasets, prompts and models, read for a set-up dialog (``purpose`` says which)."""

    purpose: str
    choices: Optional[Choices]
    error: str = ""
    extra: Any = None


@dataclass
class PlaygroundCreated(Message):
    name: str


class PlaygroundsScreen(BtScreen):
    """The project's playgrounds, most recently changed first; enter opens one, n makes one."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="playgrounds.open"),
        Binding("n", "new", "New playground", id="playgrounds.new"),
        Binding("r", "refresh", "Refresh", id="playgrounds.refresh"),
        Binding("g,home", "top", "First row", show=False, id="playgrounds.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="playgrounds.bottom"),
        Binding("escape", "back", "Back to Logs", show=False, id="playgrounds.back"),
    ]
    HELP = ("Playgrounds: prompt versions x models run over a dataset, side by side (the first variant is the"
            " base). enter opens one; n makes one (a name, a dataset, the first variant).")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        yield Static("", id="empty")
        yield PlaygroundsTable(playground_columns(), id="table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    @property
    def table(self) -> PlaygroundsTable:
        return self.query_one(PlaygroundsTable)

    def reload(self, keep: Optional[str] = None) -> None:
        from store.experiments import list_playgrounds

        store, project = self.store, self.app.project
        self.table.set_source(ListSource(lambda: list_playgrounds(store, project), lambda p: p.name,
                                         store.release_thread), keep)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode not in ("replace", "last"):
            return
        empty = not event.page.rows
        box = self.query_one("#empty", Static)
        if empty:
            box.update(empty_playgrounds(self.app.project))
        box.display = empty
        self.table.display = not empty
        self._update_status()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        self.notify(f"could not read the playgrounds: {event.error}", severity="error")

    def _update_status(self) -> None:
        n = self.table.total
        what = "counting…" if n is None else f"{n:,} playground{'s' if n != 1 else ''}"
        self.query_one("#status", Static).update(
            Text(f"Playgrounds of project {self.app.project!r} · {what} · most recently changed first", style="dim"))

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.app.push_screen(_grid(row.name))

    def open_playground(self, name: str) -> None:
        while self.app.screen is not self:
            self.app.pop_screen()
        self.app.push_screen(_grid(name))

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def on_screen_resume(self) -> None:
        if getattr(self, "_resumed", False):
            self.reload(self.table.cursor_id())
        self._resumed = True

    def action_back(self) -> None:
        self.app.switch_to("logs")

    # -- a new playground: name, dataset, first variant
    def action_new(self) -> None:
        self._read_choices()

    @work(thread=True, exclusive=True, group="choices")
    def _read_choices(self) -> None:
        from store.experiments import list_playgrounds

        try:
            choices = read_choices(self.store, self.app.project)
            taken = {p.name for p in list_playgrounds(self.store, self.app.project)}
        except Exception as exc:
            self.post_message(ChoicesRead("new", None, f"could not read the datasets and prompts: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(ChoicesRead("new", choices, extra=taken))

    def on_choices_read(self, event: ChoicesRead) -> None:
        if event.choices is None:
            self.notify(event.error, severity="error")
            return
        ask_new_playground(self, event.choices, event.extra or set(), self._create)

    @work(thread=True, group="write")
    def _create(self, name: str, dataset: str, variant: dict) -> None:
        from store.experiments import save_playground

        try:
            save_playground(self.store, self.app.project, name, dataset=dataset, dataset_version=None,
                            variants=[variant], author=default_author())
        except Exception as exc:
            self.post_message(WorkFailed(f"could not create the playground: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(PlaygroundCreated(name))

    def on_playground_created(self, event: PlaygroundCreated) -> None:
        self.notify(f"playground {event.name!r} created: a adds a variant, r runs it")
        self.reload(event.name)
        self.app.push_screen(_grid(event.name))

    def palette_commands(self) -> list[Command]:
        cmds = [Command("New playground", self.action_new, "a name, a dataset, the first variant")]
        cmds += [Command(f"Open playground: {row.name}", partial(self.open_playground, row.name),
                         _dataset_ref(row)) for row in self.table.rows[:50]]
        return cmds




def _grid(name: str):
    from tui.screens.playground import PlaygroundScreen  # the grid's module registers both screens

    return PlaygroundScreen(name)
