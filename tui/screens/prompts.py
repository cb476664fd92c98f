"""The Prompts & models screen (`M`): the project's versioned prompts, the latest version of the
current one in a detail pane (messages with their ``{{variables}}`` highlighted, model, params,
response format); a new prompt, an edit (a new version), the history, a render preview, open
in the playground, copy as JSON. `tab` goes to the Models list (tui/screens/models.py).

The prompt editor (``PromptEditorScreen``) holds the messages as editable blocks (a role and a
template each: add, remove, reorder, change the role), the model, the params (``K=V`` or JSON)
and the response format (none, json_object, a JSON schema). A save is a new version
(``store.prompts.save_prompt``); a save equal to the latest makes none. An invalid field is
refused with one line naming it, and what was typed stays.

Every read and write of the store runs in a worker thread and reports with a typed message."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

import orjson
from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Header, Label, Select, Static, TextArea

from engine.prompts import MissingVariable, render_template
from store.audit import default_author
from store.model_configs import OFFLINE_NAME, list_models
from store.prompts import PromptError, PromptVersion, check_messages, get_prompt, list_prompts, save_prompt
from tui.actions import edit_json, json_error, write_in_thread
from tui.clipboard import copy_text
from tui.format import ago, ways_hint
from tui.messages import WriteDone
from tui.registry import BtScreen, Command, register_screen
from tui.screens.dialogs import TextEditScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.line_input import LineInput
from tui.widgets.paged_table import NARROW, Column, ListSource, PagedTable
from tui.widgets.transcript import ROLE_STYLE, json_syntax, render_transcript

EDIT_ROLES = ("system", "user", "assistant")  # what ctrl+r cycles through (a stored "tool" message is kept)
NEW_PROMPT = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "{{input}}"}]
FORMATS = (("none", "none"), ("json_object", "json_object"), ("JSON schema", "json_schema"))


# --- templates ------------------------------------------------------------------------------------

TAG = re.compile(r"\{\{\{.*?\}\}\}|\{\{.*?\}\}", re.S)
VAR_STYLE = "bold magenta"
SECTION_STYLE = "bold blue"
COMMENT_STYLE = "dim italic"


def _tag_inner(tag: str) -> str:
    return tag[3:-3].strip() if tag.startswith("{{{") else tag[2:-2].strip()


def template_variables(template: str) -> list[str]:
    """The top-level variable names a mustache template uses, in order: ``{{a.b}}`` gives
    ``a``, a section ``{{#items}}`` gives ``items`` (names inside a section belong to it and are
    left out); comments, partials and the implicit ``{{.}}`` give none. A delimiter change
    ends the scan (the rest is in other delimiters)."""
    names: list[str] = []
    depth = 0

    def add(name: str) -> None:
        top = name.split(".")[0].strip()
        if top and top not in names:
            names.append(top)

    for m in TAG.finditer(template):
        inner = _tag_inner(m.group(0))
        if not inner:
            continue
        sigil = inner[0]
        if sigil in "!>":
            continue
        if sigil == "=":
            break
        if sigil in "#^":
            if depth == 0:
                add(inner[1:])
            depth += 1
            continue
        if sigil == "/":
            depth = max(0, depth - 1)
            continue
        if sigil == "&":
            inner = inner[1:].strip()
        if inner != "." and depth == 0:
            add(inner)
    return names


def prompt_variables(pv: PromptVersion) -> list[str]:
    names: list[str] = []
    for m in pv.messages:
        for n in template_variables(m.get("content") or ""):
            if n not in names:
                names.append(n)
    return names


def highlight_template(template: str) -> Text:
    """The template with its tags highlighted: variables, sections, comments."""
    out = Text()
    pos = 0
    for m in TAG.finditer(template):
        out.append(template[pos:m.start()])
        inner = _tag_inner(m.group(0))
        sigil = inner[:1]
        style = COMMENT_STYLE if sigil == "!" else SECTION_STYLE if sigil in ("#", "^", "/") else VAR_STYLE
        out.append(m.group(0), style=style)
        pos = m.end()
    out.append(template[pos:])
    return out


def template_error(template: str) -> Optional[str]:
    """Why a template does not render (an unclosed section, a bad tag), or None."""
    try:
        render_template(template, {})
    except Exception as exc:  # chevron's errors: ChevronError, ...
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


# --- params and response formats ------------------------------------------------------------------

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*")
_SEP = " ,\t\n"


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _bare_value(raw: str) -> Any:
    """A value typed without quotes: a JSON number, true, false or null, else the text."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        return raw


def parse_params(text: str) -> dict:
    """Params typed as ``K=V K=V`` (commas or blanks between them; a value is JSON when it
    parses as JSON, else text: ``temperature=0.2 stop=["\\n"] user=bob``) or as one JSON
    object. Raises ``ValueError`` saying what is wrong and where."""
    s = text.strip()
    if not s:
        return {}
    if s.startswith("{"):
        try:
            value = json.loads(s, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg.lower()} at column {exc.colno}") from None
        except ValueError as exc:
            raise ValueError(f"{exc} is not a JSON number") from None
        if not isinstance(value, dict):
            raise ValueError("a JSON object {\"name\": value}, or name=value pairs")
        return value
    out: dict = {}
    dec = json.JSONDecoder(parse_constant=_no_constant)
    pos = 0
    while True:
        while pos < len(s) and s[pos] in _SEP:
            pos += 1
        if pos >= len(s):
            return out
        m = _KEY.match(s, pos)
        if m is None:
            raise ValueError(f"expected name=value at column {pos + 1} (e.g. temperature=0.2 max_tokens=200)")
        key, pos = m.group(1), m.end()
        if pos >= len(s) or s[pos] in _SEP:
            raise ValueError(f"{key}= needs a value (column {pos + 1})")
        if s[pos] in "\"[{":
            try:
                value, pos = dec.raw_decode(s, pos)
            except (json.JSONDecodeError, ValueError) as exc:
                where = f" at column {exc.pos + 1}" if isinstance(exc, json.JSONDecodeError) else ""
                raise ValueError(f"{key}: the value is not valid JSON{where}") from None
            if pos < len(s) and s[pos] not in _SEP:
                raise ValueError(f"{key}: unexpected {s[pos]!r} after the value (column {pos + 1})")
        else:
            end = pos
            while end < len(s) and s[end] not in _SEP:
                end += 1
            value, pos = _bare_value(s[pos:end]), end
        if key in out:
            raise ValueError(f"{key} is given twice")
        out[key] = value


def format_params(params: Optional[dict]) -> str:
    """Params as ``K=V`` text that ``parse_params`` reads back the same (JSON when a key
    cannot be written that way)."""
    if not params:
        return ""
    if any(not _KEY.fullmatch(f"{k}=") for k in params):
        return json.dumps(params, ensure_ascii=False)
    parts = []
    for k, v in params.items():
        if isinstance(v, str) and v and not any(c in v for c in _SEP + "\"[{") and _bare_value(v) == v:
            parts.append(f"{k}={v}")
        else:
            parts.append(f"{k}={json.dumps(v, ensure_ascii=False, separators=(',', ':'))}")
    return " ".join(parts)


def format_kind(response_format: Optional[dict]) -> tuple[str, str]:
    """(the editor's format choice, the schema text) of a stored response format."""
    if response_format is None:
        return "none", ""
    if response_format == {"type": "json_object"}:
        return "json_object", ""
    schema = response_format.get("json_schema")
    if response_format.get("type") == "json_schema" and isinstance(schema, dict):
        return "json_schema", json.dumps(schema, indent=2, ensure_ascii=False)
    return "json_schema", json.dumps(response_format, indent=2, ensure_ascii=False)  # kept as it is


def response_format_from(kind: str, text: str) -> Optional[dict]:
    """The response format the editor's choice means: ``none``; ``json_object``; or a JSON
    schema (bare, ``{"name", "schema"}``, or a whole response format). ``ValueError`` when the
    schema text is not one JSON object."""
    if kind == "none":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    found = json_error(text)
    if found is not None:
        raise ValueError(found[0])
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a JSON schema is one object, e.g. {\"type\": \"object\", \"properties\": {...}}")
    if value.get("type") in ("json_schema", "json_object", "text"):
        return value
    if isinstance(value.get("schema"), dict):
        return {"type": "json_schema", "json_schema": {"name": "response", **value}}
    return {"type": "json_schema", "json_schema": {"name": "response", "schema": value}}


def format_label(response_format: Optional[dict]) -> str:
    kind, _ = format_kind(response_format)
    if kind == "json_schema":
        name = ((response_format or {}).get("json_schema") or {}).get("name")
        return f"JSON schema{f' {name!r}' if name else ''}"
    return kind


# --- rendering a prompt ----------------------------------------------------------------------------

def messages_text(messages: list[dict]) -> Group:
    """``▌ role`` headers and each template, its tags highlighted."""
    parts: list[Any] = []
    for i, m in enumerate(messages, 1):
        role = str(m.get("role", "?"))
        head = Text(f"▌ {role}", style=f"bold {ROLE_STYLE.get(role, 'white')}")
        head.append(f"  message {i}", style="dim")
        parts.append(head)
        parts.append(highlight_template(str(m.get("content") or "")))
        parts.append(Text(""))
    return Group(*parts)


def version_detail(pv: PromptVersion, versions: Optional[int] = None) -> Group:
    """A prompt version as the detail panes show it."""
    head = Text()
    head.append(pv.slug, style="bold")
    head.append(f"  v{pv.version}" + (f" of {versions}" if versions else ""), style="bold cyan")
    head.append(f" · saved {ago(pv.created)} by {pv.author or '?'}", style="dim")
    if pv.description:
        head.append(f"\n{pv.description}", style="italic")
    facts = Text()
    facts.append("model ", style="dim")
    facts.append(pv.model or "(none: the playground's choice, else offline)", style="bold" if pv.model else "dim")
    facts.append("   params ", style="dim")
    facts.append(format_params(pv.params) or "none", style="" if pv.params else "dim")
    facts.append("   response format ", style="dim")
    facts.append(format_label(pv.response_format), style="" if pv.response_format else "dim")
    names = prompt_variables(pv)
    vars_line = Text("variables ", style="dim")
    if names:
        for i, n in enumerate(names):
            vars_line.append(", " if i else "")
            vars_line.append("{{" + n + "}}", style=VAR_STYLE)
    else:
        vars_line.append("none", style="dim")
    parts: list[Any] = [head, facts, vars_line, Text("")]
    parts.append(messages_text(pv.messages))
    kind, schema = format_kind(pv.response_format)
    if kind == "json_schema":
        parts += [Text("response format", style="bold underline"), json_syntax(pv.response_format)]
    return Group(*parts)


# --- the prompts list -------------------------------------------------------------------------------

def prompt_columns() -> list[Column]:
    return [
        Column("slug", "slug", lambda p, w: Text(p.slug, style="bold")),
        Column("version", "latest", lambda p, w: Text(f"v{p.latest.version}", justify="right"), 6),
        Column("versions", "versions", lambda p, w: Text(f"{p.versions:,}", justify="right"), 8),
        Column("model", "model", lambda p, w: Text(p.latest.model or "—", style="" if p.latest.model else "dim"), 16,
               narrow=((NARROW, 12),)),
        Column("updated", "updated", lambda p, w: Text(ago(p.latest.created)), 9),
        Column("author", "author", lambda p, w: Text(p.latest.author or "", style="dim"), 12, show_from=90),
        Column("description", "description", lambda p, w: Text(p.latest.description or "", style="dim"),
               show_from=130),
    ]


def tabs_line(current: str) -> Text:
    """``Prompts │ Models`` with the current one marked, and the key that switches."""
    t = Text()
    for name in ("Prompts", "Models"):
        if t:
            t.append(" │ ", style="dim")
        t.append(f" {name} ", style="bold reverse" if name == current else "dim")
    t.append("   tab switches", style="dim")
    return t


def empty_prompts(project: str) -> Text:
    return ways_hint(f"No prompts in project {project!r} yet.", "Make one:", (
        ("here: messages (mustache templates), a model, params", "n"),
        ("from the command line", "bt-tui prompt save SLUG --message 'system:You are…' --message 'user:{{input}}'"),
    ), "tab lists the models. ? lists every key.")


class PromptsTable(PagedTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="prompts.down"),
        Binding("k", "cursor_up", "Up", show=False, id="prompts.up"),
    ]


