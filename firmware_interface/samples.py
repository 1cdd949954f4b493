"""The one sample stream type every stage of tiltwatch uses.

A source (emulated sensor, BLE sensor, recording replay, CSV import) yields ``SampleBatch``es:
device timestamps in seconds, acceleration in m/s² and angular rate in rad/s, all in the
sensor frame, as NumPy arrays. Raw device units never cross the decoder boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

import numpy as np

MarkerKind = Literal["gap", "stall", "calibration", "note", "reconnect"]


@dataclass(frozen=True)
class SourceInfo:
    """What produced a stream: kept in recordings and shown by the dashboard and ``info``."""

    device: str
    """Human-readable device name, e.g. ``"WitMotion WT901BLECL"``."""
    profile: str
    """Profile key (``wt901``, ``dot``, ``thingy``, ``metamotion``, ``open``) or ``sim``/``csv``."""
    sample_rate_hz: float
    """Nominal sample rate."""
    address: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth keeping (firmware, scenario, seed): JSON-serialisable values only."""


@dataclass(frozen=True)
class Marker:
    """Something that happened at a point or over a span of device time.

    ``gap``: samples missing between ``t_s`` and ``end_s`` (link loss or dropped packets).
    ``stall``: the link stayed up but the device stopped notifying.
    ``calibration``: a calibration window; ``data`` carries its kind (``stand``, ``sit``, ``hinge``).
    ``note``: a user note in ``text``. ``reconnect``: the link came back at ``t_s``.
    """

    t_s: float
    kind: MarkerKind
    end_s: float | None = None
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


def _as_float_array(values: Any, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.shape[1:] != shape_tail:
        raise ValueError(f"{name} must have shape (N, {', '.join(map(str, shape_tail))}), got {array.shape}")
    return array


@dataclass(frozen=True, eq=False)
class SampleBatch:
    """Consecutive samples from one source.

    ``t``: (N,) device time in seconds, increasing; ``acc``: (N, 3) m/s², specific force
    (reads about +9.81 on the up axis at rest); ``gyr``: (N, 3) rad/s. ``markers`` are the
    markers that arrived with this batch (a gap is reported in the batch that follows it).
    """

    t: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    markers: tuple[Marker, ...] = ()

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64).reshape(-1)
        acc = _as_float_array(self.acc, (3,), "acc")
        gyr = _as_float_array(self.gyr, (3,), "gyr")
        if not (len(t) == len(acc) == len(gyr)):
            raise ValueError(f"t, acc and gyr lengths differ: {len(t)}, {len(acc)}, {len(gyr)}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "acc", acc)
        object.__setattr__(self, "gyr", gyr)
        object.__setattr__(self, "markers", tuple(self.markers))

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls, markers: Iterable[Marker] = ()) -> SampleBatch:
        return cls(np.empty(0), np.empty((0, 3)), np.empty((0, 3)), tuple(markers))

    @classmethod
    def concatenate(cls, batches: Iterable[SampleBatch]) -> SampleBatch:
        batches = list(batches)
        if not batches:
            return cls.empty()
        return cls(
            np.concatenate([b.t for b in batches]),
            np.concatenate([b.acc for b in batches]),
            np.concatenate([b.gyr for b in batches]),
            tuple(m for b in batches for m in b.markers),
        )

    def split(self, max_samples: int) -> list[SampleBatch]:
        """Cut into batches of at most ``max_samples``; markers go with the first piece."""
        if max_samples < 1:
            raise ValueError("max_samples must be >= 1")
        if len(self) <= max_samples:
            return [self]
        pieces = []
        for i, start in enumerate(range(0, len(self), max_samples)):
            stop = start + max_samples
            pieces.append(
                SampleBatch(self.t[start:stop], self.acc[start:stop], self.gyr[start:stop],
                            self.markers if i == 0 else ())
            )
        return pieces


@dataclass(frozen=True)
class StreamHealth:
    """How well a source is delivering, for the dashboard and ``tiltwatch info``."""

    state: Literal["connecting", "streaming", "stalled", "reconnecting", "ended"] = "connecting"
    samples: int = 0
    rate_hz: float = 0.0
    """Actual rate over the recent window (device time)."""
    loss_pct: float = 0.0
    gaps: int = 0
    last_gap: Marker | None = None
    malformed: int = 0
    battery_pct: int | None = None
    message: str = ""
    """One line for the user (``"reconnecting in 2 s (attempt 3)"``)."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (kept in recordings as the ``health`` metadata line)."""
        gap = self.last_gap
        return {"state": self.state, "samples": self.samples, "rate_hz": self.rate_hz,
                "loss_pct": self.loss_pct, "gaps": self.gaps, "malformed": self.malformed,
                "battery_pct": self.battery_pct, "message": self.message,
                "last_gap": None if gap is None else {"t_s": gap.t_s, "end_s": gap.end_s}}
