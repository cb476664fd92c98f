"""What several screens do to rows: comment, edit tags, the batch actions on a selection (add
or remove a tag, export), open a value in the pager. Each asks with a dialog, writes in a
worker thread, and tells the screen how it went with ``WriteDone`` / ``WorkFailed``."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional

import orjson

from store.selection import Selection, count_selection, export_selection, retag_selection
from store.audit import default_author
from store.export import get_span
from store.feedback import EditConflict, add_comment, apply_feedback, set_tags, tag_changes
from store.models import FeedbackIn
from store.query.hints import completions
from tui import clipboard
from tui.format import value_text
from tui.messages import ExpectedRead, ScoreNamesRead, WorkFailed, WriteDone
from tui.registry import BatchAction
from tui.screens.dialogs import LastTokenSuggester, MenuScreen, PromptScreen, TextEditScreen


def write_in_thread(screen, message: str, write: Callable[..., Any], *args: Any, changed: bool = True,
                    failed: str = "could not save", **kwargs: Any) -> None:
    """``write(store, *args, **kwargs)`` in a worker thread; then ``WriteDone(message)`` (with
    ``{result}`` replaced by what it returned), or ``WorkFailed`` naming the error."""
    store = screen.store

    def run() -> None:
        try:
            result = write(store, *args, **kwargs)
        except Exception as exc:
            screen.post_message(WorkFailed(f"{failed}: {exc}" if failed else str(exc)))
            return
        finally:
            store.release_thread()
        screen.post_message(WriteDone(message.replace("{result}", str(result)), changed=changed))

    screen.run_worker(run, thread=True, group="write")


def ask_comment(screen, project: str, row_id: str, title: str, message: str, placeholder: str = "") -> None:
    def done(text: Optional[str]) -> None:
        if text and text.strip():
            write_in_thread(screen, message, add_comment, project, row_id, text.strip(), default_author())

    screen.app.push_screen(PromptScreen(title, placeholder=placeholder), done)


def ask_tags(screen, project: str, row_id: str, tags: list[str], known: list[str], title: str, hint: str = "") -> None:
    """Edit a row's tags (comma-separated; completion from ``known``). What is saved is the
    change against the tags shown (added, removed), so a tag written meanwhile (another
    reviewer, `bt-tui feedback --tag`) stays."""
    shown = [t.strip() for t in tags if t.strip()]

    def done(text: Optional[str]) -> None:
        if text is None:
            return
        edited = text.split(",")
        if tag_changes(shown, edited) == ([], []):
            screen.notify("tags unchanged")
            return
        write_in_thread(screen, "tags saved", set_tags, project, row_id, edited, default_author(), shown=shown)

    screen.app.push_screen(PromptScreen(title, value=", ".join(shown), hint=hint, suggester=LastTokenSuggester(known)),
                           done)


# -- expected and scores (store.feedback.apply_feedback, audited with the acting author)


def json_error(text: str) -> Optional[tuple[str, int, int]]:
    """(what is wrong, line, column) when ``text`` is not one JSON value, else None."""
    if not text.strip():
        return "empty: write null to clear it", 1, 1
    try:
        json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg.lower()} at line {exc.lineno}, column {exc.colno}", exc.lineno, exc.colno
    except _DuplicateKey as exc:
        line, col = _second_key_position(text, exc.key)
        return (f"the key {exc.key!r} is given twice in one object (line {line}, column {col}): keep one",
                line, col)
    except ValueError as exc:
        return f"not valid JSON: {exc}", 1, 1
    return None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list) -> dict:
    """JSON allows a key twice in an object and keeps the last: in an editor that silently
    drops what was typed first, so it is refused."""
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _second_key_position(text: str, key: str) -> tuple[int, int]:
    """(line, column) of the second ``"key":`` in the text (1, 1 when it cannot be found)."""
    import re

    hits = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:", text)]
    if len(hits) < 2:
        return 1, 1
    pos = hits[1]
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_expected(screen, project: str, row_id: str, title: str) -> None:
    """Read the row's expected now (in a worker); ``ExpectedRead`` opens the editor."""
    store = screen.store

    def run() -> None:
        try:
            span = get_span(store, project, row_id)
        except Exception as exc:
            screen.post_message(WorkFailed(f"could not read the row: {exc}"))
            return
        finally:
            store.release_thread()
        screen.post_message(ExpectedRead(project, row_id, title, span.get("expected")))

    screen.run_worker(run, thread=True, group="read-expected")


