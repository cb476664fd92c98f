"""`bt-tui prompt ...`: a project's versioned prompts from the command line (DESIGN.md section 4;
the store is store/prompts.py, rendering engine/prompts.py).

- ``prompt save SLUG --message ROLE:TEMPLATE... [--model NAME] [--param K=V]...
  [--response-format JSON] [--description TEXT] [--from-file FILE.json]``: a new version, or
  none when it equals the latest. Prints ``saved bot@3`` or ``no change: bot@2 is the same``.
- ``prompt list`` (jsonl: ``PromptInfo.to_json``), ``prompt show SLUG[@V]`` (jsonl:
  ``PromptVersion.to_json``; table: the messages), ``prompt history SLUG`` (jsonl, oldest first:
  ``{slug, version, created, author, model, changes}``, ``changes`` naming the fields that
  differ from the previous version).
- ``prompt render SLUG[@V] --vars JSON [--strict]``: the rendered messages, one JSON line
  ``{role, content}`` each.

Bad input (a role, a JSON value, a missing variable in strict mode) is one line naming what is
wrong (the message number, the option and column), exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from .common import (
    AUTHOR_HELP,
    FORMAT_HELP,
    UsageError,
    app,
    check_format,
    note,
    open_store,
    print_jsonl,
    print_rows,
    state,
    table_ts,
    user_errors,
)
from .models import parse_params

prompt_app = typer.Typer(help="Versioned prompts: save, list, show, history, render.", no_args_is_help=True)
app.add_typer(prompt_app, name="prompt")

FILE_KEYS = ("messages", "model", "params", "response_format", "description")
# what `prompt show --format jsonl` adds: a saved line can be read back with --from-file
IGNORED_FILE_KEYS = ("slug", "version", "created", "author")


def parse_json(text: str, label: str) -> Any:
    """``text`` as JSON; bad JSON is bad usage naming ``label``, the line (when several) and column."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if "\n" in text.strip() else f"column {exc.colno}"
        raise UsageError(f"{label}: invalid JSON at {where}: {exc.msg}") from None


def parse_messages(specs: List[str]) -> list[dict]:
    """``ROLE:TEMPLATE`` -> {role, content}: split at the first ':' (the template may hold more)."""
    from store.prompts import ROLES

    out = []
    for n, spec in enumerate(specs, 1):
        role, sep, template = spec.partition(":")
        role = role.strip().lower()
        if not sep:
            raise UsageError(f"--message {n}: expected ROLE:TEMPLATE (e.g. 'system:You are ...'), got {spec[:40]!r}")
        if role not in ROLES:
            raise UsageError(f"--message {n}: role {role!r} is not one of {', '.join(ROLES)}")
        out.append({"role": role, "content": template})
    return out


