"""The span tree of a trace: one line per span with a waterfall bar (when it ran against the
trace's start and end), its type, name, duration and tokens. Children are added a page at a
time by whoever reads them (the tree never reads the store); a "… N more" leaf stands for the
rest of a long list of children."""

from __future__ import annotations

from typing import Iterator, Optional

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.format import fmt_duration, fmt_tokens
from tui.widgets.tree_keys import tree_bindings

BAR = 16
TYPE_STYLE = {"llm": "magenta", "tool": "cyan", "task": "green", "function": "yellow", "eval": "blue",
              "score": "blue", "review": "bright_magenta"}


def waterfall(info, node, width: int = BAR) -> Text:
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


def node_label(info, node, *, bar: int = BAR, found: Optional[bool] = None) -> Text:
    """``found``: None when no find is active; else whether this span matches (◆), with a
    blank for the others so that the bars stay aligned."""
    t = Text()
    if found is not None:
        t.append("◆" if found else " ", style="bold yellow")
    t.append_text(waterfall(info, node, bar))
    # The error mark and the duration lead (a narrow tree cuts the end of the line; NO_COLOR
    # hides red); durations take at most 5 cells, so the names line up after them.
    t.append(" ! " if node.has_error else " ", style="bold red")
    t.append(f"{fmt_duration(node.duration):>5} ", style="dim")
    typ = (node.type or "?")[:4]
    t.append(f"{typ:<4} ", style=TYPE_STYLE.get(node.type or "", "white"))
    detached = getattr(node, "detached", "")
    if detached:  # shown under the root, not under its logged parent
        t.append("↺ " if detached == "cycle" else "? ", style="bold yellow")
    t.append(node.name or node.span_id, style="bold" if node.children else "")
    if detached:
        t.append(f"  (parent {'cycle' if detached == 'cycle' else 'missing'})", style="yellow")
    if node.tokens:
        t.append(f" {fmt_tokens(node.tokens)} tok", style="dim")
    return t


class SpanTree(Tree):
    """Span nodes carry ``data = {"node": SpanNode, "loaded": n}``; a "more" leaf carries
    ``{"more_of": parent}``. ``info`` (the trace's bounds) is set before spans are added."""

    HELP_GROUP = "Span tree"
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="trace.down"),
        Binding("k", "cursor_up", "Up", show=False, id="trace.up"),
        Binding("g,home", "first_span", "First span", show=False, id="trace.first"),
        Binding("G,end", "last_span", "Last span shown", show=False, id="trace.last"),
        *tree_bindings("tree", skip=("home", "end")),  # g/G and home/end: first/last span
    ]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.show_root = False
        self.guide_depth = 2
        self.info = None
        self.found: Optional[set[str]] = None  # span ids a find matched (None: no find)

    # -- building
    def _label(self, n) -> Text:
        # A narrow tree (80 columns) gives the names the room a 16-cell bar would take.
        bar = BAR if (self.app.size.width or 120) >= 110 else 8
        return node_label(self.info, n, bar=bar, found=(n.span_id in self.found) if self.found else None)

    def add_span(self, parent: TreeNode, n) -> TreeNode:
        return parent.add(self._label(n), data={"node": n, "loaded": 0}, allow_expand=n.children > 0)

    def add_children(self, node: TreeNode, kids: list) -> None:
        """Append the next page of ``node``'s children; keep a "… N more" leaf after them
        while some are not loaded."""
        data = node.data
        if data.get("more_node") is not None:
            data["more_node"].remove()
            data["more_node"] = None
        for k in kids:
            self.add_span(node, k)
        data["loaded"] += len(kids)
        total = data["node"].children
        if data["loaded"] < total:
            data["more_node"] = node.add_leaf(
                Text(f"… {total - data['loaded']} more (enter to load)", style="dim italic"), data={"more_of": node})
        else:
            data["more"] = False

    def set_found(self, span_ids: Optional[set[str]]) -> None:
        """Mark the spans a find matched (◆); None ends the find."""
        self.found = span_ids or None
        for node in self.all_span_nodes():
            node.set_label(self._label(node.data["node"]))

    # -- reading
    def all_span_nodes(self, node: Optional[TreeNode] = None) -> Iterator[TreeNode]:
        """Every span node added so far, expanded or not, in tree order."""
        for c in (node or self.root).children:
            if c.data and "node" in c.data:
                yield c
                yield from self.all_span_nodes(c)

    def visible_span_nodes(self) -> list[TreeNode]:
        """The span nodes a user can see (under expanded parents), in tree order."""
        out: list[TreeNode] = []

        def walk(n: TreeNode) -> None:
            for c in n.children:
                if c.data and "node" in c.data:
                    out.append(c)
                if c.is_expanded:
                    walk(c)

        walk(self.root)
        return out

    def child_span(self, parent: TreeNode, span_id: str) -> Optional[TreeNode]:
        return next((c for c in parent.children if c.data and "node" in c.data and c.data["node"].span_id == span_id),
                    None)

    # -- moving
    def goto(self, node: TreeNode) -> None:
        """Put the cursor on a node, even one added a moment ago.

        Tree.move_cursor uses the node's line number, which Textual only computes when it rebuilds
        its line cache (on the next refresh); reading the lines rebuilds it now.
        """
        self._tree_lines  # noqa: B018 - rebuilds the line cache so node._line is current
        self.move_cursor(node)

    def action_first_span(self) -> None:
        """The top of the tree (the root span)."""
        nodes = self.visible_span_nodes()
        if nodes:
            self.goto(nodes[0])

    def action_last_span(self) -> None:
        """The last span the tree shows (under expanded parents)."""
        nodes = self.visible_span_nodes()
        if nodes:
            self.goto(nodes[-1])

    def reveal_node(self, node: TreeNode) -> None:
        """Expand every parent of ``node`` and put the cursor on it."""
        parent = node.parent
        while parent is not None and parent is not self.root:
            parent.expand()
            parent = parent.parent
        self.goto(node)
