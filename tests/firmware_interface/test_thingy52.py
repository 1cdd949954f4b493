"""Nordic Thingy:52 decoder, encoders and commands (protocols.md §3)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.profiles import PROFILES, match_advertisement
from firmware_interface.profiles.thingy52 import (
    PROFILE, TH_ACC_SCALE, TH_CONFIG_SERVICE_UUID, TH_GYR_SCALE, TH_MOTION_CONFIG_UUID, TH_RAW_DATA_UUID,
    Thingy52Decoder, encode_motion_config, encode_raw, encode_samples, parse_battery, parse_command,
    start_commands)

G = 9.80665
DPS = np.pi / 180

# [INFERRED from the OFFICIAL layout] protocols.md §3.6: accel (0, 0, 1 g), gyro (10, 0, -5) deg/s,
# compass (20, -5, 40) µT.
RAW_EXAMPLE = bytes.fromhex("00 00 00 00 00 04  40 01 00 00 60 ff  40 01 b0 ff 80 02")
# [INFERRED] protocols.md §3.4: motion configuration for 100 Hz with the default intervals.
CONFIG_100_HZ = bytes.fromhex("e8 03 f4 01 f4 01 64 00 01")


def test_raw_example_decodes():
    """az = 0x0400 = 1024 -> 1024/2^10 = 1 g = 9.80665 m/s²; gx = 0x0140 = 320 -> 320/2^5 = 10 deg/s;
    gz = 0xff60 = -160 -> -5 deg/s."""
    decoder = Thingy52Decoder(10.0)
    result = decoder.feed(TH_RAW_DATA_UUID, RAW_EXAMPLE, 2.0)
    np.testing.assert_allclose(result.batch.acc, [[0, 0, G]])
    np.testing.assert_allclose(result.batch.gyr, [[10 * DPS, 0, -5 * DPS]])
    np.testing.assert_array_equal(result.batch.t, [2.0])
    assert decoder.stats.samples == 1 and decoder.stats.malformed == 0


def test_encoder_reproduces_the_example():
    assert encode_raw([0, 0, G], np.array([10, 0, -5]) * DPS, [20, -5, 40]) == RAW_EXAMPLE


@pytest.mark.parametrize("payload, uuid, reason", [
    (RAW_EXAMPLE[:17], TH_RAW_DATA_UUID, "wrong length"),
    (RAW_EXAMPLE + b"\x00", TH_RAW_DATA_UUID, "wrong length"),
    (RAW_EXAMPLE, TH_MOTION_CONFIG_UUID, "unknown characteristic"),
])
def test_rejects_are_counted(payload, uuid, reason):
    decoder = Thingy52Decoder(10.0)
    assert len(decoder.feed(uuid, payload, 0.0).batch) == 0
    assert decoder.stats.rejected == {reason: 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_with_nominal_times(seed):
    rng = np.random.default_rng(seed)
    count = 120
    acc = rng.normal(0, 8, (count, 3))
    gyr = rng.normal(0, 3, (count, 3))
    decoder = Thingy52Decoder(100.0)
    # Notifications leave in bursts of 3 every 30 ms (connection events).
    arrivals = 10.0 + (np.arange(count) // 3 + 1) * 0.03
    batches = [decoder.feed(TH_RAW_DATA_UUID, n, arrivals[i]).batch
               for i, n in enumerate(encode_samples(np.arange(count) / 100, acc, gyr))]
    out_acc = np.concatenate([b.acc for b in batches])
    out_t = np.concatenate([b.t for b in batches])
    np.testing.assert_allclose(out_acc, acc, atol=TH_ACC_SCALE / 2 + 1e-12)
    np.testing.assert_allclose(np.concatenate([b.gyr for b in batches]), gyr, atol=TH_GYR_SCALE / 2 + 1e-12)
    assert np.all(np.diff(out_t) > 0)
    # Once the first bursts have shown the earliest arrivals (the clock only pulls its anchor in
    # by half a period per sample, to keep order), samples are spaced by the period, not by bursts.
    np.testing.assert_allclose(np.diff(out_t[12:]), 0.01, atol=1e-9)


def test_motion_config_command():
    (write,) = start_commands(100)
    assert write.characteristic_uuid == TH_MOTION_CONFIG_UUID and write.data == CONFIG_100_HZ
    assert write.with_response
    command = parse_command(TH_MOTION_CONFIG_UUID, CONFIG_100_HZ)
    assert command.kind == "rate" and command.rate_hz == 100
    assert parse_command(TH_MOTION_CONFIG_UUID, encode_motion_config(300)) is None
    assert parse_command(TH_MOTION_CONFIG_UUID, CONFIG_100_HZ[:8]) is None
    assert parse_command(TH_RAW_DATA_UUID, CONFIG_100_HZ) is None


def test_battery_and_profile():
    assert parse_battery(b"\x4b") == 75 and parse_battery(b"") is None and parse_battery(b"\xc8") is None
    assert PROFILES["thingy"] is PROFILE
    assert match_advertisement("Thingy") is PROFILE
    assert match_advertisement("my sensor", [TH_CONFIG_SERVICE_UUID]) is PROFILE
    assert PROFILE.nearest_rate(120) == 100
