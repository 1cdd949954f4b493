"""Finding sensors: the only module that calls ``BleakScanner``.

``scan`` lists what advertises nearby with the profile each advertisement matches;
``find_sensor`` picks the one device a ``live``/``record`` session should connect to.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from firmware_interface.errors import SensorNotFoundError, UnsupportedSensorError, UsageError
from firmware_interface.profiles import PROFILES, DeviceProfile, match_advertisement
from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport._errors import adapter_errors

SUPPORTED = ", ".join(PROFILES)


@dataclass(frozen=True)
class FoundSensor:
    name: str | None
    address: str
    rssi: int
    profile: DeviceProfile | None
    """The profile its advertisement matches; ``None`` for devices tiltwatch cannot use."""
    device: BLEDevice
    """What ``BleakClient`` connects to (carries the backend's handle)."""

    @classmethod
    def from_advertisement(cls, device: BLEDevice, adv: AdvertisementData) -> FoundSensor:
        profile = match_advertisement(adv.local_name or device.name, adv.service_uuids,
                                      tuple(adv.manufacturer_data))
        return cls(adv.local_name or device.name, device.address, adv.rssi, profile, device)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "rssi": self.rssi,
                "profile": self.profile.key if self.profile else None,
                "device": self.profile.display_name if self.profile else None}

    def to_text(self) -> str:
        kind = f"{self.profile.key:<10} {self.profile.display_name}" if self.profile else "unsupported"
        return f"{self.address}  {self.rssi:>4} dBm  {self.name or '(no name)':<20} {kind}"


async def scan(seconds: float, backend: BleBackend = BleBackend(), *,
               include_unsupported: bool = False) -> list[FoundSensor]:
    """Everything heard within ``seconds``, strongest signal first (supported sensors only unless
    ``include_unsupported``). Raises ``BluetoothUnavailableError`` when the adapter is missing,
    off or forbidden."""
    with adapter_errors():
        heard = await BleakScanner.discover(timeout=seconds, return_adv=True, **backend.scanner_kwargs())
    found = [FoundSensor.from_advertisement(device, adv) for device, adv in heard.values()]
    if not include_unsupported:
        found = [sensor for sensor in found if sensor.profile is not None]
    return sorted(found, key=lambda sensor: (-sensor.rssi, sensor.address))


async def find_sensor(*, address: str | None = None, name_pattern: str | None = None,
                      profile: DeviceProfile | None = None, seconds: float = 10.0,
                      backend: BleBackend = BleBackend()) -> FoundSensor:
    """The device to connect to: by address, by name (a regular expression, case-insensitive),
    or the first one advertising ``profile`` (any supported profile if ``None``).

    A device found by address or name that matches no profile raises ``UnsupportedSensorError``
    unless ``profile`` forces one; nothing found raises ``SensorNotFoundError``.
    """
    if address is not None:
        identifier = address

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            return device.address.lower() == address.lower()
    elif name_pattern is not None:
        identifier = name_pattern
        try:
            pattern = re.compile(name_pattern, re.IGNORECASE)
        except re.error as error:
            raise UsageError(f"--name {name_pattern!r} is not a valid pattern ({error})") from None

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            name = adv.local_name or device.name
            return bool(name) and pattern.search(name) is not None
    else:
        identifier = profile.display_name if profile else f"any supported sensor ({SUPPORTED})"

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            sensor = FoundSensor.from_advertisement(device, adv)
            return sensor.profile is not None and (profile is None or sensor.profile.key == profile.key)

    match: asyncio.Future[FoundSensor] = asyncio.get_running_loop().create_future()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        if not match.done() and wanted(device, adv):
            match.set_result(FoundSensor.from_advertisement(device, adv))

    with adapter_errors():
        async with BleakScanner(on_advertisement, **backend.scanner_kwargs()):
            try:
                found = await asyncio.wait_for(match, seconds)
            except asyncio.TimeoutError:
                raise SensorNotFoundError(identifier, seconds) from None
    if found.profile is None and profile is None:
        raise UnsupportedSensorError(found.name or "", found.address, SUPPORTED)
    return found