def read_prompt_file(path: str) -> dict:
    """``--from-file``: a JSON object with messages, model, params, response_format (and
    optionally description; the keys `prompt show --format jsonl` adds are ignored)."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{path}: is a directory, not a file")
    if not p.exists():
        raise UsageError(f"{path}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    data = parse_json(text, path)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object with messages, model, params, response_format")
    unknown = sorted(set(data) - set(FILE_KEYS) - set(IGNORED_FILE_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key {unknown[0]!r} (a prompt file has {', '.join(FILE_KEYS)})")
    if "messages" in data and not isinstance(data["messages"], list):
        raise UsageError(f"{path}: messages must be a list of {{role, content}}")
    for n, m in enumerate(data.get("messages") or [], 1):
        from store.prompts import ROLES

        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise UsageError(f"{path}: message {n}: expected an object with role and content")
        if m["role"] not in ROLES:
            raise UsageError(f"{path}: message {n}: role {m['role']!r} is not one of {', '.join(ROLES)}")
        if not isinstance(m["content"], str):
            raise UsageError(f"{path}: message {n}: content must be a text template")
    if data.get("params") is not None and not isinstance(data["params"], dict):
        raise UsageError(f"{path}: params must be an object")
    if data.get("response_format") is not None and not isinstance(data["response_format"], dict):
        raise UsageError(f"{path}: response_format must be an object, e.g. {{\"type\": \"json_object\"}}")
    if data.get("model") is not None and not isinstance(data["model"], str):
        raise UsageError(f"{path}: model must be a model configuration's name")
    return data


def render_message(n: int, template: str, variables: dict, strict: bool = False) -> str:
    """One message rendered; a template that does not parse (an unclosed section) or, strict, a
    missing variable is bad input naming the message."""
    from engine.prompts import MissingVariable, render_template

    try:
        return render_template(template, variables, strict=strict)
    except MissingVariable as exc:
        raise UsageError(f"missing variable {exc.name!r} in message {n}") from None
    except SyntaxError as exc:  # chevron's ChevronError
        raise UsageError(f"message {n}: bad template: {' '.join(str(exc).split())}") from None


@prompt_app.command("save")
def save_cmd(
    slug: str = typer.Argument(..., metavar="SLUG", help="The prompt (letters, digits, '-', '_', '.')."),
    message: List[str] = typer.Option([], "--message", metavar="ROLE:TEMPLATE",
                                      help="A message: its role (system, user, assistant, tool), ':', then its"
                                           " mustache template ({{input}}, {{metadata.locale}}). Repeatable, in order."),
    model: Optional[str] = typer.Option(None, "--model", metavar="NAME",
                                        help="The model configuration it runs with (see `bt-tui model list`)."),
    param: List[str] = typer.Option([], "--param", metavar="K=V",
                                    help="A call parameter (V is JSON when it parses). Repeatable."),
    response_format: Optional[str] = typer.Option(None, "--response-format", metavar="JSON",
                                                  help="e.g. '{\"type\": \"json_object\"}'"),
    description: Optional[str] = typer.Option(None, "--description", help="What the prompt is for."),
    from_file: Optional[str] = typer.Option(None, "--from-file", metavar="FILE.json",
                                            help="Read {messages, model, params, response_format} from a JSON file;"
                                                 " the options given override it."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Save a new version of a prompt (none when it equals the latest)."""
    from store.model_configs import get_model
    from store.prompts import save_prompt

    with user_errors():
        data = read_prompt_file(from_file) if from_file else {}
        messages = parse_messages(message) if message else data.get("messages")
        if not messages:
            raise UsageError("a prompt needs at least one --message ROLE:TEMPLATE (or --from-file)")
        params = {**(data.get("params") or {}), **parse_params(param)}
        rf = data.get("response_format")
        if response_format is not None:
            rf = parse_json(response_format, "--response-format")
            if not isinstance(rf, dict):
                raise UsageError("--response-format: expected a JSON object, e.g. {\"type\": \"json_object\"}")
        for n, m in enumerate(messages, 1):
            render_message(n, m["content"], {})  # a template that does not parse is refused now
        model_name = model if model is not None else data.get("model")
        desc = description if description is not None else data.get("description")
        store = open_store()
        if model_name:
            get_model(store, model_name)  # a typo is bad input (exit 2), naming the models there are
        pv, made = save_prompt(store, state.project, slug, messages, model=model_name, params=params,
                               response_format=rf, description=desc, author=author)
        if made:
            sys.stdout.write(f"saved {pv.ref}\n")
        else:
            sys.stdout.write(f"no change: {pv.ref} is the same\n")


@prompt_app.command("list")
def list_cmd(fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP)) -> None:
    """The project's prompts by slug, each with its latest version."""
    from store.prompts import list_prompts

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        rows = list_prompts(store, state.project)
        if fmt == "jsonl":
            print_jsonl(p.to_json() for p in rows)
            return
        if not rows:
            note(f"no prompts in project {state.project!r} yet: `bt-tui prompt save SLUG --message"
                 " 'system:You are ...' --message 'user:{{input}}'` makes one")
            return
        print_rows(["slug", "version", "versions", "model", "updated", "by", "description"],
                   [[p.slug, p.latest.version, p.versions, p.latest.model or "", table_ts(p.latest.created),
                     p.latest.author, p.latest.description] for p in rows])


