"""Quitting and failing with a real recorder: the recording always closes with its health line;
a full disk stops the recording, never the session; SIGTERM and SIGINT quit like ``q``."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import firmware_interface.recording.writer as writer_module
from firmware_interface.recording import RecordingWriter, read_recording
from tui.app import make_app
from tui.widgets import LinkStatus

SIZE = (120, 40)
ROOT = Path(__file__).resolve().parents[2]


async def test_q_closes_a_real_recording_once_with_its_health_line(quit_app, fakes, wait_for, tmp_path):
    source = fakes.source(fakes.tilt_batches(np.zeros(200)), gated=True)
    path = tmp_path / "session.csv"
    writer = RecordingWriter(path, source.info)
    app = make_app(source, fakes.pipeline(), recorder=writer)
    async with app.run_test(size=SIZE) as pilot:
        source.release(10)
        await wait_for(pilot, lambda: writer.samples_written == 50)
        await quit_app(pilot)  # through the summary
    app.close_recording()  # what run_dashboard does after the app: a second close is harmless
    assert app.return_code == 0 and writer.closed
    recording = read_recording(path)
    assert len(recording.batch) == 50
    (health,) = recording.metadata["health"]
    assert health["samples"] == 50


class _DiskFullAfter(io.FileIO):
    """A file that takes ``limit`` bytes, then fails as a full disk does (at the raw OS write)."""

    limit = 4000

    def write(self, data):
        if self.tell() + len(data) > self.limit:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def _open_on_small_disk(path, mode="r", encoding=None, newline=None):
    raw = _DiskFullAfter(path, mode.replace("t", ""))
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=encoding, newline=newline)


async def test_a_full_disk_stops_the_recording_with_one_message_and_the_session_goes_on(quit_app,
        fakes, wait_for, text_of, tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "open", _open_on_small_disk, raising=False)
    source = fakes.source(fakes.tilt_batches(np.zeros(400)), gated=True)
    path = tmp_path / "session.csv"
    writer = RecordingWriter(path, source.info)
    app = make_app(source, fakes.pipeline(), recorder=writer)
    async with app.run_test(size=SIZE) as pilot:
        source.release(80)
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause(0.2)
        assert app.is_running, "the dashboard goes on"
        assert app.state.now_s == 399 / fakes.rate_hz, "every sample still reaches the screen"
        assert "REC stopped: No space left on device" in text_of(app.query_one(LinkStatus))
        notes = [n for n in app._notifications if n.severity == "error"]
        assert len(notes) == 1 and "No space left on device" in notes[0].message
        await quit_app(pilot)  # through the summary
    assert app.return_code == 0
    kept = read_recording(path)  # what reached the disk still reads
    assert 0 < len(kept.batch) < 400


_DASHBOARD = """
import sys
from firmware_interface import sources
from tui.dashboard import run_dashboard
source = sources.simulator_source("desk", seed=1, speed=1.0)
sys.exit(run_dashboard(lambda: sources.opened(source), record_path=sys.argv[1], headless=True))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_quits_the_dashboard_and_closes_the_recording(tmp_path, signum):
    path = tmp_path / "session.csv"
    process = subprocess.Popen([sys.executable, "-c", _DASHBOARD, str(path)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # margin for a loaded machine: imports take seconds
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 2000):
            time.sleep(0.05)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
    recording = read_recording(path)
    assert len(recording.batch) > 0
    (health,) = recording.metadata["health"]
    assert health["samples"] == len(recording.batch)


async def test_the_link_panel_shows_the_loss_info_reads_from_the_recording(quit_app, fakes, wait_for, text_of, tmp_path):
    from firmware_interface.recording import summarize

    batches = fakes.tilt_batches(np.zeros(400), chunk=10)
    kept = [b for i, b in enumerate(batches) if i % 7 != 3]  # every 7th batch lost on the link
    source = fakes.source(kept)
    path = tmp_path / "session.csv"
    app = make_app(source, fakes.pipeline(), recorder=RecordingWriter(path, source.info))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.stream == "ended")
        await pilot.pause()
        shown = app.state.health.loss_pct
        panel = text_of(app.query_one(LinkStatus))
        await quit_app(pilot)  # through the summary
    info_loss = summarize(read_recording(path)).loss_pct
    assert info_loss > 5
    assert shown == pytest.approx(info_loss, abs=0.05)
    assert f"loss {info_loss:.1f}%" in panel


async def test_ctrl_c_quits_like_q(fakes, wait_for, tmp_path):
    source = fakes.source(fakes.tilt_batches(np.zeros(100)), gated=True)
    writer = RecordingWriter(tmp_path / "session.csv", source.info)
    app = make_app(source, fakes.pipeline(), recorder=writer)
    async with app.run_test(size=SIZE) as pilot:
        source.release(4)
        await wait_for(pilot, lambda: writer.samples_written == 20)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0 and writer.closed
    assert read_recording(tmp_path / "session.csv").metadata["health"]
