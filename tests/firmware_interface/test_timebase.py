"""Sample clocks, gap detection and stream health (timebase.py)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.profiles._base import DecodeResult, DecodeStats
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import (CounterUnwrapper, DeviceClock, NominalClock, StreamHealthTracker, gap_marker,
                                         missing_between)


def test_u32_unwrap_across_the_wrap():
    unwrapper = CounterUnwrapper(32)
    raw = [4_294_950_000, 4_294_966_667, 16_371, 33_038]
    assert [unwrapper.unwrap(r) for r in raw] == [4_294_950_000, 4_294_966_667, 4_294_983_667, 4_295_000_334]


def test_u16_unwrap_and_backwards_step():
    unwrapper = CounterUnwrapper(16)
    assert [unwrapper.unwrap(r) for r in (65534, 65535, 0, 3, 2)] == [65534, 65535, 65536, 65539, 65538]


def test_missing_between_timestamps():
    period = 1 / 60
    assert missing_between(0.0, period, period) == 0
    assert missing_between(0.0, 1.4 * period, period) == 0
    assert missing_between(0.0, 2 * period, period) == 1
    assert missing_between(0.0, 11 * period, period) == 10


def simulate_arrivals(rate_hz, connection_interval_s, drift, seed, duration_s=30.0, per_notification=1,
                      lost=()):
    """Device samples at ``rate_hz × (1 - drift)`` are queued and leave at the next connection event
    (bursts), plus 0–3 ms of host jitter. Returns per-notification (first index, count, arrival s)
    and the true device times."""
    rng = np.random.default_rng(seed)
    period = (1 + drift) / rate_hz
    count = int(duration_s / period)
    true_t = 50.0 + np.arange(count) * period
    phase = rng.uniform(0, connection_interval_s)
    event_t = np.ceil((true_t - 50.0 - phase) / connection_interval_s) * connection_interval_s + 50.0 + phase
    keep = np.ones(count, bool)
    for start, stop in lost:
        keep[start:stop] = False
    notifications = []
    index = 0
    while index < count:
        if not keep[index]:
            index += 1
            continue
        stop = index + 1
        while (stop < count and keep[stop] and stop - index < per_notification
               and event_t[stop] == event_t[index]):
            stop += 1
        notifications.append((index, stop - index, event_t[stop - 1] + rng.uniform(0, 0.003)))
        index = stop
    return notifications, true_t


def run_clock(clock, notifications):
    times, indices, gaps = [], [], []
    for first, count, arrival in notifications:
        t, gap = clock.stamp(count, arrival)
        times.append(t)
        indices.append(np.arange(first, first + count))
        if gap:
            gaps.append((first, gap))
    return np.concatenate(times), np.concatenate(indices), gaps


@pytest.mark.parametrize("rate_hz, per_notification", [(100, 1), (200, 4), (50, 2)])
@pytest.mark.parametrize("connection_interval_s", [0.0075, 0.015, 0.03, 0.05])
@pytest.mark.parametrize("drift, seed", [(0.0, 1), (0.002, 2), (-0.003, 3)])
def test_nominal_clock_follows_device_time_despite_bursts(rate_hz, per_notification, connection_interval_s,
                                                          drift, seed):
    notifications, true_t = simulate_arrivals(rate_hz, connection_interval_s, drift, seed,
                                              per_notification=per_notification)
    clock = NominalClock(rate_hz)  # the decoder does not know the connection interval: default 50 ms
    t, indices, gaps = run_clock(clock, notifications)
    assert gaps == []
    assert np.all(np.diff(t) > 0)
    error = t - true_t[indices]
    error -= np.median(error)
    settled = true_t[indices] > true_t[0] + 6.0
    # Burst arrival hides where in a connection interval a sample was taken: about one interval.
    assert np.max(np.abs(error[settled])) < connection_interval_s + 1.0 / rate_hz + 0.004
    assert clock.rate_hz == pytest.approx(rate_hz / (1 + drift), rel=5e-4)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_arrival_deficit_is_reported_as_a_gap(seed):
    rate_hz, interval_s = 200, 0.03
    notifications, true_t = simulate_arrivals(rate_hz, interval_s, 0.001, seed, per_notification=4,
                                              lost=[(2000, 2060)])
    clock = NominalClock(rate_hz)
    t, indices, gaps = run_clock(clock, notifications)
    assert len(gaps) == 1
    first_after, marker = gaps[0]
    # Reported once the stream has stayed late for the confirmation time (a busy host catches up).
    assert 2060 <= first_after <= 2060 + (clock.gap_threshold_s + 2 * interval_s) * rate_hz
    assert marker.kind == "gap" and marker.data["detected_by"] == "arrival deficit"
    assert abs(marker.data["missing"] - 60) <= interval_s * rate_hz + 1
    assert marker.t_s == pytest.approx(t[indices == first_after - 1][0])
    assert marker.end_s == pytest.approx(t[indices == first_after][0])
    assert np.all(np.diff(t) > 0)


def busy_host(notifications, busy_from_s, busy_s, handling_s):
    """The host handles nothing from ``busy_from_s`` for ``busy_s``, then works through what
    waits at ``handling_s`` per notification: arrival times as the decoder sees them."""
    free_at_s = busy_from_s + busy_s
    delivered = []
    for first, count, arrival in notifications:
        if busy_from_s <= arrival < free_at_s:
            arrival = free_at_s
            free_at_s += handling_s
        delivered.append((first, count, arrival))
    return delivered


@pytest.mark.parametrize("rate_hz, per_notification, interval_s", [(200, 1, 0.0075), (200, 4, 0.03), (100, 1, 0.05)])
@pytest.mark.parametrize("busy_s, handling_s", [(0.4, 0.0002), (0.9, 0.0002), (0.3, 0.001)])
def test_a_busy_host_delivering_late_is_no_gap(rate_hz, per_notification, interval_s, busy_s, handling_s):
    """Held-back notifications arrive in a burst (or drain at 1 ms each): every sample
    came, so no gap, and the times stay on the device's timeline."""
    notifications, true_t = simulate_arrivals(rate_hz, interval_s, 0.001, 9, per_notification=per_notification)
    late = busy_host(notifications, 60.0, busy_s, handling_s)
    assert max(a for _, _, a in late) > max(a for _, _, a in notifications) - 1  # the stall happened
    t, indices, gaps = run_clock(NominalClock(rate_hz), late)
    assert gaps == []
    assert np.all(np.diff(t) > 0)
    error = t - true_t[indices]
    error -= np.median(error)
    settled = true_t[indices] > true_t[0] + 6.0
    assert np.max(np.abs(error[settled])) < interval_s + 1.0 / rate_hz + 0.004


