"""The model client: one call to a model, with retries, timeouts, a concurrency bound and costs.

Every model call in bt-tui (playground, prompt runs, evals, LLM scorers) goes through
:meth:`LLMClient.complete`. It never raises for a provider or model failure: the failure is
the ``error`` of the :class:`CallResult` (one line), so a run shows it on the row that failed
and goes on. Cancelling the task that awaits it cancels the HTTP request
(``asyncio.CancelledError`` propagates).

- **litellm** does the talking (any provider it knows). It is imported on the first real call
  (or ``warm_up()``), never at module level, in a thread (2.5-4 s that must not freeze the
  event loop), with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (no download of the price list) and
  its own printing and logging silenced. A param a provider does not take is an error on the
  row (litellm's default), never silently dropped. litellm's own retries are off
  (``num_retries=0``): ours retry 429, 5xx, timeouts and connection errors (never 400, 401, 403,
  404, 422), with exponential backoff and jitter, honouring ``Retry-After`` /
  ``retry-after-ms`` from the provider's response (one wait is capped at ``MAX_WAIT`` s).
- **Concurrency**: one ``asyncio.Semaphore(concurrency)`` per client (per event loop) bounds
  the requests in flight; a retry's backoff waits outside it, so a waiting call holds no slot.
  ``timeout`` bounds one attempt (from when it has a slot to its last byte).
- **Keys**: ``ModelSpec.key_env`` names an environment variable, read at call time (unset:
  an error, no request). The key is never put in a :class:`CallResult`, a span, an error text
  (any occurrence is scrubbed) or a log line. No ``key_env``: litellm's own default applies
  (e.g. ``OPENAI_API_KEY``).
- **Costs**: configured prices (USD per million tokens) when the spec has them, else
  litellm's price list (None for a model it does not know). The offline model costs 0.
- **Offline**: a spec whose model starts with ``offline/`` is answered by
  :class:`engine.offline.OfflineModel` (given as ``LLMClient(offline=...)``) in a thread: no
  key, no network, no litellm import.

Streaming (``on_delta``): ``on_delta(text_so_far)`` is called as chunks arrive; the usage comes
from the final chunk (``stream_options.include_usage``). Streaming costs litellm far more CPU
per call than a plain call (see bench/RESULTS.md, issue 12): bulk runs should not stream.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .offline import OfflineModel

__all__ = ["ModelSpec", "CallResult", "LLMClient", "llm_span", "OFFLINE_SPEC", "MAX_WAIT"]

MAX_WAIT = 30.0  # seconds: the longest single backoff / Retry-After wait
ERROR_MAX = 500  # characters of an error line
# Parameters the client sets itself: a spec's or a call's params cannot override them.
_RESERVED = frozenset({"model", "messages", "api_base", "base_url", "api_key", "timeout", "num_retries",
                       "max_retries", "stream", "stream_options", "response_format", "litellm_logging_obj"})
_SECRET_PARAMS = frozenset({"api_key", "key", "authorization", "token", "secret", "password"})
_RETRY_STATUS = frozenset({408, 409, 425, 429})
_NO_RETRY_STATUS = frozenset({400, 401, 402, 403, 404, 405, 413, 415, 422})


@dataclass(frozen=True)
class ModelSpec:
    """A configured model: what users pick by ``name``, what litellm calls (``model``)."""

    name: str  # the configured name users pick ("gpt-4o-mini", "local-llama", "offline")
    model: str  # litellm model string ("openai/gpt-4o-mini", "ollama/llama3", "offline/support")
    api_base: str | None = None
    key_env: str | None = None  # NAME of the env var holding the key; the key itself is never stored
    input_price: float | None = None  # USD per million tokens; None = litellm's price list
    output_price: float | None = None
    params: dict = field(default_factory=dict)  # default params (temperature, max_tokens, ...)

    @property
    def offline(self) -> bool:
        return self.model.startswith("offline/")


OFFLINE_SPEC = ModelSpec(name="offline", model="offline/support")


@dataclass
class CallResult:
    """One completed call (successful or not). ``start``/``end``: unix seconds of the first
    attempt's start and the last response. ``litellm_model``: the spec's model string (an
    addition to the brief's fields, for the span's metadata)."""

    model: str  # spec.name
    messages: list[dict]  # what was sent
    output: str | None  # the assistant text (None on error)
    error: str | None  # one line
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens: int | None
    cost: float | None  # USD
    start: float
    end: float
    attempts: int
    params: dict  # the params used (never a key)
    litellm_model: str = ""

    @property
    def latency(self) -> float:
        return self.end - self.start


# -- litellm, imported once, on the first real call -----------------------------------------

_litellm_mod = None
_litellm_lock = threading.Lock()
_QUIET_LOGGERS = ("LiteLLM", "LiteLLM Proxy", "LiteLLM Router", "litellm")


def _litellm():
    """litellm, imported and configured once: local price map, no printing, quiet loggers.
    The first call also runs one mock completion, which loads the ~70 modules litellm imports
    lazily on its first request (~0.4 s): done here, in the loading thread, no request pays it."""
    global _litellm_mod
    if _litellm_mod is not None:
        return _litellm_mod
    with _litellm_lock:
        if _litellm_mod is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            # Not turn_off_message_logging: with it litellm deep-copies and redacts its logging
            # payload on every call (~1 ms of CPU each, measured), for callbacks we never add.
            litellm.disable_streaming_logging = True  # no per-chunk logging work
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            try:
                litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}],
                                   mock_response="ok", api_key="sk-warm-up")
            except Exception:
                pass
            _litellm_mod = litellm
    return _litellm_mod


async def _litellm_async():
    """litellm, loaded in a thread the first time (a 2-4 s import must not freeze the event loop)."""
    if _litellm_mod is not None:
        return _litellm_mod
    return await asyncio.to_thread(_litellm)


# -- errors and retries ---------------------------------------------------------------------


class _CallbackError(Exception):
    """``on_delta`` raised: the caller's bug, reported on the row, never retried."""


