"""The Acme world of the demo corpus: time, randomness, customers, money and dates, the records
the support tools return, and the context of one conversation.

Part of the generator (``generate.py``); the text and data tables live in ``tables/*.json``.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

TABLES_DIR = Path(__file__).resolve().parent / "tables"


@functools.lru_cache(maxsize=None)
def _table_file(group: str) -> dict:
    return json.loads((TABLES_DIR / f"{group}.json").read_text(encoding="utf-8"))


def tables(group: str, names: str) -> tuple:
    """The tables ``names`` (space-separated) of ``tables/<group>.json``, in that order. Every
    module gets the same objects (one load per file), as with the module-level literals before."""
    data = _table_file(group)
    return tuple(data[n] for n in names.split())


# (first, last, email local part, locale, plan, company or None, preferred channel, vip) per person;
# CATALOG rows: (sku, name, prices by currency); CARRIERS: locale -> (carrier, hub);
# MODELS: name -> (provider, $ per 1M input, $ per 1M output, ttft ms, ms per output token)
(LOCALES, LANG_NAMES, MONTHS, PEOPLE, FREE_MAIL, CATALOG, SEAT_PRICE, SEAT_PRICE_ENT, PLAN_NAMES, RATE_LIMITS,
 CARRIERS, CITIES, WAREHOUSE, TRANSIT_DAYS, DELIVERY_NOTES, DELAY_EVENTS, IDPS, MODELS) = tables(
    "world", "LOCALES LANG_NAMES MONTHS PEOPLE FREE_MAIL CATALOG SEAT_PRICE SEAT_PRICE_ENT PLAN_NAMES RATE_LIMITS "
    "CARRIERS CITIES WAREHOUSE TRANSIT_DAYS DELIVERY_NOTES DELAY_EVENTS IDPS MODELS")
# KB_FOR: intent -> case ("*": any other case) -> KB article ids
KB_FOR, QUERIES, NATIVE_QUERIES = tables("kb", "KB_FOR QUERIES NATIVE_QUERIES")
# USER_TEXT: intent -> language -> [(case, template)]
(USER_TEXT,) = tables("customers", "USER_TEXT")
(HOUR_WEIGHTS,) = tables("traffic", "HOUR_WEIGHTS")

ANCHOR = datetime(2026, 11, 14, tzinfo=timezone.utc)
ANCHOR_MS = int(ANCHOR.timestamp()) * 1000
WINDOW_MS = 7 * 86_400_000
DEFAULT_SEED = 20261114
DEFAULT_TRACES = 300

HOUR = 3_600_000
DAY = 86_400_000

# Release timeline (UTC ms offsets from ANCHOR). 2.15.0 ships a system prompt (v12) that states a
# 30-day refund window instead of 14 days; 2.15.1 fixes it. Staging runs release candidates.
T_2_15_0 = 4 * DAY + 9 * HOUR  # 2026-11-18 09:00Z
T_2_15_1 = 6 * DAY + 11 * HOUR  # 2026-11-20 11:00Z

TOOL_SCHEMAS_TOKENS = 410  # tool definitions sent with every agent call (not shown in the messages)


def to_dt(ms: int) -> datetime:
    return ANCHOR + timedelta(milliseconds=ms - ANCHOR_MS)


def iso(ms: int) -> str:
    return to_dt(ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_s(ms: int) -> str:
    return to_dt(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_iso(ms: int) -> str:
    return to_dt(ms).strftime("%Y-%m-%d")


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


class Gen:
    """The single source of randomness (and of ids) for one run."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self._ids: set[str] = set()

    def hex(self, n: int) -> str:
        while True:
            h = "%0*x" % (n, self.rng.getrandbits(n * 4))
            if h not in self._ids:
                self._ids.add(h)
                return h

    def alnum(self, n: int) -> str:
        abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(abc) for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))


def pick(rng: random.Random, items):
    return items[rng.randrange(len(items))]


def wpick(rng: random.Random, pairs):
    """pairs: list of (value, weight)."""
    vals = [p[0] for p in pairs]
    ws = [p[1] for p in pairs]
    return rng.choices(vals, ws)[0]


