"""Dataset files (store/dataset_io.py): JSONL and CSV in (ids derived from inputs, bad lines
named FILE:LINE, all or nothing), JSONL, CSV and OpenAI fine-tuning lines out."""

from __future__ import annotations

import csv
import io
import json

import pytest

from store import Store
from store import dataset_io as IO
from store import datasets as D
from store.datasets import DatasetError, Record
from store.errors import InputError


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ds.db")
    yield s
    s.close()


def jsonl_bytes(*lines) -> bytes:
    return "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines).encode()


def read_jsonl(data: bytes, **kw) -> IO.ReadResult:
    return IO.read_jsonl(io.BytesIO(data), label="f.jsonl", **kw)


def read_csv(text: str | bytes, **kw) -> IO.ReadResult:
    data = text.encode() if isinstance(text, str) else text
    return IO.read_csv(io.BytesIO(data), label="f.csv", **kw)


def records(read: IO.ReadResult) -> list[dict]:
    return [r.model_dump(exclude_none=True) for r in read.records_in()]


def failure(fn, *args, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        fn(*args, **kw)
    return info.value


# --- JSONL ----------------------------------------------------------------------------------------

def test_jsonl_records_and_ids_derived_from_the_input():
    read = read_jsonl(jsonl_bytes({"input": "q1", "expected": "a"}, {"id": "own", "input": "q2"},
                                  {"input": "q1", "expected": "b"}, {"input": {"k": [1, 2]}}))
    got = records(read)
    assert [r["id"] for r in got][1] == "own"
    # The same input twice: two records, each with its own id (the second is the repeat's).
    assert got[0]["id"] == D.derived_id("q1") and got[2]["id"] == D.derived_id("q1", 1)
    assert got[0]["id"] != got[2]["id"]
    assert got[3]["id"] == D.derived_id({"k": [1, 2]})
    assert (read.lines, read.skipped, read.derived) == (4, 0, 3)


def test_jsonl_accepts_a_bom_crlf_and_blank_lines():
    data = b"\xef\xbb\xbf" + b'{"input": "a"}\r\n\r\n   \n{"input": "b", "tags": ["x"]}\r\n'
    read = read_jsonl(data)
    assert [(r["input"], r.get("tags")) for r in records(read)] == [("a", None), ("b", ["x"])]
    assert read.lines == 2


def test_jsonl_bad_lines_are_named_and_nothing_is_kept():
    data = jsonl_bytes({"input": "ok"}, '{"input": "x", "bogus": 1}', "", '{"input": ', "[1]",
                       {"id": " ", "input": 1}, {"input": 1, "tags": "nope"}, {"input": 2, "created": "yesterday"})
    err = failure(read_jsonl, data)
    assert str(err) == ("f.jsonl:2: unknown key 'bogus' (a dataset record has id, input, expected, metadata, tags,"
                        " created, origin)")
    assert err.also == (
        "f.jsonl:4: malformed JSON at column 11: the line ends where a value should be",
        "f.jsonl:5: each line must be a JSON object",
        "f.jsonl:6: id: a record id must not be blank",
        "f.jsonl:7: tags: Input should be a valid array",
        "f.jsonl:8: created: created is not a valid ISO-8601 timestamp: 'yesterday'",
    )


def test_jsonl_skip_invalid_keeps_the_good_lines():
    data = jsonl_bytes({"input": "ok"}, "not json", {"input": "fine"}, {"input": 3, "metadata": []})
    read = read_jsonl(data, skip_invalid=True)
    assert [r["input"] for r in records(read)] == ["ok", "fine"]
    assert read.skipped == 2 and read.lines == 4
    assert read.reasons[0] == "f.jsonl:2: malformed JSON at column 2: expected ident"
    assert read.reasons[1] == "f.jsonl:4: metadata: Input should be an object"
    assert read.reason_counts == {"malformed JSON": 1, "metadata": 1}


def test_jsonl_names_the_first_20_bad_lines_and_counts_the_rest():
    data = jsonl_bytes(*(["{oops"] * 25), {"input": "ok"})
    err = failure(read_jsonl, data)
    assert err.line == 1
    assert len(err.also) == 20  # 19 more named, then the count
    assert err.also[-2].startswith("f.jsonl:20: ")
    assert err.also[-1] == "... and 5 more bad lines"


def test_jsonl_a_line_past_the_limit_is_a_bad_line_never_held(monkeypatch):
    monkeypatch.setattr(IO, "MAX_LINE_BYTES", 64)
    data = jsonl_bytes({"input": "short"}, {"input": "x" * 500}, {"input": "after"})
    err = failure(read_jsonl, data)
    assert str(err) == "f.jsonl:2: line is longer than 6.10352e-05 MB (the limit for one record)"
    read = read_jsonl(data, skip_invalid=True)
    assert [r["input"] for r in records(read)] == ["short", "after"]


def test_jsonl_an_id_given_twice_is_a_bad_line():
    err = failure(read_jsonl, jsonl_bytes({"id": "a", "input": 1}, {"id": "b"}, {"id": "a", "input": 2}))
    assert str(err) == "f.jsonl:3: record id 'a' is given again (first on line 1)"


def test_jsonl_braintrust_row_keys_are_dropped_other_unknown_keys_are_not():
    row = {"id": "r1", "_xact_id": "100", "dataset_id": "d", "project_id": "p", "span_id": "s", "root_span_id": "s",
           "input": "q", "expected": "a", "created": "2024-01-01T00:00:00Z"}
    read = read_jsonl(jsonl_bytes(row))
    assert records(read) == [{"id": "r1", "input": "q", "expected": "a", "created": "2024-01-01T00:00:00.000000Z"}]
    assert set(read.ignored_keys) == {"_xact_id", "dataset_id", "project_id", "span_id", "root_span_id"}
    err = failure(read_jsonl, jsonl_bytes({**row, "outptu": 1}))
    assert str(err).startswith("f.jsonl:1: unknown key 'outptu' (a dataset record has id, input,")


def test_jsonl_integers_past_64_bits_survive_and_need_an_id():
    big = 123456789012345678901234567890
    read = read_jsonl(f'{{"id": "b", "input": {big}, "expected": [{big}]}}\n'.encode())
    assert records(read) == [{"id": "b", "input": big, "expected": [big]}]
    err = failure(read_jsonl, f'{{"input": {big}}}\n'.encode())
    assert "give the record an id" in str(err) and err.line == 1


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_quoted_json_commas_newlines_and_empty_cells():
    text = (
        'id,input,expected,metadata,tags,created\n'
        'a,"what, exactly?","{""answer"": 4, ""ok"": true}","{""src"": ""web""}","x, y ,",2024-05-01T10:00:00Z\n'
        'b,"two\nlines, and a ""quote""",,,,\n'
        'c,plain text,"""a JSON string""","","[""t1"", ""t 2""]",\n'
        'd,"[1, ""two""]",  42 ,,,\n'
    )
    got = records(read_csv(text))
    assert got == [
        {"id": "a", "input": "what, exactly?", "expected": {"answer": 4, "ok": True}, "metadata": {"src": "web"},
         "tags": ["x", "y"], "created": "2024-05-01T10:00:00.000000Z"},
        {"id": "b", "input": 'two\nlines, and a "quote"'},  # empty cells: absent
        {"id": "c", "input": "plain text", "expected": "a JSON string", "tags": ["t1", "t 2"]},
        {"id": "d", "input": [1, "two"], "expected": "  42 "},  # not JSON-looking: the text itself
    ]


def test_csv_bom_case_blank_lines_and_derived_ids():
    text = "\ufeffInput,EXPECTED\n\nq1,a\n q1 ,b\nq1,c\n"
    read = read_csv(text.encode("utf-8"))
    got = records(read)
    assert [(r["input"], r["expected"]) for r in got] == [("q1", "a"), (" q1 ", "b"), ("q1", "c")]
    assert [r["id"] for r in got] == [D.derived_id("q1"), D.derived_id(" q1 "), D.derived_id("q1", 1)]


def test_csv_dotted_columns_build_objects():
    text = "input.question,input.context.doc,expected.answer,metadata.a.b,metadata.source\nwhy?,d1,because,1,{\"x\":[1]}\n"
    assert records(read_csv(text)) == [{
        "id": D.derived_id({"question": "why?", "context": {"doc": "d1"}}),
        "input": {"question": "why?", "context": {"doc": "d1"}}, "expected": {"answer": "because"},
        "metadata": {"a": {"b": "1"}, "source": {"x": [1]}},
    }]
    # All of an object's cells empty: the field is absent.
    assert records(read_csv("id,input.q,expected.a\nr1,,\n")) == [{"id": "r1"}]


def test_csv_a_column_naming_no_field_is_an_error_suggesting_map():
    err = failure(read_csv, "question,answer,expected\nq,a,e\n")
    assert err.line == 1 and err.path == "f.csv"
    assert str(err) == (
        "f.csv:1: column 'question' (and 'answer') names no record field (fields: id, input, expected, metadata, tags,"
        " created, origin, or input.KEY / expected.KEY / metadata.KEY); map it: --map question=input or"
        " --map question=metadata.question")


def test_csv_map_gives_columns_fields():
    mapping = IO.parse_mapping(["question=input", "answer=expected", "Difficulty=metadata.level", "kw=tags"])
    text = "question,answer,Difficulty,kw\nWhat is 2+2?,4,easy,\"math, arithmetic\"\n"
    assert records(read_csv(text, mapping=mapping)) == [{
        "id": D.derived_id("What is 2+2?"), "input": "What is 2+2?", "expected": "4",
        "metadata": {"level": "easy"}, "tags": ["math", "arithmetic"]}]


@pytest.mark.parametrize("items,message", [
    (["question"], "--map 'question': expected COLUMN=FIELD, e.g. --map question=input"),
    (["q=inptu"], "--map 'q=inptu': 'inptu' is not a record field"),
    (["q=output.x"], "--map 'q=output.x': 'output.x' is not a record field"),
    (["q=metadata."], "--map 'q=metadata.': 'metadata.' is not a record field"),
    (["q=input", "q=expected"], "--map 'q=expected': column 'q' is mapped twice"),
])
def test_bad_map_options(items, message):
    assert str(failure(IO.parse_mapping, items)).startswith(message)


@pytest.mark.parametrize("header,mapping,message", [
    ("input,q", {"q": ("input", ())}, "f.csv:1: columns 'input' and 'q' both set input"),
    ("input,input.x", {}, "f.csv:1: columns 'input' and 'input.x' both set input"),
    ("metadata.a,metadata.a.b", {}, "f.csv:1: columns 'metadata.a' and 'metadata.a.b' both set metadata.a"),
    ("input,input", {}, "f.csv:1: column 'input' appears twice in the header"),
    ("input,,expected", {}, "f.csv:1: column 2 of the header has no name"),
    ("input,expected", {"nope": ("input", ())}, "f.csv:1: --map names column 'nope', which the header does not have"),
])
def test_csv_header_errors(header, mapping, message):
    assert str(failure(read_csv, header + "\nq,a,b\n", mapping=mapping)).startswith(message)


def test_csv_malformed_json_cells_name_the_column_and_the_record_start():
    text = 'input,expected,tags\n"multi\nline",ok,\n"{bad",x,\nok,"[1,",\nok2,x,"[""a"""\n'
    err = failure(read_csv, text)
    assert str(err) == "f.csv:4: column 'input': malformed JSON at character 2: key must be a string"
    assert err.also == (
        "f.csv:5: column 'expected': malformed JSON at character 4: the cell ends where a value should be",
        "f.csv:6: column 'tags': malformed JSON at character 5: the cell ends inside a list",
    )


def test_csv_bad_records_and_skip_invalid():
    text = "id,input,metadata,tags\n1,ok,,\n2,x,not an object,\n3,y,,\"[1]\"\n4,z,,,extra\n5,fine,,\n"
    err = failure(read_csv, text)
    assert str(err) == "f.csv:3: metadata: Input should be an object"
    assert err.also == ("f.csv:4: tags.0: Input should be a valid string", "f.csv:5: 5 cells, but the header has 4 columns")
    read = read_csv(text, skip_invalid=True)
    assert [r["id"] for r in records(read)] == ["1", "5"]
    # A mapped column is named in the reason.
    err = failure(read_csv, "meta\n[1]\n", mapping={"meta": ("metadata", ())})
    assert str(err) == "f.csv:2: column 'meta': metadata: Input should be an object"


def test_csv_an_unclosed_quote_or_junk_after_a_quote_is_named_where_the_record_starts():
    err = failure(read_csv, 'input,expected\nok,1\n"never closed,x\nmore,2\n')
    assert str(err) == "f.csv:3: a quoted cell is never closed (its record starts here)"
    err = failure(read_csv, 'input\n"a"b\n')
    assert str(err).startswith("f.csv:2: a quoted cell goes on after its closing quote")


def test_csv_not_utf8_is_a_located_error():
    err = failure(read_csv, b"input\nok\n\xff\xfe bad\n")
    assert err.path == "f.csv" and "not UTF-8 text" in str(err)


def test_detect_format():
    assert IO.detect_format(b"", "x.CSV") == "csv"
    assert IO.detect_format(b"input,expected", "x.jsonl") == "jsonl"
    assert IO.detect_format(b'\xef\xbb\xbf {"input": 1}', "data") == "jsonl"
    assert IO.detect_format(b"\xef\xbb\xbfid,input\n1,2\n", "data") == "csv"
    assert IO.detect_format(b"question,answer\n", "data") is None
    assert IO.detect_format(b"", "data") == "jsonl"


# --- out ------------------------------------------------------------------------------------------

TRICKY = [
    Record(id="s1", input="", expected=" {not json", metadata={}, tags=[], created="2024-01-01T00:00:00.000000Z"),
    Record(id="s2", input='"quoted" start', expected="[x", metadata={"k": {"n": [1, None]}}, tags=["a,b", "c"],
           created="2024-01-01T00:00:00.000000Z", origin={"object_type": "project_logs", "id": "row-1"}),
    Record(id="s3", input="line one\nline, two", expected=None, metadata={}, tags=[],
           created="2024-01-01T00:00:00.000000Z"),
    Record(id="s,4", input={"messages": [{"role": "user", "content": "hi"}]}, expected=[1, "two", {"three": 3}],
           metadata={}, tags=[], created="2024-01-01T00:00:00.000000Z"),
]


def test_csv_export_reads_back_as_the_same_records():
    out = io.StringIO()
    n, lossy = IO.write_dataset(TRICKY, out, fmt="csv")
    assert (n, lossy) == (4, 0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "id,input,expected,metadata,tags,created,origin"
    back = records(read_csv(out.getvalue()))
    assert back == [{k: v for k, v in r.to_json().items() if v is not None} for r in TRICKY]


def test_csv_export_counts_numbers_and_booleans_it_gives_back_as_text():
    recs = [Record(id="n", input=42, expected=True), Record(id="s", input="x", expected=1.5), Record(id="o", input="x")]
    out = io.StringIO()
    assert IO.write_dataset(recs, out, fmt="csv") == (3, 2)


def test_jsonl_export_is_the_contract_shape_in_order():
    out = io.StringIO()
    IO.write_dataset(TRICKY[:2], out, fmt="jsonl")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [list(d) for d in lines] == [["id", "input", "expected", "metadata", "tags", "created", "origin"]] * 2
    assert lines[1]["origin"] == {"object_type": "project_logs", "id": "row-1"}
    back = records(read_jsonl(out.getvalue().encode()))
    assert [r["id"] for r in back] == ["s1", "s2"]


def check_openai_line(line: str) -> dict:
    """What OpenAI's chat fine-tuning format asks of one line."""
    d = json.loads(line)
    assert list(d) == ["messages"]
    msgs = d["messages"]
    assert isinstance(msgs, list) and len(msgs) >= 2
    for m in msgs:
        assert m["role"] in ("system", "user", "assistant")
        assert isinstance(m["content"], str)
        assert set(m) <= {"role", "content", "name"}
    assert msgs[-1]["role"] == "assistant"
    assert any(m["role"] == "user" for m in msgs)
    return d


def test_openai_export_maps_inputs_and_answers():
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi", "name": "sam"}]
    recs = [
        Record(id="a", input="What is 2+2?", expected="4"),
        Record(id="b", input=chat, expected={"role": "assistant", "content": "hello", "extra": 1}),
        Record(id="c", input={"messages": chat, "other": "left out"}, expected="hey"),
    ]
    out = io.StringIO()
    assert IO.write_dataset(recs, out, fmt="openai") == (3, 0)
    got = [check_openai_line(line) for line in out.getvalue().splitlines()]
    assert got[0] == {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]}
    assert got[1]["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi", "name": "sam"},
                                  {"role": "assistant", "content": "hello"}]
    assert got[2]["messages"] == got[1]["messages"][:2] + [{"role": "assistant", "content": "hey"}]


