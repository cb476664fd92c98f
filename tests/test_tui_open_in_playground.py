"""Open in the playground (Langfuse #12811): from the Logs screen (the current trace's root span)
and the Trace screen (the current span), `ctrl+o` picks a prompt (best match first) and a model,
previews the first message rendered with the span's variables, then adds the span to the dataset
'playground scratch' (its output as expected), sets the playground 'scratch' over it with the
chosen prompt and model as the base variant, and pushes the Playground screen on that record.
From the Prompts screen, `p` runs a prompt over a chosen dataset in the same playground."""

from __future__ import annotations

import importlib.util

import pytest

from store import Store
from store.datasets import iter_records
from store.experiments import get_playground, save_playground
from store.prompts import get_prompt, list_prompts, save_prompt
from store.spans import log_spans
from tui.screens.open_in_playground import (NEW, NEW_SLUG, SCRATCH_DATASET, SCRATCH_PLAYGROUND,
                                            OpenInPlaygroundScreen, PromptToPlaygroundScreen, open_span,
                                            rank_prompts)
from tui.screens.trace import TraceScreen
from tui_fixtures import (  # noqa: F401  (fixtures)
    SIZE,
    demo_db,
    demo_db_template,
    make_app,
    notifications,
    quick_pilot,
    sample_trace,
    screen_text,
    settle,
    static_text,
    tui_env,
    wait_for,
    wait_rows,
)

HAS_PLAYGROUND = importlib.util.find_spec("tui.screens.playground") is not None
NO_PLAYGROUND = "tui/screens/playground.py (the Playground screen) is not merged yet: its push is not checked"


def seed(path) -> None:
    """A prompt the demo's root spans fill ({{message}}), one they do not ({{question}}), and
    a model besides the offline one."""
    from store.model_configs import add_model

    store = Store(path)
    try:
        save_prompt(store, "default", "aaa-questions", [{"role": "user", "content": "Question: {{question}}"}],
                    model="offline", author="maya")
        save_prompt(store, "default", "support-bot", [{"role": "user", "content": "Customer says: {{message}}"},
                                                      {"role": "system", "content": "Answer kindly."}],
                    model="offline", author="maya")
        add_model(store, "gpt-mini", "openai/gpt-4o-mini", key_env="OPENAI_API_KEY")
    finally:
        store.close()


def scratch(path):
    """(the records of 'playground scratch', the playground 'scratch')."""
    store = Store(path)
    try:
        return list(iter_records(store, "default", SCRATCH_DATASET)), get_playground(store, "default",
                                                                                    SCRATCH_PLAYGROUND)
    finally:
        store.close()


async def open_dialog(pilot) -> OpenInPlaygroundScreen:
    app = pilot.app
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, OpenInPlaygroundScreen) and app.screen.span is not None,
                   "the dialog with the span read")
    await settle(pilot)
    return app.screen


def option_ids(dialog, list_id: str) -> list[str]:
    ol = dialog.query_one(f"#{list_id}")
    return [ol.get_option_at_index(i).id for i in range(ol.option_count)]


async def check_pushed(pilot, record_id: str) -> None:
    """The Playground screen on top, focused on the record (skipped while it is not merged)."""
    app = pilot.app
    if not HAS_PLAYGROUND:
        await wait_for(pilot, lambda: any("this build has no Playground screen" in n for n in notifications(app)),
                       "the notice")
        pytest.skip(NO_PLAYGROUND)
    await wait_for(pilot, lambda: type(app.screen).__name__ == "PlaygroundScreen", "the Playground screen")
    assert getattr(app.screen, "focus_record", record_id) == record_id


# --- matching ------------------------------------------------------------------------------------------

def test_rank_puts_the_named_prompt_then_the_filled_ones_first(demo_db):
    seed(demo_db)
    store = Store(demo_db)
    try:
        save_prompt(store, "default", "support-system", [{"role": "system", "content": "Refunds: {{policy}}"}])
        prompts = list_prompts(store, "default")
    finally:
        store.close()
    root = next(r for r in sample_trace_roots() if (r.get("metadata") or {}).get("prompt_version"))
    assert root["metadata"]["prompt_version"].startswith("support-system@")
    ranked = rank_prompts(prompts, root)
    assert [m.prompt.slug for m in ranked] == ["support-system", "support-bot", "aaa-questions"]
    assert ranked[0].named and ranked[0].missing == "policy"
    assert ranked[1].missing is None and not ranked[1].named
    assert ranked[2].missing == "question"
    no_meta = {**root, "metadata": {}}
    assert [m.prompt.slug for m in rank_prompts(prompts, no_meta)][0] == "support-bot"


def sample_trace_roots() -> list[dict]:
    from tui_fixtures import sample_roots

    return sample_roots()


# --- from the Logs screen ---------------------------------------------------------------------------------

