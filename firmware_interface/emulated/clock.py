"""An event loop that skips its idle time: hours of an emulated session in minutes (soak
benchmark, many-drop tests), as fast as the host's CPU allows.

When the loop has nothing to run and nothing to read, it would sleep until its next timer; this
one moves its clock forward to that timer instead. Everything that waits on the loop's clock (the
emulated sensor's sample pacing and fault schedule, the BLE link's timeouts, stall detection and
backoff, bumble's and bleak's timers) then sees a true 100 Hz stream in loop time however slow or
busy the host is: a stretch of stream costs its CPU work, never its duration, and a starved
process never makes the emulator send in bursts or the link see false stalls.

Work on other threads is not seen by the loop: ``hold`` (e.g. "the analysis thread is more than a
second behind") stops the skipping while it is true, so the clock waits for that work in real time.
Textual paces redraws by the host clock, so a driven dashboard redraws less often per stream second.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from typing import Callable

HOLD_POLL_S = 0.005
"""Host time waited at a time while ``hold`` is true."""


class _SkippingSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    def __init__(self, loop: DrivenEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None):  # noqa: ANN201 (selectors' own signature)
        if timeout is None or timeout <= 0:
            return super().select(timeout)
        ready = super().select(0)
        if ready:
            return ready
        if self._loop.hold():
            return super().select(min(timeout, HOLD_POLL_S))
        self._loop.skipped_s += timeout  # nothing to do until the next timer: go there at once
        return []


class DrivenEventLoop(asyncio.SelectorEventLoop):
    """``loop.time()`` is the host clock plus every idle wait skipped (``skipped_s``)."""

    def __init__(self, hold: Callable[[], bool] = lambda: False) -> None:
        self.hold = hold
        self.skipped_s = 0.0
        super().__init__(_SkippingSelector(self))

    def time(self) -> float:
        return time.monotonic() + self.skipped_s


def run_driven(coroutine, hold: Callable[[], bool] = lambda: False):  # noqa: ANN001, ANN201 (any coroutine, its result)
    """``asyncio.run`` on a ``DrivenEventLoop``."""
    with asyncio.Runner(loop_factory=lambda: DrivenEventLoop(hold)) as runner:
        return runner.run(coroutine)
