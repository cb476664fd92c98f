"""Pilot tests of "add to dataset" from the Logs and Trace screens: the dialog (pick or name a
dataset, the mapping), what lands in the database, and that adding again updates (same
origin), never duplicates."""

from __future__ import annotations

import pytest

from store import Store
from store.datasets import iter_records, list_versions, upsert_records
from tui.screens.add_to_dataset import AddToDatasetScreen
from tui.screens.dialogs import MenuScreen
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    paste,
    quick_pilot,
    sample_roots,
    sample_rows,
    sample_trace,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

FACT_FILTER = "scores.Factuality < 0.5"


@pytest.fixture
def app(demo_db, tui_env):
    return make_app(demo_db)


def records(path, name: str) -> list:
    store = Store(path)
    try:
        return list(iter_records(store, "default", name))
    finally:
        store.close()


def versions(path, name: str) -> list:
    store = Store(path)
    try:
        return list_versions(store, "default", name)
    finally:
        store.close()


def low_fact_roots() -> list[dict]:
    hit = {s["root_span_id"] for s in sample_rows()
           if (s.get("scores") or {}).get("Factuality") is not None and s["scores"]["Factuality"] < 0.5}
    return [r for r in sample_roots() if r["root_span_id"] in hit]


async def dialog(pilot) -> AddToDatasetScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, AddToDatasetScreen) and app.screen._loaded, "the dialog")
    await settle(pilot)
    return app.screen


async def add_to(pilot, name: str, *keys: str) -> None:
    """In the open dialog: type ``name``, press ``keys`` (mapping), enter; wait for the notice."""
    app = pilot.app
    screen = await dialog(pilot)
    await paste(pilot, name)
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
    before = len(notifications(app))
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, AddToDatasetScreen), "the dialog to close")
    await wait_for(pilot, lambda: len(notifications(app)) > before, "the result notice")
    await settle(pilot)
    assert screen is not None


