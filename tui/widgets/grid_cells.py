"""The playground grid, drawn from a live ``engine.playground.PlaygroundSession``: its columns
(record input and expected, then one per variant), each cell's one-line summary, the display
modes (All / Different / Errors / Regressions), the summary lines per variant and the detail of
one row (every variant's output side by side, word-diffed against the base).

Pure functions of the session and a :class:`GridView` (what the screen shows: the scorers'
order, diff on or off, the current variant, the spinner's frame). Nothing here reads the store
or imports Textual's widgets: cells are rendered when a row is painted, from the session's cells
as they are at that moment (a run changes them as results stream in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from engine.runs import CANCELLED, DONE, ERROR, PENDING, RUNNING, Cell, Row, summarise
from tui.format import fmt_cost, fmt_duration, fmt_tokens, preview
from tui.widgets.paged_table import NARROW, Column
from tui.widgets.record_columns import value_preview
from tui.widgets.transcript import render_value
from tui.widgets.word_diff import word_diff

GLYPHS = {PENDING: "·", RUNNING: "…", DONE: "✓", ERROR: "✗", CANCELLED: "⊘"}
GLYPH_STYLES = {PENDING: "dim", RUNNING: "bold yellow", DONE: "bold green", ERROR: "bold red", CANCELLED: "dim"}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MODES = ("all", "different", "errors", "regressions")
MODE_LABELS = {"all": "All", "different": "Different", "errors": "Errors", "regressions": "Regressions"}
MODE_HELP = {"all": "every row", "different": "rows where a variant's output differs from the base's",
             "errors": "rows with an errored cell", "regressions": "rows where a score is lower than the base's"}
EPS = 1e-9
NARROW_CELL = 24  # a variant column narrower than this drops the latency and says "2/3" for "2/3 agree"


@dataclass
class GridView:
    """What the grid shows besides the session's data."""

    score_names: list = field(default_factory=list)  # the scorers' order: the first is the cell's score
    diff: bool = True  # mark non-base cells that differ from the base, with score deltas
    current: Optional[str] = None  # the current variant's id (h/l move it)
    frame: int = 0  # the spinner's frame (advanced while a run goes)


# --- reading a row's cells --------------------------------------------------------------------

def answer(session, variant: str, record: str) -> Optional[str]:
    """The cell's answer: its output (the most common one over repeats); None until done."""
    cells = session.cells_of(variant, record)
    if len(cells) <= 1:
        c = cells[0] if cells else None
        return c.output.strip() if c is not None and c.status == DONE and c.output is not None else None
    text, n, _ = session.agreement(variant, record)
    return text if n else None


def cell_scores(session, variant: str, record: str) -> dict:
    """Each score's value on this row (the average over repeats; None-valued ones skipped)."""
    cells = session.cells_of(variant, record)
    if len(cells) == 1:
        c = cells[0]
        return {k: v for k, v in c.scores.items() if v is not None} if c.status == DONE else {}
    sums: dict = {}
    counts: dict = {}
    for c in cells:
        if c.status != DONE:
            continue
        for k, v in c.scores.items():
            if v is not None:
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
    return {k: sums[k] / counts[k] for k in sums}


def primary(scores: dict, names: Sequence[str]) -> Optional[str]:
    """The score a cell shows: the first of the chosen scorers it has, else its first."""
    for n in names:
        if n in scores:
            return n
    return next(iter(scores), None)


def differs(session, variant: str, record: str) -> bool:
    """A non-base cell whose (finished) answer is not the base's."""
    base = session.base
    if base is None or variant == base.id:
        return False
    mine, theirs = answer(session, variant, record), answer(session, base.id, record)
    return mine is not None and theirs is not None and mine != theirs


def row_differs(session, record: str) -> bool:
    return any(differs(session, v.id, record) for v in session.variants[1:])


def row_errors(session, record: str) -> bool:
    return any(c.status == ERROR for v in session.variants for c in session.cells_of(v.id, record))


def row_regresses(session, record: str) -> bool:
    """Some variant has a score lower than the base's on this row."""
    base = session.base
    if base is None:
        return False
    ref = cell_scores(session, base.id, record)
    if not ref:
        return False
    for v in session.variants[1:]:
        mine = cell_scores(session, v.id, record)
        if any(k in ref and val < ref[k] - EPS for k, val in mine.items()):
            return True
    return False


