"""Runs: a grid of variants (prompt version x model x params) over dataset rows.

The one engine behind the Playground screen, ``bt-tui run`` and (later) ``bt-tui eval``. A
*cell* is one variant on one row (and one repeat). Each cell renders the variant's prompt with
the row's variables, calls the model through :class:`engine.llm.LLMClient` (bounded
concurrency, retries, streaming), scores the output, and becomes a trace in the span shape:

    eval (root: input, output, expected, scores, metrics, metadata)
      task
        llm  (messages, output, tokens, cost)
      score  (one per scorer)

Traces are written by one background writer in batches (``log_spans`` in a worker thread), so
the event loop never waits on SQLite. Progress is reported by callback (``on_cell``), never
printed. Nothing here imports textual or litellm.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional, Sequence

from store.model_configs import ModelConfig
from store.prompts import PromptVersion

from .prompts import render_template

PENDING, RUNNING, DONE, ERROR, CANCELLED = "pending", "running", "done", "error", "cancelled"


# --- inputs -------------------------------------------------------------------------------------

@dataclass
class Variant:
    """One column of the grid: a prompt version, a model, param overrides, repeats."""
    id: str
    prompt: PromptVersion
    model: ModelConfig
    params: dict = field(default_factory=dict)
    repeat: int = 1

    @property
    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        rep = f" x{self.repeat}" if self.repeat > 1 else ""
        return f"{self.prompt.ref} · {self.model.name}" + (f" {extra}" if extra else "") + rep

    def merged_params(self) -> dict:
        return {**self.model.params, **self.prompt.params, **self.params}

    def to_json(self) -> dict:
        return {"id": self.id, "prompt": self.prompt.ref, "model": self.model.name, "params": self.params,
                "repeat": self.repeat}


@dataclass
class Row:
    """One row of the grid: a dataset record (or inline data)."""
    id: str
    input: Any = None
    expected: Any = None
    metadata: dict = field(default_factory=dict)
    origin: Optional[dict] = None


def variables(row: Row) -> dict:
    """The template variables of a row, as in Braintrust's playground: ``input``, ``expected``,
    ``metadata``; an object input's keys are also top-level names (``{{question}}``)."""
    out: dict = {}
    if isinstance(row.input, dict):
        out.update(row.input)
    out.update({"input": row.input, "expected": row.expected, "metadata": row.metadata or {}})
    return out


def render_messages(prompt: PromptVersion, vars: dict, *, strict: bool = False) -> list[dict]:
    """The prompt's messages with every template rendered."""
    return [{"role": m["role"], "content": render_template(m["content"], vars, strict=strict)}
            for m in prompt.messages]


def model_spec(cfg: ModelConfig, params: Optional[dict] = None):
    """The client's view of a model configuration."""
    from .llm import ModelSpec

    return ModelSpec(name=cfg.name, model=cfg.model, api_base=cfg.api_base, key_env=cfg.key_env,
                     input_price=cfg.input_price, output_price=cfg.output_price,
                     params=dict(params if params is not None else cfg.params))


# --- results ------------------------------------------------------------------------------------

@dataclass
class Cell:
    """One variant on one row, one repeat: what the grid shows."""
    variant: str
    record: str
    repeat: int = 0
    status: str = PENDING
    output: Optional[str] = None
    partial: str = ""  # the text streamed so far
    error: Optional[str] = None
    scores: dict = field(default_factory=dict)  # name -> float | None
    score_errors: dict = field(default_factory=dict)  # name -> error text
    latency: Optional[float] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    tokens: Optional[int] = None
    cost: Optional[float] = None
    row_id: Optional[str] = None  # the root span's row id (open its trace)
    root_span_id: Optional[str] = None
    start: Optional[float] = None
    end: Optional[float] = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.variant, self.record, self.repeat)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, ERROR, CANCELLED)


@dataclass
class VariantSummary:
    variant: str
    cells: int = 0
    done: int = 0
    errors: int = 0
    scores: dict = field(default_factory=dict)  # name -> average
    latency: Optional[float] = None  # average seconds
    tokens: int = 0
    cost: float = 0.0


def summarise(cells: Iterable[Cell], variant: str) -> VariantSummary:
    """Averages of a variant's finished cells (a score's average skips None values)."""
    s = VariantSummary(variant)
    sums: dict = {}
    counts: dict = {}
    lat = []
    for c in cells:
        if c.variant != variant:
            continue
        s.cells += 1
        if c.status == ERROR:
            s.errors += 1
        if c.status in (DONE, ERROR):
            s.done += 1
        for k, v in c.scores.items():
            if v is not None:
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
        if c.latency is not None and c.status == DONE:
            lat.append(c.latency)
        s.tokens += c.tokens or 0
        s.cost += c.cost or 0.0
    s.scores = {k: sums[k] / counts[k] for k in sorted(sums)}
    s.latency = sum(lat) / len(lat) if lat else None
    return s


