"""Full queries through store.query.runner.run_query (SQL form and BTQL clause form: select, from with
shapes, filter, dimensions, measures, sort, limit) and the filter bar's completion data."""

from __future__ import annotations

from collections import defaultdict

import pytest

from query_fixtures import ALL, PROJECT, corpus  # noqa: F401
from store.errors import QueryError
from store.models import SPAN_KEYS
from store.query.hints import completions
from store.query.pager import LogsQuery
from store.query.runner import run_query

BT_DOC_QUERY = (
    "dimensions: metadata.model as model, day(created) as date | "
    "measures: count(1) as calls, avg(scores.Factuality) as avg_score"
)


def q(corpus, text, project=PROJECT):
    return run_query(corpus.store, text, project)


def test_braintrust_dimensions_measures_example_on_fixed_dates(corpus):
    res = q(corpus, BT_DOC_QUERY + " | filter: created < '2026-02-01'")
    assert res.columns == ["model", "date", "calls", "avg_score"]
    assert res.rows == [
        [None, "2025-12-31", 1, None],  # a2 has no model (NULL groups sort first)
        ["claude-3-opus", "2026-01-03", 1, None],
        ["gpt-4", "2025-12-31", 1, 0.9],
        ["gpt-4-turbo", "2025-12-31", 1, 0.5],
        ["gpt-4-turbo", "2026-01-03", 1, 0.7],
    ]
    assert not res.truncated


def test_braintrust_dimensions_measures_example_whole_project(corpus):
    groups: dict = defaultdict(list)
    for r in corpus.rows.values():
        groups[(r["metadata"].get("model"), r["created"][:10])].append(r["scores"].get("Factuality"))
    expected = []
    for (model, day), facts in sorted(groups.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1])):
        vals = [f for f in facts if f is not None]
        expected.append([model, day, len(facts), sum(vals) / len(vals) if vals else None])
    res = q(corpus, BT_DOC_QUERY)
    assert res.columns == ["model", "date", "calls", "avg_score"]
    assert len(res.rows) == len(expected)
    for got, want in zip(res.rows, expected):
        assert got[:3] == want[:3]
        assert got[3] == pytest.approx(want[3]) if want[3] is not None else got[3] is None
    assert sum(r[2] for r in res.rows) == len(ALL)


def test_clause_form_with_newlines_equals_pipes(corpus):
    piped = q(corpus, BT_DOC_QUERY + " | filter: created < '2026-02-01' | sort: calls desc, model | limit: 3")
    lined = q(corpus, BT_DOC_QUERY.replace(" | ", "\n") + "\nfilter: created < '2026-02-01'\nsort: calls desc, model\nlimit: 3")
    assert piped.columns == lined.columns == ["model", "date", "calls", "avg_score"]
    assert piped.rows == lined.rows
    assert len(piped.rows) == 3


def test_sql_form_group_order_limit(corpus):
    res = q(corpus, "SELECT metadata.model AS model, count(*) AS n FROM project_logs('p') "
                    "WHERE metadata.model IS NOT NULL AND name != 'agent' "
                    "GROUP BY metadata.model ORDER BY n DESC LIMIT 2")
    assert res.columns == ["model", "n"]
    assert res.rows == [["gpt-4", 3], ["gpt-4-turbo", 2]]


@pytest.mark.parametrize("group", ["1", "model", "metadata.model"])
def test_sql_group_by_position_alias_or_text_keeps_the_select_order(corpus, group):
    res = q(corpus, "SELECT count(*) AS n, metadata.model AS model FROM project_logs('p') "
                    f"WHERE metadata.model IS NOT NULL AND name != 'agent' GROUP BY {group if group != '1' else '2'}"
                    " ORDER BY n DESC LIMIT 2")
    assert res.columns == ["n", "model"]
    assert res.rows == [[3, "gpt-4"], [2, "gpt-4-turbo"]]


def test_sql_group_by_a_position_past_the_select_list_is_a_located_error(corpus):
    text = "SELECT count(*) AS n FROM project_logs('p') GROUP BY 3"
    with pytest.raises(QueryError) as exc:
        q(corpus, text)
    assert "GROUP BY 3" in str(exc.value) and exc.value.pos == text.index("3")


def test_sql_form_project_comes_from_the_from_clause(corpus):
    res = run_query(corpus.store, "SELECT id FROM project_logs('q')", "p")
    assert res.rows == [["q0"]]
    res = run_query(corpus.store, "SELECT type, count(*) AS n FROM project_logs('p') GROUP BY type ORDER BY n DESC, type",
                    "q")
    assert res.rows == [["task", 5], ["llm", 3], ["tool", 2], ["eval", 1]]


