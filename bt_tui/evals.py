"""The eval API in Braintrust's shape: ``Eval``, ``EvalAsync``, ``EvalCase``, ``init_dataset``,
``init_experiment``, ``load_prompt``, ``completion`` / ``acompletion``.

A Braintrust eval file runs under bt-tui after one change to its import line::

    from bt_tui import Eval            # was: from braintrust import Eval
    from autoevals import Levenshtein

    Eval("Say Hi Bot", data=lambda: [{"input": "Foo", "expected": "Hi Foo"}],
         task=lambda input: "Hi " + input, scores=[Levenshtein])

``bt-tui eval FILE.py`` collects the file's Evals and runs them (progress, summary, gates);
``python FILE.py`` runs each ``Eval(...)`` at once and prints its summary, as Braintrust does.
The database is ``--db`` / $BT_TUI_DB (else the user's default file); the project is the
Eval's ``project=``, else its name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from typing import Any, Optional

from engine import evals as _ev
from engine.evals import Dataset, EvalHooks, EvalResult, EvalSummary, ExperimentLogger

__all__ = ["Eval", "EvalAsync", "EvalCase", "EvalHooks", "EvalResult", "EvalSummary", "Dataset", "init_dataset",
           "init_experiment", "load_prompt", "Prompt", "completion", "acompletion", "ExperimentLogger"]


@dataclasses.dataclass
class EvalCase:
    """One case of an Eval's data (Braintrust's EvalCase)."""
    input: Any
    expected: Any = None
    metadata: Optional[dict] = None
    tags: Optional[list] = None
    id: Optional[str] = None


def _project(project: Optional[str]) -> str:
    if project:
        return project
    run = _ev.current_run()
    if run is not None:
        return run.project
    return _ev.active_project or os.environ.get("BT_TUI_PROJECT") or "default"


def _open_store(db: Optional[str] = None):
    from store import Store

    return Store(_ev.resolve_db(db))


async def _run_now(defn: _ev.EvalDef, db: Optional[str]) -> EvalResult:
    store = _open_store(db)
    try:
        result = await _ev.run_eval(defn, store, db_path=str(_ev.resolve_db(db)))
        result.summary = _ev.summarize(store, defn.project_name, result.experiment, eval_name=defn.name,
                                       base=defn.base_experiment, score_order=result.score_order,
                                       results=result.results)
        return result
    finally:
        store.close()


def _report(result: EvalResult, db: Optional[str] = None) -> EvalResult:
    if result.errors:
        sys.stderr.write(f"Evaluator {result.defn.name} failed with {len(result.errors)} "
                         f"error{'s' if len(result.errors) != 1 else ''}\n")
    sys.stdout.write(result.summary.text())
    # run directly (`python eval_x.py`): say where it went (the hint's commands need that --db)
    sys.stdout.write(f"stored in {_ev.resolve_db(db)} (db= or $BT_TUI_DB picks another; `bt-tui --db PATH ...`)\n")
    sys.stdout.flush()
    return result


def Eval(name: str, data: Any = None, task: Any = None, scores: Any = None, *, db: Optional[str] = None,
         **kwargs: Any):
    """Define an evaluation (Braintrust's ``Eval``): ``data``, ``task``, ``scores`` and options
    (experiment_name, metadata, max_concurrency, trial_count, base_experiment, project,
    description, timeout, tags). Under ``bt-tui eval`` it registers and returns its definition;
    otherwise it runs now, prints Braintrust's summary and returns an EvalResult (in a running
    event loop: a Task to await)."""
    defn = _ev.make_eval_def(name, data, task, scores, **kwargs)
    if _ev.is_collecting():
        _ev.register(defn)
        return defn
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        async def go():
            return _report(await _run_now(defn, db), db)
        return loop.create_task(go())
    return _report(asyncio.run(_run_now(defn, db)), db)


async def EvalAsync(name: str, data: Any = None, task: Any = None, scores: Any = None, *,
                    db: Optional[str] = None, **kwargs: Any) -> EvalResult:
    """``await EvalAsync(...)``: Eval inside a running event loop."""
    defn = _ev.make_eval_def(name, data, task, scores, **kwargs)
    if _ev.is_collecting():
        _ev.register(defn)
        return defn  # type: ignore[return-value]
    return _report(await _run_now(defn, db))


def init_dataset(project: Optional[str] = None, name: Optional[str] = None, version: Optional[int] = None, *,
                 dataset: Optional[str] = None, db: Optional[str] = None) -> Dataset:
    """A dataset of the store, as an Eval's ``data=`` (its records as of ``version``; None: the
    latest when the eval runs). Iterate it for its records; ``insert(...)`` adds one."""
    name = name or dataset
    if not name:
        raise TypeError("init_dataset(project, name, version=None): the dataset's name is missing")
    if version is not None:
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise TypeError(f"init_dataset: version must be a number, not {version!r}") from None
    return Dataset(_project(project), name, version, db)


def init_experiment(project: Optional[str] = None, experiment: Optional[str] = None, dataset: Any = None,
                    base_experiment: Optional[str] = None, db: Optional[str] = None,
                    metadata: Optional[dict] = None) -> ExperimentLogger:
    """An experiment filled by a loop you drive: ``.log(input=, output=, expected=, scores=,
    metadata=, error=, id=)`` one row each, ``.summarize()``, ``.close()`` (or use ``with``)."""
    return ExperimentLogger(_project(project), experiment, dataset, base_experiment, db, metadata)


class Prompt:
    """A stored prompt version (``load_prompt``); ``build(**vars)`` renders it."""

    def __init__(self, version):
        self.version = version
        self.slug = version.slug

    @property
    def messages(self) -> list:
        return self.version.messages

    @property
    def model(self) -> Optional[str]:
        return self.version.model

    @property
    def params(self) -> dict:
        return dict(self.version.params)

    def build(self, **vars: Any) -> dict:
        """``{"model": NAME, "messages": [...], **params}``, ready for ``completion(**built)``.
        Variables as the playground renders them: ``{{input}}``, an object input's keys, etc."""
        from engine.runs import render_messages

        built = {"model": self.version.model or "offline", "messages": render_messages(self.version, vars)}
        built.update(self.version.params or {})
        if self.version.response_format:
            built["response_format"] = self.version.response_format
        return built

    def __repr__(self) -> str:
        return f"<Prompt {self.version.ref}>"


