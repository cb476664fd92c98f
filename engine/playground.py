"""Playground sessions and headless runs over a dataset version.

A :class:`PlaygroundSession` is a saved playground (store.experiments.PlaygroundInfo) made
live: its rows (the dataset as of its version), its variants resolved to prompt versions and
model configurations, and its cells (the last stored results, then each new result as it
arrives). ``run()`` runs all cells, one row, one variant or the failed ones; the results replace
the cells' previous traces. ``save_as_experiments`` copies each variant's cells into an
experiment of its own.

:func:`run_experiments` is ``bt-tui run``: one experiment per model, each a full grid run whose
traces go straight into the experiment.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from store import datasets as ds_store
from store import experiments as ex_store
from store.model_configs import get_model
from store.prompts import get_prompt

from .runs import CANCELLED, DONE, ERROR, Cell, GridRun, Row, TraceWriter, Variant, agreement, summarise

VARIANT_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def dataset_rows(store, project: str, dataset: str, version: Optional[int] = None,
                 snapshot: Optional[str] = None) -> tuple[int, list[Row]]:
    """(the version read, the rows) of a dataset."""
    v = ds_store.resolve_version(store, project, dataset, version, snapshot)
    rows = [Row(id=r.id, input=r.input, expected=r.expected, metadata=r.metadata or {}, origin=r.origin)
            for r in ds_store.iter_records(store, project, dataset, version=v)]
    return v, rows


def resolve_variant(store, project: str, spec: dict) -> Variant:
    """A stored variant ``{"id", "prompt": "slug@V", "model": NAME, "params", "repeat"}`` made
    live. The model defaults to the prompt's own."""
    prompt = get_prompt(store, project, spec["prompt"])
    model_name = spec.get("model") or prompt.model or "offline"
    return Variant(id=spec["id"], prompt=prompt, model=get_model(store, model_name),
                   params=dict(spec.get("params") or {}), repeat=max(1, int(spec.get("repeat") or 1)))


def next_variant_id(taken: Iterable[str]) -> str:
    taken = set(taken)
    for ch in VARIANT_IDS:
        if ch not in taken:
            return ch
    n = 1
    while f"V{n}" in taken:
        n += 1
    return f"V{n}"


