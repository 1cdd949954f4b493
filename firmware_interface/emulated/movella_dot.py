"""Emulated Movella DOT: rate set through Device Control, streaming only after the central has
subscribed and written ``01 01 <mode>`` to Control, one zero-padded payload per sample stamped with
the device's µs clock, battery as a readable characteristic (protocols.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.emulated.peripheral import (CharacteristicLayout, Notification, Properties,
                                                    SensorState, ServiceLayout)
from firmware_interface.profiles import movella_dot as dot
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile

READ_WRITE = Properties.READ | Properties.WRITE
DOT_DEVICE_INFO_UUID = "15171001-4947-11e9-8646-d663bd873d93"
DOT_DEVICE_REPORT_UUID = "15171004-4947-11e9-8646-d663bd873d93"
DOT_BATTERY_SERVICE_UUID = "15173000-4947-11e9-8646-d663bd873d93"


@dataclass
class MovellaDotModel:
    local_name: str = "Movella DOT"
    profile: DeviceProfile = dot.PROFILE
    services: tuple[ServiceLayout, ...] = (
        ServiceLayout(dot.DOT_CONFIG_SERVICE_UUID, (
            CharacteristicLayout(DOT_DEVICE_INFO_UUID, Properties.READ),
            CharacteristicLayout(dot.DOT_DEVICE_CONTROL_UUID, READ_WRITE),
            CharacteristicLayout(DOT_DEVICE_REPORT_UUID, Properties.NOTIFY),
        )),
        ServiceLayout(dot.DOT_MEASUREMENT_SERVICE_UUID, (
            CharacteristicLayout(dot.DOT_CONTROL_UUID, READ_WRITE),
            CharacteristicLayout(dot.DOT_LONG_PAYLOAD_UUID, Properties.NOTIFY),
            CharacteristicLayout(dot.DOT_MEDIUM_PAYLOAD_UUID, Properties.NOTIFY),
            CharacteristicLayout(dot.DOT_SHORT_PAYLOAD_UUID, Properties.NOTIFY),
        )),
        ServiceLayout(DOT_BATTERY_SERVICE_UUID, (
            CharacteristicLayout(dot.DOT_BATTERY_UUID, Properties.READ | Properties.NOTIFY),
        )),
    )
    advertised_uuids: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=lambda: {dot.DOT_COMPANY_ID: bytes(6)})
    starts_on_subscribe: bool = False
    payload_mode: int = dot.DOT_DEFAULT_MODE

    def samples_per_group(self, rate_hz: float) -> int:
        return 1

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        uuid = dot.DOT_LAYOUTS[self.payload_mode].characteristic_uuid
        return [(uuid, value) for value in dot.encode_samples(t_s, acc, gyr, mode=self.payload_mode)]

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
        command = dot.parse_command(characteristic_uuid, data)
        if command is not None and command.kind == "start":
            if command.value not in dot.DOT_LAYOUTS:
                return None
            self.payload_mode = command.value
        return command

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        return []

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        if characteristic_uuid == dot.DOT_DEVICE_CONTROL_UUID:
            return dot.encode_device_control(state.rate_hz, visit_index=0, tag=dot.DOT_DEFAULT_TAG)
        if characteristic_uuid == dot.DOT_CONTROL_UUID:
            return dot.encode_control(state.streaming, self.payload_mode)
        if characteristic_uuid == dot.DOT_BATTERY_UUID:
            return dot.encode_battery(state.battery_pct)
        return b""
