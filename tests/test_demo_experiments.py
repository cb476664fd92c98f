"""`bt-tui demo` holds two experiments over the refund regressions dataset (sample_data/
demo_experiments.py): the support bot's two prompt versions run with the offline model and
scored, the fix made after the baseline, so the fix's default base is the baseline and their
comparison shows rows that got better and rows that got worse. Seeding again changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import BT_TUI, base_env
from sample_data import demo_experiments as de
from sample_data.demo_datasets import REGRESSIONS
from store import Store
from store.compare import compare_experiments, previous_experiment
from store.datasets import resolve_version
from store.experiments import get_experiment, list_experiments

P = "default"
BASE, FIX = (name for name, _, _ in de.EXPERIMENTS)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-experiments")
    db = tmp / "demo.db"
    proc = subprocess.run([*BT_TUI, "--db", str(db), "demo", "--no-launch"], capture_output=True,
                          env=base_env(tmp, None), cwd=str(tmp), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return db, proc.stderr.decode("utf-8")


@pytest.fixture
def store(seeded, tmp_path):
    copy = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], copy)
    s = Store(copy)
    yield s
    s.close()


def test_two_experiments_over_the_regressions_dataset(store, seeded):
    exps = {e.name: e for e in list_experiments(store, P)}
    assert set(exps) >= {BASE, FIX}
    version = resolve_version(store, P, REGRESSIONS)
    for name, prompt in ((BASE, "support-bot@1"), (FIX, "support-bot@2")):
        e = exps[name]
        assert (e.dataset, e.dataset_version, e.prompt, e.model, e.status) == (REGRESSIONS, version, prompt,
                                                                                "offline", "complete")
        assert e.rows == 10 and e.errors == 0
        assert set(e.scores) == {"Levenshtein", "ExactMatch", "mentions_14_days"}
    assert (exps[BASE].author, exps[FIX].author) == ("sam", "maya")
    assert "experiments 'support-bot@1 baseline' and 'support-bot@2 14-day fix' (press X)" in seeded[1]


def test_the_fix_is_compared_with_the_baseline_and_shows_regressions(store):
    fix = get_experiment(store, P, FIX)
    assert previous_experiment(store, P, fix).name == BASE
    comp = compare_experiments(store, P, BASE, FIX)
    assert comp.matched == 10 and comp.only_base == comp.only_candidate == 0
    by = {s.score: s for s in comp.scores}
    # the policy check: the fix states 14 days on more rows, and no row lost it
    assert by["mentions_14_days"].improvements >= 2 and by["mentions_14_days"].regressions == 0
    assert by["mentions_14_days"].diff > 0
    # ...while the text similarity to the expected answers went down on some rows: regressions to read
    assert sum(s.regressions for s in comp.scores) >= 2
    regressed = [r for r in comp.rows if r.regressed()]
    assert regressed and all(r.base.output != r.candidate.output for r in regressed)


def test_the_scores_are_the_offline_models_deterministic_answers(store):
    for row in compare_experiments(store, P, BASE, FIX, intervals=False).rows:
        for side in (row.base, row.candidate):
            assert side.scores["mentions_14_days"] == de.mentions_14_days(side.output)


def test_seeding_again_adds_nothing(store):
    before = [(e.name, e.rows) for e in list_experiments(store, P)]
    assert de.seed_demo_experiments(store, P) == []
    assert [(e.name, e.rows) for e in list_experiments(store, P)] == before


def test_a_project_that_is_not_the_demos_gets_no_experiments(tmp_path):
    s = Store(tmp_path / "x.db")
    assert de.seed_demo_experiments(s, "mine") == []
    assert list_experiments(s, "mine") == []
    s.close()


def test_seeding_never_imports_litellm(seeded, tmp_path):
    import sqlite3

    copy = tmp_path / "demo.db"
    shutil.copyfile(seeded[0], copy)
    with sqlite3.connect(copy) as conn:  # as if the demo database predated experiments
        conn.execute("DELETE FROM experiments")
    code = ("import sys; from store import Store; from sample_data import demo_experiments as de; "
            "s = Store(sys.argv[1]); print(de.seed_demo_experiments(s, 'default')); "
            "assert 'litellm' not in sys.modules, 'litellm imported'")
    out = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert BASE in out.stdout and FIX in out.stdout
