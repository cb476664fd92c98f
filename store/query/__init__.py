"""The query language and its uses, one module each: ``btql`` (lexer, parser, AST),
``compiler`` (AST to SQLite SQL), ``filterbar`` (what the filter bar's text means), ``pager``
(pages of the logs table), ``runner`` (full queries, `bt-tui query`), ``hints`` (completion
data and near-miss notes). Import from the module, e.g. ``store.query.pager.LogsQuery``."""
