"""One-line text input whose editing keys take effect in the order they were typed.

Textual runs a widget's key bindings only after the key event has bubbled up, which is after
the keys already queued behind it: typed fast (over SSH, or pasted after ctrl+u), `ctrl+u eps`
inserted "eps" and then cleared the line, and `ab<backspace>c` could lose the wrong character.
``LineInput`` runs its own bindings (ctrl+u, backspace, ctrl+w, the cursor keys, enter, ...)
while handling the key, so they act exactly where they were typed."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class LineInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        bindings = self._bindings.get_bindings_for_key(event.key) if event.key in self._bindings.key_to_bindings else []
        if bindings:
            event.stop()
            event.prevent_default()
            await self.run_action(bindings[0].action)
            return
        await super()._on_key(event)
