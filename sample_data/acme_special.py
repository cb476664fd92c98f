"""Two large traces for the tree view: the nightly ticket-triage job and the runaway agent loop.
Part of the generator (``generate.py``)."""

from __future__ import annotations

from sample_data.acme_review import comment, finalize_metrics
from sample_data.acme_scenarios import SCENARIOS
from sample_data.acme_spans import (
    CLASSIFIER_PROMPT, FALLBACK, INTENT_WEIGHTS, SYSTEM_PROMPTS, Span, compact, kb_results, llm_span, style_user,
    tool_call_message, tool_span,
)
from sample_data.acme_world import (
    CARRIERS, DAY, HOUR, WAREHOUSE, Ctx, Gen, Step, display_name, iso_s, make_ctx, new_order_id, pick,
    release, tables, tracking_number, wpick,
)

LOOP_TEXT, QUEUES = tables("traffic", "LOOP_TEXT QUEUES")

TRIAGE_TICKETS = 48


def triage_trace(g: Gen, users: list, t0: int) -> Span:
    """A nightly batch job: fetch 48 emailed tickets, classify and route each (~200 spans)."""
    rng = g.rng
    root = Span(g, "nightly_ticket_triage", "task")
    root.start = t0
    root.input = {"queue": "email-backlog", "window_start": iso_s(t0 - 8 * HOUR), "window_end": iso_s(t0),
                  "max_tickets": 50}
    t = t0 + rng.randint(40, 200)
    fetch = Span(g, "fetch_tickets", "tool", root)
    fetch.start = t
    ids = ["SUP-" + g.digits(5) for _ in range(TRIAGE_TICKETS)]
    fetch.input = {"queue": "email-backlog", "status": "new", "limit": 50}
    fetch.output = {"count": TRIAGE_TICKETS, "ticket_ids": ids}
    fetch.metadata = {"service": "helpdesk"}
    fetch.end = t + rng.randint(300, 900)
    t = fetch.end + rng.randint(5, 30)
    by_queue: dict[str, int] = {}
    high: list[str] = []
    correct = 0
    drafts = 0
    for i, tid in enumerate(ids):
        u = rng.choices(users, weights=[x.weight for x in users])[0]
        weights = [(k, w) for k, w in INTENT_WEIGHTS if not (u.plan == "free" and k == "billing_dispute")]
        intent = wpick(rng, weights)
        c = make_ctx(g, u, t0 - rng.randint(5, 470) * 60_000, intent, env="production", channel="email")
        plan = SCENARIOS[intent](c)
        body = style_user(c, plan.text)
        tk = Span(g, "triage_ticket", "task", root)
        tk.start = t
        tk.input = {"ticket_id": tid, "subject": plan.subject, "body": body, "from": u.user_id, "locale": u.locale,
                    "received_at": iso_s(c.t0)}
        tk.metadata = {"user_id": u.user_id, "locale": u.locale, "plan": u.plan}
        t += rng.randint(1, 5)
        pred = intent
        conf = rng.uniform(0.75, 0.99)
        if rng.random() < 0.06:
            pred = pick(rng, [k for k, _ in INTENT_WEIGHTS if k != intent])
            conf = rng.uniform(0.4, 0.65)
        else:
            correct += 1
        urgency = "high" if (plan.urgency == "high" or u.vip) else plan.urgency
        cls = {"intent": pred, "confidence": round(conf, 3), "language": c.lang, "sentiment": plan.sentiment,
               "urgency": urgency}
        fn = Span(g, "classify_intent", "function", tk)
        fn.start = t
        fn.input = {"message": body}
        fn.output = cls
        fn.metadata = {"classifier": "llm"}
        sp = llm_span(g, fn, t + rng.randint(1, 4),
                      [{"role": "system", "content": CLASSIFIER_PROMPT}, {"role": "user", "content": body}],
                      {"role": "assistant", "content": compact(cls)}, "gpt-4o-mini", 0.0,
                      extra={"response_format": "json_object", "max_tokens": 120}, slow_p=0.01)
        fn.end = sp.end + rng.randint(1, 4)
        t = fn.end + rng.randint(2, 10)
        queue = QUEUES[pred]
        prio = "high" if urgency == "high" else "normal" if urgency == "normal" else "low"
        labels = [pred, plan.sentiment] + (["vip"] if u.vip else [])
        rt = Span(g, "route_ticket", "tool", tk)
        rt.start = t
        rt.input = {"ticket_id": tid, "queue": queue, "priority": prio, "labels": labels}
        rt.output = {"ok": True, "queue": queue, "position": rng.randint(1, 40)}
        rt.metadata = {"service": "helpdesk"}
        rt.end = t + rng.randint(60, 400)
        t = rt.end + rng.randint(2, 10)
        draft = c.lang == "en" and drafts < 5 and rng.random() < 0.25
        if draft:
            drafts += 1
            reply = (f"Hi {u.first},\n\nThanks for contacting Acme Support. We've received your message "
                     f"(\"{plan.subject}\") and passed it to our {queue} team, who will reply within "
                     f"{24 if prio != 'high' else 4} hours.\n\nBest,\nAcme Support")
            sp = llm_span(g, tk, t, [{"role": "system", "content": "Draft a short acknowledgement email for this "
                                      "support ticket. Do not promise outcomes."},
                                     {"role": "user", "content": body}],
                          {"role": "assistant", "content": reply}, "gpt-4o", 0.3, extra={"purpose": "draft_ack"})
            t = sp.end + rng.randint(2, 10)
        tk.output = {"queue": queue, "priority": prio, "labels": labels, "draft_reply": draft}
        tk.end = t
        t += rng.randint(5, 60)
        by_queue[queue] = by_queue.get(queue, 0) + 1
        if prio == "high":
            high.append(tid)
    counts = {"processed": TRIAGE_TICKETS, "by_queue": dict(sorted(by_queue.items())), "high_priority": high,
              "drafts": drafts}
    summary = (f"Nightly triage: {TRIAGE_TICKETS} tickets routed. "
               + ", ".join(f"{q} {n}" for q, n in sorted(by_queue.items(), key=lambda kv: (-kv[1], kv[0])))
               + f". {len(high)} high priority"
               + (f" ({', '.join(high[:4])}{', ...' if len(high) > 4 else ''})" if high else "")
               + f"; {drafts} acknowledgement drafts queued for review.")
    sp = llm_span(g, root, t, [{"role": "system", "content": "Summarize the triage run for the #support-ops Slack "
                                "channel in 2-3 sentences."}, {"role": "user", "content": compact(counts)}],
                  {"role": "assistant", "content": summary}, "gpt-4o-mini", 0.5)
    root.end = sp.end + rng.randint(5, 40)
    root.output = counts
    root.metadata = {"user_id": "user-000000", "service_account": "triage-bot", "locale": "en-US", "channel": "email",
                     "app_version": release("production", t0)[0], "environment": "production",
                     "job": "nightly_ticket_triage", "schedule": "0 2 * * *"}
    root.tags = ["production", "triage"]
    root.scores = {"RoutingAccuracy": round(correct / TRIAGE_TICKETS, 3)}
    finalize_metrics(root)
    return root


