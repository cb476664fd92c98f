"""The human review `bt-tui demo` sets up (issue 11), so that `bt-tui demo` then `R` lands a
newcomer in a working review: score configurations that match the demo's feedback, and a queue of
the traces customers rated low, some of it assigned and already under way.

- **Score configurations** (added by maya, the PM):
  ``tone`` (categorical: friendly=1, neutral=0.5, curt=0), ``helpfulness`` (continuous, 0-100%;
  the automated LLM judge is ``Helpfulness``), ``policy_correct`` (boolean: does the answer
  follow Acme's policy) and ``review_note`` (text, in ``metadata.review_note``).
- **The queue**: the 21 traces customers rated 3 stars or fewer (``QUEUE_FILTER``), flagged by
  sam; maya has the refund and billing ones, sam the ones where the bot's tools failed or the
  customer asked for a person, the rest are unassigned.
- **Reviews already under way**: maya completed two, sam one; maya started a fourth that sam
  scored too (the row's score is the average of their two values, each kept with its author);
  sam started a fifth. So the kanban shows all three states and the averages show something.

Everything is deterministic: the traces are named by id (tests/test_demo_review.py checks the
filter still finds exactly these), the values and authors are fixed; only the times are the
clock's. Seeding is idempotent: it happens once, while the review queue is empty and the project
has no score configurations but the demo's (an older demo database is upgraded, an interrupted
seeding is finished; a project someone set up is left alone), and only when every trace it names
is in the logs (a project that is not the demo's gets nothing).
"""

from __future__ import annotations

from store import Store
from store.errors import NotFound
from store.projects import project_id
from store.review import (
    add_score_config,
    flag,
    list_score_configs,
    make_config,
    queue_counts,
    set_state,
    set_value,
)
from store.selection import Selection, count_selection

PM = "maya"
ENGINEER = "sam"

CONFIGS = (
    make_config("tone", "categorical", [("friendly", 1.0), ("neutral", 0.5), ("curt", 0.0)],
                description="How the answer sounds to the customer."),
    make_config("helpfulness", "continuous",
                description="How far the answer gets the customer to a solution (0-100%); the LLM judge's is Helpfulness."),
    make_config("policy_correct", "boolean",
                description="Does the answer follow Acme's policy (14-day window, KB-1101/1103; warranty KB-1105)?"),
    make_config("review_note", "text", path="review_note",
                description="What should change, for the prompt owner (stored in metadata.review_note)."),
)
CONFIG_NAMES = tuple(c.name for c in CONFIGS)

QUEUE_FILTER = "scores.user_rating < 0.6"  # 3 stars or fewer
QUEUE = (  # what QUEUE_FILTER finds in the demo logs (traces), in trace order
    "span-bcb03693c97b1e00", "span-adcf4ad1505f9591", "span-b0c9481d4d557e2c", "span-69b828fb9ea2ca24",
    "span-64e5155267eae94a", "span-a3c73ec65455f14b", "span-3024a7fd64d3de2f", "span-304cfe447cbfdeab",
    "span-d927965c169fe347", "span-e0fa9f2d6a249e39", "span-a57d9bb026ee7914", "span-3ff3b1bb2100a38b",
    "span-95a55b212f62bb8a", "span-324a4d6f0b236f58", "span-cc9d51ea900ce57e", "span-a234f8808102beec",
    "span-4db3d8422730e72d", "span-36e99ab8fbc15326", "span-962b8b73913e97a6", "span-56a463983b651e3d",
    "span-08deefa7b8f2fde7",
)
ASSIGNED = {
    PM: ("span-b0c9481d4d557e2c", "span-304cfe447cbfdeab", "span-d927965c169fe347", "span-e0fa9f2d6a249e39",
         "span-3ff3b1bb2100a38b", "span-4db3d8422730e72d"),  # refunds and a double charge
    ENGINEER: ("span-69b828fb9ea2ca24", "span-95a55b212f62bb8a", "span-324a4d6f0b236f58",
               "span-36e99ab8fbc15326"),  # tools failed, a person asked for, a canned answer
}