class PlaygroundSession:
    """A playground loaded for running. Not thread-safe: use it from one event loop."""

    def __init__(self, store, project: str, name: str):
        self.store = store
        self.project = project
        self.name = name
        self.run: Optional[GridRun] = None
        self.reload()

    # -- set-up ---------------------------------------------------------------------------------
    def reload(self) -> None:
        self.info = ex_store.get_playground(self.store, self.project, self.name)
        self.variants: list[Variant] = [resolve_variant(self.store, self.project, v) for v in self.info.variants]
        if self.info.dataset:
            self.version, self.rows = dataset_rows(self.store, self.project, self.info.dataset,
                                                   self.info.dataset_version)
        else:
            self.version, self.rows = None, []
        self.cells: dict[tuple[str, str, int], Cell] = {}
        for c in ex_store.playground_cells(self.store, self.info):
            cell = Cell(c.variant, c.record, c.repeat, status=ERROR if c.error else DONE,
                        output=_text(c.output), error=_text(c.error) if c.error else None,
                        scores=dict(c.scores), latency=_latency(c.metrics),
                        prompt_tokens=c.metrics.get("prompt_tokens"),
                        completion_tokens=c.metrics.get("completion_tokens"), tokens=c.metrics.get("tokens"),
                        cost=c.metrics.get("estimated_cost"), row_id=c.id, root_span_id=c.root_span_id)
            self.cells[cell.key] = cell

    def save(self, *, dataset: Optional[str] = None, dataset_version: Optional[int] = -1,
             variants: Optional[list[dict]] = None, settings: Optional[dict] = None,
             author: Optional[str] = None) -> None:
        """Change the set-up (dataset, version, variants) and reload. ``dataset_version=-1``
        keeps the current one; None means "the latest"."""
        old_ids = {v["id"] for v in self.info.variants}
        new_variants = variants if variants is not None else self.info.variants
        for v in new_variants:  # check they resolve before storing them
            resolve_variant(self.store, self.project, v)
        ex_store.save_playground(self.store, self.project, self.name,
                                 dataset=dataset if dataset is not None else self.info.dataset,
                                 dataset_version=(self.info.dataset_version if dataset_version == -1
                                                  else dataset_version),
                                 variants=new_variants, settings=settings, author=author)
        gone = old_ids - {v["id"] for v in new_variants}
        for vid in gone:
            ex_store.delete_playground_variant(self.store, self.info, vid)
        changed = [v["id"] for v in new_variants if v not in self.info.variants]
        stale = [c.root_span_id for c in self.cells.values() if c.variant in changed and c.root_span_id]
        if stale:  # a variant whose prompt, model or params changed: its old answers no longer apply
            ex_store.replace_traces(self.store, self.info.rows_project, stale)
        version_changed = False
        if dataset_version != -1 and (dataset is None or dataset == self.info.dataset) and self.info.dataset:
            # the version the rows are read as of, before and after (None = the latest)
            now = ds_store.resolve_version(self.store, self.project, self.info.dataset, dataset_version)
            version_changed = now != self.version
        if (dataset is not None and dataset != self.info.dataset) or version_changed:
            # other rows, or the same rows as of another version (other inputs, other expected):
            # the last results and their scores no longer apply
            ex_store.replace_traces(self.store, self.info.rows_project,
                                    [c.root_span_id for c in self.cells.values() if c.root_span_id])
        self.reload()

    # -- reading --------------------------------------------------------------------------------
    @property
    def base(self) -> Optional[Variant]:
        return self.variants[0] if self.variants else None

    def cells_of(self, variant: str, record: str) -> list[Cell]:
        v = next((x for x in self.variants if x.id == variant), None)
        n = v.repeat if v else 1
        return [self.cells[(variant, record, r)] for r in range(n) if (variant, record, r) in self.cells]

    def cell(self, variant: str, record: str) -> Optional[Cell]:
        """The cell shown for (variant, record): its first repeat (the grid shows agreement)."""
        cells = self.cells_of(variant, record)
        return cells[0] if cells else None

    def agreement(self, variant: str, record: str):
        return agreement(self.cells_of(variant, record))

    def summaries(self):
        return [summarise(self.cells.values(), v.id) for v in self.variants]

    def failed(self) -> list[tuple[str, str]]:
        return sorted({(c.variant, c.record) for c in self.cells.values() if c.status in (ERROR, CANCELLED)})

    # -- running --------------------------------------------------------------------------------
    async def run_cells(self, *, client, scorers: Sequence = (), only: Optional[Iterable[tuple[str, str]]] = None,
                        on_cell: Optional[Callable[[Cell], None]] = None, stream: bool = True) -> list[Cell]:
        """Run every cell (or ``only`` these (variant, record) pairs). Each new result replaces
        the cell's previous trace."""
        previous = {k: c.root_span_id for k, c in self.cells.items() if c.root_span_id}

        def key_meta(cell: Cell) -> dict:
            return {"playground": {"variant": cell.variant, "record": cell.record, "repeat": cell.repeat,
                                   "name": self.name}}

        def replace(cell: Cell) -> list[str]:
            old = previous.get(cell.key)
            return [old] if old else []

        def changed(cell: Cell) -> None:
            self.cells[cell.key] = cell
            if on_cell:
                on_cell(cell)

        writer = TraceWriter(self.store, self.info.rows_project).start()
        self.run = GridRun(self.variants, self.rows, client=client, scorers=scorers, writer=writer, on_cell=changed,
                           stream=stream, key_meta=key_meta, replace=replace)
        try:
            return await self.run.run(only)
        finally:
            await writer.close()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def save_as_experiments(self, *, name: Optional[str] = None, author: Optional[str] = None) -> list:
        """One experiment per variant (``NAME/VARIANT``), each holding a copy of that variant's
        finished cells' traces. Returns the experiments."""
        out = []
        ds_id = None
        if self.info.dataset:
            ds_id = ds_store.get_dataset(self.store, self.project, self.info.dataset).id
        base = name or self.name
        for v in self.variants:
            exp = ex_store.create_experiment(
                self.store, self.project, f"{base}/{v.id} {v.prompt.ref} {v.model.name}", dataset_id=ds_id,
                dataset_version=self.version, prompt_slug=v.prompt.slug, prompt_version=v.prompt.version,
                model=v.model.name, params=v.merged_params(), metadata={"playground": self.name, "variant": v.id},
                author=author)
            roots = [c.root_span_id for c in self.cells.values() if c.variant == v.id and c.root_span_id]
            ex_store.copy_traces(self.store, self.info.rows_project, exp.rows_project, roots,
                                 metadata={"experiment": exp.name})
            ex_store.finish_experiment(self.store, exp)
            out.append(ex_store.get_experiment(self.store, self.project, exp.name))
        return out


