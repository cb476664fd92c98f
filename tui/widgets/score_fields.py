"""The score fields of focused review: one widget per score configuration
(``store.review.ScoreConfig``), showing the acting reviewer's value, the other reviewers'
values with their names, and the row's value (their average).

- categorical: the options numbered ``1 friendly  2 neutral  3 rude``, the picked one(s)
  highlighted (``1``-``9`` pick; multi-select toggles);
- continuous: 0-100% with a bar (typed digits: ``80`` = 80%, ``0.8`` too; ``h``/``l`` step 10%);
- boolean: thumbs up / down (``1``/``y`` up, ``2``/``n`` down, space toggles);
- text: a one-line input (enter saves).

The widgets only show and interpret keys; the screen saves (``FocusedReviewScreen``)."""

from __future__ import annotations

from typing import Any, Optional

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input, Static

from store.review import HumanValue, ScoreConfig

BAR = 20  # cells of a continuous score's bar
STEP = 0.1  # h/l


def pct(v: Optional[float]) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def parse_typed(typed: str) -> Optional[float]:
    """A number typed on a continuous field: ``80`` is 80%, ``0.8`` (or ``.8``) is 80%,
    ``100`` is 100%. None when it is not a number in range."""
    typed = typed.strip().rstrip("%")
    if not typed:
        return None
    try:
        v = float(typed)
    except ValueError:
        return None
    if "." in typed and v <= 1:
        return v
    v = v / 100
    return v if 0 <= v <= 1 else None


def value_label(config: ScoreConfig, hv: Optional[HumanValue]) -> str:
    """One reviewer's value as the field shows it."""
    if hv is None:
        return "—"
    if config.type == "categorical":
        return ", ".join(hv.labels) or pct(hv.value)
    if config.type == "boolean":
        return "👍" if hv.value == 1 else "👎"
    if config.type == "text":
        return repr(hv.text or "")
    return pct(hv.value)


class FieldMixin:
    """What every score field has: its configuration, the values, the others line."""

    config: ScoreConfig
    mine: Optional[HumanValue]
    others: list
    row_value: Any

    def set_values(self, mine: Optional[HumanValue], others: list, row_value: Any) -> None:
        self.mine, self.others, self.row_value = mine, list(others), row_value
        self.repaint()

    def repaint(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def others_text(self) -> Text:
        t = Text()
        if self.config.type not in ("text",) and not self.config.to_expected and self.row_value is not None \
                and self.others:
            t.append(f"  avg {pct(self.row_value)}", style="dim")
        for hv in self.others:
            t.append(f"  {hv.author}: ", style="dim")
            t.append(value_label(self.config, hv), style="dim italic")
        return t


class ScoreField(FieldMixin, Static, can_focus=True):
    """A categorical, continuous or boolean score (keys are interpreted by the screen)."""

    DEFAULT_CSS = """
    ScoreField { height: auto; padding: 0 1; }
    ScoreField:focus { background: $boost; }
    """

    def __init__(self, config: ScoreConfig, **kw) -> None:
        super().__init__("", **kw)
        self.config = config
        self.mine: Optional[HumanValue] = None
        self.others: list = []
        self.row_value: Any = None
        self.typed = ""  # digits typed on a continuous field, not saved yet

    def on_focus(self) -> None:
        self.repaint(True)

    def on_blur(self) -> None:
        self.repaint(False)

    def picked(self) -> list[str]:
        return self.mine.labels if self.mine is not None else []

    def repaint(self, focused: Optional[bool] = None) -> None:
        c = self.config
        focused = self.has_focus if focused is None else focused
        t = Text(no_wrap=False)
        t.append("▶ " if focused else "  ", style="bold")
        t.append(f"{c.name:<14} ", style="bold")
        if c.type == "categorical":
            chosen = set(self.picked())
            for i, o in enumerate(c.options, 1):
                style = "bold reverse green" if o.label in chosen else ""
                t.append(f"{i}", style="bold cyan")
                t.append(f" {o.label}", style=style)
                t.append("  ")
            if c.multi:
                t.append("(several)", style="dim")
        elif c.type == "continuous":
            v = parse_typed(self.typed) if self.typed else (self.mine.value if self.mine else None)
            filled = int(round((v or 0) * BAR))
            t.append("█" * filled, style="green" if (v or 0) >= 0.5 else "red")
            t.append("░" * (BAR - filled), style="dim")
            t.append(f" {pct(v):>4}")
            if self.typed:
                t.append(f"  typing {self.typed}▏", style="bold yellow")
            elif focused:
                t.append("  type 0-100 · h/l ±10%", style="dim")
        elif c.type == "boolean":
            v = self.mine.value if self.mine else None
            t.append("1 👍 up", style="bold reverse green" if v == 1 else "")
            t.append("  ")
            t.append("2 👎 down", style="bold reverse red" if v == 0 else "")
            if focused:
                t.append("  y/n · space toggles", style="dim")
        t.append_text(self.others_text())
        self.update(t)


class TextScoreField(FieldMixin, Input):
    """A text score: a one-line input; enter saves (the screen does), escape steps out."""

    DEFAULT_CSS = """
    TextScoreField { height: 1; border: none; padding: 0 1; width: 1fr; }
    TextScoreField:focus { border: none; background: $boost; }
    """
    BINDINGS = [Binding("escape", "step_out", "Done typing", show=False, id="review.text_out")]
    HELP_GROUP = "Text score"

    def __init__(self, config: ScoreConfig, **kw) -> None:
        super().__init__(placeholder=f"{config.name}: type, enter saves", **kw)
        self.config = config
        self.mine: Optional[HumanValue] = None
        self.others: list = []
        self.row_value: Any = None
        self.label = Static("", classes="text-label")
        self.others_label = Static("", classes="text-others")

    def repaint(self, focused: Optional[bool] = None) -> None:
        text = self.mine.text if self.mine is not None else ""
        if self.value != (text or ""):
            self.value = text or ""
        lab = Text()
        lab.append(f"  {self.config.name:<14} ", style="bold")
        self.label.update(lab)
        self.tooltip = None
        others = self.others_text()
        self.others_label.update(others)
        self.others_label.display = bool(others.plain.strip())

    def action_step_out(self) -> None:
        self.value = (self.mine.text if self.mine is not None else "") or ""
        self.screen.focus_next()


__all__ = ["ScoreField", "TextScoreField", "parse_typed", "pct", "value_label", "STEP"]
