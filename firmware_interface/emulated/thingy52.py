"""Emulated Nordic Thingy:52: the motion configuration sets the rate, subscribing to raw data
starts the stream, one 18-byte sample per notification, battery in the standard Battery Service
(protocols.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.emulated.peripheral import (CharacteristicLayout, Notification, Properties,
                                                    SensorState, ServiceLayout)
from firmware_interface.profiles import thingy52
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
TH_DEVICE_NAME_UUID = "ef680101-9b35-4933-9b10-52ffa9740042"


@dataclass
class Thingy52Model:
    local_name: str = "Thingy"
    profile: DeviceProfile = thingy52.PROFILE
    services: tuple[ServiceLayout, ...] = (
        ServiceLayout(thingy52.TH_CONFIG_SERVICE_UUID, (
            CharacteristicLayout(TH_DEVICE_NAME_UUID, Properties.READ),
        )),
        ServiceLayout(thingy52.TH_MOTION_SERVICE_UUID, (
            CharacteristicLayout(thingy52.TH_MOTION_CONFIG_UUID, Properties.READ | Properties.WRITE),
            CharacteristicLayout(thingy52.TH_RAW_DATA_UUID, Properties.NOTIFY),
        )),
        ServiceLayout(BATTERY_SERVICE_UUID, (
            CharacteristicLayout(thingy52.TH_BATTERY_LEVEL_UUID, Properties.READ | Properties.NOTIFY),
        )),
    )
    advertised_uuids: tuple[str, ...] = (thingy52.TH_CONFIG_SERVICE_UUID,)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    starts_on_subscribe: bool = True

    def samples_per_group(self, rate_hz: float) -> int:
        return 1

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        return [(thingy52.TH_RAW_DATA_UUID, value) for value in thingy52.encode_samples(t_s, acc, gyr)]

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
        return thingy52.parse_command(characteristic_uuid, data)

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        return []

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        if characteristic_uuid == thingy52.TH_MOTION_CONFIG_UUID:
            return thingy52.encode_motion_config(state.rate_hz)
        if characteristic_uuid == thingy52.TH_BATTERY_LEVEL_UUID:
            return bytes([state.battery_pct])
        if characteristic_uuid == TH_DEVICE_NAME_UUID:
            return self.local_name.encode()
        return b""
