"""Prompts: versioned chat templates per project (DESIGN.md section 2).

A prompt is a slug with versions 1, 2, 3...; each version holds the messages (mustache
templates; rendering is the engine's, :mod:`engine.prompts`), the model configuration's name,
params and an optional response format, with author and time. A save is a new version unless it
equals the latest (a save that changes nothing makes none, as for datasets). History is never
rewritten. ``slug@3`` names a version; a bare slug the latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from .audit import default_author
from .connection import Store
from .errors import NotFound, StoreError
from .models import now_iso
from .projects import ensure_project, find_project

ROLES = ("system", "user", "assistant", "tool")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class PromptError(StoreError):
    """A prompt that cannot be saved or found (one line naming what is wrong)."""


@dataclass
class PromptVersion:
    slug: str
    version: int
    messages: list = field(default_factory=list)  # [{"role": ..., "content": TEMPLATE}]
    model: Optional[str] = None  # a model configuration's name
    params: dict = field(default_factory=dict)
    response_format: Optional[dict] = None
    description: str = ""
    created: str = ""
    author: str = ""

    @property
    def ref(self) -> str:
        return f"{self.slug}@{self.version}"

    def content(self) -> dict:
        """What a save compares and an editor shows."""
        return {"messages": self.messages, "model": self.model, "params": self.params,
                "response_format": self.response_format}

    def to_json(self) -> dict:
        return {"slug": self.slug, "version": self.version, "messages": self.messages, "model": self.model,
                "params": self.params, "response_format": self.response_format,
                "description": self.description, "created": self.created, "author": self.author}


def parse_ref(ref: str) -> tuple[str, Optional[int]]:
    """``slug`` or ``slug@V`` -> (slug, V or None). A bad version is a PromptError."""
    slug, sep, ver = ref.strip().partition("@")
    if not sep:
        return slug, None
    if not ver.isdigit() or int(ver) < 1:
        raise PromptError(f"{ref!r}: the version after '@' must be a number (1, 2, ...)")
    return slug, int(ver)


def check_messages(messages: Any) -> list[dict]:
    """The messages a prompt may hold: a non-empty list of {role, content} with a known role and
    string content. Returns them normalised (only role and content kept)."""
    if not isinstance(messages, list) or not messages:
        raise PromptError("a prompt needs at least one message (ROLE:TEMPLATE)")
    out = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            raise PromptError(f"message {i}: expected an object with role and content")
        role = m.get("role")
        if role not in ROLES:
            raise PromptError(f"message {i}: role {role!r} is not one of {', '.join(ROLES)}")
        content = m.get("content")
        if not isinstance(content, str):
            raise PromptError(f"message {i}: content must be a text template")
        out.append({"role": role, "content": content})
    return out


def _row(r) -> PromptVersion:
    return PromptVersion(slug=r[0], version=r[1], messages=orjson.loads(r[2]), model=r[3],
                         params=orjson.loads(r[4]), response_format=orjson.loads(r[5]) if r[5] else None,
                         description=r[6], created=r[7], author=r[8])


_COLS = "slug, version, messages, model, params, response_format, description, created, author"


def has_prompts(store: Store) -> bool:
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'prompts'").fetchone() is not None


def save_prompt(store: Store, project: str, slug: str, messages: list, *, model: Optional[str] = None,
                params: Optional[dict] = None, response_format: Optional[dict] = None,
                description: Optional[str] = None, author: Optional[str] = None) -> tuple[PromptVersion, bool]:
    """Save a new version of ``slug``. Returns (the latest version, whether this save made it):
    a save equal to the latest version makes none."""
    if not _SLUG.match(slug or ""):
        raise PromptError(f"{slug!r} is not a prompt slug (letters, digits, '-', '_', '.'; up to 100)")
    messages = check_messages(messages)
    params = dict(params or {})
    if response_format is not None and not isinstance(response_format, dict):
        raise PromptError("response_format must be an object, e.g. {\"type\": \"json_object\"}")
    author = author or default_author()
    with store.write() as c:
        pid, _ = ensure_project(c, project)
        last = c.execute(f"SELECT {_COLS} FROM prompts WHERE project_id = ? AND slug = ? "
                         "ORDER BY version DESC LIMIT 1", (pid, slug)).fetchone()
        if last is not None:
            prev = _row(last)
            same = prev.content() == {"messages": messages, "model": model, "params": params,
                                      "response_format": response_format}
            if same and (description is None or description == prev.description):
                return prev, False
        version = (last[1] + 1) if last else 1
        desc = description if description is not None else (last[6] if last else "")
        created = now_iso()
        c.execute(
            "INSERT INTO prompts (project_id, slug, version, messages, model, params, response_format, "
            "description, created, author) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (pid, slug, version, orjson.dumps(messages).decode(), model, orjson.dumps(params).decode(),
             orjson.dumps(response_format).decode() if response_format is not None else None,
             desc, created, author))
    return PromptVersion(slug, version, messages, model, params, response_format, desc, created, author), True


def get_prompt(store: Store, project: str, ref: str, version: Optional[int] = None) -> PromptVersion:
    """``slug``, ``slug@V`` or (slug, version): that version, or the latest. NotFound names what
    is missing (and the versions there are)."""
    slug, v = parse_ref(ref)
    version = version if version is not None else v
    pid = find_project(store, project)
    if pid is None or not has_prompts(store):
        raise NotFound(f"no prompt {slug!r} in project {project!r}")
    if version is None:
        r = store.conn.execute(f"SELECT {_COLS} FROM prompts WHERE project_id = ? AND slug = ? "
                               "ORDER BY version DESC LIMIT 1", (pid, slug)).fetchone()
    else:
        r = store.conn.execute(f"SELECT {_COLS} FROM prompts WHERE project_id = ? AND slug = ? AND version = ?",
                               (pid, slug, version)).fetchone()
    if r is None:
        latest = store.conn.execute("SELECT max(version) FROM prompts WHERE project_id = ? AND slug = ?",
                                    (pid, slug)).fetchone()[0]
        if latest is None:
            raise NotFound(f"no prompt {slug!r} in project {project!r}")
        raise NotFound(f"prompt {slug!r} has no version {version} (versions 1 to {latest})")
    return _row(r)


@dataclass
class PromptInfo:
    slug: str
    versions: int
    latest: PromptVersion

    def to_json(self) -> dict:
        return {"slug": self.slug, "version": self.latest.version, "versions": self.versions,
                "model": self.latest.model, "updated": self.latest.created, "author": self.latest.author,
                "description": self.latest.description}


def list_prompts(store: Store, project: str) -> list[PromptInfo]:
    """The project's prompts by slug, each with its latest version."""
    pid = find_project(store, project)
    if pid is None or not has_prompts(store):
        return []
    rows = store.conn.execute(
        f"SELECT {_COLS}, (SELECT count(*) FROM prompts q WHERE q.project_id = p.project_id AND q.slug = p.slug) "
        "FROM prompts p WHERE project_id = ? AND version = "
        "(SELECT max(version) FROM prompts q WHERE q.project_id = p.project_id AND q.slug = p.slug) "
        "ORDER BY slug", (pid,)).fetchall()
    return [PromptInfo(r[0], r[9], _row(r)) for r in rows]


