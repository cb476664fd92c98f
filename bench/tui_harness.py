"""What the TUI benchmarks share: the times frames are displayed, and a wait for a condition."""

from __future__ import annotations

import time


def record_frames(app) -> list[float]:
    """A list that gets the time (perf_counter) of every frame the app displays."""
    frames: list[float] = []
    orig = app._display

    def display(*a, **k):
        frames.append(time.perf_counter())
        return orig(*a, **k)

    app._display = display
    return frames


async def until(pilot, cond, timeout: float = 30.0) -> None:
    """Let the app run until ``cond()`` holds (TimeoutError past ``timeout`` seconds)."""
    end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > end:
            raise TimeoutError
        await pilot.pause(0.001)
