"""`bt-tui demo` sets up the exploration loop (sample_data/demo_prompts.py): two versions of the
support bot's prompt (the 30-day refund window and the 14-day fix), and a playground over the
refund regressions dataset with both, already run with the offline model, so the 30-day and
14-day answers differ side by side the moment it opens. Seeding again changes nothing; an older
demo database is upgraded; an interrupted seeding is finished; someone's own prompt is left alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import BT_TUI, base_env
from sample_data import demo_datasets as dd
from sample_data import demo_prompts as dp
from store import Store
from store.datasets import resolve_version
from store.experiments import get_playground, list_playgrounds, playground_cells
from store.prompts import get_prompt, list_prompts, prompt_history, save_prompt
from tui_fixtures import import_sample

P = "default"


def _demo(tmp_path, db) -> str:
    proc = subprocess.run([*BT_TUI, "--db", str(db), "demo", "--no-launch"], capture_output=True,
                          env=base_env(tmp_path, None), cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stderr.decode("utf-8")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-prompts")
    db = tmp / "demo.db"
    return db, _demo(tmp, db)


@pytest.fixture
def store(seeded, tmp_path):
    copy = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], copy)
    s = Store(copy)
    yield s
    s.close()


def _cells(store) -> dict:
    """(variant, record) -> the stored cell of the demo playground."""
    pg = get_playground(store, P, dp.PLAYGROUND)
    return {(c.variant, c.record): c for c in playground_cells(store, pg)}


def _answer(output) -> str:
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


def _state(store) -> tuple:
    prompts = [p.to_json() for p in prompt_history(store, P, dp.SLUG)]
    pgs = [p.to_json() for p in list_playgrounds(store, P)]
    cells = sorted((k, c.id, c.output) for k, c in _cells(store).items())
    return prompts, pgs, cells


def test_demo_says_what_it_added(seeded):
    assert "added demo prompt 'support-bot'" in seeded[1]
    assert "playground 'refund policy' over 'refund policy regressions'" in seeded[1]


def test_two_versions_of_the_support_bot(store):
    v1, v2 = prompt_history(store, P, dp.SLUG)
    assert (v1.version, v1.author, v1.model) == (1, "sam", "offline")
    assert (v2.version, v2.author, v2.model) == (2, "maya", "offline")
    assert "refunds are accepted within 30 days of delivery" in v1.messages[0]["content"]
    assert "refundable within 14 days of delivery (KB-1101)" in v2.messages[0]["content"]
    assert "30 days" not in v2.messages[0]["content"]
    assert [m["role"] for m in v1.messages] == [m["role"] for m in v2.messages] == ["system", "user"]
    assert v1.messages[1] == v2.messages[1]  # only the system prompt changed
    assert [p.slug for p in list_prompts(store, P)] == [dp.SLUG]


def test_rendered_over_a_demo_record_the_messages_make_sense(store):
    """A demo record's input is {message, subject?, conversation_id}: the user turn is the
    customer's message (with the email's subject, as production sent it), the language the
    record's locale; no template text is left over."""
    from engine.playground import dataset_rows
    from engine.runs import render_messages, variables

    _, rows = dataset_rows(store, P, dd.REGRESSIONS)
    pv = get_prompt(store, P, f"{dp.SLUG}@1")
    by_id = {r.id: r for r in rows}
    email = by_id[dd.record_id("span-81ae470d36680516")]
    system, user = render_messages(pv, variables(email), strict=True)
    assert "locale es-ES" in system["content"] and "{{" not in system["content"]
    assert user["content"] == f"Subject: {email.input['subject']}\n\n{email.input['message']}"
    web = by_id[dd.record_id("span-733cf6eb9f1fb9f9")]
    assert "subject" not in web.input
    _, user = render_messages(pv, variables(web))
    assert user["content"] == web.input["message"]
    for row in rows:  # every record renders (strict: no variable is missing but a subject)
        _, user = render_messages(pv, variables(row))
        assert user["content"].endswith(row.input["message"])


def test_the_playground_is_set_up_and_already_run(store):
    pg = get_playground(store, P, dp.PLAYGROUND)
    assert pg.dataset == dd.REGRESSIONS
    assert pg.dataset_version == resolve_version(store, P, dd.REGRESSIONS)
    assert [(v["id"], v["prompt"], v["model"]) for v in pg.variants] == [
        ("A", "support-bot@1", "offline"), ("B", "support-bot@2", "offline")]
    cells = _cells(store)
    records = {c.record for c in cells.values()}
    assert len(records) == 10 and len(cells) == 20  # every record x both variants
    assert all(c.error is None and c.output for c in cells.values())
    assert all(0 <= c.scores["Levenshtein"] <= 1 for c in cells.values())
    assert all(c.metrics.get("end") is not None for c in cells.values())


