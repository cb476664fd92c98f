"""Errors the store raises. Every message is one line a user can act on."""


class StoreError(Exception):
    """A user-facing problem: bad input, a missing row, a database we cannot open."""


class InputError(StoreError):
    """Bad input data, located in a file (``path:line: reason``). ``also``: more lines for the
    user after this one (the other bad lines of a file, one ``path:line: reason`` each)."""

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None,
                 also: tuple[str, ...] = ()):
        self.reason = reason
        self.path = path
        self.line = line
        self.also = tuple(also)
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{reason}")


class NotFound(StoreError):
    pass


class QueryError(StoreError):
    """A bad query: one line naming the column and what was expected; ``caret()`` shows where."""

    def __init__(self, message: str, pos: int, text: str):
        self.message = message
        self.pos = max(0, min(pos, len(text)))
        self.text = text
        self.column = self.pos + 1
        super().__init__(f"{message} at column {self.column}")

    def caret(self) -> str:
        """The query's line with a caret under the column (long lines are windowed)."""
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        line_end = self.text.find("\n", self.pos)
        line = self.text[line_start: line_end if line_end != -1 else len(self.text)]
        col = self.pos - line_start
        if len(line) > 100:
            lo = max(0, col - 60)
            prefix = "..." if lo else ""
            line = prefix + line[lo: lo + 100]
            col = col - lo + len(prefix)
        return f"{line}\n{' ' * col}^"


class NotADatabase(StoreError):
    """The file is not a SQLite database, or SQLite finds it damaged."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a bt-tui database ({reason})")


class ForeignDatabase(NotADatabase):
    """A SQLite database of some other application: refused, and left untouched."""

    def __init__(self, path: str):
        self.path = path
        self.reason = "no bt-tui schema"
        StoreError.__init__(self, f"{path} is not a bt-tui database (no bt-tui schema)")


class NoDatabase(StoreError):
    """The database file does not exist (and the caller asked not to create it)."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"{path}: no such database")


class QueryTimeout(StoreError):
    """A query (or export) ran past its time limit and was stopped."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"query stopped after {seconds:g} s")
