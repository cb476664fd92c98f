"""Small modal dialogs: a one-line prompt, a pick-from-list menu, and the keys help."""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui.widgets.line_input import LineInput


class LastTokenSuggester(Suggester):
    """Completes the last comma-separated item (tags) or the last word (fields)."""

    def __init__(self, words: Iterable[str], sep: str = ",") -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.words = sorted(set(words))
        self.sep = sep

    async def get_suggestion(self, value: str) -> Optional[str]:
        head, _, last = value.rpartition(self.sep)
        stripped = last.lstrip()
        if not stripped:
            return None
        for w in self.words:
            if w.startswith(stripped) and w != stripped:
                return value + w[len(stripped):]
        return None


class PromptScreen(ModalScreen[Optional[str]]):
    """Ask for one line of text. Enter confirms, Escape cancels. With ``validate`` (text ->
    an error or None) a bad answer is said under the line, which keeps what was typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "",
                 suggester: Optional[Suggester] = None,
                 validate: Optional[Callable[[str], Optional[str]]] = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.suggester = suggester
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield LineInput(self.value, placeholder=self.placeholder, suggester=self.suggester, id="prompt-input")
            yield Static(self.hint or "enter to confirm · escape to cancel", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.validate(event.value) if self.validate else None
        if error:
            self.query_one(".dialog-hint", Static).update(Text(error, style="bold red"))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextEditScreen(ModalScreen[Optional[str]]):
    """Edit a few lines of text (e.g. JSON). ctrl+s saves: with ``validate`` (text -> an
    error, its line and column, or None) a bad text stays open, the error under it and the
    cursor at it. escape cancels; after an edit it asks for a second escape first."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit.save"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel"),
    ]

    def __init__(self, title: str, text: str,
                 validate: Optional[Callable[[str], Optional[tuple[str, int, int]]]] = None,
                 hint: str = "ctrl+s saves · escape cancels") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.validate = validate
        self.hint = hint
        self._leaving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog edit"):
            yield Label(self.title_text, classes="dialog-title")
            yield TextArea(self.text, id="edit-text", soft_wrap=True)
            yield Static("", id="edit-error")
            yield Static(self.hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#edit-error").display = False
        self.query_one(TextArea).focus()

    def _say(self, text: str) -> None:
        err = self.query_one("#edit-error", Static)
        err.update(Text(text, style="bold red"))
        err.display = True

    def on_text_area_changed(self) -> None:
        self._leaving = False

    def action_save(self) -> None:
        area = self.query_one(TextArea)
        found = self.validate(area.text) if self.validate else None
        if found:
            message, line, column = found
            self._say(message)
            area.cursor_location = (max(0, line - 1), max(0, column - 1))
            area.focus()
            return
        self.dismiss(area.text)

    def action_cancel(self) -> None:
        if self.query_one(TextArea).text != self.text and not self._leaving:
            self._leaving = True
            self._say("your edit is not saved: escape again throws it away, ctrl+s saves")
            return
        self.dismiss(None)


class MenuScreen(ModalScreen[Optional[str]]):
    """Pick one of several actions: arrows/j/k and enter, a digit, or escape."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="menu.cancel"),
        Binding("j", "down", "Down", show=False, id="menu.down"),
        Binding("k", "up", "Up", show=False, id="menu.up"),
    ]

    def __init__(self, title: str, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.items = items  # (id, label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            opts = []
            for i, (key, label) in enumerate(self.items):
                prefix = f"{i + 1}  " if i < 9 else "   "
                opts.append(Option(prefix + label, id=key))
            yield OptionList(*opts, id="menu-list")
            yield Static("enter or 1-9 to pick · escape to cancel", classes="dialog-hint")

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit() and event.character != "0":
            idx = int(event.character) - 1
            if idx < len(self.items):
                event.stop()
                self.dismiss(self.items[idx][0])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


DESC_WIDTH = 24


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, grouped: this screen's, then the app's."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False, id="help.close2"),
        Binding("q", "close", "Close", show=False, id="help.close3"),
    ]

    def __init__(self, groups: list[tuple[str, list[tuple[str, str, str]]]], intro: str = "") -> None:
        super().__init__()
        self.groups = groups
        self.intro = intro

    def compose(self) -> ComposeResult:
        text = Text()
        if self.intro:
            text.append(self.intro + "\n\n", style="italic")
        for title, rows in self.groups:
            text.append(title + "\n", style="bold underline")
            width = max((len(k) for k, _, _ in rows), default=4)
            # Descriptions line up, but a long one does not push every id off its line.
            dwidth = min(DESC_WIDTH, max((len(d) for _, d, _ in rows), default=8))
            for keys, desc, bid in rows:
                text.append(f"  {keys:<{width}}  ", style="bold")
                text.append(f"{desc:<{dwidth}}")
                text.append(f"  {bid}\n" if bid else "\n", style="dim")
            text.append("\n")
        text.append("Remap a key by its id (dim, right) in ~/.config/bt-tui/config.json, e.g.\n"
                    '  {"keymap": {"logs.filter": "slash,ctrl+f"}}\n', style="dim")
        with Vertical(classes="dialog help"):
            yield Label("Keys (escape to close)", classes="dialog-title")
            with VerticalScroll():
                yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