def filter_rows(session, mode: str, text: str = "") -> list[Row]:
    """The rows a display mode shows (in the dataset's order), narrowed to ``text`` (words
    found in the input or expected) when given."""
    rows = session.rows
    test = {"different": row_differs, "errors": row_errors, "regressions": row_regresses}.get(mode)
    if test is not None:
        rows = [r for r in rows if test(session, r.id)]
    words = text.lower().split()
    if words:
        rows = [r for r in rows if all(w in _row_text(r) for w in words)]
    return rows


def _row_text(row: Row) -> str:
    return (value_preview(row.input, 2000) + " " + value_preview(row.expected, 2000)).lower()


# --- the cells ----------------------------------------------------------------------------------

def first_line(text: Optional[str]) -> str:
    if not text:
        return ""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def output_preview(text: Optional[str]) -> str:
    """A cell's one line of an answer: a JSON answer's text (``{"answer": "..."}`` -> its
    words, as the Logs screen previews values), else the first non-blank line."""
    if not text:
        return ""
    stripped = text.strip()
    if stripped[:1] in "{[":
        shown = preview(stripped, 400)
        if shown:
            return shown
    return first_line(text)


def pct(v: Optional[float]) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def delta_text(mine: Optional[float], base: Optional[float]) -> Text:
    """``▲12`` / ``▼8`` (points of percentage) against the base; nothing when equal."""
    if mine is None or base is None:
        return Text("")
    d = (mine - base) * 100
    if abs(d) < 0.5:
        return Text("")
    return Text(f"▲{d:.0f}" if d > 0 else f"▼{-d:.0f}", style="bold green" if d > 0 else "bold red")


def status_of(cells: Sequence[Cell]) -> str:
    """One status for a cell's repeats: running while any runs, then error, cancelled, done."""
    states = {c.status for c in cells}
    if not states or states == {PENDING}:
        return PENDING
    if RUNNING in states or PENDING in states:
        return RUNNING
    for s in (ERROR, CANCELLED):
        if s in states:
            return s
    return DONE


def glyph(status: str, frame: int = 0) -> Text:
    if status == RUNNING:
        return Text(SPINNER[frame % len(SPINNER)], style=GLYPH_STYLES[RUNNING])
    return Text(GLYPHS.get(status, "?"), style=GLYPH_STYLES.get(status, ""))


def cell_text(session, view: GridView, variant, row: Row, width: int) -> Text:
    """One grid cell: status glyph, [≠ differs from the base], the first score as %, its delta
    against the base, [k/N agree], latency, the output's first line (the streamed text while
    running; the error when it failed). The front stays when a narrow column cuts the rest."""
    cells = session.cells_of(variant.id, row.id)
    status = status_of(cells)
    t = Text(no_wrap=True, end="")
    t.append_text(glyph(status, view.frame))
    t.append(" ")
    if not cells:
        return t
    first = cells[0]
    base = session.base
    is_base = base is not None and variant.id == base.id
    if view.diff and not is_base and differs(session, variant.id, row.id):
        t.append("≠ ", style="bold magenta")
    scores = cell_scores(session, variant.id, row.id)
    name = primary(scores, view.score_names)
    if name is not None:
        t.append(pct(scores[name]), style="bold")
        if view.diff and not is_base and base is not None:
            t.append_text(delta_text(scores[name], cell_scores(session, base.id, row.id).get(name)))
        t.append(" ")
    narrow = width < NARROW_CELL
    if variant.repeat > 1:
        _, n, answered = session.agreement(variant.id, row.id)
        if answered:
            t.append(f"{n}/{variant.repeat}{'' if narrow else ' agree'} ", style="cyan")
    if first.latency is not None and first.status in (DONE, ERROR) and not narrow:
        t.append(fmt_duration(first.latency) + " ", style="dim")
    if status == RUNNING:
        running = next((c for c in cells if c.status == RUNNING), first)
        t.append(output_preview(running.partial) or "…", style="italic")
    elif status == ERROR:
        err = next((c.error for c in cells if c.status == ERROR and c.error), "")
        t.append(first_line(err), style="red")
    elif status == CANCELLED:
        t.append("cancelled", style="dim italic")
    elif first.output is not None:
        t.append(output_preview(first.output))
    return t


