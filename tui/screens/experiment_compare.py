"""Two experiments compared: a base and a candidate (``store.compare``; nothing is computed
here that the store computes).

- **Header**: both experiments (dataset@version, prompt, model, rows); ``b`` picks another
  base, ``n`` another candidate.
- **Score strip**: per score the base and candidate averages, the difference, its 95% paired
  bootstrap interval ``[-3.1%, +7.2%]`` and a verdict (real / could be noise), the rows that
  improved (▲N) and regressed (▼N).
- **Rows** matched by input in the shared paged table (a list source over ``Comparison.rows``:
  only the rows on screen are drawn): input, base and candidate outputs, a column per score
  with the delta (▲/▼ and the points; trials as ``mean (min-max)``). ``s`` sorts (row order, or
  worst first on a score), ``m`` picks which rows show (all / regressed on X / improved on X /
  changed output / errors / only in base / only in candidate, with counts).
- **Detail** (below, or ``enter``): the row side by side, outputs with the word-level diff,
  each score base -> candidate, errors. ``o``/``O`` open the base/candidate trace (escape comes
  back to the same row); ``a`` adds the rows to a dataset, ``f`` flags the candidate's traces
  for review (the experiment's review queue: the Experiments screen's ``v``).

First paint: ``compare_experiments(..., intervals=False)`` in a thread worker; the bootstrap
intervals follow in another worker and fill the strip in. Nothing blocks the event loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from store.audit import default_author
from store.compare import Comparison, MatchedRow, RowSide, add_intervals, compare_experiments, previous_experiment
from store.experiments import ExperimentInfo, get_experiment, list_experiments
from tui.actions import write_in_thread
from tui.format import ago, count, fmt_pct, fmt_signed_pct, preview, readable, value_text
from tui.messages import WorkFailed
from tui.registry import BtScreen, Command
from tui.screens.dialogs import MenuScreen
from tui.screens.experiments import dataset_label
from tui.widgets.keybar import KeyBar
from tui.widgets.paged_table import Column, ListSource, PagedTable
from tui.widgets.word_diff import word_diff

DETAIL_DELAY_S = 0.06  # the detail follows the cursor once it rests this long on a row
DETAIL_MIN_HEIGHT = 30  # terminals at least this tall show the detail pane from the start
MAX_DETAIL_CHARS = 20_000  # of each value the detail shows (a huge output stays fast)

# A mode: (kind, score or None). Kinds that take a score: regressed, improved.
Mode = tuple[str, Optional[str]]
ALL: Mode = ("all", None)
SIMPLE_MODES = (("changed", "changed output"), ("errors", "errors"), ("only_base", "only in base"),
                ("only_candidate", "only in candidate"))
Sort = tuple[str, Optional[str]]  # ("order", None) | ("worst", score) | ("best", score)
ORDER: Sort = ("order", None)


def modes(comp: Comparison) -> list[Mode]:
    """Every mode, in the menu's order: all, regressed on each score, improved on each, then
    changed output, errors, only in base, only in candidate."""
    names = comp.score_names()
    return ([ALL] + [("regressed", n) for n in names] + [("improved", n) for n in names]
            + [(k, None) for k, _ in SIMPLE_MODES])


def mode_label(mode: Mode) -> str:
    kind, score = mode
    if kind == "all":
        return "all rows"
    if kind in ("regressed", "improved"):
        return f"{kind} on {score}"
    return dict(SIMPLE_MODES)[kind]


def _has_error(side: Optional[RowSide]) -> bool:
    return side is not None and side.errors > 0


def row_matches(row: MatchedRow, mode: Mode) -> bool:
    kind, score = mode
    if kind == "all":
        return True
    if kind == "regressed":
        d = row.delta(score)
        return d is not None and d < 0
    if kind == "improved":
        d = row.delta(score)
        return d is not None and d > 0
    if kind == "changed":
        return row.base is not None and row.candidate is not None and \
            row.base.output_text != row.candidate.output_text
    if kind == "errors":
        return _has_error(row.base) or _has_error(row.candidate)
    if kind == "only_base":
        return row.candidate is None
    if kind == "only_candidate":
        return row.base is None
    raise ValueError(f"unknown mode {mode!r}")


def mode_index(comp: Comparison) -> dict:
    """The rows of every mode, in row order, in one pass (a mode change is then a lookup:
    ~60 ms of filtering at 10,000 rows saved from the key)."""
    names = comp.score_names()
    out: dict = {m: [] for m in modes(comp)}
    out[ALL] = comp.rows
    reg = {n: out[("regressed", n)] for n in names}
    imp = {n: out[("improved", n)] for n in names}
    changed, errors = out[("changed", None)], out[("errors", None)]
    only_base, only_cand = out[("only_base", None)], out[("only_candidate", None)]
    for r in comp.rows:
        b, c = r.base, r.candidate
        if b is None:
            only_cand.append(r)
        elif c is None:
            only_base.append(r)
        else:
            if b.output_text != c.output_text:
                changed.append(r)
            for n in names:
                d = r.delta(n)
                if d is not None:
                    if d > 0:
                        imp[n].append(r)
                    elif d < 0:
                        reg[n].append(r)
        if _has_error(b) or _has_error(c):
            errors.append(r)
    return out


def mode_counts(comp: Comparison) -> dict:
    """How many rows each mode shows."""
    return {m: len(rows) for m, rows in mode_index(comp).items()}


def sort_label(sort: Sort) -> str:
    kind, score = sort
    return "row order" if kind == "order" else f"{'worst' if kind == 'worst' else 'best'} {score} first"


def view_rows(comp: Comparison, mode: Mode, sort: Sort, index: Optional[dict] = None) -> list[MatchedRow]:
    """The rows a mode shows (from ``index``, ``mode_index``'s, when there is one), in the
    sort's order (worst first: the biggest drop on the score first; rows without the score on
    both sides last, in row order)."""
    if index is not None and mode in index:
        rows = index[mode]
    else:
        rows = comp.rows if mode == ALL else [r for r in comp.rows if row_matches(r, mode)]
    kind, score = sort
    if kind == "order":
        return list(rows)
    sign = 1 if kind == "worst" else -1
    have = [r for r in rows if r.delta(score) is not None]
    rest = [r for r in rows if r.delta(score) is None]
    have.sort(key=lambda r: sign * r.delta(score))  # stable: ties keep the row order
    return have + rest


# --- cells ---------------------------------------------------------------------------------------

def points(d: float) -> str:
    """A score difference in percentage points, at most 5 characters: 12.5, 100."""
    p = abs(d) * 100
    return f"{p:.0f}" if p >= 99.95 else f"{p:.1f}"


def delta_text(d: Optional[float]) -> Text:
    if d is None:
        return Text("·", style="dim")
    if d > 0:
        return Text(f"▲{points(d)}", style="bold green")
    if d < 0:
        return Text(f"▼{points(d)}", style="bold red")
    return Text("=", style="dim")


def trials_text(side: Optional[RowSide], score: str) -> str:
    """``60% (40-80)``: the mean over a side's trials and their spread; "" for one trial."""
    if side is None or side.trials <= 1:
        return ""
    v = side.scores.get(score)
    if v is None:
        return ""
    lo, hi = side.spread.get(score, (v, v))
    return f"{v * 100:.0f}% ({lo * 100:.0f}-{hi * 100:.0f})"


