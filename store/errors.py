"""Errors the store raises. Every message is one line a user can act on."""


class StoreError(Exception):
    """A user-facing problem: bad input, a missing row, a database we cannot open."""


class InputError(StoreError):
    """Bad input data, located in a file (``path:line: reason``)."""

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None):
        self.reason = reason
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{reason}")


class NotFound(StoreError):
    pass


class NotADatabase(StoreError):
    """The file is not a SQLite database, or SQLite finds it damaged."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a bt-tui database ({reason})")
