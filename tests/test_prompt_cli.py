"""`bt-tui prompt save|list|show|history|render` through the real binary: the one-line results,
exit codes, every listing's JSONL shape, --from-file round trips, and rendering (strict mode,
bad --vars)."""

from __future__ import annotations

import json

import pytest

from helpers import assert_one_line_error, read_jsonl

SYSTEM = "system:You are Acme's bot: be brief. Reply in {{metadata.locale}}."
USER = "user:{{#input.subject}}Subject: {{input.subject}}\n\n{{/input.subject}}{{input.message}}"


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


def jsonl(res) -> list[dict]:
    return read_jsonl(ok(res))


@pytest.fixture
def bot(run_cli):
    assert ok(run_cli("prompt", "save", "bot", "--message", SYSTEM, "--message", USER, "--param", "temperature=0.2",
                      "--author", "sam")) == "saved bot@1\n"
    return "bot"


HELP = {
    ("prompt",): ["save", "list", "show", "history", "render"],
    ("prompt", "save"): ["--message", "ROLE:TEMPLATE", "--model", "--param", "--response-format", "--description",
                         "--from-file", "--author"],
    ("prompt", "list"): ["--format"],
    ("prompt", "show"): ["SLUG[@V]", "--format"],
    ("prompt", "history"): ["SLUG", "--format"],
    ("prompt", "render"): ["--vars", "--strict"],
}


@pytest.mark.parametrize("cmd", list(HELP), ids=" ".join)
def test_help(run_cli, db_path, cmd):
    out = ok(run_cli(*cmd, "--help"))
    for word in HELP[cmd]:
        assert word in out, (cmd, word)
    assert not db_path.exists()


def test_save_prints_the_version_and_an_equal_save_makes_none(run_cli, bot):
    # ROLE:TEMPLATE splits at the first ':' only: the rest of the template keeps its colons
    shown = jsonl(run_cli("prompt", "show", "bot", "--format", "jsonl"))
    assert len(shown) == 1
    assert shown[0]["messages"] == [{"role": "system", "content": SYSTEM[len("system:"):]},
                                    {"role": "user", "content": USER[len("user:"):]}]
    assert shown[0]["params"] == {"temperature": 0.2}  # JSON when it parses: a number, not "0.2"
    assert shown[0]["author"] == "sam"
    res = run_cli("prompt", "save", "bot", "--message", SYSTEM, "--message", USER, "--param", "temperature=0.2")
    assert ok(res) == "no change: bot@1 is the same\n"
    res = run_cli("prompt", "save", "bot", "--message", SYSTEM, "--message", USER, "--param", "temperature=0",
                  "--model", "offline", "--param", "style=terse")
    assert ok(res) == "saved bot@2\n"
    v2 = jsonl(run_cli("prompt", "show", "bot@2", "--format", "jsonl"))[0]
    assert v2["params"] == {"temperature": 0, "style": "terse"} and v2["model"] == "offline"
    assert jsonl(run_cli("prompt", "show", "bot@1", "--format", "jsonl"))[0]["version"] == 1


def test_show_jsonl_keys_and_table(run_cli, bot):
    row = jsonl(run_cli("prompt", "show", "bot", "--format", "jsonl"))[0]
    assert list(row) == ["slug", "version", "messages", "model", "params", "response_format", "description",
                         "created", "author"]
    table = ok(run_cli("prompt", "show", "bot"))
    assert "bot@1" in table and "[1] system" in table and "[2] user" in table
    assert "{{input.message}}" in table  # the templates, unrendered


def test_list_jsonl(run_cli, bot):
    ok(run_cli("prompt", "save", "other", "--message", "user:hi", "--description", "greeting"))
    ok(run_cli("prompt", "save", "bot", "--message", "system:changed", "--author", "maya"))
    rows = jsonl(run_cli("prompt", "list", "--format", "jsonl"))
    assert [r["slug"] for r in rows] == ["bot", "other"]
    assert list(rows[0]) == ["slug", "version", "versions", "model", "updated", "author", "description"]
    assert rows[0]["version"] == 2 and rows[0]["versions"] == 2 and rows[0]["author"] == "maya"
    assert rows[1]["description"] == "greeting"
    assert "bot" in ok(run_cli("prompt", "list"))


def test_list_of_a_database_without_prompts_says_so(run_cli, bot):
    res = run_cli("--project", "elsewhere", "prompt", "list")
    assert res.returncode == 0 and res.stdout == "" and "no prompts" in res.stderr
    assert jsonl(run_cli("--project", "elsewhere", "prompt", "list", "--format", "jsonl")) == []


def test_history_names_the_fields_each_version_changed(run_cli, bot):
    ok(run_cli("prompt", "save", "bot", "--message", SYSTEM.replace("brief", "warm"), "--message", USER,
               "--param", "temperature=0.2", "--author", "maya"))
    ok(run_cli("prompt", "save", "bot", "--message", SYSTEM.replace("brief", "warm"), "--message", USER,
               "--param", "temperature=0.2", "--model", "offline", "--description", "the fix"))
    rows = jsonl(run_cli("prompt", "history", "bot", "--format", "jsonl"))
    assert [list(r) for r in rows] == [["slug", "version", "created", "author", "model", "changes"]] * 3
    assert [(r["version"], r["author"], r["changes"]) for r in rows[:2]] == [
        (1, "sam", []), (2, "maya", ["messages[0].content"])]
    assert rows[2]["changes"] == ["model", "description"] and rows[2]["model"] == "offline"
    assert "messages[0].content" in ok(run_cli("prompt", "history", "bot"))
    line = assert_one_line_error(run_cli("prompt", "history", "bot@2"))
    assert "without @VERSION" in line


