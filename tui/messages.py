"""App-wide messages: facts that happened, posted by the bridge or the analysis thread, handled by
the app (Textual's ``post_message`` is thread-safe)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from textual.message import Message

from firmware_interface.samples import StreamHealth
from fusion.outputs import PipelineOutput


class TimedOutput(NamedTuple):
    """An output with the host times (``time.monotonic``) the newest and the oldest of the samples
    it shows arrived (None when it shows none)."""

    output: PipelineOutput
    arrived_at_s: float | None = None
    first_arrived_at_s: float | None = None


class OutputMailbox:
    """Pipeline outputs the analysis produced and the app has not drawn yet.

    The analysis thread puts every output there; the app takes all waiting outputs at each
    redraw (at most ``tui.app.MAX_REDRAW_HZ``). Redraws therefore skip frames, never outputs:
    alerts, reps and the chart's samples all arrive even when the terminal is slow.

    Thread-safe for one producer and one consumer (``deque`` appends and pops are atomic).
    """

    def __init__(self) -> None:
        self._outputs: deque[TimedOutput] = deque()

    def put(self, output: PipelineOutput, arrived_at_s: float | None = None,
            first_arrived_at_s: float | None = None) -> None:
        self._outputs.append(TimedOutput(output, arrived_at_s, first_arrived_at_s))

    def take_timed(self) -> list[TimedOutput]:
        """Every waiting output with its arrival times, oldest first."""
        taken = []
        while self._outputs:
            taken.append(self._outputs.popleft())
        return taken

    def take(self) -> tuple[PipelineOutput, ...]:
        return tuple(timed.output for timed in self.take_timed())

    def __len__(self) -> int:
        return len(self._outputs)


class OutputsWaiting(Message):
    """The analysis put an output that shows samples in the mailbox (the app redraws)."""


@dataclass
class SourceEnded(Message):
    """The source has no more samples (a replay reached its end) and all of them are analysed."""

    health: StreamHealth


@dataclass
class SourceFailed(Message):
    """The source or the pipeline stopped with an error; ``message`` is one line for the user."""

    message: str
    health: StreamHealth
