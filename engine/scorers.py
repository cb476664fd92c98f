"""Scorers: (input, output, expected, metadata) -> scores in [0,1], over Braintrust's autoevals.

One interface for every kind of scorer a run may use (:class:`Scorer`, made by :func:`resolve_scorer`):

- the builtin names ``bt-tui run --scorer NAME`` accepts (:data:`BUILTIN`): autoevals' heuristics
  (ExactMatch, Levenshtein, NumericDiff, JSONDiff, ValidJSON, ListContains) and LLM judges
  (Factuality, ClosedQA);
- what a user's eval file passes as ``scores=[...]`` in Braintrust's style: an autoevals scorer
  class or instance, or any Python callable, sync or async, called with the keyword arguments it
  accepts among input/output/expected/metadata and returning a number, a bool, None, a Score, a
  dict or a list of those;
- a custom rubric (:func:`llm_classifier`, autoevals' LLMClassifier).

``Scorer.score`` never raises (except ``asyncio.CancelledError``): whatever goes wrong in a scorer
or in user code becomes ``ScoreResult(error="ValueError: ...")`` on that row while the run goes on.

LLM judges call the project's configured model (:class:`JudgeModel`) through litellm: autoevals
gets an OpenAI-shaped client whose ``chat.completions.create`` is ``litellm.acompletion``. The key
is read from the environment variable the model names at call time; it is never stored, and it is
scrubbed from errors and metadata.

Importing this module is cheap: autoevals, litellm and openai are imported on first use. Nothing
here prints (autoevals' template warnings are captured; litellm's debug hints are switched off).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import functools
import inspect
import io
import json
import math
import numbers
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

__all__ = ["BUILTIN", "JudgeModel", "ScoreResult", "Scorer", "llm_classifier", "resolve_scorer"]

BUILTIN: tuple[str, ...] = ("ExactMatch", "Levenshtein", "NumericDiff", "JSONDiff", "ValidJSON", "ListContains",
                            "Factuality", "ClosedQA")
_LLM_BUILTINS = ("Factuality", "ClosedQA")
_ARGS = ("input", "output", "expected", "metadata")  # what a scorer may ask for, in Braintrust's order
_ERROR_MAX = 500  # characters of an error line


@dataclass
class ScoreResult:
    name: str
    score: Optional[float]  # in [0,1]; None = not applicable / skipped
    metadata: dict = field(default_factory=dict)  # e.g. an LLM judge's rationale and choice
    error: Optional[str] = None  # one line "ValueError: ..." when the scorer raised / returned garbage


@dataclass(frozen=True)
class JudgeModel:
    """The model that answers an LLM judge: one of the project's configured models."""

    model: str  # litellm model string, e.g. "openai/gpt-4o-mini"
    api_base: Optional[str] = None
    key_env: Optional[str] = None  # NAME of the env var holding the key (read at call time, never stored)
    params: dict = field(default_factory=dict, hash=False)  # default call params (temperature, timeout, ...)


class Scorer:
    """What runs call. Subclasses implement ``_run`` (may raise; may return any scorer value)."""

    def __init__(self, name: str, *, llm: bool = False) -> None:
        self.name = name
        self.llm = llm  # LLM judges are slower; runs may bound their concurrency

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}{' llm' if self.llm else ''}>"

    async def score(self, *, input: Any, output: Any, expected: Any = None,
                    metadata: Optional[dict] = None) -> list[ScoreResult]:
        """The scores for one row: usually one, several for a scorer returning several. Never raises
        (except ``asyncio.CancelledError``): a failure is a ``ScoreResult`` with ``error`` and no score."""
        try:
            raw = await self._run(input=input, output=output, expected=expected, metadata=metadata)
            results = _to_results(raw, self.name)
        except asyncio.CancelledError:
            raise
        except (Exception, SystemExit) as exc:  # user code: its failure is the row's error, never the run's
            results = [ScoreResult(self.name, None, error=_error_line(exc))]
        return [self._scrub(r) for r in results]

    async def _run(self, *, input: Any, output: Any, expected: Any, metadata: Any) -> Any:
        raise NotImplementedError

    def _scrub(self, result: ScoreResult) -> ScoreResult:
        return result


# ---------------------------------------------------------------------------------------------------
# Turning whatever a scorer returned into ScoreResults


