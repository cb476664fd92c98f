"""Comparing two experiments: which rows got better or worse, and whether the change is real.

Rows of the two experiments are matched by their input (Braintrust's rule), or by another key
(``metadata.record_id``, ``input.question``, ...). Several rows with one key in one experiment
are trials of that case: their scores are averaged, and their spread is kept.

For each score:

- ``base`` / ``candidate``: each experiment's average over its rows (None-valued scores
  skipped), the figures ``experiment list`` shows; ``diff`` = candidate - base;
- ``improvements`` / ``regressions``: matched rows whose score went up / down;
- ``low`` / ``high``: a 95% **paired bootstrap** confidence interval of the mean per-row
  difference over the matched rows that have the score on both sides (1,000 resamples of the
  rows, percentile interval, a fixed seed so the same data gives the same interval);
  ``significant`` is True when the interval excludes 0: the change is unlikely to be noise.

Nothing here imports textual or litellm; numpy is imported only to compute intervals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from .connection import Store
from .errors import InputError
from .experiments import ExperimentInfo, get_experiment, list_experiments
from .jsontext import loads as _loads
from .projects import find_project

BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
EPSILON = 1e-9  # a change smaller than this is float noise (trials' averages), not a change
_KEY = re.compile(r"^(input|expected|metadata)(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")


def _load(text):
    return None if text is None else _loads(text)


@dataclass
class RowSide:
    """One experiment's rows for one key (one per trial)."""
    ids: list = field(default_factory=list)  # root row ids (open a trace with ids[i])
    root_span_ids: list = field(default_factory=list)
    output_text: Optional[str] = None  # the first trial's output, as stored (JSON text)
    output_texts: list = field(default_factory=list)  # every trial's output, in order (the first is output_text)
    error_text: Optional[str] = None  # the first error among the trials
    scores: dict = field(default_factory=dict)  # name -> mean over the trials that have it
    spread: dict = field(default_factory=dict)  # name -> (min, max) when several trials have it
    errors: int = 0

    @property
    def trials(self) -> int:
        return len(self.ids)

    @property
    def output(self) -> Any:
        return _load(self.output_text)

    @property
    def error(self) -> Any:
        return _load(self.error_text)


@dataclass
class MatchedRow:
    key: str  # the match key's JSON text ("\x00" + row id for a row without one: matched with nothing)
    input_text: Optional[str]
    expected_text: Optional[str]
    base: Optional[RowSide]
    candidate: Optional[RowSide]

    @property
    def input(self) -> Any:
        return _load(self.input_text)

    @property
    def expected(self) -> Any:
        return _load(self.expected_text)

    def delta(self, score: str) -> Optional[float]:
        """candidate - base for this row (None when either side lacks the score)."""
        if self.base is None or self.candidate is None:
            return None
        b, c = self.base.scores.get(score), self.candidate.scores.get(score)
        if b is None or c is None:
            return None
        d = c - b
        return 0.0 if -EPSILON <= d <= EPSILON else d

    def regressed(self, score: Optional[str] = None) -> bool:
        """Went down on ``score`` (on any score when None)."""
        names = [score] if score else self.score_names()
        return any((d := self.delta(n)) is not None and d < 0 for n in names)

    def improved(self, score: Optional[str] = None) -> bool:
        names = [score] if score else self.score_names()
        return any((d := self.delta(n)) is not None and d > 0 for n in names)

    def score_names(self) -> list[str]:
        names = set()
        for side in (self.base, self.candidate):
            if side is not None:
                names.update(side.scores)
        return sorted(names)


@dataclass
class ScoreComparison:
    score: str
    base: Optional[float]
    candidate: Optional[float]
    diff: Optional[float]
    improvements: int = 0
    regressions: int = 0
    matched: int = 0  # rows with the score on both sides
    low: Optional[float] = None
    high: Optional[float] = None
    mean_delta: Optional[float] = None  # the mean per-row difference over the matched rows

    @property
    def significant(self) -> Optional[bool]:
        """True: the interval excludes 0 (a real change); False: could be noise; None: no interval."""
        if self.low is None or self.high is None:
            return None
        return self.low > 0 or self.high < 0

    def to_json(self) -> dict:
        return {"score": self.score, "base": self.base, "candidate": self.candidate, "diff": self.diff,
                "improvements": self.improvements, "regressions": self.regressions, "matched": self.matched,
                "interval": None if self.low is None else [self.low, self.high],
                "significant": self.significant}