def _status(exc: BaseException) -> Optional[int]:
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    resp = getattr(exc, "response", None)
    code = getattr(resp, "status_code", None)
    return code if isinstance(code, int) else None


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return True
    name = type(exc).__name__
    return name in ("Timeout", "APITimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _CallbackError):
        return False
    if _is_timeout(exc):
        return True
    status = _status(exc)
    if status in _RETRY_STATUS:
        return True
    text = str(exc).lower()
    if "credentials" in text or "api_key" in text or "api key" in text:
        return False  # a missing or wrong key: retrying cannot help (litellm reports some as a 500)
    if status is not None:
        if status in _NO_RETRY_STATUS:
            return False
        return status in _RETRY_STATUS or status >= 500
    name = type(exc).__name__
    return "Connection" in name or isinstance(exc, (ConnectionError, OSError))


def _headers(exc: BaseException):
    """The provider's response headers an exception carries (litellm keeps the httpx response)."""
    for h in (getattr(getattr(exc, "response", None), "headers", None),
              getattr(exc, "litellm_response_headers", None), getattr(exc, "headers", None)):
        if h:
            return h
    return None


def retry_after(exc: BaseException) -> Optional[float]:
    """Seconds the provider asked us to wait (``retry-after-ms``, ``Retry-After`` in seconds or
    as an HTTP date), or None."""
    h = _headers(exc)
    if not h:
        return None
    try:
        ms = h.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        ra = h.get("retry-after")
    except Exception:
        return None
    if ra is None:
        return None
    try:
        return max(0.0, float(ra))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(ra))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _clean_message(exc: BaseException) -> str:
    """litellm's message without its repeated class prefixes, on one line."""
    msg = str(exc) or repr(exc)
    name = type(exc).__name__
    for prefix in (f"litellm.{name}: ", f"{name}: ", "litellm."):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return " ".join(msg.split())


def _error_line(exc: BaseException, timeout: float) -> str:
    if _is_timeout(exc):
        return f"Timeout after {timeout:g}s"
    if isinstance(exc, _CallbackError):
        cause = exc.__cause__ or exc
        return f"on_delta failed: {type(cause).__name__}: {_clean_message(cause)}"
    name = type(exc).__name__
    status = _status(exc)
    msg = _clean_message(exc)
    if "connection error" in msg.lower() or isinstance(exc, (ConnectionError, OSError)):
        # litellm reports "nothing is listening" as a 500 from the server: say what it is
        return "APIConnectionError: cannot reach the model's server (connection refused or unreachable)"
    if status is not None and not msg.startswith(str(status)):
        msg = f"{status} {msg}"
    return f"{name}: {msg}"


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


# -- the result's parts ---------------------------------------------------------------------


def _int_or_none(v) -> Optional[int]:
    if v is None or isinstance(v, bool):
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _usage(obj) -> tuple[Optional[int], Optional[int], Optional[int]]:
    u = getattr(obj, "usage", None)
    if u is None and isinstance(obj, dict):
        u = obj.get("usage")
    if u is None:
        return None, None, None
    get = u.get if isinstance(u, dict) else (lambda k: getattr(u, k, None))
    p, c, t = _int_or_none(get("prompt_tokens")), _int_or_none(get("completion_tokens")), _int_or_none(
        get("total_tokens"))
    if t is None and p is not None and c is not None:
        t = p + c
    return p, c, t


