"""The demo corpus (sample_data/) tells its stories consistently, and its README says what it holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from store import Store
from store.jsonl import import_jsonl
from store.selection import Selection, selection_root_ids
from store.views import BUILTIN_VIEWS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "support_traces.jsonl"
README = ROOT / "sample_data" / "README.md"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.db")
    with open(SAMPLE, "rb") as f:
        import_jsonl(store, "default", f, label=str(SAMPLE))
    yield store
    store.close()


def test_user_feedback_is_scores_only(rows):
    """Thumbs down was told twice, as `metadata.thumbs_up = false` on some roots and
    `scores.thumbs_up = 0` on more: a newcomer filtering one missed the other."""
    assert not [r["id"] for r in rows if "thumbs_up" in (r["metadata"] or {})]
    feedback = [r for r in rows if "user_rating" in r["scores"] or "thumbs_up" in r["scores"]]
    assert len(feedback) == 79
    for r in feedback:
        assert r["span_id"] == r["root_span_id"], "feedback is on the trace's root"
        rating, thumbs = r["scores"]["user_rating"], r["scores"]["thumbs_up"]
        assert rating in (0, 0.25, 0.5, 0.75, 1) and thumbs in (0, 1)
        if rating != 0.5:  # 4-5 stars up, 1-2 stars down, 3 stars either
            assert thumbs == (1 if rating > 0.5 else 0), r["id"]
    assert sum(r["scores"]["thumbs_up"] == 0 for r in feedback) == 18
    assert sum(r["scores"]["user_rating"] < 0.5 for r in feedback) == 8
    assert sum("feedback_comment" in r["metadata"] for r in rows) == 20
    assert all(r["id"] in {f["id"] for f in feedback} for r in rows if "feedback_comment" in r["metadata"])


def test_the_low_user_rating_view_shows_the_low_ratings(demo, rows):
    view = next(v for v in BUILTIN_VIEWS if v.name == "Low user rating")
    got = set(selection_root_ids(demo, Selection("default", view.filter, view.shape, strict=True)))
    want = {r["id"] for r in rows if r["scores"].get("user_rating") is not None and r["scores"]["user_rating"] < 0.5}
    assert got == want and len(want) == 8


def test_the_readme_describes_this_file():
    text = README.read_text(encoding="utf-8")
    data = SAMPLE.read_bytes()
    assert f"`{hashlib.sha256(data).hexdigest()}`" in text
    assert f"({len(data):,} bytes)" in text
    lines = data.count(b"\n")
    assert f"| spans (lines) | {lines:,} |" in text
    for fact in ("on 79 roots", "lists the 8 traces", "finds all 18 thumbs down", "on 20 of them"):
        assert fact in " ".join(text.split()), fact
