"""Experiments and playgrounds: runs of a task over a dataset version (DESIGN.md section 2).

An experiment's rows are traces in the span shape (an ``eval`` root span with input, output,
expected and scores; a ``task`` span and its ``llm`` spans; a ``score`` span per scorer). They
live in a project of their own (``projects.kind = 'experiment'``), so the span tools (filters,
the trace view, export, full-text search) work on them unchanged; listings of projects leave
such projects out. The experiment records what makes it repeatable: the dataset and version,
the prompt and version, the model and params.

A playground is a saved set-up (a dataset and version, variants) whose last results are traces
in a project of its own (kind ``'playground'``). Each cell's root span carries
``metadata.playground = {"variant": VID, "record": RECORD_ID, "repeat": N}``; re-running a
cell replaces its trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import orjson

from .audit import default_author
from .connection import Store
from .errors import NotFound, StoreError
from .jsontext import loads as _loads
from .models import now_iso
from .projects import ensure_project, find_project, hidden_project, project_name

STATUSES = ("running", "complete", "cancelled")


class ExperimentError(StoreError):
    pass


def has_experiments(store: Store) -> bool:
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'experiments'").fetchone() is not None


@dataclass
class ExperimentInfo:
    id: int
    project: str
    name: str
    rows_project: str  # the (hidden) project holding its rows: pass it to any span tool
    created: str
    author: str
    dataset: Optional[str] = None
    dataset_version: Optional[int] = None
    prompt_slug: Optional[str] = None
    prompt_version: Optional[int] = None
    model: Optional[str] = None
    params: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    status: str = "running"
    rows: int = 0
    errors: int = 0
    scores: dict = field(default_factory=dict)  # name -> average over rows (None-valued scores skipped)

    @property
    def prompt(self) -> Optional[str]:
        return f"{self.prompt_slug}@{self.prompt_version}" if self.prompt_slug else None

    def to_json(self) -> dict:
        return {"name": self.name, "created": self.created, "dataset": self.dataset,
                "dataset_version": self.dataset_version, "rows": self.rows, "scores": self.scores,
                "prompt": self.prompt, "model": self.model, "errors": self.errors, "status": self.status,
                "author": self.author}


_NAME = re.compile(r"^[^\x00-\x1f]{1,200}$")


def loads(text):
    return None if text is None else _loads(text)


def _unique_name(c, pid: int, name: str) -> str:
    taken = {r[0] for r in c.execute("SELECT name FROM experiments WHERE project_id = ? AND (name = ? OR name LIKE ?)",
                                     (pid, name, name + " #%"))}
    if name not in taken:
        return name
    n = 2
    while f"{name} #{n}" in taken:
        n += 1
    return f"{name} #{n}"


def create_experiment(store: Store, project: str, name: str, *, dataset_id: Optional[int] = None,
                      dataset_version: Optional[int] = None, prompt_slug: Optional[str] = None,
                      prompt_version: Optional[int] = None, model: Optional[str] = None,
                      params: Optional[dict] = None, metadata: Optional[dict] = None,
                      author: Optional[str] = None) -> ExperimentInfo:
    """A new experiment (status running). A name already used in the project gets a suffix
    (``name #2``; not ``-2``, which after ``dataset@3`` reads like a version): an experiment is
    never overwritten."""
    if not _NAME.match(name or ""):
        raise ExperimentError(f"{name!r} is not an experiment name")
    author = author or default_author()
    with store.write() as c:
        pid, _ = ensure_project(c, project)
        name = _unique_name(c, pid, name)
        rows_pid = hidden_project(c, "experiment", f"{project}/{name}/{now_iso()}")
        cur = c.execute(
            "INSERT INTO experiments (project_id, name, rows_project_id, created, author, dataset_id, dataset_version,"
            " prompt_slug, prompt_version, model, params, metadata, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (pid, name, rows_pid, now_iso(), author, dataset_id, dataset_version, prompt_slug, prompt_version,
             model, orjson.dumps(params or {}).decode(), orjson.dumps(metadata or {}).decode(), "running"))
        eid = cur.lastrowid
    return get_experiment(store, project, name, _id=eid)


def finish_experiment(store: Store, exp: ExperimentInfo, status: str = "complete", *,
                      model: Optional[str] = None) -> None:
    """Mark the experiment finished; ``model``: the model its rows used, when known only at the
    end (an eval's task calls models of its own choosing)."""
    if status not in STATUSES:
        raise ExperimentError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    with store.write() as c:
        c.execute("UPDATE experiments SET status = ?, model = coalesce(?, model) WHERE id = ?", (status, model, exp.id))
    exp.status = status
    if model is not None:
        exp.model = model


_SELECT = """
    SELECT e.id, p.name, e.name, e.rows_project_id, e.created, e.author, d.name, e.dataset_version,
           e.prompt_slug, e.prompt_version, e.model, e.params, e.metadata, e.status
    FROM experiments e JOIN projects p ON p.id = e.project_id LEFT JOIN datasets d ON d.id = e.dataset_id
"""


def _summary(store: Store, rows_pid: int) -> tuple[int, int, dict]:
    conn = store.conn
    rows, errors = conn.execute(
        "SELECT count(*), count(error) FROM spans WHERE project_id = ? AND is_root = 1", (rows_pid,)).fetchone()
    scores = {}
    for name, avg in conn.execute(
            "SELECT sc.name, avg(sc.value) FROM spans s JOIN span_scores sc ON sc.span_rid = s.rid "
            "WHERE s.project_id = ? AND s.is_root = 1 AND sc.value IS NOT NULL GROUP BY sc.name ORDER BY sc.name",
            (rows_pid,)):
        scores[name] = avg
    return rows, errors, scores


def _info(store: Store, r, summary: bool = True) -> ExperimentInfo:
    rows, errors, scores = _summary(store, r[3]) if summary else (0, 0, {})
    return ExperimentInfo(id=r[0], project=r[1], name=r[2], rows_project=project_name(store, r[3]), created=r[4],
                          author=r[5], dataset=r[6], dataset_version=r[7], prompt_slug=r[8], prompt_version=r[9],
                          model=r[10], params=loads(r[11]) or {}, metadata=loads(r[12]) or {}, status=r[13],
                          rows=rows, errors=errors, scores=scores)


def get_experiment(store: Store, project: str, name: str, *, _id: Optional[int] = None) -> ExperimentInfo:
    pid = find_project(store, project)
    if pid is None or not has_experiments(store):
        raise NotFound(f"no experiment named {name!r} in project {project!r}")
    if _id is not None:
        r = store.conn.execute(_SELECT + " WHERE e.id = ?", (_id,)).fetchone()
    else:
        r = store.conn.execute(_SELECT + " WHERE e.project_id = ? AND e.name = ?", (pid, name)).fetchone()
    if r is None:
        raise NotFound(f"no experiment named {name!r} in project {project!r}")
    return _info(store, r)


def list_experiments(store: Store, project: str, *, summaries: bool = True) -> list[ExperimentInfo]:
    """The project's experiments, oldest first (so a sparkline reads left to right).
    ``summaries=False``: without rows, errors and score averages (no pass over their rows)."""
    pid = find_project(store, project)
    if pid is None or not has_experiments(store):
        return []
    rows = store.conn.execute(_SELECT + " WHERE e.project_id = ? ORDER BY e.created, e.id", (pid,)).fetchall()
    return [_info(store, r, summaries) for r in rows]


# --- playgrounds --------------------------------------------------------------------------------

@dataclass
class PlaygroundInfo:
    id: int
    project: str
    name: str
    rows_project: str
    dataset: Optional[str]
    dataset_version: Optional[int]  # None: the latest version
    variants: list  # [{"id": VID, "prompt": "slug@V", "model": NAME, "params": {...}, "repeat": N}]
    created: str
    author: str
    updated: str
    settings: dict = field(default_factory=dict)  # e.g. {"scorers": ["Levenshtein"], "judge": MODEL}

    def to_json(self) -> dict:
        return {"name": self.name, "dataset": self.dataset, "dataset_version": self.dataset_version,
                "variants": self.variants, "settings": self.settings, "updated": self.updated,
                "author": self.author}


_PG_SELECT = """
    SELECT g.id, p.name, g.name, g.rows_project_id, d.name, g.dataset_version, g.variants, g.created, g.author,
           g.updated, g.settings
    FROM playgrounds g JOIN projects p ON p.id = g.project_id LEFT JOIN datasets d ON d.id = g.dataset_id
"""


def _pg(store: Store, r) -> PlaygroundInfo:
    return PlaygroundInfo(r[0], r[1], r[2], project_name(store, r[3]), r[4], r[5], orjson.loads(r[6]), r[7], r[8],
                          r[9], orjson.loads(r[10]))


def save_playground(store: Store, project: str, name: str, *, dataset: Optional[str], dataset_version: Optional[int],
                    variants: list, settings: Optional[dict] = None, author: Optional[str] = None) -> PlaygroundInfo:
    """Create or update playground ``name`` (its set-up; its results stay). ``settings`` None
    keeps the stored ones."""
    if not _NAME.match(name or ""):
        raise ExperimentError(f"{name!r} is not a playground name")
    seen = set()
    for v in variants:
        if not isinstance(v, dict) or not v.get("id"):
            raise ExperimentError("each variant needs an id")
        if v["id"] in seen:
            raise ExperimentError(f"two variants have the id {v['id']!r}")
        seen.add(v["id"])
    if settings is not None and not isinstance(settings, dict):
        raise ExperimentError("playground settings must be an object")
    author = author or default_author()
    now = now_iso()
    with store.write() as c:
        pid, _ = ensure_project(c, project)
        did = None
        if dataset is not None:
            row = c.execute("SELECT id FROM datasets WHERE project_id = ? AND name = ?", (pid, dataset)).fetchone()
            if row is None:
                raise NotFound(f"no dataset named {dataset!r} in project {project!r}")
            did = row[0]
        row = c.execute("SELECT id FROM playgrounds WHERE project_id = ? AND name = ?", (pid, name)).fetchone()
        vjson = orjson.dumps(variants).decode()
        sjson = orjson.dumps(settings).decode() if settings is not None else None
        if row:
            c.execute("UPDATE playgrounds SET dataset_id = ?, dataset_version = ?, variants = ?, updated = ?, "
                      "author = ?, settings = coalesce(?, settings) WHERE id = ?",
                      (did, dataset_version, vjson, now, author, sjson, row[0]))
        else:
            rows_pid = hidden_project(c, "playground", f"{project}/{name}/{now}")
            c.execute("INSERT INTO playgrounds (project_id, name, rows_project_id, dataset_id, dataset_version, "
                      "variants, settings, created, author, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (pid, name, rows_pid, did, dataset_version, vjson, sjson or "{}", now, author, now))
    return get_playground(store, project, name)


def get_playground(store: Store, project: str, name: str) -> PlaygroundInfo:
    pid = find_project(store, project)
    r = None
    if pid is not None and has_experiments(store):
        r = store.conn.execute(_PG_SELECT + " WHERE g.project_id = ? AND g.name = ?", (pid, name)).fetchone()
    if r is None:
        raise NotFound(f"no playground named {name!r} in project {project!r}")
    return _pg(store, r)


def list_playgrounds(store: Store, project: str) -> list[PlaygroundInfo]:
    pid = find_project(store, project)
    if pid is None or not has_experiments(store):
        return []
    return [_pg(store, r) for r in store.conn.execute(_PG_SELECT + " WHERE g.project_id = ? ORDER BY g.updated DESC",
                                                      (pid,))]


@dataclass
class CellRow:
    """A playground cell's stored result: its trace's root span."""
    variant: str
    record: str
    repeat: int
    id: str  # root row id (open its trace with this)
    root_span_id: str
    output: Any
    error: Any
    scores: dict
    metrics: dict
    created: str


def playground_cells(store: Store, pg: PlaygroundInfo) -> list[CellRow]:
    """Every stored cell of the playground (its last results)."""
    pid = find_project(store, pg.rows_project)
    if pid is None:
        return []
    out = []
    for r in store.conn.execute(
            "SELECT id, root_span_id, output, error, scores, metrics, created, "
            "json_extract(metadata, '$.playground') FROM spans WHERE project_id = ? AND is_root = 1 ORDER BY rid",
            (pid,)):
        key = loads(r[7]) or {}
        out.append(CellRow(variant=str(key.get("variant")), record=str(key.get("record")),
                           repeat=int(key.get("repeat") or 0), id=r[0], root_span_id=r[1], output=loads(r[2]),
                           error=loads(r[3]), scores=loads(r[4]) or {}, metrics=loads(r[5]) or {}, created=r[6]))
    return out


def replace_traces(store: Store, rows_project: str, old_root_span_ids: Iterable[str]) -> int:
    """Delete the traces (every span) of these root span ids in a hidden project: a re-run cell
    replaces its trace. Returns the spans removed. Never touches a logs project."""
    ids = list(old_root_span_ids)
    if not ids:
        return 0
    n = 0
    with store.write() as c:
        row = c.execute("SELECT id, kind FROM projects WHERE name = ?", (rows_project,)).fetchone()
        if row is None:
            return 0
        if row[1] == "logs":
            raise ExperimentError("refusing to delete spans of a logs project")
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            n += c.execute(f"DELETE FROM spans WHERE project_id = ? AND root_span_id IN ({marks})",
                           (row[0], *chunk)).rowcount
    return n


def delete_playground_variant(store: Store, pg: PlaygroundInfo, variant_id: str) -> int:
    """Remove a variant's stored cells (when the variant is removed from the set-up)."""
    roots = [c.root_span_id for c in playground_cells(store, pg) if c.variant == variant_id]
    return replace_traces(store, pg.rows_project, roots)


def copy_traces(store: Store, from_project: str, to_project: str, root_span_ids: Iterable[str],
                *, metadata: Optional[dict] = None) -> int:
    """Copy whole traces (every span, same ids) from one project into another: a playground's
    cells saved as an experiment. ``metadata`` is merged into each copied root span's metadata.
    Returns the spans copied."""
    from .export import EXPORT_LINE
    from .spans import log_spans

    src = find_project(store, from_project)
    ids = list(root_span_ids)
    if src is None or not ids:
        return 0
    spans: list[dict] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for (line,) in store.conn.execute(
                f"SELECT {EXPORT_LINE} FROM spans s WHERE s.project_id = ? AND s.root_span_id IN ({marks})"
                " ORDER BY s.rid", (src, *chunk)):
            span = orjson.loads(line)
            span.pop("comments", None)
            if metadata and span["span_id"] == span["root_span_id"]:
                span["metadata"] = {**(span.get("metadata") or {}), **metadata}
            spans.append(span)
    if spans:
        log_spans(store, to_project, spans)
    return len(spans)


def projects_with_experiment(store: Store, name: str) -> list[str]:
    """The projects that hold an experiment named ``name`` (to point at the right ``-p``)."""
    if not has_experiments(store):
        return []
    return [r[0] for r in store.conn.execute(
        "SELECT p.name FROM experiments e JOIN projects p ON p.id = e.project_id WHERE e.name = ? ORDER BY p.name",
        (name,))]
