"""Model configurations: named models a team calls (DESIGN.md section 2).

A configuration is a litellm model string, an optional api base (any OpenAI-compatible server:
Ollama, vLLM, llama.cpp), the NAME of the environment variable holding the key (the key itself
is never stored: the engine reads it at call time), prices in USD per million tokens (None:
litellm's price list) and default params. Configurations are database-wide: a team's models.

The built-in **offline** model (``offline/support``) is always there, needs no key and no
network, and answers from the project's own logs (:mod:`engine.offline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import orjson

from .audit import default_author
from .connection import Store
from .errors import NotFound, StoreError
from .models import now_iso

OFFLINE_NAME = "offline"
OFFLINE_MODEL = "offline/support"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What a key looks like: a key env value pasted where its NAME belongs is refused.
_LOOKS_LIKE_KEY = re.compile(r"^(sk-|sk_|key-|AIza|xai-|gsk_)|^[A-Za-z0-9_-]{32,}$")


class ModelConfigError(StoreError):
    pass


@dataclass
class ModelConfig:
    name: str
    model: str
    api_base: Optional[str] = None
    key_env: Optional[str] = None
    input_price: Optional[float] = None
    output_price: Optional[float] = None
    params: dict = field(default_factory=dict)
    created: str = ""
    author: str = ""
    builtin: bool = False

    @property
    def offline(self) -> bool:
        return self.model.startswith("offline/")

    def to_json(self) -> dict:
        return {"name": self.name, "model": self.model, "api_base": self.api_base, "key_env": self.key_env,
                "input_price": self.input_price, "output_price": self.output_price, "params": self.params,
                "offline": self.offline, "builtin": self.builtin}


OFFLINE = ModelConfig(name=OFFLINE_NAME, model=OFFLINE_MODEL, builtin=True, author="bt-tui")


def _has_table(store: Store) -> bool:
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'model_configs'").fetchone() is not None


_COLS = "name, model, api_base, key_env, input_price, output_price, params, created, author"


def _row(r) -> ModelConfig:
    return ModelConfig(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7], r[8])


def add_model(store: Store, name: str, model: str, *, api_base: Optional[str] = None, key_env: Optional[str] = None,
              input_price: Optional[float] = None, output_price: Optional[float] = None,
              params: Optional[dict] = None, author: Optional[str] = None) -> tuple[ModelConfig, bool]:
    """Add or replace configuration ``name``. Returns (it, whether it is new)."""
    if not _NAME.match(name or ""):
        raise ModelConfigError(f"{name!r} is not a model name (letters, digits, '-', '_', '.', ':', '/')")
    if name == OFFLINE_NAME:
        raise ModelConfigError(f"{OFFLINE_NAME!r} is the built-in offline model; pick another name")
    if not model or not model.strip():
        raise ModelConfigError("--model needs a litellm model string, e.g. openai/gpt-4o-mini or ollama/llama3")
    if key_env is not None:
        if _LOOKS_LIKE_KEY.match(key_env) and not key_env.isupper():
            raise ModelConfigError("--key-env takes the NAME of the environment variable that holds the key "
                                   "(e.g. OPENAI_API_KEY), never the key itself")
        if not _ENV.match(key_env):
            raise ModelConfigError(f"--key-env {key_env!r} is not an environment variable name")
    for label, price in (("--input-price", input_price), ("--output-price", output_price)):
        if price is not None and (price != price or price < 0):
            raise ModelConfigError(f"{label} must be a number of USD per million tokens, at least 0")
    if api_base is not None and not re.match(r"^https?://", api_base):
        raise ModelConfigError(f"--api-base {api_base!r} must start with http:// or https://")
    params = dict(params or {})
    author = author or default_author()
    now = now_iso()
    with store.write() as c:
        existed = c.execute("SELECT 1 FROM model_configs WHERE name = ?", (name,)).fetchone() is not None
        c.execute(
            "INSERT INTO model_configs (name, model, api_base, key_env, input_price, output_price, params, "
            "created, author, updated) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "model=excluded.model, api_base=excluded.api_base, key_env=excluded.key_env, "
            "input_price=excluded.input_price, output_price=excluded.output_price, params=excluded.params, "
            "author=excluded.author, updated=excluded.updated",
            (name, model.strip(), api_base, key_env, input_price, output_price, orjson.dumps(params).decode(),
             now, author, now))
    return get_model(store, name), not existed


def list_models(store: Store) -> list[ModelConfig]:
    """The built-in offline model first, then the configured ones by name."""
    out = [OFFLINE]
    if _has_table(store):
        out += [_row(r) for r in store.conn.execute(f"SELECT {_COLS} FROM model_configs ORDER BY name")]
    return out


def get_model(store: Store, name: str) -> ModelConfig:
    if name == OFFLINE_NAME:
        return OFFLINE
    r = None
    if _has_table(store):
        r = store.conn.execute(f"SELECT {_COLS} FROM model_configs WHERE name = ?", (name,)).fetchone()
    if r is None:
        names = ", ".join(m.name for m in list_models(store))
        raise NotFound(f"no model named {name!r} (models: {names}; add one with `bt-tui model add`)")
    return _row(r)


def remove_model(store: Store, name: str) -> None:
    if name == OFFLINE_NAME:
        raise ModelConfigError("the built-in offline model cannot be removed")
    with store.write() as c:
        if c.execute("DELETE FROM model_configs WHERE name = ?", (name,)).rowcount == 0:
            raise NotFound(f"no model named {name!r}")