# (trace, reviewer, {score: value}, state after): in this order. A categorical value is its label.
REVIEWS: tuple[tuple[str, str, dict, str], ...] = (
    ("span-304cfe447cbfdeab", PM, {
        "tone": "friendly", "helpfulness": 0.8, "policy_correct": 1,
        "review_note": "Right call: outside the 14-day window, so a warranty claim (KB-1105), opened at once. "
                       "The customer still rated it low; nothing to change in the prompt."}, "complete"),
    ("span-e0fa9f2d6a249e39", PM, {
        "tone": "curt", "helpfulness": 0.2, "policy_correct": 0,
        "review_note": "A wrong item is not a fault: the warranty does not apply. Offer to swap the item "
                       "(KB-1103 exception for wrong items) and answer in Japanese."}, "complete"),
    ("span-36e99ab8fbc15326", ENGINEER, {
        "tone": "neutral", "helpfulness": 0.0, "policy_correct": 0,
        "review_note": "The lookup tool failed; a lockout needs no lookup. The bot should say the lock clears "
                       "after 15 minutes and send the reset link."}, "complete"),
    ("span-4db3d8422730e72d", PM, {"tone": "friendly", "helpfulness": 0.5, "policy_correct": 1}, "pending"),
    ("span-4db3d8422730e72d", ENGINEER, {"tone": "neutral", "helpfulness": 0.7}, "pending"),
    ("span-324a4d6f0b236f58", ENGINEER, {"tone": "neutral", "helpfulness": 0.0}, "pending"),
)


def _has_spans(store: Store, project: str) -> bool:
    try:
        return count_selection(store, Selection(project, shape="spans", ids=QUEUE)) == len(QUEUE)
    except NotFound:  # no such project
        return False


def seed_demo_review(store: Store, project: str) -> bool:
    """Add the demo's score configurations, queue and reviews, once; True when it did."""
    try:
        project_id(store, project, create=False)
    except NotFound:
        return False
    if any(queue_counts(store, project).values()):
        return False  # seeded already (or someone queued traces): leave it alone
    have = {c.name: c for c in list_score_configs(store, project)}
    if any(have.get(c.name, c) != c for c in CONFIGS) or set(have) - set(CONFIG_NAMES):
        return False  # someone set up their own scores: leave them alone
    if not _has_spans(store, project):
        return False
    for config in CONFIGS:
        if config.name not in have:  # (an interrupted earlier seeding added some)
            add_score_config(store, project, config, author=PM)
    flag(store, project, QUEUE, author=ENGINEER)
    for person, ids in ASSIGNED.items():
        flag(store, project, ids, assignee=person, author=ENGINEER)
    by_name = {c.name: c for c in CONFIGS}
    for trace, reviewer, values, after in REVIEWS:
        set_state(store, project, trace, "pending", author=reviewer)
        for name, value in values.items():
            config = by_name[name]
            if config.type == "text":
                set_value(store, project, trace, config, text=value, author=reviewer)
            elif config.type == "categorical":
                set_value(store, project, trace, config, labels=[value], author=reviewer)
            else:
                set_value(store, project, trace, config, value=value, author=reviewer)
        if after == "complete":
            set_state(store, project, trace, "complete", author=reviewer)
    return True


def describe(store: Store, project: str) -> str:
    """One line for `bt-tui demo`: the scores and the queue."""
    counts = queue_counts(store, project)
    names = ", ".join(c.name for c in list_score_configs(store, project))
    queue = ", ".join(f"{n} {s}" for s, n in counts.items())
    return f"scores {names}; a review queue of {sum(counts.values())} low-rated traces ({queue})"


__all__ = ["CONFIGS", "CONFIG_NAMES", "ENGINEER", "PM", "QUEUE", "QUEUE_FILTER", "REVIEWS", "describe",
           "seed_demo_review"]