def _error_line(exc: BaseException) -> str:
    """``"Type: first line of the message"``, without the type repeated at the message's start (litellm
    says "litellm.AuthenticationError: AuthenticationError: OpenAIException - ...")."""
    kind = type(exc).__name__
    text = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    for prefix in (f"litellm.{kind}: ", f"{kind}: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    line = f"{kind}: {text}" if text else kind
    return line if len(line) <= _ERROR_MAX else line[: _ERROR_MAX - 1] + "…"


def _fmt_number(value: Any) -> str:
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return repr(float(value))


def _checked(name: str, value: Any, metadata: Any = None) -> ScoreResult:
    """One score, validated: None, a bool (1/0) or a finite number in [0,1]; else an error."""
    meta = _jsonable(metadata) if metadata else {}
    if not isinstance(meta, dict):
        meta = {"metadata": meta}
    if value is None:
        return ScoreResult(name, None, meta)
    if isinstance(value, bool):
        return ScoreResult(name, 1.0 if value else 0.0, meta)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f) or not 0.0 <= f <= 1.0:
            return ScoreResult(name, None, meta, error=f"ValueError: score {_fmt_number(value)} out of [0,1]")
        return ScoreResult(name, f, meta)
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:79] + "…"
    return ScoreResult(name, None, meta, error=f"ValueError: score {shown} is not a number")


def _is_score_dict(d: dict) -> bool:
    return "score" in d and set(d) <= {"name", "score", "metadata"}


def _one(item: Any, default_name: str) -> ScoreResult:
    """A Score-like object, a {"name","score","metadata"} dict or a bare value."""
    if isinstance(item, dict) and _is_score_dict(item):
        return _checked(str(item.get("name") or default_name), item["score"], item.get("metadata"))
    if not isinstance(item, (dict, list, tuple)) and hasattr(item, "score") and hasattr(item, "name"):
        name = str(getattr(item, "name", None) or default_name)
        err = getattr(item, "error", None)  # autoevals' deprecated Score.error
        if isinstance(err, BaseException):
            return ScoreResult(name, None, error=_error_line(err))
        return _checked(name, getattr(item, "score", None), getattr(item, "metadata", None))
    return _checked(default_name, item)


def _to_results(raw: Any, default_name: str) -> list[ScoreResult]:
    if isinstance(raw, (list, tuple)):
        results = [_one(item, default_name) for item in raw]
    elif isinstance(raw, dict) and not _is_score_dict(raw):
        # {name: score, ...}: several scores (a value may itself be a Score-like dict or object)
        results = [_one(value, str(key)) for key, value in raw.items()]
    else:
        results = [_one(raw, default_name)]
    return results or [ScoreResult(default_name, None)]


def _jsonable(value: Any, depth: int = 0) -> Any:
    """Metadata as plain JSON values (numpy numbers, tuples and objects made storable)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return f if math.isfinite(f) else None
    if depth > 20:
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, depth + 1) for v in value]
    return str(value)


# ---------------------------------------------------------------------------------------------------
# Python callables (Braintrust's custom scorers)


def _callable_name(fn: Any) -> str:
    if isinstance(fn, functools.partial):
        return _callable_name(fn.func)
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and name:
        return "scorer" if name == "<lambda>" else name
    return type(fn).__name__


def _is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return not inspect.isfunction(fn) and not inspect.ismethod(fn) and inspect.iscoroutinefunction(call)


def _call_plan(fn: Any, name: str) -> Optional[tuple[list[tuple[bool, str, str]], list[str]]]:
    """Which of input/output/expected/metadata go to which parameter, read from the signature.

    A parameter named like one of them gets it; another parameter without a default gets the next
    one nobody asked for by name (Braintrust's rule); ``**kwargs`` gets the rest. None: the signature
    can't be read, pass all four as keywords."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    by_name = {p.name for p in params if p.name in _ARGS and p.kind is not p.VAR_POSITIONAL
               and p.kind is not p.VAR_KEYWORD}
    spare = [a for a in _ARGS if a not in by_name]
    plan: list[tuple[bool, str, str]] = []  # (positional?, parameter, source)
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        positional = p.kind is p.POSITIONAL_ONLY
        if p.name in by_name:
            plan.append((positional, p.name, p.name))
        elif p.default is p.empty:
            if not spare:
                raise TypeError(f"scorer {name}: no value for its argument {p.name!r} "
                                f"(a scorer takes input, output, expected, metadata)")
            plan.append((positional, p.name, spare.pop(0)))
    extra = spare if any(p.kind is p.VAR_KEYWORD for p in params) else []
    return plan, extra


