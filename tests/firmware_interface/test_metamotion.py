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
    assert decoder.unpaired_samples == 70 and decoder.stats.malformed == 0
    assert decoder.stats.samples == 0


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
