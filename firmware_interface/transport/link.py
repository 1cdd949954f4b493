"""The BLE link: connect with retries, configure, subscribe, decode, and reconnect when it drops.

``BleSource`` is an async iterable of ``SampleBatch`` with ``info`` and ``health``, like every
other source, so the same pipeline, dashboard and recorder run on it. It is the only module that
calls ``BleakClient``; bleak and OS errors become ``firmware_interface.errors`` here.

Data path: bleak's notification callback only enqueues ``(uuid, bytes, arrival time)``; the
iterator decodes with the profile's decoder and yields. Each connection gets a fresh decoder (a
new link restarts any reassembly), so a link loss is marked here: a ``gap`` marker from the last
sample before the drop to the first one after it, and a ``reconnect`` marker. A link that stays
up but goes quiet is a stall (``stall`` marker, state ``stalled``), not a disconnect; only a stall
longer than ``LinkPolicy.stall_reconnect_s`` is treated as a dead link. When the state changes
without samples (stalled, reconnecting) an empty batch is yielded so consumers see ``health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from dataclasses import dataclass
from typing import AsyncContextManager, AsyncIterator, Callable, Literal

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak_retry_connector import BleakNotFoundError, establish_connection

from firmware_interface.errors import (BluetoothUnavailableError, SensorConnectionError, SensorNotFoundError,
                                       UnsupportedSensorError, UsageError)
from firmware_interface.profiles import PROFILES, DecodeResult, Decoder, DeviceProfile, GattWrite
from firmware_interface.samples import Marker, SampleBatch, SourceInfo, StreamHealth
from firmware_interface.timebase import StreamHealthTracker, gap_marker
from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport._errors import unavailable_reason
from firmware_interface.transport.scanner import FoundSensor, find_sensor

logger = logging.getLogger(__name__)

State = Literal["connecting", "streaming", "stalled", "reconnecting", "ended"]


@dataclass(frozen=True)
class LinkPolicy:
    scan_s: float = 10.0
    """How long to look for the sensor before ``SensorNotFoundError``."""
    connect_timeout_s: float = 10.0
    """Per connection attempt; an attempt pending when the device returns connects at once."""
    connect_attempts: int = 3
    """Attempts for the first connection before giving up (reconnects never give up by default)."""
    retry_delays_s: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    """Backoff between failed attempts; the last value repeats."""
    reconnect_give_up_s: float | None = None
    stall_after_s: float = 1.0
    """Silence on a live link after which it counts as stalled (at least 5 sample periods)."""
    stall_reconnect_s: float = 15.0
    """A stall this long is a dead link: disconnect and reconnect."""
    rescan_s: float = 5.0
    """How long each reconnect attempt looks for the sensor's advertisement before backing off."""
    reply_wait_s: float = 1.0
    """How long to wait for probe replies (MetaWear's chip id) before using default commands."""


@dataclass(frozen=True)
class SensorTarget:
    address: str | None = None
    name_pattern: str | None = None
    profile_key: str | None = None

    def describe(self) -> str:
        return self.address or self.name_pattern or self.profile_key or "any supported sensor"


@dataclass(frozen=True)
class _Notification:
    generation: int
    uuid: str
    data: bytes
    received_at_s: float


@dataclass(frozen=True)
class _LinkLost:
    generation: int


ESTABLISH_ATTEMPTS = 2
"""bleak-retry-connector's attempts within one of tiltwatch's (it retries transient OS errors)."""

RECOMMENDED_RATE_HZ = 100.0
"""What tiltwatch configures unless told otherwise: enough for a butt wink in 0.3 s (biomechanics
notes, "Sample rate"), or the nearest rate the device streams (DOT: 60 Hz)."""


def check_rate(profile: DeviceProfile, rate_hz: float | None) -> float:
    """The rate to configure: the recommended one, or ``rate_hz`` if the device can stream at it."""
    if rate_hz is None:
        return float(profile.nearest_rate(RECOMMENDED_RATE_HZ))
    if not profile.supports_rate(rate_hz):
        rates = ", ".join(f"{rate:g}" for rate in profile.rates_hz)
        raise UsageError(f"{profile.display_name} cannot stream at {rate_hz:g} Hz over BLE; "
                         f"choose one of {rates} Hz")
    return float(rate_hz)