def fmt_date(ms: int, locale: str, lang: Optional[str] = None) -> str:
    """A short human date in the reader's language (lang) and regional style (locale); the year is
    shown only when it is not the corpus year (2026)."""
    d = to_dt(ms)
    lang = lang or LOCALES[locale]["lang"]
    y = d.year != ANCHOR.year
    if lang == "en":
        mon = MONTHS["en"][d.month - 1][:3]
        if locale in ("en-US", "ja-JP"):
            return f"{mon} {d.day}, {d.year}" if y else f"{mon} {d.day}"
        return f"{d.day} {mon} {d.year}" if y else f"{d.day} {mon}"
    if lang == "de":
        return f"{d.day}. {MONTHS['de'][d.month - 1]}" + (f" {d.year}" if y else "")
    if lang == "fr":
        return f"{'1er' if d.day == 1 else d.day} {MONTHS['fr'][d.month - 1]}" + (f" {d.year}" if y else "")
    if lang == "es":
        return f"{d.day} de {MONTHS['es'][d.month - 1]}" + (f" de {d.year}" if y else "")
    return (f"{d.year}年" if y else "") + f"{d.month}月{d.day}日"


def fmt_money(x: float, currency: str, lang: str) -> str:
    if currency == "JPY":
        return f"¥{int(round(x)):,}" if lang != "ja" else f"{int(round(x)):,}円"
    sym = {"USD": "$", "GBP": "£", "EUR": "€"}[currency]
    if lang == "en":
        return f"{sym}{x:,.2f}"
    whole, frac = f"{x:,.2f}".split(".")
    sep = " " if lang == "fr" else "."
    return f"{whole.replace(',', sep)},{frac} {sym}"


@dataclass
class User:
    user_id: str
    first: str
    last: str
    email: str
    locale: str
    plan: str
    company: Optional[str]
    org: str
    channel: str
    vip: bool
    weight: float
    app_platform: str

    @property
    def lang(self) -> str:
        return LOCALES[self.locale]["lang"]

    @property
    def currency(self) -> str:
        return LOCALES[self.locale]["currency"]

    def masked_email(self) -> str:
        local, dom = self.email.split("@")
        return f"{local[0]}{'*' * max(2, len(local) - 2)}{local[-1]}@{dom}"


def make_users(g: Gen) -> list[User]:
    users = []
    for first, last, local, locale, plan, company, channel, vip in PEOPLE:
        dom = f"{company}.example" if company else g.rng.choice(FREE_MAIL)
        org = (company or f"{local.split('.')[0]}-workspace").replace("-", " ").title()
        users.append(User(
            user_id="user-" + g.digits(6), first=first, last=last, email=f"{local}@{dom}",
            locale=locale, plan=plan, company=company, org=org, channel=channel, vip=vip,
            weight=round(g.rng.uniform(0.4, 3.0), 2),
            app_platform=g.rng.choice(["web", "web", "desktop-mac", "desktop-win", "ios", "android"]),
        ))
    return users


def display_name(u: User) -> str:
    return f"{u.last} {u.first}" if u.lang == "ja" else f"{u.first} {u.last}"


def tracking_number(g: Gen, carrier: str) -> str:
    if carrier == "UPS":
        return "1Z" + g.alnum(6).upper() + g.digits(10)
    if carrier == "Royal Mail":
        return "RM" + g.digits(9) + "GB"
    if carrier == "DHL":
        return "JJD" + g.digits(17)
    if carrier == "Colissimo":
        return "6A" + g.digits(11)
    if carrier == "Correos Express":
        return g.digits(16)
    return g.digits(12)


def tracking_url(carrier: str, num: str) -> str:
    return f"https://track.acme.example/{carrier.lower().replace(' ', '-')}/{num}"


@dataclass
class Step:
    tool: str
    args: dict
    result: Any
    group: int = 0  # steps sharing a non-zero group are requested in one LLM turn (parallel calls)
    lat: tuple = (90, 650)
    service: str = ""
    sub: Optional[tuple] = None  # nested function span: (name, input, output, (lo, hi) ms)


@dataclass
class Plan:
    intent: str
    case: str
    text: str
    query: str
    kb: list
    steps: list
    outcome: str
    slots: dict
    flags: dict = field(default_factory=dict)
    reference: Optional[str] = None
    subject: Optional[str] = None
    sentiment: str = "neutral"
    urgency: str = "normal"