@pytest.mark.parametrize("rec,why", [
    (Record(id="r", input="q", expected=None), "record 'r': expected is null; the openai format needs the assistant's answer"),
    (Record(id="r", input={"question": "q"}, expected="a"), "record 'r': input is an object without a messages list"),
    (Record(id="r", input=None, expected="a"), "record 'r': input is null"),
    (Record(id="r", input=[], expected="a"), "record 'r': input is an empty list"),
    (Record(id="r", input=7, expected="a"), "record 'r': input is a int"),
    (Record(id="r", input=[{"role": "tool", "content": "x"}], expected="a"), "record 'r': input[0] has role 'tool'"),
    (Record(id="r", input=[{"role": "user", "content": [{"type": "text"}]}], expected="a"),
     "record 'r': input[0]'s content is not text"),
    (Record(id="r", input=["hi"], expected="a"), "record 'r': input[0] is not a chat message"),
    (Record(id="r", input={"messages": [{"content": "x"}]}, expected="a"), "record 'r': input.messages[0] is not a chat message"),
    (Record(id="r", input="q", expected={"answer": "a"}), "record 'r': expected is an object that is not an assistant message"),
    (Record(id="r", input="q", expected=["a"]), "record 'r': expected is a list"),
])
def test_openai_export_refuses_what_it_cannot_map(rec, why):
    with pytest.raises(DatasetError) as info:
        IO.openai_example(rec)
    assert str(info.value).startswith(why)
    assert "\n" not in str(info.value)


