"""Human review (DESIGN.md section 2): score configurations, each reviewer's values, and the
review queue with claims.

- **Score configurations** per project: ``continuous`` (0..1, shown as 0-100%), ``categorical``
  (options, each a label and a value in [0,1], in the order defined; or, ``to_expected``, the
  label written into the row's expected, optionally ``multi``-select), ``boolean`` (1/0), and
  ``text`` (free-form, stored in the row's metadata under ``path``, default the config's name).
- **A human score is a score.** Each reviewer's value is kept with its author
  (``human_scores``); the row's ``scores.NAME`` is their average, so ``scores.tone < 0.5``
  filters it like any score. Every change is audited (which is also what keeps it through a
  re-import: ``store.spans.keep_human_edits``).
- **The queue**: a trace (by its root row id) is in ``backlog`` (flagged), ``pending`` (a
  reviewer opened it) or ``complete``, optionally assigned to a person. A reviewer holding an
  item has a **claim** that expires after ``CLAIM_SECONDS`` idle, so two reviewers working one
  queue are not handed the same item at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import orjson

from .audit import audit, default_author
from .connection import Store
from .errors import InputError, NotFound, StoreError
from .jsontext import dumps_text, json_or_null, loads
from .models import now_iso
from .projects import project_id

TYPES = ("continuous", "categorical", "boolean", "text")
STATES = ("backlog", "pending", "complete")
CLAIM_SECONDS = 300.0  # a claim lapses after this long without activity from its holder


class ReviewError(StoreError):
    """A review request that cannot be met (a bad configuration, an unknown score)."""


# --- score configurations ------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    label: str
    value: float


@dataclass
class ScoreConfig:
    name: str
    type: str
    options: list = field(default_factory=list)  # [Option], in the order defined
    to_expected: bool = False
    multi: bool = False
    path: Optional[str] = None  # text: the metadata key it is stored under
    description: str = ""

    @property
    def metadata_key(self) -> str:
        return self.path or self.name

    @property
    def stored_in(self) -> str:
        """Where a reviewer's pick lands on the row: ``scores.NAME``, ``expected`` or ``metadata.KEY``."""
        if self.type == "text":
            return f"metadata.{self.metadata_key}"
        if self.to_expected:
            return "expected" + (" (multi)" if self.multi else "")
        return f"scores.{self.name}"

    def to_json(self) -> dict:
        """DESIGN.md's jsonl shape: {name, type, options: [{label, value}], to_expected, description}."""
        return {"name": self.name, "type": self.type,
                "options": [{"label": o.label, "value": o.value} for o in self.options],
                "to_expected": self.to_expected, "description": self.description}

    def option_value(self, label: str) -> float:
        for o in self.options:
            if o.label == label:
                return o.value
        raise ReviewError(f"score {self.name!r} has no option {label!r} "
                          f"(its options: {', '.join(o.label for o in self.options)})")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ReviewError("a score needs a name")
    if len(name) > 100 or any(c in name for c in "\n\r\t"):
        raise ReviewError("a score name is one line of at most 100 characters")
    return name


