"""The demo's support bot prompt over the demo's refund regressions dataset, on the offline model.

    bt-tui demo --no-launch                                   # once: the demo database
    bt-tui --db "$(python -c 'from store.paths import demo_db_path; print(demo_db_path())')" \
        eval sample_data/evals/eval_refund_policy.py

    PROMPT_VERSION=1 bt-tui --db ... eval sample_data/evals/eval_refund_policy.py --no-regressions

The task builds the stored prompt ``support-bot`` (``load_prompt(...).build(...)``, as with
Braintrust's prompts) with the record's input and metadata and calls the built-in ``offline``
model through bt-tui's engine (``completion``): no key, no network. Each call is an ``llm`` span
of the row's task span. Version 2 says refunds are accepted within 14 days; version 1 (the
production regression) says 30: run both and the summary says which rows got better or worse.
"""

import os
import re

from autoevals import Levenshtein

from bt_tui import Eval, completion, init_dataset, load_prompt

PROJECT = os.environ.get("BT_TUI_PROJECT", "default")  # where `bt-tui demo` puts its data
VERSION = int(os.environ.get("PROMPT_VERSION", "2"))


def task(input, hooks):
    prompt = load_prompt("support-bot", version=VERSION, project=PROJECT)
    hooks.metadata["prompt"] = f"support-bot@{VERSION}"
    return completion(**prompt.build(input=input, metadata=hooks.metadata))


FOURTEEN = re.compile(r"\b(14|fourteen|catorce|quatorze|vierzehn|quattordici)\b", re.I)


def mentions_14_days(output):
    """Does the answer state the 14-day refund window (KB-1101), in any of the demo's languages?"""
    return bool(FOURTEEN.search(output or ""))


Eval(
    "refund policy",
    project=PROJECT,
    experiment_name=f"support-bot@{VERSION} (eval)",
    data=init_dataset(PROJECT, "refund policy regressions"),
    task=task,
    scores=[Levenshtein, mentions_14_days],
    metadata={"prompt": f"support-bot@{VERSION}", "model": "offline"},
)
