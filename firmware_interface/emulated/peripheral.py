"""``EmulatedSensor``: a real GATT peripheral on a ``VirtualRadio`` that behaves like one device.

What differs between devices lives in a ``DeviceModel`` (one module per profile in this package):
GATT layout, advertised name, how samples become notifications (batching), and what a command
write or a read answers. The rest is shared here: the bumble device, advertising, subscriptions,
pacing samples from the motion simulator at the configured rate by the event loop's clock, and
the faults of a ``FaultSpec``.

Sample clock: the device samples continuously from power-on; sample ``k`` of the current rate
belongs to device time ``k / rate``. While it is not streaming (not started, unsubscribed,
disconnected, stalled) samples are produced and never sent, as on real hardware with no buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
from bumble import att, gatt, hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection

from firmware_interface.emulated.faults import DISCONNECT_DOWN_S, STALL_S, FaultSpec
from firmware_interface.profiles._base import DeviceCommand, DeviceProfile
from firmware_interface.samples import SampleBatch
from firmware_interface.simulator import SCENARIOS, ImuImperfections, simulate

if TYPE_CHECKING:  # the radio imports nothing from here; keep the packages' import order free
    from firmware_interface.transport.bumble_backend.radio import VirtualRadio

logger = logging.getLogger(__name__)

Properties = gatt.Characteristic.Properties

MIN_SIMULATION_RATE_HZ = 10.0
"""The simulator's lowest rate; slower device rates take every k-th sample of a faster session."""
MALFORMED_NOTIFICATION = bytes(7)
"""What a corrupted notification looks like: too short for every profile's frame and starting
with no profile's header byte, so each decoder can tell it is broken."""
IMPERFECTIONS = dataclasses.replace(ImuImperfections.typical(), loss_fraction=0.0, burst_prob=0.0,
                                    timestamp_jitter_s=0.0, duplicate_timestamp_prob=0.0)
"""A realistic sensor on a perfect link: link losses come only from the ``FaultSpec``."""


@functools.lru_cache(maxsize=8)
def simulated_batch(scenario: str, seed: int, sample_rate_hz: float) -> SampleBatch:
    """The simulator's samples for one session (memoised: a pure function of its arguments, and
    tests start many sensors with the same seed)."""
    return simulate(scenario, sample_rate_hz=sample_rate_hz, seed=seed, imperfections=IMPERFECTIONS).batch


@dataclass(frozen=True)
class CharacteristicLayout:
    uuid: str
    properties: Properties


@dataclass(frozen=True)
class ServiceLayout:
    uuid: str
    characteristics: tuple[CharacteristicLayout, ...]


@dataclass
class SensorState:
    """What a device remembers between commands (across reconnects, as a saved setting would)."""

    rate_hz: float
    battery_pct: int
    streaming: bool = False


Notification = tuple[str, bytes]
"""(characteristic UUID, value)."""


