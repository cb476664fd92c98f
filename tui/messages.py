"""Typed messages that workers post to the screen that started them (never closures or
``call_from_thread`` callbacks). Widget-specific ones live with their widget
(``PagedTable.PageLoaded``, ``FilterBar.CompletionsLoaded``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class WriteDone(Message):
    """A write finished; ``message`` tells the user what changed. ``changed``: rows on show
    may be out of date."""

    message: str
    changed: bool = True


@dataclass
class WorkFailed(Message):
    """Background work failed; ``message`` is the one line the user sees (no traceback)."""

    message: str
