"""WitMotion WT901BLECL / WT9011DCL, "BLE 5.0" firmware (protocols.md §1).

Notifications on ``ffe4`` are a byte stream of 20-byte frames: ``55 61`` + 9 × int16 (acc ±16 g,
gyro ±2000 deg/s, angles) and ``55 71`` register replies (``55 71 <reg> 00`` + 8 × int16), which
arrive interleaved with data when the central polls a register. At 50 Hz and above the device
packs 2–4 frames into one notification, so frames are re-split with ``framing.FrameWalker``.
There is no timestamp and no sequence counter: sample times come from ``timebase.NominalClock``.

Unconfirmed, and how both readings are tolerated:
- a 28-byte ``55 61`` frame (8 trailing date bytes) named in one vendor text: its first 20 bytes
  decode as usual and the tail is skipped by resynchronisation (none of the date bytes can start
  a frame), counted in ``DecodeStats.skipped_bytes``;
- 200 Hz as rate code 0x0B (official SDK) or 0x0A (one vendor text): 0x0B is written and read back
  (the reply lands in ``decoder.reported_rate_hz``), and the clock adopts the measured rate if
  the device streams at 125 Hz instead;
- AGPVSEL (register 0x96) variants that replace acc/gyro words are not requested and not decoded.
"""

from __future__ import annotations

import re
import struct
from typing import Sequence

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.framing import NEED_MORE, FrameWalker, int16_rows, to_int16
from firmware_interface.profiles._base import (DecodeResult, DecodeStats, DeviceCommand, DeviceProfile,
                                               GattWrite)
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import NominalClock


# Base UUID ends in ...9a34fb, not the SIG ...9b34fb (protocols.md §1.1).
WT_SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
WT_NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WT_WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
WT_NAME_PATTERN = re.compile(r"^B?WT9\d", re.IGNORECASE)

WT_HEADER = 0x55
WT_DATA_FLAG = 0x61
WT_REPLY_FLAG = 0x71
WT_FRAME_BYTES = 20
WT_ACC_WORDS = slice(1, 4)  # int16 words of a frame: 0 = header+flag, 1-3 acc, 4-6 gyro, 7-9 angles
WT_GYR_WORDS = slice(4, 7)
WT_REPLY_REGISTER = struct.Struct("<H")  # at offset 2 of a 55 71 reply
WT_REPLY_VALUES = struct.Struct("<8h")   # at offset 4: 8 consecutive registers

# Scale factors, raw int16 -> SI (protocols.md §1.4).
WT_ACC_SCALE = 16.0 / 32768.0 * STANDARD_GRAVITY  # m/s² per count (±16 g)
WT_GYR_SCALE = 2000.0 / 32768.0 * np.pi / 180.0    # rad/s per count (±2000 deg/s)
WT_ANGLE_SCALE_DEG = 180.0 / 32768.0               # deg per count

# Registers and commands (protocols.md §1.5–1.6): writes are FF AA <reg> <valL> <valH>.
WT_COMMAND = struct.Struct("<BBBH")
WT_COMMAND_PREFIX = (0xFF, 0xAA)
WT_REG_SAVE = 0x00
WT_REG_RATE = 0x03
WT_REG_READ = 0x27
WT_REG_UNLOCK = 0x69
WT_UNLOCK_VALUE = 0xB588
WT_REG_BATTERY = 0x64
WT_BATTERY_VOLTS_PER_COUNT = 0.01
WT_SETTLE_S = 0.1
"""The vendor flows wait ~100 ms between unlock, register write and save."""

WT_RATE_CODES = {0.2: 0x01, 0.5: 0x02, 1: 0x03, 2: 0x04, 5: 0x05, 10: 0x06, 20: 0x07,
                 50: 0x08, 100: 0x09, 200: 0x0B}
# 0x0A: 125 Hz in REG.h, 200 Hz in one vendor text; read back as 200 Hz is what was asked for.
WT_CODE_RATES = {code: rate for rate, code in WT_RATE_CODES.items()} | {0x0A: 200}
WT_LIVE_RATES_HZ = (1, 2, 5, 10, 20, 50, 100, 200)
WT_ALTERNATE_RATES_HZ = (125,)

