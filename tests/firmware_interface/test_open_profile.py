"""The tiltwatch open profile: decoder, encoders, commands, and its specification's example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_interface.profiles import PROFILES, match_advertisement
from firmware_interface.profiles.open_profile import (
    OP_CONFIG_UUID, OP_CONTROL_UUID, OP_DATA_UUID, OP_DEFAULT_CONFIG, OP_SERVICE_UUID, PROFILE, OpenConfig,
    OpenProfileDecoder, encode_config, encode_data, encode_samples, parse_battery, parse_command, parse_config,
    start_commands, stop_commands)

G = 9.80665
DPS = np.pi / 180
SPEC = Path(__file__).resolve().parents[2] / "docs" / "firmware-profile.md"

# docs/firmware-profile.md §7 (the profile's own specification).
CONFIG_100_HZ = bytes.fromhex("01 00 64 00 10 00 d0 07")
DATA_EXAMPLE = bytes.fromhex(
    "01 02 34 12 40 42 0f 00 00 00 00 00 00 08 a4 00 ae ff 00 00 00 04 00 00 ee 06 00 00 00 00 00 00")


def feed(decoder, data, uuid=OP_DATA_UUID):
    return decoder.feed(uuid, data, 0.0)


def test_spec_examples_are_in_the_document():
    text = SPEC.read_text()
    assert CONFIG_100_HZ.hex(" ") in text and DATA_EXAMPLE.hex(" ") in text


def test_data_example_decodes():
    """az = 2048 × 16/32768 = 1 g; gx = 164 × 2000/32768 = 10.01 deg/s; sample 1 ax = 1024 -> 0.5 g,
    az = 1774 -> 0.866 g; t = 1 000 000 µs, then + 10 ms."""
    decoder = OpenProfileDecoder(100.0)
    result = feed(decoder, DATA_EXAMPLE)
    np.testing.assert_allclose(result.batch.t, [1.0, 1.01])
    np.testing.assert_allclose(result.batch.acc, [[0, 0, G], [1024 / 2048 * G, 0, 1774 / 2048 * G]])
    np.testing.assert_allclose(result.batch.gyr, [[164 * 2000 / 32768 * DPS, -82 * 2000 / 32768 * DPS, 0],
                                                  [0, 0, 0]])
    assert decoder.stats.samples == 2 and decoder.stats.malformed == 0


def test_encoders_reproduce_the_examples():
    acc = np.array([[0, 0, 1], [0.5, 0, 0.866]]) * G
    gyr = np.array([[10, -5, 0], [0, 0, 0]]) * DPS
    assert encode_data(0x1234, 1_000_000, acc, gyr, OP_DEFAULT_CONFIG) == DATA_EXAMPLE
    assert encode_config(OpenConfig(100)) == CONFIG_100_HZ
    assert parse_config(CONFIG_100_HZ) == OpenConfig(100, 16, 2000, 0)


def test_gap_from_sequence_numbers():
    decoder = OpenProfileDecoder(100.0)
    one = np.zeros((2, 3))
    feed(decoder, encode_data(65534, 1_000_000, one, one, OP_DEFAULT_CONFIG))
    # Samples 0 and 1 (after the wrap) lost: the next notification starts at sequence 2.
    result = feed(decoder, encode_data(2, 1_040_000, one, one, OP_DEFAULT_CONFIG))
    (gap,) = result.gaps
    assert gap.data == {"missing": 2, "detected_by": "sequence numbers"}
    assert gap.t_s == pytest.approx(1.01) and gap.end_s == pytest.approx(1.04)
    assert result.batch.markers == (gap,)
    # Contiguous again: no gap.
    assert feed(decoder, encode_data(4, 1_060_000, one, one, OP_DEFAULT_CONFIG)).gaps == ()


def test_long_gap_is_measured_by_timestamps():
    """A gap longer than 65536 samples wraps the sequence number; the timestamps still tell."""
    decoder = OpenProfileDecoder(200.0)
    one = np.zeros((1, 3))
    feed(decoder, encode_data(10, 0, one, one, OP_DEFAULT_CONFIG))
    result = feed(decoder, encode_data(11, 400_000_000, one, one, OP_DEFAULT_CONFIG))  # 400 s later
    (gap,) = result.gaps
    assert gap.data == {"missing": 79_999, "detected_by": "timestamps"}


def test_config_notification_changes_scale_and_rate():
    decoder = OpenProfileDecoder(100.0)
    applied = OpenConfig(200, acc_range_g=8, gyr_range_dps=1000)
    feed(decoder, encode_config(applied), OP_CONFIG_UUID)
    assert decoder.config == applied
    acc = np.array([[0, 0, 7.5 * G], [0, 0, -7.5 * G]])
    gyr = np.array([[900 * DPS, 0, 0], [0, 0, 0]])
    result = feed(decoder, encode_data(0, 5_000_000, acc, gyr, applied))
    np.testing.assert_allclose(result.batch.acc, acc, atol=applied.acc_scale / 2)
    np.testing.assert_allclose(result.batch.gyr, gyr, atol=applied.gyr_scale / 2)
    np.testing.assert_allclose(np.diff(result.batch.t), 0.005)


@pytest.mark.parametrize("data, uuid, reason", [
    (DATA_EXAMPLE[:7], OP_DATA_UUID, "short header"),
    (b"\x02" + DATA_EXAMPLE[1:], OP_DATA_UUID, "unknown version"),
    (DATA_EXAMPLE[:-1], OP_DATA_UUID, "length mismatch"),
    (DATA_EXAMPLE + bytes(12), OP_DATA_UUID, "length mismatch"),
    (b"\x01\x00" + DATA_EXAMPLE[2:8], OP_DATA_UUID, "length mismatch"),
    (bytes.fromhex("01 00 64 00 0c 00 d0 07"), OP_CONFIG_UUID, "bad config"),
    (DATA_EXAMPLE, OP_CONTROL_UUID, "unknown characteristic"),
])
def test_rejects_are_counted(data, uuid, reason):
    decoder = OpenProfileDecoder(100.0)
    assert len(feed(decoder, data, uuid).batch) == 0
    assert decoder.stats.rejected == {reason: 1}


def test_repeated_notification_is_rejected():
    decoder = OpenProfileDecoder(100.0)
    feed(decoder, DATA_EXAMPLE)
    feed(decoder, DATA_EXAMPLE)
    assert decoder.stats.rejected == {"non-increasing timestamp": 1} and decoder.stats.samples == 2


@pytest.mark.parametrize("seed, per_notification", [(0, 1), (1, 4), (2, 19)])
def test_round_trip(seed, per_notification):
    rng = np.random.default_rng(seed)
    count = 150
    t = 4294.0 + np.arange(count) / 200  # crosses the u32 µs wrap
    acc = rng.normal(0, 6, (count, 3))
    gyr = rng.normal(0, 3, (count, 3))
    notifications = encode_samples(t, acc, gyr, per_notification, first_sequence=65500)
    assert max(len(n) for n in notifications) == 8 + 12 * per_notification
    decoder = OpenProfileDecoder(200.0)
    batches = [feed(decoder, n).batch for n in notifications]
    out_t = np.concatenate([b.t for b in batches])
    np.testing.assert_allclose(out_t - out_t[0], t - t[0], atol=2e-6)
    np.testing.assert_allclose(np.concatenate([b.acc for b in batches]), acc, atol=OP_DEFAULT_CONFIG.acc_scale / 2)
    np.testing.assert_allclose(np.concatenate([b.gyr for b in batches]), gyr, atol=OP_DEFAULT_CONFIG.gyr_scale / 2)
    assert all(not b.markers for b in batches) and decoder.stats.malformed == 0


def test_commands():
    config_write, start = start_commands(200)
    assert config_write.characteristic_uuid == OP_CONFIG_UUID
    assert parse_config(config_write.data) == OpenConfig(200)
    assert start.characteristic_uuid == OP_CONTROL_UUID and start.data == b"\x01"
    assert parse_command(OP_CONFIG_UUID, config_write.data).rate_hz == 200
    assert parse_command(OP_CONTROL_UUID, b"\x01").kind == "start"
    assert parse_command(OP_CONTROL_UUID, stop_commands()[0].data).kind == "stop"
    assert parse_command(OP_CONTROL_UUID, b"\x02") is None
    assert parse_command(OP_CONFIG_UUID, b"\x01") is None


def test_profile():
    assert PROFILES["open"] is PROFILE
    assert PROFILE.notify_uuids == (OP_CONFIG_UUID, OP_DATA_UUID)
    assert match_advertisement("tiltwatch-3F2A") is PROFILE
    assert match_advertisement("", [OP_SERVICE_UUID]) is PROFILE
    assert parse_battery(b"\x64") == 100 and parse_battery(b"\x65") is None
