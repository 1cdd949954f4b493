"""Movella (formerly Xsens) DOT, firmware 2.x, BLE Service Specification XD0506P rev. C
(protocols.md §2).

The central writes the output rate to Device Control (``15171002``, 32 bytes, visit bit 4), enables
notifications on the payload characteristic of the chosen mode, then writes ``01 01 <mode>`` to the
measurement Control characteristic (``15172001``). tiltwatch uses mode 21, Rate quantities, on the
medium payload characteristic ``15172003``: uint32 µs timestamp, acceleration (3 × float32 m/s²,
gravity included) and angular velocity (3 × float32 deg/s). One sample per notification; live
streaming tops out at 60 Hz (120 Hz is recording only). Mode 20 (same fields plus magnetometer) and
mode 26 (Custom mode 5 on the long characteristic, with a quaternion) decode too.

The timestamp is the sensor's µs clock since power-on; it wraps every 2^32 µs ≈ 71.6 min and is
unwrapped by ``timebase.DeviceClock``. Gaps are found from timestamp steps. A repeated or older
timestamp is rejected; three in a row mean the device clock restarted, and the timeline continues.

Unconfirmed, and how both readings are tolerated:
- padding: notifications may come at the payload's size or padded with zeros to the characteristic
  length (40 / 63 bytes); the decoder reads by mode and accepts any length >= the payload size;
- the offsets of Custom mode 5 are inferred from the field order (the spec lists no offsets);
- the rate write uses visit index 0x10 with every other field zero, which the spec says the device
  ignores; the community client reads, modifies and writes back instead (the transport may do so).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from firmware_interface.profiles._base import (DecodeResult, DecodeStats, DeviceCommand, DeviceProfile,
                                               GattWrite)
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import US_PER_S, DeviceClock, gap_marker


def _dot_uuid(short: int) -> str:
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


DOT_CONFIG_SERVICE_UUID = _dot_uuid(0x1000)
DOT_DEVICE_CONTROL_UUID = _dot_uuid(0x1002)
DOT_MEASUREMENT_SERVICE_UUID = _dot_uuid(0x2000)
DOT_CONTROL_UUID = _dot_uuid(0x2001)
DOT_LONG_PAYLOAD_UUID = _dot_uuid(0x2002)
DOT_MEDIUM_PAYLOAD_UUID = _dot_uuid(0x2003)
DOT_SHORT_PAYLOAD_UUID = _dot_uuid(0x2004)
DOT_BATTERY_UUID = _dot_uuid(0x3001)
DOT_COMPANY_ID = 0x0886  # 2182, Movella/Xsens
DOT_NAME_PATTERN = re.compile(r"^(xsens|movella) dot", re.IGNORECASE)

DOT_CHARACTERISTIC_BYTES = {DOT_LONG_PAYLOAD_UUID: 63, DOT_MEDIUM_PAYLOAD_UUID: 40, DOT_SHORT_PAYLOAD_UUID: 20}
DOT_TIMESTAMP = struct.Struct("<I")
DOT_VECTOR = struct.Struct("<3f")
DOT_QUATERNION = struct.Struct("<4f")
DEG_TO_RAD = np.pi / 180.0


@dataclass(frozen=True)
class PayloadLayout:
    """Where a payload mode puts the fields tiltwatch reads (protocols.md §2.5)."""

    mode: int
    characteristic_uuid: str
    payload_bytes: int
    acc_offset: int
    gyr_offset: int
    quaternion_offset: int | None = None


DOT_LAYOUTS = {
    21: PayloadLayout(21, DOT_MEDIUM_PAYLOAD_UUID, 28, acc_offset=4, gyr_offset=16),
    20: PayloadLayout(20, DOT_MEDIUM_PAYLOAD_UUID, 34, acc_offset=4, gyr_offset=16),
    26: PayloadLayout(26, DOT_LONG_PAYLOAD_UUID, 44, acc_offset=20, gyr_offset=32, quaternion_offset=4),
}
DOT_DEFAULT_MODE = 21

# Device Control (15171002), 32 bytes (spec Table 7): visit index, identify, power, power-saving
# timeouts, tag length, tag, output rate (u16 Hz), filter profile, reserved.
DOT_DEVICE_CONTROL = struct.Struct("<BBB4sB16sHB5s")
DOT_VISIT_OUTPUT_RATE = 0x10
DOT_DEFAULT_TAG = b"Movella DOT"
DOT_CONTROL = struct.Struct("<BBB")  # type (1 = measurement), action (0 stop, 1 start), payload mode
DOT_MEASUREMENT = 0x01
DOT_LIVE_RATES_HZ = (1, 4, 10, 12, 15, 20, 30, 60)


class MovellaDotDecoder:
    """Payload notifications -> ``SampleBatch`` with device timestamps."""

    def __init__(self, rate_hz: float = 60.0, payload_mode: int = DOT_DEFAULT_MODE) -> None:
        self.stats = DecodeStats()
        self.layout = DOT_LAYOUTS[payload_mode]
        self._clock = DeviceClock(rate_hz)

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        layout = self.layout
        if characteristic_uuid.lower() != layout.characteristic_uuid:
            return self._reject("unknown characteristic")
        if len(data) < layout.payload_bytes:
            return self._reject("short payload")
        (raw_us,) = DOT_TIMESTAMP.unpack_from(data, 0)
        acc = DOT_VECTOR.unpack_from(data, layout.acc_offset)
        gyr = DOT_VECTOR.unpack_from(data, layout.gyr_offset)
        if not np.all(np.isfinite(acc + gyr)):
            return self._reject("non-finite value")
        previous_s = self._clock.last_s
        stamped = self._clock.stamp(raw_us)
        if stamped is None:
            return self._reject("non-increasing timestamp")
        t, missing = stamped
        gaps = (gap_marker(previous_s, float(t[0]), missing, "timestamps"),) if missing else ()
        self.stats.frames += 1
        self.stats.samples += 1
        batch = SampleBatch(t, [acc], np.multiply([gyr], DEG_TO_RAD), gaps)
        return DecodeResult(batch, gaps=gaps)

    def _reject(self, reason: str) -> DecodeResult:
        self.stats.rejected[reason] += 1
        return DecodeResult(SampleBatch.empty())


# --- encoders (emulated peripheral, round-trip tests) ---

def encode_payload(timestamp_us: int, acc: Sequence[float], gyr: Sequence[float], mode: int = DOT_DEFAULT_MODE,
                   quaternion: Sequence[float] = (1.0, 0.0, 0.0, 0.0), padded: bool = True) -> bytes:
    """One notification: acc in m/s², gyro in rad/s (sent as deg/s), zero-padded to the
    characteristic's length when ``padded``; unused fields (magnetometer) are zero."""
    layout = DOT_LAYOUTS[mode]
    size = DOT_CHARACTERISTIC_BYTES[layout.characteristic_uuid] if padded else layout.payload_bytes
    payload = bytearray(size)
    DOT_TIMESTAMP.pack_into(payload, 0, int(timestamp_us) % (1 << 32))
    DOT_VECTOR.pack_into(payload, layout.acc_offset, *acc)
    DOT_VECTOR.pack_into(payload, layout.gyr_offset, *np.divide(gyr, DEG_TO_RAD))
    if layout.quaternion_offset is not None:
        DOT_QUATERNION.pack_into(payload, layout.quaternion_offset, *quaternion)
    return bytes(payload)


