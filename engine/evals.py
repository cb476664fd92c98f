"""The eval runner behind ``bt_tui.Eval`` and ``bt-tui eval`` (Braintrust's evaluation loop).

An :class:`EvalDef` is what one ``Eval(...)`` call registers: data, a task, scorers and options.
:func:`run_eval` runs it over the store:

- **data**: a list of ``{input, expected, metadata, tags}`` dicts (or objects with those
  attributes, e.g. Braintrust's ``EvalCase``), a callable returning one (sync or async), an
  iterator / generator / async iterator, or a dataset from ``bt_tui.init_dataset`` (its
  records, as of a version; record ids go to ``metadata.record_id`` and the experiment records
  the dataset and version). A bad row (not a dict, no input) is that row's error, naming its
  index; the run goes on.
- **task**: sync (run in a thread of the run's own pool, so ``max_concurrency`` sync tasks
  really run at once) or async; ``task(input)`` or ``task(input, hooks)`` when it takes two
  parameters (Braintrust's rule). ``hooks.metadata`` (merged into the row's metadata),
  ``hooks.expected``, ``hooks.tags``, ``hooks.trial_index``, ``hooks.span.log(...)``,
  ``hooks.meta(...)``. An exception is the row's error (one line), scorers are not run on it.
- **model calls** from a task (``bt_tui.completion`` / ``acompletion``) go through ONE shared
  :class:`engine.llm.LLMClient` per run and are traced as ``llm`` children of the row's
  ``task`` span: a context variable (:data:`_ROW`) finds the current row, even from a sync
  task's thread (the call is sent to the run's loop with ``run_coroutine_threadsafe``).
- **scorers** through :func:`engine.scorers.resolve_scorer`; a scorer's failure is that score's
  error on the row.
- **trials**: each case runs ``trial_count`` times, each a trace with ``metadata.trial``.
- **concurrency**: at most ``max_concurrency`` rows in flight (default 20); the client's own
  bound is the same, so a task that calls a model once runs at calls x latency / concurrency.
- every row is a trace (``eval`` root, ``task`` span and its ``llm`` spans, a ``score`` span
  per score) written by :class:`engine.runs.TraceWriter` (batched, off the loop), into an
  experiment (``store.experiments``); cancelled runs are marked ``cancelled`` and keep what
  finished.

:class:`EvalSummary` is Braintrust's summary text (``77.78% 'Levenshtein' score``; against a base
``80.00% (+20.00%) 'no_error' score\\t(1 improvements, 0 regressions)``), then bt-tui's own lines
(whether each change is real or could be noise, errors, how to open the experiment). Diffs,
improvements and regressions come from :func:`store.compare.compare_experiments`.

Discovery (:func:`load_eval_file`): a file is imported under a unique module name (its
directory on ``sys.path``) while :func:`collecting` is on, so each ``Eval(...)`` registers
instead of running. Nothing here imports textual or litellm, and nothing prints.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import importlib.util
import inspect
import itertools
import json
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

DEFAULT_CONCURRENCY = 20
ERROR_MAX = 500

__all__ = ["EvalDef", "EvalHooks", "EvalResult", "EvalSummary", "EvalFileError", "Case", "Dataset",
           "run_eval", "load_eval_file", "eval_files", "collecting", "summarize", "ExperimentLogger",
           "make_eval_def", "DEFAULT_CONCURRENCY", "RunContext"]


# --- what an Eval(...) call registers -----------------------------------------------------------

@dataclass
class EvalDef:
    name: str
    data: Any
    task: Callable
    scores: list = field(default_factory=list)
    experiment_name: Optional[str] = None
    metadata: dict = field(default_factory=dict)
    max_concurrency: Optional[int] = None
    trial_count: int = 1
    base_experiment: Optional[str] = None
    project: Optional[str] = None  # default: the name (Braintrust: the first argument names the project)
    description: Optional[str] = None
    timeout: Optional[float] = None  # seconds for the whole eval; rows unfinished then are cancelled
    tags: list = field(default_factory=list)  # added to every row's tags
    source: Optional[str] = None  # the file that defined it

    @property
    def project_name(self) -> str:
        return self.project or self.name


# Braintrust's documented Eval() keywords we accept and ignore (they concern its server).
_IGNORED = ("is_public", "update", "reporter", "project_id", "base_experiment_id", "git_metadata_settings",
            "repo_info", "summarize_scores", "no_send_logs", "state", "enable_cache", "parent", "on_start",
            "stream", "parameters", "error_score_handler", "classifiers", "cancel_event")
_KNOWN = ("name", "data", "task", "scores", "experiment_name", "metadata", "max_concurrency", "trial_count",
          "base_experiment", "base_experiment_name", "project", "description", "timeout", "tags")


def make_eval_def(name: Any, data: Any = None, task: Any = None, scores: Any = None, **kw: Any) -> EvalDef:
    """An EvalDef from Braintrust-style ``Eval`` arguments. Unknown keywords: a TypeError that
    lists the known ones."""
    unknown = sorted(k for k in kw if k not in _KNOWN and k not in _IGNORED)
    if unknown:
        raise TypeError(f"Eval() got unexpected keyword argument{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(map(repr, unknown))} (it takes {', '.join(_KNOWN[1:])})")
    if not isinstance(name, str) or not name.strip():
        raise TypeError("Eval() needs a name (a non-empty string): Eval('my eval', data=..., task=..., scores=[...])")
    if data is None:
        raise TypeError(f"Eval({name!r}): data= is missing")
    if task is None or not callable(task):
        raise TypeError(f"Eval({name!r}): task= must be a function")
    scores = list(scores or [])
    trial_count = kw.get("trial_count", 1)
    if not isinstance(trial_count, int) or isinstance(trial_count, bool) or trial_count < 1:
        raise TypeError(f"Eval({name!r}): trial_count must be a whole number >= 1, not {trial_count!r}")
    mc = kw.get("max_concurrency")
    if mc is not None and (not isinstance(mc, int) or isinstance(mc, bool) or mc < 1):
        raise TypeError(f"Eval({name!r}): max_concurrency must be a whole number >= 1, not {mc!r}")
    metadata = kw.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise TypeError(f"Eval({name!r}): metadata must be a dict")
    from .scorers import resolve_scorer

    for s in scores:  # a bad scorer is a mistake in the file: say so before anything runs
        resolve_scorer(s) if not _is_llm_builtin(s) else None
    return EvalDef(name=name, data=data, task=task, scores=scores, experiment_name=kw.get("experiment_name"),
                   metadata=dict(metadata), max_concurrency=mc, trial_count=trial_count,
                   base_experiment=kw.get("base_experiment") or kw.get("base_experiment_name"),
                   project=kw.get("project"), description=kw.get("description"), timeout=kw.get("timeout"),
                   tags=list(kw.get("tags") or []))


def _is_llm_builtin(s: Any) -> bool:
    from .scorers import _LLM_BUILTINS

    return isinstance(s, str) and s.strip().lower() in {b.lower() for b in _LLM_BUILTINS}


# --- collecting Evals from files ----------------------------------------------------------------

_collecting: Optional[list] = None
_collect_lock = threading.Lock()


def is_collecting() -> bool:
    return _collecting is not None


def register(defn: EvalDef) -> None:
    if _collecting is not None:
        _collecting.append(defn)


@contextlib.contextmanager
def collecting():
    """While on, ``Eval(...)`` registers its EvalDef (yielded list) instead of running it."""
    global _collecting
    with _collect_lock:
        previous, _collecting = _collecting, []
        try:
            yield _collecting
        finally:
            _collecting = previous


class EvalFileError(Exception):
    """A file that cannot be run (missing, not importable): one line naming the file and line."""


_counter = itertools.count(1)


def eval_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files to run: each FILE.py as given, each DIR's ``eval_*.py`` files (recursively,
    sorted). A missing path or a non-.py file: EvalFileError."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(f for f in path.rglob("eval_*.py") if "__pycache__" not in f.parts)
            if not found:
                raise EvalFileError(f"{path}: no eval_*.py files in this directory")
            out.extend(found)
        elif path.is_file():
            if path.suffix != ".py":
                raise EvalFileError(f"{path}: not a Python file (give FILE.py or a directory of eval_*.py files)")
            out.append(path)
        else:
            raise EvalFileError(f"{path}: no such file or directory")
    seen: set = set()
    return [f for f in out if not (f.resolve() in seen or seen.add(f.resolve()))]


def _where(path: Path, exc: BaseException) -> str:
    """``file:line`` of the failure: a SyntaxError's own position, else the deepest frame of
    the traceback in ``path`` (else the deepest frame at all)."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    target = str(path.resolve())
    mine = [f for f in frames if f.filename and os.path.abspath(f.filename) == target]
    frame = (mine or frames or [None])[-1]
    if frame is None:
        return str(path)
    return f"{frame.filename}:{frame.lineno}"