# Battery voltage -> % (official table, protocols.md §1.5): (lower bound V, percent), high first.
WT_BATTERY_TABLE = ((3.96, 100), (3.93, 90), (3.87, 75), (3.82, 60), (3.79, 50), (3.77, 40),
                    (3.73, 30), (3.70, 20), (3.68, 15), (3.50, 10), (3.40, 5))


def battery_percent(volts: float) -> int:
    for lower_volts, percent in WT_BATTERY_TABLE:
        if volts > lower_volts:
            return percent
    return 0


def _frame_length(buffer: bytes, start: int) -> int | None:
    if start + 1 >= len(buffer):
        return NEED_MORE
    return WT_FRAME_BYTES if buffer[start + 1] in (WT_DATA_FLAG, WT_REPLY_FLAG) else None


def default_frames_per_notification(rate_hz: float) -> int:
    """How many frames the device packs per notification (observed 2 at 50 Hz, 4 above)."""
    if rate_hz >= 100:
        return 4
    return 2 if rate_hz >= 50 else 1


class WitMotionDecoder:
    """Notification bytes -> ``SampleBatch`` (acc, gyro; the device's angles are not used)."""

    def __init__(self, rate_hz: float = 10.0, connection_interval_s: float = 0.05) -> None:
        self.stats = DecodeStats()
        self.reported_rate_hz: float | None = None
        """Rate read back from register 0x03, once a reply arrives."""
        self._walker = FrameWalker(bytes([WT_HEADER]), _frame_length, WT_FRAME_BYTES)
        self._clock = NominalClock(rate_hz, connection_interval_s, known_rates_hz=WT_LIVE_RATES_HZ
                                   + WT_ALTERNATE_RATES_HZ)

    @property
    def clock(self) -> NominalClock:
        return self._clock

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        if characteristic_uuid.lower() != WT_NOTIFY_UUID:
            self.stats.rejected["unknown characteristic"] += 1
            return DecodeResult(SampleBatch.empty())
        skipped_before = self._walker.skipped_bytes
        frames = self._walker.feed(data)
        newly_skipped = self._walker.skipped_bytes - skipped_before
        self.stats.skipped_bytes += newly_skipped
        if newly_skipped:
            self.stats.rejected["unframed bytes"] += 1
        data_frames = [frame for frame in frames if frame[1] == WT_DATA_FLAG]
        replies = tuple(self._reply(frame) for frame in frames if frame[1] == WT_REPLY_FLAG)
        self.stats.frames += len(frames)
        battery_pct = None
        for register, values in replies:
            if register == WT_REG_BATTERY:
                battery_pct = battery_percent(WT_REPLY_VALUES.unpack(values)[0] * WT_BATTERY_VOLTS_PER_COUNT)
            elif register == WT_REG_RATE:
                self.reported_rate_hz = WT_CODE_RATES.get(WT_REPLY_VALUES.unpack(values)[0])
        if not data_frames:
            return DecodeResult(SampleBatch.empty(), battery_pct=battery_pct, replies=replies)
        words = int16_rows(b"".join(data_frames), 0, len(data_frames), WT_FRAME_BYTES // 2)
        t, gap = self._clock.stamp(len(data_frames), received_at_s)
        gaps = (gap,) if gap else ()
        self.stats.samples += len(data_frames)
        batch = SampleBatch(t, words[:, WT_ACC_WORDS] * WT_ACC_SCALE, words[:, WT_GYR_WORDS] * WT_GYR_SCALE, gaps)
        return DecodeResult(batch, battery_pct=battery_pct, gaps=gaps, replies=replies)

    @staticmethod
    def _reply(frame: bytes) -> tuple[int, bytes]:
        (register,) = WT_REPLY_REGISTER.unpack_from(frame, 2)
        return register, frame[4:]


# --- encoders (used by the emulated peripheral and the round-trip tests) ---

def encode_frame(acc: Sequence[float], gyr: Sequence[float], angles_deg: Sequence[float] = (0, 0, 0)) -> bytes:
    """One ``55 61`` frame from acc (m/s²), gyro (rad/s) and the device's Euler angles (deg)."""
    words = np.concatenate([to_int16(acc, WT_ACC_SCALE), to_int16(gyr, WT_GYR_SCALE),
                            to_int16(angles_deg, WT_ANGLE_SCALE_DEG)])
    return bytes([WT_HEADER, WT_DATA_FLAG]) + words.tobytes()


def encode_samples(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float = 10.0,
                   angles_deg: np.ndarray | None = None, frames_per_notification: int | None = None) -> list[bytes]:
    """Notifications as the device sends them: consecutive frames packed ``frames_per_notification``
    at a time. ``t_s`` is not transmitted (the device has no timestamp)."""
    count = len(t_s)
    per_notification = frames_per_notification or default_frames_per_notification(rate_hz)
    angles = np.zeros((count, 3)) if angles_deg is None else np.asarray(angles_deg)
    frames = [encode_frame(acc[i], gyr[i], angles[i]) for i in range(count)]
    return [b"".join(frames[i:i + per_notification]) for i in range(0, count, per_notification)]


def encode_command(register: int, value: int) -> bytes:
    return WT_COMMAND.pack(*WT_COMMAND_PREFIX, register, value & 0xFFFF)


def encode_register_reply(register: int, values: Sequence[int]) -> bytes:
    """A ``55 71`` reply: ``register`` and up to 8 following register values (zero-filled)."""
    padded = (list(values) + [0] * 8)[:8]
    return bytes([WT_HEADER, WT_REPLY_FLAG]) + WT_REPLY_REGISTER.pack(register) + WT_REPLY_VALUES.pack(*padded)


def parse_command(characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
    """What a write to ``ffe9`` asks for; ``None`` for anything that is not an ``FF AA`` command."""
    if characteristic_uuid.lower() != WT_WRITE_UUID or len(data) != WT_COMMAND.size:
        return None
    prefix0, prefix1, register, value = WT_COMMAND.unpack(data)
    if (prefix0, prefix1) != WT_COMMAND_PREFIX:
        return None
    raw = bytes(data)
    if register == WT_REG_UNLOCK:
        return DeviceCommand("unlock", register=register, value=value, raw=raw)
    if register == WT_REG_SAVE:
        return DeviceCommand("save", register=register, value=value, raw=raw)
    if register == WT_REG_RATE:
        return DeviceCommand("rate", rate_hz=WT_CODE_RATES.get(value), register=register, value=value, raw=raw)
    if register == WT_REG_READ:
        kind = "battery" if value == WT_REG_BATTERY else "read_register"
        return DeviceCommand(kind, register=value, raw=raw)
    return DeviceCommand("other", register=register, value=value, raw=raw)


def start_commands(rate_hz: float) -> tuple[GattWrite, ...]:
    """Unlock, write the rate code, save, then ask for the rate register back."""
    code = WT_RATE_CODES[rate_hz]
    return (
        GattWrite(WT_WRITE_UUID, encode_command(WT_REG_UNLOCK, WT_UNLOCK_VALUE), delay_after_s=WT_SETTLE_S),
        GattWrite(WT_WRITE_UUID, encode_command(WT_REG_RATE, code), delay_after_s=WT_SETTLE_S),
        GattWrite(WT_WRITE_UUID, encode_command(WT_REG_SAVE, 0), delay_after_s=WT_SETTLE_S),
        GattWrite(WT_WRITE_UUID, encode_command(WT_REG_READ, WT_REG_RATE)),
    )


def battery_commands() -> tuple[GattWrite, ...]:
    return (GattWrite(WT_WRITE_UUID, encode_command(WT_REG_READ, WT_REG_BATTERY)),)


PROFILE = DeviceProfile(
    key="wt901",
    display_name="WitMotion WT901BLECL / WT9011DCL",
    name_pattern=WT_NAME_PATTERN,
    service_uuid=WT_SERVICE_UUID,
    notify_uuids=(WT_NOTIFY_UUID,),
    rates_hz=WT_LIVE_RATES_HZ,
    default_rate_hz=10,
    decoder_factory=WitMotionDecoder,
    start_commands=start_commands,
    battery_commands=battery_commands,
    write_uuids=(WT_WRITE_UUID,),
)
