"""Scorers (engine/scorers.py): autoevals' heuristics with values from Braintrust's docs and by hand,
Braintrust-style Python callables, and LLM judges through the real litellm path against a tiny
OpenAI-compatible server started here on 127.0.0.1 (no test touches the network)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.scorers import BUILTIN, JudgeModel, ScoreResult, Scorer, llm_classifier, resolve_scorer

ROOT = Path(__file__).resolve().parent.parent


async def score(spec, *, input=None, output=None, expected=None, metadata=None, judge=None) -> list[ScoreResult]:
    scorer = spec if isinstance(spec, Scorer) else resolve_scorer(spec, judge=judge)
    return await scorer.score(input=input, output=output, expected=expected, metadata=metadata)


async def one(spec, **kwargs) -> ScoreResult:
    results = await score(spec, **kwargs)
    assert len(results) == 1, results
    return results[0]


# ---------------------------------------------------------------------------------------------------
# Heuristics (autoevals)


async def test_say_hi_bot_the_quickstart_averages():
    # Braintrust's quickstart (https://www.braintrust.dev/docs/quickstart-sdk): project "Say Hi Bot",
    # task "Hi " + input, scores [Levenshtein]; the experiment shows Levenshtein 77.78%.
    data = [{"input": "Foo", "expected": "Hi Foo"}, {"input": "Bar", "expected": "Hello Bar"}]

    def task(input):
        return "Hi " + input

    def is_equal(expected, output):  # the Python SDK's README scorer for the same eval
        return expected == output

    averages = {}
    for spec in ("Levenshtein", "ExactMatch", is_equal):
        scorer = resolve_scorer(spec)
        rows = [await scorer.score(input=d["input"], output=task(d["input"]), expected=d["expected"]) for d in data]
        averages[scorer.name] = sum(r[0].score for r in rows) / len(rows)
    assert round(averages["Levenshtein"] * 100, 2) == 77.78  # (1 + (1 - 4/9)) / 2
    assert averages["ExactMatch"] == 0.5
    assert averages["is_equal"] == 0.5


@pytest.mark.parametrize("output, expected, value", [
    ("hello wrld", "hello world", 1 - 1 / 11),  # autoevals' docstring example ("0.9")
    ("kitten", "sitting", 1 - 3 / 7),
    ("Hi Bar", "Hello Bar", 1 - 4 / 9),
    ("abc", "abc", 1.0),
    ("", "", 1.0),  # max_len 0: identical
    ("abc", "", 0.0),
    (123, "124", 1 - 1 / 3),  # non-strings: str()
])
async def test_levenshtein_is_one_minus_distance_over_max_length(output, expected, value):
    r = await one("levenshtein", output=output, expected=expected)  # names are case-insensitive
    assert r.name == "Levenshtein" and r.error is None
    assert r.score == pytest.approx(value)


async def test_levenshtein_compares_objects_as_json_text():
    # An object output against its JSON text is a match (ExactMatch's JSON rule, not Python's repr)
    assert (await one("Levenshtein", output={"a": 1}, expected='{"a": 1}')).score == 1.0
    msg = {"role": "assistant", "content": "Hi Foo"}
    assert (await one("Levenshtein", output=msg, expected=dict(msg))).score == 1.0
    # '{"a": 1}' vs '{"a": 2}': one character of 8
    assert (await one("Levenshtein", output={"a": 1}, expected={"a": 2})).score == pytest.approx(1 - 1 / 8)


async def test_comparisons_without_expected_are_not_applicable():
    for name in ("ExactMatch", "Levenshtein", "NumericDiff", "JSONDiff", "ListContains"):
        r = await one(name, input="q", output="x", expected=None)
        assert (r.score, r.error) == (None, None), name
        assert r.metadata == {"skipped": "no expected value"}


@pytest.mark.parametrize("output, expected, value", [
    (105, 100, 1 - 5 / 205),  # 1 - |e - o| / (|e| + |o|)
    (0, 0, 1.0),  # both zero
    (-1, 1, 0.0),
    (2.5, 5, 1 - 2.5 / 7.5),
    ("42", 42, 1.0),  # a model's text answer counts as its number
    (" 3.5 ", "7", 1 - 3.5 / 10.5),
])
async def test_numeric_diff(output, expected, value):
    r = await one("NumericDiff", output=output, expected=expected)
    assert r.error is None and r.score == pytest.approx(value)


async def test_numeric_diff_of_text_is_an_error_not_a_crash():
    r = await one("NumericDiff", output="about twelve", expected=12)
    assert r.score is None and r.error == "ValueError: NumericDiff: output 'about twelve' is not a number"


async def test_json_diff_nested_objects():
    # autoevals' JSONDiff docstring example: keys averaged, strings by Levenshtein, numbers by NumericDiff,
    # arrays element-wise over the longer length.
    output = {"name": "John Smith", "age": 30, "skills": ["python", "javascript"]}
    expected = {"name": "John A. Smith", "age": 31, "skills": ["python", "typescript"]}
    name = 1 - 3 / 13  # "John Smith" -> "John A. Smith": 3 insertions
    age = 1 - 1 / 61
    skills = (1 + (1 - 4 / 10)) / 2  # javascript -> typescript: 4 substitutions
    r = await one("JSONDiff", output=output, expected=expected)
    assert r.score == pytest.approx((name + age + skills) / 3)
    # deeper nesting, a missing key (scores 0), JSON text parsed, an extra list element (counts 0)
    out = {"user": {"id": 7, "tags": ["a", "b", "c"]}, "ok": True}
    exp = '{"user": {"id": 7, "tags": ["a", "b"]}, "ok": true, "note": "x"}'
    tags = (1 + 1) / 3
    user = (1 + tags) / 2
    assert (await one("JSONDiff", output=out, expected=exp)).score == pytest.approx((user + 1 + 0) / 3)
    assert (await one("JSONDiff", output={"a": {"b": [1, {"c": "x"}]}}, expected={"a": {"b": [1, {"c": "x"}]}})
            ).score == 1.0


async def test_valid_json():
    assert (await one("ValidJSON", output='{"a": [1, 2]}')).score == 1.0
    assert (await one("ValidJSON", output="[1, 2]")).score == 1.0
    assert (await one("ValidJSON", output={"already": "parsed"})).score == 1.0
    assert (await one("ValidJSON", output="{'a': 1}")).score == 0.0  # Python, not JSON
    assert (await one("ValidJSON", output="not json at all")).score == 0.0
    assert (await one("ValidJSON", output='"a string"')).score == 0.0  # valid JSON, but not an object/array
    # the row's expected value is not read as a schema
    assert (await one("ValidJSON", output='{"a": 1}', expected="Hello Bar")).score == 1.0


async def test_valid_json_with_a_schema():
    import autoevals

    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "number"}},
              "required": ["name", "age"]}
    validator = autoevals.ValidJSON(schema=schema)
    assert (await one(validator, output='{"name": "John Smith", "age": 30}', expected="x")).score == 1.0
    assert (await one(validator, output='{"name": "John Smith"}')).score == 0.0  # age is required
    assert (await one(validator, output='{"name": "John", "age": "thirty"}')).score == 0.0
    assert (await one(validator, output="{not json")).score == 0.0
    partial = autoevals.ValidJSON.partial(schema=schema)  # autoevals' partial() style
    assert (await one(partial, output='{"name": "John Smith"}')).score == 0.0
    assert (await one(partial, output='{"name": "John Smith", "age": 30}')).score == 1.0


async def test_list_contains():
    pytest.importorskip("scipy")  # autoevals[scipy]: ListContains pairs items with linear_sum_assignment
    r = await one("ListContains", output=["a", "b"], expected=["a", "c"])
    assert r.score == pytest.approx(0.5)  # a-a 1, b-c 0, over max(2, 2)
    assert r.metadata["pairs"] == [["a", "a", 1.0], ["b", "c", 0.0]]
    # best pairing whatever the order, partial matches by Levenshtein
    r = await one("ListContains", output=["Paris", "Londn"], expected=["London", "Paris"])
    assert r.score == pytest.approx((1 + (1 - 1 / 6)) / 2)
    # extra outputs count against (max of the lengths) unless allowed
    assert (await one("ListContains", output=["a", "b", "c"], expected=["a"])).score == pytest.approx(1 / 3)
    import autoevals

    lenient = autoevals.ListContains(allow_extra_entities=True)
    assert (await one(lenient, output=["a", "b", "c"], expected=["a"])).score == 1.0
    assert (await one("ListContains", output='["x", "y"]', expected=["y", "x"])).score == 1.0  # a JSON array text
    assert (await one("ListContains", output=[], expected=[])).score == 1.0
    r = await one("ListContains", output="x, y", expected=["x", "y"])
    assert r.score is None and r.error == "ValueError: ListContains: output is a str, not a list"


async def test_list_contains_without_scipy_says_what_to_install(monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # `import scipy.optimize` fails
    r = await one("ListContains", output=["a"], expected=["a"])
    assert (r.score, r.error) == (None, "ImportError: ListContains needs scipy: pip install 'autoevals[scipy]'")
    assert capfd.readouterr() == ("", "")


async def test_exact_match_with_objects():
    # autoevals serialises an object as JSON and parses JSON text on the other side (its docstring's cases)
    assert (await one("ExactMatch", output=[1, 2, 3], expected="[1, 2, 3]")).score == 1.0
    assert (await one("ExactMatch", output={"name": "John", "age": 30}, expected='{"name":"John","age":30}')
            ).score == 1.0
    assert (await one("ExactMatch", output={"a": 1}, expected={"a": 1})).score == 1.0
    assert (await one("ExactMatch", output={"a": 1}, expected={"a": 2})).score == 0.0
    assert (await one("ExactMatch", output="Hi Foo", expected="Hi Foo")).score == 1.0
    assert (await one("ExactMatch", output="Hi Foo", expected="hi foo")).score == 0.0
    # autoevals 0.4 keeps key order (json.dumps without sort_keys), whatever its docstring says
    assert (await one("ExactMatch", output={"name": "John", "age": 30}, expected='{"age": 30, "name": "John"}')
            ).score == 0.0


async def test_autoevals_classes_and_instances_are_scorers():
    import autoevals

    for spec in (autoevals.Levenshtein, autoevals.Levenshtein(), autoevals.ExactMatch):
        scorer = resolve_scorer(spec)
        assert scorer.llm is False
        assert scorer.name == spec.__name__ if isinstance(spec, type) else type(spec).__name__
    r = await one(autoevals.Levenshtein, output="Hi Bar", expected="Hello Bar")
    assert (r.name, r.score) == ("Levenshtein", pytest.approx(1 - 4 / 9))


def test_builtin_names_and_unknown_names():
    assert BUILTIN == ("ExactMatch", "Levenshtein", "NumericDiff", "JSONDiff", "ValidJSON", "ListContains",
                       "Factuality", "ClosedQA")
    for name in BUILTIN[:6]:
        scorer = resolve_scorer(name.upper())
        assert (scorer.name, scorer.llm) == (name, False)
    with pytest.raises(ValueError) as exc:
        resolve_scorer("Foo")
    assert str(exc.value) == ("unknown scorer 'Foo'; one of ExactMatch, Levenshtein, NumericDiff, JSONDiff, "
                              "ValidJSON, ListContains, Factuality, ClosedQA")
    for name in ("Factuality", "closedqa"):
        with pytest.raises(ValueError) as exc:
            resolve_scorer(name)
        canonical = "Factuality" if name == "Factuality" else "ClosedQA"
        assert str(exc.value) == f"{canonical} is an LLM judge: pick a model (--judge NAME)"
    with pytest.raises(TypeError):
        resolve_scorer(42)


# ---------------------------------------------------------------------------------------------------
# Python callables (Braintrust's custom scorers)


async def test_sync_and_async_callables():
    def exact(output, expected):
        return output == expected

    async def half(output):
        await asyncio.sleep(0)
        return 0.5

    assert await score(exact, output="a", expected="a") == [ScoreResult("exact", 1.0)]
    assert await score(exact, output="a", expected="b") == [ScoreResult("exact", 0.0)]
    assert await score(half, output="a") == [ScoreResult("half", 0.5)]
    assert (await one(lambda output: 1, output="x")) == ScoreResult("scorer", 1.0)  # ints are fine
    assert (await one(lambda output: None, output="x")) == ScoreResult("scorer", None)  # not applicable


async def test_a_sync_scorer_runs_off_the_event_loop():
    seen = {}

    def where(output):
        seen["thread"] = threading.get_ident()
        return 1

    await one(where, output="x")
    assert seen["thread"] != threading.get_ident()


async def test_callable_return_shapes():
    import autoevals

    def several(output, expected):
        return {"exact": output == expected, "length": min(len(output) / 10, 1), "skipped": None}

    assert await score(several, output="abcde", expected="abcde") == [
        ScoreResult("exact", 1.0), ScoreResult("length", 0.5), ScoreResult("skipped", None)]

    def a_score(output):
        return autoevals.Score(name="tone", score=0.25, metadata={"why": "curt"})

    assert await score(a_score, output="x") == [ScoreResult("tone", 0.25, {"why": "curt"})]

    def a_dict(output):
        return {"name": "politeness", "score": 0.75, "metadata": {"words": ["please"]}}

    assert await score(a_dict, output="x") == [ScoreResult("politeness", 0.75, {"words": ["please"]})]

    def unnamed(output):
        return {"score": 1}

    assert await score(unnamed, output="x") == [ScoreResult("unnamed", 1.0)]

    @dataclasses.dataclass
    class BraintrustScore:  # braintrust.Score's shape: .name, .score, .metadata
        name: str
        score: float
        metadata: dict

    def a_list(output):
        return [autoevals.Score(name="a", score=1), BraintrustScore("b", 0.5, {"k": (1, 2)}),
                {"name": "c", "score": 0}]

    assert await score(a_list, output="x") == [
        ScoreResult("a", 1.0), ScoreResult("b", 0.5, {"k": [1, 2]}), ScoreResult("c", 0.0)]


@pytest.mark.parametrize("value, error", [
    (1.7, "ValueError: score 1.7 out of [0,1]"),
    (-0.1, "ValueError: score -0.1 out of [0,1]"),
    (2, "ValueError: score 2 out of [0,1]"),
    (float("nan"), "ValueError: score nan out of [0,1]"),
    (float("inf"), "ValueError: score inf out of [0,1]"),
    ("high", "ValueError: score 'high' is not a number"),
    ([[0.5]], "ValueError: score [0.5] is not a number"),
])
async def test_bad_scores_are_errors(value, error):
    def bad(output):
        return value

    assert await score(bad, output="x") == [ScoreResult("bad", None, error=error)]


async def test_one_bad_score_among_several_spoils_only_itself():
    r = await score(lambda output: {"good": 0.5, "bad": 7}, output="x")
    assert r == [ScoreResult("good", 0.5), ScoreResult("bad", None, error="ValueError: score 7 out of [0,1]")]


async def test_a_raising_scorer_is_the_rows_error_and_the_run_goes_on():
    def picky(output):
        if output == "boom":
            raise ValueError("no explosions\nsecond line of detail")
        return 1

    async def also_picky(output):
        raise RuntimeError("async failure")

    scorer = resolve_scorer(picky)
    rows = await asyncio.gather(*(scorer.score(input=i, output=o) for i, o in enumerate(["ok", "boom", "fine"])))
    assert rows == [[ScoreResult("picky", 1.0)], [ScoreResult("picky", None, error="ValueError: no explosions")],
                    [ScoreResult("picky", 1.0)]]
    assert await score(also_picky, output="x") == [
        ScoreResult("also_picky", None, error="RuntimeError: async failure")]

    def exits(output):
        raise SystemExit(3)

    assert (await one(exits, output="x")).error == "SystemExit: 3"


async def test_cancellation_is_not_swallowed():
    started = asyncio.Event()

    async def slow(output):
        started.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(resolve_scorer(slow).score(input=None, output="x"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_arguments_are_chosen_by_signature():
    calls = []

    def only_output(output):
        calls.append(("only_output", output))
        return 1

    def input_and_metadata(input, metadata):
        calls.append(("input_and_metadata", input, metadata))
        return 1

    def everything(**kwargs):
        calls.append(("everything", kwargs))
        return 1

    def unnamed(a, b):  # Braintrust's rule: other names take the unclaimed values in order
        calls.append(("unnamed", a, b))
        return 1

    def with_default(output, threshold=0.5, *, expected=None):
        calls.append(("with_default", output, threshold, expected))
        return 1

    def positional_only(output, /, expected):
        calls.append(("positional_only", output, expected))
        return 1

    def mixed(expected, x, **rest):
        calls.append(("mixed", expected, x, sorted(rest)))
        return 1

    row = dict(input="q", output="o", expected="e", metadata={"m": 1})
    for fn in (only_output, input_and_metadata, everything, unnamed, with_default, positional_only, mixed):
        assert (await one(fn, **row)).score == 1.0, calls
    assert calls == [
        ("only_output", "o"),
        ("input_and_metadata", "q", {"m": 1}),
        ("everything", {"input": "q", "output": "o", "expected": "e", "metadata": {"m": 1}}),
        ("unnamed", "q", "o"),
        ("with_default", "o", 0.5, "e"),
        ("positional_only", "o", "e"),
        ("mixed", "e", "q", ["metadata", "output"]),
    ]

    def too_many(a, b, c, d, e):
        return 1

    with pytest.raises(TypeError, match="no value for its argument 'e'"):
        resolve_scorer(too_many)


async def test_names():
    def my_function(output):
        return 1

    class Judge:
        def __call__(self, output):
            return 0.5

    class AsyncJudge:
        async def __call__(self, output, expected):
            return output == expected

    assert resolve_scorer(my_function).name == "my_function"
    assert resolve_scorer(lambda output: 1).name == "scorer"
    assert resolve_scorer(functools.partial(my_function)).name == "my_function"
    assert resolve_scorer(Judge()).name == "Judge"
    assert (await one(Judge(), output="x")).score == 0.5
    assert (await one(AsyncJudge(), output="x", expected="x")) == ScoreResult("AsyncJudge", 1.0)
    # a Score's own name wins over the function's
    assert (await one(lambda output: {"name": "custom", "score": 1}, output="x")).name == "custom"


def test_importing_the_module_is_cheap():
    code = ("import sys, engine.scorers; "
            "print(','.join(m for m in ('autoevals', 'litellm', 'openai', 'jsonschema') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "" and out.stderr == ""


# ---------------------------------------------------------------------------------------------------
# LLM judges through litellm, against a fake OpenAI-compatible server on 127.0.0.1

SECRET = "sk-test-SECRET-0123456789abcdef"
KEY_ENV = "BT_TUI_TEST_JUDGE_KEY"


class FakeJudgeServer:
    """Answers POST /v1/chat/completions with a ``select_choice`` tool call carrying ``choice`` (or an
    error ``status`` with ``error_body``, or a plain-text answer), and records every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.choice = "C"
        self.reasons = "Both answers name Paris."
        self.status = 200
        self.error_body: dict = {}
        self.plain_text = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.requests.append({"path": self.path, "body": body,
                                        "headers": {k.lower(): v for k, v in self.headers.items()}})
                if server.status != 200:
                    return self._send(server.status, server.error_body)
                args = {"choice": server.choice}
                if "reasons" in json.dumps(body.get("tools")):
                    args = {"reasons": server.reasons, "choice": server.choice}
                if server.plain_text:
                    message = {"role": "assistant", "content": f"I pick {server.choice}"}
                else:
                    message = {"role": "assistant", "content": None, "tool_calls": [{
                        "id": "call_1", "type": "function",
                        "function": {"name": "select_choice", "arguments": json.dumps(args)}}]}
                self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeJudgeServer()
    yield s
    s.close()


