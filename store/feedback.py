"""Human edits of logged rows: feedback (scores, expected, metadata, a comment), tags, batch
retagging. Braintrust's merge semantics; every change is audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import orjson

from .audit import audit
from .connection import Store
from .errors import InputError, NotFound
from .jsontext import dumps_text, json_or_null
from .models import Comment, FeedbackIn, comment_id, now_iso
from .projects import project_id


@dataclass
class FeedbackResult:
    row_id: str
    scores: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    expected: Any = None
    comment_id: Optional[str] = None


BLANK_COMMENT = "a comment cannot be empty"


def _no_row(row_id: str, project: str) -> NotFound:
    return NotFound(f"no row with id {row_id!r} in project {project!r}")


def apply_feedback(store: Store, project: str, row_id: str, fb: FeedbackIn) -> FeedbackResult:
    """Braintrust's merge semantics: scores merge, tags are added, expected is replaced,
    metadata merges, a comment is appended. Every change is audited. Atomic."""
    if fb.comment is not None and not fb.comment.strip():
        raise InputError(BLANK_COMMENT)
    pid = project_id(store, project, create=False)
    with store.write() as conn:
        row = conn.execute(
            "SELECT rid, scores, tags, expected, metadata FROM spans WHERE project_id = ? AND id = ?",
            (pid, row_id),
        ).fetchone()
        if not row:
            raise _no_row(row_id, project)
        rid, scores_t, tags_t, expected_t, metadata_t = row
        scores = orjson.loads(scores_t)
        tags = orjson.loads(tags_t)
        result = FeedbackResult(row_id=row_id)
        if fb.scores:
            new_scores = {**scores, **fb.scores}
            if new_scores != scores:
                conn.execute("UPDATE spans SET scores = ? WHERE rid = ?", (dumps_text(new_scores), rid))
                audit(conn, pid, "span", row_id, "scores", fb.author, scores, new_scores)
            scores = new_scores
        if fb.tags:
            new_tags = list(tags) + [t for t in dict.fromkeys(fb.tags) if t not in tags]
            if new_tags != tags:
                conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(new_tags), rid))
                audit(conn, pid, "span", row_id, "tags", fb.author, tags, new_tags)
            tags = new_tags
        expected = None if expected_t is None else orjson.loads(expected_t)
        if fb.has_expected:
            conn.execute("UPDATE spans SET expected = ? WHERE rid = ?", (json_or_null(fb.expected), rid))
            audit(conn, pid, "span", row_id, "expected", fb.author, expected, fb.expected)
            expected = fb.expected
        if fb.metadata:
            metadata = orjson.loads(metadata_t)
            new_md = {**metadata, **fb.metadata}
            conn.execute("UPDATE spans SET metadata = ? WHERE rid = ?", (dumps_text(new_md), rid))
            audit(conn, pid, "span", row_id, "metadata", fb.author, metadata, new_md)
        if fb.comment is not None:
            c = Comment(text=fb.comment, author=fb.author, created=now_iso())
            c.id = comment_id(row_id, c)
            conn.execute(
                "INSERT INTO comments (id, span_rid, text, author, created) VALUES (?, ?, ?, ?, ?)",
                (c.id, rid, c.text, c.author, c.created),
            )
            audit(conn, pid, "span", row_id, "comment", fb.author, None, {"id": c.id, "text": c.text})
            result.comment_id = c.id
        result.scores, result.tags, result.expected = scores, tags, expected
        return result


def add_comment(store: Store, project: str, row_id: str, text: str, author: str) -> str:
    """Append a comment to a row (audited); returns its id. A blank comment is an InputError."""
    if not text.strip():
        raise InputError(BLANK_COMMENT)
    res = apply_feedback(store, project, row_id, FeedbackIn(comment=text, author=author))
    return res.comment_id or ""


def set_tags(store: Store, project: str, row_id: str, tags: list[str], author: str) -> list[str]:
    """Replace a row's tags (the TUI's tag editor), audited."""
    pid = project_id(store, project, create=False)
    clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    with store.write() as conn:
        row = conn.execute("SELECT rid, tags FROM spans WHERE project_id = ? AND id = ?", (pid, row_id)).fetchone()
        if not row:
            raise _no_row(row_id, project)
        before = orjson.loads(row[1])
        if before != clean:
            conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(clean), row[0]))
            audit(conn, pid, "span", row_id, "tags", author, before, clean)
    return clean


def retag(store: Store, project: str, row_ids: Iterable[str], *, add: Iterable[str] = (),
          remove: Iterable[str] = (), author: str) -> int:
    """Add and/or remove tags on many rows (batch action), audited per row. Returns how many
    rows changed. Works in transactions of 1,000 rows so other writers are not held up."""
    add_l = [t.strip() for t in add if t.strip()]
    rem = {t.strip() for t in remove if t.strip()}
    pid = project_id(store, project, create=False)
    changed = 0
    chunk: list[str] = []

    def flush(ids: list[str]) -> int:
        n = 0
        with store.write() as conn:
            marks = ", ".join("?" for _ in ids)
            for rid, rowid, tags_t in conn.execute(
                f"SELECT id, rid, tags FROM spans WHERE project_id = ? AND id IN ({marks})", (pid, *ids)
            ).fetchall():
                before = orjson.loads(tags_t)
                after = [t for t in before if t not in rem] + [t for t in dict.fromkeys(add_l) if t not in before]
                if after != before:
                    conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(after), rowid))
                    audit(conn, pid, "span", rid, "tags", author, before, after)
                    n += 1
        return n

    for row_id in row_ids:
        chunk.append(row_id)
        if len(chunk) >= 1000:
            changed += flush(chunk)
            chunk = []
    if chunk:
        changed += flush(chunk)
    return changed