async def test_a_adds_the_current_trace_to_a_new_dataset(app, demo_db):
    first = sample_roots()[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        assert screen.current_row().id == first["id"]
        await pilot.press("a")
        d = await dialog(pilot)
        text = screen_text(app)
        assert "Add this trace to a dataset" in text and "each trace adds its root span" in text
        assert "no datasets yet" in text
        assert "expected" in static_text(d.query_one("#ds-mapping")) and "auto" in static_text(d.query_one("#ds-mapping"))
        await add_to(pilot, "refunds")
        assert any(n.startswith("added 1, updated 0 to 'refunds' (version") and "a new dataset" in n
                   for n in notifications(app))
    recs = records(demo_db, "refunds")
    assert len(recs) == 1
    rec = recs[0]
    assert rec.origin == {"object_type": "project_logs", "id": first["id"]}
    assert rec.input == first["input"]
    assert rec.expected == (first.get("expected") if first.get("expected") is not None else first.get("output"))
    assert rec.metadata == (first.get("metadata") or {}) and rec.tags == (first.get("tags") or [])


async def test_mapping_keys_change_what_is_added(app, demo_db):
    first = sample_roots()[0]
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("a")
        d = await dialog(pilot)
        # ctrl+o cycles expected from auto -> output -> expected -> none; ctrl+g metadata, ctrl+t tags
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+o")
        mapping = static_text(d.query_one("#ds-mapping"))
        assert "none" in mapping and "left empty" in mapping
        await pilot.press("ctrl+g", "ctrl+t")
        mapping = static_text(d.query_one("#ds-mapping"))
        assert mapping.count("off") == 2
        await add_to(pilot, "bare")
    rec = records(demo_db, "bare")[0]
    assert rec.input == first["input"] and rec.expected is None and rec.metadata == {} and rec.tags == []


async def test_batch_on_all_matching_adds_one_version_and_again_updates_never_duplicates(app, demo_db):
    matching = low_fact_roots()
    assert len(matching) > 3
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_rows(pilot)
        await pilot.press("slash")
        await paste(pilot, FACT_FILTER)
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.table.total == len(matching), "the filtered rows")
        await pilot.press("A", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        ids = [k for k, _ in app.screen.items]
        assert "dataset" in ids
        await pilot.press(str(ids.index("dataset") + 1))
        await dialog(pilot)
        assert f"all matching traces ({len(matching)})" in screen_text(app)
        await add_to(pilot, "low factuality")
        assert any(n.startswith(f"added {len(matching)}, updated 0 to 'low factuality'") for n in notifications(app))
        assert len(versions(demo_db, "low factuality")) == 1
        # The same again, the dataset picked from the list: nothing changes, no new version.
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        await pilot.press(str(ids.index("dataset") + 1))
        d = await dialog(pilot)
        assert "low factuality" in screen_text(app)
        assert d.chosen() == "low factuality"  # the most recent dataset is highlighted
        before = len(notifications(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(notifications(app)) > before, "the second notice")
        assert notifications(app)[-1] == (f"nothing changed: {len(matching)} already in 'low factuality' as they are"
                                          " (no new version)")
        # Again with another mapping: the same records are updated, not duplicated.
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        await pilot.press(str(ids.index("dataset") + 1))
        await dialog(pilot)
        before = len(notifications(app))
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+o", "enter")  # expected from: none
        await wait_for(pilot, lambda: len(notifications(app)) > before, "the third notice")
        assert notifications(app)[-1].startswith(f"added 0, updated {len(matching)} to 'low factuality'")
    recs = records(demo_db, "low factuality")
    assert sorted(r.origin["id"] for r in recs) == sorted(r["id"] for r in matching)
    assert all(r.expected is None for r in recs)
    assert len(versions(demo_db, "low factuality")) == 2


async def test_marked_rows_into_an_existing_dataset_picked_by_typing(app, demo_db):
    store = Store(demo_db)
    try:
        upsert_records(store, "default", "alpha", [{"id": "x1", "input": "a"}])
        upsert_records(store, "default", "refund cases", [{"id": "x2", "input": "b"}])
    finally:
        store.close()
    roots = sample_roots()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("space", "space", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, MenuScreen), "the batch menu")
        ids = [k for k, _ in app.screen.items]
        await pilot.press(str(ids.index("dataset") + 1))
        d = await dialog(pilot)
        text = screen_text(app)
        assert "2 marked traces" in text
        assert text.index("refund cases") < text.index("alpha")  # most recently changed first
        await paste(pilot, "ALP")  # filters, case-insensitively; a new name is offered too
        await settle(pilot)
        assert d.chosen() == "alpha" and "+ new dataset 'ALP'" in screen_text(app)
        await pilot.press("down")
        assert d.chosen() == "ALP"
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: any(n.startswith("added 2, updated 0 to 'alpha'") for n in notifications(app)),
                       "the notice")
    recs = records(demo_db, "alpha")
    assert [r.id for r in recs][0] == "x1"
    assert sorted(r.origin["id"] for r in recs[1:]) == sorted(r["id"] for r in roots[:2])


async def test_escape_cancels_and_writes_nothing(app, demo_db):
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("a")
        await dialog(pilot)
        await paste(pilot, "never")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddToDatasetScreen), "the dialog to close")
        await settle(pilot)
    store = Store(demo_db)
    try:
        from store.datasets import list_datasets

        assert list_datasets(store, "default") == []
    finally:
        store.close()


async def test_trace_screen_a_adds_the_current_span(app, demo_db):
    first = sample_roots()[0]
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        await settle(pilot)
        trace = app.screen
        await pilot.press("n")  # the first child span
        await wait_for(pilot, lambda: trace.span["id"] != first["id"], "a child span")
        await settle(pilot)
        span_id = trace.span["id"]
        await pilot.press("a")
        await dialog(pilot)
        assert "Add this span to a dataset" in screen_text(app)
        await add_to(pilot, "spans")
        assert any(n.startswith("added 1, updated 0 to 'spans'") for n in notifications(app))
        # the same span again: updated in place (nothing differs), never a second record
        await pilot.press("a")
        await dialog(pilot)
        await add_to(pilot, "spans")
    recs = records(demo_db, "spans")
    assert len(recs) == 1 and recs[0].origin == {"object_type": "project_logs", "id": span_id}
    span = next(s for s in sample_trace(first["root_span_id"]) if s["id"] == span_id)
    assert recs[0].input == span["input"]