# --- import into the store ------------------------------------------------------------------------

def test_import_is_one_version_and_reimport_makes_none(store):
    data = jsonl_bytes({"input": "q1", "expected": "a"}, {"input": "q2", "expected": "b"}, {"input": "q1", "expected": "c"})
    read, w = IO.import_dataset(store, "p", "ds", io.BytesIO(data), label="f.jsonl", author="maya")
    assert (w.version, w.added, w.created_dataset) == (w.version, 3, True)
    again_read, again = IO.import_dataset(store, "p", "ds", io.BytesIO(data), label="f.jsonl")
    assert again.version is None and again.unchanged == 3
    assert len(D.list_versions(store, "p", "ds")) == 1
    v = D.list_versions(store, "p", "ds")[0]
    assert (v.author, v.note) == ("maya", "import f.jsonl")
    # Editing one line's expected updates that record, nothing else.
    edited = data.replace(b'"expected": "b"', b'"expected": "B"')
    _, w2 = IO.import_dataset(store, "p", "ds", io.BytesIO(edited), label="f.jsonl")
    assert (w2.added, w2.updated, w2.unchanged) == (0, 1, 2)
    assert [c.to_json() for c in D.diff_versions(store, "p", "ds", w.version)] == [
        {"id": D.derived_id("q2"), "change": "updated", "fields": ["expected"]}]