class _CallableScorer(Scorer):
    def __init__(self, fn: Callable, name: Optional[str] = None) -> None:
        super().__init__(name or _callable_name(fn))
        self._fn = fn
        self._async = _is_async_callable(fn)
        self._plan = _call_plan(fn, self.name)

    async def _run(self, **values: Any) -> Any:
        if self._plan is None:
            args, kwargs = [], values
        else:
            plan, extra = self._plan
            args = [values[src] for positional, _, src in plan if positional]
            kwargs = {param: values[src] for positional, param, src in plan if not positional}
            kwargs.update((a, values[a]) for a in extra)
        if self._async:
            result = await self._fn(*args, **kwargs)
        else:  # user code may block: keep the event loop free (as Braintrust does, in a thread)
            result = await asyncio.to_thread(self._fn, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


# ---------------------------------------------------------------------------------------------------
# autoevals scorers


def _autoevals():
    import autoevals

    return autoevals


def _needs_json(value: Any) -> bool:
    return isinstance(value, (dict, list))


class _AutoevalsScorer(Scorer):
    """An autoevals (or braintrust-style) scorer instance, called through ``eval_async``."""

    def __init__(self, inst: Any, *, llm: bool, judge: Optional[JudgeModel] = None) -> None:
        name_fn = getattr(inst, "_name", None)
        name = name_fn() if callable(name_fn) else type(inst).__name__
        super().__init__(str(name), llm=llm)
        self._inst = inst
        self._judge = judge
        ae = _autoevals()
        self._kind = next((k for k in ("ExactMatch", "Levenshtein", "NumericDiff", "JSONDiff", "ValidJSON",
                                       "ListContains") if isinstance(inst, getattr(ae, k))), None)
        self._closed_qa = name == "ClosedQA"
        if hasattr(inst, "_render_messages") and hasattr(inst, "messages"):
            _quiet_rendering(inst)

    async def _run(self, *, input: Any, output: Any, expected: Any, metadata: Any) -> Any:
        inst, kind = self._inst, self._kind
        if kind is not None and kind != "ValidJSON" and expected is None:
            # a comparison without a reference is not applicable (autoevals would raise, or score 0)
            return {"name": self.name, "score": None, "metadata": {"skipped": "no expected value"}}
        if kind == "ValidJSON":
            # ValidJSON's second positional argument is its schema (autoevals 0.4 would read the row's
            # expected value as a JSON schema): the instance's schema goes there, never expected. The
            # base class's eval_async: a ValidJSON.partial(schema=...) would pass its schema twice.
            schema = getattr(inst, "schema", None)
            if schema is None and hasattr(inst, "_partial_args"):
                schema = inst._partial_args().get("schema")
            return await _autoevals().Scorer.eval_async(inst, output, schema)
        if kind == "Levenshtein" and (_needs_json(output) or _needs_json(expected)):
            # Objects compare as JSON text, as autoevals' ExactMatch does (str() would give Python's repr)
            from autoevals.value import normalize_value

            output, expected = normalize_value(output, True), normalize_value(expected, True)
        elif kind == "NumericDiff":
            output, expected = _number(output, "output"), _number(expected, "expected")
        elif kind == "ListContains":
            output, expected = _list(output, "output"), _list(expected, "expected")
            try:
                import scipy.optimize  # noqa: F401  (autoevals would print its own hint to stderr)
            except ImportError:
                raise ImportError("ListContains needs scipy: pip install 'autoevals[scipy]'") from None
        if kind in ("JSONDiff", "ListContains"):  # may be slow on big values: off the event loop
            return await asyncio.to_thread(inst.eval, output, expected)
        if kind is not None:
            return await inst.eval_async(output, expected)
        kwargs: dict[str, Any] = {"input": input, "metadata": metadata}
        if self._closed_qa:  # ClosedQA's rubric has a {{criteria}}: the row's metadata.criteria, else empty
            kwargs["criteria"] = metadata.get("criteria") if isinstance(metadata, dict) else None
        missing: list[str] = []
        token = _missing_vars.set(missing)
        try:
            result = await inst.eval_async(output=output, expected=expected, **kwargs)
        finally:
            _missing_vars.reset(token)
        if missing and getattr(result, "metadata", None) is not None:
            result.metadata = {**result.metadata, "missing_variables": sorted(set(missing))}
        return result

    def _scrub(self, result: ScoreResult) -> ScoreResult:
        secret = _secret(self._judge)
        if not secret:
            return result
        if result.error and secret in result.error:
            result.error = result.error.replace(secret, "***")
        if result.metadata and secret in json.dumps(result.metadata, default=str):
            result.metadata = _replace_in(result.metadata, secret)
        return result


def _number(value: Any, what: str) -> Any:
    """NumericDiff compares numbers: a model's "42" (text) counts as 42."""
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"NumericDiff: {what} {value[:40]!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"NumericDiff: {what} {type(value).__name__} is not a number")
    return value


def _list(value: Any, what: str) -> list:
    """ListContains compares lists: a JSON array in text counts as that list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"ListContains: {what} is a {type(value).__name__}, not a list")
    return list(value)


def _secret(judge: Optional[JudgeModel]) -> Optional[str]:
    if judge is None or not judge.key_env:
        return None
    value = os.environ.get(judge.key_env)
    return value if value and len(value) >= 4 else None


def _replace_in(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, "***")
    if isinstance(value, dict):
        return {k: _replace_in(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_in(v, secret) for v in value]
    return value


# autoevals renders rubrics with chevron(warn=True), which writes "Could not find key 'x'" to stderr for a
# variable the row lacks. Engine code prints nothing: the warning is captured and kept in the score's
# metadata (missing_variables). Rendering is synchronous; the lock keeps concurrent swaps in order.
_STDERR_LOCK = threading.Lock()
_missing_vars: contextvars.ContextVar[Optional[list]] = contextvars.ContextVar("bt_missing_vars", default=None)


def _quiet_rendering(inst: Any) -> None:
    render = inst._render_messages

    def quiet_render(**kwargs: Any) -> Any:
        buf = io.StringIO()
        with _STDERR_LOCK, contextlib.redirect_stderr(buf):
            messages = render(**kwargs)
        found = _missing_vars.get()
        if found is not None:
            found.extend(re.findall(r"Could not find key '([^']*)'", buf.getvalue()))
        return messages

    inst._render_messages = quiet_render


# ---------------------------------------------------------------------------------------------------
# LLM judges through litellm


def _litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" lines on the terminal
    return litellm


# autoevals arguments that are not litellm's
_AUTOEVALS_ONLY = ("use_responses_api", "span_info")


class _JudgeCompletions:
    """``chat.completions`` of the OpenAI-shaped client autoevals calls: ``litellm.acompletion`` with the
    judge model, its api base and its key (read from the environment now, never kept)."""

    def __init__(self, judge: JudgeModel) -> None:
        self._judge = judge

    def _args(self, kwargs: dict) -> dict:
        judge = self._judge
        args = {**judge.params, **{k: v for k, v in kwargs.items() if k not in _AUTOEVALS_ONLY}}
        key = None
        if judge.key_env:
            key = os.environ.get(judge.key_env)
            if not key:
                raise RuntimeError(f"the judge model's key variable {judge.key_env} is not set")
        args.update(model=judge.model, api_base=judge.api_base, api_key=key, num_retries=2)
        args.setdefault("timeout", 120)
        return args

    async def create(self, **kwargs: Any) -> dict:
        args = self._args(kwargs)
        return _response_dict(await _litellm().acompletion(**args))


def _response_dict(resp: Any) -> dict:
    """litellm's ModelResponse as the chat-completion dict autoevals reads (no ``tool_calls: None``:
    autoevals then says "No tool call found in response")."""
    data = resp.model_dump() if hasattr(resp, "model_dump") else dict(resp)
    for choice in data.get("choices") or []:
        message = choice.get("message") or {}
        if message.get("tool_calls") is None:
            message.pop("tool_calls", None)
    return data


class _Unsupported:
    def __init__(self, what: str) -> None:
        self._what = what

    def create(self, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{self._what} are not supported for judge models")


class _JudgeOpenAI:
    """The OpenAI v1 client shape (``client.chat.completions.create``) over litellm."""

    def __init__(self, judge: JudgeModel) -> None:
        self.chat = type("Chat", (), {})()
        self.chat.completions = _JudgeCompletions(judge)
        self.embeddings = _Unsupported("embeddings")
        self.moderations = _Unsupported("moderations")
        self.responses = _Unsupported("responses")


class _NeverRaised(Exception):
    """autoevals retries its client's RateLimitError up to 100 times; litellm retries (num_retries) instead."""


