"""MbientLab MetaMotion (MetaWear protocol) decoder, encoders and commands (protocols.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.profiles import PROFILES, match_advertisement
from firmware_interface.profiles.metamotion import (
    MW_ACC, MW_ACC_SCALE, MW_COMMAND_UUID, MW_GYR_SCALE, MW_NOTIFY_UUID, MW_SERVICE_UUID, PROFILE,
    MetaMotionDecoder, battery_commands, encode_battery_reply, encode_module_info_reply, encode_samples,
    parse_command, probe_commands, start_commands, stop_commands, variant_start_commands)

G = 9.80665
DPS = np.pi / 180

# [INFERRED] protocols.md §4.3: (0, 0, 2048) at ±16 g -> (0, 0, 1.000 g).
ACC_EXAMPLE = bytes.fromhex("03 04 00 00 00 00 00 08")
# [INFERRED] protocols.md §4.4: BMI160 gyro data (164, -82, 0) / 16.4 = (10.0, -5.0, 0.0) deg/s.
GYRO_EXAMPLE = bytes.fromhex("13 05 a4 00 ae ff 00 00")
# [INFERRED from the OFFICIAL layout] protocols.md §4.5: battery reply 11 8c <charge %> <mV u16>,
# here 90 % and 0x0e10 = 3600 mV.
BATTERY_REPLY = bytes.fromhex("11 8c 5a 10 0e")


def feed(decoder, packet, at_s=1.0):
    return decoder.feed(MW_NOTIFY_UUID, packet, at_s)


def test_examples_merge_into_one_sample():
    """az = 0x0800 = 2048 -> 2048/2048 g = 9.80665 m/s²; gx = 0x00a4 = 164 -> 10 deg/s;
    gy = 0xffae = -82 -> -5 deg/s."""
    decoder = MetaMotionDecoder(100.0)
    first = feed(decoder, ACC_EXAMPLE)
    assert len(first.batch) == 0  # waiting for the gyro partner
    result = feed(decoder, GYRO_EXAMPLE)
    np.testing.assert_allclose(result.batch.acc, [[0, 0, G]])
    np.testing.assert_allclose(result.batch.gyr, [[10 * DPS, -5 * DPS, 0]])
    assert decoder.stats.samples == 1 and decoder.stats.frames == 2 and decoder.stats.malformed == 0


def test_packed_bmi270_packets():
    rng = np.random.default_rng(0)
    acc = rng.normal(0, 5, (3, 3))
    gyr = rng.normal(0, 2, (3, 3))
    acc_packet, gyro_packet = encode_samples(np.arange(3) / 200, acc, gyr, chip="bmi270", packed=True)
    assert acc_packet[:2] == b"\x03\x05" and gyro_packet[:2] == b"\x13\x05" and len(gyro_packet) == 20
    decoder = MetaMotionDecoder(200.0)
    feed(decoder, acc_packet)
    result = feed(decoder, gyro_packet)
    np.testing.assert_allclose(result.batch.acc, acc, atol=MW_ACC_SCALE / 2 + 1e-12)
    np.testing.assert_allclose(result.batch.gyr, gyr, atol=MW_GYR_SCALE / 2 + 1e-12)


def test_battery_and_module_info_replies():
    """Battery: 0x5a = 90 %. Module info 03 80 01 -> accelerometer implementation 1 = BMI160."""
    decoder = MetaMotionDecoder(100.0)
    result = feed(decoder, BATTERY_REPLY)
    assert result.battery_pct == 90 and len(result.batch) == 0
    assert result.replies == ((0x118C, bytes.fromhex("5a 10 0e")),)
    assert decoder.variant is None
    feed(decoder, encode_module_info_reply(MW_ACC, 1))
    assert decoder.variant == "bmi160"
    feed(decoder, encode_module_info_reply(MW_ACC, 4, revision=2))
    assert decoder.variant == "bmi270"
    assert encode_battery_reply(90, 3600) == BATTERY_REPLY


@pytest.mark.parametrize("chip", ["bmi160", "bmi270"])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_round_trip(chip, packed, seed):
    rng = np.random.default_rng(seed)
    count = 60
    acc = rng.normal(0, 6, (count, 3))
    gyr = rng.normal(0, 3, (count, 3))
    decoder = MetaMotionDecoder(100.0)
    notifications = encode_samples(np.arange(count) / 100, acc, gyr, chip=chip, packed=packed)
    per_packet = 3 if packed else 1
    batches = [feed(decoder, n, 5.0 + (i // 2) * per_packet / 100).batch for i, n in enumerate(notifications)]
    merged_acc = np.concatenate([b.acc for b in batches])
    merged_t = np.concatenate([b.t for b in batches])
    np.testing.assert_allclose(merged_acc, acc, atol=MW_ACC_SCALE / 2 + 1e-12)
    np.testing.assert_allclose(np.concatenate([b.gyr for b in batches]), gyr, atol=MW_GYR_SCALE / 2 + 1e-12)
    np.testing.assert_allclose(np.diff(merged_t), 0.01, atol=1e-9)
    assert decoder.stats.malformed == 0


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_lost_gyro_packets_leave_a_gap_and_keep_pairs_aligned(seed):
    rng = np.random.default_rng(seed)
    count, lost = 600, range(300, 331)
    acc = rng.normal(0, 5, (count, 3))
    gyr = acc * 0.1  # so a pairing error shows in the values
    notifications = encode_samples(np.arange(count) / 100, acc, gyr, chip="bmi270")
    decoder = MetaMotionDecoder(100.0)
    batches = []
    for i, packet in enumerate(notifications):
        sample = i // 2
        if packet[0] == 0x13 and sample in lost:
            continue
        batches.append(feed(decoder, packet, 20.0 + sample / 100 + rng.uniform(0, 0.004)).batch)
    merged = [b for b in batches if len(b)]
    gaps = [m for b in merged for m in b.markers]
    assert len(gaps) == 1 and gaps[0].data["missing"] == len(lost)
    acc_out = np.concatenate([b.acc for b in merged])
    gyr_out = np.concatenate([b.gyr for b in merged])
    assert len(acc_out) == count - len(lost)
    np.testing.assert_allclose(gyr_out, acc_out * 0.1,
                               atol=MW_GYR_SCALE + 0.1 * MW_ACC_SCALE)


def test_a_silent_gyro_stream_bounds_the_queue():
    decoder = MetaMotionDecoder(50.0)
    for i in range(120):
        feed(decoder, ACC_EXAMPLE, 1.0 + i / 50)
    waiting = 120 - decoder.unpaired_samples
    assert waiting <= 50  # under a second of halves (two lead windows of one stream)
    assert decoder.stats.samples == 0 and decoder.stats.malformed == 0


@pytest.mark.parametrize("packet, uuid, reason", [
    (b"\x03", MW_NOTIFY_UUID, "short packet"),
    (ACC_EXAMPLE[:7], MW_NOTIFY_UUID, "unknown packet"),
    (bytes.fromhex("03 1c") + bytes(12), MW_NOTIFY_UUID, "unknown packet"),
    (ACC_EXAMPLE, MW_COMMAND_UUID, "unknown characteristic"),
])
def test_rejects_are_counted(packet, uuid, reason):
    decoder = MetaMotionDecoder(100.0)
    decoder.feed(uuid, packet, 0.0)
    assert decoder.stats.rejected == {reason: 1}


def hexes(writes):
    return [w.data.hex(" ") for w in writes]


def test_start_commands_match_the_sdk_sequences():
    """protocols.md §4.3–4.4 tables for 100 Hz, ±16 g, ±2000 deg/s."""
    bmi160 = hexes(variant_start_commands(100, "bmi160"))
    bmi270 = hexes(start_commands(100))
    assert bmi160[1:] == ["03 03 28 0c", "03 04 01", "03 02 01 00", "03 01 01",
                          "13 03 28 00", "13 05 01", "13 02 01 00", "13 01 01"]
    assert bmi270[1:] == ["03 03 a8 03", "03 04 01", "03 02 01 00", "03 01 01",
                          "13 03 28 00", "13 04 01", "13 02 01 00", "13 01 01"]
    assert bmi160[0] == "11 09 06 00 0c 00 00 00 58 02"  # 7.5–15 ms, latency 0, 6 s timeout
    assert all(not w.with_response and w.characteristic_uuid == MW_COMMAND_UUID for w in start_commands(100))
    packed = hexes(variant_start_commands(200, "bmi160"))
    assert "03 1c 01" in packed and "13 07 01" in packed and "03 03 29 0c" in packed


def test_parse_command():
    kinds = [parse_command(w.characteristic_uuid, w.data) for w in start_commands(200)]
    assert [k.kind for k in kinds] == ["other", "rate", "config", "config", "start", "rate", "config", "config",
                                       "start"]
    assert kinds[1].rate_hz == 200 and kinds[5].rate_hz == 200
    assert kinds[2].register == 0x0305 and kinds[2].value == 1  # BMI270 packed acc subscription
    assert [parse_command(w.characteristic_uuid, w.data).kind for w in stop_commands()] == ["stop", "config"] * 2
    assert parse_command(MW_COMMAND_UUID, battery_commands()[0].data).kind == "battery"
    assert parse_command(MW_COMMAND_UUID, probe_commands()[0].data).kind == "probe"
    assert parse_command(MW_COMMAND_UUID, b"\x03") is None
    assert parse_command(MW_NOTIFY_UUID, b"\x03\x01\x01") is None


def test_profile():
    assert PROFILES["metamotion"] is PROFILE
    assert match_advertisement("MetaWear") is PROFILE
    assert match_advertisement(None, [MW_SERVICE_UUID]) is PROFILE
    assert PROFILE.variant_start_commands is variant_start_commands
    assert PROFILE.nearest_rate(60) == 50


# --- pairing and timing under the link's real conditions (driven time, no wall clock) ---

def device_stream(rate_hz, seconds, seed, packed, interval_s=0.015):
    """What a MetaMotion sends: per packet an acc then a gyro notification, queued and sent at the
    next connection event, plus 0–3 ms of host jitter. ``gyr = acc × 0.1`` so that a pairing error
    shows in the values. Returns (arrival s, packet, first sample index, stream) in link order and
    the device's acc samples."""
    rng = np.random.default_rng(seed)
    per_packet = 3 if packed else 1
    count = int(rate_hz * seconds) // per_packet * per_packet
    acc = rng.normal(0, 5, (count, 3))
    packets = encode_samples(np.arange(count) / rate_hz, acc, acc * 0.1, packed=packed)
    stream = []
    for i, packet in enumerate(packets):
        first = (i // 2) * per_packet
        ready_s = 10.0 + (first + per_packet - 1) / rate_hz
        event_s = np.ceil(ready_s / interval_s) * interval_s
        stream.append((event_s + rng.uniform(0, 0.003), packet, first, "acc" if i % 2 == 0 else "gyr"))
    return stream, acc


def decode(rate_hz, stream):
    decoder = MetaMotionDecoder(rate_hz)
    results = [decoder.feed(MW_NOTIFY_UUID, packet, at_s) for at_s, packet, *_ in stream]
    batches = [r.batch for r in results if len(r.batch)]
    gaps = [gap for r in results for gap in r.gaps]
    t = np.concatenate([b.t for b in batches])
    return decoder, t, np.concatenate([b.acc for b in batches]), np.concatenate([b.gyr for b in batches]), gaps


def assert_paired(acc_out, gyr_out):
    np.testing.assert_allclose(gyr_out, acc_out * 0.1, atol=MW_GYR_SCALE + 0.1 * MW_ACC_SCALE)


def hold_host(stream, from_s, for_s, per_notification_s=0.0002):
    """The host reads nothing from ``from_s`` for ``for_s``, then works through what waited."""
    free_s = from_s + for_s
    held = []
    for at_s, *rest in stream:
        if from_s <= at_s < free_s:
            at_s, free_s = free_s, free_s + per_notification_s
        held.append((at_s, *rest))
    return held


@pytest.mark.parametrize("rate_hz, packed", [(200.0, True), (100.0, False)])
@pytest.mark.parametrize("hold_s", [0.15, 0.5, 0.9])
def test_a_busy_host_loses_no_sample_and_keeps_pairs(rate_hz, packed, hold_s):
    """The dashboard's process held up for a moment (a redraw, a busy core): the notifications
    wait in the socket and arrive together. Every sample came, so no gap and no unpaired half
    (the per-stream clocks used to count the wait as lost at once: 0.3 % lost at 200 Hz)."""
    stream, acc = device_stream(rate_hz, 20.0, 1, packed)
    held = hold_host(stream, 18.0, hold_s)
    decoder, t, acc_out, gyr_out, gaps = decode(rate_hz, held)
    assert gaps == [] and decoder.unpaired_samples == 0
    np.testing.assert_allclose(acc_out, acc, atol=MW_ACC_SCALE / 2 + 1e-12)
    assert_paired(acc_out, gyr_out)
    assert np.all(np.diff(t) > 0)
    # On the device's timeline apart from a connection interval's blur, burst or not.
    error = t - (10.0 + np.arange(len(acc)) / rate_hz)
    error -= np.median(error)
    assert np.max(np.abs(error[int(6 * rate_hz):])) < 0.015 + 1 / rate_hz + 0.004


def swap(stream, at, span):
    """The packets ``at .. at + span`` of one stream sent after the other stream's next ``span``."""
    reordered = list(stream)
    accs = [i for i in range(at * 2, (at + span) * 2)]
    block = [reordered[i] for i in accs if i % 2 == 0] + [reordered[i] for i in accs if i % 2 == 1]
    times = [reordered[i][0] for i in accs]
    reordered[at * 2:(at + span) * 2] = [(t, *rest) for t, (_, *rest) in zip(times, block)]
    return reordered


@pytest.mark.parametrize("span", [1, 2, 3])
def test_reordered_and_bursting_streams_lose_nothing(span):
    """Halves in either order, and a few acc packets before their gyro partners (a gyro packet
    after its partner's successor): all paired, nothing dropped."""
    stream, acc = device_stream(200.0, 6.0, 2, packed=True)
    for at in (50, 100, 150):
        stream = swap(stream, at, span)
    pairs = stream[400:600]  # then gyro before acc for 1.5 s (the device's order changed)
    stream[400:600] = [(pairs[i][0], *pairs[i + 1 - 2 * (i % 2)][1:]) for i in range(200)]
    decoder, t, acc_out, gyr_out, gaps = decode(200.0, stream)
    assert gaps == [] and decoder.unpaired_samples == 0
    assert len(acc_out) == len(acc)
    assert_paired(acc_out, gyr_out)


@pytest.mark.parametrize("lost_stream", ["acc", "gyr"])
@pytest.mark.parametrize("packets", [1, 20])
def test_a_lost_half_is_reported_missing_once(lost_stream, packets):
    """Lost packets of one stream: their partners are dropped and reported missing, once; the
    pairs stay aligned except, after a lone lost packet, until the pairing's window finds it (a
    lost acc packet, acc going first: from the gyro halves meeting partners a packet later)."""
    rate_hz = 200.0
    stream, acc = device_stream(rate_hz, 10.0, 3, packed=True)
    lost = range(900, 900 + 3 * packets)
    kept = [entry for entry in stream if not (entry[3] == lost_stream and entry[2] in lost)]
    decoder, t, acc_out, gyr_out, gaps = decode(rate_hz, kept)
    assert len(gaps) == 1 and gaps[0].data["missing"] == len(lost)
    assert len(acc_out) == len(acc) - len(lost)
    assert np.all(np.diff(t) > 0)
    realigned = 900 + 2 * MetaMotionDecoder.LEAD_WINDOW_S * rate_hz if packets == 1 else 900
    aligned = np.r_[0:900, int(realigned):len(acc_out)]
    assert_paired(acc_out[aligned], gyr_out[aligned])


def test_the_stream_that_starts_first_is_trimmed_not_missing():
    """MetaWear starts the accelerometer a few commands before the gyroscope."""
    stream, acc = device_stream(200.0, 5.0, 4, packed=True)
    late_gyro = [entry for entry in stream if not (entry[3] == "gyr" and entry[2] < 30)]
    decoder, t, acc_out, gyr_out, gaps = decode(200.0, late_gyro)
    assert gaps == [] and decoder.unpaired_samples == 30
    assert_paired(acc_out, gyr_out)
    np.testing.assert_allclose(acc_out, acc[30:], atol=MW_ACC_SCALE / 2 + 1e-12)


def test_halves_never_sent_together_are_no_loss():
    """A link that carries one notification per connection event: each gyro half a connection
    interval (8 ms here, more than half a 100 Hz packet) after its acc partner, all along."""
    stream, acc = device_stream(100.0, 20.0, 6, packed=False)
    apart = [(at_s + (0.008 if kind == "gyr" else 0.0), packet, first, kind) for at_s, packet, first, kind in stream]
    decoder, t, acc_out, gyr_out, gaps = decode(100.0, apart)
    assert gaps == [] and decoder.unpaired_samples == 0 and len(acc_out) == len(acc)
    assert_paired(acc_out, gyr_out)
