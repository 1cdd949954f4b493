"""The bumble backend through bleak's public API, against a trivial GATT peripheral.

Everything below bleak (advertising, connection, ATT, discovery, CCCD writes, notifications,
disconnection) runs through bumble's real host stacks over the virtual link. Every wait is bounded.
"""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import (BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason,
                       BleakDeviceNotFoundError, BleakGATTProtocolError)
from bumble import att, gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Device

from firmware_interface.transport.bumble_backend import (AdapterState, BumbleBleakClient,
                                                         BumbleBleakScanner, VirtualRadio)

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
READ_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
REJECT_UUID = "0000fff1-0000-1000-8000-00805f9b34fb"
NAME = "WT901BLE68"
WAIT_S = 5.0


class TrivialPeripheral:
    """A notify, a write, a read and a write that always fails with an ATT error."""

    def __init__(self, radio: VirtualRadio, name: str = NAME) -> None:
        self.writes: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
        self.device: Device = radio.add_device(name)
        self.notify = gatt.Characteristic(NOTIFY_UUID, gatt.Characteristic.Properties.NOTIFY,
                                          gatt.Characteristic.READABLE, b"")
        write = gatt.Characteristic(
            WRITE_UUID, gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE, gatt.CharacteristicValue(write=self._on_write))
        read = gatt.Characteristic(READ_UUID, gatt.Characteristic.Properties.READ,
                                   gatt.Characteristic.READABLE, bytes([87]))
        reject = gatt.Characteristic(REJECT_UUID, gatt.Characteristic.Properties.WRITE,
                                     gatt.Characteristic.WRITEABLE, gatt.CharacteristicValue(write=self._reject))
        self.device.add_service(gatt.Service(SERVICE_UUID, [self.notify, write, read, reject]))
        self.device.advertising_data = bytes(AdvertisingData([
            (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, UUID(SERVICE_UUID).to_bytes()),
        ]))

    def _on_write(self, connection, value: bytes) -> None:
        self.writes.put_nowait(bytes(value))

    @staticmethod
    def _reject(connection, value: bytes) -> None:
        raise att.ATT_Error(att.ErrorCode.VALUE_NOT_ALLOWED)

    async def start(self) -> None:
        await self.device.power_on()
        await self.device.start_advertising(auto_restart=True, advertising_interval_min=20,
                                            advertising_interval_max=20)

    @property
    def address(self) -> str:
        return str(self.device.random_address)


@pytest.fixture
async def radio():
    radio = VirtualRadio(seed=3)
    yield radio
    await asyncio.wait_for(radio.close(), WAIT_S)


@pytest.fixture
async def peripheral(radio):
    peripheral = TrivialPeripheral(radio)
    await peripheral.start()
    return peripheral


async def test_scan_reports_name_service_and_rssi(radio, peripheral):
    found = await BleakScanner.discover(timeout=0.3, return_adv=True, backend=BumbleBleakScanner, radio=radio)
    device, adv = found[peripheral.address]
    assert device.name == NAME
    assert adv.local_name == NAME
    assert SERVICE_UUID in adv.service_uuids
    assert adv.rssi < 0


async def test_scan_filters_by_service_uuid(radio, peripheral):
    other = TrivialPeripheral(radio, name="Unrelated")
    other.device.advertising_data = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"Unrelated")]))
    await other.start()
    found = await BleakScanner.discover(timeout=0.3, return_adv=True, service_uuids=[SERVICE_UUID],
                                        backend=BumbleBleakScanner, radio=radio)
    assert set(found) == {peripheral.address}


async def test_connect_discovers_the_real_gatt_layout(radio, peripheral):
    device = await BleakScanner.find_device_by_name(NAME, timeout=WAIT_S, backend=BumbleBleakScanner, radio=radio)
    assert device is not None
    async with BleakClient(device, backend=BumbleBleakClient, timeout=WAIT_S) as client:
        assert client.is_connected
        assert client.mtu_size == 247
        service = client.services.get_service(SERVICE_UUID)
        assert {c.uuid for c in service.characteristics} == {NOTIFY_UUID, WRITE_UUID, READ_UUID, REJECT_UUID}
        assert client.services.get_characteristic(NOTIFY_UUID).properties == ["notify"]
        assert set(client.services.get_characteristic(WRITE_UUID).properties) == {"write", "write-without-response"}
        assert client.services.get_characteristic(NOTIFY_UUID).get_descriptor("2902") is not None
    assert not client.is_connected