@dataclass
class Ctx:
    g: Gen
    user: User
    t0: int
    lang: str
    channel: str
    env: str
    app_version: str
    prompt_version: str
    model: str
    temperature: float
    refund_window: int
    conversation_id: str

    @property
    def rng(self) -> random.Random:
        return self.g.rng

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def cur(self) -> str:
        return self.user.currency

    def money(self, x: float) -> str:
        return fmt_money(x, self.cur, self.lang)

    def date(self, ms: int) -> str:
        return fmt_date(ms, self.locale, self.lang)

    def num(self, n: int) -> str:
        sep = {"de": ".", "es": ".", "fr": "\u202f"}.get(self.lang, ",")
        return f"{n:,}".replace(",", sep)


def seat_price(c: Ctx) -> float:
    return (SEAT_PRICE_ENT if c.user.plan == "enterprise" else SEAT_PRICE)[c.cur]


def rnd_money(x: float, cur: str) -> float:
    return int(round(x)) if cur == "JPY" else round(x, 2)


def user_names(c: Ctx) -> tuple[str, str]:
    """Names as written in the conversation language (romanised for Japanese users writing English)."""
    u = c.user
    if u.lang == "ja" and c.lang != "ja":
        first, last = u.email.split("@")[0].split(".")
        return first.title(), last.title()
    return u.first, u.last


def base_slots(c: Ctx) -> dict:
    u = c.user
    first, last = user_names(c)
    return {"first": first, "last": last, "name": display_name(u), "org": u.org, "email": u.email,
            "email_masked": u.masked_email(), "plan_name": PLAN_NAMES[u.plan], "limit": RATE_LIMITS[u.plan],
            "sla": c.rng.choice([24, 24, 48]) if u.plan != "enterprise" else c.rng.choice([4, 8, 12])}


def choose_text(rng: random.Random, intent: str, lang: str, exclude=()):
    pool = [p for p in USER_TEXT[intent][lang] if p[0] not in exclude]
    return pick(rng, pool)


def new_order_id(g: Gen) -> str:
    return "A-" + g.digits(6)


def weeks_phrase(days: int) -> str:
    if days <= 9:
        return "last week"
    if days <= 17:
        return "about two weeks ago"
    if days <= 25:
        return "three weeks ago"
    return "over a month ago"


def order_record(g: Gen, c: Ctx, oid: str, prod, status: str, placed: int, shipped: Optional[int] = None,
                 delivered: Optional[int] = None, eta: Optional[int] = None, tracking: Optional[str] = None) -> dict:
    sku, name, prices = prod
    price = prices[c.cur]
    rec: dict[str, Any] = {"order_id": oid, "status": status, "placed_at": iso_s(placed),
                           "items": [{"sku": sku, "name": name, "qty": 1, "unit_price": price}],
                           "total": price, "currency": c.cur}
    if shipped is not None:
        rec["shipped_at"] = iso_s(shipped)
        rec["carrier"] = CARRIERS[c.locale][0]
        rec["tracking_number"] = tracking
    if delivered is not None:
        rec["delivered_at"] = iso_s(delivered)
    if eta is not None:
        rec["estimated_delivery"] = day_iso(eta)
    return rec


def ticket_step(g: Gen, c: Ctx, category: str, priority: str, subject: str, summary: str, queue: str,
                sla: int) -> tuple[Step, str]:
    tid = "SUP-" + g.digits(5)
    step = Step("create_ticket",
                {"customer_id": c.user.user_id, "category": category, "priority": priority,
                 "subject": subject, "summary": summary},
                {"ticket_id": tid, "status": "open", "queue": queue, "sla_hours": sla,
                 "url": f"https://helpdesk.acme.example/tickets/{tid}"},
                lat=(180, 900), service="helpdesk")
    return step, tid