def test_a_loss_while_the_host_is_busy_is_still_one_gap():
    rate_hz, interval_s = 200, 0.03
    notifications, _ = simulate_arrivals(rate_hz, interval_s, 0.001, 10, per_notification=4, lost=[(4000, 4060)])
    late = busy_host(notifications, 60.0, 0.5, 0.0002)  # well away from the loss (index 4000 is at 70 s)
    _, _, gaps = run_clock(NominalClock(rate_hz), late)
    assert len(gaps) == 1 and abs(gaps[0][1].data["missing"] - 60) <= interval_s * rate_hz + 1


def test_short_losses_below_two_intervals_go_unnoticed_but_time_stays_monotonic():
    notifications, _ = simulate_arrivals(100, 0.05, 0.0, 7, lost=[(500, 503)])
    t, _, gaps = run_clock(NominalClock(100), notifications)
    assert gaps == [] and np.all(np.diff(t) > 0)


def test_clock_adopts_a_rate_far_from_nominal():
    """WitMotion's 200 Hz code may be read as 125 Hz by some firmware: asked 200, streams 125."""
    notifications, _ = simulate_arrivals(200, 0.03, 0.6, 8, per_notification=4)
    clock = NominalClock(200, known_rates_hz=(125, 200))
    t, _, _ = run_clock(clock, notifications)
    assert clock.rate_hz == pytest.approx(125, rel=1e-3)
    assert np.all(np.diff(t) > 0)


