"""Fakes for dashboard tests: a deterministic source and a pipeline whose decisions are obvious.

The fake pipeline reads the tilt straight from ``acc[:, 0]`` (degrees), so a test writes the
tilt it wants the dashboard to show. Its hold/alert logic is a stand-in for the real detectors:
the dashboard is under test here, not the detection.
"""

from __future__ import annotations

import asyncio
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console
from textual.widget import Widget
from textual.widgets import Static

from firmware_interface.errors import CalibrationRejected
from firmware_interface.samples import SampleBatch, SourceInfo, StreamHealth
from fusion.calibration import Calibration
from fusion.detection.events import TiltAlert
from fusion.outputs import HoldProgress, PipelineOutput, TiltQuality
from fusion.settings import Settings

RATE_HZ = 50.0
UP_SENSOR = np.array([0.0, 1.0, 0.0])


def tilt_batches(tilt_deg: np.ndarray, *, chunk: int = 5, start_s: float = 0.0) -> list[SampleBatch]:
    t = start_s + np.arange(len(tilt_deg)) / RATE_HZ
    acc = np.zeros((len(t), 3))
    acc[:, 0] = tilt_deg
    return SampleBatch(t, acc, np.zeros((len(t), 3))).split(chunk)


class FakeSource:
    """Yields its batches; with ``gate`` set, one batch per ``gate.release()`` call."""

    def __init__(self, batches: list[SampleBatch], *, fail_with: Exception | None = None,
                 gated: bool = False) -> None:
        self.info = SourceInfo(device="Fake IMU", profile="sim", sample_rate_hz=RATE_HZ)
        self.health = StreamHealth(state="connecting")
        self.next_health: StreamHealth | None = None
        """Health to report with the next batches instead of a healthy stream's."""
        self._batches = batches
        self._fail_with = fail_with
        self._permits = asyncio.Semaphore(0) if gated else None

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self._permits.release()

    async def __aiter__(self):
        for batch in self._batches:
            if self._permits is not None:
                await self._permits.acquire()
            self.health = self.next_health or StreamHealth(
                state="streaming", samples=self.health.samples + len(batch), rate_hz=RATE_HZ, battery_pct=80)
            yield batch
            await asyncio.sleep(0)
        if self._fail_with is not None:
            raise self._fail_with
        self.health = StreamHealth(state="ended", samples=self.health.samples)


class FakePipeline:
    """Tilt = acc x; beyond ±threshold for ``hold_s`` raises one alert per episode."""

    settings = Settings()
    """Only the zones drawn come from it (the real default thresholds); the decisions are the fake's."""
    samples_until_shown = 1
    """Every batch shows its samples."""

    def __init__(self, threshold_deg: float = 10.0, hold_s: float = 2.0, calibrated: bool = True) -> None:
        self.threshold_deg = threshold_deg
        self.hold_s = hold_s
        self.calibration = Calibration.standing(UP_SENSOR) if calibrated else None
        self.calibrating: str | None = None
        self.calibration_still_s = 0.0
        self.requests: list[str] = []
        self.finished = 0
        self.batches = 0
        self._episode_start_s: float | None = None
        self._alerted = False
        self.still = True
        """The ``still`` quality flag reported (False: the wearer is moving)."""
        self.slipped = False
        """The ``sensor_slipped`` quality flag reported."""

    def request_calibration(self, kind: str = "stand") -> None:
        if kind == "sit" and self.calibration is None:
            raise CalibrationRejected("calibrate standing first")
        self.requests.append(kind)
        self.calibrating = kind

    def finish(self) -> PipelineOutput:
        self.finished += 1
        empty = np.empty(0)
        return PipelineOutput(t=empty, quaternion=np.empty((0, 4)), tilt_deg=empty, obliquity_deg=empty,
                              activity=np.empty(0, dtype=object), status="neutral",
                              quality=TiltQuality(calibrated=self.calibration is not None))

    def update(self, batch: SampleBatch) -> PipelineOutput:
        """Like the real pipeline, a requested calibration completes on the next still batch."""
        self.batches += 1
        event = None
        if self.calibrating is not None and self.still:
            window = (float(batch.t[0]), float(batch.t[-1]))
            self.calibration = (Calibration.standing(UP_SENSOR, window[1], window) if self.calibrating == "stand"
                                else self.calibration.with_sitting(UP_SENSOR))
            event = f"{self.calibrating} neutral set"
            self.calibrating = None
        tilt = batch.acc[:, 0].copy()
        if self.calibration is None:
            tilt[:] = np.nan
        # Sample by sample, so any batching of the stream gives the same alerts (as the real one).
        hold, alerts, direction = None, [], None
        for t_s, angle in zip(batch.t.tolist(), tilt.tolist()):
            direction = "anterior" if angle > self.threshold_deg else "posterior" if angle < -self.threshold_deg else None
            if direction is None:
                self._episode_start_s, self._alerted = None, False
                continue
            if self._episode_start_s is None:
                self._episode_start_s = t_s
            elapsed_s = t_s - self._episode_start_s
            threshold = self.threshold_deg if direction == "anterior" else -self.threshold_deg
            if elapsed_s >= self.hold_s and not self._alerted:
                self._alerted = True
                alerts.append(TiltAlert(t_s, direction, angle, elapsed_s, "sitting", threshold,
                                        self.hold_s, self._episode_start_s))
        if direction is not None and not self._alerted:
            hold = HoldProgress(direction, float(tilt[-1]), float(batch.t[-1]) - self._episode_start_s,
                                self.hold_s, threshold)
        status = "uncalibrated" if self.calibration is None else direction or "neutral"
        alerts = tuple(alerts)
        n = len(batch)
        return PipelineOutput(
            t=batch.t, quaternion=np.tile([1.0, 0, 0, 0], (n, 1)), tilt_deg=tilt,
            obliquity_deg=np.zeros(n), activity=np.full(n, "sitting", dtype=object), status=status,
            quality=TiltQuality(calibrated=self.calibration is not None, still=self.still,
                                sensor_slipped=self.slipped),
            hold=hold, alerts=alerts, calibration_event=event,
        )