def refund_step(g: Gen, c: Ctx, ref: str, amount: float, reason: str, charge: Optional[str] = None) -> tuple[Step, str]:
    rid = "re_" + g.alnum(14)
    charge = charge or "ch_" + g.alnum(14)
    cents = int(round(amount)) if c.cur == "JPY" else int(round(amount * 100))
    args = {"amount": amount, "currency": c.cur, "reason": reason}
    args = ({"order_id": ref} if ref.startswith("A-") else {"charge_id": ref}) | args
    step = Step("issue_refund", args,
                {"refund_id": rid, "status": "pending", "amount": amount, "currency": c.cur,
                 "method": c.rng.choice(["card", "card", "card", "paypal"]), "expected_settlement_days": "5-10"},
                lat=(300, 1400), service="payments",
                sub=("payments.create_refund", {"charge": charge, "amount": cents, "currency": c.cur.lower()},
                     {"id": rid, "object": "refund", "status": "pending"}, (200, 1100)))
    return step, rid


def account_record(g: Gen, c: Ctx, **over) -> dict:
    u = c.user
    rec = {"user_id": u.user_id, "plan": u.plan,
           "role": "owner" if u.plan == "free" else c.rng.choice(["owner", "admin", "member"]),
           "status": "active", "seats": u_seats(c), "billing_cycle": "monthly" if u.plan != "enterprise" else "annual",
           "sso": {"enabled": False, "provider": None}, "mfa_enabled": c.rng.random() < 0.4}
    rec.update(over)
    return rec


def u_seats(c: Ctx) -> int:
    return {"free": 1, "pro": 3 + (int(c.user.user_id[-2:]) % 20), "enterprise": 40 + int(c.user.user_id[-3:]) % 300}[c.user.plan]


def kb_for(intent: str, case: str) -> list:
    cases = KB_FOR.get(intent, {})
    return list(cases.get(case) or cases.get("*") or [])


def make_query(c: Ctx, intent: str, case: str, **fmt) -> str:
    rng = c.rng
    if c.lang != "en" and intent in NATIVE_QUERIES.get(c.lang, {}) and rng.random() < 0.6:
        return NATIVE_QUERIES[c.lang][intent]
    table = QUERIES[intent]
    q = pick(rng, table.get(case) or table["*"])
    return q.format(**fmt)


def sample_time(rng: random.Random, u: User) -> int:
    tz = LOCALES[u.locale]["tz"]
    while True:
        day = rng.randrange(7)
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        t = (ANCHOR_MS + day * DAY + (hour - tz) * HOUR + rng.randrange(3600) * 1000 + rng.randrange(1000))
        if ANCHOR_MS <= t < ANCHOR_MS + WINDOW_MS - 15 * 60_000:
            return t


def release(env: str, t: int) -> tuple[str, str]:
    off = t - ANCHOR_MS
    if env == "staging":
        return ("2.15.0-rc.2", "support-system@v12") if off < T_2_15_0 else ("2.16.0-rc.1", "support-system@v13")
    if off < T_2_15_0:
        return "2.14.2", "support-system@v11"
    if off < T_2_15_1:
        return "2.15.0", "support-system@v12"
    return "2.15.1", "support-system@v12.1"


def pick_model(rng: random.Random, env: str, version: str, plan: str) -> str:
    if env == "staging":
        return wpick(rng, [("claude-3-5-sonnet", 5), ("gpt-4o", 5)])
    if plan == "free":
        return wpick(rng, [("gpt-4o-mini", 6), ("gpt-4o", 4)])
    if version == "2.14.2":
        return wpick(rng, [("gpt-4o", 5), ("claude-3-5-sonnet", 2.5), ("gpt-4-turbo", 2.5)])
    return wpick(rng, [("gpt-4o", 6), ("claude-3-5-sonnet", 4)])


def make_ctx(g: Gen, u: User, t: int, intent: str, env: Optional[str] = None, channel: Optional[str] = None) -> Ctx:
    rng = g.rng
    env = env or ("staging" if rng.random() < 0.07 else "production")
    version, pv = release(env, t)
    lang = u.lang if (u.lang != "en" and rng.random() < 0.72) else "en"
    if lang not in USER_TEXT[intent]:
        lang = "en"
    channel = channel or (u.channel if rng.random() < 0.6 else wpick(rng, [("web", 55), ("email", 25), ("slack", 20)]))
    model = pick_model(rng, env, version, u.plan)
    temp = 0.7 if rng.random() < 0.05 else (0.3 if pv == "support-system@v11" else 0.2)
    window = 30 if pv == "support-system@v12" and rng.random() < 0.85 else 14
    return Ctx(g, u, t, lang, channel, env, version, pv, model, temp, window, "conv_" + g.hex(16))