class PromptsScreen(BtScreen):
    """The project's prompts by slug, each with its latest version; the detail pane shows it."""

    BINDINGS = [
        Binding("e", "edit", "Edit", id="prompts.edit"),
        Binding("enter", "edit", "Edit", show=False, id="prompts.open"),
        Binding("n", "new", "New", id="prompts.new"),
        Binding("h", "history", "History", id="prompts.history"),
        Binding("R", "render", "Render", id="prompts.render"),
        Binding("p", "playground", "Playground", id="prompts.playground"),
        Binding("y", "copy", "Copy JSON", show=False, id="prompts.copy"),
        Binding("E", "edit_json", "Edit as JSON", show=False, id="prompts.edit_json"),
        Binding("tab", "models", "Models", id="prompts.models"),
        Binding("r", "refresh", "Refresh", show=False, id="prompts.refresh"),
        Binding("g,home", "top", "First row", show=False, id="prompts.top"),
        Binding("G,end", "bottom", "Last row", show=False, id="prompts.bottom"),
        Binding("escape", "back", "Back to Logs", show=False, id="prompts.back"),
    ]
    DEFAULT_CSS = """
    PromptsScreen #p-tabs { height: 1; padding: 0 1; }
    PromptsScreen #p-status { height: 1; padding: 0 1; }
    PromptsScreen #p-table { height: 1fr; min-height: 4; }
    PromptsScreen #p-detail { height: 2fr; border-top: solid $primary-darken-2; padding: 0 1; }
    PromptsScreen #p-empty { height: 1fr; padding: 1 2; display: none; }
    """
    HELP = ("Prompts: versioned chat templates (mustache: {{variable}}, {{#section}}…{{/section}}). e (or enter)"
            " edits the prompt as a new version, n makes a new one, h lists its versions (diff, restore),"
            " R renders it with variables you give, p opens it in the playground, y copies it as JSON."
            " tab switches to the models.")

    def __init__(self) -> None:
        super().__init__()
        self._keep: Optional[str] = None
        self.last_vars: dict[str, str] = {}  # slug -> the variables JSON last rendered with

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tabs_line("Prompts"), id="p-tabs")
        yield Static("", id="p-status")
        yield Static("", id="p-empty")
        yield PromptsTable(prompt_columns(), id="p-table")
        with VerticalScroll(id="p-detail"):
            yield Static("", id="p-detail-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#p-detail", VerticalScroll).can_focus = False
        self.table.focus()
        self.reload()

    @property
    def project(self) -> str:
        return self.app.project

    @property
    def table(self) -> PromptsTable:
        return self.query_one(PromptsTable)

    def current(self):
        """The current row (``store.prompts.PromptInfo``) or None."""
        return self.table.current_row()

    def reload(self, keep: Optional[str] = None) -> None:
        store = self.store
        self.table.set_source(ListSource(lambda: list_prompts(store, self.project), lambda p: p.slug,
                                         store.release_thread), keep)

    def on_paged_table_page_loaded(self, event: PagedTable.PageLoaded) -> None:
        if event.mode not in ("replace", "last"):
            return
        empty = not event.page.rows
        box = self.query_one("#p-empty", Static)
        if empty:
            box.update(empty_prompts(self.project))
        box.display = empty
        self.table.display = not empty
        self.query_one("#p-detail").display = not empty
        self._update_status()
        self._show_detail()

    def on_paged_table_counted(self, event: PagedTable.Counted) -> None:
        self._update_status()

    def on_paged_table_page_failed(self, event: PagedTable.PageFailed) -> None:
        self.notify(f"could not read the prompts: {event.error}", severity="error")

    def on_paged_table_row_highlighted(self, event: PagedTable.RowHighlighted) -> None:
        self._show_detail()

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def _update_status(self) -> None:
        n = self.table.total
        what = "counting…" if n is None else f"{n:,} prompt{'s' if n != 1 else ''}"
        self.query_one("#p-status", Static).update(
            Text(f"Prompts of project {self.project!r} · {what} · by slug", style="dim"))

    def _show_detail(self) -> None:
        row = self.current()
        text = self.query_one("#p-detail-text", Static)
        text.update(version_detail(row.latest, row.versions) if row is not None else Text(""))
        self.query_one("#p-detail", VerticalScroll).scroll_home(animate=False)

    # -- moving, going elsewhere
    def action_top(self) -> None:
        self.table.action_first()

    def action_bottom(self) -> None:
        self.table.action_last()

    def action_refresh(self) -> None:
        self.reload(self.table.cursor_id())

    def action_back(self) -> None:
        self.app.switch_to("logs")

    def action_models(self) -> None:
        self.app.switch_to("models")

    def on_screen_resume(self) -> None:
        """Back from the history (a restore) or the editor: the prompts as they are now."""
        if getattr(self, "_resumed", False):
            self.reload(self._keep or self.table.cursor_id())
            self._keep = None
        self._resumed = True

    def after_write(self, event: WriteDone) -> None:
        if event.changed:
            self.reload(self._keep or self.table.cursor_id())
            self._keep = None

    # -- editing
    def action_new(self) -> None:
        self.app.push_screen(PromptEditorScreen(self.project, None), self._edited)

    def action_edit(self) -> None:
        row = self.current()
        if row is not None:
            self.app.push_screen(PromptEditorScreen(self.project, row.latest), self._edited)

    def _edited(self, result: Optional["Saved"]) -> None:
        if result is None:
            return
        self._keep = result.version.slug
        self.notify(result.message)
        self.reload(result.version.slug)

    def action_edit_json(self) -> None:
        """The latest version as one JSON object ({messages, model, params, response_format}),
        in $EDITOR when set (else a dialog); saved as a new version."""
        row = self.current()
        if row is None:
            return
        pv: PromptVersion = row.latest
        text = orjson.dumps(pv.content(), option=orjson.OPT_INDENT_2).decode() + "\n"

        def save(new_text: str) -> None:
            content = json.loads(new_text)
            self._keep = pv.slug
            write_in_thread(self, "{result}", _save_content, self.project, pv.slug, pv.version, content,
                            failed="not saved")

        edit_json(self, f"Prompt {pv.ref} (saved as a new version)", text, save, validate=content_error,
                  what=f"prompt-{pv.slug}", hint="JSON {messages, model, params, response_format} · ctrl+s saves"
                                                 " a new version · escape cancels")

    def action_history(self) -> None:
        row = self.current()
        if row is None:
            return
        from tui.screens.prompt_history import PromptHistoryScreen

        self.app.push_screen(PromptHistoryScreen(self.project, row.slug))

    # -- render, copy, playground
    def action_render(self) -> None:
        row = self.current()
        if row is None:
            return
        pv: PromptVersion = row.latest
        text = self.last_vars.get(pv.slug) or (json.dumps({n: "" for n in prompt_variables(pv)}, indent=2,
                                                          ensure_ascii=False) + "\n")

        def done(new_text: Optional[str]) -> None:
            if new_text is None:
                return
            self.last_vars[pv.slug] = new_text
            self.app.push_screen(RenderPreviewScreen(pv, json.loads(new_text)))

        self.app.push_screen(TextEditScreen(f"Variables to render {pv.ref} with (a JSON object)", text,
                                            validate=variables_error,
                                            hint="JSON {\"name\": value} · ctrl+s renders · escape cancels"), done)

    def action_copy(self) -> None:
        row = self.current()
        if row is not None:
            copy_text(self, orjson.dumps(row.latest.to_json(), option=orjson.OPT_INDENT_2).decode(),
                      f"prompt {row.latest.ref} as JSON")

    def action_playground(self) -> None:
        row = self.current()
        if row is not None:
            from tui.screens.open_in_playground import open_prompt_in_playground

            open_prompt_in_playground(self, row.latest)

    def palette_commands(self) -> list[Command]:
        cmds = [
            Command("New prompt", self.action_new, "messages, model, params, response format"),
            Command("Edit the current prompt", self.action_edit, "saved as a new version"),
            Command("Edit the current prompt as JSON", self.action_edit_json, "$EDITOR when set"),
            Command("Versions of the current prompt", self.action_history, "diff, restore"),
            Command("Render the current prompt", self.action_render, "with variables you give"),
            Command("Copy the current prompt as JSON", self.action_copy, "to the clipboard"),
            Command("Open the current prompt in the playground", self.action_playground, "over a dataset"),
            Command("Models", self.action_models, "the model configurations; tab"),
        ]
        return cmds


