"""A prompt's history: its versions (who, when, which model, what changed), the diff of two
versions field by field with the changed words highlighted, one version read-only, and restore
(a new version equal to an old one: history is never rewritten).

Pushed over the Prompts screen (escape goes back). The store is read in worker threads that
post typed messages; a failure is a one-line notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import orjson
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from store.audit import default_author
from store.prompts import PromptVersion, diff_prompts, get_prompt, prompt_history, save_prompt
from tui.actions import write_in_thread
from tui.clipboard import copy_text
from tui.format import ago
from tui.messages import WorkFailed, WriteDone
from tui.registry import BtScreen, Command
from tui.screens.dataset_history import HistoryBase
from tui.screens.dialogs import MenuScreen
from tui.screens.prompts import format_params, version_detail
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import Column
from tui.widgets.word_diff import ADDED, REMOVED, value_diff


# -- what changed

def field_label(name: str, before: Any = None, after: Any = None) -> str:
    """``messages[1].content`` -> ``message 2 text``; ``messages[2]`` added -> ``+message 3``."""
    if name.startswith("messages["):
        i = int(name[len("messages["):name.index("]")]) + 1
        rest = name[name.index("]") + 1:]
        if not rest:
            return f"+message {i}" if before is None else f"-message {i}"
        if rest == ".role":
            return f"message {i} role {before}→{after}"
        return f"message {i} text"
    if name == "model":
        return f"model {before or '—'}→{after or '—'}"
    return name.replace("_", " ")


def change_summary(prev: Optional[PromptVersion], cur: PromptVersion, older: list[PromptVersion]) -> str:
    """One line: what ``cur`` changed from ``prev`` (``= vK`` when it equals an older version
    K: a restore)."""
    if prev is None:
        return "first version"
    parts = [field_label(c["field"], c["before"], c["after"]) for c in diff_prompts(prev, cur)]
    same = next((o.version for o in reversed(older) if o.content() == cur.content()), None)
    text = ", ".join(parts) if parts else "description only"
    return f"= v{same} · {text}" if same is not None else text


def _indent(text: Text) -> Text:
    if "\n" not in text.plain:
        return text
    out = Text()
    for i, line in enumerate(text.split("\n", allow_blank=True)):
        if i:
            out.append("\n  ")
        out.append_text(line)
    return out


def _message_text(m: Optional[dict]) -> str:
    if m is None:
        return ""
    return f"[{m.get('role')}] {m.get('content')}"


def prompt_diff_text(a: PromptVersion, b: PromptVersion) -> Text:
    """Every part that changed from ``a`` to ``b``: its before (removed words struck in red)
    and after (added words in green)."""
    changes = diff_prompts(a, b)
    out = Text()
    out.append(f"{a.slug}  v{a.version} → v{b.version}", style="bold")
    out.append(f"  ({len(changes)} change{'s' if len(changes) != 1 else ''})", style="dim")
    if not changes:
        out.append("\n\nthe two versions hold the same messages, model, params and response format", style="dim")
        return out
    for c in changes:
        name, before, after = c["field"], c["before"], c["after"]
        out.append(f"\n\n{field_label(name, before, after)}\n", style="bold underline")
        if name.startswith("messages[") and name.endswith("]"):  # a whole message added or removed
            if before is None:
                out.append("+ ", style="green")
                out.append(_message_text(after), style=ADDED)
            else:
                out.append("- ", style="red")
                out.append(_message_text(before), style=REMOVED)
            continue
        if name == "params":
            before, after = format_params(before) or "none", format_params(after) or "none"
        left, right = value_diff(before if before is not None else "none", after if after is not None else "none")
        out.append("- ", style="red")
        out.append_text(_indent(left))
        out.append("\n+ ", style="green")
        out.append_text(_indent(right))
    return out


# -- the versions

class PromptHistoryScreen(HistoryBase):
    """A prompt's versions, newest first; below, the cursor's version."""

    MARKABLE = True
    BINDINGS = [
        Binding("escape", "back", "Back", id="prompt_history.back"),
        Binding("q", "back", "Back", show=False, id="prompt_history.quit_back"),
        Binding("enter", "open", "Show", id="prompt_history.open"),
        Binding("d", "diff", "Diff", id="prompt_history.diff"),
        Binding("space", "mark", "Mark", id="prompt_history.mark"),
        Binding("r", "restore", "Restore", id="prompt_history.restore"),
        Binding("y", "copy", "Copy JSON", show=False, id="prompt_history.copy"),
        Binding("tab", "switch_focus", "Table/detail", show=False, id="prompt_history.focus"),
    ]
    HELP = ("Prompt versions: newest first, each with what it changed (= vK: equal to version K, a restore)."
            " d diffs the cursor's version with the one before it; space marks a version, then d diffs the"
            " marked one with the cursor's. enter shows a version; r restores it (a new version equal to it:"
            " history is never rewritten).")

    @dataclass
    class HistoryRead(Message):
        versions: list = field(default_factory=list)  # newest first
        summaries: dict = field(default_factory=dict)  # version -> what it changed

    def __init__(self, project: str, slug: str) -> None:
        super().__init__()
        self.project = project
        self.slug = slug
        self.versions: list[PromptVersion] = []
        self.summaries: dict[int, str] = {}
        self.marked: Optional[int] = None

    def columns(self) -> list[Column]:
        return [
            Column("version", "version", lambda v, w: Text(f"v{v.version}", justify="right"), width=7),
            Column("when", "when", lambda v, w: Text(ago(v.created)), width=9),
            Column("who", "who", lambda v, w: Text(v.author or ""), width=12, narrow=((100, 8),)),
            Column("model", "model", lambda v, w: Text(v.model or "—"), width=14, narrow=((100, 10),)),
            Column("changes", "what changed", lambda v, w: Text(self.summaries.get(v.version, ""), style="dim")),
        ]

    def load(self, keep_key: Optional[str] = None) -> None:
        self._keep = keep_key
        self._read()

    @work(thread=True, exclusive=True, group="prompt-history")
    def _read(self) -> None:
        try:
            versions = prompt_history(self.store, self.project, self.slug)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the versions of {self.slug!r}: {exc}"))
            return
        finally:
            self.store.release_thread()
        summaries = {}
        for i, v in enumerate(versions):
            summaries[v.version] = change_summary(versions[i - 1] if i else None, v, versions[:max(0, i - 1)])
        self.post_message(self.HistoryRead(list(reversed(versions)), summaries))

    def on_prompt_history_screen_history_read(self, event: HistoryRead) -> None:
        self.versions, self.summaries = event.versions, event.summaries
        if self.marked is not None and all(v.version != self.marked for v in self.versions):
            self.marked = None
        self.show_rows(self.versions, lambda v: str(v.version), getattr(self, "_keep", None))
        self.table.marked = {str(self.marked)} if self.marked is not None else set()
        self._update_head()

    @property
    def latest(self) -> Optional[PromptVersion]:
        return self.versions[0] if self.versions else None

    def _update_head(self) -> None:
        t = Text()
        t.append(self.slug, style="bold")
        n = len(self.versions)
        t.append(f" · {n} version{'s' if n != 1 else ''}", style="dim")
        if self.latest is not None:
            t.append(f" · latest v{self.latest.version}", style="dim")
        if self.marked is not None:
            t.append(f"\nv{self.marked} marked: d diffs it with the cursor's version · space unmarks",
                     style="bold magenta")
        else:
            t.append("\nd diff with the version before · space mark, then d · enter show · r restore", style="dim")
        self.head(t)

    def render_detail(self, row: Any) -> Any:
        return version_detail(row, len(self.versions))

    def cursor(self) -> Optional[PromptVersion]:
        return self.current_row()

    def _version(self, number: int) -> Optional[PromptVersion]:
        return next((v for v in self.versions if v.version == number), None)

    def on_paged_table_row_selected(self, event) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        v = self.cursor()
        if v is not None:
            self.app.push_screen(PromptVersionScreen(v, self.summaries.get(v.version, ""),
                                                     latest=self.latest.version if self.latest else None))

    def action_mark(self) -> None:
        v = self.cursor()
        if v is None:
            return
        self.marked = None if self.marked == v.version else v.version
        self.table.marked = {str(self.marked)} if self.marked is not None else set()
        self.table.refresh()
        if self.marked is not None:
            self.table.cursor_row += 1
        self._update_head()

    def action_diff(self) -> None:
        cur = self.cursor()
        if cur is None:
            return
        if self.marked is not None:
            if self.marked == cur.version:
                self.notify("the marked version is the cursor's: move to another one, then d", severity="warning")
                return
            other = self._version(self.marked)
            if other is None:
                return
            a, b = (other, cur) if other.version < cur.version else (cur, other)
        else:
            a = next((v for v in self.versions if v.version < cur.version), None)
            if a is None:
                self.notify(f"v{cur.version} is the first version: nothing before it to diff with"
                            " (space marks a version to diff with another)", severity="warning")
                return
            b = cur
        self.app.push_screen(PromptDiffScreen(a, b))

    def action_restore(self) -> None:
        cur = self.cursor()
        latest = self.latest
        if cur is None or latest is None:
            return
        if cur.version == latest.version:
            self.notify(f"v{cur.version} is the latest: nothing to restore")
            return

        def picked(key: Optional[str]) -> None:
            if key == "restore":
                write_in_thread(self, "{result}", restore_version, self.project, self.slug, cur.version,
                                default_author(), failed="could not restore")

        self.app.push_screen(MenuScreen(
            f"Restore {self.slug} v{cur.version}?\nThis saves a new version (after v{latest.version})"
            " equal to it; history is kept.", [("restore", f"Restore v{cur.version}"), ("cancel", "Cancel")]), picked)

    def action_copy(self) -> None:
        v = self.cursor()
        if v is not None:
            copy_text(self, orjson.dumps(v.to_json(), option=orjson.OPT_INDENT_2).decode(), f"{v.ref} as JSON")

    def after_write(self, event: WriteDone) -> None:
        if event.changed:
            self.load(None)  # a restore's new version is on top: the cursor goes to it

    def palette_commands(self) -> list[Command]:
        return [
            Command("Diff the cursor's prompt version with the one before", self.action_diff, "word by word"),
            Command("Restore the cursor's prompt version", self.action_restore, "as a new version"),
            Command("Copy the cursor's prompt version as JSON", self.action_copy, "to the clipboard"),
        ]


def restore_version(store, project: str, slug: str, version: int, author: str) -> str:
    """Save version ``version``'s content as a new version (none when the latest equals it)."""
    old = get_prompt(store, project, slug, version)
    pv, made = save_prompt(store, project, slug, old.messages, model=old.model, params=old.params,
                           response_format=old.response_format, author=author)
    if not made:
        return f"no change: v{pv.version} already equals v{version}"
    return f"restored v{version} of {slug} as v{pv.version}"


