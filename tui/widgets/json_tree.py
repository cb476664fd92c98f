"""A JSON value as a collapsible, coloured tree; children are built when a node is expanded.
A string too long for its line (or with line breaks) is shown whole: as text, wrapped onto
lines of its own under its key."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.widgets.tree_keys import tree_bindings

MAX_CHILDREN = 1000  # items shown under one node; the pager (o) has the whole value


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


def wrap_text(value: str, width: int) -> list[str]:
    """``value`` as lines of at most ``width`` cells, its own line breaks kept."""
    out: list[str] = []
    for line in value.splitlines() or [""]:
        out += textwrap.wrap(line, width, replace_whitespace=False, drop_whitespace=True,
                             break_long_words=True, break_on_hyphens=False) or [""]
    return out


class JsonTree(Tree):
    """A JSON value as a collapsible tree with colours; children are added on expand."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="json.down"),
        Binding("k", "cursor_up", "Up", show=False, id="json.up"),
        *tree_bindings("json"),
    ]

    def __init__(self, **kw) -> None:
        super().__init__("value", **kw)
        self.show_root = False
        self.guide_depth = 2

    def set_value(self, value: Any) -> None:
        self._value = value
        self._filled_width = self._text_width(0)
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
            if i >= MAX_CHILDREN:
                node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN} more (press o to open the whole value)",
                                   style="dim"))
                break
            key = str(k) if isinstance(value, dict) else f"[{k}]"
            if isinstance(v, (dict, list)) and v:
                kind = f"{{{len(v)}}}" if isinstance(v, dict) else f"[{len(v)}]"
                label = Text.assemble((key, "bold cyan"), " ", (kind, "dim"))
                node.add(label, data={"value": v, "filled": False}, allow_expand=True)
            elif isinstance(v, str) and self._too_long(node, key, v):
                self._add_text(node, key, v)
            else:
                node.add_leaf(_leaf_text(key, v))

    def _depth(self, node: TreeNode) -> int:
        depth = 0
        while node.parent is not None:
            depth += 1
            node = node.parent
        return depth

    def _text_width(self, depth: int) -> int:
        """Cells a leaf at ``depth`` has for its label (each level above indents it by 2)."""
        width = self.scrollable_content_region.width
        if not width:  # hidden until now: the pane it fills, less a scrollbar
            width = (self.parent.size.width - 2) if self.parent is not None and self.parent.size.width else 40
        return max(20, width - 2 * max(0, depth - 1) - 1)

    def _too_long(self, node: TreeNode, key: str, value: str) -> bool:
        room = self._text_width(self._depth(node) + 1) - len(key) - 2
        return "\n" in value or len(orjson.dumps(value)) > room

    def _add_text(self, node: TreeNode, key: str, value: str) -> None:
        """A long string as text: what fits after its key, the rest wrapped on lines below."""
        depth = self._depth(node) + 1  # of the key's line
        first_room = max(10, self._text_width(depth) - 2 - len(key) - 2)  # its ▼ takes 2
        line_room = self._text_width(depth + 1)
        head, _, tail = value.partition("\n")
        first = wrap_text(head, first_room)
        rest = wrap_text(" ".join(first[1:]), line_room) if len(first) > 1 else []
        if tail or value.endswith("\n"):
            rest += wrap_text(tail, line_room)
        label = Text.assemble((key, "bold cyan"), ": ", (first[0], "green"))
        child = node.add(label, data={"text": True}, allow_expand=True, expand=True)
        for line in rest[:MAX_CHILDREN]:
            child.add_leaf(Text(line, style="green"))
        if len(rest) > MAX_CHILDREN:
            child.add_leaf(Text(f"… {len(rest) - MAX_CHILDREN} more lines (press o to open the whole value)",
                                style="dim"))

    def on_resize(self) -> None:
        """Wrapped text follows the width (the tree is built again, its first levels open)."""
        value = getattr(self, "_value", None)
        if value is not None and abs(self._text_width(0) - self._filled_width) >= 4:
            self.set_value(value)

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