def variables_error(text: str) -> Optional[tuple[str, int, int]]:
    found = json_error(text)
    if found is not None:
        return found
    if not isinstance(json.loads(text), dict):
        return "the variables are one JSON object: {\"name\": value}", 1, 1
    return None


def content_error(text: str) -> Optional[tuple[str, int, int]]:
    """Why a prompt's JSON text cannot be saved (with its line and column), or None."""
    found = json_error(text)
    if found is not None:
        return found
    value = json.loads(text)
    if not isinstance(value, dict):
        return "a prompt is one JSON object: {\"messages\": [...], \"model\": ..., \"params\": {}}", 1, 1
    allowed = ("messages", "model", "params", "response_format")
    for key in value:
        if key not in allowed:
            return f"unknown key {key!r} (a prompt has {', '.join(allowed)})", 1, 1
    try:
        messages = check_messages(value.get("messages"))
    except PromptError as exc:
        return str(exc), 1, 1
    for i, m in enumerate(messages, 1):
        err = template_error(m["content"])
        if err:
            return f"message {i} ({m['role']}): the template does not parse: {err}", 1, 1
    if value.get("model") is not None and not isinstance(value.get("model"), str):
        return "model is a model configuration's name (text) or null", 1, 1
    if not isinstance(value.get("params", {}), dict):
        return "params is an object {\"name\": value}", 1, 1
    rf = value.get("response_format")
    if rf is not None and not isinstance(rf, dict):
        return "response_format is an object (e.g. {\"type\": \"json_object\"}) or null", 1, 1
    return None


