"""The baseline for the import budget: a plain sqlite3.executemany loader.

Reads the same JSONL with the stdlib json module, puts every top-level key of the span
row contract into its own column of one table (nested values as JSON text), and inserts
with executemany in batches inside one transaction. No indexes, no validation.
"""

from __future__ import annotations

import json
import sqlite3
import sys

KEYS = ("id", "span_id", "root_span_id", "span_parents", "created", "input", "output", "expected",
        "error", "scores", "metadata", "metrics", "tags", "span_attributes")


def load(path: str, db: str) -> int:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE spans ({', '.join(k + ' TEXT' for k in KEYS)})")
    sql = f"INSERT INTO spans VALUES ({', '.join('?' for _ in KEYS)})"
    n = 0
    batch = []
    with open(path, "rb") as f:
        for line in f:
            d = json.loads(line)
            batch.append(tuple(
                v if isinstance(v, str) or v is None else json.dumps(v)
                for v in (d.get(k) for k in KEYS)
            ))
            if len(batch) >= 2000:
                conn.executemany(sql, batch)
                n += len(batch)
                batch = []
    if batch:
        conn.executemany(sql, batch)
        n += len(batch)
    conn.commit()
    conn.close()
    return n


if __name__ == "__main__":
    print(load(sys.argv[1], sys.argv[2]))