def test_sql_form_where_uses_the_filter_language(corpus):
    res = q(corpus, "SELECT id FROM project_logs('p') WHERE tags INCLUDES 'triage' AND "
                    "created > now() - interval 60 day ORDER BY id")
    assert res.rows == [["c0"], ["f1"]]


def test_select_paths_return_decoded_json_values(corpus):
    res = q(corpus, "select: id, metadata.model, scores, metadata.labels, metadata.a, metrics.tokens, input, "
                    "tags[0], name, duration, created, error\n"
                    "from: project_logs('p')\nfilter: tags includes 'triage'\nsort: id asc\nlimit: 10")
    assert res.columns == ["id", "metadata.model", "scores", "metadata.labels", "metadata.a", "metrics.tokens",
                           "input", "tags[0]", "name", "duration", "created", "error"]
    by_id = {r[0]: r for r in res.rows}
    assert [r[0] for r in res.rows] == ["a0", "b1", "c0", "f1"]
    assert by_id["a0"][1:10] == ["gpt-4", {"Factuality": 0.9, "correctness": 0.3}, ["billing", "urgent"], {"b": 1},
                                 1200, {"question": "What is the refund policy?"}, "triage", "chat", 4.0]
    assert by_id["a0"][10] == "2025-12-31T10:00:00.000000Z"
    assert by_id["c0"][3] == [] and by_id["c0"][11] == "rate limited"
    assert by_id["b1"][3] is None and by_id["b1"][6] == "500 off coupons"
    assert by_id["f1"][6] == "ünïcødé ✓ test"


def test_select_aliases_and_expressions(corpus):
    res = q(corpus, "select: id as row, metrics.tokens * 2 as double, concat(name, ':', type) as label, "
                    "(scores.Factuality > 0.8 ? 'good' : 'other') as verdict | filter: is_root | sort: row")
    assert res.columns == ["row", "double", "label", "verdict"]
    assert res.rows == [
        ["a0", 2400, "chat:task", "good"],
        ["b0", 1800, "chat:task", "other"],
        ["c0", 2200, "chat:task", "good"],
        ["d0", 100, "agent:task", "other"],
        ["e0", 600, "chat:task", "other"],
        ["f0", None, "batch:eval", "other"],
    ]


def test_bare_filter_and_select_star_return_span_rows(corpus):
    res = q(corpus, "name = 'agent'")
    assert res.columns == list(SPAN_KEYS)
    assert len(res.rows) == 1
    row = dict(zip(res.columns, res.rows[0]))
    assert row["id"] == "d0"
    assert row["metadata"] == {"model": "claude-3-opus", "user_id": "user-789", "note": "refund requested"}
    assert [c["text"] for c in row["comments"]] == ["looks fine"]
    res = q(corpus, "SELECT * FROM project_logs('p') WHERE comment LIKE '%wrong%'")
    assert [r[0] for r in res.rows] == ["c0"]


def test_default_order_is_newest_first_and_limit_applies(corpus):
    newest = sorted(corpus.rows, key=lambda i: corpus.rows[i]["created"], reverse=True)
    res = q(corpus, "select: id")
    assert [r[0] for r in res.rows] == newest
    res = q(corpus, "select: id | limit: 3")
    assert [r[0] for r in res.rows] == newest[:3]
    res = q(corpus, "select: id | sort: duration desc | limit: 4")
    assert [r[0] for r in res.rows] == ["c0", "a0", "e0", "f1"]


def test_percentile_count_distinct_and_other_aggregates(corpus):
    res = q(corpus, "measures: percentile(metrics.tokens, 0.5) as p50, percentile(metrics.tokens, 1) as pmax, "
                    "percentile(metrics.tokens, 0) as pmin, percentile(duration, 0.25) as d25, "
                    "count_distinct(metadata.model) as models, count(1) as n, sum(metrics.tokens) as tok, "
                    "min(metrics.tokens) as mn, max(metrics.tokens) as mx, avg(metrics.tokens) as mean "
                    "| filter: metrics.tokens IS NOT NULL")
    assert res.columns == ["p50", "pmax", "pmin", "d25", "models", "n", "tok", "mn", "mx", "mean"]
    (row,) = res.rows
    # tokens: 50 300 400 800 900 1100 1200 2000 -> median between 800 and 900
    assert row[0] == pytest.approx(850)
    assert row[1] == pytest.approx(2000) and row[2] == pytest.approx(50)
    # durations of those rows: 0.25 0.5 1 1 2 3 4 10 -> 25th percentile at rank 1.75
    assert row[3] == pytest.approx(0.5 + 0.75 * 0.5)
    assert row[4:9] == [4, 8, 6750, 50, 2000]
    assert row[9] == pytest.approx(6750 / 8)


