"""What several screens do to rows: comment, edit tags, the batch actions on a selection (add
or remove a tag, export), open a value in the pager. Each asks with a dialog, writes in a
worker thread, and tells the screen how it went with ``WriteDone`` / ``WorkFailed``."""

from __future__ import annotations

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
from store.feedback import add_comment, set_tags
from tui.format import value_text
from tui.messages import WorkFailed, WriteDone
from tui.registry import BatchAction
from tui.screens.dialogs import LastTokenSuggester, PromptScreen


def write_in_thread(screen, message: str, write: Callable[..., Any], *args: Any, changed: bool = True,
                    failed: str = "could not save", **kwargs: Any) -> None:
    """``write(store, *args, **kwargs)`` in a worker thread; then ``WriteDone(message)`` (with
    ``{result}`` replaced by what it returned), or ``WorkFailed`` naming the error."""
    store = screen.store

    def run() -> None:
        try:
            result = write(store, *args, **kwargs)
        except Exception as exc:
            screen.post_message(WorkFailed(f"{failed}: {exc}"))
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
    """Edit a row's tags (comma-separated; completion from ``known``)."""
    def done(text: Optional[str]) -> None:
        if text is not None:
            write_in_thread(screen, "tags saved", set_tags, project, row_id, [t.strip() for t in text.split(",")],
                            default_author())

    screen.app.push_screen(PromptScreen(title, value=", ".join(tags), hint=hint, suggester=LastTokenSuggester(known)),
                           done)


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
