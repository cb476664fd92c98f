"""`bt-tui run`: a prompt over a dataset version with one or more models, headless (DESIGN.md
section 4; the engine is engine/playground.py's ``run_experiments``).

One experiment per model: ``--name NAME`` with one model, ``NAME/MODEL`` with several (the
default name is ``SLUG@V on DATASET@V``). Every row is run and stored, failed rows with their
error. A progress bar on a terminal, quiet when piped; at the end, per experiment: its rows,
each score's average, errors, wall time, tokens and cost, and how many rows failed.

Exit codes: 0 when the run completed (failed rows included); 1 when it was interrupted (ctrl+c
or a kill: the calls in flight are cancelled, what finished is kept, the experiments are marked
cancelled); 2 for bad input before anything runs (an unknown dataset, version, prompt, model or
scorer, a model whose key variable is not set).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import List, Optional

import typer

from .common import (AUTHOR_HELP, UsageError, app, check_format, fail, open_store, progress_bar, state,
                     stop_on_signals, user_errors)
from .models import close_client, format_cost, missing_key, scrub

DEFAULT_CONCURRENCY = 10


def parse_dataset_ref(ref: str) -> tuple[str, Optional[int]]:
    """``NAME`` or ``NAME@V`` (V a positive number; a name may hold '@' itself)."""
    name, sep, ver = ref.strip().rpartition("@")
    if not sep:
        return ref.strip(), None
    if ver.isdigit() and int(ver) >= 1 and name:
        return name, int(ver)
    if ver.isdigit() or not ver:
        raise UsageError(f"--dataset {ref!r}: the version after '@' must be a number (1, 2, ...)")
    return ref.strip(), None  # '@' inside the name


@dataclass
class ModelUsage:
    """What one model's calls cost: tokens, dollars, first request to last response."""
    tokens: int = 0
    cost: float = 0.0
    priced: bool = False
    first: Optional[float] = None
    last: Optional[float] = None
    first_error: Optional[str] = None

    def add(self, call) -> None:
        if call.error and self.first_error is None:
            self.first_error = call.error
        self.tokens += call.tokens or 0
        if call.cost is not None:
            self.cost += call.cost
            self.priced = True
        start, end = getattr(call, "start", None), getattr(call, "end", None)
        if start is not None and (self.first is None or start < self.first):
            self.first = start
        if end is not None and (self.last is None or end > self.last):
            self.last = end

    @property
    def wall_time(self) -> Optional[float]:
        return None if self.first is None or self.last is None else self.last - self.first


class StoppableClient:
    """The LLM client the run uses, made stoppable: after ``stop()`` every call in flight is
    cancelled and every later one is refused as cancelled, so the grid's cells end as cancelled
    and ``run_experiments`` closes its writers and marks its experiments cancelled (cancelling
    the run's own task would skip that). Also counts tokens, cost and time per model."""

    def __init__(self, client):
        self.client = client
        self.stopped = asyncio.Event()
        self.usage: dict[str, ModelUsage] = {}

    def stop(self) -> None:
        self.stopped.set()

    async def complete(self, spec, messages, **kwargs):
        if self.stopped.is_set():
            raise asyncio.CancelledError()
        call = asyncio.ensure_future(self.client.complete(spec, messages, **kwargs))
        stop = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            call.cancel()
            raise
        finally:
            stop.cancel()
        if not call.done():
            call.cancel()
            try:
                await call
            except BaseException:
                pass
            raise asyncio.CancelledError()
        result = call.result()
        # A provider that echoes the request's key in its error never gets it stored: the client
        # scrubs it, and so does this (a key must not reach the database by any path).
        for attr in ("error", "output"):
            value = getattr(result, attr, None)
            if isinstance(value, str) and spec.key_env:
                setattr(result, attr, scrub(value, [spec.key_env]))
        self.usage.setdefault(spec.name, ModelUsage()).add(result)
        return result

    def __getattr__(self, name):
        return getattr(self.client, name)