@pytest.fixture
def judge(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    return JudgeModel(model="openai/judge-model", api_base=server.url, key_env=KEY_ENV)


def assert_no_secret(results):
    assert SECRET not in repr(results)
    assert SECRET not in json.dumps([dataclasses.asdict(r) for r in results], default=str)


async def test_factuality_through_litellm(server, judge, capfd):
    scorer = resolve_scorer("Factuality", judge=judge)
    assert (scorer.name, scorer.llm) == ("Factuality", True)
    results = await scorer.score(input="What is the capital of France?", output="Paris, France", expected="Paris")
    assert results == [ScoreResult("Factuality", 1.0, {"choice": "C", "rationale": "Both answers name Paris."})]
    assert_no_secret(results)

    [req] = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == f"Bearer {SECRET}"
    body = req["body"]
    assert body["model"] == "judge-model"  # litellm sends the model without its "openai/" provider prefix
    prompt = body["messages"][0]["content"]
    assert "You are comparing a submitted answer to an expert answer" in prompt  # autoevals' rubric
    assert "[Question]: What is the capital of France?" in prompt
    assert "[Expert]: Paris\n" in prompt and "[Submission]: Paris, France" in prompt
    [tool] = body["tools"]
    assert tool["function"]["name"] == "select_choice"
    assert tool["function"]["parameters"]["properties"]["choice"]["enum"] == ["A", "B", "C", "D", "E"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "select_choice"}}
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # engine code prints nothing


