"""Movella DOT decoder, encoders and commands (protocols.md §2)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.profiles import PROFILES, match_advertisement
from firmware_interface.profiles.movella_dot import (
    DOT_BATTERY_UUID, DOT_CONTROL_UUID, DOT_DEVICE_CONTROL_UUID, DOT_LONG_PAYLOAD_UUID, DOT_MEDIUM_PAYLOAD_UUID,
    PROFILE, MovellaDotDecoder, encode_battery, encode_control, encode_device_control, encode_payload,
    encode_samples, parse_battery, parse_command, start_commands, stop_commands)

DPS = np.pi / 180
F32 = np.float32

# [INFERRED] protocols.md §2.7, synthesised with the OFFICIAL layout (no real capture exists):
# Rate quantities, ts = 1 000 000 µs, acc = (0.12, -0.34, 9.81) m/s², gyro = (1.5, -0.5, 0.25) deg/s.
RATE_QUANTITIES = bytes.fromhex(
    "40 42 0f 00  8f c2 f5 3d  7b 14 ae be  c3 f5 1c 41  00 00 c0 3f  00 00 00 bf  00 00 80 3e")
# [INFERRED] protocols.md §2.7: Custom mode 5, same values, identity quaternion, ts = 1 016 667 µs.
CUSTOM_MODE_5 = bytes.fromhex(
    "5b 83 0f 00  00 00 80 3f 00 00 00 00 00 00 00 00 00 00 00 00  8f c2 f5 3d 7b 14 ae be c3 f5 1c 41"
    "  00 00 c0 3f 00 00 00 bf 00 00 80 3e")
# [INFERRED from OFFICIAL layout] protocols.md §2.3: Device Control write setting 60 Hz.
SET_60_HZ = bytes.fromhex("10" + "00" * 23 + "3c 00" + "00" * 6)

ACC = [F32(0.12), F32(-0.34), F32(9.81)]
GYR = [1.5 * DPS, -0.5 * DPS, 0.25 * DPS]  # exact in float32


def test_rate_quantities_example_decodes():
    """0x000f4240 = 1 000 000 µs -> t = 1.0 s; 0x3df5c28f = 0.12 (float32) m/s²; 0x3fc00000 = 1.5 deg/s
    -> 0.02618 rad/s."""
    for payload in (RATE_QUANTITIES, RATE_QUANTITIES + bytes(12)):  # as sent, and padded to 40 bytes
        decoder = MovellaDotDecoder(60.0)
        result = decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload, 123.0)
        np.testing.assert_array_equal(result.batch.t, [1.0])
        np.testing.assert_array_equal(result.batch.acc, [ACC])
        np.testing.assert_allclose(result.batch.gyr, [GYR], rtol=1e-15)
        assert result.gaps == () and decoder.stats.samples == 1 and decoder.stats.malformed == 0


def test_custom_mode_5_example_decodes():
    """ts 0x000f835b = 1 016 667 µs; acc at offset 20, gyro at offset 32."""
    decoder = MovellaDotDecoder(60.0, payload_mode=26)
    result = decoder.feed(DOT_LONG_PAYLOAD_UUID, CUSTOM_MODE_5 + bytes(19), 0.0)
    np.testing.assert_array_equal(result.batch.t, [1.016667])
    np.testing.assert_array_equal(result.batch.acc, [ACC])
    np.testing.assert_allclose(result.batch.gyr, [GYR], rtol=1e-15)


def test_encoder_reproduces_the_examples():
    acc = [0.12, -0.34, 9.81]
    gyr = np.array([1.5, -0.5, 0.25]) * DPS
    assert encode_payload(1_000_000, acc, gyr, padded=False) == RATE_QUANTITIES
    assert encode_payload(1_000_000, acc, gyr) == RATE_QUANTITIES + bytes(12)
    assert encode_payload(1_016_667, acc, gyr, mode=26, padded=False) == CUSTOM_MODE_5


def test_timestamps_unwrap_across_2_pow_32():
    decoder = MovellaDotDecoder(60.0)
    stamps = [2**32 - 20_000, 2**32 - 3_333, 13_334, 30_001]
    t = [decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, encode_payload(s, ACC, GYR), 0.0).batch.t[0] for s in stamps]
    np.testing.assert_allclose(np.diff(t), [0.016667, 0.016667, 0.016667])
    assert decoder.stats.malformed == 0


def test_gap_from_timestamps():
    """Two notifications lost at 60 Hz: the next stamp is 3 periods on."""
    decoder = MovellaDotDecoder(60.0)
    decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, encode_payload(1_000_000, ACC, GYR), 0.0)
    result = decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, encode_payload(1_050_000, ACC, GYR), 0.0)
    (gap,) = result.gaps
    assert result.batch.markers == (gap,)
    assert gap.kind == "gap" and gap.t_s == 1.0 and gap.end_s == 1.05
    assert gap.data == {"missing": 2, "detected_by": "timestamps"}


def test_repeated_timestamp_is_rejected_and_restart_is_followed():
    decoder = MovellaDotDecoder(60.0)
    payload = lambda us: encode_payload(us, ACC, GYR)
    decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload(5_000_000), 0.0)
    assert len(decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload(5_000_000), 0.0).batch) == 0
    assert decoder.stats.rejected["non-increasing timestamp"] == 1
    assert decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload(5_016_667), 0.0).batch.t[0] == 5.016667
    # The device clock restarts: two rejected, the third continues the timeline.
    restarted = [decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload(us), 0.0).batch for us in (100, 16_767, 33_434)]
    assert [len(b) for b in restarted] == [0, 0, 1]
    assert restarted[2].t[0] == pytest.approx(5.016667 + 1 / 60, abs=1e-6)
    follow = decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload(50_101), 0.0).batch.t[0]
    assert follow - restarted[2].t[0] == pytest.approx(0.016667)


@pytest.mark.parametrize("payload, reason", [
    (RATE_QUANTITIES[:27], "short payload"),
    (b"", "short payload"),
    (RATE_QUANTITIES[:4] + bytes.fromhex("0000c07f") + RATE_QUANTITIES[8:], "non-finite value"),
])
def test_bad_payloads_are_counted(payload, reason):
    decoder = MovellaDotDecoder(60.0)
    assert len(decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, payload, 0.0).batch) == 0
    assert decoder.stats.rejected == {reason: 1}


def test_wrong_characteristic_is_rejected():
    decoder = MovellaDotDecoder(60.0)
    decoder.feed(DOT_LONG_PAYLOAD_UUID, RATE_QUANTITIES, 0.0)
    assert decoder.stats.rejected == {"unknown characteristic": 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encode_samples_round_trip(seed):
    rng = np.random.default_rng(seed)
    t = 4290.0 + np.arange(200) / 60  # crosses the 2^32 µs wrap at 4294.967296 s
    acc = rng.normal(0, 5, (200, 3))
    gyr = rng.normal(0, 2, (200, 3))
    notifications = encode_samples(t, acc, gyr)
    assert {len(n) for n in notifications} == {40}
    decoder = MovellaDotDecoder(60.0)
    batch = np.concatenate([decoder.feed(DOT_MEDIUM_PAYLOAD_UUID, n, 0.0).batch.acc for n in notifications])
    np.testing.assert_allclose(batch, acc, rtol=1e-6, atol=1e-6)
    assert decoder.stats.samples == 200 and decoder.stats.malformed == 0


def test_start_and_stop_commands():
    device_control, start = start_commands(60)
    assert device_control.characteristic_uuid == DOT_DEVICE_CONTROL_UUID and device_control.data == SET_60_HZ
    assert start.characteristic_uuid == DOT_CONTROL_UUID and start.data == bytes.fromhex("01 01 15")
    assert [w.data for w in stop_commands()] == [bytes.fromhex("01 00 15")]
    assert parse_command(DOT_DEVICE_CONTROL_UUID, SET_60_HZ).rate_hz == 60
    assert parse_command(DOT_CONTROL_UUID, start.data).kind == "start"
    assert parse_command(DOT_CONTROL_UUID, encode_control(False)).kind == "stop"
    assert parse_command(DOT_CONTROL_UUID, b"\x02\x01\x15") is None
    read_value = encode_device_control(60, visit_index=0, tag=b"Movella DOT")
    assert len(read_value) == 32 and parse_command(DOT_DEVICE_CONTROL_UUID, read_value).kind == "config"


def test_battery_and_profile():
    assert parse_battery(encode_battery(87, charging=True)) == 87
    assert parse_battery(b"") is None and parse_battery(b"\xff\x00") is None
    assert PROFILE.battery_read_uuid == DOT_BATTERY_UUID
    assert PROFILES["dot"] is PROFILE
    assert max(PROFILE.rates_hz) == 60 and PROFILE.nearest_rate(100) == 60
    assert match_advertisement("Xsens DOT") is PROFILE
    assert match_advertisement("Movella Dot") is PROFILE
    assert match_advertisement(None, [], [0x0886]) is PROFILE
