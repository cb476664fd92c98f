"""Scenarios: per intent, what the customer asked, what the tools returned, what the bot concluded
(a ``Plan``). Part of the generator (``generate.py``)."""

from __future__ import annotations

from typing import Any, Optional

from sample_data.acme_world import (
    ANCHOR_MS, CARRIERS, CATALOG, CITIES, DAY, DELAY_EVENTS, DELIVERY_NOTES, HOUR, IDPS, MONTHS, RATE_LIMITS,
    SEAT_PRICE, TRANSIT_DAYS, WAREHOUSE, Ctx, Plan, Step, account_record, base_slots, choose_text, day_iso,
    fmt_date, iso_s, kb_for, make_query, new_order_id, order_record, pick, refund_step, rnd_money, seat_price,
    tables, ticket_step, to_dt, tracking_number, tracking_url, u_seats, weeks_phrase,
)

(SUBJECTS,) = tables("customers", "SUBJECTS")
# BUGS rows: (key, team, priority, {lang: description}); INCIDENTS: component -> (title, status, eta);
# FEATURES rows: (key, status (roadmap|exists|enterprise), {lang: name})
BUGS, BUG_IMPACT, BUG_ENV, PRIORITY_NAMES, BUG_WORKAROUND, INCIDENTS, FEATURES = tables(
    "product", "BUGS BUG_IMPACT BUG_ENV PRIORITY_NAMES BUG_WORKAROUND INCIDENTS FEATURES")
NO_RETURN, EXISTS_HOW = tables("answers", "NO_RETURN EXISTS_HOW")


