"""Where the database lives: --db, else $BT_TUI_DB, else a file in the user data directory."""

from __future__ import annotations

import os
from pathlib import Path


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("bt-tui", appauthor=False)) / "bt-tui.db"


def resolve_db_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("BT_TUI_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def demo_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("bt-tui", appauthor=False)) / "demo.db"
