"""tiltwatch open profile for DIY sensors (ESP32, nRF52, Arduino); specified in docs/firmware-profile.md.

One service with three characteristics: Data (notify) carries ``version, count, sequence, timestamp``
and ``count`` samples of 6 × int16; Config (read, write, notify) holds the rate and the full-scale
ranges that turn counts into units; Control (write) starts and stops streaming. Battery is the
standard Battery Service. The protocol was designed here (from protocols.md §5.2's recommendation),
so nothing in it is unconfirmed; what firmware may vary is tolerated as follows:
- ranges and rate: the decoder starts from what ``start_commands`` asked for (±16 g, ±2000 deg/s)
  and switches to what the firmware notifies on Config, so firmware limited to other ranges works;
- batch size: any count from 1 to ``OP_MAX_SAMPLES`` per notification, as the MTU allows.
Sample times come from the device timestamps (first sample of each notification, then one period
per sample); gaps from the sample sequence number (u16, counts samples), or from the timestamps when
the gap is longer than the sequence number can tell.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.framing import int16_rows, to_int16
from firmware_interface.profiles._base import (DecodeResult, DecodeStats, DeviceCommand, DeviceProfile,
                                               GattWrite)
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import US_PER_S, CounterUnwrapper, DeviceClock, gap_marker


def _open_uuid(short: int) -> str:
    return f"6f97{short:04x}-e619-48b0-9cb6-cb4e47408aa1"


OP_SERVICE_UUID = _open_uuid(0x0000)
OP_DATA_UUID = _open_uuid(0x0001)
OP_CONFIG_UUID = _open_uuid(0x0002)
OP_CONTROL_UUID = _open_uuid(0x0003)
OP_BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
OP_NAME_PATTERN = re.compile(r"^tiltwatch", re.IGNORECASE)

OP_VERSION = 1
OP_DATA_HEADER = struct.Struct("<BBHI")  # version, sample count, sequence (first sample), timestamp µs
OP_SAMPLE_BYTES = 12                     # ax ay az gx gy gz, int16
OP_SAMPLE_WORDS = OP_SAMPLE_BYTES // 2
OP_MAX_SAMPLES = 40
OP_CONFIG = struct.Struct("<BBHHH")      # version, max batch, rate Hz, acc range g, gyro range deg/s
OP_CONTROL_START, OP_CONTROL_STOP = 0x01, 0x00
OP_SEQUENCE_BITS = 16
OP_ACC_RANGES_G = (2, 4, 8, 16, 32)
OP_GYR_RANGES_DPS = (125, 250, 500, 1000, 2000, 4000)
OP_LIVE_RATES_HZ = (25, 50, 100, 200, 400)
OP_DEFAULT_ACC_RANGE_G = 16
OP_DEFAULT_GYR_RANGE_DPS = 2000


@dataclass(frozen=True)
class OpenConfig:
    """The Config characteristic's value."""

    rate_hz: int
    acc_range_g: int = OP_DEFAULT_ACC_RANGE_G
    gyr_range_dps: int = OP_DEFAULT_GYR_RANGE_DPS
    max_batch: int = 0
    """Most samples per notification; 0 lets the firmware choose from the MTU."""

    @property
    def acc_scale(self) -> float:
        """m/s² per count: full scale is ±range over the int16 span."""
        return self.acc_range_g * STANDARD_GRAVITY / 32768.0

    @property
    def gyr_scale(self) -> float:
        """rad/s per count."""
        return self.gyr_range_dps * np.pi / 180.0 / 32768.0


OP_DEFAULT_CONFIG = OpenConfig(100)


def encode_config(config: OpenConfig) -> bytes:
    return OP_CONFIG.pack(OP_VERSION, config.max_batch, config.rate_hz, config.acc_range_g, config.gyr_range_dps)


def parse_config(data: bytes) -> OpenConfig | None:
    """A Config value, or ``None`` if it is malformed or outside the specified ranges."""
    if len(data) != OP_CONFIG.size:
        return None
    version, max_batch, rate_hz, acc_range_g, gyr_range_dps = OP_CONFIG.unpack(data)
    if (version != OP_VERSION or rate_hz == 0 or max_batch > OP_MAX_SAMPLES
            or acc_range_g not in OP_ACC_RANGES_G or gyr_range_dps not in OP_GYR_RANGES_DPS):
        return None
    return OpenConfig(rate_hz, acc_range_g, gyr_range_dps, max_batch)


