"""A row's audit trail (issue 11 part 4): who changed what, when, from what to what, newest
first (``store.audit.audit_log``), over the row's id and, for a trace's root row, its review
queue entry. Pushed by focused review's `w` and the Trace screen's `w`; escape goes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message

from store.audit import audit_log
from tui.format import ago, fmt_time
from tui.messages import WorkFailed
from tui.screens.dataset_history import HistoryBase
from tui.widgets.paged_table import Column
from tui.widgets.word_diff import json_text, value_diff

LIMIT = 500  # entries read


def change_summary(entry: dict, width: int = 60) -> str:
    """``before -> after`` on one line."""
    def short(v: Any) -> str:
        s = json_text(v) if v is not None else "∅"
        s = " ".join(s.split())
        return s if len(s) <= width // 2 else s[: width // 2 - 1] + "…"

    before, after = entry.get("before"), entry.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        # a field holding an object (scores, metadata, a queue state): only the keys that changed
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k, _GONE) != after.get(k, _GONE)]
        if keys:
            return " · ".join(f"{k}: {short(before.get(k))} → {short(after.get(k))}" for k in keys)
    return f"{short(before)} → {short(after)}"


_GONE = object()


class AuditTrailScreen(HistoryBase):
    """The audit trail of one row (a span, by row id)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("q", "back", "Back", show=False, id="audit.quit_back"),
        Binding("j", "down", "Down", show=False, id="audit.down"),
        Binding("k", "up", "Up", show=False, id="audit.up"),
        Binding("tab", "switch_focus", "Detail", show=False, id="audit.focus"),
        Binding("r", "refresh", "Refresh", id="audit.refresh"),
    ]
    HELP = ("Audit trail: every change to this row, newest first: who, when, which field, from what to what."
            " The detail below shows the whole change (removed words struck, added words green).")

    @dataclass
    class Read(Message):
        entries: list

    def __init__(self, project: str, row_id: str) -> None:
        super().__init__()
        self.project = project
        self.row_id = row_id
        self.entries: list = []

    def columns(self) -> list[Column]:
        return [
            Column("when", "when", lambda e, w: Text(fmt_time(e["created"])), width=14),
            Column("ago", "", lambda e, w: Text(ago(e["created"]), style="dim"), width=9, show_from=100),
            Column("who", "who", lambda e, w: Text(e["author"] or "", style="bold"), width=12, narrow=((100, 9),)),
            Column("what", "what", lambda e, w: Text(
                f"{e['field']}" + ("" if e["object_type"] == "span" else f" ({e['object_type']})")), width=18,
                narrow=((100, 12),)),
            Column("change", "change", lambda e, w: Text(change_summary(e, w), no_wrap=True, overflow="ellipsis")),
        ]

    def load(self) -> None:
        self._read()

    def action_refresh(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="audit")
    def _read(self) -> None:
        store = self.store
        try:
            entries = audit_log(store, self.row_id, limit=LIMIT)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the audit trail of {self.row_id}: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(self.Read(entries))

    def on_audit_trail_screen_read(self, event: Read) -> None:
        self.entries = event.entries
        n = len(event.entries)
        head = Text()
        head.append("Audit trail ", style="bold")
        head.append(self.row_id, style="cyan")
        head.append(f" · {n}{'+' if n >= LIMIT else ''} change{'s' if n != 1 else ''}, newest first", style="dim")
        if not n:
            head.append(" · nothing changed by a person yet", style="dim italic")
        self.head(head)
        keyed = [dict(e, _key=str(i)) for i, e in enumerate(event.entries)]
        self.show_rows(keyed, lambda e: e["_key"])

    def render_detail(self, e: Any) -> Text:
        out = Text()
        out.append(f"{e['author']}", style="bold")
        out.append(f" changed {e['field']} of {e['object_type']} {e['object_id']}", style="")
        out.append(f"  {e['created'][:19].replace('T', ' ')} UTC\n\n", style="dim")
        before, after = e.get("before"), e.get("after")
        if before is None:
            out.append("+ ", style="green")
            out.append(json_text(after))
        elif after is None:
            out.append("- ", style="red")
            out.append(json_text(before))
        else:
            left, right = value_diff(before, after)
            out.append("- ", style="red")
            out.append_text(left)
            out.append("\n+ ", style="green")
            out.append_text(right)
        return out