def output_cell(side: Optional[RowSide], other: str, width: int) -> Text:
    if side is None:
        return Text(f"(only in {other})", style="dim italic")
    if side.error_text is not None:
        return Text("✗ " + preview(side.error_text, width), style="red")
    return Text(preview(side.output_text, width))


def compare_columns(comp: Comparison) -> list[Column]:
    trials = any((r.base is not None and r.base.trials > 1) or (r.candidate is not None and r.candidate.trials > 1)
                 for r in comp.rows[:2000])
    cols = [
        Column("input", "input", lambda r, w: Text(preview(r.input_text, w))),
        Column("base", "base output", lambda r, w: output_cell(r.base, "candidate", w), show_from=70),
        Column("candidate", "candidate output", lambda r, w: output_cell(r.candidate, "base", w)),
    ]
    for name in comp.score_names():
        width = max(6, min(len(name), 9))

        def render(r: MatchedRow, w: int, name: str = name) -> Text:
            t = delta_text(r.delta(name))
            spread = trials_text(r.candidate, name)
            if spread:
                t.append(" " + spread, style="dim")
            return t

        cols.append(Column(f"score:{name}", name[:width if not trials else 21], render,
                           width=width if not trials else 21))
    return cols


def interval_text(sc) -> Text:
    if sc.low is None:
        return Text("[…]", style="dim") if sc.matched >= 2 else Text("")
    return Text(f"[{fmt_signed_pct(sc.low)}, {fmt_signed_pct(sc.high)}]")


