"""Where the samples come from and how well they arrive; recording and replay progress."""

from __future__ import annotations

from textual.widgets import Static

from tui.dashboard_state import DashboardState
from tui.widgets._format import clock
from tui.widgets._state_view import StateView, show


CATCHING_UP_S = 0.5
"""Analysis lag shown on screen: beyond a few redraws, the user should know the screen is late."""


def link_lines(state: DashboardState) -> list[str]:
    info, health = state.info, state.health
    lines = []
    if info is not None:
        address = f" {info.address}" if info.address else ""
        lines.append(f"{info.device} ({info.profile}){address}")
    stream_state = {"ended": "ended", "failed": "failed"}.get(state.stream, health.state)
    nominal = f" of {info.sample_rate_hz:g}" if info is not None else ""
    lines.append(f"{stream_state} · {health.rate_hz:.1f}{nominal} Hz · loss {health.loss_pct:.1f}%")
    battery = f"{health.battery_pct}%" if health.battery_pct is not None else "unknown"
    gap = health.last_gap
    last_gap = (f" (last {gap.end_s - gap.t_s:.1f} s)" if gap is not None and gap.end_s is not None else "")
    lines.append(f"gaps {health.gaps}{last_gap} · malformed {health.malformed} · battery {battery}")
    if state.analysis_behind_s >= CATCHING_UP_S and state.stream == "running":
        lines.append(f"screen {state.analysis_behind_s:.1f} s behind (catching up)")
    elif state.stream_message or health.message:
        lines.append(state.stream_message or health.message)
    if state.mode == "replay":
        lines.append(replay_line(state))
    if state.recording_stopped:
        lines.append(f"■ {state.recording_stopped}")
    elif state.recording:
        lines.append(f"● REC {state.recording}")
    return lines


def replay_line(state: DashboardState) -> str:
    position_s = (state.now_s - state.start_s) if state.now_s is not None and state.start_s is not None else 0.0
    line = f"▶ replay {clock(position_s)}"
    pace = state.replay
    if pace is not None:
        if pace.duration_s is not None:
            line += f" / {clock(pace.duration_s)}"
        line += " at max speed" if pace.speed is None else f" at ×{pace.speed:g}"
    return line


class LinkStatus(StateView, Static):
    """Renders ``state.info`` and ``state.health``; classes flag trouble for the stylesheet."""

    def watch_state(self, state: DashboardState) -> None:
        show(self, "\n".join(link_lines(state)), fixed_size=True)  # sized by #top in the stylesheet
        health = state.health
        self.set_class(state.stream == "failed" or health.state in ("stalled", "reconnecting"), "-trouble")
        self.set_class(state.stream == "ended", "-ended")
        self.set_class(state.recording is not None, "-recording")
