"""The offline model: answers from the project's own logs, with no key and no network.

``ModelSpec(name="offline", model="offline/support")`` (``engine.llm.OFFLINE_SPEC``) is always
available: a playground, a prompt run or an eval works on a fresh install, on a plane, in CI.
It is clearly not a language model; it is a lookup that behaves like one:

1. **Find.** The words of the last user message (minus a few common English words, unless
   that leaves none) are looked up in the project's full-text index
   (:func:`store.similar.similar_outputs`): root spans with an output, ranked by bm25 of their
   input against those words (ties: the older row first). The top 20 are candidates.
2. **React to the prompt.** Among the candidates that match at least half as well as the best
   one (bm25 score), the one whose answer shares the most distinct words with the system
   message(s) wins (words: lower-cased, as the index splits them, minus a few common English
   words); ties keep the bm25 order. So a system prompt that says "refund" prefers a logged
   answer about refunds, and two prompt versions can answer differently, while a weak match
   never wins over a good one just because it repeats the prompt's words. With no system
   message (or no word in common) the best bm25 match wins.
3. **Answer** with that span's output as text: a string as it is; a chat message (or a list of
   them: the last assistant message; an OpenAI response: its first choice) its content; any
   other value as compact JSON.

No match: :data:`NO_ANSWER`. The same messages over the same data give the same answer, always.
"""

from __future__ import annotations

from typing import Any, Iterable

import orjson

from store.connection import Store
from store.query.compiler import fts_words
from store.similar import SimilarOutput, similar_outputs

from .chat import is_chat, is_message

__all__ = ["OfflineModel", "NO_ANSWER", "CANDIDATES", "answer_text"]

NO_ANSWER = "I'm sorry, I don't have an answer for that."
CANDIDATES = 20
CLOSE = 0.5  # a candidate competes on the prompt's words when its bm25 score is >= CLOSE x the best
STOP_WORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i if in is it its me my no not of on or our "
    "please so that the their them then there these they this to was we were what when where which who will with "
    "would you your".split()
)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = [p.get("text") for p in content if isinstance(p.get("text"), str)]
        if texts:
            return "".join(texts)
    return orjson.dumps(content).decode()


def answer_text(output: Any) -> str:
    """A logged output as the text an assistant would answer (see the module docstring, 3)."""
    if isinstance(output, str):
        return output
    if is_message(output):
        return _content_text(output.get("content"))
    if is_chat(output):
        assistant = [m for m in output if m.get("role") == "assistant"]
        return _content_text((assistant or output)[-1].get("content"))
    if isinstance(output, dict) and isinstance(output.get("choices"), list) and output["choices"]:
        first = output["choices"][0]
        if isinstance(first, dict) and is_message(first.get("message")):
            return _content_text(first["message"].get("content"))
    return orjson.dumps(output).decode()


def _words(text: str) -> set[str]:
    return {w.lower() for w in fts_words(text)} - STOP_WORDS


def _texts(messages: Iterable[dict], role: str) -> list[str]:
    return [_content_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == role]


def pick(candidates: list[SimilarOutput], system: str) -> SimilarOutput | None:
    """Among the close matches (see ``CLOSE``), the candidate whose answer shares the most words
    with ``system``; ties keep their (bm25) order."""
    if not candidates:
        return None
    want = _words(system)
    if not want:
        return candidates[0]
    top = candidates[0].rank  # bm25 in FTS5: negative, lower is better
    close = [c for c in candidates if c.rank <= top * CLOSE] if top < 0 else candidates
    best, best_score = candidates[0], -1
    for c in close:
        score = len(want & _words(answer_text(c.output)))
        if score > best_score:
            best, best_score = c, score
    return best


class OfflineModel:
    """Answers like a model from ``project``'s logged outputs (see the module docstring).

    ``answer`` is synchronous and reads the database: the client runs it in a thread."""

    def __init__(self, store: Store, project: str):
        self.store = store
        self.project = project

    def candidates(self, messages: list[dict]) -> list[SimilarOutput]:
        users = _texts(messages, "user")
        if not users:
            return []
        words = fts_words(users[-1])
        query = [w for w in words if w.lower() not in STOP_WORDS] or words
        return similar_outputs(self.store, self.project, " ".join(query), limit=CANDIDATES)

    def answer(self, messages: list[dict]) -> str:
        chosen = pick(self.candidates(messages), "\n".join(_texts(messages, "system")))
        return NO_ANSWER if chosen is None else answer_text(chosen.output)
