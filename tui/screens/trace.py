"""The Trace screen: a lazily loaded span tree with a waterfall, and the span detail."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from typing import Any, Optional

import orjson
from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, Tab, Tabs, Tree
from textual.widgets.tree import TreeNode

from store.audit import default_author
from store.feedback import add_comment, set_tags
from store.traces import (
    SpanNode,
    TraceInfo,
    ancestors,
    children_of,
    find_in_trace,
    is_chat,
    rid_of,
    roots_of,
    span_by_rid,
    span_markdown,
    trace_info,
    trace_markdown,
    trace_spans,
)
from tui.keybar import KeyBar
from tui.format import fmt_duration, fmt_tokens
from tui.screens.dialogs import LastTokenSuggester, MenuScreen, PromptScreen

TABS = ("input", "output", "expected", "metadata", "metrics", "scores", "comments")
BAR = 16
CHILD_PAGE = 200
TYPE_STYLE = {"llm": "magenta", "tool": "cyan", "task": "green", "function": "yellow", "eval": "blue",
              "score": "blue", "review": "bright_magenta"}


def waterfall(info: TraceInfo, node: SpanNode, width: int = BAR) -> Text:
    """A bar showing when the span ran, against the trace's start and end."""
    t = Text()
    if info.start is None or info.end is None or node.start is None or info.end <= info.start:
        return Text(" " * width)
    total = info.end - info.start
    a = int((node.start - info.start) / total * width)
    end = node.end if node.end is not None else node.start
    b = max(a + 1, int(round((end - info.start) / total * width)))
    a, b = max(0, min(a, width - 1)), max(1, min(b, width))
    t.append("·" * a, style="dim")
    t.append("█" * (b - a), style="red" if node.has_error else TYPE_STYLE.get(node.type or "", "white"))
    t.append("·" * (width - b), style="dim")
    return t


def node_label(info: TraceInfo, node: SpanNode, *, bar: int = BAR, found: Optional[bool] = None) -> Text:
    """``found``: None when no find is active; else whether this span matches (◆), with a
    blank for the others so that the bars stay aligned."""
    t = Text()
    if found is not None:
        t.append("◆" if found else " ", style="bold yellow")
    t.append_text(waterfall(info, node, bar))
    # The error mark leads (a narrow tree cuts the end of the line; NO_COLOR hides red).
    t.append(" ! " if node.has_error else " ", style="bold red")
    typ = (node.type or "?")[:4]
    t.append(f"{typ:<4} ", style=TYPE_STYLE.get(node.type or "", "white"))
    t.append(node.name or node.span_id, style="bold" if node.children else "")
    extra = [fmt_duration(node.duration)]
    if node.tokens:
        extra.append(f"{fmt_tokens(node.tokens)} tok")
    t.append("  " + " ".join(e for e in extra if e), style="dim")
    return t


def render_value(value: Any, depth: int = 0) -> Any:
    """Chat messages as a conversation; strings as text; an object as its fields (strings
    shown as text, with their line breaks); anything else as coloured JSON."""
    if value is None:
        return Text("(none)", style="dim italic")
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, dict) and depth == 0 and value and not ("role" in value and "content" in value):
        parts = []
        for k, v in value.items():
            parts.append(Text(str(k), style="bold cyan"))
            if isinstance(v, str):
                parts.append(Text(v + "\n"))
            elif is_chat(v):
                parts.append(render_value(v, depth + 1))
            else:
                parts.append(_json_syntax(v))
        return Group(*parts)
    if is_chat(value) or (isinstance(value, dict) and "role" in value and ("content" in value or "tool_calls" in value)):
        msgs = value if isinstance(value, list) else [value]
        parts = []
        for m in msgs:
            role = str(m.get("role", "?"))
            style = {"system": "yellow", "user": "cyan", "assistant": "green", "tool": "magenta"}.get(role, "white")
            head = Text(f"▌ {role}", style=f"bold {style}")
            if m.get("name"):
                head.append(f" ({m['name']})", style="dim")
            parts.append(head)
            content = m.get("content")
            if isinstance(content, str):
                parts.append(Text(content + "\n"))
            elif content is not None:
                parts.append(_json_syntax(content))
            if m.get("tool_calls"):
                parts.append(Text("tool calls:", style="dim"))
                parts.append(_json_syntax(m["tool_calls"]))
        return Group(*parts)
    return _json_syntax(value)


