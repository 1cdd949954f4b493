"""What the main screens look like, in fixed states, at 80x24 and 120x40 (SVGs under
``__snapshots__``; update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and review
the diff like code)."""

from __future__ import annotations

import pytest

from tests.tui.conftest import wait_until
from tests.tui.snapshot_apps import desk_alert_app, reconnecting_app, replay_app, squat_app

SIZES = [(80, 24), (120, 40)]


async def _ended(pilot) -> None:
    """The source has ended and the analysis has caught up with it (under load it may lag the
    source; quitting would then leave it a bounded time only, and a summary would miss the end)."""
    app = pilot.app
    await wait_until(pilot, lambda: app.state.stream == "ended", timeout_s=30)
    await wait_until(pilot, lambda: app._worker.backlog_batches == 0 and app._worker.behind_s == 0, timeout_s=30)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_desk_alert(snap_compare, size):
    assert snap_compare(desk_alert_app(), run_before=_ended, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_desk_alert_with_the_programme(snap_compare, size):
    async def run_before(pilot) -> None:
        await _ended(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(desk_alert_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_squat_set(snap_compare, size):
    assert snap_compare(squat_app(), run_before=_ended, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_calibration_wizard_warns_when_sitting(snap_compare, size):
    async def run_before(pilot) -> None:
        await _ended(pilot)
        await pilot.press("c")
        await pilot.pause()

    assert snap_compare(desk_alert_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_session_summary(snap_compare, size):
    async def run_before(pilot) -> None:
        await _ended(pilot)
        await pilot.press("q")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "SummaryScreen")
        await pilot.pause()

    assert snap_compare(desk_alert_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_replay_paused(snap_compare, size):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: app.state.now_s is not None and app.state.now_s >= 39.9, timeout_s=30)
        await pilot.pause()

    assert snap_compare(replay_app(), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_reconnecting_while_recording(snap_compare, size):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.snapshot_source.release(2)
        await wait_until(pilot, lambda: app.state.health.state == "reconnecting")
        await pilot.pause()

    assert snap_compare(reconnecting_app(), run_before=run_before, terminal_size=size)