def _message_text(response) -> Optional[str]:
    try:
        msg = response.choices[0].message
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    content = getattr(msg, "content", None)
    if content is None and isinstance(msg, dict):
        content = msg.get("content")
    if content is None:
        # a tool call with no text: keep the calls as the output text (JSON)
        calls = getattr(msg, "tool_calls", None)
        if calls:
            import orjson

            try:
                return orjson.dumps([c.model_dump() if hasattr(c, "model_dump") else c for c in calls]).decode()
            except TypeError:
                return str(calls)
        return ""
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def _configured_cost(spec: ModelSpec, p: Optional[int], c: Optional[int]) -> Optional[float]:
    if p is None and c is None:
        return None
    return ((p or 0) * (spec.input_price or 0.0) + (c or 0) * (spec.output_price or 0.0)) / 1e6


def _litellm_cost(litellm, spec: ModelSpec, response, p: Optional[int], c: Optional[int]) -> Optional[float]:
    """The cost litellm already worked out for this response, else its price list; None for a
    model it does not know."""
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        return float(cost)
    if p is None and c is None:
        return None
    try:
        pc, cc = litellm.cost_per_token(model=spec.model, prompt_tokens=p or 0, completion_tokens=c or 0)
        return float(pc) + float(cc)
    except Exception:
        return None


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(p.get("text", "") if isinstance(p, dict) else p) for p in value)
    return 0


# -- the client -----------------------------------------------------------------------------


