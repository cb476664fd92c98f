"""The offline model (engine/offline.py) and its store query (store/similar.py): answers from a
project's own logs, deterministic, reacting to the system prompt, no key, no network, no litellm."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.llm import OFFLINE_SPEC, LLMClient, llm_span
from engine.offline import NO_ANSWER, OfflineModel, answer_text, pick
from store.connection import Store
from store.similar import MAX_WORDS, SimilarOutput, fts_any_query, similar_outputs
from store.spans import log_spans

ROOT = Path(__file__).resolve().parent.parent

QA = [
    ("q-reset", "How do I reset my password?", "Click 'Forgot password' on the login page and follow the link."),
    ("q-invoice", "My invoice is wrong, I was charged twice this month",
     {"role": "assistant", "content": "Sorry about that: we refunded the duplicate charge to your card."}),
    ("q-export", "How can I export my data to CSV?",
     [{"role": "user", "content": "How can I export my data to CSV?"},
      {"role": "assistant", "content": "Open Settings, then Export, and pick CSV."}]),
    ("q-email", "The password reset email never arrives",
     {"answer": "Check your spam folder; we sent the reset email again.", "intent": "account"}),
    ("q-slack", "Slack integration posts every comment twice", "We fixed the Slack webhook; duplicates stop today."),
    ("q-sso", "How do I turn on single sign-on for my team?", "SSO is under Admin > Security on the Enterprise plan."),
]


def row(rid: str, question: str, answer, **extra) -> dict:
    return {"id": rid, "input": {"message": question}, "output": answer, **extra}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "bt.db")
    log_spans(s, "support", [row(*qa) for qa in QA])
    # noise the model must ignore: a child span, a root without output, another project
    log_spans(s, "support", [
        {"id": "child", "span_id": "c1", "root_span_id": "q-reset", "span_parents": ["q-reset"],
         "input": {"message": "password password password reset"}, "output": "CHILD SPAN OUTPUT"},
        row("no-output", "reset my password please, password reset", None),
    ])
    log_spans(s, "other", [row("elsewhere", "reset my password password password", "OTHER PROJECT")])
    yield s
    s.close()


def ask(model: OfflineModel, question: str, system: str | None = None) -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
    return model.answer(msgs)


def test_answers_with_the_output_of_the_most_similar_question(store):
    model = OfflineModel(store, "support")
    assert ask(model, "I need to reset my password") == QA[0][2]
    assert ask(model, "why was I charged twice on my invoice?") == QA[1][2]["content"]
    assert ask(model, "export to csv") == "Open Settings, then Export, and pick CSV."  # the assistant's turn
    assert ask(model, "slack comments twice") == QA[4][2]
    # a non-chat object answers as compact JSON
    assert ask(model, "reset email never arrives") == (
        '{"answer":"Check your spam folder; we sent the reset email again.","intent":"account"}')


def test_candidates_are_roots_with_output_of_this_project(store):
    found = similar_outputs(store, "support", "password reset")
    ids = [f.row_id for f in found]
    assert set(ids) == {"q-reset", "q-email"}  # not the child span, the row with no output, nor "other"
    assert found[0].rank <= found[1].rank
    assert found[0].input == {"message": dict((q[0], q[1]) for q in QA)[ids[0]]}
    assert similar_outputs(store, "support", "password", limit=1)[0].row_id in {"q-reset", "q-email"}
    assert similar_outputs(store, "no-such-project", "password") == []
    assert similar_outputs(store, "support", "") == []
    assert similar_outputs(store, "support", "   ?!  ") == []


def test_fts_query_is_safe_and_capped(store):
    assert fts_any_query('say "hi" OR NEAR(x) * ^ {input}:') == (
        '{input} : ("say" OR "hi" OR "OR" OR "NEAR" OR "x" OR "input")')
    many = " ".join(f"word{i}" for i in range(50))
    assert fts_any_query(many).count('"') == 2 * MAX_WORDS == 64
    assert fts_any_query("Password password PASSWORD") == '{input} : ("Password")'
    # hostile text runs as plain words, never as FTS syntax or SQL
    assert similar_outputs(store, "support", "') DROP TABLE spans; -- \" NEAR/2 *") == []
    assert ask(OfflineModel(store, "support"), '" OR * NEAR( password') == QA[0][2]


def test_deterministic(store, tmp_path):
    q = [{"role": "system", "content": "Be helpful."}, {"role": "user", "content": "password trouble, reset?"}]
    first = OfflineModel(store, "support").answer(q)
    assert all(OfflineModel(store, "support").answer(q) == first for _ in range(5))


def test_ties_go_to_the_older_row(tmp_path):
    s = Store(tmp_path / "tie.db")
    try:
        log_spans(s, "p", [row("a", "same question here", "first answer"),
                           row("b", "same question here", "second answer")])
        assert OfflineModel(s, "p").answer([{"role": "user", "content": "same question here"}]) == "first answer"
    finally:
        s.close()


def test_system_prompt_changes_the_pick(store):
    model = OfflineModel(store, "support")
    question = "my password reset is not working"
    plain = ask(model, question)
    v1 = ask(model, question, "You are Acme support. Point users to the login page link.")
    v2 = ask(model, question, "You are Acme support. Always suggest checking the spam folder for email.")
    assert plain == v1 == QA[0][2]
    assert v2 == answer_text(QA[3][2]) and v2 != v1
    # the prompt only chooses among good answers to similar questions: never an unrelated one
    assert ask(model, question, "Talk about Slack webhooks and duplicates.") == QA[0][2]


def test_prompt_words_choose_only_among_close_matches():
    cands = [SimilarOutput("best", "q", "Click the reset link.", -10.0),
             SimilarOutput("close", "q", "We sent a new reset email; check spam.", -6.0),
             SimilarOutput("weak", "q", "Refunds and spam and email and billing, all of it.", -4.0)]
    assert pick(cands, "").row_id == "best"  # no prompt: bm25 order
    assert pick(cands, "You are a helpful assistant.").row_id == "best"  # no word in common: bm25 order
    assert pick(cands, "Mention spam and email.").row_id == "close"  # the prompt's words, among close matches
    assert pick(cands, "Talk about refunds and billing.").row_id == "best"  # "weak" is under half the best score
    assert pick([], "anything") is None


def test_no_match_gives_the_fallback(store):
    model = OfflineModel(store, "support")
    assert ask(model, "quantum banana xylophone") == NO_ANSWER
    assert model.answer([{"role": "system", "content": "password"}]) == NO_ANSWER  # no user message
    assert OfflineModel(store, "missing").answer([{"role": "user", "content": "password"}]) == NO_ANSWER


def test_answer_text_shapes():
    assert answer_text("plain") == "plain"
    assert answer_text({"role": "assistant", "content": "hi"}) == "hi"
    assert answer_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a1"},
                        {"role": "assistant", "content": [{"type": "text", "text": "a2"}]}]) == "a2"
    assert answer_text({"choices": [{"message": {"role": "assistant", "content": "c"}}]}) == "c"
    assert answer_text({"b": 1, "a": [1, 2]}) == '{"b":1,"a":[1,2]}'
    assert answer_text(42) == "42"


def test_read_only_store(store, tmp_path):
    ro = Store(store.path, readonly=True)
    try:
        assert ask(OfflineModel(ro, "support"), "reset my password") == QA[0][2]
    finally:
        ro.close()


async def test_client_with_offline_spec(store):
    client = LLMClient(offline=OfflineModel(store, "support"))
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "how to reset password"}]
    deltas: list[str] = []
    r = await client.complete(OFFLINE_SPEC, msgs, params={"temperature": 0}, on_delta=deltas.append)
    assert r.error is None and r.output == QA[0][2] and deltas == [QA[0][2]]
    assert (r.prompt_tokens, r.completion_tokens) == (2 + 4, len(QA[0][2].split()))
    assert r.tokens == r.prompt_tokens + r.completion_tokens
    assert r.cost == 0 and r.attempts == 1 and r.model == "offline" and 0 <= r.latency < 5
    span = llm_span(r, root_span_id="t", parent_span_id="t")
    assert span["metadata"]["litellm_model"] == "offline/support" and span["metrics"]["estimated_cost"] == 0
    none = await LLMClient().complete(OFFLINE_SPEC, msgs)
    assert none.error == "offline model needs a project" and none.output is None


def test_offline_call_never_imports_litellm(store):
    code = f"""
import asyncio, sys
from engine.llm import OFFLINE_SPEC, LLMClient
from engine.offline import OfflineModel
from store.connection import Store
store = Store({store.path!r}, readonly=True)
r = asyncio.run(LLMClient(offline=OfflineModel(store, "support")).complete(
    OFFLINE_SPEC, [{{"role": "user", "content": "reset my password"}}]))
assert r.error is None and r.output and r.cost == 0, r
assert "litellm" not in sys.modules, "litellm was imported"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