def load_eval_file(path: str | os.PathLike) -> list[EvalDef]:
    """Import ``path`` (not as __main__, under a unique module name, its directory first on
    sys.path) and return the Evals it defines. A file that fails to import: EvalFileError with
    one line, ``FILE:LINE: Type: message``."""
    path = Path(path)
    directory = str(path.resolve().parent)
    mod_name = f"_bt_tui_eval_{next(_counter)}_{''.join(c if c.isalnum() else '_' for c in path.stem)}"
    added = directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        spec = importlib.util.spec_from_file_location(mod_name, str(path))
        if spec is None or spec.loader is None:
            raise EvalFileError(f"{path}: cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        with collecting() as found:
            try:
                spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:  # user code: one line, never a traceback
                sys.modules.pop(mod_name, None)
                if isinstance(exc, SyntaxError):
                    msg = exc.msg
                else:
                    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                line = f"{_where(path, exc)}: {type(exc).__name__}" + (f": {msg}" if msg else "")
                raise EvalFileError(line) from None
        for d in found:
            d.source = str(path)
        return list(found)
    finally:
        if added:
            try:
                sys.path.remove(directory)
            except ValueError:
                pass


# --- data ---------------------------------------------------------------------------------------

class Dataset:
    """A dataset of the store as an Eval's data (``bt_tui.init_dataset``): its records as of
    ``version`` (None: the latest, resolved when the eval runs). Iterating it reads the records."""

    def __init__(self, project: str, name: str, version: Optional[int] = None, db: Optional[str] = None):
        self.project = project
        self.name = name
        self.version = version
        self.db = db

    def _store(self):
        from store import Store

        return Store(resolve_db(self.db))

    def records(self, store=None) -> tuple[int, list]:
        """(the version read, the records)."""
        from .playground import dataset_rows

        own = store is None
        store = store or self._store()
        try:
            return dataset_rows(store, self.project, self.name, self.version)
        finally:
            if own:
                store.close()

    def __iter__(self):
        _, rows = self.records()
        for r in rows:
            yield {"id": r.id, "input": r.input, "expected": r.expected, "metadata": dict(r.metadata or {}),
                   "origin": r.origin}

    def insert(self, input: Any = None, expected: Any = None, metadata: Optional[dict] = None,
               tags: Optional[list] = None, id: Optional[str] = None) -> str:
        """Add (or, with an existing ``id``, update) one record: a new version of the dataset."""
        from store.datasets import new_record_id, upsert_records

        rid = id or new_record_id()
        store = self._store()
        try:
            upsert_records(store, self.project, self.name, [{"id": rid, "input": input, "expected": expected,
                                                             "metadata": metadata or {}, "tags": tags or []}])
        finally:
            store.close()
        return rid

    def __repr__(self) -> str:
        return f"<Dataset {self.project}/{self.name}{'' if self.version is None else '@' + str(self.version)}>"


@dataclass
class Case:
    index: int
    input: Any = None
    expected: Any = None
    metadata: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    record_id: Optional[str] = None
    origin: Optional[dict] = None
    error: Optional[str] = None  # a bad data row


_MISSING = object()


def _case(i: int, item: Any) -> Case:
    if isinstance(item, dict):
        get = item.get
        has_input = "input" in item
    elif hasattr(item, "input"):
        def get(k, default=None):
            return getattr(item, k, default)
        has_input = True
    else:
        return Case(i, error=f"data row {i}: expected a dict with an input (or an EvalCase), "
                             f"got {type(item).__name__}")
    if not has_input:
        keys = ", ".join(sorted(map(str, item))) or "none"
        return Case(i, error=f"data row {i}: no input (its keys: {keys})")
    meta = get("metadata") or {}
    if not isinstance(meta, dict):
        return Case(i, input=get("input"), error=f"data row {i}: metadata must be a dict, "
                                                 f"not {type(meta).__name__}")
    tags = get("tags") or []
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        return Case(i, input=get("input"), error=f"data row {i}: tags must be a list of strings")
    rid = get("id")
    return Case(i, input=get("input"), expected=get("expected"), metadata=dict(meta), tags=list(tags),
                record_id=str(rid) if rid is not None else None, origin=get("origin"))


async def load_cases(data: Any, store) -> tuple[list[Case], Optional[Dataset], Optional[int]]:
    """The cases of an Eval's data, plus the dataset and version when it came from one."""
    if callable(data) and not isinstance(data, Dataset):
        data = data()
        if inspect.isawaitable(data):
            data = await data
    if isinstance(data, Dataset):
        version, rows = data.records(store)
        cases = [Case(i, input=r.input, expected=r.expected, metadata=dict(r.metadata or {}), record_id=r.id,
                      origin=r.origin) for i, r in enumerate(rows)]
        return cases, data, version
    items: list = []
    if hasattr(data, "__aiter__"):
        async for item in data:
            items.append(item)
    elif isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
        raise TypeError(f"data must be a list of cases, a function returning one, an iterator or a dataset "
                        f"(init_dataset), not {type(data).__name__}")
    else:
        items = list(data)
    return [_case(i, item) for i, item in enumerate(items)], None, None


# --- hooks and spans ----------------------------------------------------------------------------

class TaskSpan:
    """The row's task span as a task sees it (``hooks.span``): ``log(...)`` adds to it."""

    def __init__(self, row: "RowState"):
        self._row = row

    @property
    def id(self) -> str:
        return self._row.task_span_id

    @property
    def root_span_id(self) -> str:
        return self._row.root_span_id

    def log(self, **event: Any) -> None:
        allowed = {"input", "output", "expected", "metadata", "metrics", "scores", "tags", "error"}
        bad = sorted(set(event) - allowed)
        if bad:
            raise TypeError(f"span.log() got unexpected keys {', '.join(bad)} (it takes {', '.join(sorted(allowed))})")
        for k, v in event.items():
            if k in ("metadata", "metrics", "scores") and isinstance(v, dict):
                self._row.task_extra.setdefault(k, {}).update(v)
            else:
                self._row.task_extra[k] = v


class EvalHooks:
    """What a two-parameter task gets (Braintrust's EvalHooks): ``metadata`` (a mutable dict merged
    into the row's metadata), ``expected``, ``tags``, ``trial_index``, ``span``, ``meta(**kw)``."""

    def __init__(self, row: "RowState", case: Case, trial: int):
        self.metadata: dict = dict(case.metadata)
        self.expected = case.expected
        self.tags: list = list(case.tags)
        self.trial_index = trial
        self.span = TaskSpan(row)
        self.parameters = None

    def meta(self, **info: Any) -> None:
        self.metadata.update(info)

    def report_progress(self, event: Any) -> None:  # Braintrust's streaming progress: nothing to show here
        return None


@dataclass
class RowState:
    """One row (case x trial) while it runs: its span ids and the model calls made in it."""
    run: "RunContext"
    root_span_id: str
    task_span_id: str
    calls: list = field(default_factory=list)  # CallResult
    task_extra: dict = field(default_factory=dict)


_ROW: contextvars.ContextVar[Optional[RowState]] = contextvars.ContextVar("bt_tui_eval_row", default=None)
_RUN: contextvars.ContextVar[Optional["RunContext"]] = contextvars.ContextVar("bt_tui_eval_run", default=None)


def current_row() -> Optional[RowState]:
    return _ROW.get()


def current_run() -> Optional["RunContext"]:
    return _RUN.get()


# Where the public API looks for the database and project when not told (the CLI sets them).
active_db: Optional[str] = None
active_project: Optional[str] = None


def resolve_db(db: Optional[str] = None) -> Path:
    from store.paths import resolve_db_path

    run = _RUN.get()
    if db is None and run is not None and run.db_path is not None:
        return Path(run.db_path)
    return resolve_db_path(db or active_db)


class CompletionError(RuntimeError):
    """A model call inside a task failed (after retries): the row's error."""


class Completion(str):
    """The answer text of ``bt_tui.completion`` (a str), with ``.output``, ``.usage`` (prompt,
    completion, total tokens), ``.cost`` and ``.call`` (the engine's CallResult)."""

    call: Any
    usage: dict
    cost: Optional[float]

    def __new__(cls, call):
        self = super().__new__(cls, call.output or "")
        self.call = call
        self.usage = {"prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens,
                      "total_tokens": call.tokens}
        self.cost = call.cost
        return self

    @property
    def output(self) -> str:
        return str(self)


class RunContext:
    """What every row of one run shares: the store, the loop, ONE LLM client, model configs."""

    def __init__(self, store, project: str, *, concurrency: int, db_path: Optional[str] = None,
                 client=None, timeout: float = 120.0, retries: int = 3):
        from .llm import LLMClient
        from .offline import OfflineModel

        self.store = store
        self.project = project
        self.db_path = db_path
        self.client = client or LLMClient(concurrency=concurrency, timeout=timeout, max_retries=retries,
                                          offline=OfflineModel(store, project))
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.models_used: dict[str, int] = {}
        self._specs: dict[str, Any] = {}
        self.cancelled = threading.Event()

    def spec(self, name: str):
        spec = self._specs.get(name)
        if spec is None:
            from store.errors import NotFound
            from store.model_configs import get_model, list_models

            from .runs import model_spec

            try:
                cfg = get_model(self.store, name)
            except NotFound:
                names = ", ".join(m.name for m in list_models(self.store))
                raise ValueError(f"no model configuration named {name!r} (configured: {names}; "
                                 f"add one with `bt-tui model add`)") from None
            if cfg.key_env and not os.environ.get(cfg.key_env):
                raise ValueError(f"model {name!r} reads its key from {cfg.key_env}, which is not set")
            spec = self._specs[name] = model_spec(cfg)
        return spec

    async def complete(self, model: str, messages: list, params: dict, row: Optional[RowState]):
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
        if self.cancelled.is_set():
            raise asyncio.CancelledError()
        spec = self.spec(model)
        response_format = params.pop("response_format", None)
        call = await self.client.complete(spec, messages, params=params, response_format=response_format)
        self.models_used[spec.name] = self.models_used.get(spec.name, 0) + 1
        if row is not None:
            row.calls.append(call)
        if call.error:
            raise CompletionError(call.error)
        return Completion(call)


# --- the run ------------------------------------------------------------------------------------

def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error_line(exc: BaseException) -> str:
    kind = type(exc).__name__
    text = " ".join(str(exc).split())
    line = f"{kind}: {text}" if text else kind
    return line if len(line) <= ERROR_MAX else line[: ERROR_MAX - 1] + "…"


def _takes_hooks(task: Callable) -> bool:
    try:
        return len(inspect.signature(task).parameters) == 2
    except (TypeError, ValueError):
        return False


def _is_async(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return not inspect.isfunction(fn) and not inspect.ismethod(fn) and inspect.iscoroutinefunction(call)


@dataclass
class RowResult:
    case: Case
    trial: int
    output: Any = None
    error: Optional[str] = None
    scores: dict = field(default_factory=dict)
    score_errors: dict = field(default_factory=dict)
    root_span_id: Optional[str] = None
    tokens: int = 0
    cost: Optional[float] = None
    duration: float = 0.0


@dataclass
class EvalResult:
    """A finished (or cancelled) eval: its experiment, every row's result, the summary."""
    defn: EvalDef
    experiment: Any  # store.experiments.ExperimentInfo (as finished)
    results: list = field(default_factory=list)  # RowResult
    cancelled: bool = False
    timed_out: bool = False
    summary: Optional["EvalSummary"] = None
    score_order: list = field(default_factory=list)  # score names in the order the scorers gave them

    @property
    def errors(self) -> list:
        return [r for r in self.results if r.error]

    def __str__(self) -> str:
        return self.summary.text() if self.summary else f"eval {self.defn.name}: {len(self.results)} rows"


async def _score_row(scorers, case: Case, output: Any, expected: Any, metadata: dict) -> list:
    results = await asyncio.gather(*(s.score(input=case.input, output=output, expected=expected, metadata=metadata)
                                     for s in scorers))
    return [r for rs in results for r in rs]


def _jsonable(value: Any) -> Any:
    """A task's output as the store can keep it: JSON values as they are, else their repr-ish text."""
    import orjson

    try:
        orjson.dumps(value)
        return value
    except TypeError:
        from .scorers import _jsonable as conv

        return conv(value)


async def run_eval(defn: EvalDef, store, *, project: Optional[str] = None, name: Optional[str] = None,
                   max_concurrency: Optional[int] = None, trials: Optional[int] = None,
                   on_progress: Optional[Callable[[int, int], None]] = None, author: Optional[str] = None,
                   db_path: Optional[str] = None, client=None, judge=None,
                   cancel: Optional[asyncio.Event] = None) -> EvalResult:
    """Run ``defn`` and store it as an experiment. ``on_progress(done, total)`` after each row.
    ``cancel`` (an asyncio.Event) stops it: rows in flight are cancelled, what finished is kept,
    the experiment is marked cancelled. Raises only for bad data or scorers (before any row)."""
    from store import datasets as ds_store
    from store import experiments as ex_store

    from .runs import TraceWriter
    from .scorers import resolve_scorer

    project = project or defn.project_name
    concurrency = max_concurrency or defn.max_concurrency or DEFAULT_CONCURRENCY
    n_trials = trials or defn.trial_count or 1
    scorers = [resolve_scorer(s, judge=judge) for s in defn.scores]
    ctx = RunContext(store, project, concurrency=concurrency, db_path=db_path, client=client)
    ctx.loop = asyncio.get_running_loop()
    run_token = _RUN.set(ctx)
    try:
        cases, dataset, version = await load_cases(defn.data, store)
    finally:
        _RUN.reset(run_token)
    ds_id = None
    if dataset is not None:
        ds_id = ds_store.get_dataset(store, dataset.project, dataset.name).id
    meta = {"eval": defn.name, **defn.metadata}
    if defn.description:
        meta.setdefault("description", defn.description)
    if defn.source:
        meta.setdefault("source", defn.source)
    if n_trials > 1:
        meta["trial_count"] = n_trials
    exp = ex_store.create_experiment(store, project, name or defn.experiment_name or defn.name, dataset_id=ds_id,
                                     dataset_version=version, metadata=meta, author=author)
    writer = TraceWriter(store, exp.rows_project).start()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bt-eval-task")
    sem = asyncio.Semaphore(concurrency)
    total = len(cases) * n_trials
    done = 0
    results: list[RowResult] = []
    hooks_wanted = _takes_hooks(defn.task)
    task_async = _is_async(defn.task)

    async def run_one(case: Case, trial: int) -> None:
        nonlocal done
        async with sem:
            row = RowState(ctx, uuid.uuid4().hex, uuid.uuid4().hex)
            res = RowResult(case, trial, root_span_id=row.root_span_id)
            hooks = EvalHooks(row, case, trial)
            t0 = time.time()
            output = None
            error = case.error
            if error is None:
                token = _ROW.set(row)
                rtoken = _RUN.set(ctx)
                try:
                    args = (case.input, hooks) if hooks_wanted else (case.input,)
                    if task_async:
                        output = await defn.task(*args)
                    else:
                        cctx = contextvars.copy_context()
                        output = await ctx.loop.run_in_executor(pool, lambda: cctx.run(defn.task, *args))
                        if inspect.isawaitable(output):
                            output = await output
                except asyncio.CancelledError:
                    raise
                except (Exception, SystemExit) as exc:  # user code: the row's error, the run goes on
                    error = error_line(exc)
                finally:
                    _ROW.reset(token)
                    _RUN.reset(rtoken)
            t1 = time.time()
            output = _jsonable(output)
            metadata = {**hooks.metadata}
            score_results = []
            if error is None and scorers:
                score_results = await _score_row(scorers, case, output, hooks.expected, metadata)
            t2 = time.time()
            res.output, res.error = output, error
            res.scores = {r.name: r.score for r in score_results}
            res.score_errors = {r.name: r.error for r in score_results if r.error}
            res.duration = t1 - t0
            spans = _row_spans(defn, case, trial, row, hooks, output, error, score_results, t0, t1, t2, res)
            writer.add(spans)
            results.append(res)
            done += 1
            if on_progress:
                on_progress(done, total)

    if on_progress:
        on_progress(0, total)
    tasks = [asyncio.ensure_future(run_one(c, t)) for c in cases for t in range(n_trials)]
    cancelled = timed_out = False
    waiter = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        waits = {waiter} | ({stopper} if stopper else set())
        finished, _ = await asyncio.wait(waits, timeout=defn.timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in finished:
            cancelled = True
            timed_out = stopper is None or stopper not in finished
            ctx.cancelled.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise t.exception()
    except asyncio.CancelledError:
        cancelled = True
        ctx.cancelled.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if stopper is not None:
            stopper.cancel()
        waiter.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            await writer.close()
        finally:
            status = "cancelled" if cancelled else "complete"
            model = next(iter(ctx.models_used)) if len(ctx.models_used) == 1 else None
            _finish(store, exp, status, model)
    info = ex_store.get_experiment(store, project, exp.name)
    order = {}
    for r in results:
        for k in r.scores:
            order.setdefault(k, len(order))
    results.sort(key=lambda r: (r.case.index, r.trial))
    return EvalResult(defn, info, results, cancelled=cancelled, timed_out=timed_out, score_order=list(order))


def _finish(store, exp, status: str, model: Optional[str]) -> None:
    from store import experiments as ex_store

    ex_store.finish_experiment(store, exp, status, model=model or None)  # the one model a run used, if any


def _row_spans(defn: EvalDef, case: Case, trial: int, row: RowState, hooks: EvalHooks, output: Any,
               error: Optional[str], score_results: list, t0: float, t1: float, t2: float,
               res: RowResult) -> list[dict]:
    from .llm import llm_span
    from .runs import score_span

    root, task = row.root_span_id, row.task_span_id
    meta = dict(hooks.metadata)
    if case.record_id is not None:
        meta["record_id"] = case.record_id
    if case.origin:
        meta.setdefault("origin", case.origin)
    meta["trial"] = trial
    p = c = t = 0
    cost = None
    for call in row.calls:
        p += call.prompt_tokens or 0
        c += call.completion_tokens or 0
        t += call.tokens or 0
        if call.cost is not None:
            cost = (cost or 0.0) + call.cost
    metrics = {"start": t0, "end": t2, "duration": t1 - t0}
    if row.calls:
        metrics.update(prompt_tokens=p, completion_tokens=c, tokens=t)
        if cost is not None:
            metrics["estimated_cost"] = cost
    res.tokens, res.cost = t, cost
    tags = list(dict.fromkeys([*hooks.tags, *defn.tags]))
    scores = {r.name: r.score for r in score_results}
    spans = [{
        "id": root, "span_id": root, "root_span_id": root, "span_parents": None, "created": _iso(t0),
        "input": _jsonable(case.input), "output": output, "expected": _jsonable(hooks.expected), "error": error,
        "scores": scores, "metadata": _jsonable(meta), "metrics": metrics, "tags": [str(x) for x in tags],
        "span_attributes": {"name": "eval", "type": "eval"},
    }]
    extra = {k: _jsonable(v) for k, v in row.task_extra.items()}
    task_span = {
        "id": task, "span_id": task, "root_span_id": root, "span_parents": [root], "created": _iso(t0),
        "input": extra.get("input", spans[0]["input"]), "output": extra.get("output", output),
        "error": extra.get("error", error), "metrics": {"start": t0, "end": t1, **(extra.get("metrics") or {})},
        "span_attributes": {"name": "task", "type": "task"},
    }
    for k in ("metadata", "scores", "tags", "expected"):
        if k in extra:
            task_span[k] = extra[k]
    spans.append(task_span)
    for call in row.calls:
        spans.append(llm_span(call, root_span_id=root, parent_span_id=task))
    spans.extend(score_span(r, root, t1, t2) for r in score_results)
    return spans


# --- the summary --------------------------------------------------------------------------------

def _pct(v: float) -> str:
    return f"{v * 100:05.2f}%"


def _signed_pct(v: float, digits: int = 1) -> str:
    return f"{v * 100:+.{digits}f}%"


@dataclass
class EvalSummary:
    """Braintrust's summary of an experiment (against a base when there is one), plus bt-tui's
    lines: each change's interval (real or could be noise), errors, how to open it."""
    name: str  # the Eval's name
    experiment: Any  # ExperimentInfo
    base: Any = None  # ExperimentInfo or None
    comparison: Any = None  # store.compare.Comparison or None
    scores: list = field(default_factory=list)  # [ScoreComparison] in the eval's scorer order
    error_lines: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # name -> (value, unit)
    gates: list = field(default_factory=list)  # [Gate]

    @property
    def rows(self) -> int:
        return self.experiment.rows

    @property
    def errors(self) -> int:
        return self.experiment.errors

    @property
    def passed(self) -> bool:
        """Every gate passed, no row's task raised and the run was not cancelled: what the
        exit code says (1 otherwise), so a CI job reading ``passed`` decides the same way."""
        return (all(g.passed for g in self.gates) and not self.experiment.errors
                and self.experiment.status != "cancelled")

    def braintrust_text(self) -> str:
        """Braintrust's ExperimentSummary text, byte for byte (without its web link)."""
        exp = self.experiment
        head = "\n=========================SUMMARY=========================\n"
        if self.base is not None:
            head += f"{exp.name} compared to {self.base.name}:\n"
        longest = max((len(s.score) for s in self.scores), default=0)
        lines = []
        for s in self.scores:
            name = f"'{s.score}'".ljust(longest + 2)
            value = s.candidate if s.candidate is not None else 0.0
            if s.diff is not None and self.base is not None:
                d = f"{abs(s.diff) * 100:05.2f}%"
                diff = f"+{d}" if s.diff > 0 else f"-{d}" if s.diff < 0 else "-"
                lines.append(f"{_pct(value)} ({diff}) {name} score\t({s.improvements} improvements, "
                             f"{s.regressions} regressions)")
            else:
                lines.append(f"{_pct(value)} {name} score")
        body = "\n".join(lines) + ("\n\n" if lines else "")
        mlines = []
        for mname, (value, unit) in self.metrics.items():
            number = f"{value:d}" if isinstance(value, int) else f"{value:.2f}"
            mlines.append(f"{number}{unit} {mname}")
        body += "\n".join(mlines) + ("\n\n" if mlines else "")
        return head + body

    def our_text(self) -> str:
        """bt-tui's lines after Braintrust's: significance, errors, where to look."""
        exp = self.experiment
        out = ["--- bt-tui ---"]
        if self.base is not None:
            for s in self.scores:
                if s.diff is None:
                    continue
                if s.matched and s.improvements == s.regressions == 0 and abs(s.mean_delta or 0) < 1e-9:
                    verdict = f"no row changed (over {s.matched} matched row{'s' if s.matched != 1 else ''})"
                elif s.low is None:
                    verdict = f"over {s.matched} matched row{'s' if s.matched != 1 else ''}: too few to tell"
                else:
                    verdict = (f"interval [{_signed_pct(s.low)}, {_signed_pct(s.high)}] over {s.matched} matched "
                               f"row{'s' if s.matched != 1 else ''}: {'real' if s.significant else 'could be noise'}")
                out.append(f"'{s.score}' {_signed_pct(s.diff, 2)}: {verdict}")
        else:
            out.append("no base experiment to compare with (the first run of this eval on this data; "
                       "--base NAME picks one)")
        out.append(f"{exp.rows} row{'s' if exp.rows != 1 else ''}, {exp.errors} errored"
                   + (" (cancelled: what finished is kept)" if exp.status == "cancelled" else ""))
        for line in self.error_lines:
            out.append(f"  {line}")
        where = f" -p {_q(exp.project)}" if exp.project != "default" else ""  # an Eval's name is its project
        if self.base is not None:
            out.append(f"experiment {exp.name!r}: open it with `bt-tui{where} experiment compare "
                       f"{_q(self.base.name)} {_q(exp.name)}` or `bt-tui{where}` and X (Experiments)")
        else:
            out.append(f"experiment {exp.name!r}: open it with `bt-tui{where} experiment list` or `bt-tui{where}` "
                       f"and X (Experiments)")
        return "\n".join(out) + "\n"

    def text(self) -> str:
        return self.braintrust_text() + self.our_text()

    def __str__(self) -> str:
        return self.text()

    def to_json(self) -> dict:
        exp = self.experiment
        return {"name": self.name, "experiment": exp.name, "base": self.base.name if self.base else None,
                "rows": exp.rows, "errors": exp.errors, "scores": [s.to_json() for s in self.scores],
                "gates": [g.to_json() for g in self.gates], "row_errors": list(self.error_lines),
                "passed": self.passed}


def _input_hint(case) -> str:
    """`` (input 'Bar')``: which row, in the user's words (rows are counted from 1)."""
    value = getattr(case, "input", None)
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return f" (input {text[:40] + '…' if len(text) > 40 else text!r})"


def _q(name: str) -> str:
    import shlex

    return shlex.quote(name)


@dataclass
class Gate:
    kind: str  # "fail_under" | "no_regressions"
    score: Optional[str]
    threshold: Optional[float]
    value: Optional[float]
    passed: bool
    message: str = ""

    def to_json(self) -> dict:
        return {"gate": self.kind, "score": self.score, "threshold": self.threshold, "value": self.value,
                "passed": self.passed}


class GateError(ValueError):
    """A gate names a score the experiment does not have."""


def check_gates(summary: EvalSummary, fail_under: dict, no_regressions: bool, *, strict: bool = True) -> list[Gate]:
    """The gates' verdicts (also stored on the summary). An unknown score name: GateError naming
    the scores that exist (``strict=False``, when several Evals run: the gate is skipped)."""
    gates = []
    known = [s.score for s in summary.scores]
    for name, threshold in fail_under.items():
        s = next((x for x in summary.scores if x.score == name), None)
        if s is None:
            s = next((x for x in summary.scores if x.score.lower() == name.lower()), None)
        if s is None and not strict:
            continue
        if s is None:
            raise GateError(f"--fail-under {name}: eval {summary.name!r} has no score {name!r} "
                            f"(its scores: {', '.join(known) or 'none'})")
        value = s.candidate
        ok = value is not None and value >= threshold - 1e-12
        msg = "" if ok else (f"{summary.name}: '{s.score}' is {_pct_or_none(value)}, under the --fail-under "
                             f"threshold {threshold * 100:.2f}%")
        gates.append(Gate("fail_under", s.score, threshold, value, ok, msg))
    if no_regressions:
        if summary.base is None:
            gates.append(Gate("no_regressions", None, None, None, True,
                              "no base experiment: nothing to regress against"))
        for s in summary.scores if summary.base is not None else []:
            ok = s.regressions == 0
            msg = "" if ok else (f"{summary.name}: '{s.score}' regressed on {s.regressions} row"
                                 f"{'s' if s.regressions != 1 else ''} against {summary.base.name!r} "
                                 f"(--no-regressions)")
            gates.append(Gate("no_regressions", s.score, 0, float(s.regressions), ok, msg))
    summary.gates = gates
    return gates


def known_score_names(defn: EvalDef) -> Optional[set]:
    """The score names an Eval's scorers will give, when that is known before running (autoevals
    scorers and built-ins); None when a Python function may name its scores itself."""
    from .scorers import _CallableScorer, resolve_scorer

    names = set()
    for s in defn.scores:
        if _is_llm_builtin(s):
            names.add(s.strip())
            continue
        sc = resolve_scorer(s)
        if isinstance(sc, _CallableScorer):
            return None
        names.add(sc.name)
    return names


def check_gate_names(defs: Sequence[EvalDef], fail_under: dict) -> None:
    """Before running: a gate naming a score none of the Evals can give is a GateError."""
    names: set = set()
    for defn in defs:
        known = known_score_names(defn)
        if known is None:
            return
        names |= known
    lower = {n.lower() for n in names}
    for g in fail_under:
        if g.lower() not in lower:
            what = f"eval {defs[0].name!r} gives" if len(defs) == 1 else "these evals give"
            raise GateError(f"--fail-under {g}: {what} no score {g!r} "
                            f"(the scores: {', '.join(sorted(names)) or 'none'})")


def _pct_or_none(v) -> str:
    return "no value" if v is None else f"{v * 100:.2f}%"


def summarize(store, project: str, experiment, *, eval_name: Optional[str] = None, base: Optional[str] = None,
              score_order: Sequence[str] = (), results: Sequence[RowResult] = (), max_errors: int = 5) -> EvalSummary:
    """The summary of ``experiment`` (an ExperimentInfo) against ``base`` (a name), else the
    project's previous experiment on the same data (store.compare.previous_experiment)."""
    from store.compare import ScoreComparison, compare_experiments, previous_experiment
    from store.experiments import get_experiment

    base_info = get_experiment(store, project, base) if base else previous_experiment(store, project, experiment)
    comparison = None
    if base_info is not None:
        comparison = compare_experiments(store, project, base_info, experiment)
        by_name = {s.score: s for s in comparison.scores}
        names = [n for n in experiment.scores]
    else:
        by_name = {n: ScoreComparison(n, None, avg, None) for n, avg in experiment.scores.items()}
        names = list(experiment.scores)
    ordered = [n for n in score_order if n in names] + sorted(n for n in names if n not in score_order)
    scores = [by_name[n] for n in ordered if n in by_name]
    errors = [r for r in results if r.error]
    lines = []
    for r in errors[:max_errors]:
        trial = f" (trial {r.trial})" if any(x.trial for x in results) else ""
        lines.append(f"row {r.case.index + 1}{trial}{_input_hint(r.case)}: {r.error}")
    if len(errors) > max_errors:
        lines.append(f"... and {len(errors) - max_errors} more (filter the experiment's rows on error)")
    metrics: dict = {}
    finished = [r for r in results if r.duration]
    if finished:
        metrics["duration"] = (sum(r.duration for r in finished) / len(finished), "s")
    toks = [r.tokens for r in results if r.tokens]
    if toks:
        metrics["tokens"] = (round(sum(toks) / len(toks)), "tok")
    costs = [r.cost for r in results if r.cost is not None]
    if costs:
        metrics["estimated_cost"] = (sum(costs) / len(costs), "$")
    return EvalSummary(eval_name or experiment.metadata.get("eval") or experiment.name, experiment, base_info,
                       comparison, scores, lines, metrics)


# --- init_experiment: loops the user drives -----------------------------------------------------

class ExperimentLogger:
    """``bt_tui.init_experiment(...)``: an experiment the user fills row by row with ``log()``.
    Each log is one trace (an ``eval`` root and a ``score`` span per score)."""

    def __init__(self, project: str, experiment: Optional[str] = None, dataset: Any = None,
                 base_experiment: Optional[str] = None, db: Optional[str] = None,
                 metadata: Optional[dict] = None, author: Optional[str] = None):
        from store import Store
        from store import datasets as ds_store
        from store import experiments as ex_store

        self.project = project
        self.base_experiment = base_experiment
        self.store = Store(resolve_db(db))
        ds_id = version = None
        if isinstance(dataset, Dataset):
            info = ds_store.get_dataset(self.store, dataset.project, dataset.name)
            ds_id = info.id
            version = ds_store.resolve_version(self.store, dataset.project, dataset.name, dataset.version)
        elif isinstance(dataset, str):
            info = ds_store.get_dataset(self.store, project, dataset)
            ds_id, version = info.id, info.version
        meta = {"eval": experiment or project, **(metadata or {})}
        self.info = ex_store.create_experiment(self.store, project, experiment or f"{project} experiment",
                                               dataset_id=ds_id, dataset_version=version, metadata=meta,
                                               author=author)
        self.name = self.info.name
        self._pending: list[dict] = []
        self._order: dict[str, int] = {}
        self._closed = False

    def log(self, *, input: Any = None, output: Any = None, expected: Any = None, scores: Optional[dict] = None,
            metadata: Optional[dict] = None, error: Any = None, id: Optional[str] = None, tags=None,
            metrics: Optional[dict] = None) -> str:
        """Log one row; returns its row id. Scores are numbers in [0,1] (or None)."""
        from store.errors import InputError

        if self._closed:
            raise InputError(f"experiment {self.name!r} is closed")
        scores = dict(scores or {})
        for k, v in scores.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1):
                raise InputError(f"score {k!r} must be a number in [0, 1] or None, not {v!r}")
            self._order.setdefault(k, len(self._order))
        root = id or uuid.uuid4().hex
        now = time.time()
        if isinstance(error, BaseException):
            error = error_line(error)
        self._pending.append({
            "id": root, "span_id": root, "root_span_id": root, "span_parents": None, "created": _iso(now),
            "input": input, "output": output, "expected": expected, "error": error, "scores": scores,
            "metadata": dict(metadata or {}), "metrics": {"start": now, "end": now, **(metrics or {})},
            "tags": list(tags or []), "span_attributes": {"name": "eval", "type": "eval"}})
        from .runs import score_span
        from .scorers import ScoreResult

        self._pending.extend(score_span(ScoreResult(k, v), root, now) for k, v in scores.items())
        if len(self._pending) >= 500:
            self.flush()
        return root

    def flush(self) -> None:
        from store.spans import log_spans

        if self._pending:
            spans, self._pending = self._pending, []
            log_spans(self.store, self.info.rows_project, spans)

    def summarize(self) -> EvalSummary:
        from store.experiments import get_experiment

        self.flush()
        info = get_experiment(self.store, self.project, self.name)
        return summarize(self.store, self.project, info, base=self.base_experiment, score_order=list(self._order))

    def close(self) -> str:
        from store.experiments import finish_experiment

        if not self._closed:
            self.flush()
            finish_experiment(self.store, self.info, "complete")
            self._closed = True
            self.store.close()
        return self.name

    def __enter__(self) -> "ExperimentLogger":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._closed:
            from store.experiments import finish_experiment

            self.flush()
            finish_experiment(self.store, self.info, "cancelled" if exc_type is not None else "complete")
            self._closed = True
            self.store.close()
