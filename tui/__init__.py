"""The Textual app and the Typer CLI: the only code that knows about terminals."""