def edit_expected(screen, event: ExpectedRead) -> None:
    """Edit expected as JSON: in ``$EDITOR`` when set, else a dialog. Saved only when valid,
    and only if nobody changed it since it was read."""
    original = event.value
    text = orjson.dumps(original, option=orjson.OPT_INDENT_2).decode() + "\n"

    def save(new_text: str) -> None:
        value = json.loads(new_text)
        if value == original:
            screen.notify("expected unchanged")
            return
        write_in_thread(screen, "expected saved", _save_expected, event.project, event.row_id, original, value,
                        new_text, default_author(), failed="")

    edit_json(screen, event.title, text, save)


def edit_json(screen, title: str, text: str, save: Callable[[str], None], *,
              validate: Callable[[str], Optional[tuple[str, int, int]]] = json_error, what: str = "expected",
              hint: str = "JSON · ctrl+s saves · escape cancels") -> None:
    """Edit ``text`` as JSON: in ``$EDITOR`` when set, else a dialog (``TextEditScreen``).
    ``save(text)`` is called only with a text ``validate`` accepts (text -> (what is wrong,
    line, column) or None); a refused text is kept (the dialog stays open on it, or the
    editor's file is offered again). ``what`` names the value in notices and file names."""
    if os.environ.get("EDITOR"):
        _edit_in_editor(screen, title, text, save, validate=validate, what=what)
        return

    def done(new_text: Optional[str]) -> None:
        if new_text is not None:
            save(new_text)

    screen.app.push_screen(TextEditScreen(title, text, validate=validate, hint=hint), done)


