"""MbientLab MetaMotionS / MetaMotionRL, MetaWear firmware (protocols.md §4, from the C++ SDK).

Every command and notification is ``[module, register, payload]`` on one write (``326a9001``) and one
notify (``326a9006``) characteristic. Accelerometer (module 0x03) and gyroscope (0x13) stream
separately: one int16 xyz sample per packet, or three in the "packed" registers used above 100 Hz.
Register ids depend on the IMU chip (BMI160 on the RL, BMI270 on the S), read at runtime from the
module-info reply (``03 80 <implementation>``: 1 = BMI160, 4 = BMI270).

There are no device timestamps or counters: the acc and gyro halves of each sample are paired by
order of arrival (``half_pairing.HalfPairing``: either stream may run ahead; lost halves are found
from the lead and from halves that no longer arrive together, and reported missing) and the pairs
are timed by one ``timebase.NominalClock`` (gaps that hit both streams from the arrival deficit; a
busy host that delivers late is no gap). Battery is read with ``11 8c`` (reply: %, mV).

Unconfirmed, and how both readings are tolerated:
- which chip a product carries: the decoder accepts both chips' data registers at once (they are
  told apart by register and length: a gyro ``13 05`` packet is BMI160 data with 8 bytes and BMI270
  packed data with 20); ``start_commands`` default to the BMI270 (MetaMotionS), and the transport
  can send ``probe_commands`` first and use ``variant_start_commands(rate, decoder.variant)``;
- the sustainable BLE rate: packed registers are used above 100 Hz; after a packet lost on one
  stream the pairs are a packet apart until the pairing finds it (a window or two: 0.1–0.2 s).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from firmware_interface.framing import int16_rows, to_int16
from firmware_interface.profiles._base import (DecodeResult, DecodeStats, DeviceCommand, DeviceProfile,
                                               GattWrite)
from firmware_interface.profiles.half_pairing import HalfPairing
from firmware_interface.samples import SampleBatch
from firmware_interface.timebase import NominalClock


MW_SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
MW_COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
MW_NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"
MW_COMPANY_ID = 0x626D  # community-reported
MW_NAME_PATTERN = re.compile(r"^(MetaWear|MetaMotion)", re.IGNORECASE)

MW_ACC, MW_GYRO, MW_SETTINGS = 0x03, 0x13, 0x11
MW_POWER_MODE, MW_INTERRUPT_ENABLE, MW_CONFIG = 0x01, 0x02, 0x03
MW_READ = 0x80  # bit 7 of the register id marks a read; [module, 0x80] reads the module info
MW_BATTERY_REGISTER = 0x0C
MW_CONNECTION_PARAMETERS = 0x09
MW_BATTERY_REPLY = struct.Struct("<BH")  # charge %, voltage mV
MW_CONNECTION_REQUEST = struct.Struct("<HHHH")  # min, max interval (1.25 ms), latency, timeout (10 ms)
MW_HEADER_BYTES = 2
MW_SAMPLE_BYTES = 6
MW_PACKED_SAMPLES = 3

MW_ACC_SCALE = STANDARD_GRAVITY / 2048.0  # m/s² per count at ±16 g
MW_GYR_SCALE = np.pi / 180.0 / 16.4       # rad/s per count at ±2000 deg/s
MW_RATE_CODES = {25: 6, 50: 7, 100: 8, 200: 9}  # Bosch ODR codes, same for acc and gyro
MW_BANDWIDTH_NORMAL = 0x20                      # bwp = 2, bits 4-6
MW_GYRO_RANGE_2000DPS = 0x00
MW_PACKED_ABOVE_HZ = 100
MW_LIVE_RATES_HZ = tuple(MW_RATE_CODES)


@dataclass(frozen=True)
class ChipRegisters:
    """Per-chip register ids and config bits (protocols.md §4.3–4.4)."""

    acc_implementation: int
    acc_data: int
    acc_packed: int
    gyro_data: int
    gyro_packed: int
    acc_range_16g: int
    acc_conf_flags: int
    """BMI270 sets filter_perf (bit 7); the BMI160's bit 7 (undersampling) stays clear."""


MW_CHIPS = {
    "bmi160": ChipRegisters(1, acc_data=0x04, acc_packed=0x1C, gyro_data=0x05, gyro_packed=0x07,
                            acc_range_16g=0x0C, acc_conf_flags=0x00),
    "bmi270": ChipRegisters(4, acc_data=0x04, acc_packed=0x05, gyro_data=0x04, gyro_packed=0x05,
                            acc_range_16g=0x03, acc_conf_flags=0x80),
}
MW_DEFAULT_CHIP = "bmi270"

# (module, register, packet length) -> (stream, samples per packet), both chips at once.
MW_DATA_PACKETS = {
    (module, register, MW_HEADER_BYTES + MW_SAMPLE_BYTES * count): (stream, count)
    for chip in MW_CHIPS.values()
    for module, stream, single, packed in ((MW_ACC, "acc", chip.acc_data, chip.acc_packed),
                                           (MW_GYRO, "gyr", chip.gyro_data, chip.gyro_packed))
    for register, count in ((single, 1), (packed, MW_PACKED_SAMPLES))
}