async def test_from_logs_the_root_span_becomes_a_row_and_the_playground_its_base(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        logs = await wait_rows(pilot)
        row = logs.table.current_row()
        span = next(s for s in sample_trace(row.root_span_id) if s["id"] == row.id)
        dialog = await open_dialog(pilot)
        assert option_ids(dialog, "op-prompts") == ["support-bot", "aaa-questions", NEW]
        assert option_ids(dialog, "op-models") == ["offline", "gpt-mini"]
        assert dialog.chosen_model() == "offline"  # the prompt's own model
        preview = static_text(dialog.query_one("#op-preview"))
        assert "▌ user" in preview
        first_words = " ".join(span["input"]["message"].split()[:8])  # the preview shows the first lines
        assert f"Customer says: {first_words}" in " ".join(preview.split())
        ol = dialog.query_one("#op-prompts")
        assert "no {{question}} in the span" in str(ol.get_option_at_index(1).prompt)
        await pilot.press("j")  # aaa-questions: its variable is not in the span
        await pilot.pause()
        assert "the span has no {{question}}" in static_text(dialog.query_one("#op-preview"))
        await pilot.press("k", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenInPlaygroundScreen), "the dialog done")
        records, pg = scratch(demo_db)
        assert len(records) == 1
        rec = records[0]
        assert rec.input == span["input"] and rec.expected == span["output"]
        assert rec.origin == {"object_type": "project_logs", "id": span["id"]}
        assert pg.dataset == SCRATCH_DATASET and pg.dataset_version is None
        assert pg.variants == [{"id": "A", "prompt": "support-bot@1", "model": "offline", "params": {}, "repeat": 1}]
        assert any("span added to 'playground scratch'" in n for n in notifications(app))
        await check_pushed(pilot, rec.id)


async def test_again_on_the_same_span_updates_its_record_and_keeps_other_variants(demo_db, tui_env):
    seed(demo_db)
    store = Store(demo_db)
    save_prompt(store, "default", "support-bot", [{"role": "user", "content": "v2: {{message}}"}], model="offline")
    store.close()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        dialog = await open_dialog(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenInPlaygroundScreen), "done once")
        records, pg = scratch(demo_db)
        store = Store(demo_db)  # someone adds a second variant in the playground
        save_playground(store, "default", SCRATCH_PLAYGROUND, dataset=SCRATCH_DATASET, dataset_version=None,
                        variants=pg.variants + [{"id": "B", "prompt": "support-bot@1", "model": "gpt-mini",
                                                 "params": {}, "repeat": 2}])
        store.close()
        while not type(app.screen).__name__ == "LogsScreen":
            app.pop_screen()
            await pilot.pause()
        dialog = await open_dialog(pilot)
        await pilot.press("tab")  # the model list
        assert app.focused is dialog.query_one("#op-models")
        await pilot.press("j")  # gpt-mini
        assert dialog.chosen_model() == "gpt-mini"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenInPlaygroundScreen), "done twice")
        again, pg = scratch(demo_db)
        assert [r.id for r in again] == [r.id for r in records]  # updated, never duplicated
        assert pg.variants == [{"id": "A", "prompt": "support-bot@2", "model": "gpt-mini", "params": {}, "repeat": 1},
                               {"id": "B", "prompt": "support-bot@1", "model": "gpt-mini", "params": {}, "repeat": 2}]


async def test_a_new_prompt_from_the_span(demo_db, tui_env):
    app = make_app(demo_db)  # no prompts at all
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        dialog = await open_dialog(pilot)
        assert option_ids(dialog, "op-prompts") == [NEW]
        assert "{" in static_text(dialog.query_one("#op-preview"))  # {{input}}: the input as JSON
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenInPlaygroundScreen), "done")
        store = Store(demo_db)
        try:
            pv = get_prompt(store, "default", NEW_SLUG)
        finally:
            store.close()
        assert pv.messages == [{"role": "user", "content": "{{input}}"}]
        _, pg = scratch(demo_db)
        assert pg.variants[0]["prompt"] == f"{NEW_SLUG}@1"


# --- from the Trace screen ---------------------------------------------------------------------------------

async def test_from_trace_the_current_span_becomes_the_row(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        logs = await wait_rows(pilot)
        root = logs.table.current_row()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TraceScreen) and app.screen.span is not None, "a trace")
        trace = app.screen
        await pilot.press("n")  # the root's first child
        await wait_for(pilot, lambda: trace.span is not None and trace.span["id"] != root.id, "a child span")
        child = trace.span
        dialog = await open_dialog(pilot)
        assert "input" in static_text(dialog.query_one("#op-span"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OpenInPlaygroundScreen), "done")
        records, pg = scratch(demo_db)
        (rec,) = records
        expected = next(s for s in sample_trace(root.root_span_id) if s["id"] == child["id"])
        assert rec.input == expected["input"] and rec.expected == expected["output"]
        assert rec.origin["id"] == child["id"]
        assert pg.variants[0]["prompt"].startswith(("support-bot@", "aaa-questions@", NEW_SLUG))
        await check_pushed(pilot, rec.id)