def test_a_bad_file_writes_nothing_not_even_the_dataset(store):
    data = jsonl_bytes({"input": "fine"}, "{broken")
    with pytest.raises(InputError):
        IO.import_dataset(store, "p", "ds", io.BytesIO(data), label="f.jsonl")
    assert D.list_datasets(store, "p") == []
    read, w = IO.import_dataset(store, "p", "ds", io.BytesIO(jsonl_bytes("{broken")), label="f.jsonl",
                                skip_invalid=True)
    assert w is None and read.skipped == 1 and D.list_datasets(store, "p") == []


def test_csv_import_into_the_store(store):
    text = "question,answer\nq1,a1\nq2,a2\n"
    read, w = IO.import_dataset(store, "p", "ds", io.BytesIO(text.encode()), fmt="csv", label="f.csv",
                                mapping=IO.parse_mapping(["question=input", "answer=expected"]))
    assert w.added == 2
    assert [(r.input, r.expected) for r in D.iter_records(store, "p", "ds")] == [("q1", "a1"), ("q2", "a2")]


def test_csv_reader_restores_the_csv_field_limit():
    before = csv.field_size_limit()
    read_csv("input\n" + "x" * 200_000 + "\n")
    assert csv.field_size_limit() == before


def test_openai_export_takes_the_text_under_a_named_key():
    """--input-field / --expected-field: records whose input and expected are objects (the demo's
    {message, subject} and {answer, intent}) export with the text under those keys."""
    rec = Record(id="r1", input={"message": "Where is my order?", "subject": "late"},
                 expected={"answer": "It ships today.", "intent": "order_status"})
    with pytest.raises(DatasetError, match=r"--input-field KEY; its keys: message, subject"):
        IO.openai_example(rec)
    assert IO.openai_example(rec, "message", "answer") == {"messages": [
        {"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "It ships today."}]}
    with pytest.raises(DatasetError, match=r"--expected-field KEY; its keys: answer, intent"):
        IO.openai_example(rec, "message")
    with pytest.raises(DatasetError, match=r"input has no key 'text' \(its keys: message, subject\)"):
        IO.openai_example(rec, "text", "answer")
    with pytest.raises(DatasetError, match=r"expected.intent|expected has no key"):
        IO.openai_example(Record(id="r2", input={"message": "x"}, expected={"intent": 3}), "message", "intent")
    out = io.StringIO()
    assert IO.write_dataset([rec, rec], out, fmt="openai", input_field="message", expected_field="answer") == (2, 0)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2 and all(line["messages"][-1]["role"] == "assistant" for line in lines)
