"""Nordic Thingy:52, stock firmware 2.x (protocols.md §3).

Subscribing to the raw-data characteristic (``ef680406``) switches raw output on in the firmware; the
rate is the "motion processing unit frequency" (bytes 6–7) of the 9-byte motion configuration
(``ef680401``). Each notification carries one 18-byte sample: 9 × int16 fixed point, accel Q6.10 (g),
gyro Q11.5 (deg/s), compass Q12.4 (µT, not used here). No timestamp, no counter: sample times come
from ``timebase.NominalClock`` and gaps from the arrival deficit.

Unconfirmed, and how it is handled:
- scaling: the firmware and the Android library divide by 2^10 / 2^5 / 2^4, Thingy.js by 64 / 2048 /
  4096; the firmware is authoritative and its scales are used (a packet cannot tell them apart);
- axis directions relative to the case are unknown; mounting is found by calibration downstream;
- the motion configuration is written whole with the firmware defaults for the other intervals
  (Thingy.js reads, modifies and writes back; a transport may do so too).
"""

from __future__ import annotations

import re
import struct
from typing import Sequence

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.framing import int16_fields, to_int16
from firmware_interface.profiles._base import (DecodeResult, DecodeStats, DeviceCommand, DeviceProfile,
                                               GattWrite)
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import NominalClock


def _thingy_uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


TH_CONFIG_SERVICE_UUID = _thingy_uuid(0x0100)  # the one in the advertisement
TH_MOTION_SERVICE_UUID = _thingy_uuid(0x0400)
TH_MOTION_CONFIG_UUID = _thingy_uuid(0x0401)
TH_RAW_DATA_UUID = _thingy_uuid(0x0406)
TH_BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
TH_NAME_PATTERN = re.compile(r"^Thingy", re.IGNORECASE)

TH_RAW_BYTES = 18
TH_ACC_OFFSET = 0
TH_GYR_OFFSET = 6
TH_ACC_SCALE = STANDARD_GRAVITY / 2**10  # m/s² per count (Q6.10 g)
TH_GYR_SCALE = np.pi / 180.0 / 2**5      # rad/s per count (Q11.5 deg/s)
TH_COMPASS_SCALE_UT = 1.0 / 2**4         # µT per count (Q12.4)

# Motion configuration (9 bytes): pedometer, temperature and magnetometer compensation intervals
# (ms), motion processing frequency (Hz), wake-on-motion.
TH_MOTION_CONFIG = struct.Struct("<HHHHB")
TH_DEFAULT_INTERVALS_MS = (1000, 500, 500)
TH_DEFAULT_WAKE_ON_MOTION = 1
TH_MIN_RATE_HZ, TH_MAX_RATE_HZ = 5, 200
TH_LIVE_RATES_HZ = (5, 10, 20, 25, 50, 100, 200)


class Thingy52Decoder:
    """Raw-data notifications -> ``SampleBatch`` (one sample each)."""

    def __init__(self, rate_hz: float = 10.0, connection_interval_s: float = 0.05) -> None:
        self.stats = DecodeStats()
        self._clock = NominalClock(rate_hz, connection_interval_s)

    @property
    def clock(self) -> NominalClock:
        return self._clock

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        if characteristic_uuid.lower() != TH_RAW_DATA_UUID:
            return self._reject("unknown characteristic")
        if len(data) != TH_RAW_BYTES:
            return self._reject("wrong length")
        acc = int16_fields(data, TH_ACC_OFFSET, 3) * TH_ACC_SCALE
        gyr = int16_fields(data, TH_GYR_OFFSET, 3) * TH_GYR_SCALE
        t, gap = self._clock.stamp(1, received_at_s)
        gaps = (gap,) if gap else ()
        self.stats.frames += 1
        self.stats.samples += 1
        return DecodeResult(SampleBatch(t, acc[None, :], gyr[None, :], gaps), gaps=gaps)

    def _reject(self, reason: str) -> DecodeResult:
        self.stats.rejected[reason] += 1
        return DecodeResult(SampleBatch.empty())


# --- encoders (emulated peripheral, round-trip tests) ---

def encode_raw(acc: Sequence[float], gyr: Sequence[float], compass_ut: Sequence[float] = (0, 0, 0)) -> bytes:
    """One raw-data notification from acc (m/s²), gyro (rad/s) and compass (µT)."""
    return np.concatenate([to_int16(acc, TH_ACC_SCALE), to_int16(gyr, TH_GYR_SCALE),
                           to_int16(compass_ut, TH_COMPASS_SCALE_UT)]).tobytes()


def encode_samples(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[bytes]:
    """One notification per sample (the device has no batching and sends no time)."""
    return [encode_raw(acc[i], gyr[i]) for i in range(len(t_s))]


def encode_motion_config(rate_hz: float) -> bytes:
    return TH_MOTION_CONFIG.pack(*TH_DEFAULT_INTERVALS_MS, int(rate_hz), TH_DEFAULT_WAKE_ON_MOTION)


def parse_command(characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
    """A motion-configuration write; ``None`` if malformed or the frequency is out of 5–200 Hz
    (the firmware answers such writes with an error)."""
    if characteristic_uuid.lower() != TH_MOTION_CONFIG_UUID or len(data) != TH_MOTION_CONFIG.size:
        return None
    rate_hz = TH_MOTION_CONFIG.unpack(data)[3]
    if not TH_MIN_RATE_HZ <= rate_hz <= TH_MAX_RATE_HZ:
        return None
    return DeviceCommand("rate", rate_hz=rate_hz, value=rate_hz, raw=bytes(data))


def parse_battery(data: bytes) -> int | None:
    return data[0] if len(data) == 1 and data[0] <= 100 else None


def start_commands(rate_hz: float) -> tuple[GattWrite, ...]:
    """Only the rate: subscribing to raw data is what starts the stream."""
    return (GattWrite(TH_MOTION_CONFIG_UUID, encode_motion_config(rate_hz)),)


PROFILE = DeviceProfile(
    key="thingy",
    display_name="Nordic Thingy:52",
    name_pattern=TH_NAME_PATTERN,
    service_uuid=TH_MOTION_SERVICE_UUID,
    notify_uuids=(TH_RAW_DATA_UUID,),
    rates_hz=TH_LIVE_RATES_HZ,
    default_rate_hz=10,
    decoder_factory=Thingy52Decoder,
    start_commands=start_commands,
    battery_read_uuid=TH_BATTERY_LEVEL_UUID,
    parse_battery=parse_battery,
    advertised_uuids=(TH_CONFIG_SERVICE_UUID,),
    write_uuids=(TH_MOTION_CONFIG_UUID,),
)