@dataclass
class Comparison:
    base: ExperimentInfo
    candidate: ExperimentInfo
    key: str
    scores: list  # [ScoreComparison], by name
    rows: list  # [MatchedRow]: candidate's order first, then rows only in the base

    @property
    def matched(self) -> int:
        return sum(1 for r in self.rows if r.base is not None and r.candidate is not None)

    @property
    def only_base(self) -> int:
        return sum(1 for r in self.rows if r.candidate is None)

    @property
    def only_candidate(self) -> int:
        return sum(1 for r in self.rows if r.base is None)

    def score(self, name: str) -> Optional[ScoreComparison]:
        return next((s for s in self.scores if s.score == name), None)

    def score_names(self) -> list[str]:
        return [s.score for s in self.scores]


def _key_sql(key: str) -> str:
    if not _KEY.match(key or ""):
        raise InputError(f"--key {key!r}: expected input, expected or metadata, optionally with a dotted path "
                         "(input.question, metadata.record_id)")
    col, _, path = key.partition(".")
    return col if not path else f"json_extract({col}, '$.{path}')"


def _canonical(text: Optional[str]) -> str:
    """A key that does not depend on an object's key order or spacing."""
    if text is None:
        return "null"
    if text[:1] in "{[":
        try:
            return orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONDecodeError:
            return text
    return text


def _side_rows(store: Store, exp: ExperimentInfo, key: str, canonical: bool) -> tuple[dict, dict]:
    """key -> RowSide, plus key -> (input text, expected text), in the experiment's row order.
    ``canonical``: objects in the key compared whatever their key order or spacing (slower)."""
    pid = find_project(store, exp.rows_project)
    sides: dict[str, RowSide] = {}
    texts: dict[str, tuple] = {}
    if pid is None:
        return sides, texts
    expr = _key_sql(key)
    raw: dict[str, list] = {}
    whole = "." not in key
    for rid, root, inp, exp_text, out, err, scores, k in store.conn.execute(
            f"SELECT id, root_span_id, input, expected, output, error, scores, {expr} FROM spans "
            "WHERE project_id = ? AND is_root = 1 ORDER BY created, rid", (pid,)):
        if k is None or (whole and k == "null"):
            k = "\x00" + rid  # no key: a case of its own, matched with nothing (not a trial of every keyless row)
        elif whole:  # a whole column: its JSON text
            k = _canonical(k) if canonical else k
        else:  # json_extract gives SQL values; objects and arrays as JSON text
            k = _canonical(k) if isinstance(k, str) and k[:1] in "{[" else orjson.dumps(k).decode()
        side = sides.get(k)
        if side is None:
            side = sides[k] = RowSide(output_text=out)
            texts[k] = (inp, exp_text)
            raw[k] = []
        side.ids.append(rid)
        side.root_span_ids.append(root)
        side.output_texts.append(out)
        if err is not None:
            side.errors += 1
            if side.error_text is None:
                side.error_text = err
        if scores and scores != "{}":
            raw[k].append(scores)
    loads = orjson.loads
    for k, side in sides.items():
        texts_k = raw[k]
        if len(texts_k) == 1 and side.trials == 1:  # the common case: one trial
            side.scores = {n: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
                           for n, v in loads(texts_k[0]).items()}
            continue
        acc: dict[str, list] = {}
        for text in texts_k:
            for name, value in loads(text).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    acc.setdefault(name, []).append(float(value))
                else:
                    acc.setdefault(name, [])
        for name, values in acc.items():
            side.scores[name] = sum(values) / len(values) if values else None
            if len(values) > 1:
                side.spread[name] = (min(values), max(values))
    return sides, texts


