"""JSONL in -> JSONL out -> JSONL in again: the export is a fixed point, in the contract's shape."""

from __future__ import annotations

import csv
import io
import json

from helpers import SPAN_KEYS, make_traces, read_jsonl, write_jsonl


def _export(run_cli, db=None, *extra):
    env = {"BT_TUI_DB": db} if db else None
    res = run_cli("export", "logs", *extra, env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_export_import_export_is_byte_identical(run_cli, tmp_path, sample_file, sample_rows):
    res = run_cli("import", "logs", sample_file)
    assert res.returncode == 0, res.stderr
    first = _export(run_cli)
    assert first.endswith("\n")
    assert len(first.splitlines()) == len(sample_rows)

    exported = tmp_path / "export1.jsonl"
    exported.write_text(first, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    res = run_cli("import", "logs", exported, env={"BT_TUI_DB": fresh})
    assert res.returncode == 0, res.stderr
    second = _export(run_cli, fresh)
    assert second.encode("utf-8") == first.encode("utf-8")


def test_exported_rows_have_exactly_the_contract_keys_and_values(run_cli, sample_file, sample_rows):
    assert run_cli("import", "logs", sample_file).returncode == 0
    rows = read_jsonl(_export(run_cli))
    assert len(rows) == len(sample_rows)
    for row in rows:
        assert list(row.keys()) == list(SPAN_KEYS)
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {r["id"] for r in sample_rows}
    for src in sample_rows:
        got = by_id[src["id"]]
        for key in SPAN_KEYS:
            if key == "comments":
                assert got["comments"] == []
            elif key == "span_parents":
                assert got[key] == (src[key] or None)
            else:
                assert got[key] == src[key], key


def test_roundtrip_keeps_comments_and_missing_fields(run_cli, tmp_path):
    rows = [
        {
            "id": "c1",
            "span_id": "c1",
            "root_span_id": "c1",
            "created": "2024-03-01T10:00:00+02:00",
            "input": "hi",
            "comments": [
                {"text": "looks wrong", "author": "bob", "created": "2024-03-02T00:00:00Z"},
                {"id": "given-id", "text": "second", "author": "carol", "created": "2024-03-03T00:00:00Z"},
            ],
        },
        # Nearly empty: every missing key must come back in its default shape.
        {"id": "bare", "created": "2024-03-01T00:00:00Z"},
    ]
    src = write_jsonl(tmp_path / "c.jsonl", rows)
    assert run_cli("import", "logs", src).returncode == 0
    first = _export(run_cli)
    out = {r["id"]: r for r in read_jsonl(first)}

    c1 = out["c1"]
    assert c1["created"] == "2024-03-01T08:00:00.000000Z"
    assert [(c["text"], c["author"], c["created"]) for c in c1["comments"]] == [
        ("looks wrong", "bob", "2024-03-02T00:00:00.000000Z"),
        ("second", "carol", "2024-03-03T00:00:00.000000Z"),
    ]
    assert c1["comments"][1]["id"] == "given-id"
    assert isinstance(c1["comments"][0]["id"], str) and c1["comments"][0]["id"]

    bare = out["bare"]
    assert bare == {
        "id": "bare",
        "span_id": "bare",
        "root_span_id": "bare",
        "span_parents": None,
        "created": "2024-03-01T00:00:00.000000Z",
        "input": None,
        "output": None,
        "expected": None,
        "error": None,
        "scores": {},
        "metadata": {},
        "metrics": {},
        "tags": [],
        "span_attributes": {},
        "comments": [],
    }

    exported = tmp_path / "e.jsonl"
    exported.write_text(first, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    assert run_cli("import", "logs", exported, env={"BT_TUI_DB": fresh}).returncode == 0
    assert _export(run_cli, fresh) == first


def test_csv_export_has_contract_columns_and_one_row_per_span(run_cli, sample_file, sample_rows):
    assert run_cli("import", "logs", sample_file).returncode == 0
    res = run_cli("export", "logs", "--format", "csv")
    assert res.returncode == 0, res.stderr
    table = list(csv.reader(io.StringIO(res.stdout)))
    score_names = sorted({k for r in sample_rows for k in r["scores"]})
    metric_names = sorted({k for r in sample_rows for k in r["metrics"]})
    header = [*SPAN_KEYS, *(f"scores.{n}" for n in score_names), *(f"metrics.{n}" for n in metric_names)]
    assert table[0] == header  # the contract's keys, then one column per score and per metric
    body = table[1:]
    assert len(body) == len(sample_rows)
    by_id = {r[0]: dict(zip(header, r)) for r in body}
    assert set(by_id) == {r["id"] for r in sample_rows}
    src = {r["id"]: r for r in sample_rows}
    for rid, cells in by_id.items():
        s = src[rid]
        assert cells["span_id"] == s["span_id"]
        assert json.loads(cells["scores"]) == s["scores"]
        assert json.loads(cells["metadata"]) == s["metadata"]
        assert json.loads(cells["tags"]) == s["tags"]
        assert json.loads(cells["input"]) == s["input"]
        assert cells["span_parents"] == ("" if not s["span_parents"] else json.dumps(s["span_parents"]))
        for name in score_names:
            v = s["scores"].get(name)
            assert cells[f"scores.{name}"] == ("" if v is None else json.dumps(v)), (rid, name)
        for name in metric_names:
            v = s["metrics"].get(name)
            assert (float(cells[f"metrics.{name}"]) if cells[f"metrics.{name}"] else None) == v, (rid, name)


def test_export_to_file_with_o(run_cli, tmp_path, sample_file, sample_rows):
    assert run_cli("import", "logs", sample_file).returncode == 0
    stdout_export = _export(run_cli)
    target = tmp_path / "out" / "logs.jsonl"
    target.parent.mkdir()
    res = run_cli("export", "logs", "-o", target)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert target.read_bytes() == stdout_export.encode("utf-8")
    assert sorted(p.name for p in target.parent.iterdir()) == ["logs.jsonl"]  # no .part file left
    assert str(len(sample_rows)) in res.stderr

    csv_target = tmp_path / "logs.csv"
    res = run_cli("export", "logs", "--format", "csv", "--output", csv_target)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(csv_target.read_text(encoding="utf-8"))))
    assert len(rows) == len(sample_rows)


def test_import_from_stdin_with_dash(run_cli, sample_file, sample_rows, tmp_path):
    data = sample_file.read_bytes()
    res = run_cli("import", "logs", "-", input=data)
    assert res.returncode == 0, res.stderr
    via_stdin = _export(run_cli)
    assert {r["id"] for r in read_jsonl(via_stdin)} == {r["id"] for r in sample_rows}

    other = tmp_path / "other.db"
    assert run_cli("import", "logs", sample_file, env={"BT_TUI_DB": other}).returncode == 0
    assert _export(run_cli, other) == via_stdin


def test_bigger_roundtrip_is_stable(run_cli, tmp_path):
    """Several export batches (> 5000 rows) still round-trip byte for byte."""
    rows = make_traces(1800, children=2)  # 5400 spans: more than one 5000-row fetch
    src = write_jsonl(tmp_path / "big.jsonl", rows)
    assert run_cli("import", "logs", src).returncode == 0
    first = _export(run_cli)
    assert len(first.splitlines()) == len(rows)
    exported = tmp_path / "e.jsonl"
    exported.write_text(first, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    assert run_cli("import", "logs", exported, env={"BT_TUI_DB": fresh}).returncode == 0
    assert _export(run_cli, fresh) == first