def _judge(store, name: Optional[str]):
    """``--judge MODEL``: a model configuration made the LLM judges' model."""
    if name is None:
        return None
    from engine.scorers import JudgeModel
    from store.model_configs import get_model

    cfg = get_model(store, name)
    if cfg.offline:
        raise UsageError(f"--judge {name!r}: the offline model cannot judge; pick a configured model")
    line = missing_key(cfg)
    if line:
        raise UsageError(f"--judge: {line}")
    return JudgeModel(model=cfg.model, api_base=cfg.api_base, key_env=cfg.key_env, params=dict(cfg.params)), cfg


def _scorers(names: List[str], judge) -> list:
    from engine.scorers import BUILTIN, resolve_scorer

    out = []
    seen = set()
    for n in names:
        key = n.strip().lower()
        if key in seen:
            raise UsageError(f"--scorer {n!r} is given twice")
        seen.add(key)
        if not any(b.lower() == key for b in BUILTIN):
            raise UsageError(f"unknown scorer {n!r} (known: {', '.join(BUILTIN)})")
        try:
            out.append(resolve_scorer(n, judge=judge))
        except ValueError as exc:  # an LLM judge without --judge
            raise UsageError(f"--scorer {n}: {exc}") from None
    return out


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{v * 100:.2f}%"


def _seconds(s: Optional[float]) -> str:
    if s is None:
        return "-"
    return f"{s:.2f} s" if s < 60 else f"{int(s // 60)} min {s % 60:.0f} s"