def agreement(cells: Sequence[Cell]) -> tuple[Optional[str], int, int]:
    """For a cell's repeats: (the most common answer, how many gave it, how many answered)."""
    answers = [c.output for c in cells if c.status == DONE and c.output is not None]
    if not answers:
        return None, 0, 0
    text, n = Counter(a.strip() for a in answers).most_common(1)[0]
    return text, n, len(answers)


# --- the trace of a cell ------------------------------------------------------------------------

def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def cell_trace(cell: Cell, row: Row, variant: Variant, call, score_results: list, *, key_meta: dict,
               task_start: float, task_end: float) -> list[dict]:
    """The spans of a finished cell: eval root, task, llm, one score span per scorer."""
    from .llm import llm_span

    root = uuid.uuid4().hex
    task = uuid.uuid4().hex
    meta = {"prompt": variant.prompt.ref, "model": variant.model.name, "params": variant.merged_params(),
            "record_id": row.id, **key_meta}
    scores = {r.name: r.score for r in score_results}
    spans = [{
        "id": root, "span_id": root, "root_span_id": root, "span_parents": None, "created": _iso(task_start),
        "input": row.input, "output": cell.output, "expected": row.expected, "error": cell.error,
        "scores": scores, "metadata": meta,
        "metrics": {k: v for k, v in {"start": task_start, "end": task_end, "prompt_tokens": cell.prompt_tokens,
                                      "completion_tokens": cell.completion_tokens, "tokens": cell.tokens,
                                      "estimated_cost": cell.cost}.items() if v is not None},
        "tags": [], "span_attributes": {"name": "eval", "type": "eval"},
    }, {
        "id": task, "span_id": task, "root_span_id": root, "span_parents": [root], "created": _iso(task_start),
        "input": row.input, "output": cell.output, "error": cell.error,
        "metrics": {"start": task_start, "end": task_end}, "span_attributes": {"name": "task", "type": "task"},
    }]
    if call is not None:
        spans.append(llm_span(call, root_span_id=root, parent_span_id=task))
    spans.extend(score_span(r, root, task_end) for r in score_results)
    cell.row_id = root
    cell.root_span_id = root
    return spans


def score_span(result, root: str, start: float, end: Optional[float] = None) -> dict:
    """The ``score`` span of one scorer's result under the trace ``root`` (the eval runner
    also records when scoring ended: ``end``)."""
    sid = uuid.uuid4().hex
    span = {
        "id": sid, "span_id": sid, "root_span_id": root, "span_parents": [root], "created": _iso(start),
        "output": {"score": result.score, **({"metadata": result.metadata} if result.metadata else {})},
        "error": result.error, "scores": {result.name: result.score} if result.score is not None else {},
        "span_attributes": {"name": result.name, "type": "score"},
    }
    if end is not None:
        span["metrics"] = {"start": start, "end": end}
    return span


# --- the writer ---------------------------------------------------------------------------------

class TraceWriter:
    """Writes finished cells' spans in batches from a worker thread: the event loop never waits
    on SQLite. ``replace`` maps a cell key to the root span ids its new trace replaces."""

    def __init__(self, store, project: str, *, batch_seconds: float = 0.1, on_written=None):
        self.store = store
        self.project = project
        self.batch_seconds = batch_seconds
        self.on_written = on_written
        self._spans: list[dict] = []
        self._replace: list[str] = []
        self._task: Optional[asyncio.Task] = None
        self._wake = asyncio.Event()
        self._closed = False
        self.written = 0
        self.error: Optional[BaseException] = None

    def start(self) -> "TraceWriter":
        self._task = asyncio.ensure_future(self._loop())
        return self

    def add(self, spans: list[dict], replace: Iterable[str] = ()) -> None:
        self._spans.extend(spans)
        self._replace.extend(replace)
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._closed:
                await asyncio.sleep(self.batch_seconds)
            await self._flush()
            if self._closed and not self._spans:
                return

    async def _flush(self) -> None:
        spans, self._spans = self._spans, []
        replace, self._replace = self._replace, []
        if not spans and not replace:
            return
        try:
            await asyncio.to_thread(self._write, spans, replace)
            self.written += len(spans)
            if self.on_written:
                self.on_written(len(spans))
        except Exception as exc:  # kept and raised by close(): a run never dies mid-grid
            self.error = exc

    def _write(self, spans: list[dict], replace: list[str]) -> None:
        from store.experiments import replace_traces
        from store.spans import log_spans

        try:
            if replace:
                replace_traces(self.store, self.project, replace)
            if spans:
                log_spans(self.store, self.project, spans)
        finally:
            self.store.release_thread()

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.error is not None:
            raise self.error


# --- the run ------------------------------------------------------------------------------------

ScorerList = Sequence[Any]  # engine.scorers.Scorer


