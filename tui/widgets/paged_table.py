"""One paged table for every list of rows (logs, review queue, dataset records, experiment rows).

A *page source* hands out rows a page at a time by keyset cursor, in an order of its own. The
table holds a window of at most ``max_rows`` of them: it pages more in as the cursor nears an
edge of the window and drops as many at the far end, so no screen ever holds all rows.

Rows are formatted only when they are painted. Each *column* renders a row into a cell, a
painted line is kept in an LRU cache of strips (Textual's Line API, as Textualize/toolong
does), and moving the cursor re-renders two lines. Textual's DataTable renders every cell
through Rich's padding pipeline: a screenful of 44 rows x 11 columns took ~170 ms to paint.

The table knows nothing of what its rows are: the source says what a row's id is and where
a page after it starts; the columns say how it looks. Workers report to the table with typed
messages (``PageLoaded``, ``PageFailed``, ``Counted``), which bubble on to the screen once the
table has applied them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

PAGE = 50  # rows a page
MAX_ROWS = 1000  # rows the window holds at most
EDGE_BELOW, EDGE_ABOVE = 10, 5  # the next page loads when the cursor is this close to an edge
PAD = 1  # blank cells either side of a cell's content
NARROW = 100  # below this many columns a cell has no blank on its left (one between cells)
MARK = "mark"  # the key of the marks column


class Page(Protocol):
    rows: Sequence[Any]
    after: Any  # where the next page in the direction read starts; None: nothing more that way


class PageSource(Protocol):
    """Rows in a fixed order, a page at a time. Called from worker threads."""

    def page(self, after: Any, limit: int, *, reverse: bool = False) -> Page:
        """``limit`` rows after the cursor ``after`` (from the first row when None). With
        ``reverse``: the rows just before ``after`` (the last page when None), still in the
        source's order; ``Page.after`` is then where the page before them ends."""

    def count(self) -> int:
        """How many rows there are in all."""

    def row_id(self, row: Any) -> str:
        """A row's unique id (marks, keeping the cursor's row across reloads)."""

    def cursor_of(self, row: Any) -> Any:
        """The cursor at ``row``: ``page(cursor)`` starts just after it, ``page(cursor,
        reverse=True)`` ends just before it."""

    def release_thread(self) -> None:
        """Called at the end of every worker thread that read from the source."""


@dataclass
class ListPage:
    rows: list
    after: Any


class ListSource:
    """A page source over a list (a short one: datasets, versions, a diff): the cursor is a
    position. ``rows`` is the list, or a function that reads it, called by the first worker
    that asks (so a store read stays off the event loop); ``release`` ends a worker's use of
    the thread (e.g. the store's ``release_thread``)."""

    def __init__(self, rows: list | Callable[[], list], row_id: Callable[[Any], str],
                 release: Optional[Callable[[], None]] = None) -> None:
        self._load = rows if callable(rows) else None
        self._rows: Optional[list] = None if callable(rows) else list(rows)
        self._id = row_id
        self._release = release
        self._pos: Optional[dict] = None

    @property
    def rows(self) -> list:
        if self._rows is None:
            self._rows = list(self._load())
        return self._rows

    def page(self, after: Any, limit: int, *, reverse: bool = False) -> ListPage:
        rows = self.rows
        if reverse:
            end = len(rows) if after is None else after
            start = max(0, end - limit)
            return ListPage(rows[start:end], start if start > 0 else None)
        start = 0 if after is None else after + 1
        end = start + limit
        return ListPage(rows[start:end], end - 1 if end < len(rows) else None)

    def count(self) -> int:
        return len(self.rows)

    def row_id(self, row: Any) -> str:
        return self._id(row)

    def cursor_of(self, row: Any) -> int:
        if self._pos is None:
            self._pos = {self._id(r): i for i, r in enumerate(self.rows)}
        return self._pos[self._id(row)]

    def release_thread(self) -> None:
        if self._release is not None:
            self._release()


@dataclass(frozen=True)
class Column:
    """A column: ``render(row, width)`` makes the cell (a ``Text``; right-justify it for numbers).

    ``width`` None makes the column flexible: the flexible columns share what the others
    leave. The column is shown only on terminals at least ``show_from`` wide; ``narrow``
    lists ``(below, width)`` pairs: on a terminal narrower than ``below``, the column is
    ``width`` wide (the smallest ``below`` that applies wins)."""

    key: str
    label: str
    render: Callable[[Any, int], Text]
    width: Optional[int] = None
    show_from: int = 0
    narrow: tuple[tuple[int, int], ...] = ()

    def width_at(self, terminal: int) -> Optional[int]:
        for below, width in sorted(self.narrow):
            if terminal < below:
                return width
        return self.width