def test_percentile_grouped(corpus):
    res = q(corpus, "dimensions: type | measures: percentile(duration, 0.5) as p50, count(1) as n | sort: type")
    assert res.columns == ["type", "p50", "n"]
    got = {r[0]: (r[1], r[2]) for r in res.rows}
    assert got["task"][1] == 5 and got["task"][0] == pytest.approx(3.0)  # 0.25 1 3 4 10
    assert got["llm"][1] == 3 and got["llm"][0] == pytest.approx(1.0)  # 0.5 1 2
    assert got["tool"][1] == 2 and got["tool"][0] == pytest.approx((0.3 + 0.1) / 2, abs=1e-9)
    assert got["eval"] == (None, 1)


def test_count_distinct_in_sql_form(corpus):
    res = q(corpus, "SELECT type, count_distinct(metadata.model) AS models FROM project_logs('p') "
                    "GROUP BY type ORDER BY type")
    assert res.rows == [["eval", 0], ["llm", 3], ["task", 4], ["tool", 0]]


def test_traces_shape_returns_every_span_of_matching_traces(corpus):
    res = q(corpus, "select: id | from: project_logs('p') traces | filter: scores.Factuality > 0.8 | sort: id")
    assert [r[0] for r in res.rows] == ["a0", "a1", "a2", "c0", "f0", "f1"]
    res = q(corpus, "select: id | from: project_logs('p') spans | filter: scores.Factuality > 0.8 | sort: id")
    assert [r[0] for r in res.rows] == ["a0", "c0", "f1"]


def test_summary_shape_is_one_row_per_trace(corpus):
    res = q(corpus, "from: project_logs('p') summary | filter: scores.Factuality > 0.8")
    cols = res.columns
    for c in ("id", "root_span_id", "created", "name", "duration", "spans", "errors", "scores"):
        assert c in cols
    rows = [dict(zip(cols, r)) for r in res.rows]
    assert [r["id"] for r in rows] == ["c0", "f0", "a0"]  # newest first
    by = {r["id"]: r for r in rows}
    assert (by["a0"]["spans"], by["f0"]["spans"], by["c0"]["spans"]) == (3, 2, 1)
    assert (by["a0"]["errors"], by["f0"]["errors"], by["c0"]["errors"]) == (1, 1, 1)
    assert by["a0"]["scores"] == {"Factuality": pytest.approx(0.7), "correctness": pytest.approx(0.3)}
    assert by["f0"]["scores"] == {"Factuality": pytest.approx(0.85)}
    assert by["a0"]["duration"] == pytest.approx(4.0)
    assert by["a0"]["input"] == {"question": "What is the refund policy?"}
    assert by["a0"]["root_span_id"] == "A" and by["a0"]["name"] == "chat"
    # The root's own totals win (they already cover the trace); a root without any takes the
    # sum over the trace's spans; the same numbers the Logs screen shows.
    logs = {r.id: r for r in LogsQuery(corpus.store, "p", "scores.Factuality > 0.8", shape="traces").page().rows}
    assert by["a0"]["tokens"] == 1200 == logs["a0"].tokens
    assert by["f0"]["tokens"] == 2000 == logs["f0"].tokens


def test_summary_shape_long_values_are_marked_previews(tmp_path):
    from store import Store
    from store.spans import log_spans

    store = Store(tmp_path / "long.db")
    try:
        log_spans(store, "p", [{"id": "r", "input": {"text": "x" * 5000}, "output": "short"}])
        row = dict(zip(*(lambda r: (r.columns, r.rows[0]))(run_query(store, "from: project_logs('p') summary"))))
        assert row["output"] == "short"
        assert isinstance(row["input"], str) and row["input"].startswith('{"text":"xxx') and row["input"].endswith("…")
    finally:
        store.close()


def test_summary_shape_keeps_null_input(corpus):
    res = q(corpus, "from: project_logs('p') summary | filter: id = 'f0'")
    row = dict(zip(res.columns, res.rows[0]))
    assert row["input"] is None and row["output"] is None


