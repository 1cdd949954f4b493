"""Emulated MbientLab MetaMotionS (BMI270) or RL (BMI160): commands and data on one write and
one notify characteristic; module-info reads tell the chip; acc and gyro stream as separate
packets, three samples per packet above 100 Hz; battery via ``11 8c`` (protocols.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.emulated.peripheral import (CharacteristicLayout, Notification, Properties,
                                                    SensorState, ServiceLayout)
from firmware_interface.profiles import metamotion as mw
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile

GYRO_IMPLEMENTATIONS = {"bmi160": 0, "bmi270": 1}  # protocols.md §4.2
BATTERY_MV_PER_PCT = 12
BATTERY_EMPTY_MV = 3000


@dataclass
class MetaMotionModel:
    chip: str = mw.MW_DEFAULT_CHIP
    local_name: str = "MetaWear"
    profile: DeviceProfile = mw.PROFILE
    services: tuple[ServiceLayout, ...] = (
        ServiceLayout(mw.MW_SERVICE_UUID, (
            CharacteristicLayout(mw.MW_COMMAND_UUID, Properties.WRITE | Properties.WRITE_WITHOUT_RESPONSE),
            CharacteristicLayout(mw.MW_NOTIFY_UUID, Properties.NOTIFY),
        )),
    )
    advertised_uuids: tuple[str, ...] = (mw.MW_SERVICE_UUID,)
    manufacturer_data: dict[int, bytes] = field(default_factory=lambda: {mw.MW_COMPANY_ID: bytes(2)})
    starts_on_subscribe: bool = False

    def samples_per_group(self, rate_hz: float) -> int:
        return mw.MW_PACKED_SAMPLES if rate_hz > mw.MW_PACKED_ABOVE_HZ else 1

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        packed = rate_hz > mw.MW_PACKED_ABOVE_HZ
        return [(mw.MW_NOTIFY_UUID, value) for value in mw.encode_samples(t_s, acc, gyr, self.chip, packed)]

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None:
        return mw.parse_command(characteristic_uuid, data)

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        module = (command.register or 0) >> 8
        if command.kind == "probe" and module == mw.MW_ACC:
            implementation = mw.MW_CHIPS[self.chip].acc_implementation
        elif command.kind == "probe" and module == mw.MW_GYRO:
            implementation = GYRO_IMPLEMENTATIONS[self.chip]
        elif command.kind == "battery":
            millivolts = BATTERY_EMPTY_MV + BATTERY_MV_PER_PCT * state.battery_pct
            return [(mw.MW_NOTIFY_UUID, mw.encode_battery_reply(state.battery_pct, millivolts))]
        else:
            return []
        return [(mw.MW_NOTIFY_UUID, mw.encode_module_info_reply(module, implementation))]

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        return b""
