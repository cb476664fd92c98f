"""Prompt templates: mustache, rendered the way Braintrust's playground does (issue 12).

A well-kept spec-compliant renderer (chevron-blue: every test of the official mustache spec's
core) does the work; this module only sets Braintrust's rules around it:

- variables, dotted paths, sections, inverted sections, comments, delimiter changes (the spec);
- no HTML escaping (`{{x}}` and `{{{x}}}` render alike: prompts are not HTML);
- objects and arrays interpolate as compact JSON (`{{input}}` of `{"q": 1}` is `{"q":1}`), as
  in Braintrust; sections still iterate arrays and enter objects;
- ``strict``: a variable the data does not have raises ``MissingVariable`` naming it (not
  rendered as empty text).

Partials are not supported (a prompt is one template). No terminal output, no Textual.
"""

from __future__ import annotations

import json
import re
from typing import Any

import chevron_blue


class MissingVariable(KeyError):
    """``strict``: the template uses a variable the data does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"the template uses {{{{{self.name}}}}} but the variables have no {self.name!r}"


class _JsonDict(dict):
    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False, separators=(",", ":"))


class _JsonList(list):
    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False, separators=(",", ":"))


def _wrap(value: Any) -> Any:
    """Dicts and lists that interpolate as compact JSON (and still act as dicts and lists)."""
    if isinstance(value, dict):
        return _JsonDict((k, _wrap(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _JsonList(_wrap(v) for v in value)
    return value


def _render(template: str, variables: Any, strict: bool) -> str:
    try:
        return chevron_blue.render(template, variables, partials_path=None, no_escape=True,
                                   on_missing_key="error" if strict else "ignore")
    except KeyError as exc:
        if not strict or isinstance(exc, MissingVariable):
            raise
        text = str(exc.args[0]) if exc.args else "?"
        m = re.search(r"key '(.*)'", text)
        raise MissingVariable(m.group(1) if m else text.strip()) from None


def _is_section(template: str, name: str) -> bool:
    return re.search(r"\{\{\s*[#^]\s*" + re.escape(name) + r"\s*\}\}", template) is not None


def _set_falsy(variables: Any, name: str) -> bool:
    """Give the dotted ``name`` the value None (missing parents become objects); False when a
    parent is not an object."""
    node = variables
    parts = name.split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict):
            return False
        if not isinstance(node.get(part), dict):
            node[part] = _JsonDict()
        node = node[part]
    if not isinstance(node, dict):
        return False
    node[parts[-1]] = None
    return True


def render_template(template: str, variables: Any, *, strict: bool = False) -> str:
    """``template`` rendered with ``variables`` (Braintrust's rules, see the module). In strict
    mode a missing variable raises MissingVariable, except a section's or inverted section's name
    (``{{#input.subject}}...{{/input.subject}}``): a missing section is simply false, as in any
    mustache renderer, so an optional block never counts as missing."""
    data = _wrap(variables)
    for _ in range(50):
        try:
            return _render(template, data, strict)
        except MissingVariable as exc:
            if not (strict and _is_section(template, exc.name) and isinstance(data, dict)
                    and _set_falsy(data, exc.name)):
                raise
    return _render(template, data, strict)
