"""Where the samples come from and how well they arrive; recording and replay progress.

Lines come most important first (trouble, then recording or replay, then the rate), so a short
panel loses the device details, never the reconnect message or the REC indicator.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._format import clock
from tui.widgets._state_view import StateView, show

CATCHING_UP_S = 0.5
"""Analysis lag shown on screen: beyond a few redraws, the user should know the screen is late."""
TROUBLE_STATES = ("stalled", "reconnecting")


def link_lines(state: DashboardState) -> list[str]:
    info, health = state.info, state.health
    lines = []
    stream_state = {"ended": "ended", "failed": "failed"}.get(state.stream, health.state)
    if state.stream == "failed" or health.state in TROUBLE_STATES:
        lines.append(f"⚠ {stream_state}: {state.stream_message or health.message or 'waiting for the sensor'}")
    elif health.state == "connecting":
        lines.append(f"connecting… {health.message}".rstrip())
    if state.recording_stopped:
        lines.append(f"■ {state.recording_stopped}")
    elif state.recording:
        lines.append(f"● REC {Path(state.recording).name}")  # the name: a long path would push lines out
    if state.mode == "replay":
        lines.append(replay_line(state))
    lines.append(f"{stream_state} {health.rate_hz:.0f} Hz · loss {health.loss_pct:.1f}%")
    if state.analysis_behind_s >= CATCHING_UP_S and state.stream == "running":
        lines.append(f"screen {state.analysis_behind_s:.1f} s behind")
    elif state.stream == "ended" and state.stream_message:
        lines.append(state.stream_message)
    battery = f"{health.battery_pct}%" if health.battery_pct is not None else "?"
    gap = health.last_gap
    last_gap = (f" (last {gap.end_s - gap.t_s:.1f} s)" if gap is not None and gap.end_s is not None else "")
    lines.append(f"gaps {health.gaps}{last_gap} · bad {health.malformed} · batt {battery}")
    if info is not None:
        address = f" {info.address}" if info.address else ""
        lines.append(f"{info.device} ({info.profile}, {info.sample_rate_hz:g} Hz){address}")
    return lines


def replay_line(state: DashboardState) -> str:
    pace = state.replay
    line = f"{'⏸' if pace is not None and pace.paused else '▶'} {clock(state.position_s)}"
    if pace is not None:
        if pace.duration_s is not None:
            line += f" / {clock(pace.duration_s)}"
        line += " max speed" if pace.speed is None else f" ×{pace.speed:g}"
    return line


class LinkStatus(StateView, Static):
    """Renders ``state.info`` and ``state.health``; classes flag trouble for the stylesheet."""

    def watch_state(self, state: DashboardState) -> None:
        show(self, "\n".join(link_lines(state)), fixed_size=True)  # sized by #top in the stylesheet
        health = state.health
        self.set_class(state.stream == "failed" or health.state in TROUBLE_STATES, "-trouble")
        self.set_class(state.stream == "ended", "-ended")
        self.set_class(state.recording is not None, "-recording")