def load_prompt(slug: Optional[str] = None, version: Optional[int] = None, project: Optional[str] = None, *,
                db: Optional[str] = None) -> Prompt:
    """A stored prompt (``slug``, ``slug@V`` or ``version=V``; the latest by default)."""
    from store.prompts import get_prompt

    if not slug:
        raise TypeError("load_prompt(slug, version=None, project=None): the prompt's slug is missing")
    run = _ev.current_run()
    if run is not None and db is None:
        return Prompt(get_prompt(run.store, _project(project), slug, version))
    store = _open_store(db)
    try:
        return Prompt(get_prompt(store, _project(project), slug, version))
    finally:
        store.close()


async def acompletion(model: str = "offline", messages: Optional[list] = None, **params: Any) -> "_ev.Completion":
    """One model call through bt-tui's engine (a configured model's NAME; ``offline`` needs
    nothing). Inside an eval it uses the run's client and is traced as an ``llm`` span of the
    row's task. Returns the answer text (a str with ``.output``, ``.usage``, ``.cost``); a
    failed call raises CompletionError."""
    params.pop("stream", None)
    run = _ev.current_run()
    row = _ev.current_row()
    if run is not None:
        loop = asyncio.get_running_loop()
        if loop is run.loop:
            return await run.complete(model, list(messages or []), params, row)
        fut = asyncio.run_coroutine_threadsafe(run.complete(model, list(messages or []), params, row), run.loop)
        return await asyncio.wrap_future(fut)
    return await _standalone(model, list(messages or []), params)


def completion(model: str = "offline", messages: Optional[list] = None, **params: Any) -> "_ev.Completion":
    """The sync ``acompletion`` (for sync tasks, which run in threads)."""
    params.pop("stream", None)
    run = _ev.current_run()
    row = _ev.current_row()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        raise RuntimeError("bt_tui.completion() blocks: in async code use `await bt_tui.acompletion(...)`")
    if run is not None and run.loop is not None:
        fut = asyncio.run_coroutine_threadsafe(run.complete(model, list(messages or []), params, row), run.loop)
        return fut.result()
    return asyncio.run(_standalone(model, list(messages or []), params))


async def _standalone(model: str, messages: list, params: dict):
    """A call outside any eval: a client of its own, not traced."""
    store = _open_store()
    try:
        ctx = _ev.RunContext(store, _project(None), concurrency=1)
        ctx.loop = asyncio.get_running_loop()
        return await ctx.complete(model, messages, params, None)
    finally:
        store.close()