class LLMClient:
    """Calls models (see the module docstring). One instance per app or run; safe to share
    between tasks of one event loop (and across loops: each loop gets its own semaphore)."""

    def __init__(self, *, concurrency: int = 20, timeout: float = 60.0, max_retries: int = 3,
                 backoff: float = 0.5, offline: "OfflineModel | None" = None):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.offline = offline
        self._sems: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
            weakref.WeakKeyDictionary())

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._sems.get(loop)
        if sem is None:
            sem = self._sems[loop] = asyncio.Semaphore(self.concurrency)
        return sem

    async def warm_up(self) -> None:
        """Load litellm now, in a thread (the first real call would otherwise wait for it)."""
        await _litellm_async()

    def _wait(self, attempt: int, exc: BaseException) -> float:
        """Seconds before attempt ``attempt + 1``: the provider's Retry-After when given, else
        ``backoff * 2**(attempt-1)`` with +-50% jitter; at most MAX_WAIT."""
        ra = retry_after(exc)
        if ra is not None:
            return min(ra, MAX_WAIT)
        base = self.backoff * (2 ** (attempt - 1))
        return min(base * (0.5 + random.random()), MAX_WAIT)

    async def complete(self, spec: ModelSpec, messages: list[dict], *, params: dict | None = None,
                       response_format: dict | None = None,
                       on_delta: Callable[[str], None] | None = None) -> CallResult:
        """One model call with retries; never raises for a provider/model failure (see
        ``CallResult.error``). ``params`` override the spec's default params for this call."""
        merged = {k: v for k, v in {**(spec.params or {}), **(params or {})}.items() if k not in _RESERVED}
        recorded = {k: v for k, v in merged.items() if k.lower() not in _SECRET_PARAMS}
        if response_format is not None:
            recorded["response_format"] = response_format
        key = os.environ.get(spec.key_env) if spec.key_env else None
        # A local OpenAI-compatible server (Ollama, vLLM, llama.cpp) takes no key, but litellm's
        # openai provider refuses to call without one: send a placeholder, never a real key.
        call_key = key if key else ("no-key" if spec.api_base and not spec.key_env else None)
        secrets = [key] if key else []
        start = time.time()
        result = CallResult(model=spec.name, messages=messages, output=None, error=None, prompt_tokens=None,
                            completion_tokens=None, tokens=None, cost=None, start=start, end=start, attempts=0,
                            params=recorded, litellm_model=spec.model)
        if spec.offline:
            return await self._complete_offline(spec, messages, result, on_delta)
        if spec.key_env and not key:
            result.error = f"no API key: the environment variable {spec.key_env} is not set"
            return result
        litellm = await _litellm_async()
        sem = self._semaphore()
        attempts = 0
        while True:
            attempts += 1
            result.attempts = attempts
            try:
                async with sem:
                    if attempts == 1:
                        result.start = time.time()  # the first attempt starts once it has a slot
                    async with asyncio.timeout(self.timeout):
                        text, p, c, t, cost = await self._attempt(litellm, spec, messages, merged,
                                                                  response_format, on_delta, call_key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a provider/model failure: retry or report
                result.end = time.time()
                if _retryable(exc) and attempts <= self.max_retries:
                    await asyncio.sleep(self._wait(attempts, exc))
                    continue
                line = _error_line(exc, self.timeout)
                if attempts > 1:
                    line += f" (after {attempts} attempts)"
                result.error = _one_line(_scrub(line, secrets))
                return result
            result.end = time.time()
            result.output, result.prompt_tokens, result.completion_tokens, result.tokens = text, p, c, t
            result.cost = cost
            return result

    async def _attempt(self, litellm, spec: ModelSpec, messages, merged: dict, response_format, on_delta, key):
        kwargs = dict(merged)
        if response_format is not None:
            kwargs["response_format"] = response_format
        configured = spec.input_price is not None or spec.output_price is not None
        if on_delta is None:
            response = await litellm.acompletion(model=spec.model, messages=messages, api_base=spec.api_base,
                                                 api_key=key, timeout=self.timeout, num_retries=0, **kwargs)
            text = _message_text(response)
            p, c, t = _usage(response)
            cost = _configured_cost(spec, p, c) if configured else _litellm_cost(litellm, spec, response, p, c)
            return text, p, c, t, cost
        stream = await litellm.acompletion(model=spec.model, messages=messages, api_base=spec.api_base,
                                           api_key=key, timeout=self.timeout, num_retries=0, stream=True,
                                           stream_options={"include_usage": True}, **kwargs)
        text = ""
        p = c = t = None
        try:
            async for chunk in stream:
                choices = getattr(chunk, "choices", None) or []
                if choices:
                    delta = getattr(choices[0], "delta", None)
                    piece = getattr(delta, "content", None) if delta is not None else None
                    if piece:
                        text += piece
                        try:
                            on_delta(text)
                        except Exception as exc:
                            raise _CallbackError(str(exc)) from exc
                up, uc, ut = _usage(chunk)
                if up is not None or uc is not None:
                    p, c, t = up, uc, ut
        except BaseException:
            # Cancelled, timed out or failed mid-stream: release the HTTP connection now.
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    pass
            raise
        cost = _configured_cost(spec, p, c) if configured else _litellm_cost(litellm, spec, None, p, c)
        return text, p, c, t, cost

    async def _complete_offline(self, spec: ModelSpec, messages, result: CallResult, on_delta) -> CallResult:
        result.attempts = 1
        if self.offline is None:
            result.error = "offline model needs a project"
            result.end = time.time()
            return result
        try:
            async with self._semaphore():
                result.start = time.time()
                text = await asyncio.wait_for(asyncio.to_thread(self.offline.answer, messages), self.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            result.error = _one_line(_error_line(exc, self.timeout))
            result.end = time.time()
            return result
        if on_delta is not None:
            try:
                on_delta(text)
            except Exception as exc:
                result.error = _one_line(f"on_delta failed: {type(exc).__name__}: {exc}")
                result.end = time.time()
                return result
        result.end = time.time()
        result.output = text
        result.prompt_tokens = sum(_count_words(m.get("content")) for m in messages if isinstance(m, dict))
        result.completion_tokens = _count_words(text)
        result.tokens = result.prompt_tokens + result.completion_tokens
        result.cost = 0.0
        return result


# -- spans ----------------------------------------------------------------------------------


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def llm_span(result: CallResult, *, root_span_id: str, parent_span_id: str | None, span_id: str | None = None,
             name: str | None = None, created: str | None = None) -> dict:
    """The ``llm`` span row (DESIGN.md section 2) of a call: input = the messages, output = the
    text (kept as text even when it is JSON), metrics with tokens and estimated_cost, metadata
    with the configured model name, the litellm model string and the params (never a key)."""
    sid = span_id or uuid.uuid4().hex
    return {
        "id": sid,
        "span_id": sid,
        "root_span_id": root_span_id,
        "span_parents": [parent_span_id] if parent_span_id else None,
        "created": created or _iso(result.start),
        "input": result.messages,
        "output": result.output,
        "error": result.error,
        "metrics": {
            "start": result.start,
            "end": result.end,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "tokens": result.tokens,
            "estimated_cost": result.cost,
        },
        "metadata": {"model": result.model, "litellm_model": result.litellm_model, "params": dict(result.params)},
        "span_attributes": {"name": name or f"llm: {result.model}", "type": "llm"},
    }
