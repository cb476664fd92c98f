"""The Trace screen: a lazily loaded span tree with a waterfall, and the span detail.

Every read and write of the store runs in a worker thread, which reports back with a typed
message; an error reaches the user as a one-line notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Optional

import orjson
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Header, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from engine.chat import span_markdown, trace_markdown
from store.query.hints import completions
from store.selection import Selection
from store.traces import ancestors, children_of, find_in_trace, roots_of, span_by_rid, trace_info, trace_spans
from tui.actions import ask_comment, ask_tags, open_in_pager, read_expected, read_score_names
from tui.clipboard import copy_text
from tui.format import fmt_duration
from tui.messages import WorkFailed, WriteDone
from tui.registry import BtScreen, Command
from tui.screens.add_to_dataset import ask_add_to_dataset
from tui.screens.dialogs import MenuScreen, PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.span_detail import SpanDetail
from tui.widgets.span_tree import SpanTree

CHILD_PAGE = 200


@dataclass
class Route:
    """The way down to a span: the span ids from the top of the tree to it, and under each
    parent on the way its children from the first up to the page that holds the next one."""

    path: list[str]
    pages: dict[str, list] = field(default_factory=dict)


class TraceScreen(BtScreen):
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
        Binding("O", "open_value(True)", "Open as JSON", show=False, id="trace.open_json"),
        Binding("c", "comment", "Comment", show=False, id="trace.comment"),
        Binding("t", "tags", "Tags", show=False, id="trace.tags"),
        Binding("e", "edit_expected", "Edit expected", show=False, id="trace.expected"),
        Binding("s", "score", "Score", show=False, id="trace.score"),
        Binding("a", "add_to_dataset", "Add to dataset", show=False, id="trace.add_to_dataset"),
        Binding("ctrl+o", "open_in_playground", "Open in playground", show=False, id="trace.open_in_playground"),
        Binding("w", "audit", "Audit trail", show=False, id="trace.audit"),
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

    # -- what the workers report
    @dataclass
    class Opened(Message):
        """The trace's bounds, its top spans, the first one's children, the way to the span
        to show first (if one was asked for), and that span's detail (or why it failed)."""

        info: Any = None
        roots: list = field(default_factory=list)
        kids: list = field(default_factory=list)
        route: Optional[Route] = None
        span: Optional[dict] = None
        rid: Optional[int] = None
        error: str = ""

    @dataclass
    class ChildrenLoaded(Message):
        """A page of ``node``'s children, read from ``offset`` (None: the read failed)."""

        node: TreeNode
        kids: Optional[list]
        offset: int

    @dataclass
    class SpanLoaded(Message):
        span: dict
        rid: int

    @dataclass
    class RouteLoaded(Message):
        route: Route

    @dataclass
    class Found(Message):
        """The spans matching a find, and the way to the first."""

        text: str
        matches: list
        route: Optional[Route]

    @dataclass
    class TagsKnown(Message):
        """The project's tags (for completion), to edit the tags of ``span``."""

        span: dict
        tags: list[str]

    @dataclass
    class Copied(Message):
        text: str

    def __init__(self, root_span_id: str, focus_span: Optional[str] = None, *, project: Optional[str] = None) -> None:
        super().__init__()
        self.root_span_id = root_span_id
        self._project = project  # another project than the app's: an experiment's or a playground's rows
        self.focus_span = focus_span
        self.info = None
        self.span: Optional[dict] = None
        self._detail_rid: Optional[int] = None  # the span the detail shows (or is being read)
        self.matches: list[tuple[int, str, str]] = []  # (rid, span_id, the field that holds it)
        self.match_i = 0
        self.find_text = ""

    @property
    def project(self) -> str:
        return self._project or self.app.project

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="trace-status")
        with Horizontal(id="trace-body"):
            yield SpanTree("trace", id="tree")
            yield SpanDetail()
        yield KeyBar()

    @property
    def tree(self) -> SpanTree:
        return self.query_one(SpanTree)

    @property
    def detail(self) -> SpanDetail:
        return self.query_one(SpanDetail)

    def on_mount(self) -> None:
        self.tree.focus()
        self._open()

    # -- reading (worker threads)
    @work(thread=True, group="open")
    def _open(self) -> None:
        store = self.store
        try:
            info = trace_info(store, self.project, self.root_span_id)
            roots = roots_of(store, info)
            kids = children_of(store, info, roots[0].span_id, limit=CHILD_PAGE) if roots and roots[0].children else []
            route = self._route(info, self.focus_span) if self.focus_span else None
            target = roots[0] if roots else None
            if route is not None and len(route.path) > 1:
                target = next((k for k in route.pages.get(route.path[-2], []) if k.span_id == route.path[-1]), target)
            elif route is not None:
                target = next((r for r in roots if r.span_id == route.path[-1]), target)
            span = span_by_rid(store, target.rid) if target else None
        except Exception as exc:
            self.post_message(self.Opened(error=str(exc)))
            return
        finally:
            store.release_thread()
        self.post_message(self.Opened(info, roots, kids, route, span, target.rid if target else None))

    def _route(self, info, span_id: str) -> Route:
        """(In a worker thread.) The way down to ``span_id``."""
        route = Route(ancestors(self.store, info, span_id) + [span_id])
        for parent, child in zip(route.path, route.path[1:]):
            kids: list = []
            while True:
                page = children_of(self.store, info, parent, limit=CHILD_PAGE, offset=len(kids))
                kids += page
                if len(page) < CHILD_PAGE or any(k.span_id == child for k in page):
                    break
            route.pages[parent] = kids
        return route

    @work(thread=True, group="children")
    def _read_children(self, node: TreeNode, parent, offset: int) -> None:
        try:
            kids = children_of(self.store, self.info, parent.span_id, limit=CHILD_PAGE, offset=offset)
        except Exception as exc:
            kids = None
            self.post_message(WorkFailed(f"could not read the spans under {parent.name or parent.span_id}: {exc}"))
        finally:
            self.store.release_thread()
        self.post_message(self.ChildrenLoaded(node, kids, offset))

    @work(thread=True, exclusive=True, group="detail")
    def _read_span(self, rid: int) -> None:
        worker = get_current_worker()
        try:
            span = span_by_rid(self.store, rid)
        except Exception as exc:
            self.post_message(WorkFailed(str(exc)))
            return
        finally:
            self.store.release_thread()
        if not worker.is_cancelled:
            self.post_message(self.SpanLoaded(span, rid))

    @work(thread=True, exclusive=True, group="reveal")
    def _read_route(self, span_id: str) -> None:
        try:
            route = self._route(self.info, span_id)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not find span {span_id}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.RouteLoaded(route))

    @work(thread=True, exclusive=True, group="find")
    def _find(self, text: str) -> None:
        try:
            matches = find_in_trace(self.store, self.info, text)
            route = self._route(self.info, matches[0][1]) if matches else None
        except Exception as exc:
            self.post_message(WorkFailed(f"find failed: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(self.Found(text, matches, route))

    @work(thread=True, exclusive=True, group="tags")
    def _read_tags(self, span: dict) -> None:
        try:
            tags = [t for t, _ in completions(self.store, self.project).tags]
        except Exception:
            tags = []  # completion is a convenience: the tags can still be typed
        finally:
            self.store.release_thread()
        self.post_message(self.TagsKnown(span, tags))

    @work(thread=True, group="copy")
    def _copy_trace(self, markdown: bool) -> None:
        try:
            spans = trace_spans(self.store, self.info)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the trace: {exc}"))
            return
        finally:
            self.store.release_thread()
        text = trace_markdown(spans) if markdown else orjson.dumps(spans, option=orjson.OPT_INDENT_2).decode()
        self.post_message(self.Copied(text))

    # -- what they report (the UI thread)
    def on_trace_screen_opened(self, event: Opened) -> None:
        if event.error:  # stay (escape goes back); the status line says why
            self.query_one("#trace-status", Static).update(
                Text(f"{event.error} · press escape to go back", style="bold red"))
            return
        tree = self.tree
        self.info = tree.info = event.info
        self._update_status()
        for n in event.roots:
            tree.add_span(tree.root, n)
        tree.root.expand()
        first = tree.root.children[0] if tree.root.children else None
        if first is None:
            return
        if first.data["node"].children:
            tree.add_children(first, list(event.kids))
        first.expand()
        node = (self._follow(event.route) if event.route else None) or first
        if node is first:
            tree.goto(first)
        self._detail_rid = node.data["node"].rid  # the highlight this causes needs no read
        if event.span is not None and event.rid == self._detail_rid:
            self._render_span(event.span)
        else:
            self._read_span(self._detail_rid)

    def on_trace_screen_children_loaded(self, event: ChildrenLoaded) -> None:
        data = event.node.data
        data["loading"] = False
        step = data.pop("step_in", False)
        if event.kids is None or event.offset != data["loaded"]:
            return  # failed, or the children came another way meanwhile
        tree = self.tree
        tree.add_children(event.node, event.kids)
        if step and event.kids and tree.cursor_node is event.node:
            tree.goto(tree.child_span(event.node, event.kids[0].span_id))

    def on_trace_screen_span_loaded(self, event: SpanLoaded) -> None:
        if event.rid == self._detail_rid:  # not a span the cursor has left since
            self._render_span(event.span)

    def on_trace_screen_route_loaded(self, event: RouteLoaded) -> None:
        self._follow(event.route)

    def on_trace_screen_found(self, event: Found) -> None:
        self.matches, self.find_text, self.match_i = event.matches, event.text, 0
        self.tree.set_found({sid for _, sid, _ in event.matches})
        self._update_status()
        if not event.matches:
            self.notify(f"nothing in this trace contains {event.text!r}", severity="warning")
        elif event.route is not None:
            self._follow(event.route)
            self._show_match_tab()

    def on_trace_screen_copied(self, event: Copied) -> None:
        self._to_clipboard(event.text)

    def after_write(self, event: WriteDone) -> None:
        if event.changed and self._detail_rid is not None:
            self._read_span(self._detail_rid)

    # -- the tree
    def _load_children(self, node: TreeNode) -> None:
        """Read the next page of ``node``'s children (once at a time)."""
        data = node.data
        if not data or data.get("more") is False or data.get("loading"):
            return
        data["loading"] = True
        self._read_children(node, data["node"], data["loaded"])

    def _follow(self, route: Route) -> Optional[TreeNode]:
        """Add the nodes on the way down ``route``, expand them, and put the cursor on its span."""
        tree = self.tree
        node = tree.root
        for sid in route.path:
            if node is not tree.root:
                kids = route.pages.get(node.data["node"].span_id, [])
                if len(kids) > node.data["loaded"]:
                    tree.add_children(node, kids[node.data["loaded"]:])
            found = tree.child_span(node, sid)
            if found is None:
                return None
            if sid != route.path[-1]:
                found.expand()
            node = found
        tree.goto(node)
        return node

    def reveal(self, span_id: str) -> None:
        """Expand the way to a span and put the cursor on it (read from the store if need be)."""
        node = next((n for n in self.tree.all_span_nodes() if n.data["node"].span_id == span_id), None)
        if node is not None:
            self.tree.reveal_node(node)
        else:
            self._read_route(span_id)

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
        if "node" in data and data["node"].rid != self._detail_rid:
            self.show_span(data["node"].rid)

    def show_span(self, rid: int) -> None:
        self._detail_rid = rid
        self._read_span(rid)

    def _render_span(self, span: dict) -> None:
        self.span = span
        self.detail.show(span)

    # -- the detail
    def action_tab(self, step: int) -> None:
        self.detail.step_tab(step)

    def action_show_tab(self, tab: str) -> None:
        self.detail.show_tab(tab)

    # -- moving
    def action_next_span(self) -> None:
        self._step_match(1) if self.matches else self._step(1)

    def action_prev_span(self) -> None:
        self._step_match(-1) if self.matches else self._step(-1)

    def _step_match(self, d: int) -> None:
        """After a find, n/p go from match to match (escape ends the find)."""
        self.match_i = (self.match_i + d) % len(self.matches)
        self.reveal(self.matches[self.match_i][1])
        self._show_match_tab()
        self._update_status()

    def _show_match_tab(self) -> None:
        """The tab that holds the current match (an error shows on the Output tab; a match in
        the name alone leaves the tab as it is)."""
        field_name = self.matches[self.match_i][2]
        tab = {"error": "output", "name": None}.get(field_name, field_name)
        if tab and tab != self.detail.tab:
            self.detail.show_tab(tab)

    def _step(self, d: int) -> None:
        """Next/previous span in tree order, expanding as it goes (depth-first); into children
        not read yet once they arrive."""
        tree = self.tree
        cur = tree.cursor_node
        if d > 0 and cur is not None and cur.data and "node" in cur.data and cur.allow_expand:
            if cur.data["loaded"] == 0:
                cur.expand()
                cur.data["step_in"] = True
                self._load_children(cur)
                return
            cur.expand()
        nodes = tree.visible_span_nodes()
        if not nodes:
            return
        idx = nodes.index(cur) if cur in nodes else -1
        tree.goto(nodes[max(0, min(len(nodes) - 1, idx + d))])

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

    def action_back(self) -> None:
        if self.matches:  # first escape ends a find
            self.matches = []
            self.tree.set_found(None)
            self._update_status()
            return
        self.app.pop_screen()

    def action_find(self) -> None:
        def done(text: Optional[str]) -> None:
            if text and self.info is not None:
                self._find(text)

        self.app.push_screen(PromptScreen("Find in trace (name, input, output, expected, error, metadata):"), done)

    # -- copy, open
    def action_copy(self) -> None:
        items = [("span-json", "This span as JSON"), ("span-md", "This span as Markdown (for a chat)"),
                 ("trace-json", "Whole trace as JSON"), ("trace-md", "Whole trace as Markdown")]

        def picked(key: Optional[str]) -> None:
            if key:
                self.copy_as(key)

        self.app.push_screen(MenuScreen("Copy to the clipboard", items), picked)

    def copy_as(self, key: str) -> None:
        """span-json | span-md | trace-json | trace-md to the clipboard (see tui.clipboard)."""
        if self.span is None:
            return
        if key == "span-json":
            self._to_clipboard(orjson.dumps(self.span, option=orjson.OPT_INDENT_2).decode())
        elif key == "span-md":
            self._to_clipboard(span_markdown(self.span))
        else:
            self._copy_trace(key == "trace-md")

    def _to_clipboard(self, text: str, what: str = "") -> None:
        copy_text(self, text, what or f"{len(text):,} characters")

    def action_open_value(self, raw: bool = False) -> None:
        """The value of the tab shown, in $PAGER: as text (o) or as raw JSON (O)."""
        if self.span is not None:
            tab = self.detail.tab
            open_in_pager(self, self.span.get(tab) if tab in self.span else self.span, raw=raw)

    # -- comments, tags
    def action_comment(self) -> None:
        if self.span is not None:
            span = self.span
            ask_comment(self, self.project, span["id"],
                        f"Comment on {span['span_attributes'].get('name') or span['id']}", "comment added")

    def action_tags(self) -> None:
        if self.span is not None:
            self._read_tags(self.span)

    def _span_title(self, what: str) -> str:
        span = self.span or {}
        return f"{what} {(span.get('span_attributes') or {}).get('name') or span.get('id')} ({span.get('id')})"

    def action_edit_expected(self) -> None:
        if self.span is not None:
            read_expected(self, self.project, self.span["id"], self._span_title("Expected of"))

    def action_score(self) -> None:
        if self.span is not None:
            read_score_names(self, self.project, self.span["id"], self._span_title("Score"))

    def action_add_to_dataset(self) -> None:
        """This span into a dataset (new or existing)."""
        if self.span is not None:
            ask_add_to_dataset(self, Selection(self.project, "", "spans", (self.span["id"],)), "this span")

    def action_open_in_playground(self) -> None:
        """This span in the playground: its input becomes a row, a prompt's variables filled from it."""
        if self.span is not None:
            from tui.screens.open_in_playground import open_span_in_playground

            open_span_in_playground(self, self.project, self.span["id"])

    def action_audit(self) -> None:
        """The audit trail of the span shown: who changed what, when, from what."""
        if self.span is not None:
            from tui.screens.audit_trail import AuditTrailScreen

            self.app.push_screen(AuditTrailScreen(self.project, self.span["id"]))

    def on_trace_screen_tags_known(self, event: TagsKnown) -> None:
        ask_tags(self, self.project, event.span["id"], event.span.get("tags") or [], event.tags,
                 "Tags (comma-separated)")

    def palette_commands(self) -> list[Command]:
        return [
            Command("Copy span as Markdown", partial(self.copy_as, "span-md"), "for a chat"),
            Command("Copy trace as Markdown", partial(self.copy_as, "trace-md"), "for a chat"),
            Command("Copy span as JSON", partial(self.copy_as, "span-json"), "to the clipboard"),
            Command("Copy trace as JSON", partial(self.copy_as, "trace-json"), "to the clipboard"),
            Command("Find in trace", self.action_find, "marks matches; n/p step through them"),
            Command("Score this span", self.action_score, "name=value in [0, 1], audited"),
            Command("Edit expected of this span", self.action_edit_expected, "JSON; $EDITOR when set"),
            Command("Add this span to a dataset", self.action_add_to_dataset, "new or existing; a"),
        ]
