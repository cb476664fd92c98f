"""engine/: work that calls models or runs user code.

The litellm client, prompt rendering, scorers, the eval runner and playground runs live here.
Engine code reports progress through callbacks and prints nothing to the terminal; it never
imports ``textual`` (the TUI and the CLI are its callers) and nothing here imports ``litellm``
at module level (it costs ~2 s). Arrows point one way: ``tui -> engine -> store``; the store
never imports the engine.

Chat transcripts (:mod:`engine.chat`) are its first module: recognising chat messages in a
span's values and rendering a transcript as Markdown. Prompts and runs build on them.
"""
