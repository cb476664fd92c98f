"""engine.llm.LLMClient over real HTTP: litellm -> tests/llm_server.py on 127.0.0.1.

Retries, Retry-After, timeouts, the concurrency bound, cancellation, streaming, costs, and
that an API key never shows up anywhere but in the request's Authorization header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.llm import CallResult, LLMClient, ModelSpec, llm_span
from llm_server import FakeLLMServer, llm_server  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-secret-123"


def spec_for(server: FakeLLMServer, **kw) -> ModelSpec:
    kw.setdefault("key_env", "BT_TEST_KEY")
    return ModelSpec(name=kw.pop("name", "fake"), model=kw.pop("model", "openai/fake-model"),
                     api_base=server.base_url, **kw)


@pytest.fixture(autouse=True)
def test_key(monkeypatch):
    monkeypatch.setenv("BT_TEST_KEY", KEY)


def fast_client(**kw) -> LLMClient:
    kw.setdefault("timeout", 10)
    kw.setdefault("backoff", 0.01)
    return LLMClient(**kw)


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


async def test_plain_answer_tokens_and_configured_cost(llm_server):
    spec = spec_for(llm_server, input_price=2.0, output_price=10.0, params={"temperature": 0.2})
    r = await fast_client().complete(spec, user("where is my invoice"), params={"max_tokens": 50})
    assert r.error is None
    assert r.output == "echo: where is my invoice"
    # the server counts words: 2 (system) + 4 (user) in, 5 out
    assert (r.prompt_tokens, r.completion_tokens, r.tokens) == (6, 5, 11)
    assert r.cost == pytest.approx((6 * 2.0 + 5 * 10.0) / 1e6, rel=1e-12)
    assert r.attempts == 1 and r.model == "fake" and r.litellm_model == "openai/fake-model"
    assert r.params == {"temperature": 0.2, "max_tokens": 50}
    assert 0 <= r.latency < 5 and r.end >= r.start
    sent = llm_server.requests[-1]
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 50
    assert sent["messages"] == user("where is my invoice")


async def test_cost_from_litellm_price_map_and_unknown_model(llm_server):
    client = fast_client()
    known = await client.complete(spec_for(llm_server, model="openai/gpt-4o-mini"), user("hello there"))
    assert known.error is None and known.cost is not None and known.cost > 0
    unknown = await client.complete(spec_for(llm_server, model="openai/no-such-model-xyz"), user("hello there"))
    assert unknown.error is None and unknown.tokens is not None and unknown.cost is None


async def test_streaming_deltas_in_order_and_usage(llm_server):
    seen: list[str] = []
    r = await fast_client().complete(spec_for(llm_server, input_price=1.0, output_price=1.0),
                                     user("stream me a fairly long answer please"), on_delta=seen.append)
    assert r.error is None
    full = "echo: stream me a fairly long answer please"
    assert r.output == full
    assert len(seen) >= 3, seen  # several deltas, each the text so far
    assert all(full.startswith(s) for s in seen) and seen[-1] == full
    assert [len(s) for s in seen] == sorted(len(s) for s in seen)
    assert (r.prompt_tokens, r.completion_tokens) == (9, 8)
    assert r.cost == pytest.approx(17 / 1e6)
    req = llm_server.requests[-1]
    assert req["stream"] is True and req["stream_options"] == {"include_usage": True}


async def test_response_format_is_passed_through(llm_server):
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    llm_server.answer = lambda req: '{"answer": 42}'
    r = await fast_client().complete(spec_for(llm_server), user("json please"), response_format=fmt)
    assert r.output == '{"answer": 42}'  # the text, kept as text
    assert llm_server.requests[-1]["response_format"]["type"] == "json_schema"
    assert r.params["response_format"] == fmt


async def test_429_then_ok_retries_once(llm_server):
    llm_server.script("429")
    r = await fast_client().complete(spec_for(llm_server), user("retry me"))
    assert r.error is None and r.output == "echo: retry me"
    assert r.attempts == 2 and len(llm_server.requests) == 2


async def test_retry_after_is_honoured(llm_server):
    llm_server.script({"kind": "429", "retry_after": 1})
    t = time.monotonic()
    r = await fast_client(backoff=0.001).complete(spec_for(llm_server), user("slowly"))
    assert r.error is None and r.attempts == 2
    assert time.monotonic() - t >= 0.95


async def test_backoff_waits_outside_the_semaphore(llm_server):
    """A call waiting out a Retry-After holds no slot: with concurrency 1 another call runs meanwhile."""
    client = fast_client(concurrency=1)
    llm_server.script({"kind": "429", "retry_after": 1})
    first = asyncio.create_task(client.complete(spec_for(llm_server), user("first")))
    await asyncio.sleep(0.3)  # the first call got its 429 and is waiting
    t = time.monotonic()
    second = await client.complete(spec_for(llm_server), user("second"))
    assert second.error is None and time.monotonic() - t < 0.6
    assert not first.done()
    r = await first
    assert r.error is None and r.attempts == 2


async def test_500_until_retries_run_out(llm_server):
    llm_server.script(*["500"] * 3)
    r = await fast_client(max_retries=2).complete(spec_for(llm_server), user("broken"))
    assert r.output is None and r.attempts == 3
    assert r.error.startswith("InternalServerError: 500") and r.error.endswith("(after 3 attempts)")
    assert "\n" not in r.error and len(llm_server.requests) == 3


@pytest.mark.parametrize("status", ["400", "401", "404"])
async def test_client_errors_are_not_retried(llm_server, status):
    llm_server.script(status)
    r = await fast_client().complete(spec_for(llm_server), user("bad"))
    assert r.attempts == 1 and len(llm_server.requests) == 1
    assert r.output is None and status in r.error and "attempts" not in r.error


async def test_timeout_after_retries(llm_server):
    llm_server.script({"sleep": 5}, {"sleep": 5})
    t = time.monotonic()
    r = await fast_client(timeout=0.3, max_retries=1).complete(spec_for(llm_server), user("slow"))
    assert r.error == "Timeout after 0.3s (after 2 attempts)"
    assert r.attempts == 2 and r.output is None
    assert 0.55 < time.monotonic() - t < 3


async def test_bad_json_and_connection_refused_are_errors_not_exceptions(llm_server):
    llm_server.script("bad_json", "bad_json")
    r = await fast_client(max_retries=1).complete(spec_for(llm_server), user("x"))
    assert r.error and r.attempts == 2
    dead = ModelSpec(name="dead", model="openai/x", api_base="http://127.0.0.1:9/v1", key_env="BT_TEST_KEY")
    r = await fast_client(max_retries=1).complete(dead, user("x"))
    assert r.error and r.output is None and r.attempts == 2


async def test_concurrency_bound():
    with FakeLLMServer(latency=0.2) as server:
        client = fast_client(concurrency=3)
        t = time.monotonic()
        results = await asyncio.gather(*(client.complete(spec_for(server), user(f"q {i}")) for i in range(9)))
        elapsed = time.monotonic() - t
    assert all(r.error is None for r in results)
    assert server.max_in_flight == 3  # bounded, and really parallel
    assert 0.55 < elapsed < 2.0  # three waves of 0.2 s


async def test_cancellation_propagates_and_client_still_works():
    with FakeLLMServer() as server:
        client = fast_client(concurrency=1)
        server.script({"sleep": 5})
        task = asyncio.create_task(client.complete(spec_for(server), user("never")))
        for _ in range(100):
            await asyncio.sleep(0.02)
            if server.in_flight:
                break
        assert server.in_flight == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        r = await client.complete(spec_for(server), user("after"))  # the slot was released
        assert r.error is None and r.output == "echo: after"


async def test_on_delta_error_is_reported_not_retried(llm_server):
    def boom(_text):
        raise ValueError("widget gone")

    r = await fast_client().complete(spec_for(llm_server), user("x"), on_delta=boom)
    assert r.error == "on_delta failed: ValueError: widget gone" and r.attempts == 1


async def test_missing_key_env_is_an_error_without_a_request(llm_server, monkeypatch):
    monkeypatch.delenv("BT_TEST_KEY")
    r = await fast_client().complete(spec_for(llm_server), user("x"))
    assert r.error == "no API key: the environment variable BT_TEST_KEY is not set"
    assert llm_server.requests == []


async def test_key_never_leaks(llm_server, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    client = fast_client(max_retries=1)
    spec = spec_for(llm_server, params={"api_key": KEY, "temperature": 0})
    ok = await client.complete(spec, user("hello"))
    streamed = await client.complete(spec, user("hello"), on_delta=lambda s: None)
    # a provider that echoes the key back in its error message: scrubbed from ours
    llm_server.script({"kind": "401", "message": f"Incorrect API key provided: {KEY}"})
    failed = await client.complete(spec, user("hello"))
    assert ok.error is None and streamed.error is None
    assert failed.error.startswith("AuthenticationError: 401") and "Incorrect API key provided: ***" in failed.error
    assert all(r["_headers"].get("authorization") == f"Bearer {KEY}" for r in llm_server.requests)
    for r in (ok, streamed, failed):
        assert KEY not in repr(dataclasses.asdict(r)) and KEY not in repr(r)
        span = llm_span(r, root_span_id="root", parent_span_id="root")
        assert KEY not in json.dumps(span)
    assert ok.params == {"temperature": 0}
    assert KEY not in caplog.text
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err


async def test_llm_span_shape(llm_server):
    r = await fast_client().complete(spec_for(llm_server, input_price=1.0, output_price=1.0, params={"seed": 1}),
                                     user("span me"))
    span = llm_span(r, root_span_id="root1", parent_span_id="task1", span_id="s1")
    assert span["id"] == span["span_id"] == "s1"
    assert span["root_span_id"] == "root1" and span["span_parents"] == ["task1"]
    assert span["span_attributes"] == {"name": "llm: fake", "type": "llm"}
    assert span["input"] == user("span me") and span["output"] == "echo: span me" and span["error"] is None
    m = span["metrics"]
    assert (m["start"], m["end"]) == (r.start, r.end)
    assert (m["prompt_tokens"], m["completion_tokens"], m["tokens"]) == (4, 3, 7)
    assert m["estimated_cost"] == pytest.approx(7 / 1e6)
    assert span["metadata"] == {"model": "fake", "litellm_model": "openai/fake-model", "params": {"seed": 1}}
    assert span["created"].endswith("Z") and span["created"].startswith(time.strftime("%Y-", time.gmtime(r.start)))
    root = llm_span(r, root_span_id="root1", parent_span_id=None, name="custom", created="2024-01-01T00:00:00Z")
    assert root["span_parents"] is None and root["span_attributes"]["name"] == "custom"
    assert root["created"] == "2024-01-01T00:00:00Z" and len(root["id"]) == 32


def test_llm_span_is_a_valid_span_row(tmp_path):
    from store.connection import Store
    from store.spans import log_spans

    r = CallResult(model="m", messages=user("q"), output="a", error=None, prompt_tokens=1, completion_tokens=1,
                   tokens=2, cost=None, start=1_700_000_000.0, end=1_700_000_001.0, attempts=1, params={},
                   litellm_model="openai/m")
    store = Store(tmp_path / "bt.db")
    try:
        ids = log_spans(store, "p", [llm_span(r, root_span_id="r", parent_span_id=None, span_id="r")])
        assert ids == ["r"]
    finally:
        store.close()


def test_import_does_not_load_litellm():
    code = "import sys, engine.llm; assert 'litellm' not in sys.modules, 'litellm imported'; print('ok')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# -- the fake server itself (others build on it) ----------------------------------------------


def _post(url: str, body: dict, timeout: float = 10) -> tuple[int, dict, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer sk-test-x"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_server_serves_many_requests_in_parallel():
    from concurrent.futures import ThreadPoolExecutor

    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with FakeLLMServer(latency=0.3) as server:
        t = time.monotonic()
        with ThreadPoolExecutor(25) as pool:
            statuses = [s for s, _, _ in pool.map(lambda _: _post(server.base_url, body), range(25))]
        elapsed = time.monotonic() - t
    assert statuses == [200] * 25
    assert server.max_in_flight == 25 and len(server.requests) == 25
    assert elapsed < 1.2  # not 25 x 0.3 s


def test_server_behaviours_and_shapes():
    import urllib.request

    with FakeLLMServer() as server:
        with urllib.request.urlopen(server.base_url + "/models", timeout=5) as resp:
            assert json.loads(resp.read())["data"][0]["id"]
        server.script("429", {"kind": "429", "retry_after": 3}, "503", "bad_json")
        server.fail_when(lambda req: "500" if "FAIL" in json.dumps(req["messages"]) else None)
        msg = {"model": "m", "messages": [{"role": "system", "content": "a b"}, {"role": "user", "content": "x y z"}]}
        first = _post(server.base_url, msg)
        assert first[0] == 429 and first[1]["Retry-After"] == "0"
        assert _post(server.base_url, msg)[1]["Retry-After"] == "3"
        assert _post(server.base_url, msg)[0] == 503
        status, _, raw = _post(server.base_url, msg)
        assert status == 200 and raw.startswith(b"{this is not json")
        status, _, raw = _post(server.base_url, msg)  # the script is used up: normal again
        done = json.loads(raw)
        assert done["choices"][0]["message"] == {"role": "assistant", "content": "echo: x y z"}
        assert done["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
        assert _post(server.base_url, {**msg, "messages": [{"role": "user", "content": "FAIL me"}]})[0] == 500
        status, headers, raw = _post(server.base_url, {**msg, "stream": True, "stream_options": {"include_usage": True}})
        assert status == 200 and headers["Content-Type"] == "text/event-stream"
        events = [line[6:] for line in raw.decode().split("\n\n") if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        assert text == "echo: x y z" and sum(1 for c in chunks if c["choices"] and c["choices"][0]["delta"].get(
            "content")) >= 3
        assert chunks[-1]["usage"]["completion_tokens"] == 4 and chunks[-1]["choices"] == []
        assert server.requests[0]["_headers"]["authorization"] == "Bearer sk-test-x"
        assert [r["messages"][-1]["content"] for r in server.requests][:2] == ["x y z", "x y z"]
    with pytest.raises(OSError):
        _post(server.base_url, msg, timeout=2)  # stopped: nothing listens any more


def test_a_local_server_without_a_key_is_called_with_a_placeholder(llm_server):
    """Ollama, vLLM, llama.cpp: an api base and no key env. litellm's openai provider refuses to
    call without a key, so the client sends a placeholder (never a real key from the env)."""
    import asyncio

    from engine.llm import LLMClient, ModelSpec

    spec = ModelSpec(name="local", model="openai/llama3", api_base=llm_server.base_url)
    result = asyncio.run(LLMClient(max_retries=0, timeout=10).complete(spec, [{"role": "user", "content": "hi"}]))
    assert result.error is None and result.output == "echo: hi"
    assert llm_server.requests[-1]["_headers"]["authorization"] == "Bearer no-key"


def test_nothing_listening_is_a_connection_error_not_a_500():
    """litellm reports a refused connection as a 500 from the server; the row says what it is."""
    import asyncio
    import socket

    from engine.llm import LLMClient, ModelSpec

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = ModelSpec(name="gone", model="openai/x", api_base=f"http://127.0.0.1:{port}/v1")
    result = asyncio.run(LLMClient(max_retries=0, timeout=10).complete(spec, [{"role": "user", "content": "hi"}]))
    assert result.error.startswith("APIConnectionError: cannot reach the model's server"), result.error