def encode_samples(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, mode: int = DOT_DEFAULT_MODE,
                   padded: bool = True) -> list[bytes]:
    """One notification per sample, stamped with ``t_s`` as the device's µs clock (wrapping)."""
    return [encode_payload(round(t * US_PER_S), acc[i], gyr[i], mode, padded=padded) for i, t in enumerate(t_s)]


def encode_device_control(rate_hz: float, visit_index: int = DOT_VISIT_OUTPUT_RATE, tag: bytes = b"") -> bytes:
    """Device Control value: a rate write (visit bit 4 only) or, with a tag, what a read returns."""
    return DOT_DEVICE_CONTROL.pack(visit_index, 0, 0, bytes(4), len(tag), tag, int(rate_hz), 0, bytes(5))


def encode_control(start: bool, mode: int = DOT_DEFAULT_MODE) -> bytes:
    return DOT_CONTROL.pack(DOT_MEASUREMENT, int(start), mode)


def encode_battery(level_pct: int, charging: bool = False) -> bytes:
    return bytes([level_pct, int(charging)])


def parse_battery(data: bytes) -> int | None:
    return data[0] if len(data) >= 1 and data[0] <= 100 else None


def parse_command(characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
    """A write to Device Control (rate) or Control (start/stop); ``None`` if not understood."""
    uuid = characteristic_uuid.lower()
    raw = bytes(data)
    if uuid == DOT_DEVICE_CONTROL_UUID and len(data) == DOT_DEVICE_CONTROL.size:
        fields = DOT_DEVICE_CONTROL.unpack(data)
        if fields[0] & DOT_VISIT_OUTPUT_RATE:
            return DeviceCommand("rate", rate_hz=fields[6], value=fields[6], raw=raw)
        return DeviceCommand("config", value=fields[0], raw=raw)
    if uuid == DOT_CONTROL_UUID and len(data) == DOT_CONTROL.size:
        kind, action, mode = DOT_CONTROL.unpack(data)
        if kind == DOT_MEASUREMENT and action in (0, 1):
            return DeviceCommand("start" if action else "stop", value=mode, raw=raw)
    return None


def start_commands(rate_hz: float) -> tuple[GattWrite, ...]:
    """Set the rate (it cannot change once measuring), then start Rate quantities."""
    return (GattWrite(DOT_DEVICE_CONTROL_UUID, encode_device_control(rate_hz)),
            GattWrite(DOT_CONTROL_UUID, encode_control(True)))


def stop_commands() -> tuple[GattWrite, ...]:
    return (GattWrite(DOT_CONTROL_UUID, encode_control(False)),)


PROFILE = DeviceProfile(
    key="dot",
    display_name="Movella DOT",
    name_pattern=DOT_NAME_PATTERN,
    service_uuid=DOT_MEASUREMENT_SERVICE_UUID,
    notify_uuids=(DOT_MEDIUM_PAYLOAD_UUID,),
    rates_hz=DOT_LIVE_RATES_HZ,
    default_rate_hz=60,
    decoder_factory=MovellaDotDecoder,
    start_commands=start_commands,
    stop_commands=stop_commands,
    battery_read_uuid=DOT_BATTERY_UUID,
    parse_battery=parse_battery,
    device_timestamps=True,
    advertised_uuids=(DOT_CONFIG_SERVICE_UUID,),
    manufacturer_ids=(DOT_COMPANY_ID,),
    write_uuids=(DOT_DEVICE_CONTROL_UUID, DOT_CONTROL_UUID),
)