class DeviceModel(Protocol):
    """One device's behaviour; implemented per profile in this package."""

    profile: DeviceProfile
    local_name: str
    services: tuple[ServiceLayout, ...]
    advertised_uuids: tuple[str, ...]
    manufacturer_data: dict[int, bytes]
    starts_on_subscribe: bool
    """True when subscribing starts the stream (WitMotion, Thingy), False when a command does."""

    def samples_per_group(self, rate_hz: float) -> int:
        """Samples sent together (one notification, or MetaWear's acc + gyro pair)."""
        ...

    def encode(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> list[Notification]:
        """Notifications for whole groups of samples, in sending order."""
        ...

    def parse_command(self, characteristic_uuid: str, data: bytes) -> DeviceCommand | None: ...

    def reply(self, command: DeviceCommand, state: SensorState) -> list[Notification]:
        """Notifications the device sends in answer to a command (register reads, battery)."""
        ...

    def read(self, characteristic_uuid: str, state: SensorState) -> bytes:
        """The value of a readable characteristic."""
        ...


@dataclass
class EmulatorStats:
    notifications: int = 0
    samples_sent: int = 0
    dropped: int = 0
    malformed: int = 0
    disconnects: int = 0
    stalls: int = 0
    sent_per_connection: list[int] = field(default_factory=list)
    """Samples sent on each connection, in order (what a host that lost none would record)."""
    commands: list[DeviceCommand] = field(default_factory=list)


class EmulatedSensor:
    """A bumble peripheral that advertises, serves the model's GATT layout, obeys its commands and
    streams simulator samples. ``start()`` puts it on the air; ``stop()`` takes it off."""

    def __init__(self, model: DeviceModel, radio: VirtualRadio, *, scenario: str = "squat", seed: int = 0,
                 faults: FaultSpec = FaultSpec(), connection_interval_s: float = 0.015,
                 battery_pct: int = 87) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        self.model = model
        self.faults = faults
        self.stats = EmulatorStats()
        self.state = SensorState(rate_hz=float(model.profile.default_rate_hz), battery_pct=battery_pct)
        self._radio = radio
        self._scenario = scenario
        self._seed = seed
        self._connection_interval_s = connection_interval_s
        self._rng = random.Random(seed)
        self._device = radio.add_device(model.local_name)
        self._characteristics: dict[str, gatt.Characteristic] = {}
        self._sessions: dict[float, tuple[SampleBatch, int]] = {}
        self._simulating: set[float] = set()
        self._powered_at = 0.0
        self._next_index = 0
        self._down_until = -math.inf
        self._stalled_until = -math.inf
        self._first_stream_at: float | None = None
        self._tasks: set[asyncio.Task] = set()
        self._stopping = asyncio.Event()
        self._build_gatt()

    @property
    def address(self) -> str:
        return str(self._device.random_address)

    @property
    def connected(self) -> bool:
        return bool(self._device.connections)

    # -- setup ---------------------------------------------------------------------------------

    def _build_gatt(self) -> None:
        services = []
        for service in self.model.services:
            characteristics = []
            for layout in service.characteristics:
                value = gatt.CharacteristicValue(
                    read=lambda connection, uuid=layout.uuid: self.model.read(uuid, self.state),
                    write=lambda connection, data, uuid=layout.uuid: self._on_write(uuid, bytes(data)))
                permissions = gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE
                characteristic = gatt.Characteristic(layout.uuid, layout.properties, permissions, value)
                if layout.properties & Properties.NOTIFY:
                    characteristic.on(characteristic.EVENT_SUBSCRIPTION,
                                      lambda bearer, notify, indicate: self._on_subscription(notify))
                self._characteristics[layout.uuid] = characteristic
                characteristics.append(characteristic)
            services.append(gatt.Service(service.uuid, characteristics))
        self._device.add_services(services)
        advertised = [(AdvertisingData.FLAGS, bytes([0x06])),
                      (AdvertisingData.COMPLETE_LOCAL_NAME, self.model.local_name.encode())]
        if self.model.advertised_uuids:
            advertised.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                               b"".join(UUID(u).to_bytes() for u in self.model.advertised_uuids)))
        for company, payload in self.model.manufacturer_data.items():
            advertised.append((AdvertisingData.MANUFACTURER_SPECIFIC_DATA, company.to_bytes(2, "little") + payload))
        self._device.advertising_data = bytes(AdvertisingData(advertised))
        self._device.on(self._device.EVENT_CONNECTION, self._on_connection)

    async def start(self) -> None:
        await self._simulate(self.state.rate_hz)
        await self._device.power_on()
        self._powered_at = self._now()
        await self._advertise()
        self._spawn(self._stream())
        self._spawn(self._run_faults())

    async def stop(self) -> None:
        # Tasks end themselves at their next wait: cancelling one in the middle of an HCI command
        # leaves bumble's host with a cancelled pending response.
        self._stopping.set()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        await self._radio.remove_device(self._device)

    async def _pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when the sensor is stopping."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max(0.0, seconds))
        return not self._stopping.is_set()

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("emulated %s: task failed", self.model.local_name, exc_info=task.exception())

    async def _advertise(self) -> None:
        await self._device.start_advertising(advertising_interval_min=20, advertising_interval_max=20)

    # -- link events ---------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self.stats.sent_per_connection.append(0)
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self.state.streaming = False
        if not self.connected and not self._stopping.is_set():
            self._spawn(self._advertise_when_back())

    async def _advertise_when_back(self) -> None:
        if await self._pause(self._down_until - self._now()) and not self.connected:
            await self._advertise()

    def _on_subscription(self, notify_enabled: bool) -> None:
        if self.model.starts_on_subscribe:
            self._set_streaming(notify_enabled)

    def _on_write(self, uuid: str, data: bytes) -> None:
        command = self.model.parse_command(uuid, data)
        if command is None:
            raise att.ATT_Error(att.ErrorCode.VALUE_NOT_ALLOWED)
        self.stats.commands.append(command)
        if command.kind == "rate" and command.rate_hz and command.rate_hz > 0:
            self._set_rate(command.rate_hz)
        elif command.kind in ("start", "stop"):
            self._set_streaming(command.kind == "start")
        replies = self.model.reply(command, self.state)
        if replies:
            self._spawn(self._send(replies))

    def _set_rate(self, rate_hz: float) -> None:
        self.state.rate_hz = float(rate_hz)
        if rate_hz not in self._sessions and rate_hz not in self._simulating:
            self._spawn(self._simulate(rate_hz))
        self._next_index = math.floor(self._device_time_s() * rate_hz) + 1

    def stop_streaming(self) -> None:
        """Stop sending, as the device's stop command does (ends a test's stream at a known point)."""
        self._set_streaming(False)

    def _set_streaming(self, streaming: bool) -> None:
        if streaming and not self.state.streaming:
            self._next_index = math.floor(self._device_time_s() * self.state.rate_hz) + 1
            if self._first_stream_at is None:
                self._first_stream_at = self._now()
        self.state.streaming = streaming

    # -- streaming -----------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _device_time_s(self) -> float:
        return self._now() - self._powered_at

    async def _simulate(self, rate_hz: float) -> None:
        """Simulate the session for ``rate_hz`` off the event loop (decimated when below the
        simulator's range): a long session takes long enough to hold up the radio. Until it is
        ready the device produces samples it cannot send, as a sensor still starting up would."""
        self._simulating.add(rate_hz)
        step = max(1, math.ceil(MIN_SIMULATION_RATE_HZ / rate_hz))
        try:
            batch = await asyncio.to_thread(simulated_batch, self._scenario, self._seed, rate_hz * step)
            self._sessions[rate_hz] = (batch, step)
        finally:
            self._simulating.discard(rate_hz)

    def _samples(self, first: int, count: int, rate_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch, step = self._sessions[rate_hz]
        rows = (np.arange(first, first + count) * step) % len(batch)
        return np.arange(first, first + count) / rate_hz, batch.acc[rows], batch.gyr[rows]

    async def _stream(self) -> None:
        while await self._pause(self._connection_interval_s):
            rate_hz = self.state.rate_hz
            group = self.model.samples_per_group(rate_hz)
            due = math.floor(self._device_time_s() * rate_hz) + 1 - self._next_index
            if due < group:
                continue
            count = due - due % group
            first, self._next_index = self._next_index, self._next_index + count
            if (not (self.state.streaming and self.connected) or self._now() < self._stalled_until
                    or rate_hz not in self._sessions):
                continue
            t_s, acc, gyr = self._samples(first, count, rate_hz)
            await self._send(self.model.encode(t_s, acc, gyr, rate_hz), samples=count)

    async def _send(self, notifications: list[Notification], samples: int = 0) -> None:
        sent_all = True
        for uuid, value in notifications:
            if self.faults.loss_pct and self._rng.random() * 100 < self.faults.loss_pct:
                self.stats.dropped += 1
                sent_all = False
                continue
            if self.faults.malformed_pct and self._rng.random() * 100 < self.faults.malformed_pct:
                self.stats.malformed += 1
                value = MALFORMED_NOTIFICATION
                sent_all = False
            await self._device.notify_subscribers(self._characteristics[uuid], value)
            self.stats.notifications += 1
        if sent_all and samples:
            self.stats.samples_sent += samples
            self.stats.sent_per_connection[-1] += samples

    # -- faults --------------------------------------------------------------------------------

    async def _run_faults(self) -> None:
        events = sorted([(t, "disconnect") for t in self.faults.disconnect_at_s]
                        + [(t, "stall") for t in self.faults.stall_at_s])
        if not events:
            return
        while self._first_stream_at is None:
            if not await self._pause(self._connection_interval_s):
                return
        for at_s, kind in events:
            if not await self._pause(self._first_stream_at + at_s - self._now()):
                return
            if kind == "stall":
                self.stats.stalls += 1
                self._stalled_until = self._now() + STALL_S
            else:
                await self._drop_link()

    async def _drop_link(self) -> None:
        """Vanish as a device out of range does: the link times out and nothing advertises for
        ``DISCONNECT_DOWN_S``."""
        self.stats.disconnects += 1
        self._down_until = self._now() + DISCONNECT_DOWN_S
        await self._device.stop_advertising()
        for connection in list(self._device.connections.values()):
            await connection.disconnect(hci.HCI_CONNECTION_TIMEOUT_ERROR)
