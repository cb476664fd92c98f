"""`bt-tui model list|add|remove|test` through the real binary: the one-line results, exit codes,
the JSONL shape (never a key, only whether its variable is set), --param parsing, and `model
test` against the local OpenAI-compatible server and the offline model."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, read_jsonl

MODEL_KEYS = ["name", "model", "api_base", "key_env", "input_price", "output_price", "params", "offline", "builtin",
              "key_set"]
SECRET = "sk-test-Zq81mVt0pXe4NcwD9aLr"


def ok(res) -> str:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


def jsonl(res) -> list[dict]:
    return read_jsonl(ok(res))


HELP = {
    ("model",): ["list", "add", "remove", "test"],
    ("model", "add"): ["--model", "--api-base", "--key-env", "--input-price", "--output-price", "--param"],
    ("model", "list"): ["--format"],
    ("model", "test"): ["NAME"],
    ("model", "remove"): ["NAME"],
}


@pytest.mark.parametrize("cmd", list(HELP), ids=" ".join)
def test_help(run_cli, db_path, cmd):
    out = ok(run_cli(*cmd, "--help"))
    for word in HELP[cmd]:
        assert word in out, (cmd, word)
    assert not db_path.exists()


def test_list_has_the_offline_model_even_without_a_database(run_cli, db_path):
    rows = jsonl(run_cli("model", "list", "--format", "jsonl"))
    assert [list(r) for r in rows] == [MODEL_KEYS]
    assert rows[0]["name"] == "offline" and rows[0]["offline"] and rows[0]["builtin"]
    assert rows[0]["key_set"] is False
    assert "offline" in ok(run_cli("model", "list"))
    assert not db_path.exists()


def test_add_list_replace_remove(run_cli):
    res = run_cli("model", "add", "gpt", "--model", "openai/gpt-4o-mini", "--key-env", "BT_TEST_KEY",
                  "--input-price", "0.15", "--output-price", "0.6", "--param", "temperature=0.2",
                  "--param", "max_tokens=200", "--param", "stop=[\"\\n\"]", "--param", "style=terse",
                  "--param", "seed=", env={"BT_TEST_KEY": None})
    assert ok(res) == "added model 'gpt' (openai/gpt-4o-mini)\n"
    assert "set BT_TEST_KEY in the environment" in res.stderr  # a note, not an error
    rows = jsonl(run_cli("model", "list", "--format", "jsonl", env={"BT_TEST_KEY": None}))
    assert [r["name"] for r in rows] == ["offline", "gpt"]
    gpt = rows[1]
    assert gpt == {"name": "gpt", "model": "openai/gpt-4o-mini", "api_base": None, "key_env": "BT_TEST_KEY",
                   "input_price": 0.15, "output_price": 0.6,
                   "params": {"temperature": 0.2, "max_tokens": 200, "stop": ["\n"], "style": "terse", "seed": ""},
                   "offline": False, "builtin": False, "key_set": False}
    assert jsonl(run_cli("model", "list", "--format", "jsonl", env={"BT_TEST_KEY": SECRET}))[1]["key_set"] is True
    assert "NOT SET" in ok(run_cli("model", "list", env={"BT_TEST_KEY": None}))
    res = run_cli("model", "add", "gpt", "--model", "openai/gpt-4o", "--api-base", "http://127.0.0.1:9/v1")
    assert ok(res) == "updated model 'gpt' (openai/gpt-4o)\n"
    gpt = jsonl(run_cli("model", "list", "--format", "jsonl"))[1]
    assert (gpt["model"], gpt["api_base"], gpt["key_env"], gpt["params"]) == ("openai/gpt-4o", "http://127.0.0.1:9/v1",
                                                                              None, {})
    assert ok(run_cli("model", "remove", "gpt")) == "removed model 'gpt'\n"
    assert [r["name"] for r in jsonl(run_cli("model", "list", "--format", "jsonl"))] == ["offline"]


@pytest.mark.parametrize("args, words", [
    (["x", "--model", "m", "--param", "temperature"], ["--param 'temperature'", "KEY=VALUE"]),
    (["x", "--model", "m", "--param", "=1"], ["--param '=1'"]),
    (["offline", "--model", "m"], ["built-in offline"]),
    (["bad name", "--model", "m"], ["not a model name"]),
    (["x", "--model", "m", "--key-env", "sk-abcdefghijklmnopqrstuvwxyz0123456789"], ["NAME of the environment variable"]),
    (["x", "--model", "m", "--key-env", "MY KEY"], ["not an environment variable name"]),
    (["x", "--model", "m", "--input-price", "-1"], ["--input-price"]),
    (["x", "--model", "m", "--api-base", "localhost:11434"], ["--api-base", "http://"]),
    (["x"], ["--model"]),
], ids=["param", "param-key", "offline", "name", "key-itself", "env-name", "price", "api-base", "no-model"])
def test_add_bad_input_is_one_line_exit_2(run_cli, args, words):
    line = assert_one_line_error(run_cli("model", "add", *args))
    for w in words:
        assert w in line, (w, line)
    assert "sk-abcdefghijklmnopqrstuvwxyz" not in line  # a pasted key is not echoed back
    assert [r["name"] for r in jsonl(run_cli("model", "list", "--format", "jsonl"))] == ["offline"]


def test_remove_unknown_or_builtin(run_cli):
    ok(run_cli("model", "add", "a", "--model", "openai/x"))
    assert "no model named 'b'" in assert_one_line_error(run_cli("model", "remove", "b"))
    assert "cannot be removed" in assert_one_line_error(run_cli("model", "remove", "offline"))


def test_model_test_with_an_unset_key_says_set_it(run_cli):
    ok(run_cli("model", "add", "gpt", "--model", "openai/gpt-4o-mini", "--key-env", "BT_TEST_KEY"))
    line = assert_one_line_error(run_cli("model", "test", "gpt", env={"BT_TEST_KEY": None}), code=1)
    assert "set BT_TEST_KEY in the environment" in line
    assert "no model named 'nope'" in assert_one_line_error(run_cli("model", "test", "nope"))


def test_model_test_calls_the_model_once(run_cli):
    from llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        ok(run_cli("model", "add", "local", "--model", "openai/fake-model", "--api-base", server.base_url,
                   "--key-env", "BT_TEST_KEY", "--input-price", "1", "--output-price", "2"))
        res = run_cli("model", "test", "local", env={"BT_TEST_KEY": SECRET})
        out = ok(res)
        assert len(server.requests) == 1
        assert server.requests[0]["_headers"]["authorization"] == f"Bearer {SECRET}"
        first, answer = out.splitlines()
        assert first.startswith("model 'local' (openai/fake-model): ")
        n_in = len(server.requests[0]["messages"][0]["content"].split())
        assert f"tokens ({n_in} in, " in first and "$0.0000" in first and " s, " in first
        assert answer.startswith("answer: echo: ")
        server.script("500")
        res = run_cli("model", "test", "local", env={"BT_TEST_KEY": SECRET})
        line = assert_one_line_error(res, code=1)
        assert line.startswith("bt-tui: model 'local' (openai/fake-model) failed: ") and "500" in line
        server.script({"kind": "401", "message": f"invalid key {SECRET}"})  # a provider that echoes the key
        line = assert_one_line_error(run_cli("model", "test", "local", env={"BT_TEST_KEY": SECRET}), code=1)
        assert SECRET not in line and "401" in line
        assert len(server.requests) == 3  # one call each: `model test` does not retry


def test_model_test_offline_answers_from_the_logs(run_cli, tmp_path):
    from helpers import make_traces, write_jsonl

    ok(run_cli("import", "logs", write_jsonl(tmp_path / "logs.jsonl", make_traces(3))))
    out = ok(run_cli("model", "test", "offline"))
    first, answer = out.splitlines()
    assert first.startswith("model 'offline' (offline/support, offline): ") and "$0" in first
    assert answer.startswith("answer: ")
