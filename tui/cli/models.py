"""`bt-tui model ...`: the database's model configurations from the command line (DESIGN.md
section 4; the store is store/model_configs.py).

- ``model list``: the built-in offline model first, then the configured ones (jsonl:
  ``ModelConfig.to_json`` keys plus ``key_set``: whether the key's environment variable is set
  now; the key itself is never printed).
- ``model add NAME --model LITELLM_MODEL [--api-base URL] [--key-env VAR] [--input-price P]
  [--output-price P] [--param K=V]...``: add or replace a configuration. ``--param`` values are
  read as JSON when they parse (``temperature=0.2`` is the number 0.2), else as text.
- ``model remove NAME``.
- ``model test NAME``: one real call with a tiny prompt; prints the model, latency, tokens, cost
  and the answer's first line; exit 1 with the error line when the call fails.

Keys are read from the environment at call time by the engine; this module only ever reads
whether the variable is set, and scrubs its value from any error line it prints.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, List, Optional

import typer

from .common import (
    AUTHOR_HELP,
    FORMAT_HELP,
    UsageError,
    app,
    check_format,
    fail,
    open_store,
    print_jsonl,
    print_rows,
    state,
    user_errors,
)

model_app = typer.Typer(help="Model configurations: list, add, remove, test.", no_args_is_help=True)
app.add_typer(model_app, name="model")

TEST_PROMPT = "Reply with one short sentence: are you there?"


def parse_params(pairs: Iterable[str], option: str = "--param") -> dict:
    """``K=V`` pairs -> {K: V}; V is JSON when it parses (0.2, true, [1,2], {"a":1}), else text.
    A pair without '=' or with an empty key is bad usage (exit 2) naming it."""
    import json

    out: dict = {}
    for n, pair in enumerate(pairs, 1):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{option} {pair!r}: expected KEY=VALUE (e.g. temperature=0.2)")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def key_is_set(key_env: Optional[str]) -> bool:
    return bool(key_env) and bool(os.environ.get(key_env or ""))


def scrub(text: str, key_envs: Iterable[Optional[str]]) -> str:
    """``text`` with the value of every named key variable replaced by ***: an error a provider
    echoes never puts a key on the terminal."""
    for env in key_envs:
        value = os.environ.get(env) if env else None
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def missing_key(cfg) -> Optional[str]:
    """The one line to say when a model's key variable is unset (None when it is fine)."""
    if cfg.key_env and not os.environ.get(cfg.key_env):
        return f"model {cfg.name!r} reads its key from {cfg.key_env}, which is not set: set {cfg.key_env} in the environment"
    return None


def _price(p: Optional[float]) -> str:
    return "" if p is None else f"{p:g}"


@model_app.command("list")
def list_cmd(fmt: str = typer.Option("table", "--format", "-f", help=FORMAT_HELP)) -> None:
    """The models: the built-in offline model first, then the configured ones by name. Never
    shows a key, only whether its environment variable is set."""
    import json

    from store.model_configs import OFFLINE, list_models
    from store.paths import resolve_db_path

    with user_errors():
        check_format(fmt)
        if resolve_db_path(state.db).exists():
            models = list_models(open_store(readonly=True))
        else:  # no database yet: the built-in model is still there (and no file is made)
            models = [OFFLINE]
        if fmt == "jsonl":
            print_jsonl({**m.to_json(), "key_set": key_is_set(m.key_env)} for m in models)
            return
        rows = []
        for m in models:
            if m.offline:
                key = "offline: no key, no network"
            elif not m.key_env:
                key = "no key"
            else:
                key = f"{m.key_env} ({'set' if key_is_set(m.key_env) else 'NOT SET'})"
            prices = "" if m.input_price is None and m.output_price is None else \
                f"{_price(m.input_price) or '-'} / {_price(m.output_price) or '-'}"
            params = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(m.params.items()))
            rows.append([m.name, m.model, m.api_base or "", key, prices, params])
        print_rows(["name", "model", "api base", "key", "USD/Mtok in / out", "params"], rows, ids=(0, 1))


