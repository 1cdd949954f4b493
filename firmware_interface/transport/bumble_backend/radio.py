"""A virtual BLE radio: bumble controllers on one in-process link.

Every device on a ``VirtualRadio`` is a complete bumble host stack (``Device`` + ``Host``) over its
own ``Controller``; the controllers talk over one ``LocalLink``. The host computer's adapter is one
more device (the central) that the bleak backend in this package drives; emulated sensors are
peripherals added with ``add_device``. Only the radio is virtual: advertising, connection, ATT,
GATT discovery, CCCD writes and notifications all run through bumble for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import socket
from typing import Any

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason
from bumble.controller import Controller
from bumble.device import Device
from bumble import core, hci
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink, StreamPacketSink, StreamPacketSource

logger = logging.getLogger(__name__)


class AdapterState(enum.Enum):
    """What the host's (virtual) adapter looks like to the central: lets tests reach every
    'Bluetooth unavailable' branch that real hardware produces."""

    ON = "on"
    POWERED_OFF = "powered off"
    MISSING = "missing"
    DENIED = "denied"


_UNAVAILABLE_REASONS = {
    AdapterState.POWERED_OFF: BleakBluetoothNotAvailableReason.POWERED_OFF,
    AdapterState.MISSING: BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
    AdapterState.DENIED: BleakBluetoothNotAvailableReason.DENIED_BY_USER,
}


def random_static_address(rng: random.Random) -> Address:
    """A random static LE address (two top bits set); fresh per peripheral, as bleak's own bumble
    tests do, so nothing is cached across devices."""
    octets = [rng.randrange(256) for _ in range(6)]
    octets[0] |= 0xC0
    return Address(":".join(f"{o:02X}" for o in octets), Address.RANDOM_DEVICE_ADDRESS)


class _VirtualController(Controller):
    """bumble's controller, with LE Create Connection Cancel done as the spec says.

    bumble 0.0.236 answers the cancel but keeps the connection pending and never sends the
    final LE Connection Complete event, so a host's timed-out connect hangs (and every later
    connect is refused). A real controller clears the request and reports the completion with
    status Unknown Connection Identifier (Core spec Vol 4, Part E, 7.8.13).
    """

    def on_hci_le_create_connection_cancel_command(self, command):
        pending, self.pending_le_connection = self.pending_le_connection, None
        if pending is not None:
            # After the command's own Command Complete, which the caller sends on return.
            asyncio.get_running_loop().call_soon(self.send_hci_packet, hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, connection_handle=0,
                role=hci.Role.CENTRAL, peer_address_type=pending.peer_address_type,
                peer_address=pending.peer_address, connection_interval=0, peripheral_latency=0,
                supervision_timeout=0, central_clock_accuracy=0))
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


class _SharedScanning:
    """Reference-counted scanning on the central, so several scanners can overlap."""

    _central: Device | None
    _scanners: int

    async def central(self) -> Device: ...

    async def start_scanning(self) -> Device:
        central = await self.central()
        self._scanners += 1
        if self._scanners == 1:
            await central.start_scanning(filter_duplicates=False)
        return central

    async def stop_scanning(self) -> None:
        if self._scanners == 0 or self._central is None:
            return
        self._scanners -= 1
        if self._scanners == 0 and self._central.scanning:
            await self._central.stop_scanning()



class HciStreamRadio(_SharedScanning):
    """The host adapter of a virtual radio that runs in another process (``emulated.process``):
    the central's bumble host here, its controller there, HCI packets over a connected stream
    socket. Offers the central-side interface of ``VirtualRadio`` that the bleak backend uses."""

    def __init__(self, hci_socket: socket.socket) -> None:
        self.adapter_state = AdapterState.ON
        self.connect_lock = asyncio.Lock()
        self._socket = hci_socket
        self._central: Device | None = None
        self._central_ready = asyncio.Lock()
        self._scanners = 0
        self._transport: asyncio.Transport | None = None

    async def central(self) -> Device:
        async with self._central_ready:
            if self._central is None:
                loop = asyncio.get_running_loop()
                self._transport, source = await loop.create_connection(StreamPacketSource, sock=self._socket)
                central = Device(name="tiltwatch-host", address=Address("F0:F1:F2:F3:F4:F5"),
                                 host=Host(source, StreamPacketSink(self._transport)))
                await central.power_on()
                self._central = central
        return self._central

    async def close(self) -> None:
        if self._central is not None:
            with contextlib.suppress(core.BaseBumbleError, asyncio.TimeoutError, OSError):
                await asyncio.wait_for(self._central.power_off(), 1.0)
        if self._transport is not None:
            self._transport.close()
        else:
            self._socket.close()
        self._central = None
        self._scanners = 0


class VirtualRadio(_SharedScanning):
    """One ``LocalLink`` plus the host adapter (a central ``Device``, powered on lazily).

    Must be created and used inside a running event loop (bumble controllers need one).
    """

    def __init__(self, *, adapter_state: AdapterState = AdapterState.ON, seed: int | None = None) -> None:
        self.link = LocalLink()
        self.adapter_state = adapter_state
        self._rng = random.Random(seed)
        self._central: Device | None = None
        self._central_ready = asyncio.Lock()
        self.connect_lock = asyncio.Lock()
        """bumble allows one pending LE connection per device: connects are serialised here."""
        self._scanners = 0
        self._devices: list[Device] = []

    def add_device(self, name: str, address: Address | None = None) -> Device:
        """A new (unpowered) bumble device on the link; the caller powers it on."""
        address = address or random_static_address(self._rng)
        controller = _VirtualController(name, link=self.link)
        device = Device(name=name, address=address,
                        host=Host(controller, AsyncPipeSink(controller)))
        self._devices.append(device)
        return device

    def add_remote_host_controller(self, host_source: Any, host_sink: Any) -> Controller:
        """A controller on the link whose host runs in another process, over an HCI byte stream
        (``host_source`` parses what the host sends, ``host_sink`` carries the replies)."""
        return _VirtualController("tiltwatch-host", host_source=host_source, host_sink=host_sink, link=self.link)

    async def remove_device(self, device: Device) -> None:
        """Take a device off the air (its connections drop, it stops advertising)."""
        for connection in list(device.connections.values()):
            try:
                await asyncio.wait_for(connection.disconnect(), 1.0)
            except (core.BaseBumbleError, asyncio.TimeoutError):
                logger.debug("disconnect during removal failed; powering off anyway", exc_info=True)
        if device.powered_on:
            await device.power_off()
        controller = device.host.controller
        if controller in self.link.controllers:
            self.link.remove_controller(controller)
        if device in self._devices:
            self._devices.remove(device)

    async def central(self) -> Device:
        """The host adapter, powered on; raises bleak's own 'not available' error when the
        adapter state says so, exactly where a real backend would."""
        if self.adapter_state is not AdapterState.ON:
            raise BleakBluetoothNotAvailableError(
                f"virtual adapter is {self.adapter_state.value}", _UNAVAILABLE_REASONS[self.adapter_state])
        async with self._central_ready:
            if self._central is None:
                central = self._new_central()
                await central.power_on()
                self._central = central
        return self._central

    def _new_central(self) -> Device:
        return self.add_device("tiltwatch-host")

    async def close(self) -> None:
        """Power everything off and leave the link empty."""
        for device in list(self._devices):
            await self.remove_device(device)
        self._central = None
        self._scanners = 0
