"""The keys every tree inherits from Textual (cursor, siblings, scrolling), given ids so the
keymap can name them and help shows them like every other binding."""

from __future__ import annotations

from textual.binding import Binding

_TREE_KEYS = (
    ("up", "cursor_up", "Up", "up"),
    ("down", "cursor_down", "Down", "down"),
    ("home", "scroll_home", "Top", "top"),
    ("end", "scroll_end", "Bottom", "bottom"),
    ("left", "scroll_left", "Scroll left", "left"),
    ("right", "scroll_right", "Scroll right", "right"),
    ("pageup", "page_up", "Page up", "page_up"),
    ("pagedown", "page_down", "Page down", "page_down"),
    ("ctrl+pageup", "page_left", "Page left", "page_left"),
    ("ctrl+pagedown", "page_right", "Page right", "page_right"),
    ("shift+left", "cursor_parent", "To parent", "parent"),
    ("shift+right", "cursor_parent_next_sibling", "To next ancestor", "next_ancestor"),
    ("shift+up", "cursor_previous_sibling", "Previous sibling", "prev_sibling"),
    ("shift+down", "cursor_next_sibling", "Next sibling", "next_sibling"),
    ("space", "toggle_node", "Expand/collapse", "toggle"),
    ("shift+space", "toggle_expand_all", "Expand/collapse all", "toggle_all"),
    ("enter", "select_cursor", "Select", "select"),
)


def tree_bindings(prefix: str, skip: tuple[str, ...] = ()) -> list[Binding]:
    """Textual's tree keys with ids ``PREFIX.NAME`` (keys in ``skip`` are the caller's own)."""
    return [Binding(key, action, label, show=False, id=f"{prefix}.{name}")
            for key, action, label, name in _TREE_KEYS if key not in skip]
