"""Sample times, gaps and stream health (protocols.md §7.2, §7.4).

Notifications reach the host in bursts, one burst per connection interval, so their arrival times
are never sample times. Devices that send timestamps (Movella DOT, the open profile) are unwrapped
with ``CounterUnwrapper``; the others get a ``NominalClock``: sample index × period, anchored to the
lower envelope of host arrival times (the least-delayed notifications) with the period corrected for
the device's clock drift. Gaps come from timestamps or sequence numbers where a device has them, and
otherwise from an arrival deficit (the stream arriving later than its sample count allows, and
staying so: a busy host delivers late, then catches up).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Sequence

import numpy as np

from firmware_interface.samples import Marker, StreamHealth

if TYPE_CHECKING:
    from firmware_interface.profiles._base import DecodeResult, DecodeStats

US_PER_S = 1_000_000


class CounterUnwrapper:
    """Extends a wrapping unsigned counter (u32 µs timestamps, u16 sequence numbers) to an int.

    A step of more than half the counter range is read as going backwards (a duplicate or a
    reordered packet), so the unwrapped value decreases and the caller can reject it.
    """

    def __init__(self, bits: int) -> None:
        self.modulus = 1 << bits
        self._last_raw: int | None = None
        self._value = 0

    def unwrap(self, raw: int) -> int:
        if self._last_raw is None:
            self._value = raw
        else:
            step = (raw - self._last_raw) % self.modulus
            if step >= self.modulus // 2:
                step -= self.modulus
            self._value += step
        self._last_raw = raw
        return self._value

    def reset(self) -> None:
        self._last_raw = None


def missing_between(previous_s: float, current_s: float, period_s: float) -> int:
    """Samples missing between two consecutive device timestamps (0 up to 1.5 periods apart)."""
    if current_s - previous_s <= 1.5 * period_s:
        return 0
    return max(1, round((current_s - previous_s) / period_s) - 1)


def gap_marker(last_s: float, next_s: float, missing: int, detected_by: str) -> Marker:
    """A ``gap`` marker from the last sample before the gap to the first one after it."""
    return Marker(t_s=last_s, kind="gap", end_s=next_s,
                  data={"missing": int(missing), "detected_by": detected_by})


class DeviceClock:
    """Device timestamps (wrapping µs counters) -> increasing seconds.

    ``stamp(raw_us, count)`` gives the times of ``count`` samples starting at ``raw_us``, one period
    apart, and how many samples the timestamps say are missing since the previous call, or ``None``
    for a repeated or older timestamp (rejected). Three backward timestamps in a row are taken as a
    restarted device clock: the timeline then continues one period after the last sample.
    """

    BACKWARDS_BEFORE_RESTART = 3

    def __init__(self, rate_hz: float, bits: int = 32) -> None:
        self.period_s = 1.0 / rate_hz
        self._unwrapper = CounterUnwrapper(bits)
        self._offset_us = 0
        self._last_us: int | None = None
        self._backwards = 0

    @property
    def last_s(self) -> float | None:
        return None if self._last_us is None else self._last_us / US_PER_S

    def stamp(self, raw_us: int, count: int = 1) -> tuple[np.ndarray, int] | None:
        period_us = self.period_s * US_PER_S
        first_us = self._unwrapper.unwrap(raw_us) + self._offset_us
        if self._last_us is not None and first_us <= self._last_us:
            self._backwards += 1
            if self._backwards < self.BACKWARDS_BEFORE_RESTART:
                # Stale or repeated: stay on the newest good stamp.
                self._unwrapper.unwrap((self._last_us - self._offset_us) % self._unwrapper.modulus)
                return None
            restarted_us = self._last_us + round(period_us)
            self._offset_us += restarted_us - first_us
            first_us = restarted_us
        self._backwards = 0
        missing = 0
        if self._last_us is not None:
            missing = missing_between(self._last_us / US_PER_S, first_us / US_PER_S, self.period_s)
        times_us = first_us + np.arange(count) * period_us
        self._last_us = int(round(times_us[-1]))
        return times_us / US_PER_S, missing


class NominalClock:
    """Times for a stream without device timestamps: ``t0 + index × period``.

    ``stamp(count, received_at_s)`` takes each notification's sample count and host arrival time.
    The anchor ``t0`` follows the lower envelope of ``arrival − index × period`` (a notification can
    arrive late, never early), the period is re-measured every ``window_s`` from the slope of that
    envelope since the stream began (clock drift). An arrival later than ``gap_threshold_s`` (about
    two connection intervals) beyond the envelope is either lost samples or a host that was busy:
    the notifications a busy host held back arrive together and the stream is back on the envelope
    (nothing lost, nothing reported), while after a loss it stays late by the lost time. So a
    deficit is a gap only once the stream has stayed that late, neither catching up nor falling
    further behind, for ``deficit_confirm_s`` of arrivals: then the missing samples are counted, the
    index skips over them and a gap is reported (the samples of that confirmation time are placed
    before the gap; a real sensor gives no better clue). Times are in the host clock's seconds and always
    increase. If the received rate stays more than 15 % off nominal for two windows (WitMotion's
    conflicting 200 Hz rate codes), the clock adopts the measured rate, snapped to
    ``known_rates_hz`` when one is within 5 %.
    """

    _RATE_MISMATCH = 0.15
    BUSY_HOST_MAX_S = 1.0
    """A deficit longer than this is a gap at once: a host held up that long is rare, a sensor
    that stalls for seconds is not, and its samples after the gap belong after it."""

    def __init__(self, rate_hz: float, connection_interval_s: float = 0.05, window_s: float = 2.0,
                 known_rates_hz: Sequence[float] = (), deficit_confirm_s: float | None = None) -> None:
        self.nominal_rate_hz = float(rate_hz)
        self.deficit_confirm_s = deficit_confirm_s
        """How long a deficit must last to be a gap (None: ``gap_threshold_s``; 0: at once)."""
        self.period_s = 1.0 / self.nominal_rate_hz
        self.connection_interval_s = connection_interval_s
        self.window_s = window_s
        self.known_rates_hz = tuple(known_rates_hz)
        self._t0: float | None = None
        self._next_index = 0
        self._last_t = -math.inf
        self._latency_s = 0.0
        self._window: _EnvelopeWindow | None = None
        self._envelope_baseline: tuple[int, float] | None = None
        self._mismatched_windows = 0
        self._deficit: _Deficit | None = None

    @property
    def gap_threshold_s(self) -> float:
        return max(2.0 * self.connection_interval_s, 3.0 * self.period_s)

    @property
    def rate_hz(self) -> float:
        """Current estimate of the device's actual sample rate."""
        return 1.0 / self.period_s

    def stamp(self, count: int, received_at_s: float, known_missing: int = 0) -> tuple[np.ndarray, Marker | None]:
        """Times for the ``count`` samples of one notification, and a gap marker if samples were lost
        before them. ``known_missing``: samples the caller knows were lost just before these (a
        MetaWear half without its partner); they take their place on the timeline and are in the gap."""
        if count <= 0:
            return np.empty(0), None
        if self._t0 is None:
            self._t0 = received_at_s - (count - 1) * self.period_s
            self._window = _EnvelopeWindow(received_at_s)
            known_missing = 0  # nothing before the first sample can be missing from this stream
        first = self._next_index + known_missing
        last = first + count - 1
        residual = received_at_s - (self._t0 + last * self.period_s)
        missing = self._missing(residual, received_at_s)
        if missing:
            first += missing
            last += missing
            residual -= missing * self.period_s
        if residual < 0:
            # Earlier than the envelope allows: the anchor was late. Pull it in, keeping order.
            earliest_t0 = self._last_t + 0.5 * self.period_s - first * self.period_s
            self._t0 = max(self._t0 + residual, earliest_t0)
            residual = received_at_s - (self._t0 + last * self.period_s)
        elif self._deficit is None:
            self._latency_s += 0.05 * (min(residual, self.gap_threshold_s) - self._latency_s)
        times = self._t0 + np.arange(first, last + 1) * self.period_s
        marker = None
        if (missing or known_missing) and math.isfinite(self._last_t):
            marker = gap_marker(self._last_t, float(times[0]), missing + known_missing,
                                "arrival deficit" if missing else "unpaired half")
        self._next_index = last + 1
        self._last_t = float(times[-1])
        self._track_envelope(last, residual, count, received_at_s)
        return times, marker

    def _missing(self, residual: float, received_at_s: float) -> int:
        """Samples lost before this notification, once an arrival deficit is confirmed (else 0)."""
        threshold = self.gap_threshold_s
        deficit = self._deficit
        if residual <= threshold:
            if deficit is not None:  # caught up: whatever was late was only delayed
                self._deficit = None
                self._window.disturbed = True
            return 0
        if deficit is None:
            deficit = self._deficit = _Deficit(received_at_s, residual)
        deficit.least_residual_s = min(deficit.least_residual_s, residual)
        confirm_s = threshold if self.deficit_confirm_s is None else self.deficit_confirm_s
        if received_at_s - deficit.since_s < confirm_s and residual <= self.BUSY_HOST_MAX_S:
            return 0
        # Jitter moves arrivals by up to a connection interval, half the threshold.
        if (deficit.residual_s - deficit.least_residual_s > threshold / 2
                or residual - deficit.residual_s > threshold / 2):
            # Catching up, or falling further behind: a busy host, not a loss (yet).
            self._deficit = _Deficit(received_at_s, residual)
            return 0
        self._deficit = None
        return max(1, round((deficit.least_residual_s - self._latency_s) / self.period_s))

    def _track_envelope(self, index: int, residual: float, count: int, received_at_s: float) -> None:
        window = self._window
        window.add(index, residual, count)
        if received_at_s - window.start_s < self.window_s or window.notifications < 8:
            return
        received_rate_hz = window.samples / (received_at_s - window.start_s)
        self._window = _EnvelopeWindow(received_at_s)
        if window.disturbed:
            # The burst of a busy host's held-back notifications: neither the received rate nor
            # the least delay of this window says anything about the device's clock.
            return
        if abs(received_rate_hz * self.period_s - 1.0) > self._RATE_MISMATCH:
            self._mismatched_windows += 1
            if self._mismatched_windows >= 2:
                self._set_period(1.0 / self._snap_rate(received_rate_hz))
                self._envelope_baseline = None
                self._mismatched_windows = 0
                # The lag the wrong period built up is no loss: anchor on this notification.
                self._t0 += max(residual, 0.0)
                self._deficit = None
            return
        self._mismatched_windows = 0
        # The least-delayed arrival of each window lies on the device clock plus a constant minimum
        # latency; its slope against the sample index over the whole stream is the true period.
        # (Within a window that minimum wanders by up to a period as sampling and connection events
        # beat, so only a long baseline gives a clean slope.)
        envelope_t = self._t0 + window.min_index * self.period_s + window.min_residual
        if self._envelope_baseline is None:
            self._envelope_baseline = (window.min_index, envelope_t)
        else:
            baseline_index, baseline_t = self._envelope_baseline
            if window.min_index > baseline_index:
                measured = (envelope_t - baseline_t) / (window.min_index - baseline_index)
                if abs(measured * self.nominal_rate_hz - 1.0) < self._RATE_MISMATCH:
                    self._set_period(measured)
        if window.min_residual > 0:
            # Every notification in the window was late: the anchor is early, move it forward.
            self._t0 += window.min_residual
            self._latency_s = max(0.0, self._latency_s - window.min_residual)

    def _set_period(self, period_s: float) -> None:
        """Change the period without moving the next sample's time."""
        next_t = self._t0 + self._next_index * self.period_s
        self.period_s = period_s
        self._t0 = next_t - self._next_index * period_s

    def _snap_rate(self, measured_hz: float) -> float:
        for known_hz in self.known_rates_hz:
            if abs(measured_hz / known_hz - 1.0) < 0.05:
                return known_hz
        return measured_hz