class MetaMotionDecoder:
    """Notify packets -> merged acc + gyro ``SampleBatch``; battery and module-info replies."""

    REORDER_S = 0.05
    """The furthest one stream runs ahead of the other (as sample time): the halves of a sample go
    out in the same or the next connection event (7.5–15 ms asked), a few packets of one stream
    at most before the other's."""
    LEAD_WINDOW_S = 0.1
    """The pairing's window (lead that never closes, split pairs): twice the longest reordering,
    short enough that pairs a packet apart after a lone lost packet end soon."""

    def __init__(self, rate_hz: float = 100.0, connection_interval_s: float = 0.05) -> None:
        self.stats = DecodeStats()
        self.variant: str | None = None
        """``"bmi160"`` or ``"bmi270"`` once a module-info reply has been seen."""
        max_lead = max(MW_PACKED_SAMPLES, math.ceil(rate_hz * self.REORDER_S))
        window_samples = 2 * max(8, math.ceil(rate_hz * self.LEAD_WINDOW_S))  # both streams
        self._pairing = HalfPairing(rate_hz, max_lead, window_samples)
        # One clock for the pairs, with the busy-host tolerance of every nominal-clocked device: a
        # late burst of both streams is no loss, and the pairing never depends on it.
        self._clock = NominalClock(rate_hz, connection_interval_s)

    @property
    def unpaired_samples(self) -> int:
        """Halves dropped because the other stream never delivered their partner."""
        return self._pairing.unpaired

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        if characteristic_uuid.lower() != MW_NOTIFY_UUID:
            return self._reject("unknown characteristic")
        if len(data) < MW_HEADER_BYTES:
            return self._reject("short packet")
        module, register = data[0], data[1]
        packet = MW_DATA_PACKETS.get((module, register, len(data)))
        if packet is not None:
            stream, count = packet
            scale = MW_ACC_SCALE if stream == "acc" else MW_GYR_SCALE
            self.stats.frames += 1
            pairs = self._pairing.add(stream, int16_rows(data, MW_HEADER_BYTES, count, 3) * scale, received_at_s)
            return self._stamp(pairs, received_at_s)
        if register & MW_READ:
            return self._reply(module, register, bytes(data[MW_HEADER_BYTES:]))
        return self._reject("unknown packet")

    def _reply(self, module: int, register: int, payload: bytes) -> DecodeResult:
        self.stats.frames += 1
        battery_pct = None
        if (module, register) == (MW_SETTINGS, MW_READ | MW_BATTERY_REGISTER) and len(payload) >= 1:
            battery_pct = min(payload[0], 100)
        elif module == MW_ACC and register == MW_READ and payload:
            self.variant = next((name for name, chip in MW_CHIPS.items()
                                 if chip.acc_implementation == payload[0]), self.variant)
        return DecodeResult(SampleBatch.empty(), battery_pct=battery_pct,
                            replies=(((module << 8) | register, payload),))

    def _stamp(self, pairs: list[tuple[np.ndarray, np.ndarray]], received_at_s: float) -> DecodeResult:
        if not pairs:
            return DecodeResult(SampleBatch.empty())
        missing, self._pairing.missing = self._pairing.missing, 0
        t, gap = self._clock.stamp(len(pairs), received_at_s, known_missing=missing)
        gaps = (gap,) if gap else ()
        self.stats.samples += len(pairs)
        acc_rows, gyr_rows = zip(*pairs)
        return DecodeResult(SampleBatch(t, np.array(acc_rows), np.array(gyr_rows), gaps), gaps=gaps)

    def _reject(self, reason: str) -> DecodeResult:
        self.stats.rejected[reason] += 1
        return DecodeResult(SampleBatch.empty())


# --- encoders (emulated peripheral, round-trip tests) ---

def encode_packet(module: int, register: int, values: np.ndarray, scale: float) -> bytes:
    return bytes([module, register]) + to_int16(values, scale).tobytes()


def encode_samples(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, chip: str = MW_DEFAULT_CHIP,
                   packed: bool = False) -> list[bytes]:
    """Separate acc and gyro packets, alternating, one sample each or three when ``packed``."""
    registers = MW_CHIPS[chip]
    per_packet = MW_PACKED_SAMPLES if packed else 1
    acc_register = registers.acc_packed if packed else registers.acc_data
    gyro_register = registers.gyro_packed if packed else registers.gyro_data
    notifications = []
    for start in range(0, len(t_s) - per_packet + 1, per_packet):
        stop = start + per_packet
        notifications.append(encode_packet(MW_ACC, acc_register, acc[start:stop], MW_ACC_SCALE))
        notifications.append(encode_packet(MW_GYRO, gyro_register, gyr[start:stop], MW_GYR_SCALE))
    return notifications


