"""Pilot tests of the Datasets screen and one dataset's records: the list, the filter, the
record editor (JSON errors with line and column, validation, $EDITOR), add, duplicate,
delete and their undo, an old version read-only and its restore, the origin trace. Asserted
by what the user sees and by what lands in the database (read with the store API)."""

from __future__ import annotations

import stat

import pytest
from rich.text import Text

from store import Store
from store.datasets import get_record, iter_records, list_versions, upsert_records
from tui.screens.datasets import DatasetRecordsScreen, DatasetsScreen, record_error
from tui.screens.dialogs import MenuScreen, PromptScreen, TextEditScreen
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    record_suspends,
    sample_roots,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
)

ORIGIN = sample_roots()[0]
RECORDS = [
    {"id": "rec-a", "input": "How do I get a refund?", "expected": "Orders > Refund.", "metadata": {"k": 1},
     "tags": ["refund"], "origin": {"object_type": "project_logs", "id": ORIGIN["id"]}},
    {"id": "rec-b", "input": [{"role": "user", "content": "refund for order 12?"}], "expected": "Sure",
     "metadata": {"k": 2}, "tags": []},
    {"id": "rec-c", "input": "shipping time?", "expected": "3 days", "metadata": {}, "tags": ["ship"]},
]


def seed(path) -> tuple[int, int]:
    """'refunds': version 1 (rec-a, rec-b), version 2 (+ rec-c); 'other': one record. Returns
    the two versions of 'refunds'."""
    store = Store(path)
    try:
        v1 = upsert_records(store, "default", "refunds", RECORDS[:2], author="seeder", description="refund answers")
        v2 = upsert_records(store, "default", "refunds", RECORDS[2:], author="seeder")
        upsert_records(store, "default", "other", [{"id": "o-1", "input": "x"}], author="seeder")
        return v1.version, v2.version
    finally:
        store.close()


@pytest.fixture
def ds_db(demo_db):
    seed(demo_db)
    return demo_db


@pytest.fixture
def app(ds_db, tui_env):
    return make_app(ds_db)


def records(db, name: str = "refunds", version=None) -> dict:
    store = Store(db)
    try:
        return {r.id: r.content() for r in iter_records(store, "default", name, version=version)}
    finally:
        store.close()


def versions(db, name: str = "refunds") -> list:
    store = Store(db)
    try:
        return list_versions(store, "default", name)
    finally:
        store.close()


def cell(table, row_id: str, column: str) -> str:
    value = table.get_cell(row_id, column)
    return value.plain if isinstance(value, Text) else str(value)


async def open_list(pilot) -> DatasetsScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.screen_stack[1:] and type(app.screen).__name__ == "LogsScreen", "Logs")
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(app.screen, DatasetsScreen), "the Datasets screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.table.rows and screen.table.total is not None, "the datasets")
    await settle(pilot)
    return screen


async def open_records(pilot, name: str = "refunds", n: int = 3) -> DatasetRecordsScreen:
    app = pilot.app
    screen = await open_list(pilot)
    screen.table.cursor_row = screen.table.row_ids().index(name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DatasetRecordsScreen), "the records screen")
    return await rows_ready(pilot, n)


async def rows_ready(pilot, n: int) -> DatasetRecordsScreen:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.is_mounted and screen.query("#table"), "the records table")
    await wait_for(pilot, lambda: len(screen.table.rows) == n and screen.table.total == n
                   and not screen.table.fetching, f"{n} records")
    await settle(pilot)
    return screen


def title(screen) -> str:
    return static_text(screen.query_one("#ds-title"))


async def written(pilot, text: str) -> None:
    await wait_for(pilot, lambda: any(text in n for n in notifications(pilot.app)), f"notice {text!r}")
    await settle(pilot)


# --- the list -------------------------------------------------------------------------------------


async def test_the_list_shows_datasets_with_counts_and_enter_opens_one(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        t = screen.table
        assert sorted(t.row_ids()) == ["other", "refunds"]
        assert cell(t, "refunds", "records").strip() == "3" and cell(t, "refunds", "versions").strip() == "2"
        assert cell(t, "refunds", "who") == "seeder" and cell(t, "refunds", "description") == "refund answers"
        assert cell(t, "refunds", "changed") == "just now"
        assert "2 datasets" in static_text(screen.query_one("#status"))
        t.cursor_row = t.row_ids().index("refunds")
        await pilot.press("enter")
        rs = await rows_ready(pilot, 3)
        assert rs.table.row_ids() == ["rec-a", "rec-b", "rec-c"]
        assert "refunds" in title(rs) and "(latest)" in title(rs) and "3 records" in title(rs)
        assert cell(rs.table, "rec-b", "input") == "refund for order 12?"  # a chat: its last user text
        assert cell(rs.table, "rec-a", "origin") == "↗" and cell(rs.table, "rec-b", "origin") == ""
        detail = static_text(rs.query_one("#rec-value"))
        assert "How do I get a refund?" in detail and "project_logs" in detail
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DatasetsScreen), "back to the list")


