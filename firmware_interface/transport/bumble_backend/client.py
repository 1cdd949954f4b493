"""``BumbleBleakClient``: a bleak client backend that runs over a ``VirtualRadio``.

Selected explicitly, never by a global switch::

    BleakClient(device_or_address, backend=BumbleBleakClient, radio=radio)

(``radio`` may be omitted when ``device`` came from ``BumbleBleakScanner``: it travels in
``BLEDevice.details``.) bleak's facade passes unknown keyword arguments to the backend, which is how
the radio gets here. bumble's exceptions are translated to bleak's at this boundary, so code above
bleak sees the same errors as with a real adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.device import Connection, Peer

from firmware_interface.transport.bumble_backend.radio import VirtualRadio

logger = logging.getLogger(__name__)

PREFERRED_MTU = 247
"""What BlueZ negotiates with WitMotion modules (protocols.md §1.1); big enough for batched frames."""


@dataclass(frozen=True)
class BumbleDeviceDetails:
    """``BLEDevice.details`` for devices seen on a virtual radio."""

    radio: VirtualRadio
    address: hci.Address


def bleak_uuid(bumble_uuid: core.UUID) -> str:
    """bumble keeps UUIDs little-endian and may hold 16-bit forms; bleak wants 128-bit lower case."""
    return str(uuid.UUID(bytes=bytes(reversed(bumble_uuid.to_bytes(force_128=True)))))


def _property_names(properties: int) -> list[Any]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if properties & bit]


@contextlib.contextmanager
def _bleak_errors(what: str) -> Any:
    """Translate bumble failures inside one GATT operation into bleak's exceptions."""
    try:
        yield
    except att.ATT_Error as error:
        raise BleakGATTProtocolError(error.error_code) from error
    except (core.TimeoutError, asyncio.TimeoutError, TimeoutError) as error:
        raise BleakError(f"{what} timed out") from error
    except core.BaseBumbleError as error:
        raise BleakError(f"{what} failed: {error}") from error


class BumbleBleakClient(BaseBleakClient):
    """GATT central over bumble. One instance = one connection attempt/lifetime, as in bleak."""

    def __init__(self, address_or_ble_device: BLEDevice | str, *, radio: VirtualRadio | None = None,
                 disconnected_callback: Callable[[], None] | None = None, timeout: float = 10.0,
                 **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        details = address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        if radio is None and isinstance(details, BumbleDeviceDetails):
            radio = details.radio
        if radio is None:
            raise BleakError("the bumble backend needs radio=VirtualRadio(...) or a BLEDevice it discovered")
        self._radio = radio
        self._device_name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}

    # -- connection ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if pair:
            logger.info("pairing is not emulated on the virtual radio; connecting without it")
        central = await self._radio.central()
        try:
            peer_address = hci.Address.from_string_for_transport(self.address, core.PhysicalTransport.LE)
        except (core.InvalidArgumentError, ValueError) as error:
            raise BleakDeviceNotFoundError(self.address, f"not a Bluetooth address: {self.address!r}") from error
        async with self._radio.connect_lock:
            try:
                connection = await central.connect(peer_address, timeout=self._timeout)
            except (core.TimeoutError, asyncio.TimeoutError, TimeoutError) as error:
                raise BleakDeviceNotFoundError(
                    self.address, f"device {self.address} was not found within {self._timeout:g} s") from error
            except core.BaseBumbleError as error:
                raise BleakError(f"connection to {self.address} failed: {error}") from error
        self._connection = connection
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            with _bleak_errors("service discovery"):
                self._peer = Peer(connection)
                await self._peer.request_mtu(PREFERRED_MTU)
                await self._peer.discover_all()
                self.services = self._service_collection(self._peer)
        except BaseException:
            await self._drop_connection()
            raise

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("link to %s lost (HCI reason 0x%02X)", self.address, reason)
        self._forget_connection()
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    def _forget_connection(self) -> None:
        self._connection = None
        self._peer = None
        self._subscriptions.clear()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        connection.remove_listener(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._forget_connection()
        with contextlib.suppress(core.BaseBumbleError, asyncio.TimeoutError):
            await asyncio.wait_for(connection.disconnect(), self._timeout)

    async def disconnect(self) -> None:
        """Solicited disconnect: the disconnected callback is not called (bleak's contract)."""
        await self._drop_connection()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not emulated on the virtual radio")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not emulated on the virtual radio")

    # -- services -----------------------------------------------------------------------------

    def _service_collection(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service_proxy in peer.services:
            service = BleakGATTService(service_proxy, service_proxy.handle, bleak_uuid(service_proxy.uuid))
            collection.add_service(service)
            for char_proxy in service_proxy.characteristics:
                characteristic = BleakGATTCharacteristic(
                    char_proxy, char_proxy.handle, bleak_uuid(char_proxy.uuid),
                    _property_names(char_proxy.properties),
                    lambda: self.mtu_size - 3, service)  # ATT header: 3 bytes
                collection.add_characteristic(characteristic)
                for descriptor_proxy in char_proxy.descriptors:
                    collection.add_descriptor(BleakGATTDescriptor(
                        descriptor_proxy, descriptor_proxy.handle, bleak_uuid(descriptor_proxy.type),
                        characteristic))
        return collection

    def _require_connection(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    # -- I/O ----------------------------------------------------------------------------------

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False,
                             **kwargs: Any) -> bytearray:
        self._require_connection()
        with _bleak_errors(f"read of {characteristic.uuid}"):
            return bytearray(await characteristic.obj.read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False,
                                   **kwargs: Any) -> bytearray:
        self._require_connection()
        with _bleak_errors(f"read of descriptor {descriptor.handle}"):
            return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer,
                              response: bool) -> None:
        self._require_connection()
        with _bleak_errors(f"write to {characteristic.uuid}"):
            await characteristic.obj.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        self._require_connection()
        with _bleak_errors(f"write to descriptor {descriptor.handle}"):
            await descriptor.obj.write_value(bytes(data), with_response=True)

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        self._require_connection()
        if characteristic.handle in self._subscriptions:
            # Same as bleak on every OS: a second start_notify must not double the callbacks.
            raise BleakError(f"notifications already started on {characteristic.uuid}")

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        with _bleak_errors(f"subscribe to {characteristic.uuid}"):
            await characteristic.obj.subscribe(on_value, prefer_notify=True)
        self._subscriptions[characteristic.handle] = on_value

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require_connection()
        on_value = self._subscriptions.pop(characteristic.handle, None)
        with _bleak_errors(f"unsubscribe from {characteristic.uuid}"):
            await characteristic.obj.unsubscribe(on_value)
