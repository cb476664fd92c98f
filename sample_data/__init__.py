"""Demo corpus shipped with bt-tui (see README.md in this folder)."""