# -- one version, a diff

class TextPageScreen(BtScreen):
    """A header line and a scrolling text: escape goes back."""

    DEFAULT_CSS = """
    TextPageScreen #t-head { height: auto; padding: 0 1; }
    TextPageScreen #t-body { height: 1fr; padding: 0 1; }
    """

    def head_text(self) -> Text:
        return Text()

    def body(self) -> Any:
        return Text()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.head_text(), id="t-head")
        with VerticalScroll(id="t-body"):
            yield Static(self.body(), id="t-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#t-body").focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_down(self) -> None:
        self.query_one("#t-body", VerticalScroll).scroll_down(animate=False)

    def action_up(self) -> None:
        self.query_one("#t-body", VerticalScroll).scroll_up(animate=False)


class PromptDiffScreen(TextPageScreen):
    """What changed between two versions of a prompt, part by part, word by word."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="prompt_diff.back"),
        Binding("q", "back", "Back", show=False, id="prompt_diff.quit_back"),
        Binding("j", "down", "Scroll down", show=False, id="prompt_diff.down"),
        Binding("k", "up", "Scroll up", show=False, id="prompt_diff.up"),
    ]
    HELP = "Prompt diff: each changed part, before (removed words struck in red) and after (added words in green)."

    def __init__(self, a: PromptVersion, b: PromptVersion) -> None:
        super().__init__()
        self.a, self.b = a, b

    def head_text(self) -> Text:
        t = Text()
        t.append(f"{self.a.slug}", style="bold")
        t.append(f" · v{self.a.version} ({self.a.author}, {ago(self.a.created)}) → v{self.b.version}"
                 f" ({self.b.author}, {ago(self.b.created)})", style="dim")
        return t

    def body(self) -> Text:
        return prompt_diff_text(self.a, self.b)


class PromptVersionScreen(TextPageScreen):
    """One version of a prompt, read-only."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="prompt_version.back"),
        Binding("q", "back", "Back", show=False, id="prompt_version.quit_back"),
        Binding("j", "down", "Scroll down", show=False, id="prompt_version.down"),
        Binding("k", "up", "Scroll up", show=False, id="prompt_version.up"),
        Binding("y", "copy", "Copy JSON", id="prompt_version.copy"),
    ]
    HELP = "A prompt version, read-only (r on the versions restores it as a new version)."

    def __init__(self, version: PromptVersion, summary: str = "", *, latest: Optional[int] = None) -> None:
        super().__init__()
        self.version = version
        self.summary = summary
        self.latest = latest

    def head_text(self) -> Text:
        t = Text()
        t.append(self.version.ref, style="bold")
        if self.latest is not None and self.version.version != self.latest:
            t.append(f"  read-only · the latest is v{self.latest} · r on the versions restores this one ",
                     style="bold black on yellow")
        if self.summary:
            t.append(f"\nchanged: {self.summary}", style="dim")
        return t

    def body(self) -> Any:
        return version_detail(self.version)

    def action_copy(self) -> None:
        copy_text(self, orjson.dumps(self.version.to_json(), option=orjson.OPT_INDENT_2).decode(),
                  f"{self.version.ref} as JSON")


__all__ = ["PromptHistoryScreen", "PromptDiffScreen", "PromptVersionScreen", "change_summary", "prompt_diff_text",
           "restore_version", "field_label"]
