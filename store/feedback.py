"""Human edits of logged rows: feedback (scores, expected, metadata, a comment), tags, batch
retagging. Braintrust's merge semantics; every change is audited.

Edits are changes, applied to the row as it is inside the write transaction: scores set or
removed per name, tags added and removed (``edit_row``, ``edit_tags``, ``apply_feedback``), so
two people (or the TUI and a CLI script) editing one row never silently drop each other's
change. ``set_tags`` without ``shown`` (replace the whole list) remains for old callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

import orjson

from .audit import audit
from .connection import Store
from .errors import InputError, NotFound, StoreError
from .jsontext import dumps_text, json_or_null, loads
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


class EditConflict(StoreError):
    """The value an edit was based on changed meanwhile (someone else saved first)."""


_UNSET: Any = object()


def apply_feedback(store: Store, project: str, row_id: str, fb: FeedbackIn, *,
                   expected_was: Any = _UNSET) -> FeedbackResult:
    """Apply a change to a row, against its current values inside the write transaction (so
    a change another process made meanwhile is never overwritten): scores set per name and
    ``remove_scores`` dropped (Braintrust: scores merge), ``remove_tags`` removed then ``tags``
    added, expected replaced, metadata merged, a comment appended. Every change is audited
    (these audit entries are also what a re-import keeps: ``spans.keep_human_edits``). Atomic.
    ``expected_was``: the expected the editor showed; when the row's expected is no longer that,
    nothing is written and ``EditConflict`` says so (compare-and-set, in the transaction)."""
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
        if fb.scores or fb.remove_scores:
            gone = set(fb.remove_scores) - set(fb.scores)
            new_scores = {**{k: v for k, v in scores.items() if k not in gone}, **fb.scores}
            if new_scores != scores:
                conn.execute("UPDATE spans SET scores = ? WHERE rid = ?", (dumps_text(new_scores), rid))
                audit(conn, pid, "span", row_id, "scores", fb.author, scores, new_scores)
            scores = new_scores
        if fb.tags or fb.remove_tags:
            new_tags = apply_tag_changes(tags, fb.tags, fb.remove_tags)
            if new_tags != tags:
                conn.execute("UPDATE spans SET tags = ? WHERE rid = ?", (dumps_text(new_tags), rid))
                audit(conn, pid, "span", row_id, "tags", fb.author, tags, new_tags)
            tags = new_tags
        expected = None if expected_t is None else loads(expected_t)
        if expected_was is not _UNSET and fb.has_expected and expected != expected_was:
            raise EditConflict(f"expected of {row_id} changed since you opened it")
        if fb.has_expected:
            conn.execute("UPDATE spans SET expected = ? WHERE rid = ?", (json_or_null(fb.expected), rid))
            audit(conn, pid, "span", row_id, "expected", fb.author, expected, fb.expected)
            expected = fb.expected
        if fb.metadata:
            metadata = loads(metadata_t)
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


def edit_row(store: Store, project: str, row_id: str, *, author: str,
             set_scores: Optional[Mapping[str, Optional[float]]] = None, remove_scores: Iterable[str] = (),
             add_tags: Iterable[str] = (), remove_tags: Iterable[str] = (), expected: Any = _UNSET,
             comment: Optional[str] = None) -> FeedbackResult:
    """A person's change to one row, as changes (never a whole value shown earlier): scores set
    or removed per name, tags added and removed, expected replaced (``expected=None`` clears
    it), a comment. Applied to the row as it is now, in one write transaction
    (``apply_feedback``). A bad value raises InputError (one line)."""
    from pydantic import ValidationError

    from .models import validation_reason

    try:
        fb = FeedbackIn(scores=dict(set_scores or {}), remove_scores=list(remove_scores), tags=list(add_tags),
                        remove_tags=list(remove_tags), expected=None if expected is _UNSET else expected,
                        has_expected=expected is not _UNSET, comment=comment, author=author)
    except ValidationError as exc:
        raise InputError(validation_reason(exc)) from None
    return apply_feedback(store, project, row_id, fb)


def apply_tag_changes(tags: list[str], add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """``tags`` without ``remove``, then ``add`` (each once, in order) that are not there yet."""
    rem = set(remove)
    kept = [t for t in tags if t not in rem]
    return kept + [t for t in dict.fromkeys(add) if t not in kept]


def tag_changes(shown: Iterable[str], edited: Iterable[str]) -> tuple[list[str], list[str]]:
    """What a tag editor changed: (added, removed) between the tags it showed and the edited
    list (blank tags ignored, whitespace stripped)."""
    before = list(dict.fromkeys(t.strip() for t in shown if t.strip()))
    after = list(dict.fromkeys(t.strip() for t in edited if t.strip()))
    return [t for t in after if t not in before], [t for t in before if t not in after]


def edit_tags(store: Store, project: str, row_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = (),
              author: str) -> list[str]:
    """Add and remove tags on one row, against its tags as they are now (a tag another
    process added meanwhile stays); audited. Returns the row's tags after the change."""
    add_l = [t.strip() for t in add if t.strip()]
    rem_l = [t.strip() for t in remove if t.strip()]
    if not add_l and not rem_l:
        pid = project_id(store, project, create=False)
        row = store.conn.execute("SELECT tags FROM spans WHERE project_id = ? AND id = ?", (pid, row_id)).fetchone()
        if not row:
            raise _no_row(row_id, project)
        return orjson.loads(row[0])
    return apply_feedback(store, project, row_id, FeedbackIn(tags=add_l, remove_tags=rem_l, author=author)).tags


def add_comment(store: Store, project: str, row_id: str, text: str, author: str) -> str:
    """Append a comment to a row (audited); returns its id. A blank comment is an InputError."""
    if not text.strip():
        raise InputError(BLANK_COMMENT)
    res = apply_feedback(store, project, row_id, FeedbackIn(comment=text, author=author))
    return res.comment_id or ""


def set_tags(store: Store, project: str, row_id: str, tags: list[str], author: str, *,
             shown: Optional[Iterable[str]] = None) -> list[str]:
    """The TUI's tag editor. With ``shown`` (the tags the editor showed): only what the user
    changed is applied (``edit_tags``), so a tag someone else added meanwhile is kept; returns
    the row's tags after. Without it (the old call): the row's tags become ``tags`` exactly,
    overwriting any change made since they were shown (prefer ``shown``)."""
    if shown is not None:
        added, removed = tag_changes(shown, tags)
        return edit_tags(store, project, row_id, add=added, remove=removed, author=author)
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
                after = apply_tag_changes(before, add_l, rem)
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