async def test_an_empty_project_says_how_to_make_a_dataset_and_n_makes_one(demo_db, tui_env):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "LogsScreen", "Logs")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DatasetsScreen), "the Datasets screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#empty").display, "the empty state")
        text = static_text(screen.query_one("#empty"))
        assert "bt-tui import dataset FILE --name NAME" in text and "Logs" in text
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the name prompt")
        await pilot.press("enter")  # no name: refused in the prompt
        assert isinstance(app.screen, PromptScreen) and "needs a name" in str(app.screen.query_one(".dialog-hint").render())
        await paste(pilot, "golden set")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen) and "Description" in app.screen.title_text,
                       "the description prompt")
        await paste(pilot, "the answers we stand by")
        await pilot.press("enter")
        await written(pilot, "created")
        await wait_for(pilot, lambda: screen.table.row_ids() == ["golden set"], "the new dataset listed")
        assert not screen.query_one("#empty").display
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DatasetRecordsScreen), "the records screen")
        rs = app.screen
        await wait_for(pilot, lambda: rs.table.total == 0, "no records")
        await settle(pilot)
        assert "no records yet · n adds one" in title(rs)


# --- the filter -----------------------------------------------------------------------------------


async def test_a_filter_narrows_the_records_and_a_bad_one_keeps_them(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        await pilot.press("slash")
        await paste(pilot, "input MATCH 'refund'")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.table.row_ids() == ["rec-a", "rec-b"], "the refund records")
        await settle(pilot)
        assert "2 records matching" in title(screen) and "filter: input MATCH 'refund'" in title(screen)
        await pilot.press("slash", "ctrl+u")
        await paste(pilot, "output = 1")
        await pilot.press("enter")
        await settle(pilot)
        error = static_text(screen.query_one("#filter-error"))
        assert "^" in error and "a dataset record has no field 'output'" in error and "column 1" in error
        assert screen.table.row_ids() == ["rec-a", "rec-b"]  # the rows stay
        assert screen.filter_text == "input MATCH 'refund'"
        await pilot.press("ctrl+u")
        await paste(pilot, "metadata.k = 2")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.table.row_ids() == ["rec-b"], "the metadata filter")
        await pilot.press("slash", "ctrl+u")
        await paste(pilot, "shipping")  # plain words search
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.table.row_ids() == ["rec-c"], "the word search")


# --- the editor -----------------------------------------------------------------------------------


