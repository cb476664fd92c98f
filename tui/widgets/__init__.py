"""Shared widgets: the paged table, the filter bar, the span tree, JSON and chat-transcript views,
the key bar. Generic: a widget knows nothing of the screen it sits on."""