def verdict_text(sc, computing: bool) -> Text:
    if sc.low is None:
        if sc.base is None or sc.candidate is None:
            return Text(f"not in the {'base' if sc.base is None else 'candidate'}", style="dim")
        if sc.matched < 2:
            return Text("too few rows to tell", style="dim")
        return Text("interval…" if computing else "", style="dim")
    if sc.significant:
        return Text("real " + ("improvement" if sc.low > 0 else "regression"),
                    style="bold green" if sc.low > 0 else "bold red")
    return Text("could be noise", style="yellow")


def scores_table(comp: Comparison, computing: bool) -> Table:
    """The score strip: one line per score, the figures first (averages, difference, rows
    improved and regressed), then the interval and its verdict (what a narrow terminal cuts)."""
    t = Table.grid(padding=(0, 1))
    for justify in ("left", "right", "center", "right", "right", "left", "left", "left"):
        t.add_column(justify=justify, no_wrap=True)
    for sc in comp.scores:
        diff = Text(fmt_signed_pct(sc.diff))
        if sc.diff:
            diff.stylize("green" if sc.diff > 0 else "red")
        counts = Text()
        counts.append(f"▲{sc.improvements}", style="green" if sc.improvements else "dim")
        counts.append(" ")
        counts.append(f"▼{sc.regressions}", style="red" if sc.regressions else "dim")
        name = sc.score if len(sc.score) <= 18 else sc.score[:17] + "…"
        t.add_row(Text(name, style="bold"), Text(fmt_pct(sc.base) or "-"), Text("→", style="dim"),
                  Text(fmt_pct(sc.candidate) or "-"), diff, counts, interval_text(sc), verdict_text(sc, computing))
    return t


def side_line(label: str, e: ExperimentInfo) -> Text:
    t = Text()
    t.append(f"{label:<9} ", style="dim")
    t.append(e.name, style="bold")
    parts = [dataset_label(e), e.prompt or "", e.model or "", count(e.rows, "row"), ago(e.created)]
    t.append(" · " + " · ".join(p for p in parts if p), style="dim")
    if e.errors:
        t.append(f" · {count(e.errors, 'error')}", style="bold red")
    return t


MAX_TRIALS_SHOWN = 10


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "\n… (cut: o/O open the trace)"


def detail_renderable(comp: Comparison, row: Optional[MatchedRow], width: int):
    """A row side by side: the two outputs with the word diff and errors first (what changed),
    the scores base -> candidate with the delta (and the trials' spread), then input and expected."""
    if row is None:
        return Text("no row", style="dim")
    parts: list = []

    def field_(label: str, value: Any) -> None:
        t = Text()
        t.append(f"{label}\n", style="bold")
        t.append(_clip(value_text(value)) if value is not None else "(none)", style="" if value is not None else "dim")
        parts.append(t)

    b, c = row.base, row.candidate
    if b is not None and c is not None:
        # both answers as they read (an answer that is a JSON object: `key: value` lines), word by word
        left, right = word_diff(value_text(readable(b.output)), value_text(readable(c.output)))
    else:
        left = Text(_clip(value_text(readable(b.output)))) if b is not None else Text("(not in the base)", style="dim italic")
        right = Text(_clip(value_text(readable(c.output)))) if c is not None else Text("(not in the candidate)",
                                                                              style="dim italic")
    if len(left) > MAX_DETAIL_CHARS:
        left = left[:MAX_DETAIL_CHARS]
    if len(right) > MAX_DETAIL_CHARS:
        right = right[:MAX_DETAIL_CHARS]
    sides = Table.grid(padding=(0, 2), expand=True)
    sides.add_column(ratio=1)
    sides.add_column(ratio=1)
    sides.add_row(Text(f"base: {comp.base.name}", style="bold"), Text(f"candidate: {comp.candidate.name}",
                                                                       style="bold"))
    sides.add_row(left, right)
    errs = []
    for side in (b, c):
        errs.append(Text("✗ " + _clip(value_text(side.error)), style="red") if _has_error(side) else Text(""))
    if any(e.plain for e in errs):
        sides.add_row(*errs)
    parts.append(sides)
    sc_t = Table.grid(padding=(0, 1))
    for justify in ("left", "right", "center", "left", "left", "left"):
        sc_t.add_column(justify=justify, no_wrap=True)
    for name in comp.score_names():
        bv = b.scores.get(name) if b is not None else None
        cv = c.scores.get(name) if c is not None else None
        spread = Text(" ".join(x for x in (("base " + trials_text(b, name)) if trials_text(b, name) else "",
                                           ("candidate " + trials_text(c, name)) if trials_text(c, name) else "")
                               if x), style="dim")
        sc_t.add_row(Text(name, style="bold"), Text(fmt_pct(bv) or "-"), Text("→", style="dim"),
                     Text(fmt_pct(cv) or "-"), delta_text(row.delta(name)), spread)
    head = Text("scores", style="bold")
    parts.append(Group(head, sc_t))
    for label, side in (("base", b), ("candidate", c)):
        if side is None or side.trials < 2:
            continue
        t = Text()
        t.append(f"{label}: {side.trials} trials", style="bold")
        t.append(" (the deltas compare their means; each trial's answer:)", style="dim")
        for i, text in enumerate(side.output_texts[:MAX_TRIALS_SHOWN]):
            t.append(f"\n  {i + 1}. ", style="dim")
            t.append(preview(text, max(20, width - 8)) or "(no output)")
        if side.trials > MAX_TRIALS_SHOWN:
            t.append(f"\n  … and {side.trials - MAX_TRIALS_SHOWN} more", style="dim")
        parts.append(t)
    field_("input", row.input)
    field_("expected", row.expected)
    out: list = []
    for i, p in enumerate(parts):
        if i:
            out.append(Text(""))
        out.append(p)
    return Group(*out)


