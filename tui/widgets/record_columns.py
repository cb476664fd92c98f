"""The columns of a table of dataset records (``store.datasets.Record``) and of the datasets
list (``store.datasets.DatasetInfo``): each a key, a label, width rules and a renderer of one
row into a cell, formatted only when the row is painted."""

from __future__ import annotations

from typing import Any, Optional

import orjson
from rich.text import Text

from tui.format import ago, fmt_time, preview
from tui.widgets.paged_table import NARROW, Column


def short_id(record_id: str) -> str:
    """``rec-0123456789abcdef0123`` -> ``0123456789``: enough to tell records apart."""
    return record_id[4:14] if record_id.startswith("rec-") and len(record_id) > 14 else record_id


def value_preview(value: Any, width: int) -> str:
    """A one-line preview of a decoded value (a chat: its last user/assistant text)."""
    if value is None:
        return ""
    return preview(orjson.dumps(value).decode(), width + 1)


def _metadata(value: Optional[dict], width: int) -> Text:
    if not value:
        return Text("")
    parts = [f"{k}={v if isinstance(v, str) else orjson.dumps(v).decode()}" for k, v in value.items()]
    return Text(" ".join(parts)[: width + 1], style="dim")


def _origin(r, width: int) -> Text:
    """↗: the record came from a logged span (o opens its trace)."""
    return Text("↗", style="bold cyan") if r.origin else Text("")


def record_columns() -> list[Column]:
    return [
        Column("id", "id", lambda r, w: Text(short_id(r.id)[:w], style="dim"), 10, narrow=((NARROW, 6),)),
        Column("input", "input", lambda r, w: Text(value_preview(r.input, w))),
        Column("expected", "expected", lambda r, w: Text(value_preview(r.expected, w))),
        Column("tags", "tags", lambda r, w: Text(",".join(r.tags or [])[: w + 1], style="cyan"), 12,
               show_from=100),
        Column("metadata", "metadata", lambda r, w: _metadata(r.metadata, w), 18, show_from=120),
        Column("origin", "↗", _origin, 1),
        Column("created", "created", lambda r, w: Text(fmt_time(r.created)[:w]), 14, show_from=110),
    ]


def dataset_columns() -> list[Column]:
    return [
        Column("name", "name", lambda d, w: Text(d.name, style="bold")),
        Column("records", "records", lambda d, w: Text(f"{d.records:,}", justify="right"), 8),
        Column("versions", "versions", lambda d, w: Text(f"{d.versions:,}", justify="right"), 8),
        Column("changed", "changed", lambda d, w: Text(ago(d.last_change or d.created)), 10),
        Column("who", "who", lambda d, w: Text(d.last_author or d.author or "", style="dim"), 12,
               narrow=((NARROW, 8),)),
        Column("description", "description", lambda d, w: Text(d.description or "", style="dim"),
               show_from=NARROW),
    ]