@app.command("run")
def run_cmd(
    dataset: str = typer.Option(..., "--dataset", "-d", metavar="NAME[@V]",
                                help="The dataset, at version V (default: its latest)."),
    prompt: str = typer.Option(..., "--prompt", metavar="SLUG[@V]", help="The prompt, at version V (default: its latest)."),
    model: List[str] = typer.Option([], "--model", "-m", metavar="NAME",
                                    help="A model configuration (default: the prompt's own, else offline). Repeatable:"
                                         " one experiment per model."),
    scorer: List[str] = typer.Option([], "--scorer", "-s", metavar="NAME",
                                     help="A scorer: ExactMatch, Levenshtein, NumericDiff, JSONDiff, ValidJSON,"
                                          " ListContains, Factuality, ClosedQA (the last two need --judge). Repeatable."),
    judge: Optional[str] = typer.Option(None, "--judge", metavar="MODEL",
                                        help="The model configuration LLM judges (Factuality, ClosedQA) call."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", "-c", metavar="N",
                                    help="Calls in flight at once."),
    name: Optional[str] = typer.Option(None, "--name", "-n", metavar="EXPERIMENT",
                                       help="The experiment's name (NAME/MODEL with several models; default:"
                                            " 'SLUG@V on DATASET@V'). A name in use gets a suffix: -2, -3, ..."),
    timeout: float = typer.Option(120.0, "--timeout", metavar="S", help="Give up on a call after S seconds."),
    retries: int = typer.Option(3, "--retries", metavar="N", help="Retries of a call on 429, 5xx or a timeout."),
    fmt: str = typer.Option("table", "--format", "-f",
                            help="table | jsonl (the summary: one line per experiment, `experiment list`'s keys plus"
                                 " tokens, cost, wall_time)"),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Run a prompt over a dataset with one or more models and store one experiment per model."""
    from store.datasets import get_dataset, resolve_version
    from store.model_configs import get_model
    from store.prompts import get_prompt

    with user_errors():
        check_format(fmt)
        if concurrency < 1:
            raise UsageError(f"--concurrency {concurrency}: give 1 or more")
        if not timeout > 0:
            raise UsageError(f"--timeout {timeout:g}: give a number of seconds above 0")
        if retries < 0:
            raise UsageError(f"--retries {retries}: give 0 or more")
        ds_name, ds_version = parse_dataset_ref(dataset)
        store = open_store(must_exist=True)
        get_dataset(store, state.project, ds_name)  # unknown dataset: exit 2, naming it
        version = resolve_version(store, state.project, ds_name, ds_version, None)
        pv = get_prompt(store, state.project, prompt)
        names = list(model) or [pv.model or "offline"]
        dup = next((m for i, m in enumerate(names) if m in names[:i]), None)
        if dup:
            raise UsageError(f"--model {dup!r} is given twice")
        configs = [get_model(store, m) for m in names]
        for cfg in configs:
            line = missing_key(cfg)
            if line:
                raise UsageError(line)
        judged = _judge(store, judge)
        scorers = _scorers(scorer, judged[0] if judged else None)
        key_envs = [c.key_env for c in configs] + ([judged[1].key_env] if judged else [])
        report, usage, interrupted = _run(store, ds_name, version, pv.ref, names, scorers, concurrency, name, timeout,
                                          retries, author)
        _summary(report, usage, fmt, key_envs)
        if interrupted:
            raise fail(f"interrupted: the run was cancelled ({report.cancelled} unfinished cell"
                       f"{'s' if report.cancelled != 1 else ''}); what finished is kept and the experiment"
                       f"{'s are' if len(report.experiments) != 1 else ' is'} marked cancelled", 1)


def _run(store, dataset, version, prompt, models, scorers, concurrency, name, timeout, retries, author):
    """The run on an event loop of its own. The first SIGINT (ctrl+c), SIGTERM or SIGHUP stops
    it cleanly; a second ctrl+c quits at once."""
    from store.datasets import RecordsQuery

    total = RecordsQuery(store, state.project, dataset, version=version).count() * len(models)
    try:
        return asyncio.run(_arun(store, dataset, version, prompt, models, scorers, concurrency, name, timeout,
                                 retries, author, total))
    except KeyboardInterrupt:
        raise fail("interrupted twice: stopped at once; the experiments may be left marked running", 1) from None


async def _arun(store, dataset, version, prompt, models, scorers, concurrency, name, timeout, retries, author,
                total):
    from engine.llm import LLMClient
    from engine.offline import OfflineModel
    from engine.playground import run_experiments

    inner = LLMClient(concurrency=concurrency, timeout=timeout, max_retries=retries,
                      offline=OfflineModel(store, state.project))
    client = StoppableClient(inner)
    try:
        with stop_on_signals(client.stop, "the calls in flight") as stopped, \
                progress_bar("running", total, unit="rows") as adv:
            seen = [0]

            def progressed(done: int, _total: int) -> None:
                adv(done - seen[0])
                seen[0] = done

            start = time.monotonic()
            report = await run_experiments(store, state.project, dataset=dataset, dataset_version=version,
                                           prompt=prompt, models=models, scorers=scorers, client=client, name=name,
                                           author=author, on_progress=progressed)
            if report.wall_time is None:
                report.wall_time = time.monotonic() - start
    finally:
        await close_client(inner)
    return report, client.usage, stopped()


def _summary(report, usage: dict, fmt: str, key_envs) -> None:
    out = sys.stdout
    if fmt == "jsonl":
        from .common import print_jsonl

        lines = []
        for exp in report.experiments:
            u = usage.get(exp.model) or ModelUsage()
            lines.append({**exp.to_json(), "tokens": u.tokens, "cost": u.cost if u.priced else None,
                          "wall_time": u.wall_time})
        print_jsonl(lines)
        return
    for exp in report.experiments:
        u = usage.get(exp.model) or ModelUsage()
        out.write(f"experiment {exp.name!r}: {exp.prompt} · {exp.model} over {exp.dataset!r}@{exp.dataset_version}"
                  f"{' (cancelled)' if exp.status == 'cancelled' else ''}\n")
        out.write(f"  rows       {exp.rows}\n")
        for score, avg in exp.scores.items():
            out.write(f"  {_pct(avg):>8}   {score!r} score\n")
        out.write(f"  errors     {exp.errors}\n")
        if exp.errors and u.first_error:
            out.write(f"  first error: {scrub(u.first_error, key_envs)}\n")
        out.write(f"  wall time  {_seconds(u.wall_time)}\n")
        out.write(f"  tokens     {u.tokens}\n")
        out.write(f"  cost       {format_cost(u.cost) if u.priced else 'unknown'}\n")
    if report.failed:
        out.write(scrub(f"{report.failed} row{'s' if report.failed != 1 else ''} failed"
                        " (their errors are on the experiment rows)\n", key_envs))
    out.flush()
