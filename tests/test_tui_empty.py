"""An empty database (or a project with no rows) says how to start instead of opening
silently empty; rows that arrive later replace the message."""

from __future__ import annotations

from store import Store
from store.spans import log_spans
from tui.screens.logs import LogsScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    make_app,
    quick_pilot,
    root_span,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
)


async def test_an_empty_database_says_how_to_start(tmp_path, tui_env):
    db = tmp_path / "empty.db"
    Store(db).close()
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen), "the Logs screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#empty").display, "the empty-state help")
        await settle(pilot)
        text = screen_text(app)
        flat = " ".join(text.split())
        assert "No traces in project 'default' yet" in flat
        assert f"bt-tui --db {db} import logs FILE.jsonl" in flat
        assert "bt-tui demo" in flat
        assert "from bt_tui import init_logger" in flat
        assert f'init_logger(project="default",db="{db}")' in "".join(flat.split())  # (wrapped at 80)
        assert "dataset" not in flat.lower()
        # Rows written meanwhile: ctrl+r shows them, and the help goes.
        store = Store(db)
        try:
            log_spans(store, "default", [root_span(1)])
        finally:
            store.close()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.table.rows, "the new row")
        await settle(pilot)
        assert not screen.query_one("#empty").display
        assert "No traces" not in screen_text(app)


async def test_an_empty_project_names_the_others(tmp_path, tui_env):
    db = tmp_path / "two.db"
    store = Store(db)
    try:
        log_spans(store, "support", [root_span(i) for i in range(3)])
    finally:
        store.close()
    app = make_app(db, project="new-one")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen), "the Logs screen")
        screen = app.screen
        await wait_for(pilot, lambda: "support (3 traces)" in static_text(screen.query_one("#empty")), "the help")
        await settle(pilot)
        flat = " ".join(screen_text(app).split())
        assert "No traces in project 'new-one' yet" in flat and "P switches project" in flat
        assert "--project new-one" in flat