def make_config(name: str, type: str, options: Iterable[tuple[str, float] | Option] = (), *,
                to_expected: bool = False, multi: bool = False, path: Optional[str] = None,
                description: str = "") -> ScoreConfig:
    """A checked configuration (``ReviewError`` says what is wrong, in one line)."""
    name = _check_name(name)
    if type not in TYPES:
        raise ReviewError(f"--type must be one of {', '.join(TYPES)}, not {type!r}")
    opts = [o if isinstance(o, Option) else Option(str(o[0]).strip(), o[1]) for o in options]
    seen = set()
    for o in opts:
        if not o.label:
            raise ReviewError(f"score {name!r}: an option needs a label")
        if o.label in seen:
            raise ReviewError(f"score {name!r}: option {o.label!r} is given twice")
        seen.add(o.label)
        if isinstance(o.value, bool) or not isinstance(o.value, (int, float)) or not 0 <= o.value <= 1:
            raise ReviewError(f"score {name!r}: option {o.label!r} needs a value in [0, 1], got {o.value!r}")
    if type == "categorical":
        if len(opts) < 2:
            raise ReviewError(f"score {name!r}: a categorical score needs at least two options (--option LABEL=VALUE)")
        if len(opts) > 9:
            raise ReviewError(f"score {name!r}: at most 9 options (keys 1-9 pick them)")
    elif opts:
        raise ReviewError(f"score {name!r}: only a categorical score has options")
    if (to_expected or multi) and type != "categorical":
        raise ReviewError(f"score {name!r}: --to-expected and --multi are for categorical scores")
    if multi and not to_expected:
        raise ReviewError(f"score {name!r}: --multi writes several labels into expected: it needs --to-expected")
    if path is not None and type != "text":
        raise ReviewError(f"score {name!r}: --path is for text scores (the metadata key they are stored under)")
    return ScoreConfig(name, type, [Option(o.label, float(o.value)) for o in opts], bool(to_expected), bool(multi),
                       path, description or "")


def _config(row: tuple) -> ScoreConfig:
    return ScoreConfig(row[0], row[1], [Option(o["label"], o["value"]) for o in orjson.loads(row[2])], bool(row[3]),
                       bool(row[4]), row[5], row[6])


_CONFIG_COLS = "name, type, options, to_expected, multi, path, description"


def has_review(store: Store) -> bool:
    """False only for a file older than the review tables, opened read-only."""
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'review_queue'").fetchone() is not None


def _read_pid(store: Store, project: str) -> Optional[int]:
    """The project's id for a read; None when there is nothing to read (no such project, or a
    read-only file older than the review tables)."""
    if not has_review(store):
        return None
    try:
        return project_id(store, project, create=False)
    except NotFound:
        return None


def _owner_pid(store: Store, pid: int) -> Optional[int]:
    """The project an experiment's rows project belongs to (None for any other project)."""
    if store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'experiments'").fetchone() is None:
        return None
    r = store.conn.execute("SELECT project_id FROM experiments WHERE rows_project_id = ?", (pid,)).fetchone()
    return r[0] if r else None


def list_score_configs(store: Store, project: str) -> list[ScoreConfig]:
    """The project's score configurations, in the order they were added. An experiment's rows
    (a hidden project of their own, reviewed when a comparison flags them) have none of their
    own: they are reviewed with the configurations of the project the experiment belongs to."""
    pid = _read_pid(store, project)
    if pid is None:
        return []
    rows = store.conn.execute(f"SELECT {_CONFIG_COLS} FROM score_configs WHERE project_id = ? ORDER BY id",
                              (pid,)).fetchall()
    if not rows and (owner := _owner_pid(store, pid)) is not None:
        rows = store.conn.execute(f"SELECT {_CONFIG_COLS} FROM score_configs WHERE project_id = ? ORDER BY id",
                                  (owner,)).fetchall()
    return [_config(r) for r in rows]


def get_score_config(store: Store, project: str, name: str) -> ScoreConfig:
    for c in list_score_configs(store, project):
        if c.name == name:
            return c
    raise NotFound(f"no score named {name!r} in project {project!r} (bt-tui scores list shows them)")


def add_score_config(store: Store, project: str, config: ScoreConfig, *, author: Optional[str] = None,
                     replace: bool = False) -> ScoreConfig:
    """Add a configuration (``replace``: change an existing one of that name)."""
    author = author or default_author()
    opts = dumps_text([{"label": o.label, "value": o.value} for o in config.options])
    pid = project_id(store, project)
    with store.write() as conn:
        exists = conn.execute("SELECT 1 FROM score_configs WHERE project_id = ? AND name = ?",
                              (pid, config.name)).fetchone()
        if exists and not replace:
            raise ReviewError(f"project {project!r} already has a score named {config.name!r}")
        conn.execute(
            "INSERT INTO score_configs (project_id, name, type, options, to_expected, multi, path, description,"
            " created, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET"
            " type = excluded.type, options = excluded.options, to_expected = excluded.to_expected,"
            " multi = excluded.multi, path = excluded.path, description = excluded.description",
            (pid, config.name, config.type, opts, int(config.to_expected), int(config.multi), config.path,
             config.description, now_iso(), author))
        audit(conn, pid, "score_config", config.name, "config", author, None, config.to_json())
    return config


