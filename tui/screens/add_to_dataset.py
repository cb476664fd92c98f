"""Add logged rows to a dataset: a small dialog picks the dataset (most recently changed first;
type to filter, or type a new name to create one) and the mapping (expected from auto / output
/ expected / none, metadata on or off, tags on or off), then the store adds the selection as
ONE version (``store.datasets.from_selection``) in a worker. A span already in the dataset
(the same origin) is updated, never duplicated.

``ask_add_to_dataset(screen, selection, description)`` is the way in: the Logs screen's `a`
and batch action, the Trace screen's `a`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from store.audit import default_author
from store.datasets import EXPECTED_FROM, from_selection, list_datasets
from tui.actions import write_in_thread
from tui.registry import BatchAction
from tui.widgets.line_input import LineInput

EXPECTED_HELP = {
    "auto": "its expected when set, else its output",
    "output": "the span's output",
    "expected": "the span's expected (empty when unset)",
    "none": "left empty",
}
HINT = "enter adds · ↑/↓ pick a dataset · escape cancels"
NEW = "\x00new"  # the option id of "a new dataset named as typed"


@dataclass(frozen=True)
class AddChoice:
    dataset: str
    expected_from: str = "auto"
    metadata: bool = True
    tags: bool = True


class AddToDatasetScreen(ModalScreen[Optional[AddChoice]]):
    """Pick a dataset (or name a new one) and the mapping; enter adds, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="add_dataset.cancel"),
        # priority: the name field (an Input) would take the arrows as its own scrolling
        Binding("down", "move(1)", "Next dataset", show=False, priority=True, id="add_dataset.down"),
        Binding("up", "move(-1)", "Previous dataset", show=False, priority=True, id="add_dataset.up"),
        Binding("ctrl+o", "cycle_expected", "Expected from", id="add_dataset.expected"),
        Binding("ctrl+g", "toggle_metadata", "Metadata", id="add_dataset.metadata"),
        Binding("ctrl+t", "toggle_tags", "Tags", id="add_dataset.tags"),
    ]
    DEFAULT_CSS = """
    AddToDatasetScreen { align: center middle; }
    AddToDatasetScreen #ds-list { height: auto; max-height: 10; }
    AddToDatasetScreen #ds-mapping { padding: 1 0 0 0; height: auto; }
    """

    @dataclass
    class DatasetsRead(Message):
        datasets: list

    def __init__(self, project: str, description: str, note: str = "") -> None:
        super().__init__()
        self.project = project
        self.description = description
        self.note = note
        self.datasets: list = []  # DatasetInfo, most recently changed first
        self.expected_from = "auto"
        self.metadata = True
        self.tags = True
        self._loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Add {self.description} to a dataset", classes="dialog-title")
            if self.note:
                yield Static(Text(self.note, style="dim"))
            yield LineInput(placeholder="type to filter, or a new dataset's name", id="ds-name")
            yield OptionList(id="ds-list")
            yield Static("", id="ds-mapping")
            yield Static(HINT, classes="dialog-hint", id="ds-hint")

    def on_mount(self) -> None:
        self.query_one("#ds-name").focus()
        self._show_mapping()
        self._read()

    @work(thread=True, exclusive=True, group="datasets")
    def _read(self) -> None:
        store = self.app.store
        try:
            datasets = list_datasets(store, self.project)
        except Exception:
            datasets = []  # a new name still works
        finally:
            store.release_thread()
        self.post_message(self.DatasetsRead(datasets))

    def on_add_to_dataset_screen_datasets_read(self, event: DatasetsRead) -> None:
        self.datasets = event.datasets
        self._loaded = True
        self._fill()

    # -- the list
    def typed(self) -> str:
        return self.query_one("#ds-name", Input).value.strip()

    def _fill(self) -> None:
        typed = self.typed()
        low = typed.lower()
        shown = [d for d in self.datasets if low in d.name.lower()]
        opts = [Option(_label(d), id=d.name) for d in shown]
        if typed and not any(d.name == typed for d in self.datasets):
            opts.append(Option(Text.assemble(("+ new dataset ", "green"), (repr(typed), "bold green")), id=NEW))
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options(opts)
        exact = next((i for i, d in enumerate(shown) if d.name == typed), None)
        ol.highlighted = exact if exact is not None else (0 if opts else None)
        ol.display = bool(opts)
        if not opts:
            self._hint("no datasets yet: type a name for a new one" if self._loaded else "reading the datasets…")
        else:
            self._hint()

    def _hint(self, text: str = "", error: bool = False) -> None:
        hint = self.query_one("#ds-hint", Static)
        if text:
            hint.update(Text(text, style="bold red" if error else "yellow"))
        else:
            hint.update(HINT)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._loaded:
            self._fill()

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def chosen(self) -> Optional[str]:
        """The dataset enter would add to: the highlighted one, else the name typed."""
        ol = self.query_one(OptionList)
        if ol.highlighted is not None and ol.option_count:
            opt = ol.get_option_at_index(ol.highlighted)
            return self.typed() if opt.id == NEW else opt.id
        return self.typed() or None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._submit()

    def _submit(self) -> None:
        name = self.chosen()
        if not name:
            self._hint("pick a dataset, or type a name for a new one", error=True)
            return
        self.dismiss(AddChoice(name, self.expected_from, self.metadata, self.tags))

    # -- the mapping
    def _show_mapping(self) -> None:
        t = Text()
        t.append("         input  ", style="dim")
        t.append("the span's input\n")
        t.append("ctrl+o expected ", style="dim")
        t.append(self.expected_from, style="bold")
        t.append(f" ({EXPECTED_HELP[self.expected_from]})\n", style="dim")
        t.append("ctrl+g metadata ", style="dim")
        t.append("on" if self.metadata else "off", style="bold" if self.metadata else "bold red")
        t.append("\nctrl+t tags     ", style="dim")
        t.append("on" if self.tags else "off", style="bold" if self.tags else "bold red")
        self.query_one("#ds-mapping", Static).update(t)

    def action_cycle_expected(self) -> None:
        self.expected_from = EXPECTED_FROM[(EXPECTED_FROM.index(self.expected_from) + 1) % len(EXPECTED_FROM)]
        self._show_mapping()

    def action_toggle_metadata(self) -> None:
        self.metadata = not self.metadata
        self._show_mapping()

    def action_toggle_tags(self) -> None:
        self.tags = not self.tags
        self._show_mapping()

    def action_cancel(self) -> None:
        self.dismiss(None)