def sc_refund(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    excl = {"free": ("sub_annual", "sub_monthly"), "pro": (), "enterprise": ("sub_monthly",)}[c.user.plan]
    case, tmpl = choose_text(rng, "refund", c.lang, exclude=excl)
    prod = pick(rng, CATALOG)
    other = pick(rng, [p for p in CATALOG if p is not prod])
    oid = new_order_id(g)
    price = prod[2][c.cur]
    s = base_slots(c) | {"order_id": oid, "product": prod[1], "other_product": other[1], "amount": c.money(price),
                         "warranty": 12 if c.locale in ("en-US", "ja-JP") else 24, "window": c.refund_window}
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    sentiment = "negative" if case in ("damaged", "wrong_item", "not_as_described") else "neutral"
    if case in ("damaged", "wrong_item", "changed_mind", "not_as_described"):
        within = rng.random() < 0.62
        days = rng.randint(2, 13) if within else rng.randint(16, 44)
        delivered = c.t0 - days * DAY - rng.randint(1, 10) * HOUR
        shipped = delivered - rng.randint(2, 5) * DAY
        trk = tracking_number(g, CARRIERS[c.locale][0])
        s |= {"days_ago": days, "weeks_phrase": weeks_phrase(days), "delivered": c.date(delivered)}
        steps.append(Step("lookup_order", {"order_id": oid},
                          order_record(g, c, oid, prod, "delivered", shipped - DAY, shipped, delivered, tracking=trk),
                          lat=(80, 420), service="orders-api"))
        eligible = days <= c.refund_window
        correct = days <= 14
        defect = case != "changed_mind"
        if eligible and defect:
            st, rid = refund_step(g, c, oid, price, case)
            steps.append(st)
            s |= {"refund_id": rid, "no_return": NO_RETURN[case] if c.lang == "en" else ""}
            outcome = "refunded"
        elif eligible:
            ret = "RMA-" + g.digits(6)
            drop = c.t0 + 14 * DAY
            steps.append(Step("create_return", {"order_id": oid, "skus": [prod[0]], "reason": "changed_mind"},
                              {"return_id": ret, "label_url": f"https://returns.acme.example/labels/{ret}.pdf",
                               "drop_off_by": day_iso(drop), "carrier": CARRIERS[c.locale][0]},
                              lat=(150, 700), service="orders-api"))
            s |= {"return_id": ret, "label_url": f"https://returns.acme.example/labels/{ret}.pdf",
                  "drop_off_by": c.date(drop)}
            outcome = "return_label"
        elif case == "damaged":
            st, tid = ticket_step(g, c, "warranty_claim", "normal", f"Warranty claim: {prod[1]} damaged ({oid})",
                                  f"{prod[1]} delivered {days} days ago reported damaged; outside refund window, "
                                  f"handle under warranty.", "hardware-rma", s["sla"])
            steps.append(st)
            s["ticket_id"] = tid
            outcome = "warranty_ticket"
            flags["escalated"] = True
        else:
            outcome = "outside_decline"
        if c.refund_window != 14:
            flags["wrong_fact"] = True
            if eligible != correct:
                flags["wrong_action"] = True
                alt = ("offer a warranty claim via create_ticket (KB-1105)" if case == "damaged"
                       else "decline politely and mention the hardware warranty")
                flags["reference"] = (f"Order {oid} was delivered on {fmt_date(delivered, c.locale, 'en')} "
                                      f"({days} days ago), which is outside the 14-day refund window (KB-1101). "
                                      f"Do not refund or create a return; {alt}.")
        kb = kb_for("refund", "physical")
    elif case == "no_order":
        outcome, kb = "need_order_id", kb_for("refund", "physical")
        flags["clarify"] = True
    else:  # subscriptions
        seats = u_seats(c)
        annual = case == "sub_annual"
        per = seat_price(c) * (10 if annual else 1)
        amount = rnd_money(seats * per, c.cur)
        renewed_days = rng.randint(1, 26) if annual else rng.randint(3, 25)
        renewed = c.t0 - renewed_days * DAY
        period_end = renewed + (365 if annual else 30) * DAY
        s |= {"amount": c.money(amount), "renewed": c.date(renewed), "period_end": c.date(period_end)}
        steps.append(Step("lookup_account", {"user_id": c.user.user_id},
                          account_record(g, c, role="owner", billing_cycle="annual" if annual else "monthly",
                                         last_renewal_at=iso_s(renewed), last_charge={"amount": amount, "currency": c.cur}),
                          lat=(60, 300), service="accounts-api"))
        if annual and renewed_days <= 14:
            refund_amt = rnd_money(amount * (365 - renewed_days) / 365, c.cur)
            st, rid = refund_step(g, c, "ch_" + g.alnum(14), refund_amt, "prorated_cancellation")
            steps.append(st)
            s |= {"refund_id": rid, "refund_amount": c.money(refund_amt)}
            outcome = "sub_refunded"
        elif annual:
            outcome = "sub_outside"
        else:
            outcome = "sub_monthly"
        kb = kb_for("refund", "sub")
    text = tmpl.format_map(s)
    return Plan("refund", case, text, make_query(c, "refund", case), kb, steps, outcome, s, flags,
                subject=pick(rng, SUBJECTS["refund"][c.lang]).format_map(s), sentiment=sentiment)


def shipment_events(c: Ctx, shipped: int, last: int, last_desc: str, hub: str, final: Optional[tuple] = None) -> list:
    wh = WAREHOUSE[c.locale]
    ev = [{"time": iso_s(shipped), "location": wh, "description": "Picked up"},
          {"time": iso_s(shipped + 16 * HOUR), "location": wh, "description": "Departed facility"},
          {"time": iso_s(last), "location": hub, "description": last_desc}]
    if final:
        ev.append({"time": iso_s(final[0]), "location": final[1], "description": final[2]})
    return ev


def sc_shipping(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "shipping_delay", c.lang)
    prod = pick(rng, CATALOG)
    oid = new_order_id(g)
    carrier, hub = CARRIERS[c.locale]
    trk = tracking_number(g, carrier)
    s = base_slots(c) | {"order_id": oid, "product": prod[1], "carrier": carrier, "hub": hub, "tracking": trk,
                         "tracking_url": tracking_url(carrier, trk), "transit": TRANSIT_DAYS[c.locale],
                         "deadline": c.date(c.t0 + rng.randint(3, 6) * DAY)}
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    sentiment = "negative"
    kb = kb_for("shipping_delay", case)
    if case in ("late", "stuck", "deadline"):
        if case == "deadline":
            shipped = c.t0 - rng.randint(1, 3) * DAY
            eta = c.t0 + rng.randint(1, 3) * DAY
            outcome = "on_time" if rng.random() < 0.7 else "delayed"
            sentiment = "neutral"
        else:
            shipped = c.t0 - rng.randint(8, 12) * DAY
            eta = c.t0 - rng.randint(1, 4) * DAY
            outcome = "delayed" if rng.random() < (0.5 if case == "late" else 0.3) else "trace_opened"
        last = c.t0 - (rng.randint(20, 50) * HOUR if outcome != "trace_opened" else rng.randint(6, 9) * DAY)
        last = max(last, shipped + DAY)
        s |= {"eta": c.date(eta), "shipped": c.date(shipped), "last_scan": c.date(last)}
        status = "in_transit" if outcome == "on_time" else "delayed"
        steps.append(Step("lookup_order", {"order_id": oid},
                          order_record(g, c, oid, prod, status, shipped - DAY, shipped, None, eta, trk),
                          lat=(80, 420), service="orders-api"))
        if outcome != "on_time":
            ev_desc = pick(rng, DELAY_EVENTS)
            new_eta = c.t0 + rng.randint(1, 3) * DAY
            s |= {"last_event": ev_desc, "new_eta": c.date(new_eta)}
            steps.append(Step("check_shipment", {"carrier": carrier, "tracking_number": trk},
                              {"status": "exception" if outcome == "trace_opened" else "in_transit",
                               "estimated_delivery": day_iso(new_eta) if outcome == "delayed" else None,
                               "events": shipment_events(c, shipped, last, ev_desc, hub)},
                              lat=(250, 1600), service="carrier-gateway"))
        if outcome == "trace_opened":
            st, tid = ticket_step(g, c, "carrier_trace", "high", f"Carrier trace: {oid} ({carrier} {trk})",
                                  f"No tracking update since {day_iso(last)}; ETA was {day_iso(eta)}. "
                                  "Open carrier trace; reship if not found in 2 business days.", "logistics", s["sla"])
            steps.append(st)
            s["ticket_id"] = tid
            flags["escalated"] = True
    elif case == "delivered_missing":
        delivered = c.t0 - rng.randint(20, 50) * HOUR
        shipped = delivered - rng.randint(2, 5) * DAY
        note = pick(rng, DELIVERY_NOTES)
        s |= {"delivered": c.date(delivered), "delivery_note": note}
        steps.append(Step("lookup_order", {"order_id": oid},
                          order_record(g, c, oid, prod, "delivered", shipped - DAY, shipped, delivered, None, trk),
                          lat=(80, 420), service="orders-api"))
        steps.append(Step("check_shipment", {"carrier": carrier, "tracking_number": trk},
                          {"status": "delivered", "events": shipment_events(
                              c, shipped, delivered - 6 * HOUR, "Out for delivery", rng.choice(CITIES[c.locale]),
                              (delivered, rng.choice(CITIES[c.locale]), f"Delivered - {note}"))},
                          lat=(250, 1600), service="carrier-gateway"))
        st, tid = ticket_step(g, c, "delivery_claim", "normal", f"Delivered but not received: {oid}",
                              f"{carrier} shows delivered ({note}); customer reports not received.", "logistics", s["sla"])
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "delivered_missing"
        flags["escalated"] = True
    elif case == "not_shipped":
        days = rng.randint(4, 9)
        ship_by = c.t0 + rng.randint(2, 6) * DAY
        s |= {"days_ago": days, "ship_by": c.date(ship_by)}
        rec = order_record(g, c, oid, prod, "backordered", c.t0 - days * DAY)
        rec["expected_ship_date"] = day_iso(ship_by)
        steps.append(Step("lookup_order", {"order_id": oid}, rec, lat=(80, 420), service="orders-api"))
        outcome = "backorder"
        sentiment = "neutral"
    else:
        outcome = "need_order_id"
        flags["clarify"] = True
    text = tmpl.format_map(s)
    return Plan("shipping_delay", case, text, make_query(c, "shipping_delay", case), kb, steps, outcome, s, flags,
                subject=pick(rng, SUBJECTS["shipping_delay"][c.lang]).format_map(s), sentiment=sentiment,
                urgency="high" if case in ("deadline", "stuck") else "normal")


def sc_password(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    u = c.user
    case, tmpl = choose_text(rng, "password_reset", c.lang, exclude=() if u.company else ("sso",))
    s = base_slots(c)
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    if case in ("forgot", "expired", "sso"):
        sso = case == "sso" or (u.company is not None and rng.random() < 0.22)
        if sso:
            idp = IDPS[int(u.user_id[-1]) % 3]
            s["idp"] = idp
            steps.append(Step("lookup_account", {"email": u.email},
                              account_record(g, c, sso={"enabled": True, "provider": idp}), lat=(60, 300),
                              service="accounts-api"))
            outcome = "sso"
        else:
            steps.append(Step("lookup_account", {"email": u.email}, account_record(g, c), lat=(60, 300),
                              service="accounts-api"))
            steps.append(Step("send_password_reset", {"email": u.email},
                              {"sent": True, "expires_in_minutes": 30,
                               "message_id": f"<{g.hex(16)}@mail.acme.io>"}, lat=(120, 600), service="auth"))
            outcome = "reset_sent"
    elif case == "locked":
        steps.append(Step("lookup_account", {"email": u.email},
                          account_record(g, c, status="locked", failed_attempts=5,
                                         locked_until=iso_s(c.t0 + rng.randint(3, 14) * 60_000)),
                          lat=(60, 300), service="accounts-api"))
        steps.append(Step("send_password_reset", {"email": u.email},
                          {"sent": True, "expires_in_minutes": 30, "message_id": f"<{g.hex(16)}@mail.acme.io>"},
                          lat=(120, 600), service="auth"))
        outcome = "locked"
    else:
        steps.append(Step("lookup_account", {"email": u.email}, account_record(g, c, mfa_enabled=True),
                          lat=(60, 300), service="accounts-api"))
        st, tid = ticket_step(g, c, "identity_verification", "high", "2FA reset - identity verification",
                              "Customer lost 2FA device and recovery codes; verify identity before disabling 2FA.",
                              "trust-and-safety", 48)
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "lost_2fa"
        flags["escalated"] = True
    text = tmpl.format_map(s)
    return Plan("password_reset", case, text, make_query(c, "password_reset", case), kb_for("password_reset", case),
                steps, outcome, s, flags, subject=pick(rng, SUBJECTS["password_reset"][c.lang]),
                sentiment="negative" if case in ("locked", "lost_2fa") else "neutral",
                urgency="high" if case in ("locked", "lost_2fa") else "normal")


def sc_billing(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    excl = ("vat",) if c.locale in ("en-US", "ja-JP") else ()
    case, tmpl = choose_text(rng, "billing_dispute", c.lang, exclude=excl)
    seats = u_seats(c)
    price = seat_price(c)
    inv = "INV-2026-" + g.digits(5)
    s = base_slots(c) | {"invoice_id": inv, "seats": seats}
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    outcome = ""
    if case == "duplicate":
        amount = rnd_money(seats * price, c.cur)
        when = c.t0 - rng.randint(1, 5) * DAY - rng.randint(0, 20) * HOUR
        ch1, ch2 = "ch_" + g.alnum(14), "ch_" + g.alnum(14)
        real_dup = rng.random() < 0.7
        s |= {"amount": c.money(amount), "date": c.date(when)}
        steps.append(Step("list_invoices", {"customer_id": c.user.user_id, "limit": 3},
                          {"invoices": [{"id": inv, "date": day_iso(when), "amount": amount, "currency": c.cur,
                                         "status": "paid",
                                         "payments": [{"id": ch1, "amount": amount, "status": "succeeded"},
                                                      {"id": ch2, "amount": amount,
                                                       "status": "succeeded" if real_dup else "authorization_pending"}]}]},
                          lat=(120, 700), service="billing-api"))
        if real_dup:
            st, rid = refund_step(g, c, ch2, amount, "duplicate", charge=ch2)
            steps.append(st)
            s["refund_id"] = rid
            outcome = "duplicate_refunded"
        else:
            outcome = "pending_auth"
    elif case == "proration":
        added = rng.randint(2, 6)
        seats = max(seats, added + 2)
        usual = rnd_money((seats - added) * price, c.cur)
        frac = rng.uniform(0.35, 0.75)
        prorated = rnd_money(added * price * frac, c.cur)
        seat_date = c.t0 - rng.randint(8, 20) * DAY
        s |= {"seats": seats, "seats_added": added, "usual": c.money(usual), "prorated": c.money(prorated),
              "amount": c.money(usual + prorated), "next_amount": c.money(seats * price),
              "seat_date": c.date(seat_date), "month": MONTHS["en"][to_dt(c.t0).month - 1]}
        steps.append(Step("list_invoices", {"customer_id": c.user.user_id, "limit": 2},
                          {"invoices": [{"id": inv, "date": day_iso(c.t0 - rng.randint(1, 6) * DAY),
                                         "amount": rnd_money(usual + prorated, c.cur), "currency": c.cur,
                                         "lines": [{"description": f"Pro seats x{seats - added}", "amount": usual},
                                                   {"description": f"Prorated seats x{added} from {day_iso(seat_date)}",
                                                    "amount": prorated}]}]},
                          lat=(120, 700), service="billing-api"))
        outcome = "proration"
    elif case == "vat":
        vat = {"en-GB": "GB" + g.digits(9), "de-DE": "DE" + g.digits(9), "fr-FR": "FR" + g.digits(11),
               "es-ES": "ESB" + g.digits(8)}[c.locale]
        s |= {"vat_id": vat, "invoice_month": MONTHS[c.lang if c.lang in MONTHS else "en"][to_dt(c.t0).month - 2]}
        st, tid = ticket_step(g, c, "invoice_correction", "normal", f"Reissue {inv} with VAT ID",
                              f"Customer requests {inv} (previous month) reissued with VAT ID {vat}.", "billing", 48)
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "vat_ticket"
        flags["escalated"] = True
    else:
        s["last4"] = g.digits(4)
        steps.append(Step("lookup_account", {"user_id": c.user.user_id},
                          account_record(g, c, billing={"status": "past_due", "card_last4": s["last4"],
                                                        "grace_period_ends": day_iso(c.t0 + 11 * DAY)}),
                          lat=(60, 300), service="accounts-api"))
        outcome = "failed_payment"
    text = tmpl.format_map(s)
    return Plan("billing_dispute", case, text, make_query(c, "billing_dispute", case), kb_for("billing_dispute", case),
                steps, outcome, s, flags, subject=pick(rng, SUBJECTS["billing_dispute"][c.lang]).format_map(s),
                sentiment="negative" if case in ("duplicate", "proration") else "neutral")


def sc_api(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "api_rate_limit", c.lang)
    u = c.user
    limit = RATE_LIMITS[u.plan]
    endpoint = pick(rng, ["/v2/search", "/v2/tasks", "/v2/projects/:id/tasks", "/v2/comments", "/v2/attachments"])
    key = "ak_live_" + g.alnum(4).lower()
    peak = int(limit * rng.uniform(1.2, 2.6))
    rpm = int(limit * rng.uniform(1.5, 3.0)) if u.plan == "enterprise" else rng.choice([900, 1200, 1500, 2000])
    hint = {"free": "If you need more headroom, Pro raises the limit to 600 requests/min.",
            "pro": "If you consistently need more than 600/min, Enterprise starts at 3,000/min and can be raised further.",
            "enterprise": "Since you're on Enterprise, we can raise the limit - just tell me your expected peak."}[u.plan]
    throttled = rng.randint(300, 40000)
    s = base_slots(c) | {"endpoint": endpoint, "key_prefix": key, "peak": c.num(peak), "rpm": c.num(rpm),
                         "throttled": c.num(throttled), "upgrade_hint": hint, "limit": c.num(limit)}
    status = {"api_key_prefix": key, "plan": u.plan, "limit_per_min": limit, "peak_per_min_1h": peak,
              "throttled_24h": throttled,
              "top_endpoints": [{"path": endpoint, "share": round(rng.uniform(0.55, 0.9), 2)},
                                {"path": "/v2/projects", "share": round(rng.uniform(0.03, 0.1), 2)}],
              "keys_in_workspace": rng.randint(1, 6)}
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    if case == "throttled":
        steps.append(Step("get_rate_limit_status", {"api_key_prefix": key}, status, lat=(90, 500), service="api-gateway"))
        outcome = "status_explained"
    elif case == "limits":
        outcome = "limits_general"
    elif case == "raise":
        if u.plan == "enterprise":
            steps.append(Step("get_rate_limit_status", {"api_key_prefix": key}, status, lat=(90, 500),
                              service="api-gateway"))
            st, tid = ticket_step(g, c, "rate_limit_increase", "normal", f"Raise API limit for {key}",
                                  f"Enterprise customer requests {rpm} req/min (current {limit}).", "account-management",
                                  s["sla"])
            steps.append(st)
            s["ticket_id"] = tid
            outcome = "raise_ticket"
            flags["escalated"] = True
        else:
            status["peak_per_min_1h"] = min(peak, limit)
            steps.append(Step("get_rate_limit_status", {"api_key_prefix": key}, status, lat=(90, 500),
                              service="api-gateway"))
            outcome = "upgrade_needed"
    else:
        outcome = "per_key"
    text = tmpl.format_map(s)
    return Plan("api_rate_limit", case, text, make_query(c, "api_rate_limit", case), kb_for("api_rate_limit", case),
                steps, outcome, s, flags, subject=pick(rng, SUBJECTS["api_rate_limit"][c.lang]),
                sentiment="negative" if case == "throttled" else "neutral",
                urgency="high" if case == "throttled" and u.plan == "enterprise" else "normal")


def sc_deletion(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "account_deletion", c.lang)
    s = base_slots(c)
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    if case in ("delete", "erasure") and rng.random() < 0.8:
        steps.append(Step("lookup_account", {"email": c.user.email}, account_record(g, c, role="owner"),
                          lat=(60, 300), service="accounts-api"))
        req = "gdpr-" + g.digits(7)
        steps.append(Step("schedule_account_deletion",
                          {"user_id": c.user.user_id, "export_data": True,
                           "reason": "gdpr_art17" if case == "erasure" else "user_request"},
                          {"request_id": req, "status": "pending_confirmation",
                           "confirmation_sent_to": c.user.masked_email(), "export_id": "exp_" + g.alnum(10),
                           "purge_after": day_iso(c.t0 + 30 * DAY)}, lat=(200, 900), service="privacy"))
        s["request_id"] = req
        outcome = "scheduled"
    elif case == "not_owner":
        steps.append(Step("lookup_account", {"email": c.user.email}, account_record(g, c, role="member"),
                          lat=(60, 300), service="accounts-api"))
        outcome = "not_owner"
    else:
        outcome = "confirm_first"
        flags["clarify"] = True
    text = tmpl.format_map(s)
    return Plan("account_deletion", case, text, make_query(c, "account_deletion", case),
                kb_for("account_deletion", case), steps, outcome, s, flags,
                subject=pick(rng, SUBJECTS["account_deletion"][c.lang]), sentiment="neutral")


def sc_bug(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "bug_report", c.lang)
    key, team, prio, descs = pick(rng, [b for b in BUGS if c.lang in b[3]])
    if c.user.plan == "enterprise" and prio == "normal":
        prio = "high"
    desc = descs[c.lang]
    s = base_slots(c) | {"bug": desc, "bug_lc": desc[0].lower() + desc[1:], "impact": pick(rng, BUG_IMPACT[c.lang]),
                         "env": pick(rng, BUG_ENV), "team": team,
                         "priority": PRIORITY_NAMES.get(c.lang, {}).get(prio, prio),
                         "workaround": BUG_WORKAROUND[key] if c.lang == "en" and rng.random() < 0.6 else ""}
    steps: list[Step] = []
    flags: dict[str, Any] = {}
    inc = INCIDENTS.get(key)
    known = inc is not None and rng.random() < 0.7
    if known:
        iid = "INC-" + g.digits(4)
        s |= {"incident_id": iid, "incident_title": inc[0], "incident_status": inc[1], "incident_eta": inc[2]}
        steps.append(Step("search_status_page", {"component": key},
                          {"incidents": [{"id": iid, "title": inc[0], "status": inc[1], "component": key,
                                          "started_at": iso_s(c.t0 - rng.randint(1, 30) * HOUR),
                                          "url": f"https://status.acme.io/incidents/{iid.lower()}"}]},
                          lat=(80, 400), service="statuspage"))
        outcome = "known_incident"
    else:
        steps.append(Step("search_status_page", {"component": key}, {"incidents": []}, lat=(80, 400),
                          service="statuspage"))
        st, tid = ticket_step(g, c, "bug", prio, descs["en"][:80], f"{descs['en']} Env: {s['env']}.",
                              f"eng-{team}", 24)
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "ticket_created"
        flags["escalated"] = True
    text = tmpl.format_map(s)
    kb = kb_for("bug_report", case) + {"ios_crash": ["KB-1703"], "csv_export": ["KB-1704"],
                                       "webhooks": ["KB-1504"]}.get(key, [])
    return Plan("bug_report", case, text, make_query(c, "bug_report", case, bug_key=key.replace("_", " ")), kb, steps,
                outcome, s, flags, subject=pick(rng, SUBJECTS["bug_report"][c.lang]), sentiment="negative",
                urgency="high" if prio == "high" else "normal")


def sc_feature(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "feature_request", c.lang)
    pool = [f for f in FEATURES if not (f[1] == "enterprise" and c.user.plan == "enterprise")]
    key, status, names = pick(rng, pool)
    name = names[c.lang]
    s = base_slots(c) | {"feature": name, "feature_cap": name[0].upper() + name[1:]}
    steps: list[Step] = []
    if status == "roadmap":
        st, tid = ticket_step(g, c, "feature_request", "low", f"Feature request: {names['en']}",
                              f"Customer ({c.user.plan}) asks for {names['en']}.", "product-feedback", 168)
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "logged"
    elif status == "exists":
        s["exists_how"] = EXISTS_HOW[key][c.lang]
        outcome = "exists"
    else:
        st, tid = ticket_step(g, c, "sales_lead", "normal", f"SCIM interest: {c.user.org}",
                              f"{c.user.plan} customer asks for SCIM provisioning (Enterprise feature).", "sales", 24)
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "enterprise"
    text = tmpl.format_map(s)
    kb = kb_for("feature_request", case) + {"dark_mode": ["KB-1803"], "teams": ["KB-1802"],
                                            "scim": ["KB-1804"]}.get(key, [])
    return Plan("feature_request", case, text, make_query(c, "feature_request", case, feature_key=key.replace("_", " ")),
                kb, steps, outcome, s, {}, subject=pick(rng, SUBJECTS["feature_request"][c.lang]),
                sentiment="neutral", urgency="low")


def sc_plan(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    u = c.user
    excl = ("downgrade", "seats", "enterprise") if u.plan == "free" else ("upgrade",) if u.plan != "free" else ()
    if u.plan == "enterprise":
        excl = ("upgrade", "enterprise", "nonprofit")
    case, tmpl = choose_text(rng, "plan_change", "en", exclude=excl)
    price = SEAT_PRICE[c.cur]
    seats = u_seats(c) if u.plan != "free" else rng.randint(3, 12)
    added = rng.randint(2, 8)
    period_end = ANCHOR_MS + 17 * DAY  # Dec 1
    frac = (period_end - c.t0) / (30 * DAY)
    removing = "removed" in tmpl
    s = base_slots(c) | {"seats": seats, "seats_added": added, "period_end": c.date(period_end)}
    steps = [Step("lookup_account", {"user_id": u.user_id}, account_record(g, c), lat=(60, 300),
                  service="accounts-api")]
    flags: dict[str, Any] = {}
    if case == "upgrade":
        s |= {"prorated": c.money(rnd_money(seats * price * frac, c.cur)), "next_amount": c.money(seats * price)}
        outcome = "upgrade"
    elif case == "downgrade":
        outcome = "downgrade"
    elif case == "seats" and removing:
        s |= {"seats": seats - added if seats > added else seats, "next_amount": c.money(max(1, seats - added) * price)}
        outcome = "seats_remove"
    elif case == "seats":
        s |= {"prorated": c.money(rnd_money(added * price * frac, c.cur)),
              "next_amount": c.money((seats + added) * price), "seats": seats + added}
        outcome = "seats_add"
    elif case == "enterprise":
        st, tid = ticket_step(g, c, "sales_lead", "normal", f"Enterprise upgrade: {u.org}",
                              f"Pro customer with {seats} seats wants SSO and audit logs.", "sales", s["sla"])
        steps.append(st)
        s["ticket_id"] = tid
        outcome = "enterprise"
    else:
        steps = []
        outcome = "nonprofit"
    text = tmpl.format_map(s)
    return Plan("plan_change", case, text, make_query(c, "plan_change", case), kb_for("plan_change", case), steps,
                outcome, s, flags, subject=pick(rng, SUBJECTS["plan_change"]["en"]), sentiment="neutral")


def sc_oos(c: Ctx) -> Plan:
    rng = c.rng
    case, tmpl = choose_text(rng, "out_of_scope", c.lang)
    s = base_slots(c)
    outcome = {"offtopic": "decline", "injection": "injection_refusal", "prompt_leak": "prompt_refusal",
               "competitor": "competitor"}[case]
    flags = {"injection": case in ("injection", "prompt_leak")}
    text = tmpl.format_map(s)
    return Plan("out_of_scope", case, text, text[:60].lower().strip(" ?.!"), [], [], outcome, s, flags,
                subject=pick(rng, SUBJECTS["out_of_scope"][c.lang]),
                sentiment="neutral" if case != "injection" else "negative", urgency="low")


def sc_multi(c: Ctx) -> Plan:
    g, rng = c.g, c.rng
    case, tmpl = choose_text(rng, "multi_issue", c.lang)
    prod = pick(rng, CATALOG)
    oid = new_order_id(g)
    carrier, hub = CARRIERS[c.locale]
    trk = tracking_number(g, carrier)
    price = prod[2][c.cur]
    shipped = c.t0 - rng.randint(9, 13) * DAY
    eta = c.t0 - rng.randint(4, 7) * DAY
    last = c.t0 - rng.randint(6, 8) * DAY
    charged = shipped - DAY
    ch1, ch2 = "ch_" + g.alnum(14), "ch_" + g.alnum(14)
    s = base_slots(c) | {"order_id": oid, "product": prod[1], "carrier": carrier, "hub": hub,
                         "amount": c.money(price), "date": c.date(charged), "last_scan": c.date(last)}
    par = 1 if rng.random() < 0.7 else 0
    steps = [Step("lookup_order", {"order_id": oid},
                  order_record(g, c, oid, prod, "delayed", charged, shipped, None, eta, trk),
                  group=par, lat=(80, 420), service="orders-api"),
             Step("list_payments", {"order_id": oid},
                  {"payments": [{"id": ch1, "amount": price, "currency": c.cur, "status": "succeeded",
                                 "created": iso_s(charged)},
                                {"id": ch2, "amount": price, "currency": c.cur, "status": "succeeded",
                                 "created": iso_s(charged + rng.randint(20, 200) * 1000)}]},
                  group=par, lat=(90, 500), service="payments"),
             Step("check_shipment", {"carrier": carrier, "tracking_number": trk},
                  {"status": "exception", "events": shipment_events(c, shipped, last, pick(rng, DELAY_EVENTS), hub)},
                  lat=(250, 1600), service="carrier-gateway")]
    st, rid = refund_step(g, c, ch2, price, "duplicate", charge=ch2)
    steps.append(st)
    st, tid = ticket_step(g, c, "carrier_trace", "high", f"Carrier trace + duplicate charge refunded: {oid}",
                          f"No scan since {day_iso(last)}. Duplicate charge {ch2} refunded ({rid}).", "logistics",
                          s["sla"])
    steps.append(st)
    s |= {"refund_id": rid, "ticket_id": tid}
    text = tmpl.format_map(s)
    return Plan("multi_issue", case, text, make_query(c, "multi_issue", case), kb_for("multi_issue", case), steps,
                "resolved", s, {"escalated": True}, subject=pick(rng, SUBJECTS["multi_issue"][c.lang]),
                sentiment="negative", urgency="high")


SCENARIOS = {"refund": sc_refund, "shipping_delay": sc_shipping, "password_reset": sc_password,
             "billing_dispute": sc_billing, "api_rate_limit": sc_api, "account_deletion": sc_deletion,
             "bug_report": sc_bug, "feature_request": sc_feature, "plan_change": sc_plan, "out_of_scope": sc_oos,
             "multi_issue": sc_multi}