def encode_battery_reply(charge_pct: int, voltage_mv: int) -> bytes:
    return bytes([MW_SETTINGS, MW_READ | MW_BATTERY_REGISTER]) + MW_BATTERY_REPLY.pack(charge_pct, voltage_mv)


def encode_module_info_reply(module: int, implementation: int, revision: int = 0) -> bytes:
    return bytes([module, MW_READ, implementation, revision])


def rate_from_code(code: int) -> float:
    return 25.0 * 2 ** ((code & 0x0F) - MW_RATE_CODES[25])


def parse_command(characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
    """A command packet as an emulator needs it. ``rate`` carries acc/gyro config (``register`` is
    ``module << 8 | 0x03``); ``config`` is a (un)subscribe or interrupt enable, ``value`` 1/0."""
    if characteristic_uuid.lower() != MW_COMMAND_UUID or len(data) < 2:
        return None
    module, register, payload, raw = data[0], data[1], bytes(data[2:]), bytes(data)
    address = (module << 8) | register
    if (module, register) == (MW_SETTINGS, MW_READ | MW_BATTERY_REGISTER):
        return DeviceCommand("battery", register=address, raw=raw)
    if register == MW_READ:
        return DeviceCommand("probe", register=address, raw=raw)
    if module not in (MW_ACC, MW_GYRO) or not payload:
        return DeviceCommand("other", register=address, raw=raw)
    if register == MW_CONFIG and len(payload) == 2:
        return DeviceCommand("rate", rate_hz=rate_from_code(payload[0]), register=address, value=payload[0], raw=raw)
    if register == MW_POWER_MODE:
        return DeviceCommand("start" if payload[0] else "stop", register=address, raw=raw)
    return DeviceCommand("config", register=address, value=payload[0], raw=raw)


def _write(*data: int) -> GattWrite:  # the command characteristic is write-without-response
    return GattWrite(MW_COMMAND_UUID, bytes(data), with_response=False)


def variant_start_commands(rate_hz: float, chip: str) -> tuple[GattWrite, ...]:
    """Ask for a 7.5–15 ms connection interval, then per sensor: configure, subscribe, enable the
    data interrupt, start (the SDK's order)."""
    registers = MW_CHIPS[chip]
    code = MW_RATE_CODES[rate_hz]
    packed = rate_hz > MW_PACKED_ABOVE_HZ
    connection = MW_CONNECTION_REQUEST.pack(6, 12, 0, 600)
    acc_conf = registers.acc_conf_flags | MW_BANDWIDTH_NORMAL | code
    gyro_conf = MW_BANDWIDTH_NORMAL | code
    acc_signal = registers.acc_packed if packed else registers.acc_data
    gyro_signal = registers.gyro_packed if packed else registers.gyro_data
    return (
        _write(MW_SETTINGS, MW_CONNECTION_PARAMETERS, *connection),
        _write(MW_ACC, MW_CONFIG, acc_conf, registers.acc_range_16g),
        _write(MW_ACC, acc_signal, 1),
        _write(MW_ACC, MW_INTERRUPT_ENABLE, 1, 0),
        _write(MW_ACC, MW_POWER_MODE, 1),
        _write(MW_GYRO, MW_CONFIG, gyro_conf, MW_GYRO_RANGE_2000DPS),
        _write(MW_GYRO, gyro_signal, 1),
        _write(MW_GYRO, MW_INTERRUPT_ENABLE, 1, 0),
        _write(MW_GYRO, MW_POWER_MODE, 1),
    )


def start_commands(rate_hz: float) -> tuple[GattWrite, ...]:
    return variant_start_commands(rate_hz, MW_DEFAULT_CHIP)


def stop_commands() -> tuple[GattWrite, ...]:
    """Power both sensors down and disable their data interrupts (the same registers on both chips)."""
    return tuple(write for module in (MW_ACC, MW_GYRO)
                 for write in (_write(module, MW_POWER_MODE, 0), _write(module, MW_INTERRUPT_ENABLE, 0, 1)))


def probe_commands() -> tuple[GattWrite, ...]:
    return (_write(MW_ACC, MW_READ),)


def battery_commands() -> tuple[GattWrite, ...]:
    return (_write(MW_SETTINGS, MW_READ | MW_BATTERY_REGISTER),)


PROFILE = DeviceProfile(
    key="metamotion",
    display_name="MbientLab MetaMotionS / RL",
    name_pattern=MW_NAME_PATTERN,
    service_uuid=MW_SERVICE_UUID,
    notify_uuids=(MW_NOTIFY_UUID,),
    rates_hz=MW_LIVE_RATES_HZ,
    default_rate_hz=100,
    decoder_factory=MetaMotionDecoder,
    start_commands=start_commands,
    stop_commands=stop_commands,
    battery_commands=battery_commands,
    manufacturer_ids=(MW_COMPANY_ID,),
    write_uuids=(MW_COMMAND_UUID,),
    probe_commands=probe_commands,
    variant_start_commands=variant_start_commands,
)
