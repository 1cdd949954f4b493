"""Dashboards in fixed, deterministic states for snapshot tests and screenshots.

Every app runs on the fake source and pipeline of ``conftest.py`` (tilt written into the
samples, decisions obvious), so what a snapshot shows depends on nothing but this file.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from firmware_interface.samples import SampleBatch, SourceInfo
from fusion.detection.events import SquatRep
from fusion.outputs import PipelineOutput
from tests.tui.conftest import RATE_HZ, FakePipeline, FakeRecorder, FakeSource, tilt_batches
from tui.app import TiltwatchApp, make_app
from tui.replay_source import ControlledReplay


def desk_alert_app() -> TiltwatchApp:
    """Sitting: a minute near neutral, then tucked under (−24°) past the hold: a posterior alert."""
    tilt = np.concatenate([2.0 * np.sin(np.arange(3000) / 150.0), np.full(1000, -24.0)])
    recorder = FakeRecorder()
    return make_app(FakeSource(tilt_batches(tilt, chunk=50)), FakePipeline(hold_s=10.0), recorder=recorder)


class SquatPipeline(FakePipeline):
    """The fake pipeline during a squat set: activity squatting, a rep reported at each of
    ``rep_ends_s`` (the third winks), no tilt alerts (a set's descents are not posture)."""

    def __init__(self, rep_ends_s: tuple[float, ...]) -> None:
        super().__init__(hold_s=1e9)
        self._reps = [SquatRep(1, i + 1, end - 2.5, end - 1.3, end, 14.0 if i == 2 else 3.0 + i,
                               "flag" if i == 2 else "none", depth_m=0.42 + 0.01 * i, peak_anterior_deg=24.0 + i,
                               descent_s=1.2, bottom_pause_s=0.3, ascent_s=1.0)
                      for i, end in enumerate(rep_ends_s)]

    def update(self, batch: SampleBatch) -> PipelineOutput:
        output = super().update(batch)
        reps = tuple(r for r in self._reps if batch.t[0] <= r.end_s <= batch.t[-1])
        # As the real pipeline: no posture judgement while squatting.
        return replace(output, activity=np.full(len(batch), "squatting", dtype=object), reps=reps,
                       status="paused", hold=None)


def squat_app() -> TiltwatchApp:
    """Mid-set: four reps (the third with a butt wink), the wearer in a descent (+22°)."""
    t = np.arange(int(12.5 * RATE_HZ)) / RATE_HZ
    tilt = 22.0 * np.clip(np.sin(2 * np.pi * t / 3.0), 0, None)
    tilt[-20:] = 22.0
    return make_app(FakeSource(tilt_batches(tilt, chunk=25)), SquatPipeline((2.5, 5.5, 8.5, 11.5)))


def replay_app(paused_at_s: float = 40.0) -> TiltwatchApp:
    """A two-minute recording replayed, paused at ``paused_at_s``."""
    t = np.arange(int(120 * RATE_HZ)) / RATE_HZ
    acc = np.zeros((len(t), 3))
    acc[:, 0] = 12.0 * np.sin(2 * np.pi * t / 30.0)
    info = SourceInfo(device="session.csv", profile="recording", sample_rate_hz=RATE_HZ)
    source = ControlledReplay(SampleBatch(t, acc, np.zeros((len(t), 3))), info, speed=10.0)
    source.paused = True
    source.seek_forward_to(paused_at_s)
    return make_app(source, FakePipeline(hold_s=5.0), mode="replay", pipeline_factory=lambda: FakePipeline(hold_s=5.0))


def reconnecting_app() -> TiltwatchApp:
    """Recording, then the link drops: the panel must show REC and the reconnect message whole."""
    from firmware_interface.samples import StreamHealth

    source = FakeSource(tilt_batches(np.zeros(500), chunk=50), gated=True)
    source.next_health = StreamHealth(state="reconnecting", rate_hz=0.0, gaps=1, battery_pct=64,
                                      message="link lost; reconnecting in 2 s (attempt 3)")
    app = make_app(source, FakePipeline(), recorder=FakeRecorder())
    app.snapshot_source = source
    return app