def test_empty_notification_changes_nothing():
    clock = NominalClock(100)
    t, gap = clock.stamp(0, 1.0)
    assert len(t) == 0 and gap is None


def batch(t):
    t = np.asarray(t, float)
    return SampleBatch(t, np.zeros((len(t), 3)), np.zeros((len(t), 3)))


def test_stream_health_tracker():
    tracker = StreamHealthTracker(100.0, window_s=1.5)
    stats = DecodeStats()
    stats.rejected["short frame"] += 2
    gap = gap_marker(0.99, 1.10, 10, "timestamps")
    tracker.update(DecodeResult(batch(np.arange(100) / 100)), stats)
    tracker.update(DecodeResult(batch(1.10 + np.arange(90) / 100), gaps=(gap,), battery_pct=80), stats)
    health = tracker.health()
    assert health.samples == 190 and health.gaps == 1 and health.last_gap is gap
    assert health.loss_pct == pytest.approx(100 * 10 / 200)
    assert health.malformed == 2 and health.battery_pct == 80
    assert health.state == "streaming"
    # Window: the last batch plus the one before it (its last sample is within 1.5 s): 190 samples
    # from t = 0.00 to t = 1.99.
    assert health.rate_hz == pytest.approx(189 / 1.99)


def test_stream_health_rate_uses_recent_window_only():
    tracker = StreamHealthTracker(50.0, window_s=2.0)
    for second in range(10):
        rate = 50 if second < 5 else 25
        tracker.update(DecodeResult(batch(second + np.arange(rate) / rate)))
    assert tracker.rate_hz == pytest.approx(25, rel=0.05)
    assert StreamHealthTracker(50.0).health(state="connecting").rate_hz == 0.0


def test_device_clock_stamps_batches_and_counts_missing():
    clock = DeviceClock(100.0)
    t, missing = clock.stamp(1_000_000, 3)
    np.testing.assert_allclose(t, [1.0, 1.01, 1.02])
    assert missing == 0 and clock.last_s == pytest.approx(1.02)
    t, missing = clock.stamp(1_060_000, 1)  # 1.03, 1.04 and 1.05 never came
    assert missing == 3 and t[0] == pytest.approx(1.06)


def test_device_clock_rejects_stale_stamps_and_follows_a_restart():
    clock = DeviceClock(50.0)
    clock.stamp(2**32 - 10_000)
    assert clock.stamp(2**32 - 10_000) is None  # repeated
    t, _ = clock.stamp(10_000)  # across the wrap: 20 ms later
    assert t[0] == pytest.approx((2**32 + 10_000) / 1e6)
    assert clock.stamp(5_000) is None and clock.stamp(5_000) is None
    t, missing = clock.stamp(5_000)  # third backward stamp: restarted clock, continue one period on
    assert t[0] == pytest.approx((2**32 + 10_000) / 1e6 + 0.02) and missing == 0
    t, _ = clock.stamp(25_000)
    assert t[0] == pytest.approx((2**32 + 10_000) / 1e6 + 0.04)


def test_known_missing_samples_take_their_place_in_a_gap():
    clock = NominalClock(100)
    first, _ = clock.stamp(10, 1.09)
    t, gap = clock.stamp(2, 1.14, known_missing=3)  # on time for indices 13, 14
    np.testing.assert_allclose(t - first[0], [0.13, 0.14], atol=1e-9)
    assert gap.data == {"missing": 3, "detected_by": "unpaired half"}
    assert gap.t_s == pytest.approx(first[-1]) and gap.end_s == pytest.approx(t[0])