@functools.lru_cache(maxsize=1)
def _judge_client_class() -> type:
    from autoevals.oai import LLMClient

    @dataclass
    class JudgeLLMClient(LLMClient):
        # LLMClient's own setup imports openai, may wrap the client for Braintrust tracing, and sends
        # gpt-5 models to the Responses API; a judge needs none of that: it completes through litellm.
        def __post_init__(self) -> None:
            self.complete = self.openai.chat.completions.create
            self.embed = self.openai.embeddings.create
            self.moderation = self.openai.moderations.create
            self.RateLimitError = _NeverRaised
            self.is_async = True
            self._is_wrapped = False

    return JudgeLLMClient


def _judge_client(judge: JudgeModel) -> Any:
    return _judge_client_class()(openai=_JudgeOpenAI(judge), is_async=True)


def _need_judge(name: str, judge: Optional[JudgeModel]) -> JudgeModel:
    if judge is None:
        raise ValueError(f"{name} is an LLM judge: pick a model (--judge NAME)")
    if not isinstance(judge, JudgeModel):
        raise TypeError(f"judge must be a JudgeModel, not {type(judge).__name__}")
    return judge


def llm_classifier(name: str, prompt_template: str, choice_scores: dict[str, float], *, use_cot: bool = True,
                   judge: JudgeModel) -> Scorer:
    """A custom rubric (autoevals' LLMClassifier): the judge picks one of ``choice_scores``' keys for the
    mustache ``prompt_template`` (``{{input}}``, ``{{output}}``, ``{{expected}}``, ``{{metadata.x}}``)."""
    judge = _need_judge(name, judge)
    if not choice_scores:
        raise ValueError(f"{name}: choice_scores is empty")
    for choice, value in choice_scores.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(f"{name}: the score of choice {choice!r} must be a number in [0,1], not {value!r}")
    from autoevals.llm import LLMClassifier

    inst = LLMClassifier(name, prompt_template, dict(choice_scores), model=judge.model, use_cot=use_cot,
                         client=_judge_client(judge))
    return _AutoevalsScorer(inst, llm=True, judge=judge)


