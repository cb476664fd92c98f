"""The two datasets `bt-tui demo` curates from the demo logs (issue 10), so that a newcomer sees
what a good dataset looks like: records that point back at their traces, expected outputs a
person corrected, and a history of who changed what.

- **refund policy regressions**: the answers the Factuality scorer rated below 0.4 on the
  ``support-system@v12`` prompt (app 2.15.0 and its release candidate), which told the bot that
  refunds are accepted "within 30 days of delivery" while the policy (KB-1101, KB-1103) says
  14. Three versions of history and a snapshot:

  1. sam (engineer) adds the 11 traces the filter finds, expected = what the bot answered;
  2. maya (PM) corrects the expected answers of six of them (one refund was issued outside the
     window and must become a warranty ticket); she names this version ``v1-golden``;
  3. sam removes the one trace that is not about refunds (a seat-billing question the filter
     caught) and tags the four answers still to correct ``needs-policy-review``.

- **golden answers**: answers customers rated 5 stars that the Factuality scorer also trusts
  (sam), then the two answers reviewers marked "adding to the golden dataset" (maya).

Everything is deterministic: record ids derive from the span ids (``rec-`` + the span id's hex),
each record's ``created`` is its span's, the authors are fixed, and the spans are named by id
(the filters that found them are in the version notes, and tests/test_demo_datasets.py checks
they still find exactly these). Only a version's own time is the clock's.

Seeding is idempotent: a dataset that already exists is left alone (even if someone edited it),
and a project without the demo spans gets no demo datasets.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Iterable, Optional

from store import Store
from store.datasets import DatasetError, get_dataset, get_record, snapshot, span_to_record, write_records
from store.errors import NotFound
from store.models import RecordIn
from store.selection import Selection, export_selection

PM = "maya"
ENGINEER = "sam"

# --- refund policy regressions ---------------------------------------------------------------------

REGRESSIONS = "refund policy regressions"
REGRESSIONS_DESCRIPTION = (
    "Refund answers from the support-system@v12 prompt (app 2.15.0), which cited a 30-day refund window; "
    "the policy is 14 days from delivery (KB-1101, KB-1103). Expected is the answer the bot should have given."
)
REGRESSIONS_FILTER = "scores.Factuality < 0.4 AND metadata.prompt_version = 'support-system@v12'"
REGRESSIONS_SPANS = (  # what REGRESSIONS_FILTER finds in the demo logs (traces), in trace order
    "span-81ae470d36680516",  # es-ES, staging rc.2: unopened Sensor Kit, 4 days
    "span-733cf6eb9f1fb9f9",  # es-ES, staging rc.2: unopened Ergo Keyboard, 11 days
    "span-f31c82694688f60a",  # en-US, staging rc.2: seat billing (plan_change), not a refund
    "span-d3a99e246a98f849",  # fr-FR: unopened Webcam 4K, 10 days
    "span-4a2ac05b86ed49bf",  # en-US: Desk Mat XL "about two weeks ago" (12 days)
    "span-702b59148d7f499b",  # ja-JP, VIP: wrong item, 12 days
    "span-e3d4a6ee3a96edf6",  # en-US: defective Travel Sleeve, 12 days
    "span-b225bc578f9c9331",  # de-DE: damaged Label Printer, 18 days: refunded outside the window
    "span-c463c45f60f009af",  # en-US: Acme Hub not as described, 7 days
    "span-79ba166732c3cf39",  # es-ES: damaged Dock Pro, 7 days
    "span-2aa9e94ac7d0c8fc",  # en-GB: wrong item, 10 days
)
OFF_TOPIC = "span-f31c82694688f60a"
POLICY_REVIEW_TAG = "needs-policy-review"
SNAPSHOT = "v1-golden"

# maya's corrections: the answer the bot should have given, in the customer's language, with the
# 14-day window of KB-1101 (returns) and KB-1103 (damaged, defective or wrong items), the
# settlement times of KB-1104 and the warranty of KB-1105.
CORRECTED: dict[str, dict] = {
    "span-4a2ac05b86ed49bf": {
        # the reviewer's reference answer, already in the logs' `expected`
        "answer": (
            "You can return the Acme Desk Mat XL from order A-365549 - it was delivered on Nov 6, which is within "
            "our 14-day return window. I've created return RMA-369344; here's your prepaid label: "
            "https://returns.acme.example/labels/RMA-369344.pdf. Please drop the parcel off by Dec 2. Once the "
            "carrier scans it, we'll refund $39.00 to your original payment method."
        ),
        "intent": "refund", "actions": ["create_return"], "escalated": False,
    },
    "span-702b59148d7f499b": {
        "answer": (
            "高橋様\n\nいつもAcmeをご利用いただき、誠にありがとうございます。このたびはご注文と異なる商品をお届けしてしまい、"
            "大変申し訳ございません。\n\nご注文A-358346は11月7日にお届けしており、誤配送のお申し出期間（お届けから14日以内）"
            "内でございます。Acme Dock Proのご代金29,800円を、元のお支払い方法（PayPal）へ全額返金いたしました"
            "（返金番号：re_HKAKF0fcD9XYPm）。PayPalへの反映には通常3営業日ほどかかります。\n\n"
            "誤ってお届けしたAcme Smart Plug (2-pack)の返送用ラベルは、別途メールにてお送りいたします。"
            "Acme Dock Proの再発送をご希望の場合は、本メールにご返信くださいませ。\n\n今後ともよろしくお願い申し上げます。"
        ),
        "intent": "refund", "actions": ["issue_refund"], "escalated": False,
    },
    "span-e3d4a6ee3a96edf6": {
        "answer": (
            "Sorry the Acme Travel Sleeve 14\" arrived dead. Order A-463680 was delivered on Nov 7, so you're within "
            "our 14-day window for defective items: you can have a full refund or a free replacement. I've issued a "
            "refund of $29.00 (refund re_L0k4UpPD3Tf6Fv); it shows as pending right away and PayPal refunds usually "
            "settle within 3 business days. You don't need to send the faulty item back. If you'd rather have a "
            "replacement, just reply and I'll set it up."
        ),
        "intent": "refund", "actions": ["issue_refund"], "escalated": False,
    },
    "span-b225bc578f9c9331": {
        # delivered 18 days before: no refund; the logged reference says "offer a warranty claim"
        "answer": (
            "Das tut mir leid - ein gesprungenes Gehäuse ist ärgerlich. Ich habe Bestellung A-101762 geprüft: Der Acme "
            "Label Printer wurde am 1. November zugestellt, also vor 18 Tagen. Beschädigte Artikel erstatten wir, wenn "
            "sie innerhalb von 14 Tagen nach der Zustellung gemeldet werden; diese Frist ist leider abgelaufen, daher "
            "kann ich keine Erstattung veranlassen. Ihr Drucker ist aber durch unsere Hardware-Garantie abgedeckt "
            "(24 Monate in der EU): Ich habe dafür ein Garantie-Ticket eröffnet, und unser Hardware-Team meldet sich "
            "bei Ihnen mit einer Reparatur oder einem Ersatzgerät."
        ),
        "intent": "refund", "actions": ["create_ticket"], "escalated": False,
    },
    "span-c463c45f60f009af": {
        "answer": (
            "Sorry the Acme Hub isn't what you expected. Order A-885807 was delivered on Nov 12, so you're within "
            "our 14-day return window. I've set up a return and you'll get a prepaid label by email. Once the "
            "carrier scans the parcel, we'll refund $249.00 to your card; card refunds settle in 5-10 business days."
        ),
        "intent": "refund", "actions": ["create_return"], "escalated": False,
    },
    "span-2aa9e94ac7d0c8fc": {
        "answer": (
            "Sorry about the mix-up. Order A-375222 was delivered on 10 Nov, so you're within our 14-day window for "
            "wrong items. I've issued a full refund of £79.00 for the Acme Label Printer (refund re_caJmfJGfIunUGy); "
            "it shows as pending straight away and PayPal refunds usually settle within 3 business days. We'll email "
            "you a prepaid label for the Acme Travel Sleeve 14\" you received by mistake. If you'd still like the "
            "printer, just reply and I'll send a replacement instead."
        ),
        "intent": "refund", "actions": ["issue_refund"], "escalated": False,
    },
}
# the answers still citing 30 days after maya's pass (Spanish and French: corrections pending)
POLICY_REVIEW = ("span-81ae470d36680516", "span-733cf6eb9f1fb9f9", "span-d3a99e246a98f849", "span-79ba166732c3cf39")

# --- golden answers ------------------------------------------------------------------------------------

GOLDEN = "golden answers"
GOLDEN_DESCRIPTION = (
    "Answers customers rated 5 stars that the Factuality scorer also trusts, plus the answers reviewers "
    "picked: reference answers for regression tests. Expected is the bot's answer."
)
GOLDEN_FILTER = "scores.user_rating = 1 AND scores.Factuality >= 0.8"
GOLDEN_SPANS = (  # what GOLDEN_FILTER finds in the demo logs (traces), in trace order
    "span-98b958d71cfb29d1", "span-db2f45bfa96e0d94", "span-7d81398a1bb4b47f", "span-1725803811f830c0",
    "span-ce20969e67957792", "span-8bd28d112038639a", "span-c757149786650067", "span-6630a7ca72df6c4d",
    "span-a252419e3d529f25", "span-e974823e7ae7d004", "span-2bce770886032dd2", "span-135d28ff83c10620",
    "span-545f8f5a2ccbda67", "span-40395a8e38e81896", "span-e9389ba56eb7b99e",
)
# "Great answer - adding to the golden dataset." (priya.k@acme.io) and kenji@acme.io's keigo praise
GOLDEN_PICKS = ("span-993579aa335362d7", "span-15c3a918c540194c")

DATASETS = (REGRESSIONS, GOLDEN)


def record_id(span_id: str) -> str:
    """The demo record made from a span: the same id on every machine."""
    return "rec-" + span_id.removeprefix("span-")


def _spans(store: Store, project: str, ids: Iterable[str]) -> dict[str, dict]:
    """The logged spans (export shape) by row id; missing ones are absent."""
    sel = Selection(project, shape="spans", ids=tuple(ids))
    return {span["id"]: span for span in map(json.loads, export_selection(store, sel))}


def _records(spans: dict[str, dict], ids: Iterable[str]) -> list[RecordIn]:
    out = []
    for span_id in ids:
        span = spans[span_id]
        content = span_to_record(span, "output")
        out.append(RecordIn(id=record_id(span_id), created=span["created"], **content))
    return out


def _exists(store: Store, project: str, name: str) -> bool:
    try:
        get_dataset(store, project, name)
    except NotFound:
        return False
    return True


def _edited(store: Store, project: str, name: str, span_id: str, **changes) -> RecordIn:
    rec = get_record(store, project, name, record_id(span_id))
    if rec is None:
        raise DatasetError(f"demo dataset {name!r} has no record for {span_id}")
    rec = dataclasses.replace(rec, **changes)
    return RecordIn(id=rec.id, input=rec.input, expected=rec.expected, metadata=rec.metadata, tags=rec.tags,
                    created=rec.created, origin=rec.origin)


def _seed_regressions(store: Store, project: str, spans: dict[str, dict]) -> None:
    name = REGRESSIONS
    write_records(store, project, name, upserts=_records(spans, REGRESSIONS_SPANS), author=ENGINEER,
                  description=REGRESSIONS_DESCRIPTION, note=f"{len(REGRESSIONS_SPANS)} traces from logs: {REGRESSIONS_FILTER}")
    corrected = write_records(
        store, project, name, author=PM, create=False,
        upserts=[_edited(store, project, name, s, expected=answer) for s, answer in CORRECTED.items()],
        note="corrected expected answers: 14 days from delivery (KB-1101, KB-1103), no refund after it (KB-1105)")
    snapshot(store, project, name, SNAPSHOT, corrected.version, author=PM)
    tagged = []
    for s in POLICY_REVIEW:
        tags = get_record(store, project, name, record_id(s)).tags
        tagged.append(_edited(store, project, name, s, tags=[*tags, POLICY_REVIEW_TAG]))
    write_records(store, project, name, author=ENGINEER, create=False, upserts=tagged, deletes=[record_id(OFF_TOPIC)],
                  note=f"removed the seat-billing trace (not a refund); tagged the answers still citing 30 days {POLICY_REVIEW_TAG}")


def _seed_golden(store: Store, project: str, spans: dict[str, dict]) -> None:
    write_records(store, project, GOLDEN, upserts=_records(spans, GOLDEN_SPANS), author=ENGINEER,
                  description=GOLDEN_DESCRIPTION, note=f"{len(GOLDEN_SPANS)} traces from logs: {GOLDEN_FILTER}")
    write_records(store, project, GOLDEN, upserts=_records(spans, GOLDEN_PICKS), author=PM, create=False,
                  note="added the two answers reviewers marked for the golden dataset (priya.k, kenji)")


_SEEDS = ((REGRESSIONS, REGRESSIONS_SPANS, _seed_regressions), (GOLDEN, GOLDEN_SPANS + GOLDEN_PICKS, _seed_golden))


def seed_demo_datasets(store: Store, project: str) -> list[str]:
    """Add the demo datasets the project does not have yet; returns the names of those it made.
    A dataset already there is left alone; none is made unless all of its spans are in the logs
    (a project that is not the demo's gets none)."""
    made: list[str] = []
    for name, ids, seed in _SEEDS:
        if _exists(store, project, name):
            continue
        try:
            spans = _spans(store, project, ids)
        except NotFound:  # no such project
            return made
        if any(i not in spans or spans[i].get("output") is None for i in ids):
            continue
        seed(store, project, spans)
        made.append(name)
    return made


def describe(store: Store, project: str, names: Optional[list[str]] = None) -> str:
    """One line for `bt-tui demo`: the datasets made, with their records and versions."""
    parts = []
    for name in names or DATASETS:
        info = get_dataset(store, project, name)
        parts.append(f"{name!r} ({info.records} records, {info.versions} versions)")
    return ", ".join(parts)


__all__ = ["DATASETS", "GOLDEN", "REGRESSIONS", "SNAPSHOT", "describe", "record_id", "seed_demo_datasets"]