async def test_factuality_maps_every_choice_with_autoevals_own_scores(server, judge):
    import autoevals

    choice_scores = autoevals.Factuality().choice_scores  # {"A": 0.4, "B": 0.6, "C": 1, "D": 0, "E": 1}
    assert set(choice_scores) == {"A", "B", "C", "D", "E"}
    scorer = resolve_scorer("factuality", judge=judge)
    for choice, value in choice_scores.items():
        server.choice = choice
        r = await one(scorer, input="q", output="o", expected="e")
        assert (r.score, r.metadata["choice"], r.error) == (value, choice, None)
    assert len(server.requests) == 5


async def test_closed_qa_reads_the_criteria_from_metadata(server, judge):
    server.choice = "N"
    r = await one("ClosedQA", judge=judge, input="Name a European capital.", output="Madrid",
                  metadata={"criteria": "Must name a city in France"})
    assert (r.name, r.score, r.metadata["choice"]) == ("ClosedQA", 0.0, "N")
    prompt = server.requests[0]["body"]["messages"][0]["content"]
    assert "[Task]: Name a European capital." in prompt and "[Submission]: Madrid" in prompt
    assert "[Criterion]: Must name a city in France" in prompt


async def test_custom_llm_classifier(server, judge, capfd):
    judge = dataclasses.replace(judge, params={"temperature": 0})
    scorer = llm_classifier(
        "politeness", "Is this reply polite? {{output}}\nTopic: {{metadata.topic}}\nAsked: {{input}}",
        {"yes": 1, "somewhat": 0.5, "no": 0}, use_cot=False, judge=judge)
    assert (scorer.name, scorer.llm) == ("politeness", True)
    server.choice = "somewhat"
    r = await one(scorer, input="Where is my order?", output="Dunno, check yourself.")
    # no chain of thought: no rationale; the row had no metadata.topic (the judge saw it empty)
    assert (r.score, r.metadata) == (0.5, {"choice": "somewhat", "missing_variables": ["metadata.topic"]})
    body = server.requests[0]["body"]
    prompt = body["messages"][0]["content"]
    assert prompt.startswith("Is this reply polite? Dunno, check yourself.\nTopic: \nAsked: Where is my order?")
    assert "calling `select_choice` with a single choice" in prompt  # autoevals' no-CoT suffix
    params = body["tools"][0]["function"]["parameters"]
    assert params["properties"]["choice"]["enum"] == ["yes", "somewhat", "no"] and "reasons" not in params["properties"]
    assert body["temperature"] == 0  # the judge model's params
    assert capfd.readouterr() == ("", "")  # autoevals' "Could not find key" warning did not reach stderr

    server.choice = "no"
    r = await one(scorer, input="Where is my order?", output="Sorry!", metadata={"topic": "shipping"})
    assert (r.score, r.metadata) == (0.0, {"choice": "no"})
    assert "Topic: shipping" in server.requests[1]["body"]["messages"][0]["content"]