class _Deficit:
    """An arrival deficit not confirmed yet: since when, how late then, and the least late since."""

    def __init__(self, since_s: float, residual_s: float) -> None:
        self.since_s = since_s
        self.residual_s = residual_s
        self.least_residual_s = residual_s


class _EnvelopeWindow:
    """The least-delayed notification (minimum residual) seen over one estimation window."""

    def __init__(self, start_s: float) -> None:
        self.start_s = start_s
        self.notifications = 0
        self.samples = 0
        self.min_residual = math.inf
        self.min_index = 0
        self.disturbed = False
        """A late stream caught up in this window (a burst of held-back notifications)."""

    def add(self, index: int, residual: float, count: int) -> None:
        self.notifications += 1
        self.samples += count
        if residual < self.min_residual:
            self.min_residual = residual
            self.min_index = index


class StreamHealthTracker:
    """Accumulates decode results into ``samples.StreamHealth`` for the dashboard and ``info``.

    The rate is measured over the last ``window_s`` of device time; loss counts the samples that
    gap markers report missing against those received.
    """

    def __init__(self, nominal_rate_hz: float, window_s: float = 5.0) -> None:
        self.nominal_rate_hz = nominal_rate_hz
        self.window_s = window_s
        self.samples = 0
        self.missing = 0
        self.gaps = 0
        self.last_gap: Marker | None = None
        self.malformed = 0
        self.battery_pct: int | None = None
        self._recent: deque[tuple[float, float, int]] = deque()
        """(first t, last t, samples) of recent non-empty batches."""
        self._recent_samples = 0
        """Their samples (the dashboard reads the rate at every redraw)."""

    def update(self, result: DecodeResult, stats: DecodeStats | None = None) -> None:
        batch = result.batch
        if len(batch):
            self.samples += len(batch)
            self._recent.append((float(batch.t[0]), float(batch.t[-1]), len(batch)))
            self._recent_samples += len(batch)
            newest = self._recent[-1][1]
            while len(self._recent) > 1 and newest - self._recent[0][1] > self.window_s:
                self._recent_samples -= self._recent.popleft()[2]
        for marker in result.gaps:
            self.gaps += 1
            self.missing += int(marker.data.get("missing", 0))
            self.last_gap = marker
        if result.battery_pct is not None:
            self.battery_pct = result.battery_pct
        if stats is not None:
            self.malformed = stats.malformed

    @property
    def rate_hz(self) -> float:
        if not self._recent:
            return 0.0
        first_t, _, _ = self._recent[0]
        last_t = self._recent[-1][1]
        samples = self._recent_samples
        if samples < 2 or last_t <= first_t:
            return 0.0
        return (samples - 1) / (last_t - first_t)

    @property
    def loss_pct(self) -> float:
        expected = self.samples + self.missing
        return 100.0 * self.missing / expected if expected else 0.0

    def health(self, state: str = "streaming", message: str = "") -> StreamHealth:
        return StreamHealth(state=state, samples=self.samples, rate_hz=self.rate_hz,
                            loss_pct=self.loss_pct, gaps=self.gaps, last_gap=self.last_gap,
                            malformed=self.malformed, battery_pct=self.battery_pct, message=message)
