"""A JSON value as a collapsible, coloured tree; children are built when a node is expanded."""

from __future__ import annotations

from typing import Any

import orjson
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

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
            if i >= MAX_CHILDREN:
                node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN} more (press o to open the whole value)",
                                   style="dim"))
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