def test_llm_classifier_checks_its_arguments(judge):
    with pytest.raises(ValueError, match="is an LLM judge"):
        llm_classifier("x", "{{output}}", {"a": 1}, judge=None)
    with pytest.raises(ValueError, match=r"the score of choice 'a' must be a number in \[0,1\]"):
        llm_classifier("x", "{{output}}", {"a": 2}, judge=judge)
    with pytest.raises(ValueError, match="empty"):
        llm_classifier("x", "{{output}}", {}, judge=judge)


async def test_a_users_autoevals_judge_uses_the_judge_model(server, judge):
    import autoevals

    mine = autoevals.Factuality()  # as in an eval file: no client of its own
    r = await one(mine, judge=judge, input="q", output="o", expected="e")
    assert (r.name, r.score) == ("Factuality", 1.0)
    assert server.requests[0]["body"]["model"] == "judge-model"
    assert mine.client is None  # the user's object is untouched
    with pytest.raises(ValueError, match="Factuality is an LLM judge"):
        resolve_scorer(autoevals.Factuality)
    server.choice = "Y"
    r = await one(autoevals.ClosedQA, judge=judge, input="q", output="o")  # a class: made with the judge's client
    assert (r.name, r.score, r.error) == ("ClosedQA", 1.0, None)


async def test_the_key_never_reaches_an_error(server, judge, capfd):
    server.status = 401
    server.error_body = {"error": {"message": f"Incorrect API key provided: {SECRET}.", "type": "invalid_request_error",
                                   "code": "invalid_api_key"}}
    r = await one("Factuality", judge=judge, input="q", output="o", expected="e")
    assert r.score is None and "\n" not in r.error
    assert r.error.startswith("AuthenticationError: OpenAIException - Incorrect API key provided: ***.")
    assert_no_secret([r])
    out, err = capfd.readouterr()
    assert SECRET not in out + err and "Give Feedback" not in out + err