def logged_score_rows(store: Store, project: str, name: str) -> int:
    """How many rows of the project hold ``scores.NAME`` that no reviewer gave (logged or
    imported): a human score of that name would replace it on the rows reviewers score."""
    pid = _read_pid(store, project)
    if pid is None:
        return 0
    return store.conn.execute(
        "SELECT count(*) FROM span_scores ss JOIN spans s ON s.rid = ss.span_rid WHERE ss.name = ?"
        " AND s.project_id = ? AND NOT EXISTS (SELECT 1 FROM human_scores h WHERE h.project_id = s.project_id"
        " AND h.row_id = s.id AND h.name = ss.name)", (name, pid)).fetchone()[0]


def remove_score_config(store: Store, project: str, name: str, *, author: Optional[str] = None) -> None:
    """Remove a configuration. The scores reviewers gave stay on the rows (they are data)."""
    pid = project_id(store, project, create=False)
    with store.write() as conn:
        cur = conn.execute("DELETE FROM score_configs WHERE project_id = ? AND name = ?", (pid, name))
        if not cur.rowcount:
            raise NotFound(f"no score named {name!r} in project {project!r} (bt-tui scores list shows them)")
        audit(conn, pid, "score_config", name, "config", author or default_author(), {"name": name}, None)


# --- each reviewer's values ----------------------------------------------------------------------

@dataclass
class HumanValue:
    """One reviewer's value of one score on one row."""

    name: str
    author: str
    value: Optional[float]  # the number (continuous, categorical, boolean)
    text: Optional[str]  # text scores: the text; categorical: the label (JSON list when multi)
    updated: str

    @property
    def labels(self) -> list[str]:
        if self.text is None:
            return []
        if self.text.startswith("["):
            try:
                return list(orjson.loads(self.text))
            except orjson.JSONDecodeError:
                pass
        return [self.text]


@dataclass
class ValueChange:
    """What ``set_value`` did: the reviewer's value before (None: they had none) and after,
    and the row's resulting score (the reviewers' average), for undo and the screen."""

    row_id: str
    name: str
    author: str
    before: Optional[HumanValue]
    after: Optional[HumanValue]
    row_value: Any = None  # the row's score now (or its expected / metadata text)


def _row(conn, pid: int, row_id: str) -> tuple:
    row = conn.execute("SELECT rid, scores, expected, metadata FROM spans WHERE project_id = ? AND id = ?",
                       (pid, row_id)).fetchone()
    if row is None:
        raise NotFound(f"no row with id {row_id!r}")
    return row


def _own(conn, pid: int, row_id: str, name: str, author: str) -> Optional[HumanValue]:
    r = conn.execute("SELECT value, text, updated FROM human_scores WHERE project_id = ? AND row_id = ? AND name = ?"
                     " AND author = ?", (pid, row_id, name, author)).fetchone()
    return None if r is None else HumanValue(name, author, r[0], r[1], r[2])


