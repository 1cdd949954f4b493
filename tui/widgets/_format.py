"""Text formatting shared by the widgets: signs and units the way the dashboard writes them."""

from __future__ import annotations

import math

MINUS = "\u2212"


def signed_deg(value: float, decimals: int = 0) -> str:
    """``+12°`` / ``−22°`` with a true minus sign; ``—`` when unknown."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.{decimals}f}°".replace("-", MINUS)


def degrees(value: float | None) -> str:
    """An unsigned angle such as a butt-wink reversal: ``14°``; ``—`` when unknown."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.0f}°"


def clock(value_s: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour) for stream positions."""
    total = max(0, int(value_s))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def duration(value_s: float) -> str:
    """``clock`` of a duration to the nearest second: a sum of sample intervals lands a hair
    either side of a whole second, and one minute must not read 00:59."""
    return clock(round(value_s))


def tempo(*durations_s: float | None) -> str:
    """Phase durations in seconds joined by slashes: ``1.4/0.3/1.1`` (``—`` for an unknown phase)."""
    return "/".join("—" if d is None or not math.isfinite(d) else f"{d:.1f}" for d in durations_s)
