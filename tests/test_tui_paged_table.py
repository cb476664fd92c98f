"""The paged table on its own, over a page source that knows nothing of spans: numbers 0..N-1.

What the Logs screen (and later the review queue, dataset records, experiment rows) rely on:
pages load as the cursor nears an edge, the window never holds more than ``max_rows``, home
and end reach the source's first and last rows, marks and the chosen rows, and cells are
rendered only for the rows painted."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets.paged_table import PAGE, Column, PagedTable, layout
from tui_fixtures import quick_pilot, settle, wait_for  # noqa: F401  (fixtures)

N = 1000


@dataclass
class Page:
    rows: list
    after: object


class Numbers:
    """Rows 0..n-1 in order; a row's cursor is the row itself."""

    def __init__(self, n: int = N) -> None:
        self.n = n
        self.pages: list[tuple] = []
        self.released = 0

    def page(self, after, limit, *, reverse=False) -> Page:
        self.pages.append((after, reverse))
        if reverse:
            end = self.n if after is None else after
            rows = list(range(max(0, end - limit), end))
            return Page(rows, rows[0] if len(rows) == limit else None)
        start = 0 if after is None else after + 1
        rows = list(range(start, min(self.n, start + limit)))
        return Page(rows, rows[-1] if len(rows) == limit else None)

    def count(self) -> int:
        return self.n

    def row_id(self, row) -> str:
        return str(row)

    def cursor_of(self, row):
        return row

    def release_thread(self) -> None:
        self.released += 1


class TableApp(App):
    def __init__(self, source, max_rows: int = 120) -> None:
        super().__init__()
        self.source = source
        self.max_rows = max_rows
        self.rendered: list[int] = []  # rows whose cells were made, in order

    def compose(self) -> ComposeResult:
        def number(row, width):
            self.rendered.append(row)
            return Text(str(row), justify="right")

        yield PagedTable([Column("n", "n", number, 6), Column("square", "square", lambda r, w: Text(str(r * r))),
                          Column("wide", "only wide", lambda r, w: Text("x"), 4, show_from=100)],
                         markable=True, max_rows=self.max_rows, id="t")

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        table.focus()
        table.set_source(self.source)


async def started(pilot) -> PagedTable:
    table = pilot.app.query_one(PagedTable)
    await wait_for(pilot, lambda: table.rows and table.total is not None, "the first page and the count")
    await settle(pilot)
    return table


def assert_window(table: PagedTable, max_rows: int) -> None:
    assert table.rows == list(range(table.rows[0], table.rows[0] + len(table.rows)))  # contiguous, in order
    assert len(table.rows) <= max_rows
    assert (table.more_before is None) == (table.rows[0] == 0)


async def test_first_page_count_and_only_painted_rows_rendered():
    app = TableApp(Numbers())
    async with app.run_test(size=(80, 20)) as pilot:
        table = await started(pilot)
        assert table.rows == list(range(PAGE)) and table.total == N
        assert table.more_after == PAGE - 1 and table.more_before is None
        body = table.scrollable_content_region.height - 1
        # Cells were made for the painted rows only (not for the 50 rows of the page).
        assert set(app.rendered) <= set(range(body)) and len(set(app.rendered)) == body
        # A cursor move repaints two lines from the cache's point of view: no other row's cells.
        app.rendered.clear()
        await pilot.press("j")
        await settle(pilot)
        assert set(app.rendered) <= {0, 1}
        assert table.cursor_id() == "1" and table.current_row() == 1
        assert table.source.released >= 2  # the page worker and the count worker released their thread


async def test_pages_load_in_and_out_and_home_end_reach_the_ends():
    app = TableApp(Numbers(), max_rows=120)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await started(pilot)
        last = 0
        while last < 300:
            await pilot.press("pagedown")
            await settle(pilot)
            assert_window(table, 120)
            assert table.current_row() > last
            last = table.current_row()
        assert table.more_before is not None  # the top was let go of
        while table.current_row() > 0:
            await pilot.press("pageup")
            await settle(pilot)
            assert_window(table, 120)
        assert table.rows[0] == 0
        await pilot.press("end")
        await settle(pilot)
        assert table.current_row() == N - 1 and table.more_after is None
        assert_window(table, 120)
        await pilot.press("home")
        await settle(pilot)
        assert table.current_row() == 0 and table.rows[0] == 0


