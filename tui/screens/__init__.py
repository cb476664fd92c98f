"""The screens of the app: each module registers itself (tui.registry.register_screen)."""