def _label(d) -> Text:
    t = Text(d.name, style="bold")
    t.append(f"  {d.records:,} records", style="dim")
    if d.version:
        t.append(f" · version {d.version}", style="dim")
    return t


def add_result(store, sel, name: str, expected_from: str, metadata: bool, tags: bool, author: str) -> str:
    """Add the selection (in a worker); the one line the user is told."""
    r = from_selection(store, name, sel, expected_from=expected_from, metadata=metadata, tags=tags, author=author)
    new = " (a new dataset)" if r.created_dataset else ""
    if r.version is None:
        if r.unchanged:
            return f"nothing changed: {r.unchanged} already in {name!r} as they are (no new version){new}"
        return f"nothing to add to {name!r}: no spans in the selection{new}"
    return f"added {r.added}, updated {r.updated} to {name!r} (version {r.version}){new}"


def ask_add_to_dataset(screen, sel, desc: str) -> None:
    """The dialog, then the write in a worker; the screen is told with ``WriteDone``."""
    note = "each trace adds its root span" if sel.shape == "traces" else ""

    def done(choice: Optional[AddChoice]) -> None:
        if choice is not None:
            write_in_thread(screen, "{result}", add_result, sel, choice.dataset, choice.expected_from,
                            choice.metadata, choice.tags, default_author(), changed=False,
                            failed="could not add to the dataset")

    screen.app.push_screen(AddToDatasetScreen(sel.project, desc, note), done)


ADD_TO_DATASET = BatchAction("dataset", "Add to a dataset…", ask_add_to_dataset,
                             palette="Add selection to a dataset", help="marked rows, all matching, or the current row")
