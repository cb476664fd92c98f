"""Copying text out of the app. OSC 52 (Textual's ``copy_to_clipboard``) reaches the clipboard
only when the terminal honours it, and tmux's default ``set-clipboard external`` drops it: so
with ``$BT_TUI_CLIPBOARD`` set (a command that reads the text on stdin, e.g. `xclip -sel
clip`, `pbcopy`, `wl-copy`, `tmux load-buffer -`) the text goes there, and without it the
text also goes to a file whose path the notice gives. Never "copied" when nothing was."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from tui.messages import WorkFailed, WriteDone

ENV = "BT_TUI_CLIPBOARD"
TIMEOUT_S = 5.0


def clip_file() -> Path:
    """Where a copy is saved: the user cache directory (``$XDG_CACHE_HOME/bt-tui``), else tmp."""
    try:
        from platformdirs import user_cache_dir

        folder = Path(user_cache_dir("bt-tui", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
    except Exception:
        folder = Path(tempfile.gettempdir())
        return folder / f"bt-tui-clipboard-{os.getuid() if hasattr(os, 'getuid') else 'user'}.txt"
    return folder / "clipboard.txt"


def save(text: str) -> Path:
    """Write ``text`` to ``clip_file()``, readable by its owner only."""
    path = clip_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def pipe(command: str, text: str) -> None:
    """Run ``command`` with ``text`` on stdin; raise ``RuntimeError`` saying why it failed."""
    try:
        argv = shlex.split(command)
        proc = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise RuntimeError(str(exc)) from None
    if proc.returncode != 0:
        err = " ".join(proc.stderr.decode("utf-8", "replace").split())[:200]
        raise RuntimeError(f"exit {proc.returncode}" + (f": {err}" if err else ""))


def copy_text(screen, text: str, what: str) -> None:
    """Copy ``text`` (``what``: e.g. "the row as JSON") and tell the user how it went, with
    ``WriteDone``/``WorkFailed`` posted to ``screen`` from a worker thread."""
    command = os.environ.get(ENV, "").strip()
    if not command:
        screen.app.copy_to_clipboard(text)  # OSC 52: the terminal may or may not honour it

    def run() -> None:
        if command:
            try:
                pipe(command, text)
            except RuntimeError as exc:
                try:
                    where = f"saved to {save(text)}"
                except OSError as err:
                    where = f"not saved either: {err}"
                screen.post_message(WorkFailed(f"not copied: {command} failed ({exc}); {where}"))
                return
            screen.post_message(WriteDone(f"copied {what} ({len(text):,} characters) via {command}", changed=False))
            return
        try:
            where = f"also saved to {save(text)}"
        except OSError as err:
            where = f"could not save it to a file: {err}"
        screen.post_message(WriteDone(f"copied via OSC 52 (your terminal may ignore it; {where};"
                                      f" set {ENV} to pipe to a command)", changed=False))

    screen.run_worker(run, thread=True, group="copy")
