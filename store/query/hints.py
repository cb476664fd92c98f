"""What the filter bar and the CLI suggest: known field paths, score names, tags and span names
(completion data, cached until the database changes) and notes on near-miss names."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Optional

from ..connection import Store
from ..errors import NotFound
from ..projects import project_id
from .btql import Node, Path, QueryError, parse_filter, parse_query, walk_nodes


@dataclass
class Completions:
    fields: list  # [(path, count)]
    score_names: list
    metadata_keys: list
    tags: list
    span_names: list


_cache: dict = {}
_cache_lock = threading.Lock()
SAMPLE = 5000


def completions(store: Store, project: str) -> Completions:
    """Known field paths with counts for the filter bar's completion. Score names, tags and
    span names are exact (side tables and indexes); metadata keys come from the newest
    ``SAMPLE`` spans. Cached until the database changes."""
    conn = store.conn
    version = (store.path, project, conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes,
               conn.execute("SELECT max(rid) FROM spans").fetchone()[0])
    with _cache_lock:
        hit = _cache.get((store.path, project))
        if hit and hit[0] == version:
            return hit[1]
    try:
        pid = project_id(store, project, create=False)
    except NotFound:
        return Completions([], [], [], [], [])
    scores = conn.execute(
        "SELECT sc.name, count(*) FROM span_scores sc JOIN spans s ON s.rid = sc.span_rid"
        " WHERE s.project_id = ? GROUP BY sc.name ORDER BY 2 DESC", (pid,)
    ).fetchall()
    tags = conn.execute(
        "SELECT t.tag, count(*) FROM span_tags t JOIN spans s ON s.rid = t.span_rid"
        " WHERE s.project_id = ? GROUP BY t.tag ORDER BY 2 DESC LIMIT 200", (pid,)
    ).fetchall()
    names = conn.execute(
        "SELECT name, count(*) FROM spans WHERE project_id = ? AND name IS NOT NULL GROUP BY name ORDER BY 2 DESC LIMIT 200",
        (pid,),
    ).fetchall() if _small(conn, pid) else conn.execute(
        "SELECT name, count(*) FROM (SELECT name FROM spans WHERE project_id = ? ORDER BY created DESC LIMIT ?)"
        " WHERE name IS NOT NULL GROUP BY name ORDER BY 2 DESC", (pid, SAMPLE * 4)
    ).fetchall()
    md = conn.execute(
        """
        SELECT substr(j.fullkey, 3), count(*) FROM
          (SELECT metadata FROM spans WHERE project_id = ? ORDER BY created DESC LIMIT ?) s,
          json_tree(s.metadata) j
        WHERE j.fullkey <> '$' AND j.fullkey NOT LIKE '%[%' AND j.type <> 'null'
        GROUP BY j.fullkey ORDER BY 2 DESC LIMIT 300
        """,
        (pid, SAMPLE),
    ).fetchall()
    md_keys = [(k.replace('"', ""), n) for k, n in md]
    fields = [(f"scores.{n}", k) for n, k in scores] + [(f"metadata.{k}", n) for k, n in md_keys]
    base = ["input", "output", "expected", "error", "tags", "created", "name", "type", "duration", "comment",
            "is_root", "id", "span_id", "root_span_id", "metrics.tokens", "metrics.prompt_tokens",
            "metrics.completion_tokens", "metrics.estimated_cost", "span_attributes.name", "span_attributes.type"]
    fields += [(b, None) for b in base]
    out = Completions(fields, scores, md_keys, tags, names)
    with _cache_lock:
        _cache[(store.path, project)] = (version, out)
    return out


@dataclass
class FieldValues:
    """Known values of a field, most common first: [(value, count)]. ``sampled``: the counts
    are over the newest ``SAMPLE`` spans (a project that has more)."""

    path: str
    values: list
    sampled: bool


def field_values(store: Store, project: str, path: str, limit: int = 50) -> FieldValues:
    """The text values a metadata path (``metadata.model``, ``metadata."my key".x``) has in
    the project's newest ``SAMPLE`` spans (read through the created index: no scan of the
    project), with how many of those spans have each."""
    node = parse_filter(f"{path} IS NULL")
    parts = getattr(getattr(node, "arg", None), "parts", None)
    if not parts or parts[0] != "metadata" or len(parts) < 2:
        raise QueryError(f"values are listed for metadata paths, not {path!r}", 0, path)
    json_path = "$" + "".join(f'."{p}"' if isinstance(p, str) else f"[{p}]" for p in parts[1:])
    try:
        pid = project_id(store, project, create=False)
    except NotFound:
        return FieldValues(path, [], False)
    conn = store.conn
    rows = conn.execute(
        "SELECT v, count(*) FROM (SELECT json_extract(metadata, ?) AS v FROM spans WHERE project_id = ?"
        " ORDER BY created DESC LIMIT ?) WHERE typeof(v) = 'text' GROUP BY v ORDER BY 2 DESC, 1 LIMIT ?",
        (json_path, pid, SAMPLE, limit),
    ).fetchall()
    sampled = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM spans WHERE project_id = ? LIMIT ?)", (pid, SAMPLE + 1)
    ).fetchone()[0] > SAMPLE
    return FieldValues(path, [(v, n) for v, n in rows], sampled)


def field_hints(store: Store, project: str, *nodes: Optional[Node]) -> list[str]:
    """Notes on paths that name nothing this project has but look like something it has:
    `scores.factuality` when only `scores.Factuality` exists. (Not errors: an absent key is
    legal and simply matches nothing.) Score names are exact; metadata keys come from the
    completion sample, so only a close match earns a note there."""
    import difflib

    try:
        comp = completions(store, project)
    except Exception:
        return []
    scores = {n for n, _ in comp.score_names}
    md = {k for k, _ in comp.metadata_keys}
    notes: list[str] = []
    for n in (n for top in nodes for n in walk_nodes(top)):
        if not isinstance(n, Path) or len(n.parts) < 2 or not all(isinstance(p, str) for p in n.parts):
            continue
        root, rest = n.parts[0], ".".join(n.parts[1:])
        if root == "scores" and scores and rest not in scores:
            close = difflib.get_close_matches(rest, sorted(scores), n=1, cutoff=0.6) or \
                [s for s in scores if s.lower() == rest.lower()]
            hint = f"; did you mean scores.{close[0]}?" if close else f" (scores: {_some(sorted(scores))})"
            notes.append(f"no score named {rest!r} in project {project!r}{hint}")
        elif root == "metadata" and md and rest not in md and not any(k.startswith(rest + ".") for k in md):
            close = difflib.get_close_matches(rest, sorted(md), n=1, cutoff=0.75) or \
                [k for k in md if k.lower() == rest.lower()]
            if close:
                notes.append(f"no recent span has metadata.{rest}; did you mean metadata.{close[0]}?")
    return list(dict.fromkeys(notes))


def _some(names: list[str], most: int = 12) -> str:
    """Every name, or the first ``most`` and how many more."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def filter_scores(node: Optional[Node]) -> list[str]:
    """The score names a filter's paths name (``scores.X``), in the order written."""
    out: list[str] = []
    for n in walk_nodes(node) if node is not None else ():
        if isinstance(n, Path) and len(n.parts) == 2 and n.parts[0] == "scores" and isinstance(n.parts[1], str):
            out.append(n.parts[1])
    return list(dict.fromkeys(out))


def query_hints(store: Store, project: str, text: str) -> list[str]:
    """``field_hints`` for a full query or a filter (its project from its FROM, if any)."""
    try:
        q = parse_query(text)
    except QueryError:
        return []
    exprs = [i.expr for i in (*q.select, *q.dimensions, *q.measures, *q.sort)]
    return field_hints(store, q.source_arg or project, q.filter, *exprs)


def _small(conn, pid: int) -> bool:
    return conn.execute("SELECT count(*) FROM (SELECT 1 FROM spans WHERE project_id = ? LIMIT 200001)", (pid,)).fetchone()[0] <= 200000
