#!/usr/bin/env python3
"""Generate the bt-tui demo corpus: traces of "Acme Support Bot", a customer-support assistant.

Standalone (stdlib only) and deterministic: the same seed and --traces always give the same bytes.
No clock, no network: every timestamp derives from ANCHOR (the corpus spans the 7 days from
2026-11-14T00:00:00Z to 2026-11-21T00:00:00Z).

    python sample_data/generate.py                      # writes sample_data/support_traces.jsonl
    python sample_data/generate.py -o /tmp/t.jsonl --traces 50

Each output line is one span in bt-tui's span-row shape (id, span_id, root_span_id, span_parents,
created, input, output, expected, error, scores, metadata, metrics, tags, span_attributes,
comments), ordered by trace start, then by span start within a trace.

This file is the driver; the rest of the generator sits beside it:
  acme_world.py      time, randomness, customers, money and dates, tool records, a conversation's context
  acme_scenarios.py  per intent: what the customer asks, what the tools return, the outcome (a Plan)
  acme_spans.py      one request -> its spans (classifier, KB search, lookups, tool calls, answer)
  acme_review.py     trace totals, scores, feedback, tags and reviewer comments
  acme_special.py    the two large traces (nightly triage job, runaway agent loop)
  tables/*.json      every text and data table (what customers write, answers, KB, people, ...)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

if __package__ in (None, ""):  # run as a script: import the modules beside us as the sample_data package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from sample_data.acme_review import annotate, finalize_metrics  # noqa: E402
from sample_data.acme_scenarios import SCENARIOS  # noqa: E402
from sample_data.acme_spans import INTENT_WEIGHTS, Span, build_support, style_user  # noqa: E402
from sample_data.acme_special import runaway_trace, triage_trace  # noqa: E402
from sample_data.acme_world import (  # noqa: E402
    ANCHOR_MS, DAY, DEFAULT_SEED, DEFAULT_TRACES, HOUR, Gen, User, make_ctx, make_users, pick, sample_time, tables,
    wpick,
)

(HISTORY,) = tables("customers", "HISTORY")  # language -> [(user line, bot line)] of an earlier exchange

DEFAULT_OUT = Path(__file__).resolve().parent / "support_traces.jsonl"


def regular_trace(g: Gen, u: User, t: int, force_intent: Optional[str] = None, fails: bool = False) -> Span:
    rng = g.rng
    if force_intent:
        intent = force_intent
    else:
        weights = [(i, w) for i, w in INTENT_WEIGHTS if not (u.plan == "free" and i == "billing_dispute")]
        intent = wpick(rng, weights)
    c = make_ctx(g, u, t, intent)
    plan = SCENARIOS[intent](c)
    plan.text = style_user(c, plan.text)
    history: list = []
    if c.channel != "email" and rng.random() < 0.12:
        hu, ha = pick(rng, HISTORY[c.lang])
        history = [{"role": "user", "content": hu}, {"role": "assistant", "content": ha}]
    fail = None
    if fails:
        kinds = ["kb"] + ["llm"] * 3 + (["tool"] * 3 if plan.steps else [])
        fail = (pick(rng, kinds), rng.random())  # which step fails: a fraction of the way through
    root, info = build_support(c, plan, fail, history)
    root.metadata = {"user_id": u.user_id, "locale": u.locale, "channel": c.channel, "plan": u.plan,
                     "app_version": c.app_version, "environment": c.env, "prompt_version": c.prompt_version,
                     "intent": plan.intent}
    finalize_metrics(root)
    annotate(c, plan, root, info)
    return root


def generate(n_traces: int, seed: int = DEFAULT_SEED) -> list[Span]:
    g = Gen(seed)
    rng = g.rng
    users = make_users(g)
    specials = 2 if n_traces >= 20 else 0
    n_reg = n_traces - specials
    starts = []
    for i in range(n_reg):
        u = rng.choices(users, weights=[x.weight for x in users])[0]
        starts.append((sample_time(rng, u), i, u))
    starts.sort(key=lambda x: (x[0], x[1]))
    failing = set(rng.sample(range(n_reg), round(0.04 * n_reg)))  # ~4% of traces hit an error somewhere
    roots = []
    for k, (t, _i, u) in enumerate(starts):
        force = "multi_issue" if k % 60 == 17 else None
        roots.append(regular_trace(g, u, t, force, k in failing))
    if specials:
        roots.append(triage_trace(g, users, ANCHOR_MS + 3 * DAY + 2 * HOUR + rng.randint(0, 900)))
        roots.append(runaway_trace(g, users, ANCHOR_MS + 6 * DAY + 10 * HOUR + 32 * 60_000 + rng.randint(0, 59_999)))
    roots.sort(key=lambda r: (r.start, r.span_id))
    return roots


def write(roots: list[Span], path: Path) -> tuple[int, int]:
    n = 0
    lines = []
    for root in roots:
        for sp in sorted(root.all, key=lambda s: (s.start, s.seq)):
            lines.append(json.dumps(sp.row(), ensure_ascii=False, separators=(",", ":")))
            n += 1
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return n, len(data)


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the Acme Support Bot demo traces (JSONL, one span per line).")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help="output path (default: %(default)s)")
    ap.add_argument("--traces", type=int, default=DEFAULT_TRACES, help="number of traces (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.traces < 1:
        ap.error("--traces must be at least 1")
    roots = generate(args.traces, args.seed)
    spans, size = write(roots, args.output)
    print(f"wrote {spans} spans in {len(roots)} traces ({size / 1e6:.2f} MB) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
