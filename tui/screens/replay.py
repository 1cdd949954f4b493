"""Replay controls: pause, speed, seek, jump to the next alert or rep.

The keys act on a ``ControlledReplay`` source. Jumps need to know where the alerts and reps are:
``find_replay_events`` runs a fresh pipeline of the same settings over the whole recording once
(on a thread), so the places jumped to are those the dashboard will show when it gets there.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np
from textual.binding import Binding

from firmware_interface.samples import SampleBatch
from fusion.outputs import PipelineOutput
from tui.dashboard_state import ReplayPace
from tui.replay_source import ControlledReplay

SEEK_SHORT_S = 10.0
SEEK_LONG_S = 60.0
JUMP_LEAD_S = 3.0
"""A jump lands this long before the event, so the screen shows it arrive."""

REPLAY_BINDINGS = [
    Binding("space", "replay_pause", "Pause", id="replay-pause", tooltip="Pause or resume the replay"),
    Binding("right", "replay_seek(10)", "+10 s", show=False, id="replay-forward", tooltip="Skip 10 s forward"),
    Binding("left", "replay_seek(-10)", "−10 s", show=False, id="replay-back", tooltip="Go back 10 s"),
    Binding("shift+right,]", "replay_seek(60)", "+1 min", show=False, id="replay-forward-long"),
    Binding("shift+left,[", "replay_seek(-60)", "−1 min", show=False, id="replay-back-long"),
    Binding("plus,equals_sign", "replay_speed(1)", "Faster", show=False, id="replay-faster", tooltip="Next speed up"),
    Binding("minus", "replay_speed(-1)", "Slower", show=False, id="replay-slower", tooltip="Next speed down"),
    Binding("n", "replay_jump('alert')", "Next alert", id="replay-next-alert",
            tooltip="Jump to just before the next alert"),
    Binding("r", "replay_jump('rep')", "Next rep", show=False, id="replay-next-rep", tooltip="Jump to just before the next rep"),
]
REPLAY_ACTIONS = frozenset(b.action.partition("(")[0] for b in REPLAY_BINDINGS)


@dataclass(frozen=True)
class ReplayEvents:
    """Positions (s from the recording's first sample) of each alert and each rep start."""

    alerts_s: tuple[float, ...]
    reps_s: tuple[float, ...]

    def next_after(self, kind: str, position_s: float) -> float | None:
        times = self.alerts_s if kind == "alert" else self.reps_s
        later = [t for t in times if t - JUMP_LEAD_S > position_s + 0.5]
        return later[0] if later else None


def find_replay_events(source: ControlledReplay, make_pipeline: Callable[[], object],
                       chunk_s: float = 10.0) -> ReplayEvents:
    """Every alert and rep a fresh pipeline finds in the recording (blocking: run on a thread)."""
    pipeline = make_pipeline()
    batch = source.batch
    t0 = float(batch.t[0])
    edges = np.searchsorted(batch.t, np.arange(t0, float(batch.t[-1]) + chunk_s, chunk_s))
    alerts: list[float] = []
    reps: list[float] = []

    def collect(output: PipelineOutput) -> None:
        alerts.extend(a.t_s - t0 for a in output.alerts)
        reps.extend(r.start_s - t0 for r in output.reps)
        alerts.extend(r.end_s - t0 for r in output.reps if r.butt_wink)

    for start, stop in zip(edges, [*edges[1:], len(batch)]):
        if stop > start:
            collect(pipeline.update(SampleBatch(batch.t[start:stop], batch.acc[start:stop], batch.gyr[start:stop])))
    collect(pipeline.finish())
    return ReplayEvents(tuple(sorted(alerts)), tuple(sorted(reps)))


class ReplayActions:
    """The replay keys' actions, mixed into the app (which provides ``source``, ``notify``,
    ``replay_events``, ``refresh_replay`` and ``restart_session``)."""

    source: object
    replay_events: ReplayEvents | None

    @property
    def replay(self) -> ControlledReplay | None:
        return self.source if isinstance(self.source, ControlledReplay) else None

    def action_replay_pause(self) -> None:
        self.replay.toggle_pause()
        self.refresh_replay()

    def action_replay_speed(self, steps: int) -> None:
        self.replay.step_speed(faster=steps > 0)
        self.refresh_replay()

    def action_replay_seek(self, offset_s: float) -> None:
        self._seek_to(self.replay.position_s + offset_s)

    def action_replay_jump(self, kind: str) -> None:
        events = self.replay_events
        if events is None:
            self.notify("Still looking for the alerts and reps in the recording…", title="Replay")
            return
        found = events.next_after(kind, self.replay.position_s)
        if found is None:
            self.notify(f"No {kind} after this point.", title="Replay")
            return
        self._seek_to(found - JUMP_LEAD_S)

    def _seek_to(self, position_s: float) -> None:
        replay = self.replay
        position_s = max(0.0, min(position_s, replay.duration_s))
        if not replay.seek_forward_to(position_s):
            self.restart_session(position_s)
        self.refresh_replay()


class ShownPace:
    """Recording seconds shown per wall second over the last few seconds: the speed a replay
    really runs at (the analysis may be slower than the speed asked for)."""

    WINDOW_S = 3.0

    def __init__(self) -> None:
        self._points: deque[tuple[float, float]] = deque()

    def speed(self, shown_s: float | None) -> float | None:
        if shown_s is None:
            return None
        now = time.monotonic()
        self._points.append((now, shown_s))
        while now - self._points[0][0] > self.WINDOW_S:
            self._points.popleft()
        wall_s = now - self._points[0][0]
        # Rounded, so the screen changes when the pace does, not at every redraw.
        return round((shown_s - self._points[0][1]) / wall_s, 1) if wall_s >= 1.0 else None


def replay_pace(source: object, measured_speed: float | None = None) -> ReplayPace | None:
    """The pace a replay source reports, if it reports one (``speed``, ``duration_s``, ``paused``)."""
    if not hasattr(source, "speed"):
        return None
    return ReplayPace(speed=source.speed, duration_s=getattr(source, "duration_s", None),
                      paused=getattr(source, "paused", False), measured_speed=measured_speed)
