"""A dataset's history: its versions (VersionsScreen), what changed between two versions
record by record and field by field (DiffScreen), and one record's revisions
(RecordHistoryScreen). Changed strings show a word-level highlight (tui.widgets.word_diff).

Each is pushed over the screen that opened it (escape goes back). The store is read in
worker threads that post typed messages; a failure is a one-line notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Optional

import orjson
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from store.audit import default_author
from store.datasets import FIELDS, get_dataset, diff_versions, list_versions, record_history, restore, snapshot
from tui.actions import write_in_thread
from tui.format import ago, fmt_time, preview
from tui.messages import WorkFailed, WriteDone
from tui.registry import BtScreen, Command
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import Column, ListSource, PagedTable
from tui.widgets.word_diff import ADDED, REMOVED, json_text, value_diff

CHANGE_MARK = {"added": ("+", "bold green"), "updated": ("~", "bold yellow"), "deleted": ("-", "bold red")}


# -- formatting

def counts_text(added: int, updated: int, deleted: int) -> Text:
    t = Text()
    for n, sign, style in ((added, "+", "green"), (updated, "~", "yellow"), (deleted, "-", "red")):
        if t:
            t.append(" ")
        t.append(f"{sign}{n}", style=style if n else "dim")
    return t


def change_cell(change: str) -> Text:
    sign, style = CHANGE_MARK.get(change, ("?", ""))
    return Text(sign, style=style)


def record_diff(change: str, before: Any, after: Any, fields: list[str]) -> Text:
    """A record's change field by field: each changed field with its before (removed words
    struck in red) and after (added words in green); unchanged fields named on one line."""
    out = Text()
    sign, style = CHANGE_MARK.get(change, ("?", ""))
    out.append(f"{sign} {change}", style=style)
    for f in fields:
        a = getattr(before, f) if before is not None else None
        b = getattr(after, f) if after is not None else None
        out.append(f"\n\n{f}\n", style="bold underline")
        if before is None:
            out.append("+ ", style="green")
            out.append(json_text(b), style=ADDED)
        elif after is None:
            out.append("- ", style="red")
            out.append(json_text(a), style=REMOVED)
        else:
            left, right = value_diff(a, b)
            out.append("- ", style="red")
            out.append_text(_indent(left))
            out.append("\n+ ", style="green")
            out.append_text(_indent(right))
    same = [f for f in FIELDS if f not in fields]
    if same and before is not None and after is not None:
        out.append(f"\n\nunchanged: {', '.join(same)}", style="dim")
    return out


def _indent(text: Text) -> Text:
    """Continuation lines under the first, after the `- `/`+ ` gutter."""
    if "\n" not in text.plain:
        return text
    lines = text.split("\n", allow_blank=True)
    out = Text()
    for i, line in enumerate(lines):
        if i:
            out.append("\n  ")
        out.append_text(line)
    return out


# -- the shared shape: a header line, the table, the detail below it

class HistoryTable(PagedTable):
    HELP_GROUP = "Table"


class HistoryBase(BtScreen):
    """A header, a paged table of ``rows`` over a list, and (``DETAIL``) a detail pane below."""

    DETAIL: ClassVar[bool] = True
    DEFAULT_CSS = """
    HistoryBase #h-head { height: auto; padding: 0 1; }
    HistoryBase #h-table { height: 1fr; }
    HistoryBase.with-detail #h-table { height: 2fr; min-height: 4; }
    HistoryBase #h-detail { height: 3fr; border-top: solid $primary-darken-2; padding: 0 1; }
    HistoryBase #h-detail:focus { border-top: solid $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="h-head")
        yield HistoryTable(self.columns(), markable=self.MARKABLE, id="h-table")
        if self.DETAIL:
            with VerticalScroll(id="h-detail"):
                yield Static("", id="h-detail-text")
        yield KeyBar()

    MARKABLE: ClassVar[bool] = False

    def columns(self) -> list[Column]:
        raise NotImplementedError

    def on_mount(self) -> None:
        if self.DETAIL:
            self.add_class("with-detail")
        self.table.focus()
        self.load()

    def load(self) -> None:
        raise NotImplementedError

    @property
    def table(self) -> HistoryTable:
        return self.query_one(HistoryTable)

    def head(self, text: Text) -> None:
        self.query_one("#h-head", Static).update(text)

    loaded = False  # the first read arrived

    def show_rows(self, rows: list, row_id: Callable[[Any], str], keep_key: Optional[str] = None) -> None:
        self.loaded = True
        self.table.set_source(ListSource(rows, row_id), keep_key)

    def current_row(self) -> Any:
        return self.table.current_row()

    def detail(self, text: Text) -> None:
        self.query_one("#h-detail-text", Static).update(text)
        self.query_one("#h-detail", VerticalScroll).scroll_home(animate=False)

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        if self.DETAIL:
            self.detail(self.render_detail(event.row))

    def render_detail(self, row: Any) -> Text:
        return Text()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_down(self) -> None:
        self.table.action_cursor_down()

    def action_up(self) -> None:
        self.table.action_cursor_up()

    def action_switch_focus(self) -> None:
        if not self.DETAIL:
            return
        box = self.query_one("#h-detail", VerticalScroll)
        (self.table if box.has_focus else box).focus()

    def on_work_failed(self, event: WorkFailed) -> None:
        self.notify(event.message, severity="error")


