"""What is in a recording, in one object: for ``tiltwatch info`` and the replay screen."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from firmware_interface.recording.reader import Recording

GAP_FACTOR = 3.0
"""A sample interval longer than this many median intervals is a gap."""


@dataclass(frozen=True)
class RecordingSummary:
    path: str
    format_version: int | None
    """``None`` for a generic CSV file."""
    device: str
    profile: str
    address: str
    samples: int
    start_s: float
    """Device time of the first sample."""
    duration_s: float
    """From the first to the last sample."""
    mean_rate_hz: float
    """Samples per second over the whole duration, gaps included."""
    nominal_rate_hz: float
    gaps: tuple[tuple[float, float], ...]
    """(start_s, end_s) spans without samples: gap markers merged with timing gaps."""
    gap_total_s: float
    loss_pct: float
    """Samples missing against the nominal rate over the duration (0 when the rate is not nominal-clocked)."""
    malformed: int | None
    """Malformed notifications the decoder skipped, from the recording's last ``health`` line (None if absent)."""
    markers: Mapping[str, int] = field(default_factory=dict)
    """Count of markers by kind."""
    metadata: Mapping[str, int] = field(default_factory=dict)
    """Count of metadata lines by key (``started``, ``calibration``...)."""
    torn_lines: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict; every number is SI (s, Hz)."""
        out = asdict(self)
        out["gaps"] = [list(gap) for gap in self.gaps]
        out["markers"] = dict(self.markers)
        out["metadata"] = dict(self.metadata)
        return out

    def to_text(self) -> str:
        """A few human-readable lines."""
        kind = "generic CSV" if self.format_version is None else f"recording v{self.format_version}"
        lines = [
            f"{self.path} ({kind})",
            f"device: {self.device} [{self.profile}]" + (f" {self.address}" if self.address else ""),
            f"samples: {self.samples} over {self.duration_s:.1f} s, mean {self.mean_rate_hz:.1f} Hz"
            f" (nominal {self.nominal_rate_hz:g} Hz)",
            f"gaps: {len(self.gaps)} totalling {self.gap_total_s:.2f} s; loss {self.loss_pct:.1f}%"
            + ("" if self.malformed is None else f"; malformed packets skipped: {self.malformed}"),
        ]
        if self.markers:
            lines.append("markers: " + ", ".join(f"{n} {k}" for k, n in sorted(self.markers.items())))
        if self.torn_lines:
            lines.append(f"torn last line ignored: {self.torn_lines}")
        return "\n".join(lines)


def timing_gaps(t: np.ndarray, factor: float = GAP_FACTOR) -> list[tuple[float, float]]:
    """Spans (last sample before, first sample after) where dt exceeds ``factor`` × median dt."""
    if len(t) < 3:
        return []
    dt = np.diff(t)
    jumps = np.flatnonzero(dt > factor * np.median(dt))
    return [(float(t[i]), float(t[i + 1])) for i in jumps]


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _loss_pct(samples: int, duration_s: float, nominal_rate_hz: float) -> float:
    expected = duration_s * nominal_rate_hz + 1
    if samples < 2 or nominal_rate_hz <= 0:
        return 0.0
    return max(0.0, 100.0 * (1.0 - samples / expected))


def _last_health(recording: Recording) -> Mapping[str, Any]:
    entries = recording.metadata.get("health") or [{}]
    return entries[-1]


def summarize(recording: Recording) -> RecordingSummary:
    batch = recording.batch
    t = batch.t
    duration_s = float(t[-1] - t[0]) if len(t) else 0.0
    marked = [(m.t_s, m.end_s) for m in batch.markers if m.kind == "gap" and m.end_s is not None]
    gaps = _merge(timing_gaps(t) + marked)
    return RecordingSummary(
        path=str(recording.path or ""),
        format_version=recording.format_version,
        device=recording.info.device,
        profile=recording.info.profile,
        address=recording.info.address,
        samples=len(t),
        start_s=float(t[0]) if len(t) else 0.0,
        duration_s=duration_s,
        mean_rate_hz=(len(t) - 1) / duration_s if duration_s > 0 else 0.0,
        nominal_rate_hz=recording.info.sample_rate_hz,
        gaps=tuple(gaps),
        gap_total_s=float(sum(end - start for start, end in gaps)),
        loss_pct=_loss_pct(len(t), duration_s, recording.info.sample_rate_hz),
        malformed=_last_health(recording).get("malformed"),
        markers=dict(Counter(m.kind for m in batch.markers)),
        metadata={key: len(entries) for key, entries in recording.metadata.items()},
        torn_lines=recording.torn_lines,
    )