LOOP_ROUNDS = 40


def runaway_trace(g: Gen, users: list, t0: int) -> Span:
    """Staging regression: prompt v13 + a 4-message memory window make the agent loop (~200 spans)."""
    rng = g.rng
    u = users[0]
    c = Ctx(g, u, t0, "en", "web", "staging", "2.16.0-rc.1", "support-system@v13", "claude-3-5-sonnet", 0.2, 14,
            "conv_" + g.hex(16))
    oid = new_order_id(g)
    carrier = CARRIERS[u.locale][0]
    trk = tracking_number(g, carrier)
    text = (f"Where is my order {oid}? It was supposed to arrive yesterday and the tracking page just says "
            f"'label created'.")
    root = Span(g, "support_request", "task")
    root.start = t = t0
    root.input = {"message": text, "conversation_id": c.conversation_id}
    t += rng.randint(4, 30)
    cls = {"intent": "shipping_delay", "confidence": 0.962, "language": "en", "sentiment": "negative",
           "urgency": "normal"}
    fn = Span(g, "classify_intent", "function", root)
    fn.start = t
    fn.input = {"message": text}
    fn.output = cls
    fn.metadata = {"classifier": "llm"}
    sp = llm_span(g, fn, t + 2, [{"role": "system", "content": CLASSIFIER_PROMPT}, {"role": "user", "content": text}],
                  {"role": "assistant", "content": compact(cls)}, "gpt-4o-mini", 0.0,
                  extra={"response_format": "json_object", "max_tokens": 120}, slow_p=0)
    fn.end = sp.end + 2
    t = fn.end + 3
    kb = Span(g, "search_kb", "tool", root)
    kb.start = t
    kb.input = {"query": "order late tracking label created", "top_k": 3, "locale": u.locale}
    kb.output = kb_results(rng, ["KB-1203", "KB-1202", "KB-1201"], 3)
    kb.metadata = {"index": "kb-prod-2026-11", "service": "vector-search"}
    kb.end = t + rng.randint(80, 300)
    t = kb.end + 5
    head = [{"role": "system", "content": SYSTEM_PROMPTS[c.prompt_version].format(language="English")},
            {"role": "system", "content": f"Customer: {display_name(u)} ({u.user_id}), plan={u.plan}, "
                                          f"locale={u.locale}, channel=web, workspace={u.org}.\n"
                                          f"Knowledge base: use search_kb. Memory: last 4 messages."},
            {"role": "user", "content": text}]
    window: list = []
    unknown = {"order_id": oid, "status": "unknown",
               "detail": "order is being migrated to fulfilment-v2; status temporarily unavailable",
               "retry_after_s": 30}
    shipment = {"status": "label_created", "events": [{"time": iso_s(t0 - 2 * DAY), "location": WAREHOUSE[u.locale],
                                                       "description": "Shipment information received"}]}
    kb_queries = ["order status unknown", "order migration fulfilment", "label created no scans",
                  "where is my order", "tracking not updating"]
    cycle = ["lookup_order", "check_shipment", "lookup_order", "check_shipment", "lookup_order", "search_kb"]
    n_timeouts = 0
    for i in range(LOOP_ROUNDS):
        tool = cycle[i % len(cycle)]
        if tool == "lookup_order":
            step = Step("lookup_order", {"order_id": oid}, unknown, lat=(80, 400), service="orders-api")
        elif tool == "check_shipment":
            step = Step("check_shipment", {"carrier": carrier, "tracking_number": trk}, shipment, lat=(250, 1200),
                        service="carrier-gateway")
        else:
            q = kb_queries[(i // 6) % len(kb_queries)]
            step = Step("search_kb", {"query": q, "top_k": 3, "locale": u.locale},
                        kb_results(rng, ["KB-1203", "KB-1205", "KB-1202"], 3), lat=(60, 350),
                        service="vector-search")
        out = tool_call_message(g, c.model, [step], 0)
        if out["content"] is not None:
            out["content"] = LOOP_TEXT[i % len(LOOP_TEXT)] or out["content"]
        sp = llm_span(g, root, t, head + window, out, c.model, c.temperature, tools=True,
                      extra={"prompt_version": c.prompt_version, "iteration": i + 1}, slow_p=0.02)
        t = sp.end + rng.randint(2, 12)
        terr = None
        if tool == "lookup_order" and i % 14 == 6:
            terr = (f"TimeoutError: orders-api did not respond within 10.0s (GET /v1/orders/{oid})",
                    10000 + rng.randint(0, 40))
            n_timeouts += 1
        ts = tool_span(g, root, t, step, terr)
        if tool == "search_kb":
            ts.metadata["index"] = "kb-prod-2026-11"
        t = ts.end + rng.randint(2, 12)
        result = step.result
        if tool == "search_kb":  # the agent sees ids and titles only
            result = [{"id": r["id"], "title": r["title"], "score": r["score"]} for r in result]
        content = compact(result) if terr is None else compact({"error": terr[0]})
        window = (window + [out, {"role": "tool", "tool_call_id": out["tool_calls"][0]["id"], "content": content}])[-4:]
    root.end = t + rng.randint(10, 40)
    root.error = (f"AgentLoopError: exceeded max_iterations={LOOP_ROUNDS} without producing a final answer "
                  f"(last 12 tool calls returned identical results)")
    root.output = {"answer": FALLBACK["en"], "intent": "shipping_delay", "actions": [], "escalated": True,
                   "fallback": True}
    root.metadata = {"user_id": u.user_id, "locale": u.locale, "channel": "web", "plan": u.plan,
                     "app_version": c.app_version, "environment": "staging", "prompt_version": c.prompt_version,
                     "intent": "shipping_delay", "max_iterations": LOOP_ROUNDS}
    finalize_metrics(root)
    cost = root.metrics["estimated_cost"]
    root.scores = {"Factuality": None, "Helpfulness": 0.0, "Relevance": 0.412}
    root.tags = ["staging", "escalated", "regression", "needs-review"]
    root.comments = [
        comment(g, "Agent never terminates: the 4-message memory window drops the earlier lookup results, and v13's "
                   "'if a lookup is inconclusive, retry' makes it re-check forever. Blocking 2.16.0 until fixed.",
                "sam@acme.io", root.end + 3 * HOUR + 1_234),
        comment(g, f"{root.metrics['llm_calls']} model calls and {(root.end - root.start) / 1000:.0f} s for a "
                   f"question that normally takes one call (${cost:.2f}). Adding a cap on repeated identical tool calls.",
                "lena@acme.io", root.end + 5 * HOUR + 40_500),
    ]
    root.expected = ("Order status is temporarily unavailable (migration to fulfilment-v2). Tell the customer, "
                     "open a logistics ticket to follow up, and stop after one retry.")
    return root
