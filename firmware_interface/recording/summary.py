"""What is in a recording, in one object: for ``tiltwatch info`` and the replay screen."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np

from firmware_interface.recording.phone import PHONE_PROFILE
from firmware_interface.recording.reader import Recording
from firmware_interface.recording.stream import RecordingStream


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
    """(start_s, end_s) spans without samples: gap markers merged with timing gaps (the first
    10,000 timing gaps; ``gap_count`` counts them all)."""
    gap_count: int
    gap_total_s: float
    longest_gap_s: float
    loss_pct: float
    """Samples missing against the nominal rate over the duration (0 when the rate is not nominal-clocked)."""
    malformed: int | None
    """Malformed notifications the decoder skipped, from the recording's last ``health`` line (None if absent)."""
    markers: Mapping[str, int] = field(default_factory=dict)
    """Count of markers by kind."""
    metadata: Mapping[str, int] = field(default_factory=dict)
    """Count of metadata lines by key (``started``, ``calibration``...)."""
    torn_lines: int = 0
    dropped_rows: int = 0
    """Rows beyond any IMU's range, dropped (each run is a gap)."""
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict; every number is SI (s, Hz)."""
        out = asdict(self)
        out["gaps"] = [list(gap) for gap in self.gaps]
        out["markers"] = dict(self.markers)
        out["metadata"] = dict(self.metadata)
        out["warnings"] = list(self.warnings)
        return out

    def to_text(self) -> str:
        """A few human-readable lines."""
        kind = (f"recording v{self.format_version}" if self.format_version is not None
                else "phone export" if self.profile == PHONE_PROFILE else "generic CSV")
        lines = [
            f"{self.path} ({kind})",
            f"device: {self.device} [{self.profile}]" + (f" {self.address}" if self.address else ""),
            f"samples: {self.samples} over {self.duration_s:.1f} s, mean {self.mean_rate_hz:.1f} Hz"
            f" (nominal {self.nominal_rate_hz:g} Hz)",
            f"gaps: {self.gap_count} totalling {self.gap_total_s:.2f} s"
            + (f" (longest {self.longest_gap_s:.2f} s)" if self.gap_count else "")
            + f"; loss {self.loss_pct:.1f}%"
            + ("" if self.malformed is None else f"; malformed packets skipped: {self.malformed}"),
        ]
        if self.markers:
            lines.append("markers: " + ", ".join(f"{n} {k}" for k, n in sorted(self.markers.items())))
        if self.torn_lines:
            lines.append(f"torn last line ignored: {self.torn_lines}")
        if self.dropped_rows:
            lines.append(f"rows beyond any IMU's range dropped: {self.dropped_rows}")
        return "\n".join(lines)


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


def _last_health(source: Recording | RecordingStream) -> Mapping[str, Any]:
    entries = source.metadata.get("health") or [{}]
    return entries[-1]


def summarize(source: Recording | RecordingStream) -> RecordingSummary:
    """What ``tiltwatch info`` shows; from a ``RecordingStream`` it needs no pass over the samples."""
    stats = source.stats
    duration_s = stats.end_s - stats.start_s
    marked = [(m.t_s, m.end_s) for m in source.markers if m.kind == "gap" and m.end_s is not None]
    gaps = _merge(list(stats.gaps) + marked)
    # Timing gaps beyond the listed ones are counted, not merged.
    unlisted_count = stats.gap_count - len(stats.gaps)
    unlisted_s = stats.gap_total_s - sum(end - start for start, end in stats.gaps)
    return RecordingSummary(
        path=str(source.path or ""),
        format_version=source.format_version,
        device=source.info.device,
        profile=source.info.profile,
        address=source.info.address,
        samples=stats.samples,
        start_s=stats.start_s,
        duration_s=duration_s,
        mean_rate_hz=(stats.samples - 1) / duration_s if duration_s > 0 else 0.0,
        nominal_rate_hz=source.info.sample_rate_hz,
        gaps=tuple(gaps),
        gap_count=len(gaps) + unlisted_count,
        gap_total_s=float(sum(end - start for start, end in gaps) + max(0.0, unlisted_s)),
        longest_gap_s=max([stats.longest_gap_s, *(end - start for start, end in gaps)]),
        loss_pct=_loss_pct(stats.samples, duration_s, source.info.sample_rate_hz),
        malformed=_last_health(source).get("malformed"),
        markers=dict(Counter(m.kind for m in source.markers)),
        metadata={key: len(entries) for key, entries in source.metadata.items()},
        torn_lines=source.torn_lines,
        dropped_rows=stats.dropped_rows,
        warnings=tuple(source.warnings),
    )


def samples_per_connection(stream: RecordingStream) -> list[int]:
    """Samples recorded on each BLE connection, in order: the file split at the link's
    ``reconnect`` markers (each sits on the first sample of a new connection). One pass, constant
    memory."""
    starts = sorted(m.t_s for m in stream.markers if m.kind == "reconnect")
    counts = [0] * (len(starts) + 1)
    for batch in stream:
        # Connection of each sample: how many reconnects start at or before it.
        connection = np.searchsorted(starts, batch.t, side="right")
        counts_here = np.bincount(connection, minlength=len(counts))
        for i, n in enumerate(counts_here.tolist()):
            counts[i] += n
    return counts