def _save_content(store, project: str, slug: str, based_on: int, content: dict) -> str:
    pv, made = save_prompt(store, project, slug, content.get("messages"), model=content.get("model"),
                           params=content.get("params") or {}, response_format=content.get("response_format"),
                           author=default_author())
    return saved_message(pv, made, based_on)


def saved_message(pv: PromptVersion, made: bool, based_on: Optional[int]) -> str:
    if not made:
        return f"no change: still v{pv.version} of {pv.slug}"
    said = f"saved {pv.slug} v{pv.version}"
    if based_on is not None and pv.version > based_on + 1:
        said += f" (edited from v{based_on}; v{based_on + 1}..v{pv.version - 1} were saved meanwhile: h lists them)"
    return said


# --- render preview ------------------------------------------------------------------------------

class RenderPreviewScreen(ModalScreen[None]):
    """A prompt version rendered with variables: strict first (a missing variable is named),
    then as the playground would render it (missing variables empty)."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="render.close"),
        Binding("q", "close", "Close", show=False, id="render.close2"),
    ]
    DEFAULT_CSS = """
    RenderPreviewScreen { align: center middle; }
    RenderPreviewScreen .dialog { height: 80%; }
    RenderPreviewScreen #render-body { height: 1fr; }
    """

    def __init__(self, pv: PromptVersion, variables: dict) -> None:
        super().__init__()
        self.pv = pv
        self.variables = variables
        self.missing: Optional[str] = None
        self.error: Optional[str] = None
        self.messages: list[dict] = []

    def render_messages(self) -> None:
        from engine.runs import render_messages

        try:
            self.messages = render_messages(self.pv, self.variables, strict=True)
            return
        except MissingVariable as exc:
            self.missing = exc.name
        except Exception as exc:
            self.error = " ".join(str(exc).split())
            return
        self.messages = render_messages(self.pv, self.variables, strict=False)

    def compose(self) -> ComposeResult:
        self.render_messages()
        with Vertical(classes="dialog"):
            yield Label(f"{self.pv.ref} rendered", classes="dialog-title")
            status = Text()
            if self.error:
                status.append(f"the template does not render: {self.error}", style="bold red")
            elif self.missing:
                status.append(f"missing variable: {{{{{self.missing}}}}} (strict mode stops there)", style="bold red")
                status.append("\nbelow, as the playground renders it (missing variables are empty)", style="dim")
            else:
                status.append(f"strict: every variable given · {len(self.messages)} message"
                              f"{'s' if len(self.messages) != 1 else ''}", style="green")
            yield Static(status, id="render-status")
            with VerticalScroll(id="render-body"):
                yield Static(render_transcript(self.messages) if self.messages else Text(""), id="render-text")
            yield Static("escape closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)


# --- the editor ------------------------------------------------------------------------------------

class FieldSelect(Select):
    """A Select that keeps printable keys for itself: with it focused, `q` or `L` (the app's
    quit and go-to keys) never leave the editor and its unsaved text behind."""

    def check_consume_key(self, key: str, character: Optional[str]) -> bool:
        return character is not None and character.isprintable()


class MessageBlock(Vertical):
    """One message of the editor: its role (a header line) and its template."""

    DEFAULT_CSS = """
    MessageBlock { height: auto; margin: 0 0 1 0; }
    MessageBlock > .mb-head { height: 1; }
    MessageBlock > TextArea { height: auto; min-height: 2; max-height: 14; }
    MessageBlock:focus-within > .mb-head { background: $boost; }
    """

    def __init__(self, role: str, content: str) -> None:
        super().__init__()
        self.role = role
        self.content = content

    def compose(self) -> ComposeResult:
        yield Static("", classes="mb-head")
        yield TextArea(self.content, soft_wrap=True, classes="mb-text", compact=True)

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    @property
    def text(self) -> str:
        return self.area.text

    def label(self, index: int, count: int) -> None:
        head = Text(f"▌ {self.role}", style=f"bold {ROLE_STYLE.get(self.role, 'white')}")
        head.append(f"  message {index} of {count}", style="dim")
        self.query_one(".mb-head", Static).update(head)


@dataclass
class Saved:
    """What the editor saved (or found unchanged)."""

    version: PromptVersion
    made: bool
    message: str


class PromptEditorScreen(BtScreen):
    """Edit a prompt (a new version when saved) or make a new one (``version`` None)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="prompt_edit.save"),
        Binding("escape", "cancel", "Cancel", id="prompt_edit.cancel"),
        Binding("ctrl+n", "add_message", "Add message", id="prompt_edit.add"),
        Binding("ctrl+r", "cycle_role", "Role", id="prompt_edit.role"),
        Binding("ctrl+g", "remove_message", "Remove message", id="prompt_edit.remove"),
        Binding("ctrl+up,alt+up", "move_message(-1)", "Move up", show=False, id="prompt_edit.move_up"),
        Binding("ctrl+down,alt+down", "move_message(1)", "Move down", show=False, id="prompt_edit.move_down"),
    ]
    DEFAULT_CSS = """
    PromptEditorScreen #pe-title { height: auto; padding: 0 1; }
    PromptEditorScreen .pe-row { height: auto; padding: 0 1; }
    PromptEditorScreen .pe-label { padding: 0 1 0 0; width: auto; }
    PromptEditorScreen #pe-slug { width: 1fr; }
    PromptEditorScreen #pe-model { width: 1fr; max-width: 40; }
    PromptEditorScreen #pe-format { width: 24; }
    PromptEditorScreen #pe-params { width: 1fr; }
    PromptEditorScreen #pe-schema { height: 8; margin: 0 1; }
    PromptEditorScreen #pe-messages { height: 1fr; padding: 0 1; }
    PromptEditorScreen #pe-error { height: auto; padding: 0 1; }
    PromptEditorScreen #pe-hint { height: auto; padding: 0 1; }
    """
    HELP = ("Prompt editor: each message is a role and a mustache template ({{variable}}). tab moves between the"
            " fields; ctrl+n adds a message below the current one, ctrl+g removes it, ctrl+r changes its role,"
            " ctrl+↑/↓ (or alt+↑/↓) moves it. ctrl+s saves a new version (nothing changed: none); escape"
            " cancels (twice after an edit).")

    @dataclass
    class ModelsRead(Message):
        names: list

    @dataclass
    class SaveFailed(Message):
        message: str

    @dataclass
    class SaveDone(Message):
        saved: Saved

    def __init__(self, project: str, version: Optional[PromptVersion]) -> None:
        super().__init__()
        self.project = project
        self.version = version  # what is edited (None: a new prompt)
        src = version
        self.initial_messages = [dict(m) for m in (src.messages if src else NEW_PROMPT)]
        self.initial_model = src.model if src else OFFLINE_NAME
        self.initial_params = format_params(src.params if src else {})
        self.initial_kind, self.initial_schema = format_kind(src.response_format if src else None)
        self._leaving = False
        self._saving = False

    # -- building
    def _model_options(self, names: list[str]) -> list[tuple[str, str]]:
        opts = [("(none)", "")] + [(n + (" (no key, no network)" if n == OFFLINE_NAME else ""), n) for n in names]
        if self.initial_model and self.initial_model not in names:
            opts.append((f"{self.initial_model}  (not configured)", self.initial_model))
        return opts

    def compose(self) -> ComposeResult:
        yield Header()
        title = Text()
        if self.version is None:
            title.append("New prompt", style="bold")
            title.append(" · its first version", style="dim")
        else:
            title.append(f"Edit {self.version.slug}", style="bold")
            title.append(f" · from v{self.version.version}; ctrl+s saves it as a new version", style="dim")
        yield Static(title, id="pe-title")
        if self.version is None:
            with Horizontal(classes="pe-row"):
                yield Label("slug", classes="pe-label")
                yield LineInput(placeholder="e.g. support-bot (letters, digits, - _ .)", id="pe-slug", compact=True)
        with Horizontal(classes="pe-row"):
            yield Label("model", classes="pe-label")
            yield FieldSelect(self._model_options([OFFLINE_NAME]), allow_blank=False,
                              value=self.initial_model or "", id="pe-model", compact=True)
            yield Label("format", classes="pe-label")
            yield FieldSelect(FORMATS, allow_blank=False, value=self.initial_kind, id="pe-format", compact=True)
        with Horizontal(classes="pe-row"):
            yield Label("params", classes="pe-label")
            yield LineInput(self.initial_params, placeholder="temperature=0.2 max_tokens=200  (or JSON)",
                            id="pe-params", compact=True)
        yield TextArea(self.initial_schema or "{\n  \"type\": \"object\",\n  \"properties\": {}\n}\n",
                       id="pe-schema", soft_wrap=True, compact=True)
        with VerticalScroll(id="pe-messages"):
            for m in self.initial_messages:
                yield MessageBlock(m["role"], m["content"])
        yield Static("", id="pe-error")
        yield Static(Text("tab next field · ctrl+n add a message · ctrl+g remove it · ctrl+r its role ·"
                          " ctrl+↑/↓ move it · ctrl+s save · escape cancel", style="dim"), id="pe-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#pe-schema").display = self.initial_kind == "json_schema"
        self.query_one("#pe-error").display = False
        self._relabel()
        self._initial_content = self._content_or_none()
        if self.version is None:
            self.query_one("#pe-slug").focus()
        elif self.blocks:
            self.blocks[-1].area.focus()
        self._read_models()

    @work(thread=True, exclusive=True, group="models")
    def _read_models(self) -> None:
        store = self.store
        try:
            names = [m.name for m in list_models(store)]
        except Exception:
            names = [OFFLINE_NAME]
        finally:
            store.release_thread()
        self.post_message(self.ModelsRead(names))

    def on_prompt_editor_screen_models_read(self, event: ModelsRead) -> None:
        sel = self.query_one("#pe-model", Select)
        value = sel.value
        sel.set_options(self._model_options(event.names))
        sel.value = value

    # -- the messages
    @property
    def blocks(self) -> list[MessageBlock]:
        return list(self.query(MessageBlock))

    def _relabel(self) -> None:
        blocks = self.blocks
        for i, b in enumerate(blocks, 1):
            b.label(i, len(blocks))

    def current_block(self) -> Optional[MessageBlock]:
        node = self.focused
        while node is not None and not isinstance(node, MessageBlock):
            node = node.parent
        return node

    async def action_add_message(self) -> None:
        cur = self.current_block()
        blocks = self.blocks
        role = "user"
        if cur is not None:
            role = "assistant" if cur.role == "user" else "user"
        elif blocks:
            role = "assistant" if blocks[-1].role == "user" else "user"
        block = MessageBlock(role, "")
        box = self.query_one("#pe-messages", VerticalScroll)
        if cur is not None:
            await box.mount(block, after=cur)
        else:
            await box.mount(block)
        self._relabel()
        block.area.focus()
        self.call_after_refresh(block.scroll_visible, animate=False)

    def action_cycle_role(self) -> None:
        cur = self.current_block()
        if cur is None:
            self.notify("move into a message first (tab), then ctrl+r changes its role", severity="warning")
            return
        roles = EDIT_ROLES if cur.role in EDIT_ROLES else (cur.role,) + EDIT_ROLES
        cur.role = roles[(roles.index(cur.role) + 1) % len(roles)]
        self._relabel()

    async def action_remove_message(self) -> None:
        cur = self.current_block()
        if cur is None:
            self.notify("move into the message to remove first (tab)", severity="warning")
            return
        blocks = self.blocks
        idx = blocks.index(cur)
        nxt = blocks[idx + 1] if idx + 1 < len(blocks) else (blocks[idx - 1] if idx > 0 else None)
        had_text = bool(cur.text.strip())
        if nxt is not None:
            nxt.area.focus()
        await cur.remove()  # gone from the DOM before the others are numbered again
        self._relabel()
        if had_text:
            self.notify(f"message {idx + 1} removed (escape twice throws the whole edit away)")

    def action_move_message(self, step: int) -> None:
        cur = self.current_block()
        if cur is None:
            return
        blocks = self.blocks
        idx = blocks.index(cur)
        to = idx + step
        if not (0 <= to < len(blocks)):
            return
        box = self.query_one("#pe-messages", VerticalScroll)
        if step < 0:
            box.move_child(cur, before=blocks[to])
        else:
            box.move_child(cur, after=blocks[to])
        self._relabel()
        cur.area.focus()
        self.call_after_refresh(cur.scroll_visible, animate=False)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "pe-format":
            self.query_one("#pe-schema").display = event.value == "json_schema"

    # -- saving
    def _say(self, text: str) -> None:
        err = self.query_one("#pe-error", Static)
        err.update(Text(text, style="bold red"))
        err.display = True

    def collect(self) -> tuple[Optional[dict], Optional[tuple[str, Any]]]:
        """(the content typed, None) or (None, (what is wrong, the widget holding it))."""
        blocks = self.blocks
        if not blocks:
            return None, ("a prompt needs at least one message: ctrl+n adds one", None)
        messages = []
        for i, b in enumerate(blocks, 1):
            text = b.text
            if not text.strip():
                return None, (f"message {i} ({b.role}): the template is empty (type one, or ctrl+g removes it)",
                              b.area)
            err = template_error(text)
            if err:
                return None, (f"message {i} ({b.role}): the template does not parse: {err}", b.area)
            messages.append({"role": b.role, "content": text})
        params_input = self.query_one("#pe-params", LineInput)
        try:
            params = parse_params(params_input.value)
        except ValueError as exc:
            return None, (f"params: {exc}", params_input)
        kind = self.query_one("#pe-format", Select).value
        schema = self.query_one("#pe-schema", TextArea)
        try:
            rf = response_format_from(str(kind), schema.text)
        except ValueError as exc:
            return None, (f"response format: {exc}", schema)
        model = self.query_one("#pe-model", Select).value
        return {"messages": messages, "model": (model or None) if isinstance(model, str) else None,
                "params": params, "response_format": rf}, None

    def _content_or_none(self) -> Optional[dict]:
        content, _ = self.collect()
        return content

    def slug(self) -> str:
        if self.version is not None:
            return self.version.slug
        return self.query_one("#pe-slug", LineInput).value.strip()

    def action_save(self) -> None:
        if self._saving:
            return
        content, problem = self.collect()
        if problem is not None:
            message, widget = problem
            self._say(message)
            if widget is not None:
                widget.focus()
            return
        slug = self.slug()
        if not slug:
            self._say("slug: name the prompt first (letters, digits, - _ .)")
            self.query_one("#pe-slug").focus()
            return
        self._saving = True
        self._write(slug, content)

    @work(thread=True, exclusive=True, group="save")
    def _write(self, slug: str, content: dict) -> None:
        store = self.store
        try:
            if self.version is None:
                try:
                    existing = get_prompt(store, self.project, slug)
                except Exception:
                    existing = None
                if existing is not None:
                    raise PromptError(f"a prompt named {slug!r} exists (v{existing.version}): pick another slug,"
                                      " or edit that one (e on the list)")
            pv, made = save_prompt(store, self.project, slug, content["messages"], model=content["model"],
                                   params=content["params"], response_format=content["response_format"],
                                   author=default_author())
        except Exception as exc:
            self.post_message(self.SaveFailed(f"not saved: {exc}"))
            return
        finally:
            store.release_thread()
        based = self.version.version if self.version is not None else None
        self.post_message(self.SaveDone(Saved(pv, made, saved_message(pv, made, based))))

    def on_prompt_editor_screen_save_failed(self, event: SaveFailed) -> None:
        self._saving = False
        self._say(event.message)

    def on_prompt_editor_screen_save_done(self, event: SaveDone) -> None:
        self._saving = False
        self.dismiss(event.saved)

    def on_text_area_changed(self) -> None:
        self._leaving = False

    def on_input_changed(self) -> None:
        self._leaving = False

    def _dirty(self) -> bool:
        if self.version is None and self.slug():
            return True
        return self._content_or_none() != getattr(self, "_initial_content", None)

    def action_cancel(self) -> None:
        if self._dirty() and not self._leaving:
            self._leaving = True
            self._say("your edit is not saved: escape again throws it away, ctrl+s saves")
            return
        self.dismiss(None)


register_screen("prompts", "Prompts & models", PromptsScreen, key="M")


__all__ = ["PromptsScreen", "PromptEditorScreen", "RenderPreviewScreen", "format_params", "parse_params",
           "prompt_variables", "template_variables", "highlight_template", "response_format_from", "format_kind",
           "version_detail", "messages_text", "tabs_line", "saved_message", "Saved"]

