"""Spans: one support request becomes a trace (classifier, KB search, pipeline lookups, the
model's tool calls and answer), with token counts, costs, latencies and failures.
Part of the generator (``generate.py``)."""

from __future__ import annotations

import json
import random
from typing import Any, Optional

from sample_data.acme_world import (
    LANG_NAMES, MODELS, TOOL_SCHEMAS_TOKENS, Ctx, Gen, Plan, Step, display_name, iso, pick, tables, user_names,
)

KB, SYSTEM_PROMPTS, CLASSIFIER_PROMPT = tables("kb", "KB SYSTEM_PROMPTS CLASSIFIER_PROMPT")
EMAIL_GREET, EMAIL_SIGN, WEB_PREFIX = tables("customers", "EMAIL_GREET EMAIL_SIGN WEB_PREFIX")
# ANSWERS: intent -> outcome -> language -> body templates
ANSWERS, GREETING, CLOSING, EMPATHY, FALLBACK, GB_SPELLING, TOOL_PREFACE = tables(
    "answers", "ANSWERS GREETING CLOSING EMPATHY FALLBACK GB_SPELLING TOOL_PREFACE")
# PIPELINE_TOOLS: steps the pipeline runs itself before the first model call: read-only lookups,
# plus the fixed password-reset workflow (sending a reset link needs no judgement).
INTENT_WEIGHTS, PIPELINE_TOOLS = tables("traffic", "INTENT_WEIGHTS PIPELINE_TOOLS")


class Span:
    def __init__(self, g: Gen, name: str, type_: str, parent: Optional["Span"] = None):
        self.id = "span-" + g.hex(16)
        self.span_id = g.hex(16)  # OpenTelemetry-style 64-bit span id
        self.name, self.type, self.parent = name, type_, parent
        self.root: Span = parent.root if parent else self
        if parent is None:
            self.all: list[Span] = []
        self.seq = len(self.root.all)
        self.root.all.append(self)
        self.start = self.end = 0
        self.input: Any = None
        self.output: Any = None
        self.expected: Any = None
        self.error: Optional[str] = None
        self.scores: dict = {}
        self.metadata: dict = {}
        self.metrics: dict = {}
        self.tags: list = []
        self.comments: list = []

    def row(self) -> dict:
        return {
            "id": self.id,
            "span_id": self.span_id,
            "root_span_id": self.root.span_id,
            "span_parents": [self.parent.span_id] if self.parent else None,
            "created": iso(self.start),
            "input": self.input,
            "output": self.output,
            "expected": self.expected,
            "error": self.error,
            "scores": self.scores,
            "metadata": self.metadata,
            "metrics": {"start": self.start / 1000, "end": self.end / 1000, **self.metrics},
            "tags": self.tags,
            "span_attributes": {"name": self.name, "type": self.type},
            "comments": self.comments,
        }


def est_tokens(text: str) -> int:
    n = 0.0
    for ch in text:
        o = ord(ch)
        n += 0.26 if o < 128 else (1.05 if o >= 0x2E80 else 0.6)
    return int(n) + 1


def msg_tokens(messages: list) -> int:
    total = 3
    for m in messages:
        total += 4 + est_tokens(m.get("content") or "")
        for tc in m.get("tool_calls") or []:
            total += 8 + est_tokens(tc["function"]["name"] + tc["function"]["arguments"])
    return total


def compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def llm_span(g: Gen, parent: Span, start: int, messages: list, output: Optional[dict], model: str,
             temperature: float, *, tools: bool = False, extra: Optional[dict] = None, error: Optional[tuple] = None,
             slow_p: float = 0.03) -> Span:
    rng = g.rng
    provider, pin, pout, ttft, per_tok = MODELS[model]
    sp = Span(g, "chat_completion", "llm", parent)
    sp.start = start
    sp.input = messages
    sp.metadata = {"model": model, "provider": provider, "temperature": temperature, "max_tokens": 800}
    if tools:
        sp.metadata["tool_choice"] = "auto"
    if extra:
        sp.metadata.update(extra)
    pt = int((msg_tokens(messages) + (TOOL_SCHEMAS_TOKENS if tools else 0)) * rng.uniform(0.97, 1.03))
    if error is not None:
        sp.error, dur = error
        sp.end = start + dur
        sp.metrics = {"prompt_tokens": pt, "completion_tokens": 0, "tokens": pt, "estimated_cost": 0.0}
        return sp
    ct = est_tokens(output.get("content") or "")
    for tc in output.get("tool_calls") or []:
        ct += 10 + est_tokens(tc["function"]["name"] + tc["function"]["arguments"])
    ct = max(1, int(ct * rng.uniform(0.95, 1.05)))
    ttft_ms = ttft * rng.lognormvariate(0, 0.25) + pt * 0.02
    dur = ttft_ms + ct * per_tok * rng.lognormvariate(0, 0.2)
    if rng.random() < slow_p:
        dur = rng.uniform(5000, 20000)
        ttft_ms = dur * rng.uniform(0.55, 0.9)
    sp.end = start + int(dur)
    sp.output = output
    cost = pt * pin / 1e6 + ct * pout / 1e6
    sp.metrics = {"prompt_tokens": pt, "completion_tokens": ct, "tokens": pt + ct, "estimated_cost": round(cost, 6),
                  "time_to_first_token": round(ttft_ms / 1000, 3)}
    return sp