# --- sending rows on (in a worker thread) --------------------------------------------------------

def experiment_record_id(row_id: str) -> str:
    """The id a record from an experiment row gets: adding the row again updates it."""
    return "rec-" + hashlib.sha1(f"experiment:{row_id}".encode()).hexdigest()[:20]


def rows_to_dataset(store, project: str, dataset: str, picks: list, expected_from: str, metadata: bool, tags: bool,
                    author: str) -> str:
    """``picks``: (experiment name, rows project, root row id). Each row's root span becomes a
    record of ``dataset`` in ``project`` (the app's project, where datasets live), its origin
    the experiment row; ONE version. Returns the line the user is told."""
    from store.datasets import span_to_record, upsert_records
    from store.export import get_span

    records = []
    for exp_name, rows_project, row_id in picks:
        span = get_span(store, rows_project, row_id)
        rec = span_to_record(span, expected_from, metadata=metadata, tags=tags)
        rec["origin"] = {"object_type": "experiment", "id": row_id, "experiment": exp_name}
        rec["id"] = experiment_record_id(row_id)
        records.append(rec)
    r = upsert_records(store, project, dataset, records, author=author,
                       note=f"{count(len(records), 'row')} from experiment {picks[0][0]!r}" if picks else "")
    new = " (a new dataset)" if r.created_dataset else ""
    if r.version is None:
        return f"nothing changed: the {count(len(records), 'row')} are in {dataset!r} as they are{new}"
    return f"added {r.added}, updated {r.updated} to {dataset!r} (version {r.version}){new}"


def flag_for_review(store, groups: list, author: str) -> str:
    """``groups``: (experiment name, rows project, [root row ids]). Each experiment's traces go
    into its rows' review queue (the queue is kept per project: an experiment's rows are a
    project of their own). Returns the line the user is told."""
    from store.review import flag

    said = []
    for name, rows_project, ids in groups:
        added, updated = flag(store, rows_project, ids, author=author)
        already = len(ids) - added
        said.append(f"{count(added, 'trace')} of {name!r}" + (f" ({already} already queued)" if already else ""))
    return ("flagged " + "; ".join(said) + " for review · Experiments (X): v on the experiment reviews them")


# --- the screen ----------------------------------------------------------------------------------

@dataclass
class Compared(Message):
    comp: Optional[Comparison]
    error: str = ""


@dataclass
class ModesIndexed(Message):
    comp: Comparison
    index: dict  # mode -> rows (mode_index)


@dataclass
class IntervalsAdded(Message):
    comp: Comparison
    scores: list


@dataclass
class ExperimentsListed(Message):
    purpose: str  # base | candidate
    experiments: list


class CompareTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="compare.down"),
        Binding("k", "cursor_up", "Up", show=False, id="compare.up"),
    ]


