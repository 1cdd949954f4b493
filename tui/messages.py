"""App-wide messages: facts that happened, posted by the bridge, handled by the app."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from textual.message import Message

from firmware_interface.samples import StreamHealth
from fusion.outputs import PipelineOutput


class OutputMailbox:
    """Pipeline outputs the bridge produced and the app has not drawn yet.

    The app gives the bridge its mailbox; the bridge puts every output there and posts a
    ``PipelineUpdated``; the app takes all waiting outputs at each redraw. Coalesced messages
    therefore skip redraws, never outputs: alerts, reps and the chart's samples all arrive even
    when the terminal is slow.
    """

    def __init__(self) -> None:
        self._outputs: deque[PipelineOutput] = deque()

    def put(self, output: PipelineOutput) -> None:
        self._outputs.append(output)

    def take(self) -> tuple[PipelineOutput, ...]:
        outputs = tuple(self._outputs)
        self._outputs.clear()
        return outputs

    def __len__(self) -> int:
        return len(self._outputs)


@dataclass
class PipelineUpdated(Message):
    """New pipeline outputs wait in the mailbox; ``health`` is the source's state after them."""

    health: StreamHealth

    def can_replace(self, message: Message) -> bool:
        # The outputs stay in the mailbox, so an older update may be dropped: one redraw, no loss.
        return isinstance(message, PipelineUpdated)


@dataclass
class SourceEnded(Message):
    """The source has no more samples (a replay reached its end)."""

    health: StreamHealth


@dataclass
class SourceFailed(Message):
    """The source or the pipeline stopped with an error; ``message`` is one line for the user."""

    message: str
    health: StreamHealth