@prompt_app.command("show")
def show_cmd(
    ref: str = typer.Argument(..., metavar="SLUG[@V]", help="The prompt, at version V (default: the latest)."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """One version of a prompt: its messages (the templates), model, params, response format."""
    from store.prompts import get_prompt

    with user_errors():
        check_format(fmt)
        store = open_store(readonly=True)
        pv = get_prompt(store, state.project, ref)
        if fmt == "jsonl":
            print_jsonl([pv.to_json()])
            return
        _print_prompt(pv)


def _print_prompt(pv) -> None:
    import json

    out = sys.stdout
    out.write(f"{pv.ref}  by {pv.author}, {table_ts(pv.created)}\n")
    out.write(f"model: {pv.model or '(none: runs pick one)'}\n")
    if pv.params:
        out.write(f"params: {json.dumps(pv.params, ensure_ascii=False)}\n")
    if pv.response_format:
        out.write(f"response format: {json.dumps(pv.response_format, ensure_ascii=False)}\n")
    if pv.description:
        out.write(f"description: {pv.description}\n")
    for n, m in enumerate(pv.messages, 1):
        out.write(f"\n[{n}] {m['role']}\n")
        for line in (m["content"] or "").splitlines() or [""]:
            out.write(f"    {line}\n")
    out.flush()


def history_rows(versions: list) -> list[dict]:
    """Each version with the fields it changed from the one before (the first: none)."""
    from store.prompts import diff_prompts

    rows = []
    prev = None
    for pv in versions:
        changes: list[str] = []
        if prev is not None:
            changes = [d["field"] for d in diff_prompts(prev, pv)]
            if pv.description != prev.description:
                changes.append("description")
        rows.append({"slug": pv.slug, "version": pv.version, "created": pv.created, "author": pv.author,
                     "model": pv.model, "changes": changes})
        prev = pv
    return rows


@prompt_app.command("history")
def history_cmd(
    slug: str = typer.Argument(..., metavar="SLUG", help="The prompt."),
    fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP),
) -> None:
    """Every version of a prompt, oldest first, with what each changed."""
    from store.prompts import parse_ref, prompt_history

    with user_errors():
        check_format(fmt)
        name, version = parse_ref(slug)
        if version is not None:
            raise UsageError(f"{slug!r}: history takes a slug without @VERSION (it lists every version)")
        store = open_store(readonly=True)
        rows = history_rows(prompt_history(store, state.project, name))
        if fmt == "jsonl":
            print_jsonl(rows)
            return
        print_rows(["version", "created", "author", "model", "changes"],
                   [[r["version"], table_ts(r["created"]), r["author"], r["model"] or "",
                     ", ".join(r["changes"]) if r["version"] > 1 else "(first version)"] for r in rows])


@prompt_app.command("render")
def render_cmd(
    ref: str = typer.Argument(..., metavar="SLUG[@V]", help="The prompt, at version V (default: the latest)."),
    vars_: str = typer.Option("{}", "--vars", metavar="JSON",
                              help="The variables, a JSON object: '{\"input\": \"Where is my order?\"}'."),
    strict: bool = typer.Option(False, "--strict", help="A variable the templates use but --vars lacks is an error"
                                                        " (default: it renders as empty text)."),
) -> None:
    """The prompt's messages rendered with the variables: one JSON line {role, content} each."""
    from store.prompts import get_prompt

    with user_errors():
        variables = parse_json(vars_, "--vars")
        if not isinstance(variables, dict):
            raise UsageError("--vars: expected a JSON object of variables, e.g. '{\"input\": \"hi\"}'")
        store = open_store(readonly=True)
        pv = get_prompt(store, state.project, ref)
        out = [{"role": m["role"], "content": render_message(n, m["content"], variables, strict)}
               for n, m in enumerate(pv.messages, 1)]
        print_jsonl(out)