def tool_call_message(g: Gen, model: str, steps: list, preface_p: float) -> dict:
    provider = MODELS[model][0]
    calls = []
    for st in steps:
        cid = ("call_" if provider == "openai" else "toolu_") + g.alnum(24)
        calls.append({"id": cid, "type": "function",
                      "function": {"name": st.tool, "arguments": compact(st.args)}})
    content = None
    if g.rng.random() < (0.75 if provider == "anthropic" else preface_p):
        content = pick(g.rng, TOOL_PREFACE.get(steps[0].tool, ["Let me check."]))
    return {"role": "assistant", "content": content, "tool_calls": calls}


def tool_span(g: Gen, parent: Span, start: int, step: Step, error: Optional[tuple] = None) -> Span:
    rng = g.rng
    sp = Span(g, step.tool, "tool", parent)
    sp.start = start
    sp.input = step.args
    if step.service:
        sp.metadata = {"service": step.service}
    if error is not None:
        sp.error, dur = error
        sp.end = start + dur
        return sp
    dur = rng.randint(*step.lat)
    if step.sub:
        name, sin, sout, (lo, hi) = step.sub
        sub = Span(g, name, "function", sp)
        sub.start = start + rng.randint(3, 20)
        sub.end = sub.start + rng.randint(lo, hi)
        sub.input, sub.output = sin, sout
        sub.metadata = {"provider": "stripe"}
        dur = max(dur, sub.end - start + rng.randint(2, 15))
    sp.end = start + dur
    sp.output = step.result
    return sp


def kb_results(rng: random.Random, ids: list, top_k: int) -> list:
    out = []
    score = rng.uniform(0.82, 0.93)
    for kid in ids[:top_k]:
        out.append((kid, round(score, 3)))
        score -= rng.uniform(0.02, 0.09)
    others = [k for k in KB if k not in ids]
    low = rng.uniform(0.38, 0.55) if ids else rng.uniform(0.18, 0.36)
    while len(out) < top_k:
        kid = pick(rng, others)
        others.remove(kid)
        out.append((kid, round(low, 3)))
        low -= rng.uniform(0.01, 0.05)
    return [{"id": k, "title": KB[k][0], "score": s, "snippet": KB[k][1]} for k, s in out]


def llm_error(rng: random.Random, model: str) -> tuple[str, int]:
    if MODELS[model][0] == "anthropic":
        return pick(rng, [
            ("RateLimitError: Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', 'message': "
             "'Number of request tokens has exceeded your per-minute rate limit'}}", rng.randint(150, 450)),
            ("InternalServerError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', "
             "'message': 'Overloaded'}}", rng.randint(1500, 6000)),
        ])
    return pick(rng, [
        (f"RateLimitError: Error code: 429 - Rate limit reached for {model} in organization org-acme-support on "
         f"tokens per min (TPM): Limit 2000000, Used 1998{rng.randint(100, 999)}, Requested {rng.randint(1500, 4000)}. "
         f"Please try again in {rng.randint(40, 900)}ms.", rng.randint(120, 400)),
        ("APITimeoutError: Request timed out.", 30000 + rng.randint(0, 60)),
        ("InternalServerError: Error code: 500 - The server had an error while processing your request. "
         "Sorry about that!", rng.randint(800, 3000)),
    ])


