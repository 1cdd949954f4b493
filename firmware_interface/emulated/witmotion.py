"""Emulated WitMotion WT901BLECL: streams from the moment notifications are enabled, packs 2–4
frames per notification at 50 Hz and above, answers register reads with ``55 71`` frames on the
data characteristic (protocols.md §1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.emulated.peripheral import (CharacteristicLayout, Notification, Properties,
                                                    SensorState, ServiceLayout)
from firmware_interface.profiles import witmotion
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile

BATTERY_VOLTS_BY_PCT = ((100, 4.00), (90, 3.95), (75, 3.90), (60, 3.85), (50, 3.80), (40, 3.78),
                        (30, 3.75), (20, 3.71), (15, 3.69), (10, 3.60), (5, 3.45), (0, 3.30))
"""A voltage inside each band of the vendor's table (``witmotion.WT_BATTERY_TABLE``)."""


def battery_volts(percent: int) -> float:
    return next(volts for floor_pct, volts in BATTERY_VOLTS_BY_PCT if percent >= floor_pct)


@dataclass
class WitMotionModel:
    local_name: str = "WT901BLE68"
    profile: DeviceProfile = witmotion.PROFILE
    services: tuple[ServiceLayout, ...] = (
        ServiceLayout(witmotion.WT_SERVICE_UUID, (
            CharacteristicLayout(witmotion.WT_NOTIFY_UUID, Properties.NOTIFY),
            CharacteristicLayout(witmotion.WT_WRITE_UUID, Properties.WRITE | Properties.WRITE_WITHOUT_RESPONSE),
        )),
    )
    advertised_uuids: tuple[str, ...] = (witmotion.WT_SERVICE_UUID,)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    starts_on_subscribe: bool = True

    def samples_per_group(self, rate_hz: float) -> int:
        return witmotion.default_frames_per_notification(rate_hz)

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        return [(witmotion.WT_NOTIFY_UUID, value)
                for value in witmotion.encode_samples(t_s, acc, gyr, rate_hz=rate_hz)]

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
        return witmotion.parse_command(characteristic_uuid, data)

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        if command.kind == "battery":
            counts = round(battery_volts(state.battery_pct) / witmotion.WT_BATTERY_VOLTS_PER_COUNT)
            return [(witmotion.WT_NOTIFY_UUID, witmotion.encode_register_reply(witmotion.WT_REG_BATTERY, [counts]))]
        if command.kind == "read_register" and command.register == witmotion.WT_REG_RATE:
            code = witmotion.WT_RATE_CODES.get(state.rate_hz, 0)
            return [(witmotion.WT_NOTIFY_UUID, witmotion.encode_register_reply(witmotion.WT_REG_RATE, [code]))]
        if command.kind == "read_register":
            return [(witmotion.WT_NOTIFY_UUID, witmotion.encode_register_reply(command.register, []))]
        return []

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        return b""