def test_a_span_of_another_project_becomes_a_record_of_this_one(demo_db):
    """A trace of an experiment's or a playground's rows (another project): the record is made
    from the span as read, in the app's project."""
    seed(demo_db)
    store = Store(demo_db)
    try:
        span = {"id": "x-1", "span_id": "x-1", "root_span_id": "x-1", "created": "2030-01-01T00:00:00Z",
                "input": {"message": "where is my parcel"}, "output": "on its way",
                "span_attributes": {"name": "eval", "type": "eval"}}
        log_spans(store, "elsewhere", [span])
        pv = get_prompt(store, "default", "support-bot")
        opened = open_span(store, "default", "elsewhere", span, pv, "offline")
        (rec,) = list(iter_records(store, "default", SCRATCH_DATASET))
        assert opened.record_id == rec.id
        assert rec.input == {"message": "where is my parcel"} and rec.expected == "on its way"
        again = open_span(store, "default", "elsewhere", span, pv, "offline")
        assert again.record_id == rec.id and len(list(iter_records(store, "default", SCRATCH_DATASET))) == 1
    finally:
        store.close()


# --- from the Prompts screen ------------------------------------------------------------------------------

async def test_p_on_a_prompt_sets_the_playground_over_a_dataset(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("M")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PromptsScreen", "the prompts")
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.table.rows) == 2, "the prompts read")
        screen.table.cursor_row = 1  # support-bot
        await pilot.pause()
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptToPlaygroundScreen)
                       and app.screen.query_one("#pp-list").option_count, "the datasets")
        dialog = app.screen
        await pilot.pause()
        assert "new empty dataset 'playground scratch'" in screen_text(app)
        assert dialog.query_one("#pp-list").get_option_at_index(0).id == SCRATCH_DATASET
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PromptToPlaygroundScreen), "done")
        records, pg = scratch(demo_db)
        assert records == [] and pg.dataset == SCRATCH_DATASET
        assert pg.variants == [{"id": "A", "prompt": "support-bot@1", "model": "offline", "params": {}, "repeat": 1}]
        if not HAS_PLAYGROUND:
            await wait_for(pilot, lambda: any("this build has no Playground screen" in n
                                              for n in notifications(app)), "the notice")
            pytest.skip(NO_PLAYGROUND)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PlaygroundScreen", "the Playground screen")


# --- small terminals ----------------------------------------------------------------------------------------

async def test_the_dialog_renders_at_80x24(demo_db, tui_env):
    seed(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_rows(pilot)
        await open_dialog(pilot)
        text = screen_text(app)
        for what in ("Open in the playground", "prompt (best match first)", "model", "support-bot@1", "offline",
                     "▌ user", "enter opens"):
            assert what in text, what


def test_preview_shows_the_first_message_and_the_first_one_the_span_fills():
    from tui.screens.open_in_playground import first_message_preview

    span = {"id": "s1", "input": {"message": "my parcel is late"}, "output": "sorry"}
    messages = [{"role": "system", "content": "You are a support bot.\nBe kind.\nBe brief."},
                {"role": "user", "content": "Customer: {{message}}"}]
    text = first_message_preview(None, messages, span).plain
    assert "▌ system  message 1 of 2\nYou are a support bot.\n… 2 more lines" in text
    assert "▌ user  message 2 of 2, with the span's variables\nCustomer: my parcel is late" in text
    missing = first_message_preview(None, [{"role": "user", "content": "Q: {{question}}"}], span).plain
    assert missing.startswith("the span has no {{question}}: it renders empty") and missing.endswith("\nQ: ")


def test_a_changed_base_drops_its_stale_cells_and_keeps_the_others(demo_db):
    from store.experiments import playground_cells
    from store.datasets import upsert_records
    from tui.screens.open_in_playground import set_scratch_playground

    seed(demo_db)
    store = Store(demo_db)
    try:
        upsert_records(store, "default", SCRATCH_DATASET, [{"id": "r1", "input": {"message": "hi"}}])
        pg = save_playground(store, "default", SCRATCH_PLAYGROUND, dataset=SCRATCH_DATASET, dataset_version=None,
                             variants=[{"id": "A", "prompt": "support-bot@1", "model": "offline", "params": {},
                                        "repeat": 1},
                                       {"id": "B", "prompt": "support-bot@1", "model": "gpt-mini", "params": {},
                                        "repeat": 1}])
        log_spans(store, pg.rows_project, [
            {"id": f"c-{v}", "span_id": f"c-{v}", "root_span_id": f"c-{v}", "created": "2030-01-01T00:00:00Z",
             "input": {"message": "hi"}, "output": f"answer {v}",
             "metadata": {"playground": {"variant": v, "record": "r1", "repeat": 0}}} for v in ("A", "B")])
        base = {"prompt": "support-bot@1", "model": "offline", "params": {}, "repeat": 1}
        set_scratch_playground(store, "default", base, SCRATCH_DATASET, "tester")  # the same base: cells stay
        assert sorted(c.variant for c in playground_cells(store, pg)) == ["A", "B"]
        set_scratch_playground(store, "default", {**base, "model": "gpt-mini"}, SCRATCH_DATASET, "tester")
        assert [c.variant for c in playground_cells(store, pg)] == ["B"]  # A's answers were another model's
        info = get_playground(store, "default", SCRATCH_PLAYGROUND)
        assert [v["id"] for v in info.variants] == ["A", "B"] and info.variants[0]["model"] == "gpt-mini"
    finally:
        store.close()