async def test_marks_and_chosen_ids():
    app = TableApp(Numbers())
    async with app.run_test(size=(80, 20)) as pilot:
        table = await started(pilot)
        assert table.chosen_ids() == ("0",)  # no marks: the cursor's row
        table.toggle_mark()
        table.toggle_mark()
        assert table.marked == {"0", "1"} and table.current_row() == 2  # marking moves on
        assert table.get_cell("1", "mark").plain == "●" and table.get_cell("2", "mark").plain == ""
        assert table.chosen_ids() == ("0", "1")
        table.mark_all()
        assert table.chosen_ids() is None and not table.marked  # all rows of the source
        assert table.get_cell("5", "mark").plain == "●"
        table.clear_marks()
        assert table.chosen_ids() == ("2",) and table.get_cell("0", "mark").plain == ""


async def test_reload_keeps_the_cursor_row_and_a_new_source_replaces_the_rows():
    app = TableApp(Numbers())
    async with app.run_test(size=(80, 20)) as pilot:
        table = await started(pilot)
        await pilot.press("j", "j", "j")
        table.reload(keep_key=table.cursor_id())
        await settle(pilot)
        assert table.current_row() == 3
        table.set_source(Numbers(10))
        await settle(pilot)
        assert table.rows == list(range(10)) and table.total == 10 and table.current_row() == 0


async def test_a_write_deep_in_the_table_keeps_the_cursor_on_its_row():
    """``set_source(..., stay=True)`` (a screen re-reading its rows after a write): the cursor
    stays on its row past the first page, and the rows above it load again on the way up."""
    app = TableApp(Numbers(), max_rows=120)
    async with app.run_test(size=(80, 20)) as pilot:
        table = await started(pilot)
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot)
        row = table.current_row()
        assert row > 150
        table.set_source(Numbers(), table.cursor_id())  # without stay: back to the top
        await settle(pilot)
        assert table.current_row() == 0
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot)
        row = table.current_row()
        table.set_source(Numbers(), table.cursor_id(), stay=True)
        await settle(pilot)
        assert table.current_row() == row and table.total == N
        assert table.rows[0] == row - 10 and table.more_before is not None
        while table.current_row() > 0:
            await pilot.press("pageup")
            await settle(pilot)
            assert_window(table, 120)
        # near the top: the first page is read again, as before
        await pilot.press("j", "j")
        table.set_source(Numbers(), table.cursor_id(), stay=True)
        await settle(pilot)
        assert table.current_row() == 2 and table.rows[0] == 0


def test_layout_shares_room_and_drops_columns_on_narrow_terminals():
    cols = [Column("a", "a", str, 10), Column("b", "b", str), Column("c", "c", str, 5, show_from=100),
            Column("d", "d", str, 20, narrow=((90, 8),))]
    wide = {c.key: c.width for c in layout(cols, 120)}
    assert wide == {"a": 10, "b": 120 - (12 + 7 + 22) - 2 - 2, "c": 5, "d": 20}
    narrow = {c.key: c.width for c in layout(cols, 80)}
    assert "c" not in narrow and narrow["d"] == 8
    assert sum(c.get_render_width() for c in layout(cols, 80)) <= 80


def test_the_table_knows_nothing_of_spans_or_the_store():
    src = Path(__file__).resolve().parents[1] / "tui" / "widgets" / "paged_table.py"
    imported = {n.module for n in ast.walk(ast.parse(src.read_text())) if isinstance(n, ast.ImportFrom)}
    assert not any(m and (m.startswith("store") or m.startswith("engine")) for m in imported)