def tool_error(rng: random.Random, step: Step) -> tuple[str, int]:
    a = step.args
    if step.tool == "lookup_order":
        return f"TimeoutError: orders-api did not respond within 10.0s (GET /v1/orders/{a['order_id']})", 10000 + rng.randint(0, 40)
    if step.tool == "check_shipment":
        return f"CarrierAPIError: {a['carrier']} tracking API returned 503 Service Unavailable", rng.randint(300, 2500)
    if step.tool == "issue_refund":
        return (f"PaymentProviderError: Refund amount ({a['amount']}) is greater than unrefunded amount on charge "
                f"({round(a['amount'] * 0.6, 2)})", rng.randint(300, 900))
    if step.tool == "create_ticket":
        return ("HTTPError: 503 Server Error: Service Unavailable for url: "
                "https://helpdesk.acme.example/api/v2/tickets", rng.randint(200, 1200))
    return f"TimeoutError: {step.service or step.tool} did not respond within 10.0s", 10000 + rng.randint(0, 40)


def kb_error(rng: random.Random) -> tuple[str, int]:
    return pick(rng, [
        ("ConnectionError: vector store 'kb-prod-2026-11' unreachable: connection reset by peer (10.42.3.17:6333)",
         rng.randint(20, 200)),
        ("TimeoutError: vector search exceeded 5.0s (index kb-prod-2026-11)", 5000 + rng.randint(0, 30)),
    ])


def tidy(text: str, locale: str, lang: str) -> str:
    while "  " in text:
        text = text.replace("  ", " ")
    text = text.replace(" \n", "\n").strip()
    if lang == "en":
        text = text.replace(" a Acme ", " an Acme ").replace("A Acme ", "An Acme ")
        if locale == "en-GB":
            for a, b in GB_SPELLING:
                text = text.replace(a, b)
    elif lang == "fr":  # elision before the brand name
        text = text.replace(" le Acme ", " l'Acme ").replace("Le Acme ", "L'Acme ").replace(" de le ", " du ")
    return text


def greet_key(c: Ctx) -> str:
    if c.lang == "en":
        return c.locale if c.locale in ("en-US", "en-GB") else "en-US"
    return c.lang


def render_answer(c: Ctx, plan: Plan) -> str:
    rng = c.rng
    body = pick(rng, ANSWERS[plan.intent][plan.outcome][c.lang]).format_map(plan.slots)
    key = greet_key(c)
    parts = []
    if rng.random() < {"email": 1.0, "web": 0.55, "slack": 0.3}[c.channel]:
        opts = [x for x in GREETING[key] if c.channel == "slack" or not x.startswith("Hey")]
        parts.append(pick(rng, opts).format_map(plan.slots))
    if c.lang == "en" and EMPATHY[plan.intent] and not plan.flags.get("injection") and rng.random() < 0.35 \
            and not body.startswith(("I'm sorry", "Sorry", "Thanks", "Good news")):
        parts.append(pick(rng, EMPATHY[plan.intent]))
    parts.append(body)
    if rng.random() < {"email": 0.9, "web": 0.5, "slack": 0.2}[c.channel]:
        parts.append(pick(rng, CLOSING[key]))
    if c.lang == "ja":
        sep = "\n\n" if c.channel == "email" else "\n"
    else:
        sep = "\n\n" if c.channel == "email" else " " if c.channel == "slack" else pick(rng, ["\n\n", " "])
    text = sep.join(parts)
    if sep == " " and len(parts) > 1 and parts[0].endswith((",", ":")):
        text = parts[0] + "\n" + sep.join(parts[1:])  # a letter-style salutation gets its own line
    return tidy(text, c.locale, c.lang)


def reference_answer(c: Ctx, plan: Plan) -> str:
    if plan.flags.get("reference"):
        return plan.flags["reference"]
    body = ANSWERS[plan.intent][plan.outcome][c.lang][0].format_map(plan.slots | {"window": 14})
    return tidy(body, c.locale, c.lang)


