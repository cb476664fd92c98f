"""The Textual application shell."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from store import Store
from store.spans import list_projects


class BtTuiApp(App):
    TITLE = "bt-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, db_path: str, project: str = "default") -> None:
        super().__init__()
        self.db_path = db_path
        self.project = project
        self.store = Store(db_path)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.project} · {self.db_path}"
        info = {p.name: p for p in list_projects(self.store)}.get(self.project)
        text = (
            f"Project {self.project!r}: {info.spans} spans in {info.traces} traces"
            if info
            else f"Project {self.project!r} is empty: import logs with `bt-tui import logs FILE`."
        )
        self.query_one("#summary", Static).update(text)


def run_app(db_path: str, project: str) -> None:
    BtTuiApp(db_path, project).run()