def bootstrap_interval(deltas: list, *, resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE,
                       seed: int = 0) -> tuple[Optional[float], Optional[float]]:
    """A paired bootstrap percentile interval of the mean of ``deltas`` (per-row differences):
    resample the rows with replacement ``resamples`` times, take the mean of each resample, and
    return the (1-confidence)/2 and (1+confidence)/2 quantiles. (None, None) for fewer than 2
    rows. Deterministic for a given seed."""
    n = len(deltas)
    if n < 2:
        return None, None
    import numpy as np

    d = np.asarray(deltas, dtype=np.float64)
    if float(d.min()) == float(d.max()):  # every row moved the same: no spread to resample
        v = float(d[0])
        return v, v
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, min(resamples, 4_000_000 // n))  # bound memory: <= ~32 MB of indices at once
    for i in range(0, resamples, chunk):
        m = min(chunk, resamples - i)
        idx = rng.integers(0, n, size=(m, n), dtype=np.int32)
        means[i:i + m] = d[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def compare_experiments(store: Store, project: str, base: str | ExperimentInfo, candidate: str | ExperimentInfo,
                        *, key: str = "input", intervals: bool = True) -> Comparison:
    """Compare ``candidate`` against ``base`` (names or infos). ``intervals=False`` skips the
    bootstrap (a screen's first paint); ``add_intervals`` fills them in later."""
    b = base if isinstance(base, ExperimentInfo) else get_experiment(store, project, base)
    c = candidate if isinstance(candidate, ExperimentInfo) else get_experiment(store, project, candidate)
    b_rows, b_texts = _side_rows(store, b, key, canonical=False)
    c_rows, c_texts = _side_rows(store, c, key, canonical=False)
    if any(k not in b_rows for k in c_rows) and any(k not in c_rows for k in b_rows):
        # rows left unmatched on both sides: maybe the same objects written with another key
        # order or spacing; match again on canonical JSON (the fast path is the same text)
        b_rows, b_texts = _side_rows(store, b, key, canonical=True)
        c_rows, c_texts = _side_rows(store, c, key, canonical=True)
    rows = [MatchedRow(k, *c_texts[k], b_rows.get(k), side) for k, side in c_rows.items()]
    rows += [MatchedRow(k, *b_texts[k], side, None) for k, side in b_rows.items() if k not in c_rows]
    names = sorted(set(b.scores) | set(c.scores) | {n for r in rows for n in r.score_names()})
    scores = []
    for name in names:
        bv, cv = b.scores.get(name), c.scores.get(name)
        sc = ScoreComparison(name, bv, cv, None if bv is None or cv is None else cv - bv)
        deltas = [d for r in rows if (d := r.delta(name)) is not None]
        sc.matched = len(deltas)
        sc.improvements = sum(1 for d in deltas if d > EPSILON)
        sc.regressions = sum(1 for d in deltas if d < -EPSILON)
        sc.mean_delta = sum(deltas) / len(deltas) if deltas else None
        scores.append(sc)
    comp = Comparison(b, c, key, scores, rows)
    if intervals:
        add_intervals(comp)
    return comp


def add_intervals(comp: Comparison) -> Comparison:
    """Fill in each score's bootstrap interval (a few ms to ~100 ms per score at 10,000 rows)."""
    for sc in comp.scores:
        deltas = [d for r in comp.rows if (d := r.delta(sc.score)) is not None]
        sc.low, sc.high = bootstrap_interval(deltas)
    return comp


def previous_experiment(store: Store, project: str, exp: ExperimentInfo) -> Optional[ExperimentInfo]:
    """The base an experiment is compared with by default: the latest earlier experiment of the
    project on the same data (the same dataset; for inline data, the same ``metadata.eval``)."""
    best = None
    for other in list_experiments(store, project, summaries=False):
        if other.id == exp.id:
            break  # listed oldest first: everything after is newer
        if other.status == "cancelled":
            continue
        if exp.dataset is not None:
            same = other.dataset == exp.dataset
        else:
            same = other.dataset is None and (exp.metadata or {}).get("eval") == (other.metadata or {}).get("eval")
        if same:
            best = other
    return None if best is None else get_experiment(store, project, best.name)