def _json_syntax(value: Any) -> Syntax:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    if len(text) > 200_000:
        text = text[:200_000] + "\n… (truncated; press o to open the whole value)"
    return Syntax(text, "json", word_wrap=True, background_color="default")


def _leaf_text(key: str, value: Any) -> Text:
    t = Text()
    if key:
        t.append(key, style="bold cyan")
        t.append(": ")
    if isinstance(value, str):
        t.append(orjson.dumps(value).decode()[:2000], style="green")
    elif isinstance(value, bool) or value is None:
        t.append(orjson.dumps(value).decode(), style="magenta italic")
    else:
        t.append(str(value), style="yellow")
    return t


class JsonTree(Tree):
    """A JSON value as a collapsible tree with colours; children are added on expand."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="json.down"),
        Binding("k", "cursor_up", "Up", show=False, id="json.up"),
    ]

    def __init__(self, **kw) -> None:
        super().__init__("value", **kw)
        self.show_root = False
        self.guide_depth = 2

    def set_value(self, value: Any) -> None:
        self.clear()
        self._fill(self.root, value)
        self.root.expand()
        for child in self.root.children[:20]:
            if child.allow_expand:
                self._ensure(child)
                child.expand()

    def _fill(self, node: TreeNode, value: Any) -> None:
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for i, (k, v) in enumerate(items):
            if i >= 1000:
                node.add_leaf(Text(f"… {len(items) - 1000} more (press o to open the whole value)", style="dim"))
                break
            key = str(k) if isinstance(value, dict) else f"[{k}]"
            if isinstance(v, (dict, list)) and v:
                kind = f"{{{len(v)}}}" if isinstance(v, dict) else f"[{len(v)}]"
                label = Text.assemble((key, "bold cyan"), " ", (kind, "dim"))
                node.add(label, data={"value": v, "filled": False}, allow_expand=True)
            else:
                node.add_leaf(_leaf_text(key, v))

    def _ensure(self, node: TreeNode) -> None:
        data = node.data
        if data and not data.get("filled"):
            data["filled"] = True
            self._fill(node, data["value"])

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        event.stop()
        self._ensure(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()


class SpanTree(Tree):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="trace.down"),
        Binding("k", "cursor_up", "Up", show=False, id="trace.up"),
    ]

    def goto(self, node: TreeNode) -> None:
        """Put the cursor on a node, even one added a moment ago.

        Tree.move_cursor uses the node's line number, which Textual only computes when it rebuilds
        its line cache (on the next refresh); reading the lines rebuilds it now.
        """
        self._tree_lines  # noqa: B018 - rebuilds the line cache so node._line is current
        self.move_cursor(node)


class TraceScreen(Screen):
    """One trace: the span tree (left) and the selected span's detail (right)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="trace.back"),
        Binding("q", "back", "Back", show=False, id="trace.quit_back"),
        Binding("n", "next_span", "Next span", id="trace.next"),
        Binding("p", "prev_span", "Prev span", id="trace.prev"),
        Binding("f", "find", "Find", id="trace.find"),
        Binding("slash", "find", "Find", show=False, id="trace.find2"),
        Binding("y", "copy", "Copy", id="trace.copy"),
        Binding("o", "open_value", "Open in pager", id="trace.open"),
        Binding("c", "comment", "Comment", show=False, id="trace.comment"),
        Binding("t", "tags", "Tags", show=False, id="trace.tags"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="trace.tab_next"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="trace.tab_prev"),
        Binding("1", "show_tab('input')", "Input", show=False, id="trace.tab_input"),
        Binding("2", "show_tab('output')", "Output", show=False, id="trace.tab_output"),
        Binding("3", "show_tab('expected')", "Expected", show=False, id="trace.tab_expected"),
        Binding("4", "show_tab('metadata')", "Metadata", show=False, id="trace.tab_metadata"),
        Binding("5", "show_tab('metrics')", "Metrics", show=False, id="trace.tab_metrics"),
        Binding("6", "show_tab('scores')", "Scores", show=False, id="trace.tab_scores"),
        Binding("7", "show_tab('comments')", "Comments", show=False, id="trace.tab_comments"),
    ]

    HELP = "Trace: the tree shows when each span ran (bar) and what it cost. enter/space expands; 1-7 pick a tab."

    def __init__(self, root_span_id: str, focus_span: Optional[str] = None) -> None:
        super().__init__()
        self.root_span_id = root_span_id
        self.focus_span = focus_span
        self.info: Optional[TraceInfo] = None
        self.span: Optional[dict] = None
        self.detail_tab = "input"  # the detail tab shown
        self.matches: list[tuple[int, str]] = []
        self.match_ids: set[str] = set()
        self.match_i = 0
        self.find_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="trace-status")
        with Horizontal(id="trace-body"):
            yield SpanTree("trace", id="tree")
            # One tab strip over one value view (a text view or a JSON tree), refilled when the
            # tab or the span changes: seven mounted panes cost ~40 widgets and a slow first paint.
            with Vertical(id="detail-box"):
                yield Tabs(*(Tab(tab.capitalize(), id=tab) for tab in TABS), id="detail")
                with VerticalScroll(id="s-value"):
                    yield Static("", id="v-value", classes="value")
                yield JsonTree(id="j-value", classes="json")
        yield KeyBar()

    @property
    def store(self):
        return self.app.store

    def on_mount(self) -> None:
        tree = self.query_one(SpanTree)
        tree.show_root = False
        tree.guide_depth = 2
        tree.focus()
        try:
            self.info = trace_info(self.store, self.app.project, self.root_span_id)
        except Exception as exc:
            # Never pop from inside mount (Textual's Header is still wiring up): say so, stay.
            self.query_one("#trace-status", Static).update(
                Text(f"{exc} · press escape to go back", style="bold red"))
            return
        self._update_status()
        for n in roots_of(self.store, self.info):
            self._add_node(tree.root, n)
        tree.root.expand()
        first = tree.root.children[0] if tree.root.children else None
        if first is not None:
            first.expand()
            tree.goto(first)
            self.show_span(first.data["node"].rid)
        if self.focus_span:
            self.reveal(self.focus_span)

    def _label(self, n: SpanNode) -> Text:
        # A narrow tree (80 columns) gives the names the room a 16-cell bar would take.
        bar = BAR if (self.app.size.width or 120) >= 110 else 8
        return node_label(self.info, n, bar=bar, found=(n.span_id in self.match_ids) if self.match_ids else None)

    def _add_node(self, parent: TreeNode, n: SpanNode) -> TreeNode:
        return parent.add(self._label(n), data={"node": n, "loaded": 0}, allow_expand=n.children > 0)

    def _relabel(self) -> None:
        """Labels of the loaded nodes again (after a find marks or unmarks them)."""
        def walk(node: TreeNode) -> None:
            for c in node.children:
                if c.data and "node" in c.data:
                    c.set_label(self._label(c.data["node"]))
                walk(c)

        walk(self.query_one(SpanTree).root)

    def _load_children(self, node: TreeNode) -> None:
        data = node.data
        if not data or data.get("more") is False:
            return
        n: SpanNode = data["node"]
        offset = data["loaded"]
        kids = children_of(self.store, self.info, n.span_id, limit=CHILD_PAGE, offset=offset)
        if data.get("more_node") is not None:
            data["more_node"].remove()
            data["more_node"] = None
        for k in kids:
            self._add_node(node, k)
        data["loaded"] = offset + len(kids)
        if data["loaded"] < n.children:
            data["more_node"] = node.add_leaf(
                Text(f"… {n.children - data['loaded']} more (enter to load)", style="dim italic"),
                data={"more_of": node},
            )
        else:
            data["more"] = False

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded) -> None:
        data = event.node.data
        if data and "node" in data and data["loaded"] == 0 and data["node"].children:
            self._load_children(event.node)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected) -> None:
        data = event.node.data or {}
        if "more_of" in data:
            self._load_children(data["more_of"])

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data or {}
        if "node" in data:
            self.show_span(data["node"].rid)

    @work(thread=True, exclusive=True, group="detail")
    def show_span(self, rid: int) -> None:
        try:
            span = span_by_rid(self.store, rid)
        except Exception as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        finally:
            self.store.release_thread()
        self.app.call_from_thread(self._render_span, span)

    def _render_span(self, span: dict) -> None:
        self.span = span
        self._show_detail(self.detail_tab)

    def _tab_content(self, span: dict, tab: str) -> tuple[str, Any]:
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
                    from datetime import datetime, timezone

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
        if nested and value and not is_chat(value) and not (isinstance(value, dict) and "role" in value):
            return "tree", value
        return "text", render_value(value)

    def _show_detail(self, tab: str) -> None:
        """Fill the value view with ``tab`` of the current span."""
        self.detail_tab = tab
        if self.span is None:
            return
        kind, content = self._tab_content(self.span, tab)
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
        if event.tab is not None and event.tab.id != self.detail_tab:
            self._show_detail(event.tab.id)

    # -- navigation
    def _tree_nodes(self) -> list[TreeNode]:
        out: list[TreeNode] = []

        def walk(n: TreeNode) -> None:
            for c in n.children:
                if c.data and "node" in c.data:
                    out.append(c)
                if c.is_expanded:
                    walk(c)

        walk(self.query_one(SpanTree).root)
        return out

    def action_next_span(self) -> None:
        self._step_match(1) if self.matches else self._step(1)

    def action_prev_span(self) -> None:
        self._step_match(-1) if self.matches else self._step(-1)

    def _step_match(self, d: int) -> None:
        """After a find, n/p go from match to match (escape ends the find)."""
        self.match_i = (self.match_i + d) % len(self.matches)
        self.reveal(self.matches[self.match_i][1])
        self._update_status()

    def _update_status(self) -> None:
        """The line above the tree: the trace's size and time, and the find in progress."""
        info = self.info
        if info is None:
            return
        dur = fmt_duration((info.end - info.start) if info.start is not None and info.end is not None else None)
        line = Text(f"trace {info.root_span_id} · {info.spans} spans · {dur}"
                    + (f" · {info.errors} with errors" if info.errors else ""), style="dim")
        if self.matches:
            line.append(f"  ◆ match {self.match_i + 1} of {len(self.matches)} for {self.find_text!r}"
                        " · n/p next/previous · escape ends the find", style="bold yellow")
        self.query_one("#trace-status", Static).update(line)

    def _step(self, d: int) -> None:
        """Next/previous span in tree order, expanding as it goes (depth-first)."""
        tree = self.query_one(SpanTree)
        cur = tree.cursor_node
        if d > 0 and cur is not None and cur.data and "node" in cur.data and cur.allow_expand and not cur.is_expanded:
            cur.expand()
            if cur.data["loaded"] == 0:
                self._load_children(cur)
        nodes = self._tree_nodes()
        if not nodes:
            return
        idx = nodes.index(cur) if cur in nodes else -1
        nxt = nodes[max(0, min(len(nodes) - 1, idx + d))]
        tree.goto(nxt)

    def action_back(self) -> None:
        if self.matches:  # first escape ends a find
            self.matches, self.match_ids = [], set()
            self._relabel()
            self._update_status()
            return
        self.app.pop_screen()

    def reveal(self, span_id: str) -> None:
        """Expand the path to a span and put the cursor on it."""
        path = ancestors(self.store, self.info, span_id) + [span_id]
        tree = self.query_one(SpanTree)
        node = tree.root
        for sid in path:
            found = None
            for _ in range(10_000):
                found = next((c for c in node.children if c.data and "node" in c.data and c.data["node"].span_id == sid), None)
                if found is not None or not (node.data and node.data.get("more_node")):
                    break
                self._load_children(node)
            if found is None:
                return
            if sid != span_id:
                found.expand()
                if found.data["loaded"] == 0:
                    self._load_children(found)
            node = found
        tree.goto(node)

    def action_find(self) -> None:
        def done(text: Optional[str]) -> None:
            if not text:
                return
            self.matches = find_in_trace(self.store, self.info, text)
            self.match_ids = {sid for _, sid in self.matches}
            self.find_text, self.match_i = text, 0
            self._relabel()
            self._update_status()
            if not self.matches:
                self.notify(f"nothing in this trace contains {text!r}", severity="warning")
                return
            self.reveal(self.matches[0][1])

        self.app.push_screen(PromptScreen("Find in trace (name, input, output, error, metadata):"), done)

    def action_tab(self, step: int) -> None:
        i = TABS.index(self.detail_tab) if self.detail_tab in TABS else 0
        self.action_show_tab(TABS[(i + step) % len(TABS)])

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#detail", Tabs).active = tab
        self._show_detail(tab)

    # -- copy, open
    def action_copy(self) -> None:
        items = [("span-json", "This span as JSON"), ("span-md", "This span as Markdown (for a chat)"),
                 ("trace-json", "Whole trace as JSON"), ("trace-md", "Whole trace as Markdown")]

        def picked(key: Optional[str]) -> None:
            if key:
                self.copy_as(key)

        self.app.push_screen(MenuScreen("Copy to the clipboard", items), picked)

    def copy_as(self, key: str) -> None:
        """span-json | span-md | trace-json | trace-md to the clipboard (OSC 52: works over SSH)."""
        if self.span is None:
            return
        if key.startswith("span"):
            text = (orjson.dumps(self.span, option=orjson.OPT_INDENT_2).decode() if key == "span-json"
                    else span_markdown(self.span))
        else:
            spans = trace_spans(self.store, self.info)
            text = (orjson.dumps(spans, option=orjson.OPT_INDENT_2).decode() if key == "trace-json"
                    else trace_markdown(spans))
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text):,} characters to the clipboard (OSC 52)")

    def action_open_value(self) -> None:
        if self.span is None:
            return
        tab = self.detail_tab
        value = self.span.get(tab) if tab in self.span else self.span
        text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        pager = os.environ.get("PAGER") or "less"
        editor = os.environ.get("EDITOR")
        cmd = shlex.split(pager) if os.environ.get("PAGER") or not editor else shlex.split(editor) + ["-R"]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
            f.write(text)
            path = f.name
        os.chmod(path, 0o444)  # read-only: this is a view, not an edit
        try:
            with self.app.suspend():
                subprocess.run(cmd + [path], check=False)
        except Exception as exc:
            self.notify(f"could not open {cmd[0]}: {exc}", severity="error")
        finally:
            os.unlink(path)

    # -- comments, tags
    def action_comment(self) -> None:
        if self.span is None:
            return
        span = self.span

        def done(text: Optional[str]) -> None:
            if text and text.strip():
                add_comment(self.store, self.app.project, span["id"], text.strip(), default_author())
                self.notify("comment added")
                self.show_span(self._rid_of(span["id"]))

        self.app.push_screen(PromptScreen(f"Comment on {span['span_attributes'].get('name') or span['id']}"), done)

    def action_tags(self) -> None:
        if self.span is None:
            return
        span = self.span

        def done(text: Optional[str]) -> None:
            if text is None:
                return
            set_tags(self.store, self.app.project, span["id"], text.split(","), default_author())
            self.notify("tags saved")
            self.show_span(self._rid_of(span["id"]))

        from store.query.hints import completions

        tags = [t for t, _ in completions(self.store, self.app.project).tags]
        self.app.push_screen(PromptScreen("Tags (comma-separated)", value=", ".join(span.get("tags") or []),
                                          suggester=LastTokenSuggester(tags)), done)

    def _rid_of(self, row_id: str) -> int:
        return rid_of(self.store, self.info, row_id)
