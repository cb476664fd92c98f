"""A span's detail: one tab strip (Input, Output, Expected, Metadata, Metrics, Scores,
Comments) over one value view, a text view or a JSON tree, refilled when the tab or the span
changes (seven mounted panes cost ~40 widgets and a slow first paint)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, Tab, Tabs

from engine.chat import transcript
from tui.format import fmt_duration
from tui.widgets.json_tree import JsonTree
from tui.widgets.transcript import render_value

TABS = ("input", "output", "expected", "metadata", "metrics", "scores", "comments")
# Tab labels, longest first: the first set that fits the pane's width is shown (every tab
# stays visible on an 80-column terminal).
LABELS = (
    ("Input", "Output", "Expected", "Metadata", "Metrics", "Scores", "Comments"),
    ("Input", "Output", "Exp", "Meta", "Metrics", "Scores", "Comments"),
    ("In", "Out", "Exp", "Meta", "Metr", "Scores", "Cmts"),
)
TAB_PAD = 2  # a tab's blank either side


def labels_for(width: int) -> tuple[str, ...]:
    return next((ls for ls in LABELS if sum(len(x) + TAB_PAD for x in ls) <= width), LABELS[-1])


class SpanDetail(Vertical):
    """``#detail`` (the tabs), ``#s-value``/``#v-value`` (text) and ``#j-value`` (JSON tree)."""

    def __init__(self, id: str = "detail-box") -> None:
        super().__init__(id=id)
        self.span: Optional[dict] = None
        self.tab = "input"  # the tab shown

    def compose(self) -> ComposeResult:
        tabs = Tabs(*(Tab(label, id=tab) for tab, label in zip(TABS, LABELS[0])), id="detail")
        tabs.can_focus = False  # 1-7 and [ ] pick a tab: `tab` from the tree goes to the value
        yield tabs
        with VerticalScroll(id="s-value"):
            yield Static("", id="v-value", classes="value")
        yield JsonTree(id="j-value", classes="json")

    def on_resize(self) -> None:
        labels = labels_for(self.size.width)
        for tab, label in zip(self.query(Tab), labels):
            if tab.label_text != label:
                tab.label = label

    def show(self, span: dict) -> None:
        """Show ``span`` (in the current tab)."""
        self.span = span
        self.render_tab(self.tab)

    def show_tab(self, tab: str) -> None:
        self.query_one("#detail", Tabs).active = tab
        self.render_tab(tab)

    def step_tab(self, step: int) -> None:
        i = TABS.index(self.tab) if self.tab in TABS else 0
        self.show_tab(TABS[(i + step) % len(TABS)])

    def render_tab(self, tab: str) -> None:
        """Fill the value view with ``tab`` of the span."""
        self.tab = tab
        if self.span is None:
            return
        kind, content = self._content(self.span, tab)
        tree = self.query_one("#j-value", JsonTree)
        scroll = self.query_one("#s-value")
        if kind == "tree":
            tree.set_value(content)
            tree.display, scroll.display = True, False
        else:
            self.query_one("#v-value", Static).update(content)
            scroll.scroll_home(animate=False)
            tree.display, scroll.display = False, True

    @on(Tabs.TabActivated, "#detail")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id != self.tab:
            self.render_tab(event.tab.id)

    def _content(self, span: dict, tab: str) -> tuple[str, Any]:
        """What a detail tab shows for a span: ("tree", value) or ("text", renderable)."""
        if tab == "comments":
            cs = span.get("comments") or []
            if not cs:
                return "text", Text("no comments yet · press c to add one", style="dim italic")
            body = Text()
            for c in cs:
                body.append(f"{c['author']}", style="bold")
                body.append(f"  {c['created'][:19].replace('T', ' ')}\n", style="dim")
                body.append(c["text"] + "\n\n")
            return "text", body
        if tab == "scores":
            scores = span.get("scores") or {}
            if not scores:
                return "text", Text("no scores", style="dim italic")
            body = Text()
            for k, v in scores.items():
                bar = "█" * int(round((v or 0) * 20))
                body.append(f"{k:<24}", style="bold")
                body.append(f"{'null' if v is None else f'{v:.3f}':>6}  ")
                body.append(bar + "\n", style="green" if (v or 0) >= 0.5 else "red")
            return "text", body
        if tab == "metrics":
            m = dict(span.get("metrics") or {})
            if not m:
                return "text", Text("no metrics", style="dim italic")
            body = Text()
            start, end = m.get("start"), m.get("end")
            if isinstance(start, (int, float)) and isinstance(end, (int, float)):
                body.append(f"{'duration':<24}", style="bold")
                body.append(f"{fmt_duration(end - start)}\n")
            for k, v in m.items():
                body.append(f"{k:<24}", style="bold")
                if k in ("start", "end") and isinstance(v, (int, float)):
                    try:
                        when = datetime.fromtimestamp(v, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
                        body.append(f"{when} UTC", style="")
                        body.append(f"  ({v})\n", style="dim")
                        continue
                    except (OverflowError, OSError, ValueError):
                        pass
                body.append(f"{v:,}\n" if isinstance(v, int) and not isinstance(v, bool) else f"{v}\n")
            return "text", body
        if tab == "metadata":
            md = dict(span.get("metadata") or {})
            md["tags"] = span.get("tags")
            md["span_attributes"] = span.get("span_attributes")
            md["id"] = span["id"]
            md["span_id"] = span["span_id"]
            md["created"] = span["created"]
            if span.get("error") is not None:
                md["error"] = span["error"]
            return "tree", md
        if tab == "output" and span.get("error") is not None:
            # The error leads (in full, wrapped), then whatever output there is.
            parts = [Text("error", style="bold red"), render_value(span["error"])]
            if span.get("output") is not None:
                parts += [Text(""), Text("output", style="bold"), render_value(span["output"])]
            return "text", Group(*parts)
        value = span.get(tab)
        nested = isinstance(value, list) or (
            isinstance(value, dict) and any(isinstance(v, (dict, list)) and v for v in value.values()))
        if nested and value and transcript(value) is None:
            return "tree", value
        return "text", render_value(value)
