"""store/compare.py against hand-computed cases: per score each experiment's average (None
skipped), diff = candidate - base, improvements / regressions / unchanged on matched rows, rows only
in one side, matching by input whatever an object's key order or by ``metadata.record_id``, trials
averaged with their spread, the paired bootstrap interval (a point for constant deltas, [0, 1] for
[0, 1], inside the deltas' range and around their mean, close to the normal interval for large n,
the same every time), ``significant``, and ``previous_experiment`` (the default base)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from store import Store
from store.compare import BOOTSTRAP_RESAMPLES, bootstrap_interval, compare_experiments, previous_experiment
from store.datasets import create_dataset
from store.errors import InputError, NotFound
from store.experiments import create_experiment, finish_experiment, get_experiment
from store.spans import log_spans

P = "p"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def row(input, scores=None, *, output=None, expected=None, error=None, metadata=None) -> dict:
    return {"input": input, "scores": scores or {}, "output": output, "expected": expected, "error": error,
            "metadata": metadata or {}}


def make_experiment(store: Store, name: str, rows: list[dict], *, project: str = P, dataset_id=None,
                    dataset_version=None, metadata=None, status: str = "complete"):
    """An experiment whose rows are eval root spans (as engine/runs.py cell_trace writes them),
    each with a task child and a score span per score, created one second apart in list order."""
    exp = create_experiment(store, project, name, dataset_id=dataset_id, dataset_version=dataset_version,
                            metadata=metadata, model="offline")
    spans = []
    for i, r in enumerate(rows):
        root, task = uuid.uuid4().hex, uuid.uuid4().hex
        created = (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        spans.append({"id": root, "span_id": root, "root_span_id": root, "span_parents": None, "created": created,
                      "input": r["input"], "output": r["output"], "expected": r["expected"], "error": r["error"],
                      "scores": r["scores"], "metadata": {"record_id": f"rec{i}", **r["metadata"]},
                      "span_attributes": {"name": "eval", "type": "eval"}})
        spans.append({"id": task, "span_id": task, "root_span_id": root, "span_parents": [root], "created": created,
                      "input": r["input"], "output": r["output"], "error": r["error"],
                      "span_attributes": {"name": "task", "type": "task"}})
        for name_, value in r["scores"].items():
            sid = uuid.uuid4().hex
            spans.append({"id": sid, "span_id": sid, "root_span_id": root, "span_parents": [root], "created": created,
                          "output": {"score": value}, "scores": {name_: value} if value is not None else {},
                          "span_attributes": {"name": name_, "type": "score"}})
    if spans:
        log_spans(store, exp.rows_project, spans)
    finish_experiment(store, exp, status)
    return get_experiment(store, project, exp.name)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cmp.db")
    yield s
    s.close()


def close(a, b) -> bool:
    return a is not None and b is not None and math.isclose(a, b, abs_tol=1e-12)


# --- averages, diff, improvements, regressions, unmatched rows -----------------------------------

@pytest.fixture
def hand(store):
    """base: q1 a=.5 b=1 | q2 a=1 b=0 | q3 a=.2 b=None | q4 a=0 (only base)
    cand: q1 a=.75 b=1 | q2 a=.5 b=1 | q3 a=.2 b=1 | q5 a=1 (only candidate)"""
    make_experiment(store, "base", [
        row("q1", {"a": 0.5, "b": 1}, output="o1"), row("q2", {"a": 1.0, "b": 0}, output="o2"),
        row("q3", {"a": 0.2, "b": None}), row("q4", {"a": 0.0})])
    make_experiment(store, "cand", [
        row("q1", {"a": 0.75, "b": 1}, output="n1"), row("q2", {"a": 0.5, "b": 1}, output="n2"),
        row("q3", {"a": 0.2, "b": 1}), row("q5", {"a": 1.0})])
    return compare_experiments(store, P, "base", "cand")


def test_averages_diff_and_counts_by_hand(hand):
    a, b = hand.score("a"), hand.score("b")
    # a: base (.5 + 1 + .2 + 0) / 4 = .425; cand (.75 + .5 + .2 + 1) / 4 = .6125
    assert close(a.base, 0.425) and close(a.candidate, 0.6125) and close(a.diff, 0.1875)
    # matched q1 +.25, q2 -.5, q3 0: one up, one down, one unchanged
    assert (a.improvements, a.regressions, a.matched) == (1, 1, 3)
    assert close(a.mean_delta, (0.25 - 0.5 + 0) / 3)
    # b: base (1 + 0) / 2 (q3's None skipped) = .5; cand 1; matched q1 0, q2 +1 (q3: base has None)
    assert close(b.base, 0.5) and close(b.candidate, 1.0) and close(b.diff, 0.5)
    assert (b.improvements, b.regressions, b.matched) == (1, 0, 2)
    assert hand.score_names() == ["a", "b"]


def test_rows_only_in_one_side(hand):
    assert (hand.matched, hand.only_base, hand.only_candidate) == (3, 1, 1)
    # candidate's order, then the rows only in the base
    assert [r.input for r in hand.rows] == ["q1", "q2", "q3", "q5", "q4"]
    q5, q4 = hand.rows[3], hand.rows[4]
    assert q5.base is None and q5.candidate.scores == {"a": 1.0} and q5.delta("a") is None
    assert q4.candidate is None and q4.base.scores == {"a": 0.0} and q4.delta("a") is None
    q1, q2, q3 = hand.rows[:3]
    assert (q1.base.output, q1.candidate.output) == ("o1", "n1")
    assert close(q1.delta("a"), 0.25) and q1.delta("b") == 0
    assert q2.regressed("a") and q2.improved("b") and q2.regressed() and q2.improved()
    assert q3.delta("b") is None and not q3.regressed() and not q3.improved()


def test_to_json_keys_in_design_order(hand):
    j = hand.score("a").to_json()
    assert list(j)[:6] == ["score", "base", "candidate", "diff", "improvements", "regressions"]
    assert list(j)[6:] == ["matched", "interval", "significant"]
    assert j["interval"] == [hand.score("a").low, hand.score("a").high]


def test_errors_are_kept_on_the_row_side(store):
    make_experiment(store, "base", [row("q1", {"a": 1.0}, output="ok")])
    make_experiment(store, "cand", [row("q1", {"a": 0.0}, error="boom")])
    r = compare_experiments(store, P, "base", "cand").rows[0]
    assert (r.base.error, r.candidate.error, r.candidate.errors) == (None, "boom", 1)


# --- matching -------------------------------------------------------------------------------------

def test_matching_by_input_ignores_object_key_order(store):
    make_experiment(store, "base", [row({"q": "x", "lang": "en"}, {"a": 0.0}),
                                    row({"q": "y", "lang": "fr"}, {"a": 1.0})])
    make_experiment(store, "cand", [row({"lang": "en", "q": "x"}, {"a": 1.0}),
                                    row({"lang": "fr", "q": "y"}, {"a": 1.0})])
    comp = compare_experiments(store, P, "base", "cand")
    assert (comp.matched, comp.only_base, comp.only_candidate) == (2, 0, 0)
    a = comp.score("a")
    assert (a.improvements, a.regressions, a.matched) == (1, 0, 2)
    assert comp.rows[0].input == {"lang": "en", "q": "x"}


def test_matching_by_metadata_record_id(store):
    # the inputs changed wording between the runs; the record ids did not
    make_experiment(store, "base", [row("What is 2+2?", {"a": 0.0}, metadata={"record_id": "r1"}),
                                    row("Capital of France?", {"a": 1.0}, metadata={"record_id": "r2"})])
    make_experiment(store, "cand", [row("what's 2 + 2", {"a": 1.0}, metadata={"record_id": "r1"}),
                                    row("France's capital?", {"a": 0.5}, metadata={"record_id": "r2"})])
    by_input = compare_experiments(store, P, "base", "cand")
    assert (by_input.matched, by_input.only_base, by_input.only_candidate) == (0, 2, 2)
    comp = compare_experiments(store, P, "base", "cand", key="metadata.record_id")
    assert comp.key == "metadata.record_id"
    assert (comp.matched, comp.only_base, comp.only_candidate) == (2, 0, 0)
    a = comp.score("a")
    assert (a.improvements, a.regressions) == (1, 1)
    assert [r.key for r in comp.rows] == ['"r1"', '"r2"']
    assert close(comp.rows[1].delta("a"), -0.5)


def test_a_bad_key_is_bad_input(store):
    make_experiment(store, "base", [row("q1", {"a": 0.0})])
    with pytest.raises(InputError, match="--key"):
        compare_experiments(store, P, "base", "base", key="output; DROP TABLE spans")
    with pytest.raises(NotFound, match="nope"):
        compare_experiments(store, P, "base", "nope")


def test_trials_are_averaged_per_key_with_their_spread(store):
    make_experiment(store, "base", [row("q1", {"a": 0.2}), row("q1", {"a": 0.6}), row("q2", {"a": 1.0}),
                                    row("q1", {"a": None})])
    make_experiment(store, "cand", [row("q1", {"a": 0.5}), row("q2", {"a": 0.0}), row("q2", {"a": 0.5})])
    comp = compare_experiments(store, P, "base", "cand")
    q1, q2 = comp.rows
    assert (q1.base.trials, q1.candidate.trials, q2.base.trials, q2.candidate.trials) == (3, 1, 1, 2)
    assert close(q1.base.scores["a"], 0.4) and q1.base.spread == {"a": (0.2, 0.6)}  # the None trial skipped
    assert q1.candidate.spread == {} and len(q1.base.ids) == 3
    assert close(q2.candidate.scores["a"], 0.25) and q2.candidate.spread == {"a": (0.0, 0.5)}
    assert close(q1.delta("a"), 0.1) and close(q2.delta("a"), -0.75)
    a = comp.score("a")
    assert (a.improvements, a.regressions, a.matched) == (1, 1, 2)
    assert comp.matched == 2  # keys, not rows
    # the averages are over the experiment's rows (as `experiment list` shows them)
    assert close(a.base, (0.2 + 0.6 + 1.0) / 3) and close(a.candidate, (0.5 + 0.0 + 0.5) / 3)


# --- the interval ---------------------------------------------------------------------------------

def _pair(store, deltas, *, base_value=0.0):
    """Two experiments whose per-row differences on score 'a' are ``deltas``."""
    make_experiment(store, "base", [row(f"q{i}", {"a": base_value}) for i in range(len(deltas))])
    make_experiment(store, "cand", [row(f"q{i}", {"a": base_value + d}) for i, d in enumerate(deltas)])
    return compare_experiments(store, P, "base", "cand").score("a")


def test_constant_deltas_give_a_point(store):
    a = _pair(store, [0.1] * 7, base_value=0.5)
    assert close(a.low, 0.6 - 0.5) and close(a.high, 0.6 - 0.5)
    assert a.significant is True
    assert (a.improvements, a.regressions) == (7, 0)


def test_no_change_at_all_is_a_point_at_zero_and_not_significant(store):
    a = _pair(store, [0.0] * 5, base_value=1.0)
    assert (a.low, a.high, a.significant) == (0.0, 0.0, False)
    assert (a.improvements, a.regressions, a.matched) == (0, 0, 5)


def test_two_rows_zero_and_one(store):
    # resample means of [0, 1] are 0, .5 or 1 (a quarter, a half, a quarter): the 2.5% and 97.5%
    # quantiles are 0 and 1
    a = _pair(store, [0.0, 1.0])
    assert (a.low, a.high) == (0.0, 1.0)
    assert a.significant is False


def test_deltas_of_zero_or_a_tenth(store):
    # 12 rows of +0.1 and 8 unchanged: mean .06, sd .049, standard error ~.011; every resample mean
    # lies in [0, .1]; the interval holds the mean and excludes 0
    deltas = [0.1] * 12 + [0.0] * 8
    a = _pair(store, deltas, base_value=0.5)
    mean = 0.06
    assert 0.0 <= a.low < mean < a.high <= 0.1 + 1e-12
    assert a.significant is True
    assert close(a.mean_delta, mean)
    assert (a.improvements, a.regressions, a.matched) == (12, 0, 20)


def test_large_n_is_close_to_the_normal_interval(store):
    n = 2000
    deltas = [((i * 7) % 11) / 20 - 0.2 for i in range(n)]  # a fixed pattern in [-0.2, 0.3]
    a = _pair(store, deltas, base_value=0.2)
    mean = sum(deltas) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in deltas) / (n - 1))
    half = 1.96 * sd / math.sqrt(n)
    assert abs(a.low - (mean - half)) <= 0.15 * half
    assert abs(a.high - (mean + half)) <= 0.15 * half
    assert a.matched == n


def test_the_same_data_gives_the_same_interval(store):
    deltas = [0.3, -0.1, 0.0, 0.25, 0.5, -0.2, 0.1, 0.0]
    a = _pair(store, deltas, base_value=0.5)
    again = compare_experiments(store, P, "base", "cand").score("a")
    assert (a.low, a.high) == (again.low, again.high)
    direct = bootstrap_interval(deltas)
    assert direct == bootstrap_interval(list(deltas))
    assert close(direct[0], a.low) and close(direct[1], a.high)  # the stored scores' float rounding aside
    assert a.low < 0.1125 < a.high  # the mean (.9 / 8)


def test_significant_is_none_without_an_interval(store):
    make_experiment(store, "base", [row("q1", {"a": 0.0, "b": 1.0}), row("q2", {"b": 1.0})])
    make_experiment(store, "cand", [row("q1", {"a": 1.0, "b": 0.0}), row("q2", {"b": 0.0}), row("q3", {"c": 1.0})])
    comp = compare_experiments(store, P, "base", "cand")
    a, b, c = comp.score("a"), comp.score("b"), comp.score("c")
    assert (a.matched, a.low, a.high, a.significant) == (1, None, None, None)  # one matched row
    assert (c.base, c.candidate, c.diff, c.matched, c.significant) == (None, 1.0, None, 0, None)  # one side only
    assert (b.low, b.high, b.significant) == (-1.0, -1.0, True)
    assert c.to_json()["interval"] is None


def test_intervals_can_be_left_out_and_added_later(store):
    from store.compare import add_intervals

    make_experiment(store, "base", [row(f"q{i}", {"a": 0.0}) for i in range(4)])
    make_experiment(store, "cand", [row(f"q{i}", {"a": float(i % 2)}) for i in range(4)])
    comp = compare_experiments(store, P, "base", "cand", intervals=False)
    a = comp.score("a")
    assert (a.low, a.high, a.significant) == (None, None, None) and (a.improvements, a.matched) == (2, 4)
    add_intervals(comp)
    assert 0.0 <= a.low < 0.5 < a.high <= 1.0


def test_bootstrap_interval_edges():
    assert bootstrap_interval([]) == (None, None)
    assert bootstrap_interval([0.4]) == (None, None)
    assert bootstrap_interval([-0.25, -0.25, -0.25]) == (-0.25, -0.25)
    assert BOOTSTRAP_RESAMPLES >= 1000


# --- the default base -----------------------------------------------------------------------------

def test_previous_experiment_same_dataset_only_earlier_not_cancelled(store):
    qa = create_dataset(store, P, "qa").id
    other = create_dataset(store, P, "other").id
    e1 = make_experiment(store, "qa-1", [row("q", {"a": 0.0})], dataset_id=qa, dataset_version=1)
    make_experiment(store, "other-1", [row("q", {"a": 0.0})], dataset_id=other, dataset_version=1)
    make_experiment(store, "inline-1", [row("q", {"a": 0.0})], metadata={"eval": "say-hi"})
    e2 = make_experiment(store, "qa-2", [row("q", {"a": 0.5})], dataset_id=qa, dataset_version=2)
    cancelled = make_experiment(store, "qa-3", [row("q", {"a": 1.0})], dataset_id=qa, dataset_version=2,
                                status="cancelled")
    e4 = make_experiment(store, "qa-4", [row("q", {"a": 1.0})], dataset_id=qa, dataset_version=2)
    make_experiment(store, "qa-5", [row("q", {"a": 1.0})], dataset_id=qa, dataset_version=2)
    assert previous_experiment(store, P, e1) is None  # nothing earlier on qa
    assert previous_experiment(store, P, e2).name == "qa-1"  # not other-1, not the inline one
    assert previous_experiment(store, P, cancelled).name == "qa-2"
    assert previous_experiment(store, P, e4).name == "qa-2"  # qa-3 was cancelled; qa-5 is later


def test_previous_experiment_inline_data_by_metadata_eval(store):
    qa = create_dataset(store, P, "qa").id
    make_experiment(store, "hi-1", [row("q", {"a": 0.0})], metadata={"eval": "say-hi"})
    make_experiment(store, "bye-1", [row("q", {"a": 0.0})], metadata={"eval": "say-bye"})
    make_experiment(store, "qa-1", [row("q", {"a": 0.0})], dataset_id=qa, dataset_version=1)
    hi2 = make_experiment(store, "hi-2", [row("q", {"a": 1.0})], metadata={"eval": "say-hi"})
    bye2 = make_experiment(store, "bye-2", [row("q", {"a": 1.0})], metadata={"eval": "say-bye"})
    new = make_experiment(store, "new-1", [row("q", {"a": 1.0})], metadata={"eval": "brand-new"})
    assert previous_experiment(store, P, hi2).name == "hi-1"
    assert previous_experiment(store, P, bye2).name == "bye-1"
    assert previous_experiment(store, P, new) is None


def test_rows_without_the_key_are_cases_of_their_own_not_trials_of_one(store):
    """With --key metadata.record_id, rows that lack a record id are each unmatched, never
    averaged together as if they were trials of one case."""
    import uuid

    from store.compare import compare_experiments
    from store.experiments import create_experiment, finish_experiment
    from store.spans import log_spans

    def mk(name, rows):
        e = create_experiment(store, "keyless", name)
        spans = []
        for rec, value in rows:
            rid = uuid.uuid4().hex
            spans.append({"id": rid, "span_id": rid, "root_span_id": rid, "input": "same", "output": "x",
                          "scores": {"s": value}, "metadata": {"record_id": rec} if rec else {},
                          "span_attributes": {"name": "eval", "type": "eval"}})
        log_spans(store, e.rows_project, spans)
        finish_experiment(store, e)

    mk("b", [("r1", 0.0), (None, 1.0), (None, 0.0)])
    mk("c", [("r1", 1.0), (None, 0.0)])
    comp = compare_experiments(store, "keyless", "b", "c", key="metadata.record_id", intervals=False)
    assert comp.matched == 1 and comp.only_base == 2 and comp.only_candidate == 1
    assert all(r.candidate is None or r.candidate.trials == 1 for r in comp.rows)
    assert comp.score("s").improvements == 1 and comp.score("s").regressions == 0
