"""The schema and its forward migrations.

``MIGRATIONS[i]`` upgrades a database from version i to version i+1; ``schema_version`` says
where a database is, ``migrate`` brings it up to date in one transaction.
"""

from __future__ import annotations

import sqlite3

from .errors import StoreError

# Each entry upgrades the schema from version i to version i+1. Never edit a released entry:
# add a new one. Version 1 is the core row store; version 2 adds the search index and the
# score/tag side tables (with a backfill of rows written by version 1).

MIGRATIONS: list[str] = [
    # v1: projects, spans, comments, audit
    """
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    );
    CREATE TABLE spans (
        rid INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        root_span_id TEXT NOT NULL,
        parent_id TEXT,
        span_parents TEXT,
        is_root INTEGER NOT NULL,
        created TEXT NOT NULL,
        name TEXT,
        type TEXT,
        start_ts REAL,
        end_ts REAL,
        input TEXT,
        output TEXT,
        expected TEXT,
        error TEXT,
        scores TEXT NOT NULL DEFAULT '{}',
        metadata TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        span_attributes TEXT NOT NULL DEFAULT '{}',
        model TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.model')) VIRTUAL,
        UNIQUE (project_id, id)
    );
    CREATE INDEX spans_created ON spans (project_id, created);
    CREATE INDEX spans_roots_created ON spans (project_id, created) WHERE is_root = 1;
    CREATE INDEX spans_errors_created ON spans (project_id, created) WHERE error IS NOT NULL;
    CREATE INDEX spans_tree ON spans (project_id, root_span_id, parent_id, start_ts);
    CREATE INDEX spans_model_created ON spans (project_id, model, created);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        span_rid INTEGER NOT NULL REFERENCES spans(rid) ON DELETE CASCADE,
        text TEXT NOT NULL,
        author TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX comments_span ON comments (span_rid, created);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        project_id INTEGER,
        object_type TEXT NOT NULL,
        object_id TEXT NOT NULL,
        field TEXT NOT NULL,
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE INDEX audit_object ON audit (object_type, object_id, created);
    """,
    # v2: score and tag side tables (indexable `scores.x > 0.5`, `tags includes 'x'`) and FTS5.
    """
    CREATE TABLE span_scores (
        span_rid INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL,
        PRIMARY KEY (span_rid, name)
    ) WITHOUT ROWID;
    CREATE INDEX span_scores_value ON span_scores (name, value);
    CREATE TABLE span_tags (
        span_rid INTEGER NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (span_rid, tag)
    ) WITHOUT ROWID;
    CREATE INDEX span_tags_tag ON span_tags (tag, span_rid);
    CREATE VIRTUAL TABLE spans_fts USING fts5 (
        input, output, expected, metadata,
        content='spans', content_rowid='rid', detail='column'
    );
    INSERT INTO span_scores (span_rid, name, value)
        SELECT s.rid, j.key, j.value FROM spans s, json_each(s.scores) j;
    INSERT INTO span_tags (span_rid, tag)
        SELECT DISTINCT s.rid, j.value FROM spans s, json_each(s.tags) j WHERE j.type = 'text';
    INSERT INTO spans_fts (spans_fts) VALUES ('rebuild');
    -- New rows are indexed in bulk by store.spans.index_new_rows (one statement per batch:
    -- an FTS5 insert from a per-row trigger flushes a segment per row, 5x slower).
    -- Updates and deletes keep the side tables and the index in step through triggers.
    CREATE TRIGGER spans_ad AFTER DELETE ON spans BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        DELETE FROM span_scores WHERE span_rid = old.rid;
        DELETE FROM span_tags WHERE span_rid = old.rid;
    END;
    CREATE TRIGGER spans_au_text AFTER UPDATE OF input, output, expected, metadata ON spans BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        INSERT INTO spans_fts (rowid, input, output, expected, metadata)
            VALUES (new.rid, new.input, new.output, new.expected, new.metadata);
    END;
    CREATE TRIGGER spans_au_scores AFTER UPDATE OF scores ON spans BEGIN
        DELETE FROM span_scores WHERE span_rid = old.rid;
        INSERT INTO span_scores (span_rid, name, value)
            SELECT new.rid, key, value FROM json_each(new.scores);
    END;
    CREATE TRIGGER spans_au_tags AFTER UPDATE OF tags ON spans BEGIN
        DELETE FROM span_tags WHERE span_rid = old.rid;
        INSERT OR IGNORE INTO span_tags (span_rid, tag)
            SELECT new.rid, value FROM json_each(new.tags) WHERE type = 'text';
    END;
    """,
    # v3: saved views (named filters) per project, shared by everyone on the database.
    """
    CREATE TABLE views (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        filter TEXT NOT NULL,
        shape TEXT NOT NULL DEFAULT 'traces',
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    """,
    # v4: rows inserted but not yet added to the search index / side tables (a bulk import
    # indexes every few thousand rows) must not be touched by the update/delete triggers:
    # a row updated twice in one import would otherwise corrupt the FTS index. The
    # watermark says which rows are indexed; index_new_rows moves it.
    """
    CREATE TABLE index_state (indexed_rid INTEGER NOT NULL);
    INSERT INTO index_state (indexed_rid) SELECT coalesce(max(rid), 0) FROM spans;
    DROP TRIGGER spans_ad;
    DROP TRIGGER spans_au_text;
    DROP TRIGGER spans_au_scores;
    DROP TRIGGER spans_au_tags;
    CREATE TRIGGER spans_ad AFTER DELETE ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        DELETE FROM span_scores WHERE span_rid = old.rid;
        DELETE FROM span_tags WHERE span_rid = old.rid;
    END;
    CREATE TRIGGER spans_au_text AFTER UPDATE OF input, output, expected, metadata ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        INSERT INTO spans_fts (spans_fts, rowid, input, output, expected, metadata)
            VALUES ('delete', old.rid, old.input, old.output, old.expected, old.metadata);
        INSERT INTO spans_fts (rowid, input, output, expected, metadata)
            VALUES (new.rid, new.input, new.output, new.expected, new.metadata);
    END;
    CREATE TRIGGER spans_au_scores AFTER UPDATE OF scores ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        DELETE FROM span_scores WHERE span_rid = old.rid;
        INSERT INTO span_scores (span_rid, name, value)
            SELECT new.rid, key, value FROM json_each(new.scores);
    END;
    CREATE TRIGGER spans_au_tags AFTER UPDATE OF tags ON spans
    WHEN old.rid <= (SELECT indexed_rid FROM index_state) BEGIN
        DELETE FROM span_tags WHERE span_rid = old.rid;
        INSERT OR IGNORE INTO span_tags (span_rid, tag)
            SELECT new.rid, value FROM json_each(new.tags) WHERE type = 'text';
    END;
    """,
    # v5: a leaner, faster full-text index. FTS5 flushes a new segment each time its pending
    # terms pass `hashsize` (1 MB by default): a 1M-span import made thousands of tiny
    # segments, merged again and again, and a MATCH probe of one row had to seek in every
    # segment (0.3-0.6 ms; 0.02-0.05 ms with 64 MB). `automerge` 16 merges less eagerly;
    # `columnsize=0` drops the per-row size table (we rank by time, never by bm25).
    # Measured on 1M spans: index build 8.4 s -> 4.8 s.
    """
    DROP TABLE spans_fts;
    CREATE VIRTUAL TABLE spans_fts USING fts5 (
        input, output, expected, metadata,
        content='spans', content_rowid='rid', detail='column', columnsize=0
    );
    INSERT INTO spans_fts (spans_fts, rank) VALUES ('automerge', 16);
    INSERT INTO spans_fts (spans_fts, rank) VALUES ('hashsize', 67108864);
    INSERT INTO spans_fts (rowid, input, output, expected, metadata)
        SELECT rid, input, output, expected, metadata FROM spans
        WHERE rid <= (SELECT indexed_rid FROM index_state);
    """,
    # v6: per-project facts the query planner relies on. `max_lead` (seconds): how far any span
    # was created before its trace's root (0 in well-formed traces). With it, the newest trace
    # that has a span matching a filter cannot be newer than the newest matching span plus
    # max_lead, so a traces page skips the newer traces instead of probing them one by one.
    """
    CREATE TABLE project_stats (
        project_id INTEGER PRIMARY KEY REFERENCES projects(id),
        max_lead REAL NOT NULL DEFAULT 0
    );
    INSERT INTO project_stats (project_id, max_lead)
        SELECT p.id, coalesce((
            SELECT max((julianday(r.created) - julianday(s.created)) * 86400.0)
            FROM spans s JOIN spans r ON r.project_id = s.project_id AND r.root_span_id = s.root_span_id
                AND r.is_root = 1
            WHERE s.project_id = p.id AND s.is_root = 0 AND s.created < r.created), 0)
        FROM projects p;
    """,
    # v7: the human edits a re-import must keep (store.spans.keep_human_edits): the audit
    # entries of span fields a person changed, found per project and row id. Only they are
    # indexed, so "does this project have any?" is one probe and an import without human
    # edits pays nothing.
    """
    CREATE INDEX audit_span_edits ON audit (project_id, object_id)
        WHERE object_type = 'span' AND field IN ('scores', 'tags', 'expected', 'metadata');
    """,
    # v8: datasets (store/datasets.py). Every write is a version (an integer increasing across
    # the database, with author, time and counts). A record's states are revisions: the content
    # a version wrote, valid from ``version`` until the version that replaced it (``until``,
    # NULL while current; the one column ever updated). Reading as of version V is one range
    # test on an index, the same plan for the latest and the oldest version. A delete is a
    # revision too (``deleted`` = 1). ``seq`` orders records: the rowid of their first revision.
    """
    CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE dataset_versions (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id),
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        added INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX dataset_versions_dataset ON dataset_versions (dataset_id, version);
    CREATE TABLE dataset_revisions (
        rid INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id),
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        version INTEGER NOT NULL,
        until INTEGER,
        deleted INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        input TEXT,
        expected TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        origin TEXT,
        origin_id TEXT
    );
    CREATE UNIQUE INDEX dataset_revisions_record ON dataset_revisions (dataset_id, id, version);
    CREATE INDEX dataset_revisions_order ON dataset_revisions (dataset_id, seq, version, until, deleted);
    CREATE INDEX dataset_revisions_changes ON dataset_revisions (dataset_id, version);
    CREATE INDEX dataset_revisions_origin ON dataset_revisions (dataset_id, origin_id)
        WHERE until IS NULL AND origin_id IS NOT NULL;
    CREATE TABLE dataset_snapshots (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id),
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        PRIMARY KEY (dataset_id, name)
    );
    """,
    # v9: human review (store/review.py). Score configurations per project; each reviewer's
    # value of a human score (the row's score is their average, kept in spans.scores so filters
    # see it); the review queue: a trace (by its root row id) in backlog, pending or complete,
    # optionally assigned, with a claim (who holds it, until when) so two reviewers are not
    # handed the same item at once.
    """
    CREATE TABLE score_configs (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '[]',
        to_expected INTEGER NOT NULL DEFAULT 0,
        multi INTEGER NOT NULL DEFAULT 0,
        path TEXT,
        description TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE human_scores (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        row_id TEXT NOT NULL,
        name TEXT NOT NULL,
        author TEXT NOT NULL,
        value REAL,
        text TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (project_id, row_id, name, author)
    );
    CREATE TABLE review_queue (
        seq INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        assignee TEXT,
        flagged_by TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        claimed_by TEXT,
        claimed_until REAL,
        completed_by TEXT,
        UNIQUE (project_id, id)
    );
    CREATE INDEX review_queue_state ON review_queue (project_id, state, seq);
    """,
    # v10: the exploration and evaluation loops (store/prompts.py, store/model_configs.py,
    # store/experiments.py). Prompts: every save of a slug is a new version (1, 2, 3...).
    # Model configurations are database-wide (a team's models), keys never stored: only the NAME
    # of the env var that holds one. An experiment's rows are traces in the span shape, kept in
    # a project of their own (``projects.kind`` 'experiment'; 'playground' for a playground's
    # cells), so every span tool (filters, the trace view, export) works on them unchanged;
    # project listings show only kind 'logs'.
    """
    ALTER TABLE projects ADD COLUMN kind TEXT NOT NULL DEFAULT 'logs';
    CREATE TABLE prompts (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        slug TEXT NOT NULL,
        version INTEGER NOT NULL,
        messages TEXT NOT NULL,
        model TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        response_format TEXT,
        description TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        UNIQUE (project_id, slug, version)
    );
    CREATE TABLE model_configs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        model TEXT NOT NULL,
        api_base TEXT,
        key_env TEXT,
        input_price REAL,
        output_price REAL,
        params TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE experiments (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        rows_project_id INTEGER NOT NULL REFERENCES projects(id),
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        dataset_id INTEGER,
        dataset_version INTEGER,
        prompt_slug TEXT,
        prompt_version INTEGER,
        model TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        metadata TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'running',
        UNIQUE (project_id, name)
    );
    CREATE TABLE playgrounds (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        rows_project_id INTEGER NOT NULL REFERENCES projects(id),
        dataset_id INTEGER,
        dataset_version INTEGER,
        variants TEXT NOT NULL DEFAULT '[]',
        settings TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL,
        author TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
# The oldest schema a read-only store reads as it is. Migrations past it only add what writers
# need, so a read never has to upgrade (write) the file. (v8's dataset tables: a read-only store
# of an older file has no datasets, store.datasets.has_datasets.)
READ_COMPATIBLE_FROM = 6


def newer_schema(version: int) -> StoreError:
    """The error for a database made by a newer bt-tui."""
    return StoreError(
        f"database schema version {version} is newer than this bt-tui supports "
        f"({SCHEMA_VERSION}); upgrade bt-tui to open it"
    )


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if not row:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target`` in one ``BEGIN IMMEDIATE`` transaction. Returns the
    version it started at. A busy database raises; ``Store`` retries (``retry_busy``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise newer_schema(current)
        if current == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        for version in range(current, target):
            for stmt in _split_sql(MIGRATIONS[version]):
                conn.execute(stmt)
            conn.execute("UPDATE schema_version SET version = ?", (version + 1,))
        conn.execute("COMMIT")
        return current
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (trigger bodies keep their inner ';')."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        chunk = "\n".join(buf).strip()
        if chunk and sqlite3.complete_statement(chunk):
            out.append(chunk)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out


def secondary_indexes(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE sql) of the indexes a bulk load may drop and rebuild in one transaction."""
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    ).fetchall()
