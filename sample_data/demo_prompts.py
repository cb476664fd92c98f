"""The prompts and the playground `bt-tui demo` sets up (issue 12), so that a newcomer opening the
Playground sees at once what the exploration loop is for: the support bot's prompt that caused the
refund regression, its fix, and both run over the regressions dataset, side by side.

- **Prompt ``support-bot``**, two versions, both with the built-in ``offline`` model:

  1. (sam) the production system prompt ``support-system@v12`` (app 2.15.0), which says refunds
     are accepted "within 30 days of delivery";
  2. (maya) the fix ``support-system@v12.1`` (app 2.15.1): "refundable within 14 days of
     delivery (KB-1101)".

  The system text is the generator's (``SYSTEM_PROMPTS`` in ``tables/kb.json``) with its one
  Python placeholder, ``{language}`` (production filled in "Spanish", "French", ...), made the
  mustache variable ``{{metadata.locale}}``: a dataset record keeps the customer's locale
  (``es-ES``) in its metadata, not the language's name. The user message is the customer's
  message as production sent it: a demo record's input is an object ``{message, subject?,
  conversation_id}``, so the template is ``{{input.message}}``, preceded by ``Subject: ...`` and
  a blank line when the input has a subject (emails), exactly as production's user turn.

- **Playground ``refund policy``** over the dataset ``refund policy regressions`` (its version
  at seeding time) with variant A = ``support-bot@1`` and B = ``support-bot@2``, both offline,
  and its results already run (the offline model, so no network, no key and no litellm import)
  and scored with Levenshtein against the expected answers: the 30-day answers of A and the
  14-day answers of B are there the moment the playground opens.

Seeding is idempotent: the prompt is written only while it does not exist (or, after an
interrupted seeding, holds exactly version 1 of the demo's); the playground is made only while
there is none of that name, and run only while it has no results. A project without the demo's
dataset (a project that is not the demo's) gets nothing. The prompt texts, the variants and the
offline answers are deterministic; only the times are the clock's.
"""

from __future__ import annotations

import asyncio
from typing import Optional

from store import Store
from store.errors import NotFound

PM = "maya"
ENGINEER = "sam"

SLUG = "support-bot"
PLAYGROUND = "refund policy"
MODEL = "offline"
SCORERS = ("Levenshtein",)
DESCRIPTION = "Acme's support bot: the production system prompt and the customer's message."

# The customer's turn as production sent it: "Subject: ...\n\n" for emails, then the message.
USER_TEMPLATE = "{{#input.subject}}Subject: {{input.subject}}\n\n{{/input.subject}}{{input.message}}"
LANGUAGE = "the language of locale {{metadata.locale}}"


def system_prompt(version: str) -> str:
    """The production system prompt ``version`` (e.g. ``support-system@v12``) as a template."""
    from sample_data.acme_world import tables

    (prompts,) = tables("kb", "SYSTEM_PROMPTS")
    return prompts[version].replace("{language}", LANGUAGE)


def messages(version: str) -> list[dict]:
    return [{"role": "system", "content": system_prompt(version)}, {"role": "user", "content": USER_TEMPLATE}]


# (production prompt version, author) of support-bot@1 and @2
VERSIONS = (("support-system@v12", ENGINEER), ("support-system@v12.1", PM))


def variants() -> list[dict]:
    return [{"id": vid, "prompt": f"{SLUG}@{n}", "model": MODEL, "params": {}, "repeat": 1}
            for vid, n in (("A", 1), ("B", 2))]


def _dataset_version(store: Store, project: str) -> Optional[int]:
    from sample_data.demo_datasets import REGRESSIONS
    from store.datasets import resolve_version

    try:
        return resolve_version(store, project, REGRESSIONS)
    except NotFound:
        return None


def _seed_prompt(store: Store, project: str) -> bool:
    """support-bot@1 and @2, unless someone's prompt of that name is there. True when it is the
    demo's (made now or before)."""
    from store.prompts import prompt_history, save_prompt

    try:
        have = prompt_history(store, project, SLUG)
    except NotFound:
        have = []
    wanted = [messages(v) for v, _ in VERSIONS]
    if [h.messages for h in have] == wanted[:len(have)] and all(h.model == MODEL for h in have):
        for (_, author), msgs in list(zip(VERSIONS, wanted))[len(have):]:
            save_prompt(store, project, SLUG, msgs, model=MODEL, description=DESCRIPTION, author=author)
        return True
    return False  # someone's own support-bot: leave it alone (and make no playground over it)


def _has_cells(store: Store, project: str) -> bool:
    from store.experiments import get_playground, playground_cells

    return bool(playground_cells(store, get_playground(store, project, PLAYGROUND)))


def run_playground(store: Store, project: str) -> int:
    """Run every cell of the demo playground with the offline model; the number of cells run."""
    from engine.llm import LLMClient
    from engine.offline import OfflineModel
    from engine.playground import PlaygroundSession
    from engine.scorers import resolve_scorer

    async def go() -> int:
        session = PlaygroundSession(store, project, PLAYGROUND)
        client = LLMClient(concurrency=4, offline=OfflineModel(store, project))
        cells = await session.run_cells(client=client, scorers=[resolve_scorer(s) for s in SCORERS], stream=False)
        closer = getattr(client, "aclose", None)
        if closer is not None:
            await closer()
        return len(cells)

    return asyncio.run(go())


def seed_demo_prompts(store: Store, project: str) -> bool:
    """Add the demo's prompt versions and its playground with results, once; True when it added
    anything."""
    from store.experiments import get_playground, save_playground

    version = _dataset_version(store, project)
    if version is None:
        return False  # not the demo's project (or its datasets are not there)
    from store.prompts import list_prompts

    before = {p.slug: p.versions for p in list_prompts(store, project)}
    if not _seed_prompt(store, project):
        return False
    added = before.get(SLUG) != 2
    try:
        get_playground(store, project, PLAYGROUND)
    except NotFound:
        from sample_data.demo_datasets import REGRESSIONS

        save_playground(store, project, PLAYGROUND, dataset=REGRESSIONS, dataset_version=version,
                        variants=variants(), settings={"scorers": list(SCORERS), "judge": None},
                        author=ENGINEER)
        added = True
    if not _has_cells(store, project):
        run_playground(store, project)
        added = True
    return added


def describe(store: Store, project: str) -> str:
    """One line for `bt-tui demo`: the prompt's versions and the playground."""
    from engine.playground import PlaygroundSession

    session = PlaygroundSession(store, project, PLAYGROUND)
    parts = []
    for s, v in zip(session.summaries(), session.variants):
        scores = ", ".join(f"{k} {avg * 100:.0f}%" for k, avg in s.scores.items())
        parts.append(f"{v.id} = {v.prompt.ref} ({scores or 'no scores'})")
    return (f"prompt {SLUG!r} (versions 1: 30-day refund window, 2: 14 days) and playground {PLAYGROUND!r} over "
            f"{session.info.dataset!r}: " + "; ".join(parts))


__all__ = ["PLAYGROUND", "SLUG", "describe", "messages", "run_playground", "seed_demo_prompts", "variants"]
