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


@dataclass
class ExpectedRead(Message):
    """A row's expected as it is now, read to be edited (the editor compares against it
    when saving: a change made meanwhile is never overwritten)."""

    project: str
    row_id: str
    title: str
    value: object


@dataclass
class ScoreNamesRead(Message):
    """The project's score names (for completion), to enter a score on ``row_id``."""

    project: str
    row_id: str
    title: str
    names: list


@dataclass
class DatasetWritten(Message):
    """A write to a dataset finished (``store.datasets``): ``message`` says what changed;
    ``version`` is the version it wrote (None: nothing changed), ``undo`` what undoing it
    would undo ("" when it is not to be undone, e.g. an undo); ``keep`` the record the
    cursor should be on when the rows are read again."""

    message: str
    version: object = None
    undo: str = ""
    keep: object = None
    latest: bool = False  # show the latest version afterwards (a restore from an old one)