def variant_label(variant, *, is_base: bool, current: bool) -> str:
    extra = " ".join(f"{k}={v}" for k, v in sorted(variant.params.items()))
    rep = f" ×{variant.repeat}" if variant.repeat > 1 else ""
    return (("▸" if current else " ") + variant.id + ("★" if is_base else "") + " " + variant.prompt.ref + " · "
            + variant.model.name + (f" {extra}" if extra else "") + rep)


def grid_columns(session, view: GridView) -> list[Column]:
    """The grid's columns: #, input, expected, then one per variant (the base first, ★)."""
    cols = [
        Column("input", "input", lambda r, w: Text(value_preview(r.input, w)), 24, narrow=((NARROW, 14),)),
        Column("expected", "expected", lambda r, w: Text(value_preview(r.expected, w), style="dim"), 16,
               narrow=((NARROW, 10),)),
    ]
    base = session.base
    for v in session.variants:
        cols.append(Column(f"v:{v.id}", variant_label(v, is_base=base is not None and v.id == base.id,
                                                      current=v.id == view.current),
                           lambda r, w, v=v: cell_text(session, view, v, r, w)))
    return cols


# --- summaries ----------------------------------------------------------------------------------

def summaries(session) -> dict:
    """The summary (engine.runs.summarise) of each variant over the rows on show, one pass."""
    ids = {r.id for r in session.rows}
    groups: dict[str, list[Cell]] = {v.id: [] for v in session.variants}
    for c in list(session.cells.values()):
        g = groups.get(c.variant)
        if g is not None and c.record in ids:
            g.append(c)
    return {vid: summarise(cells, vid) for vid, cells in groups.items()}


def summary_text(session, view: GridView) -> Text:
    """One line per variant: done/total, errors, each score's average (its difference from the
    base's), average latency, tokens, cost."""
    out = Text(no_wrap=True, overflow="ellipsis")
    sums = summaries(session)
    base = session.base
    base_sum = sums.get(base.id) if base is not None else None
    for i, v in enumerate(session.variants):
        s = sums[v.id]
        total = len(session.rows) * max(1, v.repeat)
        if i:
            out.append("\n")
        out.append(("▸" if v.id == view.current else " ") + v.id + ("★" if i == 0 else " ") + " ",
                   style="bold" if v.id == view.current else "")
        out.append(f"{s.done}/{total}", style="bold")
        if s.errors:
            out.append(f" · {s.errors} err", style="bold red")
        names = [n for n in view.score_names if n in s.scores] + [n for n in s.scores if n not in view.score_names]
        for n in names:
            out.append(f" · {n} {pct(s.scores[n])}")
            if i and base_sum is not None and n in base_sum.scores:
                d = (s.scores[n] - base_sum.scores[n]) * 100
                if abs(d) >= 0.05:
                    out.append(f" ({d:+.1f})", style="bold green" if d > 0 else "bold red")
        if s.latency is not None:
            out.append(f" · {fmt_duration(s.latency)}", style="dim")
        if s.tokens:
            out.append(f" · {fmt_tokens(s.tokens)} tok", style="dim")
        if s.cost:
            out.append(f" · {fmt_cost(s.cost)}", style="dim")
        offline = " (offline)" if v.model.offline and v.model.name != "offline" else ""
        out.append(f"  {v.prompt.ref} · {v.model.name}{offline}", style="dim")
    return out


def progress(cells: Iterable[Cell]) -> tuple[int, int, int, int]:
    """(finished, total, errors, cancelled) of a run's cells."""
    fin = tot = err = can = 0
    for c in cells:
        tot += 1
        if c.finished:
            fin += 1
        if c.status == ERROR:
            err += 1
        elif c.status == CANCELLED:
            can += 1
    return fin, tot, err, can


# --- the detail of one row ----------------------------------------------------------------------

