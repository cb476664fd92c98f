"""A local OpenAI-compatible server for tests and benches: real HTTP on 127.0.0.1, no network.

    from llm_server import FakeLLMServer, llm_server   # tests/ is on sys.path under pytest

    with FakeLLMServer(latency=0.1) as server:           # or the `llm_server` fixture
        server.script("429", "ok")                       # the next two requests: a 429, then normal
        litellm.acompletion(model="openai/anything", api_base=server.base_url, api_key="sk-test-x", ...)
        server.requests[-1]["_headers"]["authorization"]  # every body received, with its headers

Endpoints: ``POST /v1/chat/completions`` (and ``/chat/completions``) answers in OpenAI's shape,
``usage`` counted in words (``len(text.split())``); with ``"stream": true`` it sends SSE chunks
(the answer split over several deltas, a usage chunk when ``stream_options.include_usage``, then
``data: [DONE]``). ``GET /v1/models`` lists one model. The answer is ``answer(request_body)``,
by default ``"echo: " + the last user message's text``.

Each request is handled in its own thread (``ThreadingHTTPServer``, HTTP/1.1 keep-alive), after
``latency`` seconds: 20+ requests in flight at once are served in parallel, never one by one.
``in_flight`` / ``max_in_flight`` count the requests being handled (``reset_counts()`` zeroes the
maximum).

Behaviours (``script`` queues them per request, consumed in order; ``fail_when`` decides by
content; a scripted behaviour wins, then ``fail_when``, then normal):

  ``"ok"``        normal answer
  ``"429"``       429 rate limited, ``Retry-After: 0`` (``{"kind": "429", "retry_after": 1}``)
  ``"500"``       500 server error (any 3-digit status works: ``"400"``, ``"401"``, ``"503"``)
  ``"slow"``      sleeps ``{"sleep": S}`` seconds (default 5; a dict with only ``sleep`` is slow)
                  before answering normally; ``stop()`` wakes sleepers
  ``"bad_json"``  200 with a body that is not JSON

A dict gives a behaviour with options: ``{"kind": "429", "retry_after": 2}``, ``{"sleep": 3}``,
``{"retry_after": 1}`` (a 429), ``{"kind": "ok", "text": "fixed answer"}``.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator, Optional, Union

Behaviour = Union[str, dict]

__all__ = ["FakeLLMServer", "llm_server", "default_answer", "count_words"]


def count_words(value) -> int:
    """Words in a message content (a string, or a list of text parts), as the server counts tokens."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(count_words(p.get("text", "")) if isinstance(p, dict) else count_words(p) for p in value)
    return 0


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def default_answer(request: dict) -> str:
    """``"echo: "`` + the text of the last user message."""
    users = [m for m in request.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    return "echo: " + (_text(users[-1].get("content")) if users else "")


def _normalise(b: Optional[Behaviour]) -> Optional[dict]:
    if b is None:
        return None
    if isinstance(b, str):
        return {"kind": b}
    d = dict(b)
    if "kind" not in d:
        d["kind"] = "slow" if "sleep" in d else "429" if "retry_after" in d else "ok"
    d["kind"] = str(d["kind"])
    return d


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # quiet: tests capture stderr

    # -- plumbing ---------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict | None = None):
        self._send(status, json.dumps(obj).encode(), headers=headers)

    def _chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # -- endpoints --------------------------------------------------------------------------
    def do_GET(self):
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0].rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}})
            return
        record = dict(body)
        record["_headers"] = {k.lower(): v for k, v in self.headers.items()}
        behaviour = fake._decide(record)
        fake._enter()
        try:
            if fake.latency:
                fake._stopping.wait(fake.latency)
            self._respond(body, behaviour)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout, cancellation)
        finally:
            fake._leave()

    def _respond(self, body: dict, b: dict):
        fake = self.server.fake
        kind = b["kind"]
        if kind == "slow":
            fake._stopping.wait(float(b.get("sleep", 5.0)))
            kind = "ok"
        if kind == "bad_json":
            self._send(200, b"{this is not json", headers=None)
            return
        if kind.isdigit() and kind != "200":
            status = int(kind)
            headers = {}
            if status == 429:
                headers["Retry-After"] = b.get("retry_after", 0)
            elif "retry_after" in b:
                headers["Retry-After"] = b["retry_after"]
            etype = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                     429: "rate_limit_error"}.get(status, "server_error")
            self._json(status, {"error": {"message": b.get("message", f"fake server says {status}"),
                                          "type": etype, "code": str(status)}}, headers=headers)
            return
        text = b["text"] if "text" in b else fake.answer(body)
        model = body.get("model") or "fake-model"
        prompt_tokens = sum(count_words(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict))
        completion_tokens = count_words(text)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        cid = f"chatcmpl-fake{next(fake._ids)}"
        created = int(time.time())
        if body.get("stream"):
            self._stream(cid, created, model, text, usage, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        self._json(200, {
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": usage,
        })

    def _stream(self, cid, created, model, text, usage, include_usage):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(choices, **extra):
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": choices, **extra}
            self._chunk(b"data: " + json.dumps(obj).encode() + b"\n\n")

        event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in FakeLLMServer.split_answer(text):
            event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            self.wfile.flush()
        event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if include_usage:
            event([], usage=usage)
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    fake: "FakeLLMServer"


class FakeLLMServer:
    """An OpenAI-compatible chat completions server on 127.0.0.1 (ephemeral port) in a thread.

    ``latency``: seconds each request waits before its answer. ``answer(request_json) -> str``:
    the assistant text (default :func:`default_answer`). After ``start()``: ``base_url``
    (``http://127.0.0.1:PORT/v1``), ``requests`` (every body received, in order, headers
    under ``"_headers"`` with lower-case names), ``in_flight`` and ``max_in_flight``."""

    def __init__(self, *, latency: float = 0.0, answer: Callable[[dict], str] | None = None):
        self.latency = latency
        self.answer = answer or default_answer
        self.requests: list[dict] = []
        self.base_url = ""
        self.port = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[dict] = collections.deque()
        self._predicate: Callable[[dict], Optional[Behaviour]] | None = None
        self._stopping = threading.Event()
        self._ids = iter(range(1, 1 << 62))
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------
    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, one each, in order; then back to normal."""
        with self._lock:
            self._queue.extend(_normalise(b) for b in behaviours)

    def fail_when(self, predicate: Callable[[dict], Optional[Behaviour]] | None) -> None:
        """Decide per request by its content: ``predicate(request_body)`` returns a behaviour
        (``"500"``, ``{"kind": "429", "retry_after": 1}``...) or None for normal. None removes it."""
        self._predicate = predicate

    def reset_counts(self) -> None:
        """Forget the requests received and the in-flight maximum (between bench phases)."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    @staticmethod
    def split_answer(text: str) -> list[str]:
        """How a streamed answer is cut into deltas: about four pieces, joined they give ``text``."""
        if not text:
            return []
        n = max(1, -(-len(text) // 4))
        return [text[i:i + n] for i in range(0, len(text), n)]

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "FakeLLMServer":
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-llm-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still sleeping (latency, "slow") are woken and end."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- used by the handler ----------------------------------------------------------------
    def _decide(self, record: dict) -> dict:
        with self._lock:
            self.requests.append(record)
            if self._queue:
                return self._queue.popleft()
        pred = self._predicate
        if pred is not None:
            b = _normalise(pred(record))
            if b is not None:
                return b
        return {"kind": "ok"}

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


try:
    import pytest
except ImportError:  # a bench without the test extras: the class alone
    pytest = None

if pytest is not None:

    @pytest.fixture
    def llm_server() -> Iterator[FakeLLMServer]:
        """A started :class:`FakeLLMServer` (no latency, default answers), stopped after the test."""
        with FakeLLMServer() as server:
            yield server