def test_summary_shape_with_measures_counts_traces(corpus):
    res = q(corpus, "dimensions: name | measures: count(1) as traces | from: project_logs('p') summary | sort: name")
    assert res.rows == [["agent", 1], ["batch", 1], ["chat", 4]]


def test_query_errors_in_full_queries(corpus):
    for text, fragment in (
        ("SELECT id FROM project_logs('p') WHERE scores.x >", "expected a value after '>'"),
        ("select: id | filtr: name = 'a'", "did you mean 'filter:'"),
        ("SELECT id FROM project_log('p')", "did you mean 'project_logs'"),
        ("SELECT id project_logs('p')", "expected FROM"),
        ("select: id | filter: name = 'a' | filter: name = 'b'", "given twice"),
        ("measures: percentile(duration, 2) as p", "between 0 and 1"),
        ("select: nosuch", "unknown field 'nosuch'"),
    ):
        with pytest.raises(QueryError) as ei:
            q(corpus, text)
        assert fragment in str(ei.value), (text, str(ei.value))
    with pytest.raises(QueryError) as ei:
        q(corpus, "select: id\nfilter: scores.x >")
    # The column counts from the start of the text; the caret shows the offending line.
    assert ei.value.column == len("select: id\nfilter: scores.x >") + 1
    assert ei.value.caret() == "filter: scores.x >\n" + " " * len("filter: scores.x >") + "^"


# --- completion data ----------------------------------------------------------------------------


def test_completions(corpus):
    comp = completions(corpus.store, PROJECT)
    scores = dict(comp.score_names)
    assert set(scores) == {"Factuality", "correctness"}
    assert scores["correctness"] == 5
    assert scores["Factuality"] in (6, 7)  # d1 holds an explicit null Factuality
    assert dict(comp.metadata_keys) == {
        "model": 8, "user_id": 7, "topic": 4, "labels": 4, "a": 3, "a.b": 3, "tool": 2, "my key": 2,
        "note": 1, "Region": 1,
    }
    assert dict(comp.tags) == {"production": 5, "triage": 4, "staging": 1, "beta": 1}
    assert dict(comp.span_names) == {"chat": 4, "llm_call": 3, "search": 2, "agent": 1, "batch": 1}
    assert [n for _, n in comp.tags] == sorted((n for _, n in comp.tags), reverse=True)
    fields = dict(comp.fields)
    assert fields["scores.correctness"] == 5
    assert fields["metadata.a.b"] == 3
    assert fields["metadata.model"] == 8
    for base in ("input", "output", "tags", "created", "name", "type", "duration", "comment", "metrics.tokens"):
        assert base in fields
    # Every completed path is a valid filter path.
    for path in ("scores.Factuality", "metadata.a.b", "metadata.Region", "metrics.tokens", "span_attributes.type"):
        corpus.ids(f"{path} IS NOT NULL")


def test_completions_of_other_and_missing_projects(corpus):
    comp = completions(corpus.store, "q")
    assert dict(comp.tags) == {"triage": 1, "production": 1, "staging": 1}
    assert dict(comp.span_names) == {"chat": 1}
    empty = completions(corpus.store, "no-such-project")
    assert (empty.fields, empty.score_names, empty.metadata_keys, empty.tags, empty.span_names) == ([], [], [], [], [])


def test_summary_shape_model_falls_back_to_the_traces_llm_model(corpus):
    """Scores sit on roots and models on LLM spans: grouped by metadata.model in the summary
    shape, a root without a model takes its trace's first LLM span's (f0 -> f1's gpt-4); a
    root with one keeps it (a0: gpt-4, though its LLM span a1 used gpt-4-turbo)."""
    res = q(corpus, "from: project_logs('p') summary | dimensions: metadata.model as model"
                    " | measures: count(1) as traces, avg(scores.Factuality) as f | sort: model")
    got = {r[0]: (r[1], r[2]) for r in res.rows}
    assert len(got) == len(res.rows) == 4
    assert got == {
        "gpt-4": (2 + 1, pytest.approx((0.9 + 0.95) / 2)),  # a0, c0, and f0 via f1 (f0 has no score)
        "gpt-4-turbo": (1, 0.7),  # b0
        "claude-3-opus": (1, None),  # d0
        "gpt-3.5": (1, 0.4),  # e0
    }
    # Spans shape: each span's own model, unchanged.
    spans = q(corpus, "dimensions: metadata.model as model | measures: count(1) as n | filter: id = 'f0'")
    assert spans.rows == [[None, 1]]
