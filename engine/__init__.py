"""Work that calls models (litellm client, prompts, scorers, eval runner). No Textual here."""
