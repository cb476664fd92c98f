"""A fast, keyboard-first table of one-line rows (Textual's Line API).

Textual's DataTable renders every cell through Rich's padding and styling pipeline: a
screenful of the logs table (44 rows x 11 columns) took ~170 ms to paint after a filter. Here
a row is one ``Text`` (cells cut and padded to their column widths) rendered to one ``Strip``
and cached, so a full repaint is a few milliseconds. The API keeps DataTable's names for what
the logs screen uses: ``add_column``, ``add_row``, ``clear``, ``update_cell``, ``get_cell``,
``move_cursor``, ``cursor_row``, ``row_count``, ``ordered_rows``/``ordered_columns`` and the
``RowHighlighted``/``RowSelected`` messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

PAD = 1  # blank cells either side of a cell's content


@dataclass(frozen=True)
class Key:
    """A row or column key (``.value`` as in DataTable)."""

    value: str


@dataclass
class Column:
    key: Key
    label: str
    width: int

    def get_render_width(self, table: "RowTable") -> int:
        return self.width + 2 * PAD


@dataclass
class RowEntry:
    key: Key
    cells: list = field(default_factory=list)


class RowTable(ScrollView, can_focus=True):
    """Rows of cells with a row cursor; only the visible rows are ever rendered."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("enter", "select_cursor", "Open", show=False),
    ]

    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor", "row-table--even-row"}

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .row-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .row-table--even-row { background: $surface-lighten-1 50%; }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .row-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:dark > .row-table--even-row { background: $surface-darken-1 40%; }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    class RowHighlighted(Message):
        def __init__(self, table: "RowTable", cursor_row: int, row_key: Optional[Key]) -> None:
            super().__init__()
            self.data_table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> "RowTable":
            return self.data_table

    class RowSelected(Message):
        def __init__(self, table: "RowTable", cursor_row: int, row_key: Optional[Key]) -> None:
            super().__init__()
            self.data_table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> "RowTable":
            return self.data_table

    def __init__(self, *, zebra_stripes: bool = True, id: Optional[str] = None,
                 classes: Optional[str] = None) -> None:
        super().__init__(id=id, classes=classes)
        self.zebra_stripes = zebra_stripes
        self._columns: list[Column] = []
        self._rows: list[RowEntry] = []
        self._index: dict[str, int] = {}  # row key -> position
        self._strips: dict[tuple, Strip] = {}
        self._generation = 0  # bumped when the rows change: cached strips are stale

    # -- data
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def ordered_rows(self) -> list[RowEntry]:
        return list(self._rows)

    @property
    def ordered_columns(self) -> list[Column]:
        return list(self._columns)

    def add_column(self, label: str, *, key: str, width: int) -> None:
        self._columns.append(Column(Key(key), label, width))
        self._changed()

    def add_row(self, *cells, key: str) -> None:
        self.add_rows([(key, list(cells))])

    def add_rows(self, rows) -> None:
        """Append ``(key, cells)`` pairs; one refresh for the lot."""
        for key, cells in rows:
            if key in self._index:
                raise ValueError(f"duplicate row key {key!r}")
            self._index[key] = len(self._rows)
            self._rows.append(RowEntry(Key(key), list(cells)))
        self._changed()

    def clear(self, columns: bool = False) -> None:
        self._rows.clear()
        self._index.clear()
        if columns:
            self._columns.clear()
        self.set_reactive(RowTable.cursor_row, 0)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._changed()

    def get_cell(self, row_key: str, column_key: str):
        cols = [c.key.value for c in self._columns]
        return self._rows[self._index[row_key]].cells[cols.index(column_key)]

    def update_cell(self, row_key: str, column_key: str, value) -> None:
        cols = [c.key.value for c in self._columns]
        i = self._index.get(row_key)
        if i is None or column_key not in cols:
            return
        self._rows[i].cells[cols.index(column_key)] = value
        self._changed()

    def _changed(self) -> None:
        self._generation += 1
        self._strips.clear()
        self.virtual_size = Size(0, len(self._rows) + 1)  # + the header line
        self.refresh()

    # -- cursor
    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = row

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1)) if self._rows else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if self._rows:
            self.post_message(self.RowHighlighted(self, new, self._rows[new].key))

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        h = self._body_height()
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + h:
            self.scroll_to(y=row - h + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._strips.clear()
        self._scroll_cursor_into_view()

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self._body_height()

    def action_page_down(self) -> None:
        self.cursor_row += self._body_height()

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._rows) - 1

    def action_select_cursor(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self.cursor_row, self._rows[self.cursor_row].key))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y < 1 or not (0 <= row < len(self._rows)):
            return
        if row == self.cursor_row and event.chain >= 2:
            self.action_select_cursor()
        else:
            self.cursor_row = row

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    # -- rendering
    def _line_text(self, cells: list, header: bool = False) -> Text:
        line = Text(no_wrap=True, end="")
        for col, cell in zip(self._columns, cells):
            text = cell if isinstance(cell, Text) else Text(str(cell))
            text = text.copy()
            text.no_wrap = True
            if text.cell_len > col.width:
                text.truncate(col.width, overflow="ellipsis")
            if text.justify == "right":
                text.pad_left(col.width - text.cell_len)
            else:
                text.pad_right(col.width - text.cell_len)
            line.append(" " * PAD)
            line.append_text(text)
            line.append(" " * PAD)
        return line

    def _strip(self, text: Text, style: Style, width: int) -> Strip:
        segments = list(text.render(self.app.console))
        strip = Strip(segments).adjust_cell_length(width)
        return strip.apply_style(style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            key = ("header", width)
            strip = self._strips.get(key)
            if strip is None:
                style = base + self.get_component_rich_style("row-table--header")
                strip = self._strip(self._line_text([Text(c.label) for c in self._columns]), style, width)
                self._strips[key] = strip
            return strip
        row = int(self.scroll_y) + y - 1
        if not (0 <= row < len(self._rows)):
            return Strip([Segment(" " * width, base)], width)
        is_cursor = row == self.cursor_row
        key = (row, is_cursor, width)
        strip = self._strips.get(key)
        if strip is None:
            style = base
            if self.zebra_stripes and row % 2 == 1:
                style = style + self.get_component_rich_style("row-table--even-row")
            if is_cursor:
                style = style + self.get_component_rich_style("row-table--cursor")
                # The cursor row's colours win over the cells' own (as DataTable's cursor does).
                text = self._line_text(self._rows[row].cells)
                plain = text.plain
                if self.app.no_color and plain[:1] == " ":
                    plain = "›" + plain[1:]  # NO_COLOR: the cursor's colours are gone; a glyph marks it
                strip = Strip(list(Text(plain, no_wrap=True, end="").render(self.app.console)))
                strip = strip.adjust_cell_length(width).apply_style(style)
            else:
                strip = self._strip(self._line_text(self._rows[row].cells), style, width)
            self._strips[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