async def test_edit_with_a_json_error_says_where_keeps_the_text_then_saves_one_version(app, ds_db):
    before = len(versions(ds_db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the record editor")
        dialog = app.screen
        area = dialog.query_one("#edit-text")
        assert '"input": "How do I get a refund?"' in area.text and '"tags": [' in area.text
        bad = '{\n  "input": "How do I get a refund?",\n  "expected": "Go to Orders > Refund",\n  "tags": [x]\n}'
        area.text = bad
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog and area.text == bad
        assert "line 4, column 12" in str(dialog.query_one("#edit-error").render())
        assert area.cursor_location == (3, 11)
        area.text = bad.replace("[x]", '["refund", 7]')
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog and "tags must be a list of strings" in str(dialog.query_one("#edit-error").render())
        area.text = bad.replace("[x]", '["refund", "policy"]')
        await pilot.press("ctrl+s")
        await written(pilot, "record rec-a saved")
        await wait_for(pilot, lambda: screen.current_row() is not None and screen.current_row().tags == ["refund", "policy"],
                       "the row repainted")
        assert screen.table.cursor_id() == "rec-a"
    assert len(versions(ds_db)) == before + 1
    rec = records(ds_db)["rec-a"]
    assert rec == {"input": "How do I get a refund?", "expected": "Go to Orders > Refund", "metadata": {},
                   "tags": ["refund", "policy"]}
    store = Store(ds_db)
    try:  # the origin is kept by an edit
        assert get_record(store, "default", "refunds", "rec-a").origin["id"] == ORIGIN["id"]
    finally:
        store.close()


def test_record_validation_names_the_field_line_and_column():
    assert record_error("[1, 2]")[0].startswith("a record is one JSON object")
    msg, line, col = record_error('{\n  "input": 1,\n  "output": 2\n}')
    assert "unknown key 'output'" in msg and (line, col) == (3, 3)
    msg, line, col = record_error('{\n  "metadata": [1]\n}')
    assert "metadata must be an object" in msg and line == 2
    assert record_error('{"input": 1, "expected": {"a": [1]}, "metadata": {"k": 1}, "tags": ["t"]}') is None
    assert "line 1, column" in record_error('{"input": }')[0]
    # a key given twice (JSON would keep the last, silently dropping what was typed first)
    msg, line, col = record_error('{\n  "input": "q", "expected": "No, 30 days.",\n  "expected": null\n}')
    assert "'expected' is given twice" in msg and (line, col) == (3, 3)


async def test_edit_in_EDITOR_refused_then_edited_again(app, ds_db, tmp_path, monkeypatch):
    queue = tmp_path / "queue"
    queue.mkdir()
    script = tmp_path / "fake-editor.sh"
    script.write_text(f'#!/bin/sh\nn=$(ls "{queue}" | sort | head -1)\ncat "{queue}/$n" > "$1" && rm "{queue}/$n"\n',
                      encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(script))
    (queue / "00").write_text('{"input": "q", "bogus": 1}', encoding="utf-8")
    (queue / "01").write_text('{"input": "q", "expected": "a"}', encoding="utf-8")
    suspended = record_suspends(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the refusal menu")
        assert "unknown key 'bogus'" in app.screen.title_text
        await pilot.press("1")
        await written(pilot, "saved")
        assert suspended == [True, True]
    assert records(ds_db)["rec-a"] == {"input": "q", "expected": "a", "metadata": {}, "tags": []}


# --- add, duplicate, delete, undo --------------------------------------------------------------------


async def test_add_duplicate_delete_and_undo_each(app, ds_db):
    original = records(ds_db)
    n0 = len(versions(ds_db))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        # add
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, TextEditScreen), "the new-record editor")
        area = app.screen.query_one("#edit-text")
        assert '"input": null' in area.text and '"metadata": {}' in area.text
        area.text = '{"input": "new question", "expected": "new answer", "metadata": {}, "tags": ["n"]}'
        await pilot.press("ctrl+s")
        await written(pilot, "added")
        await wait_for(pilot, lambda: len(screen.table.rows) == 4, "4 records")
        added = [i for i in records(ds_db) if i not in original]
        assert len(added) == 1 and records(ds_db)[added[0]]["input"] == "new question"
        await wait_for(pilot, lambda: screen.table.cursor_id() == added[0], "the cursor on the new record")
        # duplicate rec-b
        screen.table.cursor_row = screen.table.row_ids().index("rec-b")
        await pilot.press("d")
        await written(pilot, "duplicated")
        await wait_for(pilot, lambda: len(screen.table.rows) == 5, "5 records")
        now = records(ds_db)
        copy = [i for i in now if i not in original and i not in added]
        assert len(copy) == 1 and now[copy[0]] == original["rec-b"]
        await wait_for(pilot, lambda: screen.table.cursor_id() == copy[0], "the cursor on the copy (the last row)")
        # delete two marked
        screen.table.cursor_row = screen.table.row_ids().index("rec-a")
        await pilot.press("space")  # marks rec-a, moves to rec-b
        await pilot.press("space")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirmation")
        assert "Delete 2 records?" in app.screen.title_text
        await pilot.press("1")
        await written(pilot, "deleted 2 records")
        await wait_for(pilot, lambda: len(screen.table.rows) == 3, "3 records")
        assert "rec-a" not in records(ds_db) and "rec-b" not in records(ds_db)
        assert len(versions(ds_db)) == n0 + 3
        # undo each, newest first
        await pilot.press("u")
        await written(pilot, "undid the deletion of 2 records")
        assert {"rec-a", "rec-b"} <= set(records(ds_db))
        await pilot.press("u")
        await written(pilot, "undid the copy of rec-b")
        await pilot.press("u")
        await written(pilot, "undid the new record")
        await wait_for(pilot, lambda: len(screen.table.rows) == 3, "the 3 records back")
        assert records(ds_db) == original
        assert len(versions(ds_db)) == n0 + 6  # one version per undo
        await pilot.press("u")
        await wait_for(pilot, lambda: any("nothing to undo" in n for n in notifications(app)), "nothing left")


async def test_undo_leaves_a_record_changed_since_alone(app, ds_db):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        await pilot.press("x")  # one record: no confirmation
        await written(pilot, "deleted 1 record")
        await wait_for(pilot, lambda: len(screen.table.rows) == 2, "2 records")
        store = Store(ds_db)
        try:  # someone else brings rec-a back with other content
            upsert_records(store, "default", "refunds", [{"id": "rec-a", "input": "theirs"}], author="other")
        finally:
            store.close()
        await pilot.press("u")
        await written(pilot, "1 record(s) changed since were left alone")
    assert records(ds_db)["rec-a"]["input"] == "theirs"


# --- old versions ---------------------------------------------------------------------------------


async def test_an_old_version_is_read_only_and_R_restores_it(ds_db, tui_env):
    v1, v2 = seed_versions(ds_db)
    app = make_app(ds_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "LogsScreen", "Logs")
        app.push_screen(DatasetRecordsScreen("default", "refunds", v1))
        screen = await rows_ready(pilot, 2)
        assert screen.table.row_ids() == ["rec-a", "rec-b"]
        banner = title(screen)
        assert f"version {v1} of {v2}, read-only" in banner and "R restores it" in banner
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, TextEditScreen)
        assert any(f"version {v1} is read-only: R restores it" in n for n in notifications(app))
        for key in ("n", "x", "u"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert len(versions(ds_db)) == 2  # nothing written
        from tui.app import BtCommands

        titles = [t for t, _, _ in BtCommands._commands(type("Provider", (), {"app": app})())]
        assert "Restore this version" in titles and "Diff this version with the latest" in titles
        assert "Go to Datasets" in titles and "Edit the current record" in titles
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the confirmation")
        await pilot.press("1")
        await written(pilot, f"restored version {v1}")
        await wait_for(pilot, lambda: not screen.read_only and screen.table.total == 2, "the latest, restored")
        assert "(latest)" in title(screen) and "read-only" not in title(screen)
    assert records(ds_db) == records(ds_db, version=v1)
    assert len(versions(ds_db)) == 3


def seed_versions(db) -> tuple[int, int]:
    vs = versions(db)
    return vs[0].version, vs[-1].version


# --- origin ---------------------------------------------------------------------------------------


async def test_o_opens_the_origin_trace_and_says_when_there_is_none(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        screen.table.cursor_row = 1  # rec-b: no origin
        await pilot.press("o")
        await wait_for(pilot, lambda: any("has no origin trace" in n for n in notifications(app)), "the notice")
        screen.table.cursor_row = 0
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "the trace")
        assert app.screen.root_span_id == ORIGIN["root_span_id"]
        assert app.screen.span["id"] == ORIGIN["id"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to the records")


# --- snapshot, copy, help -----------------------------------------------------------------------------


async def test_s_names_a_snapshot_and_y_copies_the_record(app, ds_db, tmp_path):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_records(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the snapshot prompt")
        await paste(pilot, "baseline")
        await pilot.press("enter")
        await written(pilot, "snapshot 'baseline' names version")
        await pilot.press("y")
        await written(pilot, "copied")
        assert screen.table.cursor_id() == "rec-a"
    assert versions(ds_db)[-1].snapshots == ["baseline"]
    saved = (tmp_path / "cache" / "bt-tui" / "clipboard.txt").read_text(encoding="utf-8")
    assert '"id": "rec-a"' in saved and '"origin"' in saved


async def test_every_key_has_an_id_and_help_lists_them(app):
    from textual.binding import Binding

    from tui.app import _HELP_SKIP_ACTIONS
    from tui.screens.dialogs import HelpScreen

    async with app.run_test(size=SIZE) as pilot:
        for opened in (open_list, open_records):
            if opened is open_records:
                await pilot.press("escape")  # back to Logs
                await wait_for(pilot, lambda: type(app.screen).__name__ == "LogsScreen", "Logs")
            await opened(pilot)
            missing = [k for k, a in app.screen.active_bindings.items()
                       if isinstance(a.binding, Binding) and a.binding.description and not a.binding.id
                       and a.node is not app and type(a.node).__name__ not in ("VerticalScroll", "Input")
                       and a.binding.action not in _HELP_SKIP_ACTIONS]
            assert missing == []
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = static_text(app.screen.query_one("#help-text"))
        for bid in ("records.edit", "records.undo", "records.origin", "records.restore", "records.history"):
            assert bid in text


# --- small terminals ----------------------------------------------------------------------------------


async def test_at_80x24_the_header_and_keys_are_whole(ds_db, tui_env):
    v1, v2 = seed_versions(ds_db)
    app = make_app(ds_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "LogsScreen", "Logs")
        app.push_screen(DatasetRecordsScreen("default", "refunds", v1))
        await rows_ready(pilot, 2)
        lines = screen_text(app).splitlines()
        assert lines[1].strip() == "refunds · 2 records"
        assert lines[2].strip() == f"version {v1} of {v2}, read-only · R restores it · d diffs it with the latest"
        assert any("How do I get a refund?" in line for line in lines)  # the table has room
        assert "Edit" in lines[-1] and "Help" in lines[-1]