@dataclass(frozen=True)
class Placed:
    """A column as laid out for the current width."""

    key: str
    label: str
    width: int
    render: Callable[[Any, int], Text]
    pad_left: int = PAD

    def get_render_width(self, table: Any = None) -> int:
        return self.pad_left + self.width + PAD


def layout(columns: Sequence[Column], width: int) -> list[Placed]:
    """The columns shown at ``width`` cells, with their widths (flexible ones at least 8).
    On a narrow terminal cells are one blank apart instead of two."""
    left = PAD if width >= NARROW else 0
    shown = [(c, c.width_at(width)) for c in columns if width >= c.show_from]
    fixed = sum(w + left + PAD for _, w in shown if w)
    n_flex = sum(1 for _, w in shown if not w)
    flex = max(8, (width - fixed - 2 - (left + PAD) * n_flex) // max(1, n_flex))
    return [Placed(c.key, c.label, w or flex, c.render, left) for c, w in shown]


class PagedTable(ScrollView, can_focus=True):
    """A keyset-paged window of rows over a ``PageSource``, with a row cursor and marks."""

    HELP_GROUP = "Table"  # the heading of this widget's keys in help
    BINDINGS = [
        Binding("down", "cursor_down", "Down", show=False, id="table.down"),
        Binding("up", "cursor_up", "Up", show=False, id="table.up"),
        Binding("j", "cursor_down", "Down", show=False, id="table.j"),
        Binding("k", "cursor_up", "Up", show=False, id="table.k"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("home", "first", "First row", show=False, id="table.first"),
        Binding("end", "last", "Last row", show=False, id="table.last"),
        Binding("enter", "select_cursor", "Open", show=False, id="table.select"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="table.left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="table.right"),
        Binding("ctrl+pageup", "page_left", "Page left", show=False, id="table.page_left"),
        Binding("ctrl+pagedown", "page_right", "Page right", show=False, id="table.page_right"),
    ]

    COMPONENT_CLASSES = {"paged-table--header", "paged-table--cursor", "paged-table--even-row"}

    DEFAULT_CSS = """
    PagedTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .paged-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .paged-table--even-row { background: $surface-lighten-1 50%; }
        & > .paged-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .paged-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:dark > .paged-table--even-row { background: $surface-darken-1 40%; }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    # -- messages (workers post the first three to the table; all bubble on to the screen)
    @dataclass
    class TableMessage(Message):
        table: "PagedTable"

        @property
        def control(self) -> "PagedTable":
            return self.table

    @dataclass
    class PageLoaded(TableMessage):
        """A page arrived; the screen sees it after the table has put its rows on."""

        source: PageSource
        page: Page
        mode: str  # replace (the first page) | replace_at (from ``start``) | last | append | prepend
        keep_key: Optional[str]
        seq: int
        start: Any = None  # the cursor the page was read from

    @dataclass
    class PageFailed(TableMessage):
        """Reading a page raised ``error``; the rows shown stay as they were."""

        error: Exception
        seq: int

    @dataclass
    class Counted(TableMessage):
        """The source's row count (None when counting failed)."""

        source: PageSource
        total: Optional[int]

    @dataclass
    class RowHighlighted(TableMessage):
        """The cursor moved to ``row``."""

        row: Any

    @dataclass
    class RowSelected(TableMessage):
        """Enter (or a double click) on ``row``."""

        row: Any

    def __init__(self, columns: Sequence[Column] = (), *, markable: bool = False, zebra_stripes: bool = True,
                 max_rows: Optional[int] = None, id: Optional[str] = None, classes: Optional[str] = None) -> None:
        super().__init__(id=id, classes=classes)
        self.zebra_stripes = zebra_stripes
        self.markable = markable
        self.max_rows = max_rows or MAX_ROWS
        self.source: Optional[PageSource] = None  # the source of the rows shown
        self.rows: list = []  # the window
        self.more_after: Any = None  # cursor below the window (None: the window reaches the end)
        self.more_before: Any = None  # cursor above the window (None: the window starts at the top)
        self.total: Optional[int] = None
        self.fetching = False  # a page is on its way (not `loading`: Textual's, it disables the widget)
        self.marked: set[str] = set()
        self.all_marked = False
        self._columns: list[Column] = []
        self._placed: list[Placed] = []
        self._placed_width = -1
        self._lines: LRUCache[tuple, Strip] = LRUCache(maxsize=1000)
        self._seq = 0  # the newest page request; older answers are dropped
        self._auto_timer = None
        self._recount = False
        self.set_columns(columns)

    # -- columns
    def set_columns(self, columns: Sequence[Column]) -> None:
        mark = [Column(MARK, " ", self._mark_cell, width=1)] if self.markable else []
        self._columns = mark + list(columns)
        self._placed_width = -1
        self._lines.clear()
        self.refresh()

    @property
    def ordered_columns(self) -> list[Placed]:
        width = self.size.width or self.app.size.width
        if width != self._placed_width:
            self._placed = layout(self._columns, width)
            self._placed_width = width
        return self._placed

    def _mark_cell(self, row: Any, width: int) -> Text:
        return Text("●", style="bold magenta") if self.is_marked(row) else Text("")

    # -- rows
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def row_ids(self) -> list[str]:
        return [self.source.row_id(r) for r in self.rows] if self.source else []

    def current_row(self) -> Any:
        return self.rows[self.cursor_row] if 0 <= self.cursor_row < len(self.rows) else None

    def cursor_id(self) -> Optional[str]:
        row = self.current_row()
        return self.source.row_id(row) if row is not None and self.source else None

    def get_cell(self, row_id: str, column_key: str) -> Text:
        """A cell as it is painted (rendered on demand)."""
        row = next(r for r in self.rows if self.source.row_id(r) == row_id)
        col = next(c for c in self.ordered_columns if c.key == column_key)
        return col.render(row, col.width)

    # -- loading
    def set_source(self, source: PageSource, keep_key: Optional[str] = None, *, stay: bool = False) -> None:
        """Show ``source`` from its first row (on the row ``keep_key`` when it is in the first
        page), then count it. The rows shown stay until its first page arrives.

        ``stay`` (the same rows in the same order, re-read after a write): when ``keep_key`` is
        deep in the window, the new source is read from a few rows above it, so the cursor keeps
        its place in a long table (the rows above load again as the user scrolls up)."""
        self.total = None
        self._recount = True
        anchor = self._anchor(keep_key) if stay else None
        if anchor is None:
            self._load(source, None, False, "replace", keep_key)
        else:
            self._load(source, anchor, False, "replace_at", keep_key)

    def _anchor(self, keep_key: Optional[str]) -> Any:
        """The cursor a few rows above ``keep_key``'s row; None when reading from the top
        finds the row anyway (or it is not in the window)."""
        if keep_key is None or self.source is None:
            return None
        idx = next((i for i, r in enumerate(self.rows) if self.source.row_id(r) == keep_key), None)
        if idx is None or (self.more_before is None and idx < PAGE // 2) or idx == 0:
            return None
        return self.source.cursor_of(self.rows[max(1, idx - 10) - 1])

    def reload(self, keep_key: Optional[str] = None, *, keep_total: bool = False) -> None:
        """The first page of the source again (and a new count; the old one stays on show
        meanwhile with ``keep_total``)."""
        if self.source is None:
            return
        if not keep_total:
            self.total = None
        self._recount = True
        self._load(self.source, None, False, "replace", keep_key)

    def _load(self, source: PageSource, after: Any, reverse: bool, mode: str, keep_key: Optional[str] = None) -> None:
        self._seq += 1
        self.fetching = True
        self._fetch(source, after, reverse, mode, keep_key, self._seq)

    @work(thread=True, exclusive=True, group="page")
    def _fetch(self, source: PageSource, after: Any, reverse: bool, mode: str, keep_key: Optional[str],
               seq: int) -> None:
        worker = get_current_worker()
        try:
            page = source.page(after, PAGE, reverse=reverse)
        except Exception as exc:  # the screen says so (never a traceback)
            if not worker.is_cancelled:
                self.post_message(self.PageFailed(self, exc, seq))
            return
        finally:
            source.release_thread()
        if not worker.is_cancelled:
            self.post_message(self.PageLoaded(self, source, page, mode, keep_key, seq, after))

    def on_paged_table_page_failed(self, event: PageFailed) -> None:
        if event.seq != self._seq:
            event.stop()
            return
        self.fetching = False

    def on_paged_table_page_loaded(self, event: PageLoaded) -> None:
        if event.seq != self._seq:
            event.stop()  # a newer request is on its way
            return
        self.fetching = False
        rows, after = list(event.page.rows), event.page.after
        if event.mode == "replace":  # the first page
            self._replace(event.source, rows, after, None, keep_key=event.keep_key)
        elif event.mode == "replace_at":  # a page from a cursor: rows above it remain to be read
            above = event.source.cursor_of(rows[0]) if rows else event.start
            self._replace(event.source, rows, after, above, keep_key=event.keep_key)
        elif event.mode == "last":  # the last page, read backwards: ``after`` is above it
            self._replace(event.source, rows, None, after, on_last=True)
        elif event.mode == "append":
            self._append(rows, after)
        else:
            self._prepend(rows, after)
        if self._recount and event.mode in ("replace", "replace_at"):
            self._recount = False
            self._count(event.source)
        self._maybe_page()

    def _replace(self, source: PageSource, rows: list, more_after: Any, more_before: Any, *,
                 keep_key: Optional[str] = None, on_last: bool = False) -> None:
        self.source = source
        self.rows = rows
        self.more_after, self.more_before = more_after, more_before
        self._lines.clear()
        self._rows_changed()
        self.scroll_to(y=0, animate=False, immediate=True)
        cursor = len(rows) - 1 if on_last else 0
        if keep_key is not None:
            cursor = next((i for i, r in enumerate(rows) if source.row_id(r) == keep_key), cursor)
        self.cursor_row = max(0, cursor)

    def _append(self, rows: list, after: Any) -> None:
        self.rows.extend(rows)
        self.more_after = after
        drop = len(self.rows) - self.max_rows
        if drop > 0:  # the window is full: let go of its top
            self.more_before = self.source.cursor_of(self.rows[drop])
            del self.rows[:drop]
            self._rows_changed()
            self._shift(-drop)
        else:
            self._rows_changed()

    def _prepend(self, rows: list, before: Any) -> None:
        self.rows[:0] = rows
        self.more_before = before
        if len(self.rows) > self.max_rows:  # let go of the bottom
            del self.rows[self.max_rows:]
            self.more_after = self.source.cursor_of(self.rows[-1])
        self._rows_changed()
        self._shift(len(rows))

    def _shift(self, n: int) -> None:
        """Rows were added (n > 0) or dropped (n < 0) above the cursor: it stays on its row,
        and the rows on screen stay where they were."""
        self.set_reactive(PagedTable.cursor_row, max(0, min(self.cursor_row + n, len(self.rows) - 1)))
        self.scroll_to(y=max(0, int(self.scroll_y) + n), animate=False, immediate=True)
        self._scroll_cursor_into_view()
        self.refresh()

    def _rows_changed(self) -> None:
        self.virtual_size = Size(0, len(self.rows) + 1)  # + the header line
        self.refresh()

    def _maybe_page(self) -> None:
        """Near an edge of the window: the next page that way."""
        if self.fetching or self.source is None:
            return
        row = self.cursor_row
        if row >= len(self.rows) - EDGE_BELOW and self.more_after is not None:
            self._load(self.source, self.more_after, False, "append")
        elif row <= EDGE_ABOVE and self.more_before is not None:
            self._load(self.source, self.more_before, True, "prepend")

    def _count(self, source: PageSource) -> None:
        self._count_rows(source)

    @work(thread=True, exclusive=True, group="count")
    def _count_rows(self, source: PageSource) -> None:
        worker = get_current_worker()
        try:
            n: Optional[int] = source.count()
        except Exception:
            n = None
        finally:
            source.release_thread()
        if not worker.is_cancelled:
            self.post_message(self.Counted(self, source, n))

    def on_paged_table_counted(self, event: Counted) -> None:
        if event.source is not self.source:
            event.stop()
            return
        self.total = event.total

    @property
    def auto_refresh(self) -> bool:
        return self._auto_timer is not None

    def set_auto_refresh(self, on: bool, every: float = 2.0) -> None:
        """Read the first page again every ``every`` seconds while the cursor is on it, so rows
        that another process writes show up by themselves."""
        if self._auto_timer is not None:
            self._auto_timer.stop()
            self._auto_timer = None
        if on:
            self._auto_timer = self.set_interval(every, self._auto_tick)

    def _auto_tick(self) -> None:
        if self.more_before is None and self.cursor_row < PAGE and not self.fetching:
            self.reload(keep_key=self.cursor_id(), keep_total=True)

    # -- marks
    def is_marked(self, row: Any) -> bool:
        return self.all_marked or self.source.row_id(row) in self.marked

    def toggle_mark(self) -> None:
        """Mark (or unmark) the cursor's row and move down."""
        row = self.current_row()
        if row is None:
            return
        self.all_marked = False
        rid = self.source.row_id(row)
        self.marked.symmetric_difference_update({rid})
        self.refresh()
        self.cursor_row += 1

    def mark_all(self) -> None:
        """Mark every row of the source (or unmark them)."""
        self.all_marked = not self.all_marked
        self.marked.clear()
        self.refresh()

    def chosen_ids(self) -> Optional[tuple[str, ...]]:
        """The rows an action is for: None when all are marked, else the marked ones, else
        the cursor's row (or none)."""
        if self.all_marked:
            return None
        if self.marked:
            return tuple(sorted(self.marked))
        rid = self.cursor_id()
        return (rid,) if rid is not None else ()

    def clear_marks(self) -> None:
        self.all_marked = False
        self.marked.clear()
        self.refresh()

    # -- cursor
    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = row

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if self.rows:
            self.post_message(self.RowHighlighted(self, self.rows[new]))
        self._maybe_page()

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
        self._lines.clear()
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
        """The first row of the source (its first page again when the window is further down)."""
        if self.more_before is None or self.source is None:
            self.cursor_row = 0
        else:
            self._load(self.source, None, False, "replace")

    def action_last(self) -> None:
        """The last row of the source (its last page when the window ends before it)."""
        if self.more_after is None or self.source is None:
            self.cursor_row = len(self.rows) - 1
        else:
            self._load(self.source, None, True, "last")

    def action_select_cursor(self) -> None:
        row = self.current_row()
        if row is not None:
            self.post_message(self.RowSelected(self, row))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y < 1 or not (0 <= row < len(self.rows)):
            return
        if row == self.cursor_row and event.chain >= 2:
            self.action_select_cursor()
        else:
            self.cursor_row = row

    def on_focus(self) -> None:
        self._lines.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._lines.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    # -- painting
    def _line_text(self, cells: list) -> Text:
        line = Text(no_wrap=True, end="")
        for col, cell in zip(self.ordered_columns, cells):
            text = cell.copy()
            text.no_wrap = True
            if text.cell_len > col.width:
                text.truncate(col.width, overflow="ellipsis")
            if text.justify == "right":
                text.pad_left(col.width - text.cell_len)
            else:
                text.pad_right(col.width - text.cell_len)
            line.append(" " * col.pad_left)
            line.append_text(text)
            line.append(" " * PAD)
        return line

    def _strip(self, text: Text, style: Style, width: int) -> Strip:
        return Strip(list(text.render(self.app.console))).adjust_cell_length(width).apply_style(style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            key: tuple = ("header", width)
            strip = self._lines.get(key)
            if strip is None:
                style = base + self.get_component_rich_style("paged-table--header")
                strip = self._strip(self._line_text([Text(c.label) for c in self.ordered_columns]), style, width)
                self._lines.set(key, strip)
            return strip
        index = int(self.scroll_y) + y - 1
        if not (0 <= index < len(self.rows)):
            return Strip([Segment(" " * width, base)], width)
        row = self.rows[index]
        is_cursor = index == self.cursor_row
        # A row's line depends on the row, its marks, the cursor, its stripe and the width.
        key = (self.source.row_id(row), self.is_marked(row) if self.markable else False, is_cursor, index % 2, width)
        strip = self._lines.get(key)
        if strip is None:
            cells = [c.render(row, c.width) for c in self.ordered_columns]
            style = base
            if self.zebra_stripes and index % 2 == 1:
                style = style + self.get_component_rich_style("paged-table--even-row")
            if is_cursor:
                style = style + self.get_component_rich_style("paged-table--cursor")
                # The cursor row's colours win over the cells' own (as DataTable's cursor does).
                plain = self._line_text(cells).plain
                if self.app.no_color and plain[:1] == " ":
                    plain = "›" + plain[1:]  # NO_COLOR: the cursor's colours are gone; a glyph marks it
                strip = self._strip(Text(plain, no_wrap=True, end=""), style, width)
            else:
                strip = self._strip(self._line_text(cells), style, width)
            self._lines.set(key, strip)
        return strip