def test_a_and_b_answer_differently(store):
    """The point of the demo: the 30-day prompt and the 14-day fix give different answers. The
    offline model answers with a logged output for the most similar input, choosing among the
    close matches the one sharing most words with the system prompt; each record's own trace is
    by far the closest match of its input, so on most rows both versions replay it, and on some
    the fix picks a 14-day answer where the old prompt keeps the 30-day one."""
    import re

    cells = _cells(store)
    records = sorted({r for _, r in cells})
    differ = [r for r in records if _answer(cells[("A", r)].output) != _answer(cells[("B", r)].output)]
    assert len(differ) >= 2, differ

    def days(r, v):
        return set(re.findall(r"(\d+)[ -]?(?:days?|días?|jours?|Tage)", _answer(cells[(v, r)].output)))

    policy = [r for r in differ if "30" in days(r, "A") and "14" in days(r, "B") and "30" not in days(r, "B")]
    assert len(policy) >= 2, {r: (days(r, "A"), days(r, "B")) for r in differ}
    for r in policy:  # and their scores differ (Levenshtein against the expected answers)
        assert cells[("A", r)].scores["Levenshtein"] != cells[("B", r)].scores["Levenshtein"]


def test_running_demo_again_changes_nothing(seeded, store):
    before = _state(store)
    assert not dp.seed_demo_prompts(store, P)
    assert _state(store) == before


def test_seeding_is_deterministic_and_never_imports_litellm(store, tmp_path):
    """A fresh seeding in a process of its own: the same prompts and the same answers, and the
    offline run never imported litellm (no network, no key, no start-up cost)."""
    db = tmp_path / "fresh.db"
    import_sample(db)
    code = (
        "import sys\n"
        "from store import Store\n"
        "from sample_data.demo_datasets import seed_demo_datasets\n"
        "from sample_data.demo_prompts import seed_demo_prompts\n"
        f"s = Store({str(db)!r})\n"
        "seed_demo_datasets(s, 'default')\n"
        "assert seed_demo_prompts(s, 'default')\n"
        "s.close()\n"
        "print('litellm' in sys.modules, 'openai' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False False"
    fresh = Store(db)
    try:
        mine = {k: (_answer(c.output), c.scores) for k, c in _cells(store).items()}
        theirs = {k: (_answer(c.output), c.scores) for k, c in _cells(fresh).items()}
        assert mine == theirs
        strip = lambda p: {k: v for k, v in p.to_json().items() if k != "created"}  # noqa: E731
        assert [strip(p) for p in prompt_history(fresh, P, dp.SLUG)] == [
            strip(p) for p in prompt_history(store, P, dp.SLUG)]
    finally:
        fresh.close()


def test_demo_upgrades_an_older_demo_database(tmp_path):
    db = import_sample(tmp_path / "old-demo.db")
    s = Store(db)
    dd.seed_demo_datasets(s, P)  # a demo database from before prompts existed
    s.close()
    out = _demo(tmp_path, db)
    assert "already has 2162 spans" in out and "added demo prompt 'support-bot'" in out
    s = Store(db)
    try:
        assert len(_cells(s)) == 20
    finally:
        s.close()


def test_an_interrupted_seeding_is_finished(tmp_path):
    s = Store(import_sample(tmp_path / "demo.db"))
    try:
        dd.seed_demo_datasets(s, P)
        save_prompt(s, P, dp.SLUG, dp.messages(dp.VERSIONS[0][0]), model="offline", description=dp.DESCRIPTION,
                    author="sam")  # stopped after version 1
        assert dp.seed_demo_prompts(s, P)
        assert [p.version for p in prompt_history(s, P, dp.SLUG)] == [1, 2]
        assert len(_cells(s)) == 20
        # a playground made but never run (killed mid-run) is run
        from store.experiments import replace_traces

        pg = get_playground(s, P, dp.PLAYGROUND)
        replace_traces(s, pg.rows_project, [c.root_span_id for c in _cells(s).values()])
        assert _cells(s) == {}
        assert dp.seed_demo_prompts(s, P)
        assert len(_cells(s)) == 20
    finally:
        s.close()


def test_someones_own_support_bot_is_left_alone(tmp_path):
    s = Store(import_sample(tmp_path / "demo.db"))
    try:
        dd.seed_demo_datasets(s, P)
        save_prompt(s, P, dp.SLUG, [{"role": "user", "content": "mine: {{input}}"}], author="me")
        assert not dp.seed_demo_prompts(s, P)
        assert [p.version for p in prompt_history(s, P, dp.SLUG)] == [1]
        assert list_playgrounds(s, P) == []
    finally:
        s.close()


def test_a_project_without_the_demo_dataset_gets_nothing(tmp_path):
    s = Store(import_sample(tmp_path / "demo.db"))
    try:
        assert not dp.seed_demo_prompts(s, P)  # logs but no datasets
        assert not dp.seed_demo_prompts(s, "nope")  # no such project: nothing, no error
        assert list_prompts(s, P) == [] and list_playgrounds(s, P) == []
    finally:
        s.close()
