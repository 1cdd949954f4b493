"""WitMotion WT901BLECL / WT9011DCL decoder, encoders and commands (protocols.md §1)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.profiles import PROFILES, match_advertisement
from firmware_interface.profiles.witmotion import (
    PROFILE, WT_ACC_SCALE, WT_GYR_SCALE, WT_NOTIFY_UUID, WT_SERVICE_UUID, WT_WRITE_UUID, WitMotionDecoder,
    battery_commands, battery_percent, encode_command, encode_frame, encode_register_reply, encode_samples,
    parse_command, start_commands)

G = 9.80665
DPS = np.pi / 180

# [COMMUNITY] real capture, byy-yby/pingpong-rtgr tests/test_imu.py, first frame of an 80-byte
# notification (protocols.md §1.8).
CAPTURE_FRAME = bytes.fromhex("55 61 fc ff ef ff 11 08 00 00 00 00 00 00 98 ff 0d 00 f8 31")
# [INFERRED] synthetic frame, protocols.md §1.8: acc (0.1, -0.05, 0.98) g, gyro (10, -5, 0.5) deg/s,
# angles (1.5, -2, 90) deg.
SYNTHETIC_FRAME = bytes.fromhex("55 61 cd 00 9a ff d7 07 a4 00 ae ff 08 00 11 01 94 fe 00 40")
# [OFFICIAL] manual §6.1.2: reply to FF AA 27 3A 00 (magnetometer read).
MAG_REPLY = bytes.fromhex("55 71 3A 00 68 01 69 00 7A 00 00 00 00 00 00 00 00 00 00 00")
# [INFERRED] protocols.md §1.8: battery reply for 3.95 V.
BATTERY_REPLY = bytes.fromhex("55 71 64 00 8b 01") + bytes(14)


def feed(decoder, data, at_s=1.0):
    return decoder.feed(WT_NOTIFY_UUID, data, at_s)


def test_capture_frame_decodes_to_si():
    """ax = 0xfffc = -4 -> -4/2048 g = -0.001953 g; ay = 0xffef = -17 -> -0.008301 g;
    az = 0x0811 = 2065 -> 1.008301 g = 9.888 m/s²; gyro words all 0 -> 0 rad/s."""
    result = feed(WitMotionDecoder(10.0), CAPTURE_FRAME)
    np.testing.assert_allclose(result.batch.acc, [[-4 / 2048 * G, -17 / 2048 * G, 2065 / 2048 * G]])
    np.testing.assert_array_equal(result.batch.gyr, np.zeros((1, 3)))
    np.testing.assert_allclose(result.batch.acc[0, 2], 9.888, atol=5e-4)
    assert result.batch.markers == () and result.replies == () and result.battery_pct is None


def test_synthetic_frame_decodes_and_encodes_exactly():
    """ax = 0x00cd = 205 -> 0.1001 g; ay = -102 -> -0.0498 g; az = 2007 -> 0.9800 g;
    gx = 164 -> 164 × 2000/32768 = 10.010 deg/s; gy = -82 -> -5.005 deg/s; gz = 8 -> 0.488 deg/s."""
    result = feed(WitMotionDecoder(10.0), SYNTHETIC_FRAME)
    np.testing.assert_allclose(result.batch.acc, [[205 / 2048 * G, -102 / 2048 * G, 2007 / 2048 * G]])
    np.testing.assert_allclose(result.batch.gyr, [[164 * 2000 / 32768 * DPS, -82 * 2000 / 32768 * DPS,
                                                   8 * 2000 / 32768 * DPS]])
    encoded = encode_frame(np.array([0.1, -0.05, 0.98]) * G, np.array([10, -5, 0.5]) * DPS, (1.5, -2, 90))
    assert encoded == SYNTHETIC_FRAME


def test_scale_constants_match_protocol_notes():
    assert WT_ACC_SCALE == pytest.approx(0.0047884, rel=1e-4)
    assert WT_GYR_SCALE == pytest.approx(0.00106526, rel=1e-4)


def test_batched_notification_yields_all_frames_at_nominal_spacing():
    decoder = WitMotionDecoder(100.0)
    notification = CAPTURE_FRAME + SYNTHETIC_FRAME + CAPTURE_FRAME + SYNTHETIC_FRAME  # 80 bytes
    result = feed(decoder, notification, at_s=5.0)
    assert len(result.batch) == 4
    np.testing.assert_allclose(np.diff(result.batch.t), 0.01)
    assert result.batch.t[-1] == pytest.approx(5.0)
    assert decoder.stats.samples == 4 and decoder.stats.frames == 4 and decoder.stats.malformed == 0


def test_register_replies_are_dispatched_not_decoded_as_data():
    """Battery 0x018b = 395 -> 3.95 V -> 90 % (table 3.93–3.96 V); magnetometer Hx = 0x0168 = 360."""
    decoder = WitMotionDecoder(50.0)
    result = feed(decoder, CAPTURE_FRAME + BATTERY_REPLY + MAG_REPLY + SYNTHETIC_FRAME)
    assert len(result.batch) == 2
    np.testing.assert_allclose(result.batch.acc[1, 0], 205 / 2048 * G)
    assert result.battery_pct == 90
    registers = dict(result.replies)
    assert set(registers) == {0x64, 0x3A}
    assert np.frombuffer(registers[0x3A][:6], "<i2").tolist() == [360, 105, 122]


def test_rate_read_back_is_reported():
    decoder = WitMotionDecoder(200.0)
    feed(decoder, encode_register_reply(0x03, [0x0B]))
    assert decoder.reported_rate_hz == 200
    feed(decoder, encode_register_reply(0x03, [0x08]))
    assert decoder.reported_rate_hz == 50


def _stream(seed: int, frames: int = 12) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    acc = rng.uniform(-15, 15, (frames, 3)) * G / 9.80665
    gyr = rng.uniform(-30, 30, (frames, 3))
    stream = b"".join(encode_frame(acc[i], gyr[i]) for i in range(frames))
    # A register reply in the middle, as when the app polls the battery.
    middle = (frames // 2) * 20
    return stream[:middle] + BATTERY_REPLY + stream[middle:], acc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reassembly_at_every_split_offset(seed):
    stream, acc = _stream(seed)
    reference = feed(WitMotionDecoder(100.0), stream)
    for offset in range(len(stream) + 1):
        decoder = WitMotionDecoder(100.0)
        first = feed(decoder, stream[:offset], 1.0)
        second = feed(decoder, stream[offset:], 1.0)
        acc_out = np.concatenate([first.batch.acc, second.batch.acc])
        np.testing.assert_array_equal(acc_out, reference.batch.acc)
        assert {first.battery_pct, second.battery_pct} - {None} == {90}
        assert decoder.stats.malformed == 0 and decoder.stats.skipped_bytes == 0
    np.testing.assert_allclose(reference.batch.acc, acc, atol=WT_ACC_SCALE / 2 + 1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_reassembly_with_random_chunks(seed):
    stream, _ = _stream(seed, frames=40)
    reference = feed(WitMotionDecoder(100.0), stream).batch.acc
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(stream)), size=25, replace=False))
    decoder = WitMotionDecoder(100.0)
    pieces = [feed(decoder, chunk).batch.acc for chunk in np.split(np.frombuffer(stream, np.uint8), cuts)]
    np.testing.assert_array_equal(np.concatenate(pieces), reference)


def test_corrupt_byte_costs_one_frame_and_is_counted():
    corrupted = bytearray(CAPTURE_FRAME * 3)
    corrupted[21] = 0x62  # second frame's type byte
    decoder = WitMotionDecoder(10.0)
    result = feed(decoder, bytes(corrupted))
    assert len(result.batch) == 2
    assert decoder.stats.skipped_bytes == 20
    assert decoder.stats.rejected["unframed bytes"] == 1


def test_garbage_before_and_between_frames_is_skipped():
    decoder = WitMotionDecoder(10.0)
    result = feed(decoder, b"\x00\x55\x13" + CAPTURE_FRAME + b"\xff\xaa" + CAPTURE_FRAME)
    assert len(result.batch) == 2
    assert decoder.stats.skipped_bytes == 5


def test_28_byte_variant_decodes_the_leading_20_bytes():
    """Unconfirmed 28-byte frame: 8 date bytes YY MM DD HH MN SS MSL MSH follow yaw."""
    date_tail = bytes([24, 5, 17, 13, 42, 7, 0x55, 0x02])
    decoder = WitMotionDecoder(10.0)
    result = feed(decoder, CAPTURE_FRAME + date_tail + SYNTHETIC_FRAME + date_tail)
    assert len(result.batch) == 2
    np.testing.assert_allclose(result.batch.acc[1, 0], 205 / 2048 * G)
    assert decoder.stats.skipped_bytes + decoder._walker.pending_bytes == 16


def test_other_characteristic_is_rejected():
    decoder = WitMotionDecoder(10.0)
    assert len(decoder.feed("0000ffe1-0000-1000-8000-00805f9a34fb", CAPTURE_FRAME, 1.0).batch) == 0
    assert decoder.stats.rejected["unknown characteristic"] == 1


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_encode_samples_round_trip(seed):
    rng = np.random.default_rng(seed)
    count = 37
    t = np.arange(count) / 100.0
    acc = rng.normal(0, 5, (count, 3))
    gyr = rng.normal(0, 2, (count, 3))
    notifications = encode_samples(t, acc, gyr, rate_hz=100.0)
    assert [len(n) for n in notifications] == [80] * 9 + [20]
    decoder = WitMotionDecoder(100.0)
    batches = [decoder.feed(WT_NOTIFY_UUID, n, 1.0 + 0.04 * i).batch for i, n in enumerate(notifications)]
    acc_out = np.concatenate([b.acc for b in batches])
    gyr_out = np.concatenate([b.gyr for b in batches])
    np.testing.assert_allclose(acc_out, acc, atol=WT_ACC_SCALE / 2 + 1e-12)
    np.testing.assert_allclose(gyr_out, gyr, atol=WT_GYR_SCALE / 2 + 1e-12)


def test_batching_follows_rate():
    t = np.arange(8) / 10
    zeros = np.zeros((8, 3))
    assert {len(n) for n in encode_samples(t, zeros, zeros, rate_hz=10)} == {20}
    assert {len(n) for n in encode_samples(t, zeros, zeros, rate_hz=50)} == {40}
    assert {len(n) for n in encode_samples(t, zeros, zeros, rate_hz=200)} == {80}


def test_encoder_saturates_like_the_sensor():
    frame = encode_frame([20 * G, -20 * G, 0], [0, 0, 0])
    assert np.frombuffer(frame[2:6], "<i2").tolist() == [32767, -32768]


def test_start_commands_unlock_rate_save_read_back():
    writes = start_commands(200)
    assert [w.data.hex(" ") for w in writes] == ["ff aa 69 88 b5", "ff aa 03 0b 00", "ff aa 00 00 00",
                                                 "ff aa 27 03 00"]
    assert all(w.characteristic_uuid == WT_WRITE_UUID for w in writes)
    assert [w.delay_after_s for w in writes[:3]] == [0.1, 0.1, 0.1]
    kinds = [parse_command(w.characteristic_uuid, w.data) for w in writes]
    assert [k.kind for k in kinds] == ["unlock", "rate", "save", "read_register"]
    assert kinds[1].rate_hz == 200 and kinds[3].register == 0x03


def test_parse_command_battery_and_unknown():
    (battery,) = battery_commands()
    assert battery.data == bytes.fromhex("ff aa 27 64 00")
    assert parse_command(WT_WRITE_UUID, battery.data).kind == "battery"
    assert parse_command(WT_WRITE_UUID, encode_command(0x01, 0x08)).kind == "other"
    assert parse_command(WT_WRITE_UUID, b"\x01\x02") is None
    assert parse_command(WT_WRITE_UUID, b"\x00\xaa\x03\x06\x00") is None
    assert parse_command(WT_NOTIFY_UUID, battery.data) is None


@pytest.mark.parametrize("volts, percent", [(4.1, 100), (3.95, 90), (3.93, 75), (3.80, 50), (3.69, 15),
                                            (3.45, 5), (3.3, 0)])
def test_battery_table(volts, percent):
    assert battery_percent(volts) == percent


def test_profile_facts_and_advertisement():
    assert PROFILES["wt901"] is PROFILE
    assert WT_SERVICE_UUID.endswith("9a34fb")
    assert match_advertisement("WT901BLE68") is PROFILE
    assert match_advertisement("", [WT_SERVICE_UUID.upper()]) is PROFILE
    assert match_advertisement("Pixel 7") is None
    assert PROFILE.nearest_rate(150) == 200 and PROFILE.nearest_rate(60) == 50
    assert PROFILE.supports_rate(100) and not PROFILE.supports_rate(125)