@model_app.command("add")
def add_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The configuration's name (what prompts and runs use)."),
    model: str = typer.Option(..., "--model", "-m", metavar="LITELLM_MODEL",
                              help="litellm's model string, e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest,"
                                   " ollama/llama3 (with --api-base for any OpenAI-compatible server: openai/NAME)."),
    api_base: Optional[str] = typer.Option(None, "--api-base", metavar="URL",
                                           help="The server's base URL (Ollama, vLLM, llama.cpp, a proxy)."),
    key_env: Optional[str] = typer.Option(None, "--key-env", metavar="VAR",
                                          help="The NAME of the environment variable holding the key (never the key:"
                                               " it is read at call time and never stored)."),
    input_price: Optional[float] = typer.Option(None, "--input-price", metavar="USD_PER_MTOK",
                                                help="USD per million prompt tokens (default: litellm's price list)."),
    output_price: Optional[float] = typer.Option(None, "--output-price", metavar="USD_PER_MTOK",
                                                 help="USD per million completion tokens (default: litellm's price list)."),
    param: List[str] = typer.Option([], "--param", metavar="K=V",
                                    help="A default call parameter (V is JSON when it parses: temperature=0.2,"
                                         " max_tokens=200). Repeatable."),
    author: Optional[str] = typer.Option(None, "--author", help=AUTHOR_HELP),
) -> None:
    """Add a model configuration, or replace the one of that name."""
    from store.model_configs import add_model

    with user_errors():
        params = parse_params(param)
        store = open_store()
        cfg, new = add_model(store, name, model, api_base=api_base, key_env=key_env, input_price=input_price,
                             output_price=output_price, params=params, author=author)
        sys.stdout.write(f"{'added' if new else 'updated'} model {cfg.name!r} ({cfg.model})\n")
        line = missing_key(cfg)
        if line:
            sys.stderr.write(f"note: {line} before calling it\n")


@model_app.command("remove")
def remove_cmd(name: str = typer.Argument(..., metavar="NAME", help="The configuration to remove.")) -> None:
    """Remove a model configuration (prompts and experiments that name it keep the name)."""
    from store.model_configs import remove_model

    with user_errors():
        store = open_store(must_exist=True)
        remove_model(store, name)
        sys.stdout.write(f"removed model {name!r}\n")


@model_app.command("test")
def test_cmd(
    name: str = typer.Argument(..., metavar="NAME", help="The configuration to call."),
    timeout: float = typer.Option(60.0, "--timeout", metavar="SECONDS", help="Give up after SECONDS."),
) -> None:
    """One real call with a tiny prompt: prints the model, latency, tokens, cost and the
    answer's first line. Exit 1 with the error when the call fails."""
    import asyncio

    from store.model_configs import get_model

    with user_errors():
        if not timeout > 0:
            raise UsageError(f"--timeout {timeout:g}: give a number of seconds above 0")
        store = open_store()
        cfg = get_model(store, name)
        line = missing_key(cfg)
        if line:
            raise fail(line, 1)
        from engine.runs import model_spec

        messages = [{"role": "user", "content": TEST_PROMPT}]
        call = asyncio.run(_call(store, cfg, model_spec(cfg), messages, timeout))
        if call.error:
            raise fail(f"model {cfg.name!r} ({cfg.model}) failed: {scrub(_first_line(call.error), [cfg.key_env])}", 1)
        sys.stdout.write(f"model {cfg.name!r} ({cfg.model}{', offline' if cfg.offline else ''}): "
                         f"{describe_call(call)}\n")
        sys.stdout.write(f"answer: {scrub(_first_line(call.output), [cfg.key_env])}\n")


async def _call(store, cfg, spec, messages, timeout: float):
    from engine.llm import LLMClient
    from engine.offline import OfflineModel

    client = LLMClient(concurrency=1, timeout=timeout, max_retries=0, offline=OfflineModel(store, state.project))
    try:
        return await client.complete(spec, messages, params=spec.params)
    finally:
        await close_client(client)


async def close_client(client) -> None:
    """Close the client's connections when it has something to close."""
    import inspect

    closer = getattr(client, "aclose", None) or getattr(client, "close", None)
    if closer is not None:
        res = closer()
        if inspect.isawaitable(res):
            await res


def _first_line(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        import json

        value = json.dumps(value, ensure_ascii=False)
    return next((ln.strip() for ln in value.splitlines() if ln.strip()), "")


def describe_call(call) -> str:
    """``0.42 s, 31 tokens (24 in, 7 out), $0.000012``"""
    parts = [f"{call.latency:.2f} s" if call.latency is not None else "latency unknown"]
    if call.tokens is not None:
        inout = ""
        if call.prompt_tokens is not None and call.completion_tokens is not None:
            inout = f" ({call.prompt_tokens} in, {call.completion_tokens} out)"
        parts.append(f"{call.tokens} tokens{inout}")
    parts.append(format_cost(call.cost))
    return ", ".join(parts)


def format_cost(cost: Optional[float]) -> str:
    if cost is None:
        return "cost unknown"
    if cost == 0:
        return "$0"
    return f"${cost:.6f}".rstrip("0").rstrip(".") if cost < 0.01 else f"${cost:.4f}"
