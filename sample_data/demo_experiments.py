"""The experiments `bt-tui demo` holds (issue 13), so that a newcomer opening Experiments (`X`) finds
the evaluation loop working: the support bot's two prompt versions, each run over the refund
regressions dataset with the offline model and scored, and a comparison that shows which cases got
better and which got worse.

- ``support-bot@1 baseline`` (sam): ``support-bot@1`` (the production prompt, 30-day refunds);
- ``support-bot@2 14-day fix`` (maya): ``support-bot@2`` (the fix), made after the first, so its
  default base is the baseline.

Both are scored with Levenshtein and ExactMatch against the dataset's expected answers, and
with ``mentions_14_days``: whether the answer states the current 14-day policy (the regression
the dataset was built to catch). Seeding is idempotent: an experiment is made only while the project has
none of that name; it needs the demo's prompt and dataset (a project that is not the demo's gets
nothing). The answers and scores are deterministic (the offline model); only times are the
clock's. Nothing here imports litellm.
"""

from __future__ import annotations

import asyncio
import re

from store import Store
from store.errors import NotFound

from .demo_prompts import ENGINEER, MODEL, PM, SLUG

EXPERIMENTS = (("support-bot@1 baseline", 1, ENGINEER), ("support-bot@2 14-day fix", 2, PM))
SCORERS = ("Levenshtein", "ExactMatch")
_FOURTEEN = re.compile(r"\b(14|fourteen|catorce|quatorze|vierzehn|quattordici|quatorze)\b", re.I)


def mentions_14_days(output) -> float:
    """1 when the answer states the 14-day refund window, else 0 (the policy the fix restored)."""
    return 1.0 if isinstance(output, str) and _FOURTEEN.search(output) else 0.0


def _names(store: Store, project: str) -> set[str]:
    from store.experiments import list_experiments

    return {e.name for e in list_experiments(store, project)}


def seed_demo_experiments(store: Store, project: str) -> list[str]:
    """Run the demo's experiments that are missing; the names made."""
    from engine.llm import LLMClient
    from engine.offline import OfflineModel
    from engine.playground import run_experiments
    from engine.scorers import resolve_scorer
    from sample_data.demo_datasets import REGRESSIONS
    from store.prompts import get_prompt

    try:
        get_prompt(store, project, f"{SLUG}@2")
    except NotFound:
        return []  # not the demo's project: its prompt is not there
    have = _names(store, project)
    todo = [e for e in EXPERIMENTS if e[0] not in have]
    if not todo:
        return []
    scorers = [resolve_scorer(s) for s in SCORERS] + [resolve_scorer(mentions_14_days)]

    async def go() -> None:
        client = LLMClient(concurrency=4, offline=OfflineModel(store, project))
        try:
            for name, version, author in todo:
                await run_experiments(store, project, dataset=REGRESSIONS, prompt=f"{SLUG}@{version}",
                                      models=[MODEL], scorers=scorers, client=client, name=name, author=author)
        finally:
            closer = getattr(client, "aclose", None)
            if closer is not None:
                await closer()

    try:
        asyncio.run(go())
    except NotFound:
        return []  # the dataset is not there
    return [e[0] for e in todo]


def describe(store: Store, project: str) -> str:
    """One line for `bt-tui demo`: the experiments and what their comparison shows."""
    from store.compare import compare_experiments
    from store.experiments import get_experiment

    base, cand = (get_experiment(store, project, n) for n, _, _ in EXPERIMENTS)
    comp = compare_experiments(store, project, base, cand, intervals=False)
    parts = [f"{s.score} {s.base * 100:.0f}% -> {s.candidate * 100:.0f}% ({s.improvements} better, "
             f"{s.regressions} worse)" for s in comp.scores if s.base is not None and s.candidate is not None]
    return f"experiments {base.name!r} and {cand.name!r} (press X): " + "; ".join(parts)


__all__ = ["EXPERIMENTS", "describe", "mentions_14_days", "seed_demo_experiments"]