async def test_read_write_and_att_errors(radio, peripheral):
    async with BleakClient(peripheral.address, backend=BumbleBleakClient, radio=radio, timeout=WAIT_S) as client:
        assert await client.read_gatt_char(READ_UUID) == bytearray([87])
        await client.write_gatt_char(WRITE_UUID, b"\xff\xaa\x03\x09\x00", response=True)
        await client.write_gatt_char(WRITE_UUID, b"\xff\xaa\x00\x00\x00", response=False)
        assert await asyncio.wait_for(peripheral.writes.get(), WAIT_S) == b"\xff\xaa\x03\x09\x00"
        assert await asyncio.wait_for(peripheral.writes.get(), WAIT_S) == b"\xff\xaa\x00\x00\x00"
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(REJECT_UUID, b"\x01", response=True)
        assert caught.value.code == att.ErrorCode.VALUE_NOT_ALLOWED


async def test_notifications_arrive_complete_and_in_order_until_stopped(radio, peripheral):
    received: list[bytes] = []
    async with BleakClient(peripheral.address, backend=BumbleBleakClient, radio=radio, timeout=WAIT_S) as client:
        await client.start_notify(NOTIFY_UUID, lambda _char, data: received.append(bytes(data)))
        payloads = [i.to_bytes(2, "little") * 40 for i in range(500)]  # 80 B: needs the negotiated MTU
        for payload in payloads:
            await peripheral.device.notify_subscribers(peripheral.notify, payload)
        async with asyncio.timeout(WAIT_S):
            while len(received) < len(payloads):
                await asyncio.sleep(0.01)
        assert received == payloads
        await client.stop_notify(NOTIFY_UUID)
        await peripheral.device.notify_subscribers(peripheral.notify, b"late")
        await asyncio.sleep(0.05)
        assert received == payloads


async def test_peripheral_side_disconnect_calls_the_disconnected_callback(radio, peripheral):
    lost = asyncio.get_running_loop().create_future()
    client = BleakClient(peripheral.address, disconnected_callback=lost.set_result,
                         backend=BumbleBleakClient, radio=radio, timeout=WAIT_S)
    await client.connect()
    connection = next(iter(peripheral.device.connections.values()))
    await connection.disconnect()
    assert await asyncio.wait_for(lost, WAIT_S) is client
    assert not client.is_connected
    # The peripheral advertises again (auto_restart): a new client connects.
    async with BleakClient(peripheral.address, backend=BumbleBleakClient, radio=radio, timeout=WAIT_S) as again:
        assert again.is_connected


async def test_connect_to_an_absent_address_raises_device_not_found_and_leaves_the_radio_usable(
        radio, peripheral):
    client = BleakClient("C1:22:33:44:55:66", backend=BumbleBleakClient, radio=radio, timeout=0.3)
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect()
    async with BleakClient(peripheral.address, backend=BumbleBleakClient, radio=radio, timeout=WAIT_S) as client:
        assert client.is_connected


@pytest.mark.parametrize("state, reason", [
    (AdapterState.POWERED_OFF, BleakBluetoothNotAvailableReason.POWERED_OFF),
    (AdapterState.MISSING, BleakBluetoothNotAvailableReason.NO_BLUETOOTH),
    (AdapterState.DENIED, BleakBluetoothNotAvailableReason.DENIED_BY_USER),
])
async def test_unavailable_adapter_raises_bleaks_own_error(state, reason):
    radio = VirtualRadio(adapter_state=state)
    with pytest.raises(BleakBluetoothNotAvailableError) as caught:
        async with BleakScanner(backend=BumbleBleakScanner, radio=radio):
            pass
    assert caught.value.reason is reason


def test_backend_needs_an_explicit_radio():
    from bleak.exc import BleakError
    with pytest.raises(BleakError, match="radio"):
        BleakClient("C1:22:33:44:55:66", backend=BumbleBleakClient)