class OpenProfileDecoder:
    """Data notifications -> ``SampleBatch``; Config notifications update scale and rate."""

    def __init__(self, rate_hz: float = 100.0) -> None:
        self.stats = DecodeStats()
        self.config = OpenConfig(int(rate_hz))
        self._clock = DeviceClock(rate_hz)
        self._sequence = CounterUnwrapper(OP_SEQUENCE_BITS)
        self._next_sequence: int | None = None

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        uuid = characteristic_uuid.lower()
        if uuid == OP_CONFIG_UUID:
            return self._feed_config(data)
        if uuid != OP_DATA_UUID:
            return self._reject("unknown characteristic")
        if len(data) < OP_DATA_HEADER.size:
            return self._reject("short header")
        version, count, raw_sequence, raw_us = OP_DATA_HEADER.unpack_from(data)
        if version != OP_VERSION:
            return self._reject("unknown version")
        if not 1 <= count <= OP_MAX_SAMPLES or len(data) != OP_DATA_HEADER.size + count * OP_SAMPLE_BYTES:
            return self._reject("length mismatch")
        previous_s = self._clock.last_s
        stamped = self._clock.stamp(raw_us, count)
        if stamped is None:
            return self._reject("non-increasing timestamp")
        t, missing_by_time = stamped
        sequence = self._sequence.unwrap(raw_sequence)
        missing = 0 if self._next_sequence is None else max(0, sequence - self._next_sequence)
        detected_by = "sequence numbers"
        if missing_by_time >= (1 << OP_SEQUENCE_BITS) // 2:
            missing, detected_by = missing_by_time, "timestamps"  # the sequence number wrapped in the gap
        self._next_sequence = sequence + count
        gaps = (gap_marker(previous_s, float(t[0]), missing, detected_by),) if missing else ()
        words = int16_rows(data, OP_DATA_HEADER.size, count, OP_SAMPLE_WORDS)
        self.stats.frames += 1
        self.stats.samples += count
        batch = SampleBatch(t, words[:, :3] * self.config.acc_scale, words[:, 3:] * self.config.gyr_scale, gaps)
        return DecodeResult(batch, gaps=gaps)

    def _feed_config(self, data: bytes) -> DecodeResult:
        config = parse_config(data)
        if config is None:
            return self._reject("bad config")
        self.stats.frames += 1
        if config.rate_hz != self.config.rate_hz:
            self._clock.period_s = 1.0 / config.rate_hz
        self.config = config
        return DecodeResult(SampleBatch.empty())

    def _reject(self, reason: str) -> DecodeResult:
        self.stats.rejected[reason] += 1
        return DecodeResult(SampleBatch.empty())


# --- encoders (emulated peripheral, round-trip tests, reference for firmware authors) ---

def encode_data(sequence: int, timestamp_us: int, acc: np.ndarray, gyr: np.ndarray,
                config: OpenConfig) -> bytes:
    """One Data notification for consecutive samples (acc m/s², gyro rad/s, shape (N, 3))."""
    words = np.hstack([to_int16(acc, config.acc_scale), to_int16(gyr, config.gyr_scale)])
    header = OP_DATA_HEADER.pack(OP_VERSION, len(words), sequence % (1 << OP_SEQUENCE_BITS),
                                 int(timestamp_us) % (1 << 32))
    return header + words.tobytes()


def encode_samples(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, samples_per_notification: int = 4,
                   first_sequence: int = 0, config: OpenConfig = OP_DEFAULT_CONFIG) -> list[bytes]:
    """Data notifications of ``samples_per_notification`` samples, stamped with ``t_s`` in µs and
    scaled with ``config``'s ranges."""
    step = samples_per_notification
    return [encode_data(first_sequence + start, round(t_s[start] * US_PER_S), acc[start:start + step],
                        gyr[start:start + step], config)
            for start in range(0, len(t_s), step)]


def parse_command(characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
    uuid = characteristic_uuid.lower()
    if uuid == OP_CONFIG_UUID:
        config = parse_config(data)
        return None if config is None else DeviceCommand("rate", rate_hz=config.rate_hz, raw=bytes(data))
    if uuid == OP_CONTROL_UUID and len(data) == 1 and data[0] in (OP_CONTROL_START, OP_CONTROL_STOP):
        return DeviceCommand("start" if data[0] == OP_CONTROL_START else "stop", raw=bytes(data))
    return None


def parse_battery(data: bytes) -> int | None:
    return data[0] if len(data) == 1 and data[0] <= 100 else None


def start_commands(rate_hz: float) -> tuple[GattWrite, ...]:
    return (GattWrite(OP_CONFIG_UUID, encode_config(OpenConfig(int(rate_hz)))),
            GattWrite(OP_CONTROL_UUID, bytes([OP_CONTROL_START])))


def stop_commands() -> tuple[GattWrite, ...]:
    return (GattWrite(OP_CONTROL_UUID, bytes([OP_CONTROL_STOP])),)


PROFILE = DeviceProfile(
    key="open",
    display_name="tiltwatch open profile (DIY)",
    name_pattern=OP_NAME_PATTERN,
    service_uuid=OP_SERVICE_UUID,
    notify_uuids=(OP_CONFIG_UUID, OP_DATA_UUID),
    rates_hz=OP_LIVE_RATES_HZ,
    default_rate_hz=100,
    decoder_factory=OpenProfileDecoder,
    start_commands=start_commands,
    stop_commands=stop_commands,
    battery_read_uuid=OP_BATTERY_LEVEL_UUID,
    parse_battery=parse_battery,
    device_timestamps=True,
    sequence_numbers=True,
    write_uuids=(OP_CONFIG_UUID, OP_CONTROL_UUID),
)