def set_value(store: Store, project: str, row_id: str, config: ScoreConfig, *, value: Optional[float] = None,
              text: Optional[str] = None, labels: Optional[list[str]] = None, clear: bool = False,
              author: Optional[str] = None) -> ValueChange:
    """Set (or, ``clear``, remove) one reviewer's value of a configured score on a row, in one
    transaction: their value is kept with their name; then the row follows:

    - a score (continuous, boolean, categorical): ``scores.NAME`` = the average of every
      reviewer's value (removed when none is left);
    - a categorical ``to_expected``: expected = the label (``multi``: the list of labels);
    - text: ``metadata[path]`` = the text.

    Values are checked (``ReviewError``): a number in [0, 1]; a categorical label it has."""
    author = author or default_author()
    if not clear:
        value, text = _checked(config, value, text, labels)
    pid = project_id(store, project, create=False)
    now = now_iso()
    with store.write() as conn:
        rid, scores_t, expected_t, metadata_t = _row(conn, pid, row_id)
        before = _own(conn, pid, row_id, config.name, author)
        if clear:
            conn.execute("DELETE FROM human_scores WHERE project_id = ? AND row_id = ? AND name = ? AND author = ?",
                         (pid, row_id, config.name, author))
            after = None
        else:
            conn.execute(
                "INSERT INTO human_scores (project_id, row_id, name, author, value, text, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, row_id, name, author) DO UPDATE SET"
                " value = excluded.value, text = excluded.text, updated = excluded.updated",
                (pid, row_id, config.name, author, value, text, now))
            after = HumanValue(config.name, author, value, text, now)
        change = ValueChange(row_id, config.name, author, before, after)
        if config.type == "text":
            md = loads(metadata_t)
            new_md = dict(md)
            if after is None:
                new_md.pop(config.metadata_key, None)
            else:
                new_md[config.metadata_key] = text
            if new_md != md:
                conn.execute("UPDATE spans SET metadata = ? WHERE rid = ?", (dumps_text(new_md), rid))
                audit(conn, pid, "span", row_id, "metadata", author, md, new_md)
            change.row_value = new_md.get(config.metadata_key)
        elif config.to_expected:
            expected = None if expected_t is None else loads(expected_t)
            new = None if after is None else (after.labels if config.multi else text)
            if new != expected:
                conn.execute("UPDATE spans SET expected = ? WHERE rid = ?", (json_or_null(new), rid))
                audit(conn, pid, "span", row_id, "expected", author, expected, new)
            change.row_value = new
        else:
            vals = [r[0] for r in conn.execute(
                "SELECT value FROM human_scores WHERE project_id = ? AND row_id = ? AND name = ? AND value IS NOT NULL",
                (pid, row_id, config.name))]
            scores = orjson.loads(scores_t)
            new_scores = dict(scores)
            if vals:
                new_scores[config.name] = round(sum(vals) / len(vals), 6)
            else:
                new_scores.pop(config.name, None)
            if new_scores != scores:
                conn.execute("UPDATE spans SET scores = ? WHERE rid = ?", (dumps_text(new_scores), rid))
                audit(conn, pid, "span", row_id, "scores", author, scores, new_scores)
            change.row_value = new_scores.get(config.name)
    return change


def undo_value(store: Store, project: str, change: ValueChange, config: ScoreConfig) -> ValueChange:
    """Put the reviewer's value back as it was before ``change`` (the row follows)."""
    b = change.before
    if b is None:
        return set_value(store, project, change.row_id, config, clear=True, author=change.author)
    if config.type == "text":
        return set_value(store, project, change.row_id, config, text=b.text, author=change.author)
    if config.to_expected:
        return set_value(store, project, change.row_id, config, labels=b.labels, author=change.author)
    return set_value(store, project, change.row_id, config, value=b.value, author=change.author)


