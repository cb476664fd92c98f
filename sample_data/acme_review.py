"""After the fact: trace totals, automated scores, user feedback, tags and reviewer comments.
Part of the generator (``generate.py``)."""

from __future__ import annotations

from typing import Any

from sample_data.acme_spans import Span, reference_answer
from sample_data.acme_world import ANCHOR_MS, HOUR, T_2_15_1, Ctx, Gen, Plan, clamp, iso, pick, tables

FEEDBACK_NEG, FEEDBACK_POS, REVIEWERS, COMMENTS = tables("review", "FEEDBACK_NEG FEEDBACK_POS REVIEWERS COMMENTS")


def comment(g: Gen, text: str, author: str, at: int) -> dict:
    return {"id": "cmt-" + g.hex(12), "text": text, "author": author, "created": iso(at)}


def finalize_metrics(root: Span) -> None:
    llms = [s for s in root.all if s.type == "llm"]
    pt = sum(s.metrics.get("prompt_tokens", 0) for s in llms)
    ct = sum(s.metrics.get("completion_tokens", 0) for s in llms)
    cost = sum(s.metrics.get("estimated_cost", 0.0) for s in llms)
    root.metrics = {"prompt_tokens": pt, "completion_tokens": ct, "tokens": pt + ct, "estimated_cost": round(cost, 6),
                    "llm_calls": len(llms), "tool_calls": sum(1 for s in root.all if s.type == "tool")}


def r3(x: float) -> float:
    return round(clamp(x), 3)


def annotate(c: Ctx, plan: Plan, root: Span, info: dict) -> None:
    g, rng, u = c.g, c.rng, c.user
    fl = plan.flags
    failed = info["failed"]
    adj = {"gpt-4o": 0.0, "gpt-4o-mini": -0.05, "claude-3-5-sonnet": 0.02, "gpt-4-turbo": -0.01}[c.model]
    base = clamp(rng.betavariate(9, 2) + adj)
    fact = base + rng.gauss(0, 0.05)
    helpf = base + rng.gauss(0, 0.08)
    rel = 0.9 + rng.gauss(0, 0.05)
    if fl.get("wrong_fact"):
        fact = rng.uniform(0.05, 0.35)
    if fl.get("wrong_action"):
        fact = rng.uniform(0.02, 0.18)
        helpf = rng.uniform(0.45, 0.8)
    if fl.get("clarify"):
        helpf = rng.uniform(0.45, 0.72)
    if info.get("misclassified"):
        rel = rng.uniform(0.35, 0.62)
        helpf -= 0.15
    if plan.intent == "out_of_scope":
        rel, fact = rng.uniform(0.7, 0.95), rng.uniform(0.85, 1.0)
    if fl.get("injection"):
        helpf = rng.uniform(0.6, 0.9)
    sat = helpf
    if plan.outcome in ("outside_decline", "sub_outside", "sub_monthly", "need_order_id", "confirm_first",
                        "upgrade_needed", "not_owner"):
        sat -= 0.25
    if failed:
        sat = rng.uniform(0.0, 0.25)

    scores: dict[str, Any] = {}
    if not failed and rng.random() < 0.78:
        scores = {"Factuality": r3(fact), "Helpfulness": r3(helpf), "Relevance": r3(rel)}
        if rng.random() < 0.02:
            scores["Factuality"] = None  # scorer timed out
        if info.get("kb") is not None and rng.random() < 0.5:
            info["kb"].scores = {"ContextRelevance": r3(info.get("kb_top", 0.5) + rng.gauss(0, 0.04))}
    elif failed and rng.random() < 0.3:
        scores = {"Helpfulness": r3(rng.uniform(0.05, 0.3))}
    thumbs = None
    if rng.random() < (0.45 if failed or fl.get("wrong_action") else 0.25):
        rating = round(clamp(sat + rng.gauss(0, 0.15)) * 4) / 4
        thumbs = 1 if rating >= 0.75 else 0 if rating <= 0.25 else int(rng.random() < 0.5)
        # User feedback is scores only (what `log_feedback(scores=...)` writes): the rating and
        # the thumbs. The draw below once put a copy of the thumbs in metadata; it stays so
        # that the rest of the corpus comes out as before.
        scores["user_rating"] = rating
        scores["thumbs_up"] = thumbs
        rng.random()
        if thumbs == 0 and rng.random() < 0.4:
            root.metadata["feedback_comment"] = pick(rng, FEEDBACK_NEG[c.lang])
        elif thumbs == 1 and rng.random() < 0.2:
            root.metadata["feedback_comment"] = pick(rng, FEEDBACK_POS[c.lang])
    root.scores = scores

    tags = ["production"] if c.env == "production" else ["staging"]
    if fl.get("escalated") or failed:
        tags.append("escalated")
    if u.vip:
        tags.append("vip")
    if fl.get("wrong_fact") and rng.random() < 0.7:
        tags.append("regression")
    autos = [v for k, v in scores.items() if k in ("Factuality", "Helpfulness", "Relevance") and v is not None]
    low = bool(autos) and min(autos) < 0.4
    if ((fl.get("injection") and rng.random() < 0.5) or (low and rng.random() < 0.5)
            or (thumbs == 0 and rng.random() < 0.3) or (failed and rng.random() < 0.4)):
        tags.append("needs-review")
    root.tags = tags

    # reviewer comments on ~5% of traces
    kind, p = "good", 0.012
    if fl.get("wrong_action"):
        kind, p = "wrong_action", 0.5
    elif fl.get("wrong_fact"):
        kind, p = "wrong_fact", 0.3
    elif failed:
        kind, p = "failed", 0.25
    elif fl.get("injection"):
        kind, p = "injection", 0.4
    elif info.get("misclassified"):
        kind, p = "misclassified", 0.35
    elif low:
        kind, p = "low", 0.12
    elif c.lang == "ja" and autos and min(autos) > 0.85:
        kind, p = "ja", 0.15
    if rng.random() < p:
        author = "kenji@acme.io" if kind == "ja" else pick(rng, REVIEWERS)
        text = pick(rng, COMMENTS[kind]).format(days=plan.slots.get("days_ago", "?"),
                                                tool=failed.name if failed else "", ops=rng.randint(1200, 1999),
                                                pred=info.get("pred"), intent=plan.intent)
        at = root.end + rng.randint(2, 40) * HOUR + rng.randint(0, 3599) * 1000
        root.comments = [comment(g, text, author, at)]
        if kind in ("wrong_action", "wrong_fact") and rng.random() < 0.4:
            root.comments.append(comment(g, "Confirmed. Fixed in support-system@v12.1 (app 2.15.1).", "sam@acme.io",
                                         max(at, ANCHOR_MS + T_2_15_1) + rng.randint(1, 30) * 60_000))
        if "needs-review" not in tags and kind != "good" and kind != "ja":
            tags.append("needs-review")
    if not failed and rng.random() < (0.3 if root.comments else 0.08):
        root.expected = reference_answer(c, plan)
