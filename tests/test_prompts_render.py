"""Prompt rendering (engine/prompts.py) against the official mustache spec (MIT, in
../shared/conformance/mustache): every test but those of partials and the three that expect
HTML escaping (Braintrust renders prompts unescaped) passes; plus Braintrust's own rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.prompts import MissingVariable, render_template

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [ROOT.parent / "shared" / "conformance" / "mustache", Path("/work/shared/conformance/mustache")]
SPEC = next((p for p in CANDIDATES if p.is_dir()), None)
ESCAPING = {"HTML Escaping", "Implicit Iterators - HTML Escaping", "Implicit Iterator - HTML Escaping"}


def spec_cases():
    if SPEC is None:
        return []
    out = []
    for f in sorted(SPEC.glob("*.json")):
        if f.name == "partials.json":
            continue
        for t in json.loads(f.read_text(encoding="utf-8"))["tests"]:
            if t["name"] not in ESCAPING and not t.get("partials"):  # partials are not supported
                out.append(pytest.param(t, id=f"{f.stem}: {t['name']}"))
    return out


CASES = spec_cases()


@pytest.mark.skipif(SPEC is None, reason="the mustache spec (../shared/conformance/mustache) is not here")
def test_the_spec_is_all_there():
    # 136 tests: 12 in partials.json, 2 more that use partials (delimiters), 3 that expect escaping
    assert len(CASES) == 136 - 12 - 2 - 3


@pytest.mark.parametrize("case", CASES)
def test_mustache_spec(case):
    assert render_template(case["template"], case["data"]) == case["expected"]


def test_no_html_escaping_and_objects_as_compact_json():
    assert render_template("{{x}} {{{x}}} {{&x}}", {"x": "a < b & \"c\""}) == 'a < b & "c" a < b & "c" a < b & "c"'
    data = {"input": {"question": "où?", "n": [1, 2]}, "tags": ["x", "y"]}
    assert render_template("{{input}}", data) == '{"question":"où?","n":[1,2]}'
    assert render_template("{{input.n}}", data) == "[1,2]"
    assert render_template("{{#tags}}<{{.}}>{{/tags}}", data) == "<x><y>"
    assert render_template("{{#input}}{{question}}{{/input}}", data) == "où?"


def test_strict_mode_names_the_missing_variable():
    with pytest.raises(MissingVariable) as exc:
        render_template("Hi {{user.name}}", {"user": {}}, strict=True)
    assert exc.value.name == "user.name" and "user.name" in str(exc.value)
    assert render_template("Hi {{user.name}}!", {"user": {}}) == "Hi !"  # not strict: empty
    assert render_template("Hi {{user.name}}", {"user": {"name": "Ann"}}, strict=True) == "Hi Ann"


def test_strict_mode_treats_a_missing_section_as_false_not_missing():
    """An optional block (`{{#input.subject}}...{{/input.subject}}`) is not a missing variable:
    a missing section is false in mustache; only interpolating a missing name is refused."""
    t = "{{#input.subject}}Subject: {{input.subject}}\n\n{{/input.subject}}{{input.message}}"
    assert render_template(t, {"input": {"message": "hi"}}, strict=True) == "hi"
    assert render_template(t, {"input": {"message": "hi", "subject": "S"}}, strict=True) == "Subject: S\n\nhi"
    assert render_template("{{^flag}}no flag{{/flag}}", {}, strict=True) == "no flag"
    with pytest.raises(MissingVariable) as err:
        render_template(t, {"input": {}}, strict=True)
    assert err.value.name == "input.message"