def _checked(config: ScoreConfig, value: Optional[float], text: Optional[str],
             labels: Optional[list[str]]) -> tuple[Optional[float], Optional[str]]:
    if config.type == "text":
        if text is None:
            raise ReviewError(f"score {config.name!r} is a text score: give text")
        return None, text
    if config.type == "categorical":
        if labels is None:
            if text is not None:
                labels = [text]
            elif value is not None:
                labels = [o.label for o in config.options if o.value == value][:1]
                if not labels:
                    raise ReviewError(f"score {config.name!r} has no option with value {value}")
            else:
                raise ReviewError(f"score {config.name!r} is categorical: pick one of "
                                  f"{', '.join(o.label for o in config.options)}")
        if not config.multi and len(labels) != 1:
            raise ReviewError(f"score {config.name!r} takes one option, not {len(labels)}")
        vals = [config.option_value(label) for label in labels]
        ordered = [o.label for o in config.options if o.label in set(labels)]
        if config.multi:
            return (sum(vals) / len(vals) if vals else None), dumps_text(ordered)
        return vals[0], labels[0]
    if value is None:
        raise ReviewError(f"score {config.name!r} needs a number")
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, (int, float)) or value != value or not 0 <= value <= 1:
        raise ReviewError(f"score {config.name!r}: a score is a number in [0, 1], got {value!r}")
    if config.type == "boolean" and value not in (0, 1):
        raise ReviewError(f"score {config.name!r} is boolean: 1 (yes) or 0 (no), got {value!r}")
    return float(value), None


def human_values(store: Store, project: str, row_id: str) -> dict[str, list[HumanValue]]:
    """Every reviewer's values on a row, by score name (oldest change first)."""
    if not has_review(store):
        return {}
    pid = project_id(store, project, create=False)
    out: dict[str, list[HumanValue]] = {}
    for r in store.conn.execute("SELECT name, author, value, text, updated FROM human_scores WHERE project_id = ?"
                                " AND row_id = ? ORDER BY updated, author", (pid, row_id)):
        out.setdefault(r[0], []).append(HumanValue(*r))
    return out


# --- the queue -----------------------------------------------------------------------------------

@dataclass
class QueueItem:
    id: str  # the trace's root row id
    state: str
    assignee: Optional[str]
    updated: str
    created: str = ""
    flagged_by: str = ""
    claimed_by: Optional[str] = None
    claimed_until: Optional[float] = None
    completed_by: Optional[str] = None
    seq: int = 0

    def to_json(self) -> dict:
        """DESIGN.md's jsonl shape: {id, state, assignee, updated}."""
        return {"id": self.id, "state": self.state, "assignee": self.assignee, "updated": self.updated}

    def claimed_by_other(self, reviewer: str, now: Optional[float] = None) -> bool:
        return bool(self.claimed_by and self.claimed_by != reviewer
                    and (self.claimed_until or 0) > (now if now is not None else time.time()))


_ITEM_COLS = "id, state, assignee, updated, created, flagged_by, claimed_by, claimed_until, completed_by, seq"


def _item(r: tuple) -> QueueItem:
    return QueueItem(*r)


def _check_state(state: str) -> str:
    if state not in STATES:
        raise ReviewError(f"a review state is one of {', '.join(STATES)}, not {state!r}")
    return state


def trace_root_ids(store: Store, project: str, row_ids: Iterable[str]) -> list[str]:
    """The root row id of each given row's trace (a row whose trace has no stored root stands
    for it itself), each once, in the order given. An unknown row id is ``NotFound``."""
    pid = project_id(store, project, create=False)
    out: dict[str, None] = {}
    for row_id in row_ids:
        r = store.conn.execute(
            "SELECT coalesce((SELECT t.id FROM spans t WHERE t.project_id = s.project_id"
            " AND t.span_id = s.root_span_id AND t.is_root = 1 LIMIT 1), s.id)"
            " FROM spans s WHERE s.project_id = ? AND s.id = ?", (pid, row_id)).fetchone()
        if r is None:
            raise NotFound(f"no row with id {row_id!r} in project {project!r}")
        out[r[0]] = None
    return list(out)