def _cell_block(session, view: GridView, variant, row: Row, base_answer: Optional[str], base_scores: dict,
                is_base: bool) -> tuple[Group, Optional[Text]]:
    """One variant's answer on the row: status, scores with deltas, error, tokens/cost/latency,
    the output (word-diffed against the base's). Returns (the block, the output text)."""
    cells = session.cells_of(variant.id, row.id)
    status = status_of(cells)
    head = Text()
    head.append(f"{variant.id}{' (base)' if is_base else ''} ", style="bold underline")
    head.append(f"{variant.prompt.ref} · {variant.model.name}", style="bold")
    if variant.params:
        head.append(" " + " ".join(f"{k}={v}" for k, v in sorted(variant.params.items())), style="dim")
    parts: list[Any] = [head]
    line = Text()
    line.append_text(glyph(status, view.frame))
    line.append(f" {status}")
    first = cells[0] if cells else None
    if first is not None:
        for label, value in (("latency", fmt_duration(first.latency)), ("tokens", fmt_tokens(first.tokens)),
                             ("cost", fmt_cost(first.cost))):
            if value:
                line.append(f" · {label} {value}", style="dim")
    if variant.repeat > 1:
        _, n, answered = session.agreement(variant.id, row.id)
        line.append(f" · {n}/{variant.repeat} agree ({answered} answered)", style="cyan")
    parts.append(line)
    scores = cell_scores(session, variant.id, row.id)
    if scores:
        st = Text()
        names = [n for n in view.score_names if n in scores] + [n for n in scores if n not in view.score_names]
        for i, n in enumerate(names):
            if i:
                st.append(" · ")
            st.append(f"{n} {pct(scores[n])}")
            if view.diff and not is_base and n in base_scores:
                d = delta_text(scores[n], base_scores[n])
                if d.plain:
                    st.append(" ")
                    st.append_text(d)
        parts.append(st)
    for c in cells:
        for name, err in (c.score_errors or {}).items():
            parts.append(Text(f"scorer {name}: {err}", style="red"))
            break
    errors = [c.error for c in cells if c.status == ERROR and c.error]
    if errors:
        parts.append(Text(errors[0], style="bold red"))
    out_text: Optional[Text] = None
    if status == RUNNING:
        running = next((c for c in cells if c.status == RUNNING), first)
        out_text = Text(running.partial or "…", style="italic")
    elif first is not None and first.output is not None:
        mine = first.output
        if not is_base and base_answer is not None and view.diff and answer(session, variant.id, row.id) is not None:
            _, out_text = word_diff(base_answer, mine.strip())
        else:
            out_text = Text(mine)
    if out_text is not None:
        parts.append(out_text)
    if variant.repeat > 1:
        others = [c.output.strip() for c in cells[1:] if c.status == DONE and c.output is not None]
        for i, o in enumerate(others, 2):
            if o != (first.output or "").strip():
                parts.append(Text(f"repeat {i}: {o}", style="dim"))
    return Group(*parts), out_text


def detail(session, view: GridView, row: Optional[Row], width: int) -> tuple[Any, dict]:
    """The detail of ``row``: each variant's answer (side by side when the pane is wide
    enough, else one under the other), the base's first, then the input and the expected. Returns (the
    renderable, {variant id: its output Text} (the word diff shown))."""
    if row is None:
        return Text("no row", style="dim italic"), {}
    head = Text()
    head.append(f"record {row.id}", style="bold")
    parts: list[Any] = [head]
    base = session.base
    base_answer = answer(session, base.id, row.id) if base is not None else None
    base_scores = cell_scores(session, base.id, row.id) if base is not None else {}
    blocks = []
    texts: dict = {}
    for v in session.variants:
        block, out = _cell_block(session, view, v, row, base_answer, base_scores, base is not None and v.id == base.id)
        blocks.append(block)
        texts[v.id] = out
    n = len(blocks)
    if n and width >= 100 and width // n >= 30:
        table = Table.grid(expand=True, padding=(0, 2))
        for _ in blocks:
            table.add_column(ratio=1)
        table.add_row(*blocks)
        parts += [Text(""), table]
    else:
        for b in blocks:
            parts += [Text(""), b]
    # the answers first (what a person compares), then what they answered and what was expected
    parts += [Text(""), Text("input", style="bold underline"), render_value(row.input),
              Text("expected", style="bold underline"), render_value(row.expected)]
    return Group(*parts), texts
