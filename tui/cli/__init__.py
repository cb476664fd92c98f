"""The `bt-tui` command line (Typer), one module per command group.

Each module registers its commands on the shared app (``common.app`` and its ``import`` /
``export`` groups) when imported; a new group is a new module and one name below. Importing
this package imports no Textual (only when the TUI launches) and no litellm, so
`bt-tui export ...` starts fast.
"""

from __future__ import annotations

import sys

import typer

from . import launch, query, feedback, projects, logs, datasets, review, models, prompts, runs, experiments, evals  # noqa: F401  (each registers its commands)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    try:
        rv = app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("bt-tui: interrupted\n")
        raise SystemExit(130)
    except Exception as exc:
        # Typer vendors click (typer._click): match its exceptions by name, not by import.
        names = {c.__name__ for c in type(exc).__mro__}
        if "NoArgsIsHelpError" in names:  # `bt-tui import`: show that group's help
            ctx = getattr(exc, "ctx", None)
            sys.stdout.write((ctx.get_help() if ctx else str(exc)) + "\n")
            raise SystemExit(0)
        if "ClickException" not in names:
            raise
        # One line, as for every other bad input (click's default is usage + hint + error).
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None and "UsageError" in names else ""
        sys.stderr.write(f"bt-tui: {exc.format_message()}{hint}\n")
        raise SystemExit(getattr(exc, "exit_code", 2))
    except SystemExit as exc:
        code = exc.code
        raise SystemExit(code if code is not None else 0)
    raise SystemExit(rv if isinstance(rv, int) else 0)
