"""`bt-tui feedback`: scores, expected, a comment and tags on one logged row."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from .common import UsageError, app, open_store, state, user_errors


def parse_score(text: str) -> tuple[str, Optional[float]]:
    if "=" not in text:
        raise UsageError(f"--score {text!r}: expected NAME=VALUE, e.g. --score accuracy=0.8")
    name, _, raw = text.partition("=")
    name = name.strip()
    if not name:
        raise UsageError(f"--score {text!r}: the score name is empty")
    raw = raw.strip()
    if raw.lower() in ("null", "none", ""):
        return name, None
    try:
        value = float(raw) + 0.0  # + 0.0: -0 is 0
    except ValueError:
        raise UsageError(f"--score {text!r}: {raw!r} is not a number") from None
    if not (0.0 <= value <= 1.0):
        raise UsageError(f"--score {text!r}: a score must be between 0 and 1")
    return name, value


def parse_json_arg(option: str, text: str):
    """JSON, read as the import reads it (every digit of a big number kept, the same depth
    limit); text that is not JSON and does not look like it is a plain string."""
    from store.models import parse_json

    stripped = text.strip()
    looks_json = stripped[:1] in ('{', '[', '"') or stripped in ("true", "false", "null")
    try:
        return parse_json(stripped, option)
    except ValueError as exc:
        if looks_json or "nested deeper" in str(exc):
            raise UsageError(str(exc)) from None
        try:
            float(stripped)
        except ValueError:
            return text  # a plain string
        raise UsageError(f"{option}: not valid JSON") from None


@app.command()
def feedback(
    row_id: str = typer.Argument(..., help="The row's id (the `id` key of the span row)."),
    score: List[str] = typer.Option([], "--score", "-s", help="NAME=VALUE (0..1 or null); merges into the row's scores. Repeatable."),
    expected: Optional[str] = typer.Option(None, "--expected", "-e", help="JSON (or plain text) that replaces the row's expected."),
    comment: Optional[str] = typer.Option(None, "--comment", "-c", help="Add a comment."),
    tag: List[str] = typer.Option([], "--tag", "-t", help="Add a tag. Repeatable."),
    author: Optional[str] = typer.Option(None, "--author", help="Who gives the feedback (default: the OS user)."),
) -> None:
    """Record feedback on a row: scores merge, tags are added, expected is replaced, comments append."""
    from store.jsontext import dumps_text
    from store.models import FeedbackIn
    from store.audit import default_author
    from store.feedback import apply_feedback

    with user_errors():
        if not (score or expected is not None or comment is not None or tag):
            raise UsageError("nothing to record: give --score, --expected, --comment or --tag")
        scores = dict(parse_score(s) for s in score)
        fb_kwargs = dict(scores=scores, tags=tag, comment=comment, author=author or default_author())
        if expected is not None:
            fb_kwargs.update(expected=parse_json_arg("--expected", expected), has_expected=True)
        fb = FeedbackIn(**fb_kwargs)  # a ValidationError becomes one line (user_errors)
        store = open_store(must_exist=True)
        res = apply_feedback(store, state.project, row_id, fb)
        out = {"id": res.row_id, "scores": res.scores, "tags": res.tags, "expected": res.expected}
        if res.comment_id:
            out["comment_id"] = res.comment_id
        sys.stdout.write(dumps_text(out) + "\n")
