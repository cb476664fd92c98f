"""store.models.SpanIn: the validation at the import boundary."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from helpers import make_trace
from store.models import SpanIn, content_id, normalize_ts


@pytest.mark.parametrize(
    "given, want",
    [
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000000Z"),
        ("2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05.123000Z"),
        ("2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.123456Z"),
        ("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05.000000Z"),
        ("2024-01-02T23:30:00-05:00", "2024-01-03T04:30:00.000000Z"),
        ("2024-01-02T03:04:05", "2024-01-02T03:04:05.000000Z"),  # naive: taken as UTC
        ("2024-01-02 03:04:05.5", "2024-01-02T03:04:05.500000Z"),
        ("2024-01-02", "2024-01-02T00:00:00.000000Z"),
        ("  2024-01-02T03:04:05z ", "2024-01-02T03:04:05.000000Z"),
        (0, "1970-01-01T00:00:00.000000Z"),
        (1_700_000_000.25, "2023-11-14T22:13:20.250000Z"),
    ],
)
def test_created_is_normalised(given, want):
    assert SpanIn.model_validate({"created": given}).created == want
    assert SpanIn.model_validate_json(json.dumps({"created": given})).created == want


def test_normalised_created_sorts_as_text():
    stamps = ["2024-01-02T03:04:05+02:00", "2024-01-02T00:00:00Z", "2024-01-01T23:59:59.999999-01:00"]
    norm = [SpanIn.model_validate({"created": s}).created for s in stamps]
    assert sorted(norm) == [norm[1], norm[2], norm[0]]
    assert all(len(n) == 27 and n.endswith("Z") for n in norm)


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01T00:00:00Z", "", True, [2024], {"t": 1}, float("nan")])
def test_bad_created_is_rejected(bad):
    with pytest.raises(ValidationError) as info:
        SpanIn.model_validate({"created": bad})
    assert info.value.errors()[0]["loc"][0] == "created"


@pytest.mark.parametrize("bad", ["2024-13-45T99:99:99.000000Z", "abcdefghijTklmnopqr.stuvwxZ"])
def test_canonical_looking_garbage_created_is_rejected(bad):
    with pytest.raises(ValidationError):
        SpanIn.model_validate({"created": bad})


def test_none_created_stays_none():
    assert SpanIn.model_validate({}).created is None
    assert normalize_ts("2024-01-02T03:04:05.000000Z") == "2024-01-02T03:04:05.000000Z"


@pytest.mark.parametrize("ok", [0, 1, 0.0, 1.0, 0.5, 1e-9, None])
def test_scores_in_range_accepted(ok):
    assert SpanIn.model_validate({"scores": {"s": ok}}).scores == {"s": ok}


@pytest.mark.parametrize("bad", [1.5, -0.1, 2, -1, 1.0000001, "0.5", True, False, [0.5], {"v": 1}])
def test_scores_out_of_range_or_wrong_type_rejected(bad):
    with pytest.raises(ValidationError) as info:
        SpanIn.model_validate({"scores": {"s": bad}})
    assert tuple(info.value.errors()[0]["loc"][:2]) == ("scores", "s")
    with pytest.raises(ValidationError):
        SpanIn.model_validate_json(json.dumps({"scores": {"s": bad}}))


@pytest.mark.parametrize("text", ['{"metrics": {"x": NaN}}', '{"metrics": {"x": Infinity}}', '{"metrics": {"x": -Infinity}}'])
def test_nan_and_infinite_metrics_rejected_from_json(text):
    with pytest.raises(ValidationError):
        SpanIn.model_validate_json(text)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_metrics_rejected(bad):
    with pytest.raises(ValidationError):
        SpanIn.model_validate({"metrics": {"start": bad}})


def test_nan_score_rejected():
    with pytest.raises(ValidationError):
        SpanIn.model_validate({"scores": {"s": math.nan}})


def test_metrics_accept_numbers_and_null_but_not_strings():
    m = SpanIn.model_validate({"metrics": {"start": 1.5, "tokens": 12, "cost": None}}).metrics
    assert m == {"start": 1.5, "tokens": 12, "cost": None}
    assert isinstance(m["tokens"], int)
    with pytest.raises(ValidationError):
        SpanIn.model_validate({"metrics": {"tokens": "12"}})
    with pytest.raises(ValidationError):
        SpanIn.model_validate({"metrics": {"ok": True}})


def test_unknown_keys_are_ignored():
    span = SpanIn.model_validate_json(
        json.dumps({"id": "a", "_xact_id": "123", "project_id": "p", "log_id": "g", "extra": {"x": 1}})
    )
    assert span.id == "a"
    # Kept aside (an import reports the ones Braintrust's own exports do not carry), never stored.
    assert set(span.model_extra) == {"_xact_id", "project_id", "log_id", "extra"}
    assert set(span.model_dump(exclude=set(span.model_extra))) == set(SpanIn.model_fields)


@pytest.mark.parametrize(
    "field, bad",
    [
        ("id", 5),
        ("span_id", 5),
        ("root_span_id", ["a"]),
        ("span_parents", "parent"),
        ("span_parents", [1]),
        ("tags", "vip"),
        ("tags", [1, 2]),
        ("scores", [0.5]),
        ("metadata", "text"),
        ("metrics", [1]),
        ("span_attributes", {"name": 5}),
        ("span_attributes", {"type": ["llm"]}),
        ("comments", [{"author": "a"}]),  # a comment needs text
    ],
)
def test_wrong_types_rejected(field, bad):
    with pytest.raises(ValidationError) as info:
        SpanIn.model_validate({field: bad})
    assert info.value.errors()[0]["loc"][0] == field


def test_full_factory_rows_validate_unchanged():
    for row in make_trace(7, children=3):
        span = SpanIn.model_validate_json(json.dumps(row))
        for key, value in row.items():
            assert getattr(span, key) == value, key


def test_any_json_allowed_in_free_fields():
    for value in (None, "s", 1, 1.5, True, [1, "a", None], {"deep": {"er": [1, {"x": None}]}}):
        span = SpanIn.model_validate({"input": value, "output": value, "expected": value, "error": value})
        assert span.input == value and span.output == value and span.expected == value and span.error == value


def test_comment_created_is_normalised_and_author_defaults():
    span = SpanIn.model_validate({"comments": [{"text": "hi", "created": "2024-01-01T01:00:00+01:00"}]})
    c = span.comments[0]
    assert c.text == "hi"
    assert c.created == "2024-01-01T00:00:00.000000Z"
    assert isinstance(c.author, str) and c.author


def test_content_id_is_stable_and_ignores_surrounding_whitespace():
    a = content_id(b'{"input": "x"}\n')
    assert a == content_id('{"input": "x"}')
    assert a != content_id(b'{"input": "y"}')
    assert a.startswith("row-")