async def test_a_missing_key_variable_is_a_clear_error(server, judge, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    r = await one("Factuality", judge=judge, input="q", output="o", expected="e")
    assert (r.score, r.error) == (None, f"RuntimeError: the judge model's key variable {KEY_ENV} is not set")
    assert server.requests == []


async def test_an_answer_without_a_tool_call_is_an_error(server, judge):
    server.plain_text = True
    r = await one("Factuality", judge=judge, input="q", output="o", expected="e")
    assert (r.score, r.error) == (None, "ValueError: No tool call found in response")


async def test_a_choice_outside_the_rubric_is_an_error(server, judge):
    server.choice = "Z"
    r = await one("Factuality", judge=judge, input="q", output="o", expected="e")
    assert (r.score, r.error) == (None, "KeyError: 'Z'")


async def test_judges_run_concurrently(server, judge):
    scorer = resolve_scorer("Factuality", judge=judge)
    rows = await asyncio.gather(*(scorer.score(input=f"q{i}", output="o", expected="e") for i in range(8)))
    assert [r[0].score for r in rows] == [1.0] * 8
    assert sorted(req["body"]["messages"][0]["content"].split("[Question]: ")[1][:2] for req in server.requests) == \
        [f"q{i}" for i in range(8)]


def test_judge_model_is_a_value():
    a = JudgeModel("openai/gpt-4o-mini", key_env="OPENAI_API_KEY", params={"temperature": 0})
    assert a == JudgeModel("openai/gpt-4o-mini", key_env="OPENAI_API_KEY", params={"temperature": 0})
    assert hash(a) == hash(JudgeModel("openai/gpt-4o-mini", key_env="OPENAI_API_KEY"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.model = "x"
