"""The Experiments screen (key X): the project's experiments, newest first, in the shared paged
table (name, dataset@version, prompt@version, model, rows, errors, date, each score's average),
under a strip with one sparkline per score across the experiments (oldest -> newest) and its
latest value, so a trend reads at a glance.

``enter`` compares the experiment under the cursor with its default base
(``store.compare.previous_experiment``: the latest earlier experiment on the same data; else the
next older one in the list); ``space`` marks and ``c`` compares the two marked (the older is the
base); ``o`` opens the experiment's first trace; ``/`` filters the names; ``v`` reviews the rows
flagged from a comparison (each experiment's rows keep their own review queue: the ``review``
column counts what awaits). The comparison is tui/screens/experiment_compare.py. Every store
read runs in a worker thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Header, Static

from store.experiments import ExperimentInfo, list_experiments
from store.review import queue_counts
from tui.format import ago, count, fmt_pct, fmt_signed_pct, sparkline, ways_hint
from tui.messages import WorkFailed
from tui.registry import BtScreen, Command, register_screen
from tui.screens.dialogs import PromptScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import Column, ListSource, PagedTable

SPARK_POINTS = 30  # experiments a sparkline shows at most (the latest)
STRIP_LINES = 5  # scores the strip shows a line for (then "+N more")


def empty_experiments(project: str) -> Text:
    return ways_hint(f"No experiments in project {project!r} yet.", "Make one:", (
        ("run an eval file (Braintrust's Eval API: data, task, scores)", "bt-tui eval FILE.py"),
        ("run a prompt over a dataset with scorers",
         "bt-tui run --dataset NAME --prompt SLUG --scorer Levenshtein"),
        ("from a playground: run it, then save each variant as an experiment", "Y, open one, r then S"),
    ), "r reads the database again. ? lists every key.")


def dataset_label(e: ExperimentInfo) -> str:
    if not e.dataset:
        ev = (e.metadata or {}).get("eval")
        return f"inline ({ev})" if ev else "inline data"
    return f"{e.dataset}@{e.dataset_version}" if e.dataset_version is not None else e.dataset


def score_names(experiments: list[ExperimentInfo]) -> list[str]:
    names: dict[str, None] = {}
    for e in experiments:
        for n in e.scores:
            names[n] = None
    return sorted(names)


def spark_strip(experiments: list[ExperimentInfo], width: int = 120) -> Text:
    """One line per score: its name, a sparkline of its average across ``experiments``
    (oldest -> newest; an experiment without the score is a blank), the latest value and its
    change from the one before."""
    names = score_names(experiments)
    t = Text(no_wrap=True, overflow="ellipsis")
    if not names:
        return t
    shown = experiments[-SPARK_POINTS:]
    pad = min(max(len(n) for n in names), 24)
    for i, name in enumerate(names[:STRIP_LINES]):
        if i:
            t.append("\n")
        values = [e.scores.get(name) for e in shown]
        t.append(f"{name[:pad]:<{pad}} ", style="bold")
        t.append(sparkline(values, 0.0, 1.0) if len(values) == 1 else sparkline(values), style="cyan")
        latest = next((v for v in reversed(values) if v is not None), None)
        t.append(f" {fmt_pct(latest)}")
        known = [v for v in values if v is not None]
        if len(known) >= 2:
            d = known[-1] - known[-2]
            t.append(f" ({fmt_signed_pct(d)})", style="green" if d > 0 else "red" if d < 0 else "dim")
        if i == 0:
            t.append(f"   across {count(len(shown), 'experiment')}, oldest → newest", style="dim")
    if len(names) > STRIP_LINES:
        t.append(f"\n+{len(names) - STRIP_LINES} more scores (columns of the table)", style="dim")
    return t


def experiment_columns(screen: "ExperimentsScreen", names: list[str]) -> list[Column]:
    wide = screen.app.size.width >= 100
    def name(e: ExperimentInfo, w: int) -> Text:
        t = Text(e.name, style="bold")
        if e.status != "complete":
            t.append(f" ({e.status})", style="yellow")
        return t

    def right(text: str, style: str = "") -> Text:
        return Text(text, style=style, justify="right")

    def score_col(n: str) -> Column:
        w = max(6, min(len(n), 11 if wide else 9))  # at 80 columns the experiment's name comes first

        def render(e: ExperimentInfo, _w: int, n: str = n) -> Text:
            return right(fmt_pct(e.scores.get(n)))

        return Column(f"score:{n}", n[:w], render, width=w)

    def review(e: ExperimentInfo, w: int) -> Text:
        n = screen.queues.get(e.rows_project, 0)
        return right(f"{n:,}" if n else "", "bold yellow")

    cols = [
        Column("name", "name", name),
        Column("dataset", "dataset@v", lambda e, w: Text(dataset_label(e)), width=20, show_from=96),
        Column("prompt", "prompt@v", lambda e, w: Text(e.prompt or ""), width=14, show_from=140),
        Column("model", "model", lambda e, w: Text(e.model or ""), width=12, show_from=160),
        Column("rows", "rows", lambda e, w: right(f"{e.rows:,}"), width=6),
        Column("errors", "err", lambda e, w: right(f"{e.errors:,}" if e.errors else "", "bold red"), width=4),
        Column("created", "date", lambda e, w: Text(ago(e.created), style="dim"), width=8),
    ]
    cols += [score_col(n) for n in names]
    cols.append(Column("review", "review", review, width=6, show_from=130))
    return cols


class ExperimentsTable(PagedTable):
    BINDINGS = [
        Binding("enter", "select_cursor", "Compare", id="experiments.compare"),
        Binding("j", "cursor_down", "Down", show=False, id="experiments.down"),
        Binding("k", "cursor_up", "Up", show=False, id="experiments.up"),
    ]


@dataclass
class ExperimentsRead(Message):
    experiments: list  # ExperimentInfo, oldest first
    queues: dict = field(default_factory=dict)  # rows_project -> traces awaiting review
    error: str = ""


@dataclass
class FirstTrace(Message):
    info: ExperimentInfo
    root_span_id: Optional[str]


class ExperimentsScreen(BtScreen):
    """The project's experiments, newest first; enter compares one with its base."""

    BINDINGS = [
        Binding("c", "compare_marked", "Compare marked", id="experiments.compare_marked"),
        Binding("o", "open", "Open trace", id="experiments.open"),
        Binding("slash", "find", "Filter", id="experiments.filter"),
        Binding("v", "review", "Review flagged", id="experiments.review"),
        Binding("space", "mark", "Mark", show=False, id="experiments.mark"),
        Binding("r", "refresh", "Refresh", show=False, id="experiments.refresh"),
        Binding("g,home", "top", "First row", show=False, id="experiments.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="experiments.bottom"),
        Binding("escape", "back", "Back to Logs", show=False, id="experiments.back"),
    ]
    DEFAULT_CSS = """
    ExperimentsScreen #ex-status { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ExperimentsScreen #ex-strip { height: auto; max-height: 6; padding: 0 1; }
    ExperimentsScreen #empty { height: auto; padding: 1 2; }
    """
    HELP = ("Experiments: runs of a task over a dataset with scorers (bt-tui eval, bt-tui run, a playground's S),"
            " newest first, each score's average as %. The strip above shows each score across the experiments,"
            " oldest → newest. enter compares the experiment with its base (the previous one on the same data);"
            " space marks two and c compares them (the older is the base). v reviews the rows flagged from a"
            " comparison (f there).")

    def __init__(self) -> None:
        super().__init__()
        self.experiments: list[ExperimentInfo] = []  # oldest first, all of the project
        self.queues: dict[str, int] = {}
        self.find_text = ""
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ex-status")
        yield Static("", id="ex-strip")
        yield Static("", id="empty")
        yield ExperimentsTable([], markable=True, id="table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#empty").display = False
        self.table.focus()
        self._update_status()
        self._read()
        self._warm_up()

    @work(thread=True, group="warm_up")
    def _warm_up(self) -> None:
        """numpy (the comparison's intervals, ~120 ms to import) while the list is read, not
        while a comparison paints."""
        import numpy  # noqa: F401

    def on_screen_resume(self) -> None:
        if self.loaded:  # back from a comparison or a review: counts may have changed
            self._read()

    @property
    def table(self) -> ExperimentsTable:
        return self.query_one(ExperimentsTable)

    # -- reading
    @work(thread=True, exclusive=True, group="experiments")
    def _read(self) -> None:
        store, project = self.store, self.app.project
        try:
            exps = list_experiments(store, project)
            queues = {}
            for e in exps:
                c = queue_counts(store, e.rows_project)
                queues[e.rows_project] = c["backlog"] + c["pending"]
        except Exception as exc:
            self.post_message(ExperimentsRead([], {}, f"could not read the experiments: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(ExperimentsRead(exps, queues))

    def on_experiments_read(self, event: ExperimentsRead) -> None:
        if event.error:
            self.notify(event.error, severity="error")
        self.experiments, self.queues = event.experiments, event.queues
        self.loaded = True
        self._apply(self.table.cursor_id())

    def shown(self) -> list[ExperimentInfo]:
        """The experiments the filter lets through, oldest first."""
        words = self.find_text.lower().split()
        return [e for e in self.experiments if all(w in e.name.lower() for w in words)]

    def _apply(self, keep: Optional[str] = None) -> None:
        shown = self.shown()
        self.table.set_columns(experiment_columns(self, score_names(shown)))
        self.table.set_source(ListSource(list(reversed(shown)), lambda e: e.name), keep)
        self.query_one("#ex-strip", Static).update(spark_strip(shown))
        empty = not self.experiments
        box = self.query_one("#empty", Static)
        if empty:
            box.update(empty_experiments(self.app.project))
        box.display = empty
        self.table.display = not empty
        self.query_one("#ex-strip").display = not empty
        self._update_status()

    def _update_status(self) -> None:
        line = Text(f"Experiments of project {self.app.project!r}", style="dim")
        if not self.loaded:
            line.append(" · reading…", style="dim")
        else:
            n = len(self.shown())
            what = count(len(self.experiments), "experiment") if not self.find_text else \
                f"{n:,} of {count(len(self.experiments), 'experiment')}"
            line.append(f" · {what} · newest first", style="dim")
            if self.find_text:
                line.append(f" · filter: {self.find_text}", style="bold cyan")
            marked = len(self.table.marked)
            if marked:
                line.append(f" · {marked} marked", style="bold magenta")
            waiting = sum(self.queues.values())
            if waiting:
                line.append(f" · {count(waiting, 'flagged row')} to review (v)", style="yellow")
        self.query_one("#ex-status", Static).update(line)

    # -- keys
    def _current(self) -> Optional[ExperimentInfo]:
        return self.table.current_row()

    def _older_than(self, e: ExperimentInfo) -> Optional[ExperimentInfo]:
        """The experiment listed just below ``e`` (the next older one shown)."""
        shown = self.shown()
        i = next((i for i, x in enumerate(shown) if x.name == e.name), None)
        return shown[i - 1] if i else None

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_compare()

    def action_compare(self) -> None:
        e = self._current()
        if e is None:
            return
        older = self._older_than(e)
        from tui.screens.experiment_compare import ExperimentCompareScreen

        self.app.push_screen(ExperimentCompareScreen(e, None, fallback_base=older.name if older else None))

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._update_status()

    def action_compare_marked(self) -> None:
        marked = [e for e in self.experiments if e.name in self.table.marked]  # oldest first
        if len(marked) != 2:
            self.notify(f"mark two experiments (space) to compare them ({len(marked)} marked); "
                        "enter compares one with its base", severity="warning")
            return
        from tui.screens.experiment_compare import ExperimentCompareScreen

        base, cand = marked
        self.app.push_screen(ExperimentCompareScreen(cand, base))

    def action_open(self) -> None:
        e = self._current()
        if e is not None:
            self._first_trace(e)

    @work(thread=True, exclusive=True, group="open")
    def _first_trace(self, e: ExperimentInfo) -> None:
        from store.query.pager import LogsQuery

        try:
            page = LogsQuery(self.store, e.rows_project, "", shape="traces", sort="created", desc=False).page(None, 1)
            root = page.rows[0].root_span_id if page.rows else None
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the rows of {e.name!r}: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(FirstTrace(e, root))

    def on_first_trace(self, event: FirstTrace) -> None:
        if event.root_span_id is None:
            self.notify(f"{event.info.name!r} has no rows", severity="warning")
            return
        from tui.screens.trace import TraceScreen

        self.app.push_screen(TraceScreen(event.root_span_id, project=event.info.rows_project))

    def action_review(self) -> None:
        e = self._current()
        if e is None:
            return
        if not self.queues.get(e.rows_project):
            self.notify(f"no rows of {e.name!r} await review: f on a comparison's rows flags them",
                        severity="warning")
            return
        try:
            from tui.screens.review import FocusedReviewScreen  # noqa: PLC0415 (its own module)
        except ImportError:
            self.notify("focused review is not available in this build", severity="error")
            return
        self.app.push_screen(FocusedReviewScreen(e.rows_project))

    def action_find(self) -> None:
        def done(text: Optional[str]) -> None:
            if text is None:
                return
            self.find_text = text.strip()
            self._apply(self.table.cursor_id())

        self.app.push_screen(PromptScreen("Show the experiments whose name has these words (empty: all):",
                                          value=self.find_text, placeholder="e.g. support-bot"), done)

    def action_refresh(self) -> None:
        self._read()

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_back(self) -> None:
        if self.table.marked:
            self.table.clear_marks()
            self._update_status()
        elif self.find_text:
            self.find_text = ""
            self._apply(self.table.cursor_id())
        else:
            self.app.switch_to("logs")

    def palette_commands(self) -> list[Command]:
        return [
            Command("Compare the experiment with its base", self.action_compare, "the previous one on the same data"),
            Command("Compare the two marked experiments", self.action_compare_marked, "the older is the base"),
            Command("Open the experiment's first trace", self.action_open, ""),
            Command("Review the experiment's flagged rows", self.action_review, "flagged from a comparison (f)"),
            Command("Filter experiments by name", self.action_find, ""),
        ]


register_screen("experiments", "Experiments", ExperimentsScreen, key="X")
