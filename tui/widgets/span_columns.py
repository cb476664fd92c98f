"""The columns of a table of span rows (the Logs screen now; the review queue, dataset records
and experiment rows share the row shape): each a key, a label, width rules and a renderer of
one row into a cell, formatted only when the row is painted."""

from __future__ import annotations

from functools import partial

from rich.text import Text

from store.query.pager import SNIP_CLOSE, SNIP_OPEN
from tui.format import fmt_cost, fmt_duration, fmt_scores, fmt_time, fmt_tokens, preview
from tui.widgets.paged_table import NARROW, Column


def _name_cell(shape: str, r, width: int) -> Text:
    label = r.name or ""
    if shape == "traces" and r.spans > 1:
        suffix = f" ·{r.spans}"  # the span count stays visible: cut the name instead
        if len(label) + len(suffix) > width:
            label = label[: max(1, width - len(suffix) - 1)] + "…"
        label += suffix
    elif shape == "spans" and r.type:
        label = f"{r.type[:4]} {label}"
    return Text(label[: width + 1])


def _output_cell(r, width: int) -> Text:
    text = preview(r.output_preview, width + 1)
    if r.has_error and not text:
        return Text(preview(r.error_preview, width + 1), style="red")
    return Text(text)


FIELD_TAG = {"output": "out", "expected": "exp", "metadata": "meta"}


def _match_cell(r, width: int) -> Text:
    """Where a full-text search matched: the words around the first match, the matched words
    highlighted, its field named unless it is the input (no snippet: the input preview)."""
    if not r.snippet:
        return Text(preview(r.input_preview, width + 1))
    out = Text()
    tag = FIELD_TAG.get(r.snippet_field or "")
    if tag:
        out.append(f"{tag}: ", style="dim italic")
    text = r.snippet
    first = text.find(SNIP_OPEN)
    room = max(4, width - out.cell_len)
    if first > room // 3:  # keep the first match in sight: at most a word before it
        before = text.rfind(" ", 0, max(0, first - 1))
        start = before + 1 if room >= 30 and before != -1 and first - before <= room // 3 else first
        text = "…" + text[start:]
    for i, part in enumerate(text.replace(SNIP_CLOSE, SNIP_OPEN).split(SNIP_OPEN)):
        out.append(part, style="bold reverse" if i % 2 else "")
    return out


def _score_cell(name: str, r, width: int) -> Text:
    v = r.scores.get(name)
    return Text("" if v is None else f"{v:.2f}", justify="right")


def _notes_cell(r, width: int) -> Text:
    """✎: the row has comments; #: tags."""
    if r.comments:
        return Text("✎", style="bold cyan")
    return Text("#", style="cyan") if r.tags else Text("")


def columns(shape: str, active: tuple[str, ...] = (), matched: bool = False) -> list[Column]:
    """The Logs columns. Narrow terminals get a shorter time and name, so the previews keep
    some room. ``active``: the scores being filtered or sorted on, each in a column of its
    own (named in full when there is room); the other scores share one column, which gives
    way to them below 100 columns. ``matched``: a full-text search is on, and where it
    matched takes the input's place."""
    own = [Column(f"score:{n}", n, partial(_score_cell, n), max(5, min(len(n), 12)),
                  narrow=((NARROW, max(5, min(len(n), 10))),)) for n in active[:2]]
    room = sum(c.width for c in own)
    skip = tuple(active[:2])
    scores = Column("scores", "scores", lambda r, w: Text(fmt_scores(r.scores, w, skip)),
                    max(10, 24 - room), narrow=((NARROW, 10), (140, max(10, 19 - room))),
                    show_from=NARROW if own else 0)
    return [
        Column("time", "time", lambda r, w: Text(fmt_time(r.created)[:w]), 14, narrow=((NARROW, 11),)),
        Column("name", "name", partial(_name_cell, shape), 18, narrow=((NARROW, 10),)),
        Column("match", "match", _match_cell) if matched else
        Column("input", "input", lambda r, w: Text(preview(r.input_preview, w + 1))),
        Column("output", "output", _output_cell),
        *own,
        scores,
        Column("duration", "dur", lambda r, w: Text(fmt_duration(r.duration), justify="right"), 5),
        Column("tokens", "tok", lambda r, w: Text(fmt_tokens(r.tokens), justify="right"), 5, show_from=110),
        Column("cost", "cost", lambda r, w: Text(fmt_cost(r.cost), justify="right"), 7, show_from=130),
        Column("tags", "tags", lambda r, w: Text(",".join(r.tags)[: w + 1]), 14, show_from=150),
        Column("error", "!", lambda r, w: Text("!", style="bold red") if (r.has_error or r.errors) else Text(""), 1),
        Column("notes", " ", _notes_cell, 1),
    ]
