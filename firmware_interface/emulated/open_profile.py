"""Emulated DIY sensor speaking the tiltwatch open profile (docs/firmware-profile.md): Config is
written, applied and notified back; Control starts and stops; Data carries a sequence number that
start resets and a µs timestamp, several samples per notification."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.emulated.peripheral import (CharacteristicLayout, Notification, Properties,
                                                    SensorState, ServiceLayout)
from firmware_interface.profiles import open_profile as op
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
SAMPLES_PER_NOTIFICATION = 4
"""What an nRF52 with a 247-byte MTU would send at 100–200 Hz to fit a 15–30 ms interval."""


@dataclass
class OpenProfileModel:
    local_name: str = "tiltwatch-imu"
    profile: DeviceProfile = op.PROFILE
    services: tuple[ServiceLayout, ...] = (
        ServiceLayout(op.OP_SERVICE_UUID, (
            CharacteristicLayout(op.OP_DATA_UUID, Properties.NOTIFY),
            CharacteristicLayout(op.OP_CONFIG_UUID, Properties.READ | Properties.WRITE | Properties.NOTIFY),
            CharacteristicLayout(op.OP_CONTROL_UUID, Properties.WRITE),
        )),
        ServiceLayout(BATTERY_SERVICE_UUID, (
            CharacteristicLayout(op.OP_BATTERY_LEVEL_UUID, Properties.READ | Properties.NOTIFY),
        )),
    )
    advertised_uuids: tuple[str, ...] = (op.OP_SERVICE_UUID,)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    starts_on_subscribe: bool = False
    config: op.OpenConfig = op.OP_DEFAULT_CONFIG
    sequence: int = 0

    def samples_per_group(self, rate_hz: float) -> int:
        return SAMPLES_PER_NOTIFICATION

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        values = op.encode_samples(t_s, acc, gyr, SAMPLES_PER_NOTIFICATION, self.sequence, self.config)
        self.sequence += len(t_s)
        return [(op.OP_DATA_UUID, value) for value in values]

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
        command = op.parse_command(characteristic_uuid, data)
        if command is not None and command.kind == "rate":
            self.config = op.parse_config(data)
        elif command is not None and command.kind == "start":
            self.sequence = 0
        return command

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        if command.kind == "rate":
            return [(op.OP_CONFIG_UUID, op.encode_config(self.config))]
        return []

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        if characteristic_uuid == op.OP_CONFIG_UUID:
            return op.encode_config(self.config)
        if characteristic_uuid == op.OP_BATTERY_LEVEL_UUID:
            return bytes([state.battery_pct])
        return b""
