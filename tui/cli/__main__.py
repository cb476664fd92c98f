"""`python -m tui.cli`: the same entry point as the `bt-tui` script."""

from tui.cli import main

main()
