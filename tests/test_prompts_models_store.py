"""store/prompts.py, store/model_configs.py and store/experiments.py: versions, refusals, hidden
projects, playground cells."""

from __future__ import annotations

import pytest

from store import experiments as ex
from store import model_configs as mc
from store import prompts as pr
from store.connection import Store
from store.errors import NotFound
from store.projects import list_projects
from store.spans import log_spans

MSGS = [{"role": "system", "content": "Refunds within {{days}} days."}, {"role": "user", "content": "{{input}}"}]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def test_prompt_versions_count_from_one_and_identical_save_makes_none(store):
    v1, new = pr.save_prompt(store, "p", "bot", MSGS, model="offline", author="sam")
    assert (v1.ref, new, v1.author) == ("bot@1", True, "sam")
    same, new = pr.save_prompt(store, "p", "bot", MSGS, model="offline", author="maya")
    assert (same.ref, new, same.author) == ("bot@1", False, "sam")
    v2, new = pr.save_prompt(store, "p", "bot", [MSGS[0], {"role": "user", "content": "Q: {{input}}"}],
                             model="offline", params={"temperature": 0.2}, author="maya")
    assert (v2.ref, new) == ("bot@2", True)
    assert pr.get_prompt(store, "p", "bot").version == 2
    assert pr.get_prompt(store, "p", "bot@1").messages == MSGS
    assert [v.version for v in pr.prompt_history(store, "p", "bot")] == [1, 2]
    changes = pr.diff_prompts(v1, v2)
    assert [c["field"] for c in changes] == ["messages[1].content", "params"]
    assert changes[0]["before"] == "{{input}}" and changes[0]["after"] == "Q: {{input}}"
    [info] = pr.list_prompts(store, "p")
    assert info.to_json()["version"] == 2 and info.versions == 2


@pytest.mark.parametrize("messages, wanted", [
    ([], "at least one message"),
    ([{"role": "robot", "content": "x"}], "message 1: role 'robot'"),
    ([{"role": "user", "content": "ok"}, {"role": "user", "content": 3}], "message 2: content"),
    ("hello", "at least one message"),
])
def test_prompt_refusals_name_the_message(store, messages, wanted):
    with pytest.raises(pr.PromptError, match=wanted):
        pr.save_prompt(store, "p", "bot", messages)
    assert pr.list_prompts(store, "p") == []


def test_prompt_refs_and_missing_versions(store):
    pr.save_prompt(store, "p", "bot", MSGS)
    with pytest.raises(NotFound, match=r"no version 7 \(versions 1 to 1\)"):
        pr.get_prompt(store, "p", "bot@7")
    with pytest.raises(NotFound, match="no prompt 'nope'"):
        pr.get_prompt(store, "p", "nope")
    with pytest.raises(pr.PromptError, match="must be a number"):
        pr.parse_ref("bot@latest")
    with pytest.raises(pr.PromptError, match="not a prompt slug"):
        pr.save_prompt(store, "p", "has space", MSGS)


def test_models_offline_is_builtin_and_keys_are_names_only(store):
    assert [m.name for m in mc.list_models(store)] == ["offline"]
    assert mc.get_model(store, "offline").offline
    m, new = mc.add_model(store, "local", "openai/llama", api_base="http://127.0.0.1:8000/v1", key_env="LOCAL_KEY",
                          input_price=0.5, output_price=1.5, params={"temperature": 0})
    assert new and m.to_json()["key_env"] == "LOCAL_KEY"
    m, new = mc.add_model(store, "local", "openai/llama3", key_env="LOCAL_KEY")
    assert not new and m.model == "openai/llama3" and m.api_base is None
    with pytest.raises(mc.ModelConfigError, match="NAME of the environment variable"):
        mc.add_model(store, "x", "openai/x", key_env="sk-proj-abcdef0123456789")
    with pytest.raises(mc.ModelConfigError, match="built-in offline"):
        mc.add_model(store, "offline", "openai/x")
    with pytest.raises(mc.ModelConfigError, match="cannot be removed"):
        mc.remove_model(store, "offline")
    with pytest.raises(mc.ModelConfigError, match="http"):
        mc.add_model(store, "y", "openai/x", api_base="localhost:8000")
    mc.remove_model(store, "local")
    with pytest.raises(NotFound, match="add one with `bt-tui model add`"):
        mc.get_model(store, "local")


