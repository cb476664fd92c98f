"""The key bar at the bottom of every screen: the focused screen's keys, as one line of text.

Textual's Footer mounts a widget per key and recomposes them whenever focus moves: on the
trace screen that was a fifth of the time to first paint. This bar renders the same
information (the screen's active bindings with ``show=True``, then the command palette key)
as a single ``Text``; keys are for the keyboard, so no per-key mouse targets are needed.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


PINNED = {"quit", "app.quit", "back", "screen.back"}  # the way out of a screen


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .keybar--key { color: $footer-key-foreground; text-style: bold; }
        & > .keybar--description { color: $footer-description-foreground; }
        & > .keybar--disabled { color: $text-disabled; }
    }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._rebuild()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._rebuild()

    def _rebuild(self) -> None:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        desc_style = self.get_component_rich_style("keybar--description", partial=True)
        off_style = self.get_component_rich_style("keybar--disabled", partial=True)

        def item(key: str, desc: str, enabled: bool = True) -> Text:
            return Text.assemble((f" {key} ", key_style if enabled else off_style),
                                 (f"{desc} ", desc_style if enabled else off_style))

        items: list[Text] = []
        help_item: Text | None = None
        way_out: Text | None = None  # quit (or back): kept whatever the width, as help is
        seen: set[str] = set()
        palette = None
        if isinstance(self.screen.focused, Input):  # typing: say how to finish
            items += [item("enter", "Apply"), item("esc", "Back"), item("tab", "Complete")]
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action == "app.command_palette" or binding.key == self.app.COMMAND_PALETTE_BINDING:
                palette = binding
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            it = item(self.app.get_key_display(binding), binding.description, enabled)
            if binding.action in ("help", "app.help"):
                help_item = it  # kept whatever the width: the way to every other key
            elif binding.action in PINNED and way_out is None:
                way_out = it
            else:
                items.append(it)
        tail = Text(end="")
        if way_out is not None:
            tail.append_text(way_out)
        if help_item is not None:
            tail.append_text(help_item)
        if palette is not None:
            tail.append_text(item(self.app.get_key_display(palette), "palette"))
        width = self.size.width or 80
        room = width - tail.cell_len
        text = Text(no_wrap=True, end="")
        for it in items:  # whole items only: never a key without its meaning
            if text.cell_len + it.cell_len > room:
                break
            text.append_text(it)
        text.pad_right(max(0, room - text.cell_len))
        text.append_text(tail)
        self._text = text
        self.refresh()

    def on_resize(self) -> None:
        self._rebuild()

    def render(self) -> Text:
        return self._text