def flag(store: Store, project: str, trace_ids: Iterable[str], *, assignee: Optional[str] = None,
         author: Optional[str] = None, reopen: bool = False) -> tuple[int, int]:
    """Put traces (root row ids) into the queue's backlog, optionally assigned. A trace already
    queued keeps its state (flagging again never undoes a review: a complete one stays complete
    unless ``reopen``, which puts it back in the backlog to be reviewed again) and takes the new
    assignee when one is given. Returns (added, updated)."""
    author = author or default_author()
    pid = project_id(store, project, create=False)
    now = now_iso()
    added = updated = 0
    ids = list(dict.fromkeys(trace_ids))
    with store.write() as conn:
        for tid in ids:
            cur = conn.execute("SELECT state, assignee FROM review_queue WHERE project_id = ? AND id = ?",
                               (pid, tid)).fetchone()
            if cur is None:
                conn.execute("INSERT INTO review_queue (project_id, id, state, assignee, flagged_by, created, updated)"
                             " VALUES (?, ?, 'backlog', ?, ?, ?, ?)", (pid, tid, assignee, author, now, now))
                audit(conn, pid, "review", tid, "state", author, None, {"state": "backlog", "assignee": assignee})
                added += 1
                continue
            state = "backlog" if cur[0] == "complete" and reopen else cur[0]
            who = assignee if assignee is not None else cur[1]
            if (state, who) != tuple(cur):
                reopened = ", completed_by = NULL" if state != cur[0] else ""
                conn.execute(f"UPDATE review_queue SET state = ?, assignee = ?, updated = ?{reopened}"
                             " WHERE project_id = ? AND id = ?", (state, who, now, pid, tid))
                audit(conn, pid, "review", tid, "state", author, {"state": cur[0], "assignee": cur[1]},
                      {"state": state, "assignee": who})
                updated += 1
    return added, updated


def flag_selection(store: Store, sel, **kw) -> tuple[int, int]:
    """``flag`` every trace a ``store.selection.Selection`` covers."""
    from .selection import selection_root_ids

    return flag(store, sel.project, list(selection_root_ids(store, sel)), **kw)


def unflag(store: Store, project: str, trace_ids: Iterable[str], *, author: Optional[str] = None) -> int:
    author = author or default_author()
    pid = project_id(store, project, create=False)
    n = 0
    with store.write() as conn:
        for tid in trace_ids:
            row = conn.execute("SELECT state, assignee FROM review_queue WHERE project_id = ? AND id = ?",
                               (pid, tid)).fetchone()
            if row:
                conn.execute("DELETE FROM review_queue WHERE project_id = ? AND id = ?", (pid, tid))
                audit(conn, pid, "review", tid, "state", author, {"state": row[0], "assignee": row[1]}, None)
                n += 1
    return n


def queue_items(store: Store, project: str, *, state: Optional[str] = None, assignee: Optional[str] = None,
                after: Optional[int] = None, limit: Optional[int] = None, reverse: bool = False) -> list[QueueItem]:
    """Queue items in queue order (the order they were flagged), optionally of one state and/or
    assignee, after (``reverse``: before) the item with ``seq`` ``after``."""
    pid = _read_pid(store, project)
    if pid is None:
        return []
    where, params = ["project_id = ?"], [pid]
    if state is not None:
        where.append("state = ?")
        params.append(_check_state(state))
    if assignee is not None:
        where.append("assignee = ?")
        params.append(assignee)
    if after is not None:
        where.append("seq < ?" if reverse else "seq > ?")
        params.append(after)
    sql = f"SELECT {_ITEM_COLS} FROM review_queue WHERE {' AND '.join(where)} ORDER BY seq {'DESC' if reverse else 'ASC'}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = [_item(r) for r in store.conn.execute(sql, params)]
    return rows[::-1] if reverse else rows


def queue_counts(store: Store, project: str, *, assignee: Optional[str] = None) -> dict[str, int]:
    out = {s: 0 for s in STATES}
    pid = _read_pid(store, project)
    if pid is None:
        return out
    sql = "SELECT state, count(*) FROM review_queue WHERE project_id = ?"
    params: list = [pid]
    if assignee is not None:
        sql += " AND assignee = ?"
        params.append(assignee)
    for state, n in store.conn.execute(sql + " GROUP BY state", params):
        out[state] = n
    return out


