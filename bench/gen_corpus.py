"""Deterministic generator of N spans in the native JSONL format.

    python bench/gen_corpus.py 1000000 -o bench/data/corpus-1m.jsonl
    python bench/gen_corpus.py 200000 --shape short-chat -o bench/data/corpus-short-chat-200000.jsonl

Shapes (``--shape``):
  default          ~1 KB spans, traces of 1-12 spans (root task -> retrieval tool -> llm calls
                   -> tool calls), realistic field sizes, models, users, tags, scores on some
                   roots, errors on ~3% of spans (the corpus of DESIGN.md's budgets)
  short-chat       short chat spans (~350 B): a task root and 0-5 llm calls of one short turn,
                   1-6 spans per trace
  short-tool       short tool spans (~250 B): a task root and 1-9 tool calls with tiny
                   arguments and results
  long-transcript  few, large spans (~10-50 KB): a root and 0-2 llm calls whose input is a
                   long chat transcript
  deep             parent chains: 50 spans per trace, each the child of the one before
  flat             wide traces: a root with 200-500 children
Same N, shape and seed -> byte-identical file (``default`` is unchanged from before shapes).
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


def _span(sid, root, parent, start, dur, typ, name, inp, out, *, err=None, scores=None, md=None,
          metrics=None, tags=None):
    m = {"start": round(start, 6), "end": round(start + dur, 6)}
    m.update(metrics or {})
    return {
        "id": f"r-{sid}", "span_id": sid, "root_span_id": root,
        "span_parents": None if parent is None else [parent], "created": _iso(start),
        "input": inp, "output": out, "expected": None, "error": err, "scores": scores or {},
        "metadata": md or {}, "metrics": m, "tags": tags or [],
        "span_attributes": {"name": name, "type": typ},
    }


def _root(rng, sid, start, dur, name, inp, out):
    scores = {"Factuality": round(rng.random(), 3)} if rng.random() < 0.5 else {}
    tags = [rng.choice(TAGS)] if rng.random() < 0.5 else []
    md = {"user_id": f"user-{rng.randint(1, 5000)}", "locale": rng.choice(LOCALES)}
    return _span(sid, sid, None, start, dur, "task", name, inp, out, scores=scores, md=md, tags=tags)


def _llm_metrics(rng):
    ptok, ctok = rng.randint(10, 400), rng.randint(5, 200)
    return {"prompt_tokens": ptok, "completion_tokens": ctok, "tokens": ptok + ctok}


def _traces(rng, n, seed, sizes, make):
    """Shared driver of the shaped corpora: traces of ``rng.choice(sizes)`` spans (the last
    trace cut to what is left), ``make(rng, root_id, t, size)`` yielding their rows."""
    made, t, trace_no = 0, BASE, 0
    while made < n:
        trace_no += 1
        size = min(n - made, rng.choice(sizes))
        t += rng.random() * 3.0
        for row in make(rng, f"t{seed}-{trace_no:08d}", t, size):
            yield row
            made += 1


def _short_chat(rng, root, t, size):
    question = sentence(rng, rng.randint(4, 12))
    answer = sentence(rng, rng.randint(6, 20))
    yield _root(rng, root, t, 2.0, "chat", {"message": question}, {"reply": answer})
    model = rng.choice(MODELS)
    for i in range(1, size):
        yield _span(f"{root}-{i:03d}", root, root, t + i * 0.05, rng.uniform(0.2, 1.5), "llm", "chat_completion",
                    [{"role": "user", "content": question}], {"role": "assistant", "content": sentence(rng, rng.randint(4, 14))},
                    md={"model": model}, metrics=_llm_metrics(rng))


def _short_tool(rng, root, t, size):
    yield _root(rng, root, t, 1.0, "run_tools", {"task": sentence(rng, 4)}, {"ok": True})
    for i in range(1, size):
        tool = rng.choice(("search_kb", "lookup_order", "get_weather", "calc"))
        yield _span(f"{root}-{i:03d}", root, root, t + i * 0.01, rng.uniform(0.01, 0.3), "tool", tool,
                    {"q": rng.choice(WORDS), "n": rng.randint(1, 9)}, {"ok": rng.random() > 0.05, "hits": rng.randint(0, 9)})


def _transcript(rng, kbytes):
    msgs = [{"role": "system", "content": "You are Acme's support assistant. Be concise and cite policy."}]
    size = 0
    while size < kbytes * 1024:
        role = "user" if len(msgs) % 2 else "assistant"
        text = " ".join(sentence(rng, rng.randint(8, 40)) for _ in range(rng.randint(1, 4)))
        msgs.append({"role": role, "content": text})
        size += len(text) + 30
    return msgs


def _long_transcript(rng, root, t, size):
    transcript = _transcript(rng, rng.randint(10, 50))
    yield _root(rng, root, t, 20.0, "conversation", {"messages": transcript}, {"summary": sentence(rng, 30)})
    model = rng.choice(MODELS)
    for i in range(1, size):
        transcript = _transcript(rng, rng.randint(10, 50))
        yield _span(f"{root}-{i:03d}", root, root, t + i * 0.5, rng.uniform(1.0, 8.0), "llm", "chat_completion",
                    transcript, {"role": "assistant", "content": sentence(rng, rng.randint(40, 120))},
                    md={"model": model}, metrics=_llm_metrics(rng))


def _deep(rng, root, t, size):
    yield _root(rng, root, t, 60.0, "agent", {"goal": sentence(rng, 8)}, {"done": True})
    parent = root
    for i in range(1, size):
        sid = f"{root}-{i:03d}"
        typ = "llm" if i % 2 else "tool"
        yield _span(sid, root, parent, t + i * 0.02, 60.0 - i * 0.5, typ, "step",
                    {"step": i, "thought": sentence(rng, rng.randint(4, 12))}, {"result": sentence(rng, rng.randint(3, 10))},
                    md={"model": rng.choice(MODELS)} if typ == "llm" else {})
        parent = sid


def _flat(rng, root, t, size):
    yield _root(rng, root, t, 30.0, "batch", {"items": size - 1}, {"processed": size - 1})
    for i in range(1, size):
        yield _span(f"{root}-{i:03d}", root, root, t + i * 0.01, rng.uniform(0.05, 2.0), "tool", "process_item",
                    {"item": i, "text": sentence(rng, rng.randint(3, 10))}, {"label": rng.choice(WORDS), "score": round(rng.random(), 3)})


SHAPES = {
    "short-chat": ((1, 2, 3, 4, 5, 6), _short_chat),
    "short-tool": ((2, 3, 4, 5, 6, 8, 10), _short_tool),
    "long-transcript": ((1, 1, 2, 3), _long_transcript),
    "deep": ((50,), _deep),
    "flat": (tuple(range(200, 501, 25)), _flat),
}


def gen_shape(n: int, shape: str = "default", seed: int = 7):
    if shape == "default":
        return gen(n, seed)
    sizes, make = SHAPES[shape]
    return _traces(random.Random(seed), n, seed, sizes, make)


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shape", default="default", choices=("default", *SHAPES))
    a = ap.parse_args()
    out = sys.stdout.buffer if a.output == "-" else open(Path(a.output), "wb")
    for row in gen_shape(a.n, a.shape, a.seed):
        out.write(orjson.dumps(row) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
