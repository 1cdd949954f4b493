"""``BumbleBleakScanner``: a bleak scanner backend that listens on a ``VirtualRadio``.

Selected explicitly: ``BleakScanner(backend=BumbleBleakScanner, radio=radio)``. Devices it reports
carry the radio in ``BLEDevice.details``, so ``BleakClient(device, backend=BumbleBleakClient)``
needs nothing more.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakError
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Device

from firmware_interface.transport.bumble_backend.client import BumbleDeviceDetails, bleak_uuid
from firmware_interface.transport.bumble_backend.radio import VirtualRadio

logger = logging.getLogger(__name__)

_SERVICE_UUID_LISTS = (
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (
    AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
)


def advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """bumble's parsed advertisement as bleak's neutral ``AdvertisementData``."""
    data = advertisement.data
    name = (data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME)
            or data.get(AdvertisingData.Type.SHORTENED_LOCAL_NAME))
    # Active scanning merges advertisement and scan response, which may repeat a UUID.
    service_uuids = list(dict.fromkeys(
        bleak_uuid(u) for kind in _SERVICE_UUID_LISTS for group in data.get_all(kind) for u in group))
    service_data = {bleak_uuid(u): bytes(payload)
                    for kind in _SERVICE_DATA for u, payload in data.get_all(kind)}
    manufacturer_data = {company: bytes(payload)
                         for company, payload in data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA)}
    tx_power = data.get(AdvertisingData.Type.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name, manufacturer_data=manufacturer_data, service_data=service_data,
        service_uuids=service_uuids, tx_power=tx_power, rssi=advertisement.rssi,
        platform_data=(advertisement,))


class BumbleBleakScanner(BaseBleakScanner):
    def __init__(self, detection_callback: AdvertisementDataCallback | None, service_uuids: list[str] | None,
                 scanning_mode: Literal["active", "passive"] = "active", *, radio: VirtualRadio | None = None,
                 **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        if radio is None:
            raise BleakError("the bumble backend needs radio=VirtualRadio(...)")
        self._radio = radio
        self._central: Device | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        central = await self._radio.start_scanning()
        central.on(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._central = central

    async def stop(self) -> None:
        if self._central is None:
            return
        self._central.remove_listener(self._central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._central = None
        await self._radio.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = advertisement.address
        device = self.create_or_update_device(
            str(address), str(address), adv.local_name, BumbleDeviceDetails(self._radio, address), adv)
        self.call_detection_callbacks(device, adv)
