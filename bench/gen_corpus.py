"""Deterministic generator of N spans in the native JSONL format (~1 KB per span).

    python bench/gen_corpus.py 1000000 -o bench/data/corpus-1m.jsonl

Traces of 1-12 spans (root task -> retrieval tool -> llm calls -> tool calls), realistic
field sizes, models, users, tags, scores on some roots, errors on ~3% of spans.
Same N and seed -> byte-identical file.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import orjson

WORDS = (
    "account billing refund order shipping delay password reset invoice subscription plan upgrade "
    "downgrade cancel charge card payment failed api key rate limit error timeout webhook export "
    "import dashboard report user team admin permission access token login email verify address "
    "package tracking warehouse return exchange discount coupon tax receipt warranty device app "
    "mobile browser cache latency region database backup restore delete gdpr privacy policy terms "
    "please thanks hello could would should help issue problem question answer customer support"
).split()
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gpt-4-turbo", "llama-3-70b")
TAGS = ("production", "staging", "triage", "escalated", "vip", "regression", "needs-review")
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP")
BASE = 1_763_000_000.0  # 2025-11-13


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def gen(n: int, seed: int = 7):
    rng = random.Random(seed)
    made = 0
    t = BASE
    trace_no = 0
    while made < n:
        trace_no += 1
        size = min(n - made, rng.choice((1, 2, 3, 4, 5, 5, 6, 8, 10, 12)))
        t += rng.random() * 3.0
        root = f"t{seed}-{trace_no:08d}"
        user = f"user-{rng.randint(1, 5000)}"
        model = rng.choice(MODELS)
        question = sentence(rng, rng.randint(12, 30))
        answer = sentence(rng, rng.randint(40, 80))
        spans_ids = []
        for i in range(size):
            sid = root if i == 0 else f"{root}-{i:03d}"
            parent = None if i == 0 else (root if i == 1 else spans_ids[rng.randint(1, i - 1)] if rng.random() < 0.3 else spans_ids[1] if i > 1 else root)
            spans_ids.append(sid)
            start = t + i * 0.05
            dur = rng.uniform(0.2, 3.0) if rng.random() > 0.02 else rng.uniform(8, 30)
            typ = "task" if i == 0 else ("tool" if i % 3 == 1 else "llm")
            name = {"task": "support_request", "tool": rng.choice(("search_kb", "lookup_order", "issue_refund")), "llm": "chat_completion"}[typ]
            ptok, ctok = rng.randint(200, 3000), rng.randint(20, 800)
            if typ == "llm":
                inp = [{"role": "system", "content": "You are Acme's support assistant. Be concise and cite policy."},
                       {"role": "user", "content": question}]
                out = {"role": "assistant", "content": answer}
            elif typ == "tool":
                inp = {"query": sentence(rng, 6)}
                out = [{"id": f"kb-{rng.randint(1, 900)}", "title": sentence(rng, 4), "score": round(rng.random(), 3)} for _ in range(3)]
            else:
                inp = {"question": question}
                out = {"answer": answer}
            err = None
            if rng.random() < 0.03:
                err = rng.choice(("RateLimitError: 429 Too Many Requests", "TimeoutError: upstream timed out after 30s", "ValueError: bad tool arguments"))
            scores = {}
            if i == 0 and rng.random() < 0.6:
                scores = {"Factuality": round(rng.random(), 3), "Helpfulness": round(rng.random(), 3)}
                if rng.random() < 0.3:
                    scores["user_rating"] = rng.choice((0, 0.25, 0.5, 0.75, 1))
            md = {"user_id": user, "locale": rng.choice(LOCALES)} if i == 0 else {}
            if typ == "llm":
                md.update(model=model, temperature=0.2, provider="openai" if model.startswith("gpt") else "other")
            metrics = {"start": round(start, 6), "end": round(start + dur, 6)}
            if typ != "tool":
                metrics.update(prompt_tokens=ptok, completion_tokens=ctok, tokens=ptok + ctok,
                               estimated_cost=round((ptok * 2.5 + ctok * 10) / 1e6, 6))
            tags = [rng.choice(TAGS)] if i == 0 and rng.random() < 0.7 else []
            iso = _iso(start)
            yield {
                "id": f"r-{sid}", "span_id": sid, "root_span_id": root,
                "span_parents": None if parent is None else [parent], "created": iso,
                "input": inp, "output": out, "expected": None, "error": err, "scores": scores,
                "metadata": md, "metrics": metrics, "tags": tags,
                "span_attributes": {"name": name, "type": typ},
            }
            made += 1


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    out = sys.stdout.buffer if a.output == "-" else open(Path(a.output), "wb")
    for row in gen(a.n, a.seed):
        out.write(orjson.dumps(row) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