# -- versions

class VersionsScreen(HistoryBase):
    """A dataset's versions, newest first."""

    DETAIL = False
    MARKABLE = True
    BINDINGS = [
        Binding("escape", "back", "Back", id="versions.back"),
        Binding("q", "back", "Back", show=False, id="versions.quit_back"),
        Binding("enter", "open", "Open read-only", id="versions.open"),
        Binding("d", "diff", "Diff", id="versions.diff"),
        Binding("space", "mark", "Mark", id="versions.mark"),
        Binding("R", "restore", "Restore", id="versions.restore"),
        Binding("s", "snapshot", "Snapshot", id="versions.snapshot"),
        Binding("r", "refresh", "Refresh", show=False, id="versions.refresh"),
    ]
    HELP = ("Versions: newest first. d diffs the cursor's version with the latest; space marks a version,"
            " then d diffs the marked one with the cursor's. R restores (as a new version: history is kept),"
            " s names a snapshot, enter opens a version read-only.")

    @dataclass
    class VersionsRead(Message):
        versions: list  # newest first
        records: int
        latest: int

    def __init__(self, project: str, dataset: str) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.versions: list = []
        self.latest = 0
        self.records = 0
        self.marked: Optional[int] = None

    def columns(self) -> list[Column]:
        return [
            Column("version", "version", lambda v, w: Text(str(v.version), justify="right"), width=7),
            Column("when", "when", lambda v, w: Text(ago(v.created)), width=9),
            Column("who", "who", lambda v, w: Text(v.author or ""), width=12, narrow=((100, 8),)),
            Column("changes", "changes", lambda v, w: counts_text(v.added, v.updated, v.deleted), width=16),
            Column("snapshots", "snapshots", lambda v, w: Text(", ".join(v.snapshots), style="cyan"), width=14,
                   show_from=90),
            Column("note", "note", lambda v, w: Text(v.note or "", style="dim")),
        ]

    def load(self, keep_key: Optional[str] = None) -> None:
        self._keep = keep_key
        self._read()

    @work(thread=True, exclusive=True, group="versions")
    def _read(self) -> None:
        try:
            versions = list_versions(self.store, self.project, self.dataset)
            info = get_dataset(self.store, self.project, self.dataset)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the versions of {self.dataset!r}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.VersionsRead(list(reversed(versions)), info.records, info.version or 0))

    def on_versions_screen_versions_read(self, event: VersionsRead) -> None:
        self.versions, self.records, self.latest = event.versions, event.records, event.latest
        if self.marked is not None and all(v.version != self.marked for v in self.versions):
            self.marked = None
        self.show_rows(self.versions, lambda v: str(v.version), getattr(self, "_keep", None))
        self.table.marked = {str(self.marked)} if self.marked is not None else set()
        self._update_head()

    def _update_head(self) -> None:
        t = Text()
        t.append(f"{self.dataset}", style="bold")
        t.append(f" · {len(self.versions)} version{'s' if len(self.versions) != 1 else ''} · latest "
                 f"{self.latest} · {self.records:,} records", style="dim")
        if self.marked is not None:
            t.append(f"\nversion {self.marked} marked: d diffs it with the cursor's version · space unmarks",
                     style="bold magenta")
        else:
            t.append("\nd diff with the latest · space mark, then d diffs marked vs cursor · R restore · s snapshot",
                     style="dim")
        self.head(t)

    def cursor_version(self) -> Optional[int]:
        row = self.current_row()
        return row.version if row is not None else None

    def action_open(self) -> None:
        v = self.cursor_version()
        if v is None:
            return
        try:
            from tui.screens.datasets import DatasetRecordsScreen
        except ImportError:
            self.notify("the dataset records screen is not in this build", severity="warning")
            return
        self.app.push_screen(DatasetRecordsScreen(self.project, self.dataset, v))

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_mark(self) -> None:
        """Mark the cursor's version (one at a time) for d; space on it again unmarks."""
        v = self.cursor_version()
        if v is None:
            return
        self.marked = None if self.marked == v else v
        self.table.marked = {str(self.marked)} if self.marked is not None else set()
        self.table.refresh()
        if self.marked is not None:
            self.table.cursor_row += 1  # as marking rows does elsewhere: on to the next one
        self._update_head()

    def action_diff(self) -> None:
        v = self.cursor_version()
        if v is None:
            return
        if self.marked is not None:
            if self.marked == v:
                self.notify("the marked version is the cursor's: move to another one, then d", severity="warning")
                return
            self.app.push_screen(DiffScreen(self.project, self.dataset, self.marked, v))
        elif v == self.latest:  # nothing differs from itself: what this version changed
            previous = next((x.version for x in self.versions if x.version < v), 0)
            self.app.push_screen(DiffScreen(self.project, self.dataset, previous, v))
        else:
            self.app.push_screen(DiffScreen(self.project, self.dataset, v, None))

    def action_restore(self) -> None:
        v = self.cursor_version()
        if v is None:
            return
        if v == self.latest:
            self.notify(f"version {v} is the latest: nothing to restore")
            return

        def picked(key: Optional[str]) -> None:
            if key == "restore":
                write_in_thread(self, "{result}", _restore, self.project, self.dataset, v, default_author(),
                                failed="could not restore")

        self.app.push_screen(MenuScreen(
            f"Restore {self.dataset!r} to version {v}?\nThis writes a new version (after {self.latest})"
            "\nequal to it; history is kept.", [("restore", f"Restore to version {v}"), ("cancel", "Cancel")]), picked)

    def action_snapshot(self) -> None:
        v = self.cursor_version()
        if v is None:
            return

        def done(name: Optional[str]) -> None:
            if name and name.strip():
                write_in_thread(self, f"snapshot {name.strip()!r} names version {v}", snapshot, self.project,
                                self.dataset, name.strip(), v, author=default_author(),
                                failed="could not save the snapshot")

        self.app.push_screen(PromptScreen(f"Name a snapshot of version {v} (an existing name moves):",
                                          placeholder="e.g. baseline-june"), done)

    def action_refresh(self) -> None:
        self.load(self.table.cursor_id())

    def after_write(self, event: WriteDone) -> None:
        # A restore's new version goes on top: the cursor goes to it.
        self.load(None if event.message.startswith("restored") else self.table.cursor_id())

    def palette_commands(self) -> list[Command]:
        return [
            Command("Diff the cursor's version with the latest", self.action_diff, "record by record"),
            Command("Restore the cursor's version", self.action_restore, "as a new version; history is kept"),
            Command("Snapshot the cursor's version", self.action_snapshot, "name it"),
        ]