def _text(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value).decode()


def _latency(metrics: dict) -> Optional[float]:
    if "start" in metrics and "end" in metrics:
        return metrics["end"] - metrics["start"]
    return None


# --- headless ----------------------------------------------------------------------------------

@dataclass
class RunReport:
    experiments: list = field(default_factory=list)
    rows: int = 0
    failed: int = 0  # cells with an error (after retries)
    cancelled: int = 0
    wall_time: Optional[float] = None


async def run_experiments(store, project: str, *, dataset: str, dataset_version: Optional[int] = None,
                          prompt: str, models: Sequence[str] = (), scorers: Sequence = (), client,
                          name: Optional[str] = None, author: Optional[str] = None,
                          on_progress: Optional[Callable[[int, int], None]] = None) -> RunReport:
    """``bt-tui run``: the prompt over the dataset version with each model; one experiment per
    model (``NAME`` with one model, ``NAME/MODEL`` with several). Every row is run; failed rows
    are stored with their error. Progress by ``on_progress(done, total)``."""
    pv = get_prompt(store, project, prompt)
    model_names = list(models) or [pv.model or "offline"]
    version, rows = dataset_rows(store, project, dataset, dataset_version)
    ds_id = ds_store.get_dataset(store, project, dataset).id
    base = name or f"{pv.slug}@{pv.version} on {dataset}@{version}"
    variants = [Variant(id=VARIANT_IDS[i % 26] + ("" if i < 26 else str(i // 26)), prompt=pv,
                        model=get_model(store, m)) for i, m in enumerate(model_names)]
    report = RunReport(rows=len(rows))
    total = len(rows) * len(variants)
    done = 0

    def progressed(cell: Cell) -> None:
        nonlocal done
        if cell.status in (DONE, ERROR):
            done += 1
            if on_progress:
                on_progress(done, total)

    runs = []
    for v in variants:
        exp_name = base if len(variants) == 1 else f"{base}/{v.model.name}"
        exp = ex_store.create_experiment(store, project, exp_name, dataset_id=ds_id, dataset_version=version,
                                         prompt_slug=pv.slug, prompt_version=pv.version, model=v.model.name,
                                         params=v.merged_params(), author=author)
        writer = TraceWriter(store, exp.rows_project).start()
        grid = GridRun([v], rows, client=client, scorers=scorers, writer=writer, on_cell=progressed,
                       key_meta=lambda cell, e=exp.name: {"experiment": e})
        runs.append((exp, writer, grid))
    if on_progress:
        on_progress(0, total)
    results = await asyncio.gather(*(g.run() for _, _, g in runs), return_exceptions=True)
    for (exp, writer, grid), res in zip(runs, results):
        await writer.close()
        cells = list(grid.cells.values())
        report.failed += sum(1 for c in cells if c.status == ERROR)
        report.cancelled += sum(1 for c in cells if c.status == CANCELLED)
        ex_store.finish_experiment(store, exp, "cancelled" if isinstance(res, BaseException) or any(
            c.status == CANCELLED for c in cells) else "complete")
        report.experiments.append(ex_store.get_experiment(store, project, exp.name))
        if isinstance(res, BaseException) and not isinstance(res, asyncio.CancelledError):
            raise res
    starts = [g.first_request for _, _, g in runs if g.first_request]
    ends = [g.last_response for _, _, g in runs if g.last_response]
    report.wall_time = (max(ends) - min(starts)) if starts and ends else None
    return report