def output_at(t_s: float, status: str = "neutral", *, tilt_deg: float = 0.0, alerts=(), reps=(),
              activity: str = "sitting", calibrated: bool = True) -> PipelineOutput:
    """A one-sample output at ``t_s``, for tests of what the dashboard keeps."""
    return PipelineOutput(
        t=np.array([t_s]), quaternion=np.array([[1.0, 0, 0, 0]]), tilt_deg=np.array([tilt_deg]),
        obliquity_deg=np.zeros(1), activity=np.array([activity], dtype=object), status=status,
        quality=TiltQuality(calibrated=calibrated), alerts=tuple(alerts), reps=tuple(reps),
    )


class FakeRecorder:
    def __init__(self) -> None:
        self.path = "session.csv"
        self.samples = 0
        self.metadata = []
        self.closed = 0

    def append(self, batch: SampleBatch) -> None:
        assert not self.closed, "append after close"
        self.samples += len(batch)

    def add_metadata(self, key: str, entry: dict) -> None:
        json.dumps(entry)  # what the real writer needs
        self.metadata.append((key, entry))

    def close(self) -> None:
        self.closed += 1


def plain_text(item) -> str:
    """The plain text a widget shows (whatever renderable it holds), or a Rich renderable prints."""
    content = item
    if isinstance(item, Widget):
        content = item.content if isinstance(item, Static) else item.render()
    if isinstance(content, str):
        return content
    console = Console(width=1000, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def wait_until(pilot, condition, timeout_s: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout_s``."""
    async def poll() -> None:
        while not condition():
            await pilot.pause(0.01)
    await asyncio.wait_for(poll(), timeout_s)


async def quit_through_summary(pilot) -> None:
    """``q`` closes the session and shows its summary; ``q`` again leaves the app."""
    from tui.screens.summary import SummaryScreen

    app = pilot.app
    await pilot.press("q")
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
    await pilot.press("q")
    await wait_until(pilot, lambda: not app.is_running)


@pytest.fixture
def quit_app():
    return quit_through_summary


@pytest.fixture
def text_of():
    return plain_text


@pytest.fixture
def wait_for():
    return wait_until


@pytest.fixture
def fakes():
    """The fake classes and builders, for tests in this folder."""
    return SimpleNamespace(source=FakeSource, pipeline=FakePipeline, recorder=FakeRecorder,
                           tilt_batches=tilt_batches, output_at=output_at, rate_hz=RATE_HZ)