def queue_position(store: Store, project: str, seq: int, *, assignee: Optional[str] = None) -> int:
    """How many items not complete are in the queue up to the item with ``seq``, itself included
    (its place among those left to review: "12 / 40")."""
    pid = _read_pid(store, project)
    if pid is None:
        return 0
    sql = "SELECT count(*) FROM review_queue WHERE project_id = ? AND state != 'complete' AND seq <= ?"
    params: list = [pid, seq]
    if assignee is not None:
        sql += " AND assignee = ?"
        params.append(assignee)
    return store.conn.execute(sql, params).fetchone()[0]


def get_item(store: Store, project: str, trace_id: str) -> Optional[QueueItem]:
    if not has_review(store):
        return None
    pid = project_id(store, project, create=False)
    r = store.conn.execute(f"SELECT {_ITEM_COLS} FROM review_queue WHERE project_id = ? AND id = ?",
                           (pid, trace_id)).fetchone()
    return None if r is None else _item(r)


def set_state(store: Store, project: str, trace_id: str, state: str, *, author: Optional[str] = None,
              assignee: Any = ...) -> QueueItem:
    """Move a queued trace to ``state`` (and, when given, to ``assignee``; None unassigns). A
    trace not in the queue is added (reviewing a filter marks its traces complete too)."""
    _check_state(state)
    author = author or default_author()
    pid = project_id(store, project, create=False)
    now = now_iso()
    with store.write() as conn:
        cur = conn.execute("SELECT state, assignee FROM review_queue WHERE project_id = ? AND id = ?",
                           (pid, trace_id)).fetchone()
        who = (cur[1] if cur else None) if assignee is ... else assignee
        done_by = author if state == "complete" else None
        if cur is None:
            conn.execute("INSERT INTO review_queue (project_id, id, state, assignee, flagged_by, created, updated,"
                         " completed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (pid, trace_id, state, who, author, now, now, done_by))
        elif (cur[0], cur[1]) != (state, who):
            release = ", claimed_by = NULL, claimed_until = NULL" if state == "complete" else ""
            conn.execute(f"UPDATE review_queue SET state = ?, assignee = ?, updated = ?, completed_by = ?{release}"
                         " WHERE project_id = ? AND id = ?", (state, who, now, done_by, pid, trace_id))
        if cur is None or (cur[0], cur[1]) != (state, who):
            audit(conn, pid, "review", trace_id, "state", author,
                  None if cur is None else {"state": cur[0], "assignee": cur[1]}, {"state": state, "assignee": who})
    item = get_item(store, project, trace_id)
    assert item is not None
    return item


def claim(store: Store, project: str, trace_id: str, reviewer: str, *, seconds: float = CLAIM_SECONDS,
          now: Optional[float] = None) -> bool:
    """Hold a queued trace for ``reviewer`` (renewing their claim); False when another
    reviewer's claim on it has not lapsed. A backlog item becomes pending."""
    pid = project_id(store, project, create=False)
    now = time.time() if now is None else now
    with store.write() as conn:
        r = conn.execute("SELECT state, claimed_by, claimed_until FROM review_queue WHERE project_id = ? AND id = ?",
                         (pid, trace_id)).fetchone()
        if r is None:
            return True  # not queued (reviewing a filter): nothing to hold
        if r[1] and r[1] != reviewer and (r[2] or 0) > now:
            return False
        state = "pending" if r[0] == "backlog" else r[0]
        conn.execute("UPDATE review_queue SET claimed_by = ?, claimed_until = ?, state = ?"
                     + (", updated = ?" if state != r[0] else "") + " WHERE project_id = ? AND id = ?",
                     (reviewer, now + seconds, state, *([now_iso()] if state != r[0] else []), pid, trace_id))
        if state != r[0]:
            audit(conn, pid, "review", trace_id, "state", reviewer, {"state": r[0]}, {"state": state})
    return True


def release(store: Store, project: str, trace_id: str, reviewer: str) -> None:
    """Let go of ``reviewer``'s claim (moving on, quitting)."""
    pid = project_id(store, project, create=False)
    with store.write() as conn:
        conn.execute("UPDATE review_queue SET claimed_by = NULL, claimed_until = NULL"
                     " WHERE project_id = ? AND id = ? AND claimed_by = ?", (pid, trace_id, reviewer))


def next_item(store: Store, project: str, reviewer: str, *, after: Optional[int] = None, reverse: bool = False,
              mine: bool = False, seconds: float = CLAIM_SECONDS, now: Optional[float] = None,
              skip: Iterable[str] = ()) -> Optional[QueueItem]:
    """Hand ``reviewer`` the next item to review and claim it, atomically (two reviewers asking
    at once get different items): the first in queue order after ``after`` (a seq; reverse:
    before it) that is not complete, not held by another reviewer's live claim, not in
    ``skip``, and (``mine``) assigned to them. None when there is none."""
    pid = project_id(store, project, create=False)
    now = time.time() if now is None else now
    skip = set(skip)
    with store.write() as conn:
        where = ["project_id = ?", "state != 'complete'",
                 "(claimed_by IS NULL OR claimed_by = ? OR coalesce(claimed_until, 0) <= ?)"]
        params: list = [pid, reviewer, now]
        if mine:
            where.append("assignee = ?")
            params.append(reviewer)
        if after is not None:
            where.append("seq < ?" if reverse else "seq > ?")
            params.append(after)
        rows = conn.execute(f"SELECT {_ITEM_COLS} FROM review_queue WHERE {' AND '.join(where)}"
                            f" ORDER BY seq {'DESC' if reverse else 'ASC'} LIMIT {len(skip) + 1}", params).fetchall()
        item = next((_item(r) for r in rows if r[0] not in skip), None)
        if item is None:
            return None
        state = "pending" if item.state == "backlog" else item.state
        conn.execute("UPDATE review_queue SET claimed_by = ?, claimed_until = ?, state = ?, updated = ?"
                     " WHERE project_id = ? AND id = ?",
                     (reviewer, now + seconds, state, now_iso() if state != item.state else item.updated, pid, item.id))
        if state != item.state:
            audit(conn, pid, "review", item.id, "state", reviewer, {"state": item.state}, {"state": state})
        item.state, item.claimed_by, item.claimed_until = state, reviewer, now + seconds
        return item


def complete(store: Store, project: str, trace_id: str, reviewer: str) -> QueueItem:
    """Mark a trace reviewed (queued or not), releasing any claim."""
    return set_state(store, project, trace_id, "complete", author=reviewer)


def parse_option(text: str) -> Option:
    """``LABEL=VALUE`` (``--option``) as an option; InputError in one line."""
    label, sep, value = text.rpartition("=")
    if not sep or not label.strip():
        raise InputError(f"--option {text!r}: expected LABEL=VALUE, e.g. --option friendly=1")
    try:
        v = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
    except ValueError:
        raise InputError(f"--option {text!r}: {value!r} is not a number in [0, 1]") from None
    return Option(label.strip(), v)


__all__ = [
    "CLAIM_SECONDS", "STATES", "TYPES", "HumanValue", "Option", "QueueItem", "ReviewError", "ScoreConfig", "ValueChange",
    "add_score_config", "claim", "complete", "flag", "flag_selection", "get_item", "get_score_config", "human_values",
    "list_score_configs", "logged_score_rows", "make_config", "next_item", "parse_option", "queue_counts", "queue_items", "queue_position", "release",
    "remove_score_config", "set_state", "set_value", "trace_root_ids", "undo_value", "unflag",
]