class BleSource:
    """A BLE sensor as a source. Use ``async with`` (or ``open()`` / ``aclose()``)."""

    def __init__(self, target: SensorTarget, *, rate_hz: float | None = None,
                 environment: Callable[[], AsyncContextManager[BleBackend]] | None = None,
                 policy: LinkPolicy = LinkPolicy(), extra_info: dict | None = None) -> None:
        if target.profile_key is not None and target.profile_key not in PROFILES:
            raise UsageError(f"unknown profile {target.profile_key!r}; expected one of {', '.join(PROFILES)}")
        self._forced_profile = PROFILES.get(target.profile_key) if target.profile_key else None
        if self._forced_profile is not None:
            check_rate(self._forced_profile, rate_hz)
        self._target = target
        self._requested_rate_hz = rate_hz
        self._environment = environment or (lambda: contextlib.nullcontext(BleBackend()))
        self.policy = policy
        self._extra_info = dict(extra_info or {})
        self._stack = contextlib.AsyncExitStack()
        self._queue: asyncio.Queue[_Notification | _LinkLost] = asyncio.Queue()
        self._state: State = "connecting"
        self._message = f"looking for {target.describe()}"
        self._info: SourceInfo | None = None
        self._found: FoundSensor | None = None
        self._profile: DeviceProfile | None = None
        self._rate_hz = 0.0
        self._backend = BleBackend()
        self._client: BleakClient | None = None
        self._generation = 0
        self._decoder: Decoder | None = None
        self._tracker: StreamHealthTracker | None = None
        self._malformed_before = 0
        self._receiving = False
        self._accept_from_s = 0.0
        self._last_arrival_s = 0.0
        self._last_t: float | None = None
        self._t_offset_s = 0.0
        self._lost_at: float | None = None
        self._attempts = 0
        self._stalled_at: float | None = None
        self._closed = False
        self.decode_cpu_s = 0.0
        """CPU time spent decoding notifications into batches (diagnostics, benchmarks)."""
        self.emulator_pid: int | None = None
        """The emulator process behind an emulated link (CPU accounting in benchmarks)."""
        self.last_notification_at_s: float | None = None
        """Host arrival time (event-loop clock) of the notification behind the latest batch."""

    # -- public surface ------------------------------------------------------------------------

    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            return SourceInfo(device=self._target.describe(), profile=self._target.profile_key or "",
                              sample_rate_hz=float(self._requested_rate_hz or 0.0))
        return self._info

    @property
    def health(self) -> StreamHealth:
        if self._tracker is None:
            return StreamHealth(state=self._state, message=self._message)
        return self._tracker.health(self._state, self._message)

    async def __aenter__(self) -> BleSource:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Find the sensor, connect (with retries), configure the rate and start streaming."""
        try:
            self._backend = await self._stack.enter_async_context(self._environment())
            found = await find_sensor(address=self._target.address, name_pattern=self._target.name_pattern,
                                      profile=self._forced_profile, seconds=self.policy.scan_s,
                                      backend=self._backend)
            profile = self._forced_profile or found.profile
            self._found, self._profile = found, profile
            self._rate_hz = check_rate(profile, self._requested_rate_hz)
            self._tracker = StreamHealthTracker(self._rate_hz)
            self._info = SourceInfo(
                device=profile.display_name + (" (emulated)" if self._backend.emulated else ""),
                profile=profile.key, sample_rate_hz=self._rate_hz, address=found.address,
                extra={"name": found.name or "", "emulated": self._backend.emulated, **self._extra_info})
            self._attempts = await self._connect(first=True)
        except BaseException:
            await self._stack.aclose()
            raise

    def __aiter__(self) -> AsyncIterator[SampleBatch]:
        return self._batches()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        client, self._client = self._client, None
        if client is not None and client.is_connected and self._profile is not None:
            # Best effort: a sensor left streaming drains its battery, but a dead link must not
            # stop the session from ending.
            with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
                async with asyncio.timeout(2.0):
                    await self._write_all(client, self._profile.stop_commands())
            with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
                async with asyncio.timeout(2.0):
                    await client.disconnect()
        await self._stack.aclose()
        self._set_state("ended", f"{self.info.device}: disconnected")

    # -- connecting ----------------------------------------------------------------------------

    def _set_state(self, state: State, message: str) -> None:
        self._state, self._message = state, message

    async def _connect(self, *, first: bool) -> int:
        """Connect and configure, retrying with backoff; returns the number of attempts."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 0
        while True:
            attempt += 1
            try:
                if not first:
                    await self._rescan()
                await self._connect_once()
                self._set_state("streaming", f"{self.info.device}: streaming at {self._rate_hz:g} Hz")
                return attempt
            except (BleakError, asyncio.TimeoutError, OSError) as error:
                reason = unavailable_reason(error)
                if reason is not None:
                    raise BluetoothUnavailableError(reason, str(error)) from error
                logger.info("connection attempt %d to %s failed: %s", attempt, self._found.address, error)
                if first and attempt >= self.policy.connect_attempts:
                    if isinstance(error, (BleakDeviceNotFoundError, BleakNotFoundError)):
                        raise SensorNotFoundError(self._found.address, self.policy.connect_timeout_s) from error
                    raise SensorConnectionError(self._found.name or "", self._found.address,
                                                str(error) or type(error).__name__) from error
                give_up_s = self.policy.reconnect_give_up_s
                if not first and give_up_s is not None and loop.time() - started > give_up_s:
                    raise SensorConnectionError(self._found.name or "", self._found.address,
                                                f"link lost and not back within {give_up_s:g} s") from error
                delays = self.policy.retry_delays_s
                delay = delays[min(attempt - 1, len(delays) - 1)]
                self._set_state("connecting" if first else "reconnecting",
                                f"{'connecting' if first else 'link lost; reconnecting'} in {delay:g} s "
                                f"(attempt {attempt + 1})")
                await asyncio.sleep(delay)

    async def _connect_once(self) -> None:
        self._generation += 1
        generation = self._generation
        self._set_state(self._state, f"connecting to {self._found.name or self._found.address}")
        # bleak-retry-connector knows each OS stack's transient failures (BlueZ's stale
        # connections and "le-connection-abort-by-local", slot exhaustion, service-cache races)
        # and retries those inside one attempt; tiltwatch's own backoff, rescans and gap marking
        # stay around it.
        client = await establish_connection(
            BleakClient, self._found.device, self._found.name or self._found.address,
            disconnected_callback=functools.partial(self._on_disconnected, generation),
            max_attempts=ESTABLISH_ATTEMPTS, ble_device_callback=lambda: self._found.device,
            timeout=self.policy.connect_timeout_s, **self._backend.client_kwargs())
        try:
            self._check_services(client)
            self._decoder = self._profile.decoder_factory(self._rate_hz)
            self._receiving = False
            for uuid in self._profile.notify_uuids:
                await client.start_notify(uuid, functools.partial(self._on_notification, generation))
            await self._configure(client)
        except BaseException:
            with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
                await client.disconnect()
            raise
        self._client = client

    async def _rescan(self) -> None:
        """Find the sensor again before a reconnect: the OS may have forgotten the device object
        from the first scan (BlueZ drops it from its cache), and a device with a private address
        comes back under a new one. By its address first, then as the session first found it
        (its name pattern, or its advertised name)."""
        found, backend, seconds = self._found, self._backend, self.policy.rescan_s
        searches = [{"address": found.address}]
        if self._target.address is None and (self._target.name_pattern or found.name):
            searches.append({"name_pattern": self._target.name_pattern or f"^{re.escape(found.name)}$"})
        for search in searches:
            try:
                again = await find_sensor(**search, profile=self._profile, seconds=seconds / len(searches),
                                          backend=backend)
            except SensorNotFoundError:
                continue
            self._found = again
            return
        raise BleakDeviceNotFoundError(found.address, f"{found.name or found.address} is not advertising")

    def _check_services(self, client: BleakClient) -> None:
        missing = [uuid for uuid in self._profile.notify_uuids if client.services.get_characteristic(uuid) is None]
        if missing:
            raise UnsupportedSensorError(self._found.name or "", self._found.address,
                                         f"{', '.join(PROFILES)} (it lacks the {self._profile.display_name} "
                                         f"data characteristic {missing[0]})")

    async def _configure(self, client: BleakClient) -> None:
        profile = self._profile
        probes = profile.probe_commands()
        variant = None
        if probes and profile.variant_start_commands is not None:
            await self._write_all(client, probes)
            variant = await self._await_variant()
        commands = (profile.variant_start_commands(self._rate_hz, variant) if variant is not None
                    else profile.start_commands(self._rate_hz))
        await self._write_all(client, commands)
        # Data from before the rate took effect (WitMotion streams from subscription at its stored
        # rate) would give the new decoder's clock a false start: decode only what follows.
        self._decoder = profile.decoder_factory(self._rate_hz)
        self._accept_from_s = asyncio.get_running_loop().time()
        if profile.battery_read_uuid is not None:
            battery_pct = profile.parse_battery(bytes(await client.read_gatt_char(profile.battery_read_uuid)))
            if battery_pct is not None:
                self._tracker.battery_pct = battery_pct
        await self._write_all(client, profile.battery_commands())

    async def _await_variant(self) -> str | None:
        """Feed notifications to the decoder until it knows the device variant (or time runs out).
        Samples cannot flow yet (nothing is started), so nothing decoded here is lost."""
        try:
            async with asyncio.timeout(self.policy.reply_wait_s):
                while getattr(self._decoder, "variant", None) is None:
                    item = await self._queue.get()
                    if isinstance(item, _Notification) and item.generation == self._generation:
                        self._emit(self._decoder.feed(item.uuid, item.data, item.received_at_s))
        except TimeoutError:
            logger.info("%s did not say which variant it is; using default commands", self._found.address)
        return getattr(self._decoder, "variant", None)

    @staticmethod
    async def _write_all(client: BleakClient, writes: tuple[GattWrite, ...]) -> None:
        for write in writes:
            await client.write_gatt_char(write.characteristic_uuid, write.data, response=write.with_response)
            if write.delay_after_s:
                await asyncio.sleep(write.delay_after_s)

    # -- bleak callbacks: enqueue only ---------------------------------------------------------

    def _on_notification(self, generation: int, characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        self._queue.put_nowait(_Notification(generation, characteristic.uuid, bytes(data),
                                             asyncio.get_running_loop().time()))

    def _on_disconnected(self, generation: int, client: BleakClient) -> None:
        self._queue.put_nowait(_LinkLost(generation))

    # -- streaming -----------------------------------------------------------------------------

    async def _batches(self) -> AsyncIterator[SampleBatch]:
        loop = asyncio.get_running_loop()
        stall_after_s = max(self.policy.stall_after_s, 5.0 / self._rate_hz)
        try:
            while not self._closed:
                try:
                    # asyncio.timeout, not wait_for: in Python 3.11 a wait_for cancelled while its
                    # inner get completes can leave the cancel hanging (a quit that never ends).
                    async with asyncio.timeout(stall_after_s):
                        item = await self._queue.get()
                except TimeoutError:
                    if not self._receiving or self._client is None:
                        continue
                    if self._stalled_at is None:
                        self._stalled_at = self._last_arrival_s
                        self._set_state("stalled", f"{self.info.device}: connected but no data for "
                                                   f"{stall_after_s:g} s")
                        yield SampleBatch.empty()
                    elif loop.time() - self._stalled_at > self.policy.stall_reconnect_s:
                        client, self._client = self._client, None
                        with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
                            await client.disconnect()
                        self._queue.put_nowait(_LinkLost(self._generation))
                    continue
                if item.generation != self._generation:
                    continue  # from a link that is already gone
                if isinstance(item, _LinkLost):
                    yield await self._relink()
                    continue
                if item.received_at_s < self._accept_from_s:
                    continue
                started_cpu_s = time.thread_time()
                batch = self._emit(self._decoder.feed(item.uuid, item.data, item.received_at_s))
                self.decode_cpu_s += time.thread_time() - started_cpu_s
                if batch is not None:
                    self.last_notification_at_s = item.received_at_s
                if batch is not None and len(batch):
                    # Stall detection starts with the first samples: replies alone are no stream.
                    self._receiving = True
                    self._last_arrival_s = item.received_at_s
                if batch is not None:
                    yield batch
        finally:
            if self._closed:
                self._set_state("ended", f"{self.info.device}: disconnected")

    async def _relink(self) -> SampleBatch:
        """Record the loss, tell consumers, reconnect; the gap is marked with the next samples."""
        loop = asyncio.get_running_loop()
        if self._lost_at is None:
            self._lost_at = loop.time()
        self._client = None
        self._stalled_at = None
        self._malformed_before += self._decoder.stats.malformed
        self._set_state("reconnecting", f"{self.info.device}: link lost; reconnecting")
        self._attempts = await self._connect(first=False)
        return SampleBatch.empty()

    def _emit(self, result: DecodeResult) -> SampleBatch | None:
        """Decoder output -> the batch to yield (times kept increasing across links, link-loss and
        stall markers added); updates health. ``None`` when there is nothing to yield."""
        tracker = self._tracker
        batch = result.batch
        extra: list[Marker] = []
        extra_gaps: tuple[Marker, ...] = ()
        if len(batch):
            if self._lost_at is not None:
                self._t_offset_s = self._continuity_offset(float(batch.t[0]))
            t = batch.t + self._t_offset_s
            first_t = float(t[0])
            now = asyncio.get_running_loop().time()
            if self._lost_at is not None:
                if self._last_t is not None:
                    missing = max(0, round((first_t - self._last_t) * self._rate_hz) - 1)
                    gap = gap_marker(self._last_t, first_t, missing, "link loss")
                    extra.append(gap)
                    extra_gaps = (gap,)
                extra.append(Marker(first_t, "reconnect", data={"down_s": round(now - self._lost_at, 3),
                                                                "attempts": self._attempts}))
                self._lost_at = None
            if self._stalled_at is not None:
                extra.append(Marker(self._last_t if self._last_t is not None else first_t, "stall",
                                    end_s=first_t, data={"silent_s": round(now - self._stalled_at, 3)}))
                self._stalled_at = None
                self._set_state("streaming", f"{self.info.device}: streaming at {self._rate_hz:g} Hz")
            if extra or batch.markers or self._t_offset_s:  # most notifications: the decoder's batch as it is
                markers = tuple(_shifted(m, self._t_offset_s) for m in batch.markers) + tuple(extra)
                batch = SampleBatch(t, batch.acc, batch.gyr, tuple(sorted(markers, key=lambda m: m.t_s)))
            self._last_t = float(t[-1])
        tracker.update(DecodeResult(batch, result.battery_pct, result.gaps + extra_gaps, result.replies))
        tracker.malformed = self._malformed_before + self._decoder.stats.malformed
        if len(batch) == 0 and not batch.markers:
            return None
        return batch

    def _continuity_offset(self, first_t: float) -> float:
        """Keep time increasing when a reconnected device's clock restarted."""
        if self._last_t is None or first_t + self._t_offset_s > self._last_t:
            return self._t_offset_s
        return self._last_t + 1.0 / self._rate_hz - first_t


def _shifted(marker: Marker, offset_s: float) -> Marker:
    if not offset_s:
        return marker
    return Marker(marker.t_s + offset_s, marker.kind, None if marker.end_s is None else marker.end_s + offset_s,
                  marker.text, marker.data)


__all__ = ["BleSource", "LinkPolicy", "SensorTarget", "check_rate"]