def _restore(store, project: str, dataset: str, version: int, author: str) -> str:
    result = restore(store, project, dataset, version, author=author)
    if result.version is None:
        return f"nothing to restore: {dataset!r} already equals version {version}"
    return (f"restored {dataset!r} to version {version} as version {result.version}"
            f" (+{result.added} ~{result.updated} -{result.deleted})")


# -- diff

class DiffScreen(HistoryBase):
    """The records that differ between two versions, and the current one's field-by-field diff."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="diff.back"),
        Binding("q", "back", "Back", show=False, id="diff.quit_back"),
        Binding("j", "down", "Next record", show=False, id="diff.down"),
        Binding("k", "up", "Previous record", show=False, id="diff.up"),
        Binding("tab", "switch_focus", "Table/detail", id="diff.focus"),
        Binding("H", "history", "Record history", id="diff.history"),
    ]
    HELP = ("Diff: one row per record that differs (+ added, ~ updated, - deleted); below, the current record"
            " field by field, removed words struck in red, added in green. tab moves between the rows and"
            " the detail; H shows the record's history.")

    @dataclass
    class DiffRead(Message):
        changes: list
        a: int
        b: int
        latest: int

    def __init__(self, project: str, dataset: str, from_version: int, to_version: Optional[int] = None) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.from_version = from_version
        self.to_version = to_version
        self.changes: list = []

    def columns(self) -> list[Column]:
        return [
            Column("change", " ", lambda c, w: change_cell(c.change), width=1),
            Column("id", "record", lambda c, w: Text(c.id), width=26, narrow=((100, 16),)),
            Column("fields", "fields", lambda c, w: Text(", ".join(c.fields)), width=28, narrow=((100, 18),)),
            Column("input", "input", lambda c, w: Text(preview_of(c))),
        ]

    def load(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="diff")
    def _read(self) -> None:
        try:
            info = get_dataset(self.store, self.project, self.dataset)
            latest = info.version or 0
            b = latest if self.to_version is None else self.to_version
            changes = diff_versions(self.store, self.project, self.dataset, self.from_version, b)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not diff {self.dataset!r}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.DiffRead(changes, self.from_version, b, latest))

    def on_diff_screen_diff_read(self, event: DiffRead) -> None:
        self.changes = event.changes
        n = {k: sum(1 for c in event.changes if c.change == k) for k in ("added", "updated", "deleted")}
        t = Text()
        t.append(f"{self.dataset}", style="bold")
        t.append(f" · version {event.a} -> version {event.b}{' (latest)' if event.b == event.latest else ''}")
        if event.a > event.b:
            t.append(" (backwards)", style="dim")
        t.append(" · ")
        t.append_text(counts_text(n["added"], n["updated"], n["deleted"]))
        t.append(f" · {len(event.changes)} record{'s' if len(event.changes) != 1 else ''} differ", style="dim")
        self.head(t)
        if not event.changes:
            self.detail(Text(f"versions {event.a} and {event.b} hold the same records", style="dim"))
        self.show_rows(event.changes, lambda c: c.id)

    def render_detail(self, row: Any) -> Text:
        head = Text(f"{row.id}\n", style="bold")
        head.append_text(record_diff(row.change, row.before, row.after, row.fields))
        return head

    def action_history(self) -> None:
        row = self.current_row()
        if row is not None:
            self.app.push_screen(RecordHistoryScreen(self.project, self.dataset, row.id))


def preview_of(change: Any) -> str:
    rec = change.after if change.after is not None else change.before
    value = rec.input if rec is not None else None
    return preview(orjson.dumps(value).decode(), 200)


# -- one record's history

class RecordHistoryScreen(HistoryBase):
    """A record's revisions, newest first, and the selected one's before/after."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="record_history.back"),
        Binding("q", "back", "Back", show=False, id="record_history.quit_back"),
        Binding("j", "down", "Newer/older", show=False, id="record_history.down"),
        Binding("k", "up", "Previous", show=False, id="record_history.up"),
        Binding("tab", "switch_focus", "Table/detail", id="record_history.focus"),
    ]
    HELP = ("Record history: every version that changed this record, newest first; below, what that version"
            " changed, removed words struck in red, added in green.")

    @dataclass
    class HistoryRead(Message):
        revisions: list = field(default_factory=list)  # newest first

    def __init__(self, project: str, dataset: str, record_id: str) -> None:
        super().__init__()
        self.project = project
        self.dataset = dataset
        self.record_id = record_id
        self.revisions: list = []

    def columns(self) -> list[Column]:
        return [
            Column("version", "version", lambda r, w: Text(str(r.version), justify="right"), width=7),
            Column("when", "when", lambda r, w: Text(ago(r.created)), width=9),
            Column("who", "who", lambda r, w: Text(r.author or ""), width=12, narrow=((100, 8),)),
            Column("change", "change", lambda r, w: _change_word(r.change), width=9),
            Column("fields", "fields", lambda r, w: Text(", ".join(r.fields))),
        ]

    def load(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="record-history")
    def _read(self) -> None:
        try:
            revisions = record_history(self.store, self.project, self.dataset, self.record_id)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the history of {self.record_id}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.HistoryRead(list(reversed(revisions))))

    def on_record_history_screen_history_read(self, event: HistoryRead) -> None:
        self.revisions = event.revisions
        t = Text()
        t.append(f"{self.dataset}", style="bold")
        t.append(f" · record {self.record_id} · {len(self.revisions)} revision"
                 f"{'s' if len(self.revisions) != 1 else ''}, newest first", style="dim")
        self.head(t)
        self.show_rows(self.revisions, lambda r: str(r.version))

    def render_detail(self, row: Any) -> Text:
        head = Text(f"version {row.version} · {fmt_time(row.created)} · {row.author}\n", style="bold")
        head.append_text(record_diff(row.change, row.before, row.after, row.fields))
        return head


def _change_word(change: str) -> Text:
    sign, style = CHANGE_MARK.get(change, ("?", ""))
    return Text(f"{sign} {change}", style=style)