def style_user(c: Ctx, text: str) -> str:
    rng, lang = c.rng, c.lang
    text = tidy(text, c.locale, lang)
    if c.channel == "email":
        text = text[0].upper() + text[1:]
        skey = (c.locale if c.locale in EMAIL_SIGN else "en-US") if lang == "en" else lang
        first, last = user_names(c)
        sign = pick(rng, EMAIL_SIGN[skey]).format(first=first, last=last)
        return f"{pick(rng, EMAIL_GREET[lang])}\n\n{text}\n\n{sign}"
    first_word = text.split(" ", 1)[0]
    if c.channel == "slack":
        if lang == "en" and rng.random() < 0.5 and first_word not in ("I", "I'm", "I've", "I'd") \
                and not first_word.rstrip(":").isupper():
            text = text[0].lower() + text[1:]
        return text.rstrip(".")
    if rng.random() < 0.25 and not text.lower().startswith(("hi", "hello", "hey", "hallo", "bonjour", "hola", "bug")):
        if lang == "en" and first_word not in ("I", "I'm", "I've", "I'd", "Order", "SYSTEM", "Ignore"):
            text = text[0].lower() + text[1:]
        text = pick(rng, WEB_PREFIX[lang]) + text
    return text


def build_support(c: Ctx, plan: Plan, fail: Optional[tuple], history: list) -> tuple[Span, dict]:
    g, rng, u = c.g, c.rng, c.user
    root = Span(g, "support_request", "task")
    root.start = t = c.t0
    t += rng.randint(4, 30)
    root.input = {"message": plan.text, "conversation_id": c.conversation_id}
    if c.channel == "email" and plan.subject:
        root.input["subject"] = plan.subject
    if history:
        root.input["history"] = history
    info: dict[str, Any] = {"failed": None, "kb": None, "pred": plan.intent}

    llm_text = plan.text
    if u.email in plan.text:
        red = plan.text.replace(u.email, "[EMAIL]")
        sp = Span(g, "redact_pii", "function", root)
        sp.start = t
        sp.end = t + rng.randint(2, 14)
        sp.input = {"text": plan.text}
        sp.output = {"text": red, "entities": [{"type": "EMAIL", "count": plan.text.count(u.email)}]}
        t = sp.end + rng.randint(1, 5)
        llm_text = red

    if rng.random() < 0.66:
        pred = plan.intent if plan.intent != "multi_issue" else "shipping_delay"
        conf = rng.uniform(0.78, 0.99)
        if plan.intent != "multi_issue" and rng.random() < 0.05:
            pred = pick(rng, [i for i, _ in INTENT_WEIGHTS if i != plan.intent])
            conf = rng.uniform(0.38, 0.62)
            info["misclassified"] = pred
        info["pred"] = pred
        cls = {"intent": pred, "confidence": round(conf, 3), "language": c.lang, "sentiment": plan.sentiment,
               "urgency": plan.urgency}
        if plan.intent == "multi_issue":
            cls["secondary_intent"] = "billing_dispute"
        fn = Span(g, "classify_intent", "function", root)
        fn.start = t
        fn.input = {"message": llm_text}
        fn.output = cls
        if rng.random() < 0.25:
            fn.metadata = {"classifier": "llm"}
            sp = llm_span(g, fn, t + rng.randint(1, 4),
                          [{"role": "system", "content": CLASSIFIER_PROMPT}, {"role": "user", "content": llm_text}],
                          {"role": "assistant", "content": compact(cls)}, "gpt-4o-mini", 0.0,
                          extra={"response_format": "json_object", "max_tokens": 120}, slow_p=0.005)
            fn.end = sp.end + rng.randint(1, 4)
        else:
            fn.metadata = {"classifier": "fasttext-intent-v3"}
            fn.end = t + rng.randint(3, 25)
        t = fn.end + rng.randint(1, 6)

    kb = Span(g, "search_kb", "tool", root)
    info["kb"] = kb
    kb.start = t
    top_k = pick(rng, [3, 3, 3, 4])
    kb.input = {"query": plan.query, "top_k": top_k, "locale": c.locale}
    kb.metadata = {"index": "kb-prod-2026-11", "service": "vector-search"}
    end = t + rng.randint(45, 380)
    emb_end = t
    if rng.random() < 0.14:
        emb = Span(g, "embed_query", "function", kb)
        emb.start = t + rng.randint(1, 5)
        emb.end = emb.start + rng.randint(15, 90)
        emb.input = {"text": plan.query}
        emb.output = {"dimensions": 1536, "cache_hit": rng.random() < 0.3}
        emb.metadata = {"embedding_model": "text-embedding-3-small"}
        emb_end = emb.end
        end = max(end, emb.end + rng.randint(20, 200))

    def abort(span: Span, actions: list) -> tuple[Span, dict]:
        root.error = span.error
        root.output = {"answer": FALLBACK[c.lang], "intent": info["pred"], "actions": actions, "escalated": True,
                       "fallback": True}
        root.end = span.end + rng.randint(5, 40)
        info["failed"] = span
        return root, info

    if fail and fail[0] == "kb":
        kb.error, dur = kb_error(rng)
        kb.end = max(t + dur, emb_end + rng.randint(1, 5))
        return abort(kb, [])
    kb.end = end
    results = kb_results(rng, plan.kb, top_k)
    kb.output = results
    info["kb_top"] = results[0]["score"]
    t = kb.end + rng.randint(2, 12)

    used = [r for r in results if r["score"] >= 0.75][:2]
    kb_txt = "\n".join(f"[{r['id']}] {r['title']}: {r['snippet']}" for r in used) or "(no relevant articles found)"
    sys_msg = SYSTEM_PROMPTS[c.prompt_version].format(language=LANG_NAMES[c.lang])
    ctx_msg = (f"Customer: {display_name(u)} ({u.user_id}), plan={u.plan}, locale={u.locale}, channel={c.channel}, "
               f"workspace={u.org}.\nKnowledge base:\n{kb_txt}")
    user_msg = f"Subject: {plan.subject}\n\n{llm_text}" if c.channel == "email" and plan.subject else llm_text
    messages = [{"role": "system", "content": sys_msg}, {"role": "system", "content": ctx_msg}]

    # The pipeline runs lookups (order, account, ...) before the first model call; the model only
    # calls tools that act. Some traffic (and every multi-issue request) runs the
    # lookups through the model instead, which makes for longer agent loops.
    n_pre = 0
    if plan.intent != "multi_issue" and rng.random() < 0.85:
        while n_pre < len(plan.steps) and plan.steps[n_pre].tool in PIPELINE_TOOLS:
            n_pre += 1
    tool_fail = int(fail[1] * len(plan.steps)) if fail and fail[0] == "tool" else -1
    pre_lines = []
    actions: list[str] = []
    for k, st in enumerate(plan.steps[:n_pre]):
        terr = tool_error(rng, st) if k == tool_fail else None
        ts = tool_span(g, root, t, st, terr)
        if terr:
            return abort(ts, actions)
        pre_lines.append(f"{st.tool}({compact(st.args)}) -> {compact(st.result)}")
        t = ts.end + rng.randint(1, 8)
    if pre_lines:
        messages.append({"role": "system", "content": "Workflow results:\n" + "\n".join(pre_lines)})
    messages += history + [{"role": "user", "content": user_msg}]

    groups: list[list[Step]] = []
    for st in plan.steps[n_pre:]:
        if st.group and groups and groups[-1][0].group == st.group:
            groups[-1].append(st)
        else:
            groups.append([st])
    meta = {"prompt_version": c.prompt_version}
    llm_fail = int(fail[1] * (len(groups) + 1)) if fail and fail[0] == "llm" else -1
    llm_i, tool_i = 0, n_pre
    for grp in groups:
        out = tool_call_message(g, c.model, grp, 0.12)
        err = llm_error(rng, c.model) if llm_i == llm_fail else None
        sp = llm_span(g, root, t, list(messages), out, c.model, c.temperature, tools=True, extra=meta, error=err)
        if err:
            return abort(sp, actions)
        t = sp.end + rng.randint(2, 15)
        messages = messages + [out]
        ends = []
        for k, st in enumerate(grp):
            terr = tool_error(rng, st) if tool_i == tool_fail else None
            ts = tool_span(g, root, t + k * rng.randint(0, 3), st, terr)
            if terr:
                return abort(ts, actions)
            ends.append(ts.end)
            actions.append(st.tool)
            messages.append({"role": "tool", "tool_call_id": out["tool_calls"][k]["id"], "content": compact(st.result)})
            tool_i += 1
        t = max(ends) + rng.randint(2, 15)
        llm_i += 1

    answer = render_answer(c, plan)
    out = {"role": "assistant", "content": answer}
    err = llm_error(rng, c.model) if llm_i == llm_fail else None
    sp = llm_span(g, root, t, list(messages), out, c.model, c.temperature, tools=bool(plan.steps) or rng.random() < 0.5,
                  extra=meta, error=err)
    if err:
        return abort(sp, actions)
    root.end = sp.end + rng.randint(3, 25)
    root.output = {"answer": answer, "intent": info["pred"], "actions": actions,
                   "escalated": bool(plan.flags.get("escalated"))}
    return root, info