def _edit_in_editor(screen, title: str, text: str, save: Callable[[str], None], *,
                    validate: Callable[[str], Optional[tuple[str, int, int]]] = json_error,
                    what: str = "expected") -> None:
    """``$EDITOR`` on a temp file. A refused text: say where, then edit again (on what was
    typed) or leave it (the file stays, its path said): nothing typed is lost."""
    fd, path = tempfile.mkstemp(prefix=f"bt-tui-{what}-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    cmd = shlex.split(os.environ["EDITOR"])

    def run() -> None:
        try:
            with screen.app.suspend():
                subprocess.run(cmd + [path], check=False)
            with open(path, encoding="utf-8") as f:
                new_text = f.read()
        except Exception as exc:
            screen.notify(f"could not run {cmd[0]}: {exc} (the text is in {path})", severity="error")
            return
        found = validate(new_text)
        if found is None:
            os.unlink(path)
            save(new_text)
            return

        def picked(key: Optional[str]) -> None:
            if key == "again":
                run()
            else:
                screen.notify(f"{what} not saved; what you typed is in {path}", severity="warning")

        screen.app.push_screen(MenuScreen(f"{title}: {found[0]}", [
            ("again", "Edit it again (what you typed is kept)"),
            ("leave", f"Leave it unsaved (kept in {path})"),
        ]), picked)

    run()


class ExpectedChanged(Exception):
    """Expected was changed by someone else since the editor read it."""


def _save_expected(store, project: str, row_id: str, original: Any, value: Any, text: str, author: str) -> None:
    try:
        apply_feedback(store, project, row_id, FeedbackIn(expected=value, has_expected=True, author=author),
                       expected_was=original)
    except EditConflict:
        path = keep_text(text, f"expected-{row_id}")
        raise ExpectedChanged(f"expected of {row_id} changed since you opened it: not saved; reload to see it"
                              f" (your text is in {path})") from None


def keep_text(text: str, name: str) -> str:
    """Save a text the user typed but could not save (the cache directory)."""
    folder = clipboard.clip_file().parent
    path = folder / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def parse_scores(text: str) -> dict:
    """``name=value[, name=value...]``: a value is a number in [0, 1] (or N%), or null to
    clear. Raises ``ValueError`` saying what is wrong."""
    out: dict = {}
    for part in [p for p in text.split(",") if p.strip()] or [""]:
        name, eq, raw = part.partition("=")
        name, raw = name.strip(), raw.strip()
        if not eq or not name or not raw:
            raise ValueError("write name=value, e.g. accuracy=0.8 (several: a=1, b=0.5)")
        if raw.lower() == "null":
            out[name] = None
            continue
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise ValueError(f"{name}: a score is a number in [0, 1] (or a percentage), got {raw!r}") from None
        if not (0 <= value <= 1):
            raise ValueError(f"{name}: a score is a number in [0, 1], got {raw}")
        out[name] = value
    return out


def _score_error(text: str) -> Optional[str]:
    try:
        parse_scores(text)
    except ValueError as exc:
        return str(exc)
    return None


def read_score_names(screen, project: str, row_id: str, title: str) -> None:
    """The project's score names (in a worker); ``ScoreNamesRead`` opens the prompt."""
    store = screen.store

    def run() -> None:
        try:
            names = [n for n, _ in completions(store, project).score_names]
        except Exception:
            names = []  # completion is a convenience
        finally:
            store.release_thread()
        screen.post_message(ScoreNamesRead(project, row_id, title, names))

    screen.run_worker(run, thread=True, group="read-scores")


def ask_score(screen, event: ScoreNamesRead) -> None:
    """Enter scores on a row: ``name=value`` (validated in the prompt), merged into its
    scores as the CLI's `feedback --score` does."""
    def done(text: Optional[str]) -> None:
        if text:
            write_in_thread(screen, "scores saved", _save_scores, event.project, event.row_id, parse_scores(text),
                            default_author())

    screen.app.push_screen(PromptScreen(event.title, placeholder="name=value, e.g. accuracy=0.8",
                                        hint="name=value in [0, 1] (or 80%) · several: a=1, b=0.5 · enter saves",
                                        suggester=LastTokenSuggester(event.names), validate=_score_error), done)


def _save_scores(store, project: str, row_id: str, scores: dict, author: str) -> None:
    apply_feedback(store, project, row_id, FeedbackIn(scores=scores, author=author))


def open_in_pager(screen, value: Any, *, raw: bool = False) -> None:
    """``value`` in ``$PAGER`` (else ``$EDITOR -R``, else less), from a read-only temp file,
    with the app suspended meanwhile: as text to read (strings with their line breaks, see
    ``value_text``), or with ``raw`` as indented JSON."""
    if raw:
        text, suffix = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode(), ".json"
    else:
        text, suffix = value_text(value), ".txt"
    pager = os.environ.get("PAGER") or "less"
    editor = os.environ.get("EDITOR")
    cmd = shlex.split(pager) if os.environ.get("PAGER") or not editor else shlex.split(editor) + ["-R"]
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as f:
        f.write(text)
        path = f.name
    os.chmod(path, 0o444)  # read-only: this is a view, not an edit
    try:
        with screen.app.suspend():
            subprocess.run(cmd + [path], check=False)
    except Exception as exc:
        screen.notify(f"could not open {cmd[0]}: {exc}", severity="error")
    finally:
        os.unlink(path)


# -- batch actions: run(screen, selection, description); the screen has ``known_tags``


def _retag(store, sel: Selection, desc: str, tag: str, *, add: bool, author: str) -> str:
    """Tag (or untag) the selection; the toast counts what the user chose (traces or spans)."""
    what = "traces" if sel.shape == "traces" else "spans"
    n = len(sel.ids) if sel.ids is not None else count_selection(store, sel)
    if sel.ids is None:
        desc = f"{n:,} {what if n != 1 else what[:-1]}"
    changed = retag_selection(store, sel, add=[tag] if add else [], remove=[] if add else [tag], author=author)
    if changed == 0:
        return f"nothing changed: {desc} {'already had' if add else 'did not have'} {tag!r}"
    message = f"tagged {desc} with {tag!r}" if add else f"untagged {desc} ({tag!r})"
    if changed < n:  # rows of the kind chosen: the others already were as asked
        message += f" ({n - changed:,} already {'had it' if add else 'without it'})"
    return message


def ask_retag(screen, sel: Selection, desc: str, *, add: bool) -> None:
    """Add or remove a tag on the selection, in its shape: in the traces view a row stands
    for its trace."""
    def done(tag: Optional[str]) -> None:
        if tag and tag.strip():
            write_in_thread(screen, "{result}", _retag, sel, desc, tag.strip(), add=add, author=default_author())

    screen.app.push_screen(PromptScreen(f"{'Add' if add else 'Remove'} a tag on {desc}:",
                                        suggester=LastTokenSuggester(screen.known_tags)), done)


def _export_file(store, sel: Selection, path: str) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        for line in export_selection(store, sel):
            out.write(line + "\n")
            n += 1
    return n


def ask_export(screen, sel: Selection, desc: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")

    def done(path: Optional[str]) -> None:
        if path:
            write_in_thread(screen, f"exported {{result}} spans ({desc}) to {path}", _export_file, sel, path,
                            changed=False, failed="export failed")

    screen.app.push_screen(PromptScreen(f"Export {desc} to:", value=str(Path.cwd() / f"bt-tui-export-{stamp}.jsonl")),
                           done)


TAG = BatchAction("tag", "Add a tag…", partial(ask_retag, add=True), palette="Add a tag to the selection")
UNTAG = BatchAction("untag", "Remove a tag…", partial(ask_retag, add=False), palette="Remove a tag from the selection")
EXPORT = BatchAction("export", "Export to a JSONL file…", ask_export, palette="Export selection to a file")