class ExperimentCompareScreen(BtScreen):
    """A base and a candidate experiment compared, row by row."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="compare.back"),
        Binding("q", "back", "Back", show=False, id="compare.quit_back"),
        Binding("m", "mode", "Show", id="compare.mode"),
        Binding("s", "sort", "Sort", id="compare.sort"),
        Binding("o", "open_base", "Base trace", id="compare.open_base"),
        Binding("O", "open_candidate", "Cand trace", id="compare.open_candidate"),
        Binding("a", "add_to_dataset", "Dataset", id="compare.add_to_dataset"),
        Binding("f", "flag", "Flag", id="compare.flag"),
        Binding("b", "pick_base", "Pick base", id="compare.pick_base"),
        Binding("n", "pick_candidate", "Pick cand", id="compare.pick_candidate"),
        Binding("space", "mark", "Mark", show=False, id="compare.mark"),
        Binding("g,home", "top", "First row", show=False, id="compare.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="compare.bottom"),
        Binding("plus,equals_sign", "detail_bigger", "Detail bigger", show=False, id="compare.detail_bigger"),
        Binding("minus", "detail_smaller", "Detail smaller", show=False, id="compare.detail_smaller"),
    ]
    DEFAULT_CSS = """
    ExperimentCompareScreen #cmp-head { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ExperimentCompareScreen #cmp-scores { height: auto; max-height: 8; padding: 0 1; }
    ExperimentCompareScreen #cmp-mode { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ExperimentCompareScreen #cmp-detail { height: 40%; border-top: solid $primary-darken-2; padding: 0 1; }
    """
    HELP = ("Compare: rows of the base and the candidate matched by input. Per score: the averages, the"
            " difference, its 95% paired bootstrap interval (1,000 resamples of the matched rows' differences)"
            " and a verdict: 'real' when the interval leaves out 0, else 'could be noise'; ▲N rows improved,"
            " ▼N regressed. m picks the rows (regressed on a score, improved, changed output, errors, only on one"
            " side), s sorts (worst first on a score). enter shows a row side by side with the word diff;"
            " o/O open the base/candidate trace; space marks; a adds the rows to a dataset, f flags the"
            " candidate's traces for review (Experiments: v reviews them). b/n pick another base/candidate.")

    def __init__(self, candidate: str | ExperimentInfo, base: str | ExperimentInfo | None = None, *,
                 fallback_base: Optional[str] = None, project: Optional[str] = None) -> None:
        """``candidate`` and ``base``: names, or the infos a list has read already (not read
        again); ``base`` None: the default base (``store.compare.previous_experiment``), else
        ``fallback_base``."""
        super().__init__()
        self.candidate_name = candidate if isinstance(candidate, str) else candidate.name
        self.base_name = base if base is None or isinstance(base, str) else base.name
        self._infos = {e.name: e for e in (candidate, base) if isinstance(e, ExperimentInfo)}
        self.fallback_base = fallback_base  # when there is no previous experiment on the same data
        self._project = project
        self.comp: Optional[Comparison] = None
        self.counts: dict = {}
        self.index: Optional[dict] = None  # mode -> rows, once indexed (after the first paint)
        self.mode: Mode = ALL
        self.sort: Sort = ORDER
        self.shown: list[MatchedRow] = []
        self.computing = False  # the intervals are on their way
        self.error = ""
        self._detail_timer = None
        self._detail_key: Optional[str] = None
        self._detail_size = 1
        self._started = False  # the intervals' worker has started for this comparison

    @property
    def project(self) -> str:
        return self._project or self.app.project

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"comparing {self.candidate_name!r}…", style="dim"), id="cmp-head")
        yield Static("", id="cmp-scores")
        yield Static("", id="cmp-mode")
        yield CompareTable([], markable=True, id="table")
        with VerticalScroll(id="cmp-detail"):
            yield Static("", id="cmp-detail-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self.query_one("#cmp-detail").display = self.app.size.height >= DETAIL_MIN_HEIGHT
        self._size_detail()
        self._compare(self.base_name, self.candidate_name)

    @property
    def table(self) -> CompareTable:
        return self.query_one(CompareTable)

    @property
    def detail_pane(self) -> VerticalScroll:
        return self.query_one("#cmp-detail", VerticalScroll)

    # -- comparing (workers)
    @work(thread=True, exclusive=True, group="compare")
    def _compare(self, base: Optional[str], candidate: str) -> None:
        store, project = self.store, self.project
        infos = self._infos

        def info(name: str) -> ExperimentInfo:
            return infos[name] if name in infos else get_experiment(store, project, name)

        try:
            cand = info(candidate)
            if base is not None:
                b = info(base)
            else:
                b = previous_experiment(store, project, cand)
                if b is None and self.fallback_base:
                    b = get_experiment(store, project, self.fallback_base)
            if b is None:
                self.post_message(Compared(None, error=f"{candidate!r} is the project's first experiment: there is"
                                                       " none before it to compare with (b picks a base)"))
                return
            comp = compare_experiments(store, project, b, cand, intervals=False)
        except Exception as exc:
            self.post_message(Compared(None, error=f"could not compare: {exc}"))
            return
        finally:
            store.release_thread()
        self.post_message(Compared(comp))

    @work(thread=True, exclusive=True, group="intervals")
    def _intervals(self, comp: Comparison) -> None:
        """After the first paint: each mode's rows (the counts the menu shows), then the
        bootstrap intervals, on a copy of the score list (the screen keeps painting the one it
        has meanwhile)."""
        self.post_message(ModesIndexed(comp, mode_index(comp)))
        copy = Comparison(comp.base, comp.candidate, comp.key, [replace(s) for s in comp.scores], comp.rows)
        try:
            add_intervals(copy)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not compute the intervals: {exc}"))
            self.post_message(IntervalsAdded(comp, comp.scores))
            return
        self.post_message(IntervalsAdded(comp, copy.scores))

    def on_compared(self, event: Compared) -> None:
        if event.comp is None:
            self.error = event.error
            self.notify(event.error, severity="warning" if "first experiment" in event.error else "error")
            self._paint_head()
            return
        self.error = ""
        first = self.comp is None
        self.comp, self.counts, self.index = event.comp, {}, None
        self.base_name, self.candidate_name = self.comp.base.name, self.comp.candidate.name
        names = self.comp.score_names()
        if self.mode not in modes(self.comp):
            self.mode = ALL
        if self.sort[1] is not None and self.sort[1] not in names:
            self.sort = ORDER
        self.table.clear_marks()
        self.table.set_columns(compare_columns(self.comp))
        self._apply(None if first else self.table.cursor_id())
        self.computing = True
        self._paint_head()
        self._started = False  # the intervals' worker starts once the rows are painted

    def on_modes_indexed(self, event: ModesIndexed) -> None:
        if event.comp is not self.comp:
            return
        self.index = event.index
        self.counts = {m: len(rows) for m, rows in event.index.items()}

    def on_intervals_added(self, event: IntervalsAdded) -> None:
        if event.comp is not self.comp:
            return  # another comparison since
        self.comp.scores = event.scores
        self.computing = False
        self._paint_scores()

    # -- the rows shown
    def _apply(self, keep: Optional[str] = None) -> None:
        self.shown = view_rows(self.comp, self.mode, self.sort, self.index)
        self.table.set_source(ListSource(self.shown, lambda r: r.key), keep)
        self._paint_mode()

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode in ("replace", "replace_at"):
            self._later_detail()
            if self.comp is not None and not self._started:
                self._started = True
                self.call_after_refresh(self._intervals, self.comp)  # after the rows are on screen

    def _later_detail(self) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, self._show_detail)

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        self._later_detail()

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_toggle_detail()

    # -- painting
    def _paint_head(self) -> None:
        head = self.query_one("#cmp-head", Static)
        if self.comp is None:
            t = Text(self.error or f"comparing {self.candidate_name!r}…", style="yellow" if self.error else "dim")
            head.update(t)
            return
        c = self.comp
        t = side_line("base", c.base)
        t.append("\n")
        t.append_text(side_line("candidate", c.candidate))
        t.append("\n")
        t.append(f"{c.matched:,} matched by {c.key}", style="dim")
        if c.only_base:
            t.append(f" · {c.only_base:,} only in base", style="yellow")
        if c.only_candidate:
            t.append(f" · {c.only_candidate:,} only in candidate", style="yellow")
        t.append("  ·  b picks another base, n another candidate", style="dim")
        head.update(t)
        self._paint_scores()

    def _paint_scores(self) -> None:
        box = self.query_one("#cmp-scores", Static)
        if self.comp is None or not self.comp.scores:
            box.update(Text("no scores in either experiment", style="dim") if self.comp else "")
            return
        box.update(scores_table(self.comp, self.computing))

    def _paint_mode(self) -> None:
        t = Text()
        if self.comp is not None:
            t.append("showing ", style="dim")
            t.append(mode_label(self.mode), style="bold cyan" if self.mode != ALL else "bold")
            t.append(f" ({len(self.shown):,} of {count(len(self.comp.rows), 'row')})", style="dim")
            t.append(" · m changes it · sorted by ", style="dim")
            t.append(sort_label(self.sort), style="bold cyan" if self.sort != ORDER else "")
            t.append(" (s)", style="dim")
            if self.table.marked:
                t.append(f" · {len(self.table.marked)} marked", style="bold magenta")
            if not self.detail_pane.display:
                t.append(" · enter: the row in detail", style="dim")
            if not self.shown:
                t.append(" · no row in this mode", style="yellow")
        self.query_one("#cmp-mode", Static).update(t)

    def _show_detail(self) -> None:
        self._detail_timer = None
        pane = self.detail_pane
        if not pane.display or self.comp is None:
            return
        row = self.table.current_row()
        width = max(40, pane.size.width or self.app.size.width) - 2
        self.query_one("#cmp-detail-text", Static).update(detail_renderable(self.comp, row, width))
        key = row.key if row is not None else None
        if key != self._detail_key:
            self._detail_key = key
            pane.scroll_home(animate=False)

    def _size_detail(self) -> None:
        self.detail_pane.styles.height = f"{(30, 40, 55, 70)[self._detail_size]}%"

    # -- keys
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_detail(self) -> None:
        pane = self.detail_pane
        pane.display = not pane.display
        self._show_detail()
        self._paint_mode()

    def action_detail_bigger(self) -> None:
        self._detail_size = min(3, self._detail_size + 1)
        self.detail_pane.display = True
        self._size_detail()
        self._show_detail()

    def action_detail_smaller(self) -> None:
        self._detail_size = max(0, self._detail_size - 1)
        self._size_detail()

    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._paint_mode()

    def set_mode(self, mode: Mode) -> None:
        if self.comp is None:
            return
        self.mode = mode
        self._apply(self.table.cursor_id())

    def set_sort(self, sort: Sort) -> None:
        if self.comp is None:
            return
        self.sort = sort
        self._apply(None)  # the first row is the worst: the cursor goes there

    def action_mode(self) -> None:
        if self.comp is None:
            return
        def n(m: Mode) -> str:
            return f" ({self.counts[m]:,})" if m in self.counts else " (counting…)"

        items = [(str(i), f"{mode_label(m)}{n(m)}" + (" ✓" if m == self.mode else ""))
                 for i, m in enumerate(modes(self.comp))]
        all_modes = modes(self.comp)

        def picked(key: Optional[str]) -> None:
            if key is not None:
                self.set_mode(all_modes[int(key)])

        self.app.push_screen(MenuScreen("Show the rows that…", items), picked)

    def action_sort(self) -> None:
        if self.comp is None:
            return
        sorts: list[Sort] = [ORDER] + [("worst", n) for n in self.comp.score_names()] + \
            [("best", n) for n in self.comp.score_names()]
        items = [(str(i), sort_label(s) + (" ✓" if s == self.sort else "")) for i, s in enumerate(sorts)]

        def picked(key: Optional[str]) -> None:
            if key is not None:
                self.set_sort(sorts[int(key)])

        self.app.push_screen(MenuScreen("Sort the rows by", items), picked)

    def _open(self, which: str) -> None:
        row = self.table.current_row()
        if row is None or self.comp is None:
            return
        side = row.base if which == "base" else row.candidate
        info = self.comp.base if which == "base" else self.comp.candidate
        if side is None or not side.root_span_ids:
            self.notify(f"this row is not in the {which} ({info.name!r})", severity="warning")
            return
        from tui.screens.trace import TraceScreen

        self.app.push_screen(TraceScreen(side.root_span_ids[0], project=info.rows_project))

    def action_open_base(self) -> None:
        self._open("base")

    def action_open_candidate(self) -> None:
        self._open("candidate")

    def chosen_rows(self) -> list[MatchedRow]:
        """The marked rows (in the order shown), else the cursor's."""
        if self.table.marked:
            marked = self.table.marked
            return [r for r in self.shown if r.key in marked] or \
                [r for r in self.comp.rows if r.key in marked]
        row = self.table.current_row()
        return [row] if row is not None else []

    def _picks(self, rows: list[MatchedRow]) -> list[tuple[str, str, str]]:
        """(experiment name, rows project, root row id) of each row: the candidate's trace, the
        base's for a row only in the base."""
        out = []
        for r in rows:
            if r.candidate is not None:
                out.append((self.comp.candidate.name, self.comp.candidate.rows_project, r.candidate.ids[0]))
            elif r.base is not None:
                out.append((self.comp.base.name, self.comp.base.rows_project, r.base.ids[0]))
        return out

    def _what(self, rows: list[MatchedRow]) -> str:
        return f"{len(rows)} marked rows" if self.table.marked else "this row"

    def action_add_to_dataset(self) -> None:
        if self.comp is None:
            return
        rows = self.chosen_rows()
        picks = self._picks(rows)
        if not picks:
            return
        from tui.screens.add_to_dataset import AddChoice, AddToDatasetScreen

        def done(choice: Optional[AddChoice]) -> None:
            if choice is not None:
                write_in_thread(self, "{result}", rows_to_dataset, self.app.project, choice.dataset, picks,
                                choice.expected_from, choice.metadata, choice.tags, default_author(), changed=False,
                                failed="could not add to the dataset")

        self.app.push_screen(AddToDatasetScreen(self.app.project, self._what(rows),
                                                "the candidate's row (the base's when only in the base): its input,"
                                                " expected, metadata"), done)

    def action_flag(self) -> None:
        if self.comp is None:
            return
        picks = self._picks(self.chosen_rows())
        if not picks:
            return
        groups: dict[tuple[str, str], list[str]] = {}
        for name, project, row_id in picks:
            groups.setdefault((name, project), []).append(row_id)
        write_in_thread(self, "{result}", flag_for_review, [(n, p, ids) for (n, p), ids in groups.items()],
                        default_author(), changed=False, failed="could not flag for review")

    def action_pick_base(self) -> None:
        self._list_experiments("base")

    def action_pick_candidate(self) -> None:
        self._list_experiments("candidate")

    @work(thread=True, exclusive=True, group="list")
    def _list_experiments(self, purpose: str) -> None:
        try:
            exps = list_experiments(self.store, self.project)
        except Exception as exc:
            self.post_message(WorkFailed(f"could not read the experiments: {exc}"))
            return
        finally:
            self.store.release_thread()
        self.post_message(ExperimentsListed(purpose, exps))

    def on_experiments_listed(self, event: ExperimentsListed) -> None:
        other = self.candidate_name if event.purpose == "base" else self.base_name
        current = self.base_name if event.purpose == "base" else self.candidate_name
        exps = [e for e in reversed(event.experiments) if e.name != other]  # newest first
        if not exps:
            self.notify("no other experiment in the project", severity="warning")
            return
        items = [(e.name, f"{e.name}  ·  {dataset_label(e)} · {ago(e.created)}" + (" ✓" if e.name == current else ""))
                 for e in exps]

        def picked(name: Optional[str]) -> None:
            if not name or name == current:
                return
            if event.purpose == "base":
                self.base_name = name
            else:
                self.candidate_name = name
            self.comp = None
            self.computing = False
            self._paint_head()
            self._compare(self.base_name, self.candidate_name)

        self.app.push_screen(MenuScreen(f"Pick the {event.purpose}", items), picked)

    def action_review_flagged(self) -> None:
        if self.comp is None:
            return
        try:
            from tui.screens.review import FocusedReviewScreen  # noqa: PLC0415 (its own module)
        except ImportError:
            self.notify("focused review is not available in this build", severity="error")
            return
        self.app.push_screen(FocusedReviewScreen(self.comp.candidate.rows_project))

    def palette_commands(self) -> list[Command]:
        cmds = [
            Command("Pick another base experiment", self.action_pick_base, ""),
            Command("Pick another candidate experiment", self.action_pick_candidate, ""),
            Command("Add the rows to a dataset", self.action_add_to_dataset, "marked rows, or the current row"),
            Command("Flag the rows for review", self.action_flag, "the candidate's traces"),
            Command("Review the candidate's flagged rows", self.action_review_flagged, "focused review"),
            Command("Open the base trace", self.action_open_base, ""),
            Command("Open the candidate trace", self.action_open_candidate, ""),
        ]
        if self.comp is not None:
            for m in modes(self.comp):
                cmds.append(Command(f"Show rows: {mode_label(m)}", lambda m=m: self.set_mode(m),
                                    f"{self.counts[m]:,} rows" if m in self.counts else ""))
            for n in self.comp.score_names():
                cmds.append(Command(f"Sort: worst {n} first", lambda n=n: self.set_sort(("worst", n)), ""))
            cmds.append(Command("Sort: row order", lambda: self.set_sort(ORDER), ""))
        return cmds