def _rows(n, *, prefix="r", score=1.0, error=None):
    return [{"id": f"{prefix}{i}", "span_id": f"{prefix}{i}", "root_span_id": f"{prefix}{i}", "input": f"q{i}",
             "output": "a", "scores": {"acc": score}, "error": error} for i in range(n)]


def test_experiments_rows_live_in_hidden_projects(store):
    log_spans(store, "p", _rows(1, prefix="log"))
    e1 = ex.create_experiment(store, "p", "baseline", model="offline", prompt_slug="bot", prompt_version=1)
    e2 = ex.create_experiment(store, "p", "baseline")
    assert (e1.name, e2.name) == ("baseline", "baseline #2")
    log_spans(store, e1.rows_project, _rows(3) + _rows(1, prefix="bad", score=0.0, error="boom"))
    ex.finish_experiment(store, e1)
    got = ex.get_experiment(store, "p", "baseline")
    assert (got.rows, got.errors, got.status, got.prompt) == (4, 1, "complete", "bot@1")
    assert got.scores == {"acc": 0.75}
    assert [p.name for p in list_projects(store)] == ["p"]
    assert [e.name for e in ex.list_experiments(store, "p")] == ["baseline", "baseline #2"]


def test_playground_cells_replace_and_copy(store):
    pg = ex.save_playground(store, "p", "pg", dataset=None, dataset_version=None,
                            variants=[{"id": "A", "prompt": "bot@1"}])
    root = {"id": "c1", "span_id": "c1", "root_span_id": "c1", "output": "x",
            "metadata": {"playground": {"variant": "A", "record": "r1", "repeat": 0}}}
    child = {"id": "c1t", "span_id": "c1t", "root_span_id": "c1", "span_parents": ["c1"], "output": "x"}
    log_spans(store, pg.rows_project, [root, child])
    [cell] = ex.playground_cells(store, pg)
    assert (cell.variant, cell.record, cell.repeat, cell.output) == ("A", "r1", 0, "x")
    e = ex.create_experiment(store, "p", "saved")
    assert ex.copy_traces(store, pg.rows_project, e.rows_project, ["c1"], metadata={"experiment": "saved"}) == 2
    assert ex.get_experiment(store, "p", "saved").rows == 1
    assert ex.replace_traces(store, pg.rows_project, ["c1"]) == 2
    assert ex.playground_cells(store, pg) == []
    assert ex.get_experiment(store, "p", "saved").rows == 1  # the copy stays
    log_spans(store, "p", _rows(1, prefix="log"))
    with pytest.raises(ex.ExperimentError, match="logs project"):
        ex.replace_traces(store, "p", ["log0"])
    with pytest.raises(NotFound):
        ex.save_playground(store, "p", "pg2", dataset="missing", dataset_version=None, variants=[])


def test_playground_settings_are_kept_and_variant_ids_unique(store):
    pg = ex.save_playground(store, "p", "pg", dataset=None, dataset_version=None, variants=[{"id": "A"}],
                            settings={"scorers": ["Levenshtein"], "judge": None})
    assert pg.settings == {"scorers": ["Levenshtein"], "judge": None}
    pg = ex.save_playground(store, "p", "pg", dataset=None, dataset_version=None, variants=[{"id": "A"}, {"id": "B"}])
    assert pg.settings["scorers"] == ["Levenshtein"]  # None keeps what is stored
    with pytest.raises(ex.ExperimentError, match="two variants have the id 'A'"):
        ex.save_playground(store, "p", "pg", dataset=None, dataset_version=None, variants=[{"id": "A"}, {"id": "A"}])
