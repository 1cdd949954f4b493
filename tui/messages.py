"""App-wide messages: facts that happened, posted by the bridge or the analysis thread, handled by
the app (Textual's ``post_message`` is thread-safe)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from textual.message import Message

from firmware_interface.samples import StreamHealth
from fusion.outputs import PipelineOutput


class OutputMailbox:
    """Pipeline outputs the analysis produced and the app has not drawn yet.

    The analysis thread puts every output there; the app takes all waiting outputs at each
    redraw (a fixed rate). Redraws therefore skip frames, never outputs: alerts, reps and the
    chart's samples all arrive even when the terminal is slow.

    Thread-safe for one producer and one consumer (``deque`` appends and pops are atomic).
    """

    def __init__(self) -> None:
        self._outputs: deque[tuple[PipelineOutput, float | None]] = deque()

    def put(self, output: PipelineOutput, arrived_at_s: float | None = None) -> None:
        """``arrived_at_s``: host time (``time.monotonic``) the output's newest samples arrived."""
        self._outputs.append((output, arrived_at_s))

    def take_timed(self) -> list[tuple[PipelineOutput, float | None]]:
        """Every waiting output with its arrival time, oldest first."""
        taken = []
        while self._outputs:
            taken.append(self._outputs.popleft())
        return taken

    def take(self) -> tuple[PipelineOutput, ...]:
        return tuple(output for output, _ in self.take_timed())

    def __len__(self) -> int:
        return len(self._outputs)


@dataclass
class SourceEnded(Message):
    """The source has no more samples (a replay reached its end) and all of them are analysed."""

    health: StreamHealth


@dataclass
class SourceFailed(Message):
    """The source or the pipeline stopped with an error; ``message`` is one line for the user."""

    message: str
    health: StreamHealth