class GridRun:
    """Runs cells of ``variants`` x ``rows``. ``on_cell(cell)`` is called (on the event loop)
    whenever a cell changes: started, streamed text, finished. ``cancel()`` stops it: cells not
    finished become cancelled. Finished cells' traces go to ``writer`` (when given)."""

    def __init__(self, variants: Sequence[Variant], rows: Sequence[Row], *, client, scorers: ScorerList = (),
                 writer: Optional[TraceWriter] = None, on_cell: Optional[Callable[[Cell], None]] = None,
                 stream: bool = False, key_meta: Optional[Callable[[Cell], dict]] = None,
                 replace: Optional[Callable[[Cell], list[str]]] = None, strict: bool = False):
        self.variants = list(variants)
        self.rows = list(rows)
        self.client = client
        self.scorers = list(scorers)
        self.writer = writer
        self.on_cell = on_cell or (lambda cell: None)
        self.stream = stream
        self.key_meta = key_meta or (lambda cell: {})
        self.replace = replace or (lambda cell: [])
        self.strict = strict
        self.cells: dict[tuple[str, str, int], Cell] = {}
        self._tasks: list[asyncio.Task] = []
        self._cancelled = False
        self.first_request: Optional[float] = None
        self.last_response: Optional[float] = None

    def plan(self, only: Optional[Iterable[tuple[str, str]]] = None) -> list[Cell]:
        """The cells to run (row-major, so the grid fills top down): all, or ``only`` these
        (variant id, record id) pairs (every repeat of each)."""
        wanted = set(only) if only is not None else None
        out = []
        for row in self.rows:
            for v in self.variants:
                if wanted is not None and (v.id, row.id) not in wanted:
                    continue
                for r in range(max(1, v.repeat)):
                    cell = Cell(v.id, row.id, r)
                    self.cells[cell.key] = cell
                    out.append(cell)
        return out

    async def run(self, only: Optional[Iterable[tuple[str, str]]] = None) -> list[Cell]:
        cells = self.plan(only)
        by_variant = {v.id: v for v in self.variants}
        by_row = {r.id: r for r in self.rows}
        for cell in cells:
            self.on_cell(cell)
        self._tasks = [asyncio.ensure_future(self._run_cell(c, by_variant[c.variant], by_row[c.record]))
                       for c in cells]
        try:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            for c in cells:
                if not c.finished:
                    c.status = CANCELLED
                    self.on_cell(c)
        return cells

    def cancel(self) -> None:
        self._cancelled = True
        for t in self._tasks:
            t.cancel()

    async def _run_cell(self, cell: Cell, variant: Variant, row: Row) -> None:
        try:
            try:
                messages = render_messages(variant.prompt, variables(row), strict=self.strict)
            except Exception as exc:  # a missing variable in strict mode: the cell's error
                cell.status, cell.error = ERROR, f"{type(exc).__name__}: {exc}"
                self.on_cell(cell)
                return
            cell.status = RUNNING
            self.on_cell(cell)
            params = variant.merged_params()
            spec = model_spec(variant.model, params)

            def delta(text: str) -> None:
                cell.partial = text
                self.on_cell(cell)

            t0 = time.time()
            call = await self.client.complete(spec, messages, params=params,
                                              response_format=variant.prompt.response_format,
                                              on_delta=delta if self.stream else None)
            if self.first_request is None or call.start < self.first_request:
                self.first_request = call.start
            if self.last_response is None or call.end > self.last_response:
                self.last_response = call.end
            cell.output, cell.error = call.output, call.error
            cell.latency = call.latency
            cell.prompt_tokens, cell.completion_tokens, cell.tokens = (call.prompt_tokens, call.completion_tokens,
                                                                       call.tokens)
            cell.cost = call.cost
            cell.start, cell.end = call.start, call.end
            results = []
            if call.error is None:
                for scorer in self.scorers:
                    results.extend(await scorer.score(input=row.input, output=call.output, expected=row.expected,
                                                      metadata=row.metadata))
            cell.scores = {r.name: r.score for r in results}
            cell.score_errors = {r.name: r.error for r in results if r.error}
            cell.status = ERROR if call.error else DONE
            t1 = time.time()
            if self.writer is not None:
                spans = cell_trace(cell, row, variant, call, results, key_meta=self.key_meta(cell),
                                   task_start=t0, task_end=t1)
                self.writer.add(spans, self.replace(cell))
            self.on_cell(cell)
        except asyncio.CancelledError:
            cell.status = CANCELLED
            self.on_cell(cell)
            raise
        except Exception as exc:  # a bug in a scorer wrapper or the writer: this cell's error, not the run's
            cell.status, cell.error = ERROR, f"{type(exc).__name__}: {exc}"
            self.on_cell(cell)

    @property
    def wall_time(self) -> Optional[float]:
        if self.first_request is None or self.last_response is None:
            return None
        return self.last_response - self.first_request