# ---------------------------------------------------------------------------------------------------
# resolve_scorer


def _is_llm_class(cls: type) -> bool:
    from autoevals.llm import OpenAIScorer

    return issubclass(cls, OpenAIScorer)


def _accepts(fn: Any, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def _from_class(cls: type, judge: Optional[JudgeModel]) -> Scorer:
    if not _is_llm_class(cls):
        inst = cls()
        return _AutoevalsScorer(inst, llm=hasattr(inst, "client"))  # e.g. EmbeddingSimilarity calls a model
    judge = _need_judge(cls.__name__, judge)
    ctor = cls.__new__ if cls.__new__ is not object.__new__ else cls.__init__
    kwargs: dict[str, Any] = {"client": _judge_client(judge)}
    if _accepts(ctor, "model"):
        kwargs["model"] = judge.model
    return _AutoevalsScorer(cls(**kwargs), llm=True, judge=judge)


def _from_instance(inst: Any, judge: Optional[JudgeModel]) -> Scorer:
    from autoevals.llm import OpenAIScorer

    if not isinstance(inst, OpenAIScorer):
        return _AutoevalsScorer(inst, llm=hasattr(inst, "client"))
    inst = copy.copy(inst)  # the user's object keeps its settings
    if getattr(inst, "client", None) is not None:  # the user gave it a client of their own: theirs to use
        return _AutoevalsScorer(inst, llm=True)
    name_fn = getattr(inst, "_name", None)
    judge = _need_judge(name_fn() if callable(name_fn) else type(inst).__name__, judge)
    inst.client = _judge_client(judge)
    if hasattr(inst, "model"):
        inst.model = judge.model
    return _AutoevalsScorer(inst, llm=True, judge=judge)


def resolve_scorer(spec: Any, *, judge: Optional[JudgeModel] = None) -> Scorer:
    """A Scorer for ``spec``: a builtin name (case-insensitive, see :data:`BUILTIN`), an autoevals scorer
    class or instance, a Scorer, or any callable (see the module). LLM judges need ``judge``."""
    if isinstance(spec, Scorer):
        return spec
    if isinstance(spec, str):
        wanted = spec.strip().lower()
        name = next((b for b in BUILTIN if b.lower() == wanted), None)
        if name is None:
            raise ValueError(f"unknown scorer {spec!r}; one of {', '.join(BUILTIN)}")
        if name in _LLM_BUILTINS:
            _need_judge(name, judge)
        return _from_class(getattr(_autoevals(), name), judge)
    if isinstance(spec, type) and callable(getattr(spec, "eval_async", None)):
        return _from_class(spec, judge)
    if not isinstance(spec, type) and callable(getattr(spec, "eval_async", None)):
        return _from_instance(spec, judge)
    if callable(spec):
        return _CallableScorer(spec)
    raise TypeError(f"not a scorer: {spec!r} (a builtin name, an autoevals scorer or a callable)")