def test_from_file_round_trips_a_shown_version(run_cli, bot, tmp_path):
    ok(run_cli("prompt", "save", "bot", "--message", SYSTEM, "--message", USER, "--response-format",
               '{"type": "json_object"}', "--model", "offline"))
    shown = ok(run_cli("prompt", "show", "bot", "--format", "jsonl"))
    f = tmp_path / "bot.json"
    f.write_text(shown)
    assert ok(run_cli("prompt", "save", "copy", "--from-file", f)) == "saved copy@1\n"
    copy = jsonl(run_cli("prompt", "show", "copy", "--format", "jsonl"))[0]
    original = json.loads(shown)
    for k in ("messages", "model", "params", "response_format"):
        assert copy[k] == original[k], k
    # the options given override the file
    assert ok(run_cli("prompt", "save", "copy", "--from-file", f, "--param", "temperature=1")) == "saved copy@2\n"
    assert jsonl(run_cli("prompt", "show", "copy", "--format", "jsonl"))[0]["params"] == {"temperature": 1}
    f.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}], "tempreature": 1}))
    assert "unknown key 'tempreature'" in assert_one_line_error(run_cli("prompt", "save", "c", "--from-file", f))
    f.write_text('{"messages": [\n{"role": "user", "content": "x"},,]}')
    line = assert_one_line_error(run_cli("prompt", "save", "c", "--from-file", f))
    assert line.startswith(f"bt-tui: {f}: invalid JSON at line 2 column")
    f.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "bot", "content": "y"}]}))
    assert "message 2: role 'bot'" in assert_one_line_error(run_cli("prompt", "save", "c", "--from-file", f))
    line = assert_one_line_error(run_cli("prompt", "save", "c", "--from-file", tmp_path / "nope.json"))
    assert "no such file" in line


@pytest.mark.parametrize("args, words", [
    (["--message", "user:hi", "--message", "robot:x"], ["--message 2", "role 'robot'"]),
    (["--message", "no colon here"], ["--message 1", "ROLE:TEMPLATE"]),
    ([], ["at least one --message"]),
    (["--message", "user:{{#open}}never closed"], ["message 1", "bad template"]),
    (["--message", "user:hi", "--param", "temperature"], ["--param 'temperature'", "KEY=VALUE"]),
    (["--message", "user:hi", "--response-format", '{"type": json}'], ["--response-format", "column 10"]),
    (["--message", "user:hi", "--response-format", '"json"'], ["--response-format", "object"]),
    (["--message", "user:hi", "--model", "gtp-4o"], ["no model named 'gtp-4o'", "offline"]),
], ids=["role", "colon", "none", "template", "param", "rf-json", "rf-object", "model"])
def test_save_bad_input_is_one_line_exit_2_and_saves_nothing(run_cli, bot, args, words):
    line = assert_one_line_error(run_cli("prompt", "save", "bot", *args))
    for w in words:
        assert w in line, (w, line)
    assert [r["version"] for r in jsonl(run_cli("prompt", "history", "bot", "--format", "jsonl"))] == [1]


def test_bad_slug_and_unknown_prompt_or_version(run_cli, bot):
    assert "slug" in assert_one_line_error(run_cli("prompt", "save", "bad slug", "--message", "user:x"))
    assert "no prompt 'nope'" in assert_one_line_error(run_cli("prompt", "show", "nope"))
    assert "no version 7 (versions 1 to 1)" in assert_one_line_error(run_cli("prompt", "show", "bot@7"))
    assert "must be a number" in assert_one_line_error(run_cli("prompt", "show", "bot@x"))
    assert "no prompt 'nope'" in assert_one_line_error(run_cli("prompt", "history", "nope"))
    assert "format" in assert_one_line_error(run_cli("prompt", "list", "--format", "xml"))


def test_render_prints_the_messages_as_json_lines(run_cli, bot):
    variables = {"input": {"message": "Where is my order?", "subject": "Order"}, "metadata": {"locale": "fr-FR"}}
    rows = jsonl(run_cli("prompt", "render", "bot", "--vars", json.dumps(variables)))
    assert rows == [
        {"role": "system", "content": "You are Acme's bot: be brief. Reply in fr-FR."},
        {"role": "user", "content": "Subject: Order\n\nWhere is my order?"},
    ]
    # no subject: the section is skipped; an object interpolates as compact JSON, nothing is HTML-escaped
    ok(run_cli("prompt", "save", "raw", "--message", "user:{{input}} & <{{x}}>"))
    rows = jsonl(run_cli("prompt", "render", "raw@1", "--vars", '{"input": {"q": "a<b"}, "x": "y&z"}'))
    assert rows == [{"role": "user", "content": '{"q":"a<b"} & <y&z>'}]


def test_render_strict_names_the_missing_variable_and_the_message(run_cli, bot):
    # not strict: a missing variable renders as empty text
    rows = jsonl(run_cli("prompt", "render", "bot", "--vars", '{"input": {"message": "hi"}}'))
    assert rows[0]["content"] == "You are Acme's bot: be brief. Reply in ."
    res = run_cli("prompt", "render", "bot", "--vars", '{"metadata": {"locale": "de-DE"}, "input": {"subject": "S"}}',
                  "--strict")
    assert assert_one_line_error(res) == "bt-tui: missing variable 'input.message' in message 2"
    assert res.stdout == ""


@pytest.mark.parametrize("vars_, words", [
    ('{"input": "x",}', ["--vars", "column 15"]),
    ('["input"]', ["--vars", "object"]),
])
def test_render_bad_vars_is_one_line_exit_2(run_cli, bot, vars_, words):
    line = assert_one_line_error(run_cli("prompt", "render", "bot", "--vars", vars_))
    for w in words:
        assert w in line, (w, line)
