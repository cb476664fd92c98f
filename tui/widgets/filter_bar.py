"""The filter bar: one line for a filter (or words to search), a caret line under it for a bad
filter, and a line listing what the word being typed can become (with counts).

``FilterBar.Applied`` is posted when enter submits text that compiles; a bad filter shows its
error with a caret under the column and the applied filter stays as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from store.errors import QueryError
from store.query.filterbar import check_filter
from store.query.hints import SAMPLE, completions, field_hints, field_values
from tui.widgets.line_input import LineInput


# `metadata.a.b = '` (or == != <> and double quotes) with the value begun
VALUE_AFTER = re.compile(r"""(?P<path>\bmetadata(?:\.[A-Za-z_][\w-]*|\."[^"]*")+)\s*(?:==|!=|<>|=)\s*"""
                         r"""(?P<quote>['"])(?P<part>[^'"]*)$""", re.IGNORECASE)


class FilterSuggester(Suggester):
    """Completes field paths, score names, metadata keys, and tag/name values after a quote.
    ``candidates`` lists every completion of what is being typed (with how often it occurs);
    the input shows the first as a suggestion (→ accepts it), the bar lists the others."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.fields: list[str] = []
        self.tags: list[str] = []
        self.names: list[str] = []
        self.counts: dict[str, int] = {}  # field path, "tag:" + tag, "name:" + name -> rows
        self.values: dict[str, Any] = {}  # metadata path -> its known values (store.query.FieldValues)
        self.wanted: Optional[str] = None  # a metadata path whose values are not read yet

    def set_completions(self, comp) -> None:
        """Take a project's completion data (``store.query.Completions``); values read
        before are read again when next wanted."""
        self.values = {}
        self.fields = sorted({f for f, _ in comp.fields}, key=lambda f: (f.count("."), f))
        self.tags = [t for t, _ in comp.tags]
        self.names = [n for n, _ in comp.span_names]
        self.counts = {**{f: n for f, n in comp.fields if n is not None},
                       **{"tag:" + t: n for t, n in comp.tags},
                       **{"name:" + t: n for t, n in comp.span_names}}

    def candidates(self, value: str, limit: int = 8) -> list[tuple[str, str, Optional[int]]]:
        """[(the whole input completed, the completed word, count)] for ``value``."""
        if not value:
            return []
        low = value.lower()
        out: list[tuple[str, str, Optional[int]]] = []
        # A value after `tags includes "` or `name = "`.
        for marker, pool, kind in (("includes ", self.tags, "tag:"), ("contains ", self.tags, "tag:"),
                                   ("name = ", self.names, "name:"), ("name == ", self.names, "name:")):
            i = low.rfind(marker)
            if i != -1:
                rest = value[i + len(marker):]
                if rest[:1] in ("'", '"') and rest.count(rest[0]) == 1:
                    part = rest[1:]
                    for w in pool:
                        if w.startswith(part) and w != part:
                            out.append((value + w[len(part):] + rest[0], w, self.counts.get(kind + w)))
                            if len(out) >= limit:
                                break
                    return out
        self.wanted = None
        m = VALUE_AFTER.search(value)
        if m:  # a value of a metadata path: what the project has
            path, quote, part = m.group("path"), m.group("quote"), m.group("part")
            known = self.values.get(path)
            if known is None:
                self.wanted = path
                return []
            for v, n in known.values:
                if v.startswith(part) and v != part and quote not in v:
                    out.append((value + v[len(part):] + quote, v, n))
                    if len(out) >= limit:
                        break
            return out
        j = max(value.rfind(c) for c in " (")
        token = value[j + 1:]
        if not token or token[0] in "'\"0123456789":
            return []
        for f in self.fields:
            if f.startswith(token) and f != token:
                out.append((value + f[len(token):], f, self.counts.get(f)))
                if len(out) >= limit:
                    break
        return out

    async def get_suggestion(self, value: str) -> Optional[str]:
        found = self.candidates(value, limit=1)
        return found[0][0] if found else None


class FilterInput(LineInput):
    """The filter line: tab (or →) takes the suggested completion; with none, tab moves on.

    Tab is handled as a key, in order with the typing, not as a binding: a binding's action
    runs after keys already queued behind it, so `scores.Fa<tab> < 0.5<enter>` typed fast
    (as over SSH) completed nothing and left the bar."""

    async def _on_key(self, event) -> None:
        if event.key == "tab" and self.cursor_at_end and isinstance(self.suggester, FilterSuggester):
            found = self.suggester.candidates(self.value, limit=1)
            if found:
                event.stop()
                event.prevent_default()
                self.value = found[0][0]
                self.cursor_position = len(self.value)
                return
        await super()._on_key(event)


class FilterBar(Vertical):
    """``#filter`` (the input), ``#filter-error`` (caret and message), ``#filter-hint``
    (completions of the word being typed)."""

    @dataclass
    class Applied(Message):
        """Enter on text that compiles: the screen runs it."""

        text: str

    @dataclass
    class HintsFound(Message):
        """Paths in the filter ``text`` that name nothing here but look like something that
        does (`scores.factuality` when there is `scores.Factuality`): notes, not errors."""

        text: str
        hints: list[str]

    @dataclass
    class ErrorChanged(Message):
        """The error under the bar appeared or went (``has_error``)."""

        shown: bool

    @dataclass
    class CompletionsLoaded(Message):
        completions: Any  # store.query.Completions

    @dataclass
    class ValuesLoaded(Message):
        values: Any  # store.query.hints.FieldValues

    def __init__(self, suggester: FilterSuggester, placeholder: str = "", id: str = "filter-box") -> None:
        super().__init__(id=id)
        self.suggester = suggester
        self.placeholder = placeholder
        self._error_text = ""  # the text the shown error is about
        self._source: Optional[tuple] = None  # (store, project) completions are read from
        self._reading: set[str] = set()  # metadata paths whose values are being read

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=self.placeholder, suggester=self.suggester, id="filter", select_on_focus=False)
        yield Static("", id="filter-error")
        yield Static("", id="filter-hint")

    def on_mount(self) -> None:
        self.query_one("#filter-error").display = False
        self.query_one("#filter-hint").display = False

    @property
    def input(self) -> FilterInput:
        return self.query_one("#filter", FilterInput)

    def set_value(self, text: str) -> None:
        """Show ``text`` (the applied filter) and no error."""
        self.input.value = text
        self.hide_error()

    @property
    def has_error(self) -> bool:
        """Is an error in the bar's (new) text on show?"""
        return bool(self.query_one("#filter-error").display)

    def hide_error(self) -> None:
        self._set_error_shown(False)

    def _set_error_shown(self, shown: bool) -> None:
        err = self.query_one("#filter-error")
        if err.display != shown:
            err.display = shown
            self.post_message(self.ErrorChanged(shown))

    def show_error(self, exc: QueryError) -> None:
        """A bad filter: the message and a caret under the column."""
        err = self.query_one("#filter-error", Static)
        self._error_text = self.input.value
        caret = " " * exc.pos + "^"
        err.update(Text(f"{caret}\n{exc.message} at column {exc.column}", style="bold red"))
        self._set_error_shown(True)

    @on(Input.Changed, "#filter")
    def _show_candidates(self, event: Input.Changed) -> None:
        """Under the bar while typing: what the word being typed can become, with counts."""
        err = self.query_one("#filter-error", Static)
        if err.display and event.value != self._error_text:
            self._set_error_shown(False)  # the caret pointed into the text that was wrong, not this one
        self._candidates(event.value, event.input.has_focus)

    def _candidates(self, value: str, focused: bool) -> None:
        hint = self.query_one("#filter-hint", Static)
        found = self.suggester.candidates(value) if focused else []
        wanted = self.suggester.wanted
        if wanted and self._source is not None and wanted not in self._reading:
            self._reading.add(wanted)
            self.load_values(*self._source, wanted)
        if not found:
            hint.display = False
            return
        parts = [f"{word} ({count:,})" if count is not None else word for _, word, count in found]
        line = Text(" tab → ", style="bold")
        line.append(" · ".join(parts), style="dim")
        m = VALUE_AFTER.search(value)
        known = self.suggester.values.get(m.group("path")) if m else None
        if known is not None and known.sampled:
            line.append(f"   (counts: the newest {SAMPLE:,} spans)", style="dim italic")
        line.no_wrap, line.overflow = True, "ellipsis"
        hint.update(line)
        hint.display = True

    @work(thread=True, group="values")
    def load_values(self, store, project: str, path: str) -> None:
        """Read the known values of a metadata path (a sample of the newest spans)."""
        try:
            found = field_values(store, project, path)
        except Exception:
            return  # completion is a convenience
        finally:
            store.release_thread()
        self.post_message(self.ValuesLoaded(found))

    def on_filter_bar_values_loaded(self, event: ValuesLoaded) -> None:
        event.stop()
        self._reading.discard(event.values.path)
        self.suggester.values[event.values.path] = event.values
        self._candidates(self.input.value, self.input.has_focus)

    @on(Input.Blurred, "#filter")
    def _hide_candidates(self) -> None:
        self.query_one("#filter-hint").display = False

    @on(Input.Submitted, "#filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#filter-hint").display = False
        try:
            check_filter(event.value)
        except QueryError as exc:
            self.show_error(exc)
            return
        self.post_message(self.Applied(event.value))

    def load_completions(self, store, project: str) -> None:
        """Read the project's field paths, tags and names (with counts) for completion; the
        values of metadata paths are read from there too, when wanted."""
        self._source = (store, project)
        self._read_completions(store, project)

    @work(thread=True, exclusive=True, group="completions")
    def _read_completions(self, store, project: str) -> None:
        worker = get_current_worker()
        try:
            comp = completions(store, project)
        except Exception:
            return  # completion is a convenience: without it the bar still filters
        finally:
            store.release_thread()
        if not worker.is_cancelled:
            self.post_message(self.CompletionsLoaded(comp))

    def on_filter_bar_completions_loaded(self, event: CompletionsLoaded) -> None:
        event.stop()
        self.suggester.set_completions(event.completions)

    @work(thread=True, exclusive=True, group="hints")
    def find_hints(self, store, project: str, flt) -> None:
        """Look for paths of the applied filter ``flt`` (``store.query.Filter``) that name
        nothing in the project but something close; ``HintsFound`` if there are any."""
        try:
            hints = field_hints(store, project, flt.node)
        except Exception:
            return
        finally:
            store.release_thread()
        if hints:
            self.post_message(self.HintsFound(flt.text, hints))