def prompt_history(store: Store, project: str, slug: str) -> list[PromptVersion]:
    """Every version of ``slug``, oldest first."""
    pid = find_project(store, project)
    if pid is None or not has_prompts(store):
        raise NotFound(f"no prompt {slug!r} in project {project!r}")
    rows = store.conn.execute(f"SELECT {_COLS} FROM prompts WHERE project_id = ? AND slug = ? ORDER BY version",
                              (pid, slug)).fetchall()
    if not rows:
        raise NotFound(f"no prompt {slug!r} in project {project!r}")
    return [_row(r) for r in rows]


def diff_prompts(a: PromptVersion, b: PromptVersion) -> list[dict]:
    """What changed from ``a`` to ``b``: one entry per changed part, ``{"field", "before",
    "after"}`` with field ``messages[i].content`` / ``messages[i].role`` / ``model`` / ``params``
    / ``response_format`` (an added or removed message has a None side)."""
    out = []
    n = max(len(a.messages), len(b.messages))
    for i in range(n):
        ma = a.messages[i] if i < len(a.messages) else None
        mb = b.messages[i] if i < len(b.messages) else None
        if ma is None or mb is None:
            out.append({"field": f"messages[{i}]", "before": ma, "after": mb})
            continue
        for k in ("role", "content"):
            if ma.get(k) != mb.get(k):
                out.append({"field": f"messages[{i}].{k}", "before": ma.get(k), "after": mb.get(k)})
    for k in ("model", "params", "response_format"):
        if getattr(a, k) != getattr(b, k):
            out.append({"field": k, "before": getattr(a, k), "after": getattr(b, k)})
    return out
