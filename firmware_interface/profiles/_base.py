"""What every device profile provides, so the transport and the emulators never branch on a name.

A profile module (``witmotion.py``, ``movella_dot.py``, ...) knows bytes, not Bluetooth: it
defines ``PROFILE = DeviceProfile(...)``, a decoder class and encoders. The transport
(``firmware_interface.transport``) reads ``PROFILE`` fields; the emulators
(``firmware_interface.emulated``) call the encoders.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol

from firmware_interface.samples import Marker, SampleBatch


@dataclass(frozen=True)
class GattWrite:
    """One write the central makes to configure or command the device."""

    characteristic_uuid: str
    data: bytes
    with_response: bool = True
    delay_after_s: float = 0.0
    """Pause before the next write (WitMotion wants ~100 ms between unlock, write and save)."""


@dataclass
class DecodeStats:
    """Counts of what a decoder accepted and rejected, by reason."""

    samples: int = 0
    frames: int = 0
    rejected: Counter = field(default_factory=Counter)
    """reason -> count (``"short frame"``, ``"bad header"``, ``"unknown type"``, ...)."""
    skipped_bytes: int = 0

    @property
    def malformed(self) -> int:
        return sum(self.rejected.values())


@dataclass(frozen=True)
class DecodeResult:
    """What one notification (or a piece of the byte stream) yielded."""

    batch: SampleBatch
    battery_pct: int | None = None
    gaps: tuple[Marker, ...] = ()
    """Gaps detected from sequence numbers or device timestamps within this chunk."""
    replies: tuple[tuple[int, bytes], ...] = ()
    """Register/command replies (register or command id, payload) dispatched, not taken as data."""


class Decoder(Protocol):
    """Stateful only for reassembly and time: ``feed`` never raises on any bytes."""

    stats: DecodeStats

    def feed(self, characteristic_uuid: str, data: bytes, received_at_s: float) -> DecodeResult:
        """Decode one notification. ``received_at_s`` (host monotonic clock) is used only to
        anchor and drift-correct a nominal-rate clock for devices with no timestamp."""
        ...


@dataclass(frozen=True)
class DeviceProfile:
    key: str
    """CLI spelling: ``wt901``, ``dot``, ``thingy``, ``metamotion``, ``open``."""
    display_name: str
    name_pattern: re.Pattern[str]
    """Matches the advertised local name."""
    service_uuid: str
    """Primary service; also used to recognise advertisements that carry it."""
    notify_uuids: tuple[str, ...]
    """Characteristics to subscribe to, in order."""
    rates_hz: tuple[float, ...]
    """Rates the device can stream live (over BLE)."""
    default_rate_hz: float
    """The rate the device streams at before it is configured (its factory setting)."""
    decoder_factory: Callable[[float], Decoder]
    """``decoder_factory(rate_hz)``: a fresh decoder for a stream at that nominal rate."""
    start_commands: Callable[[float], tuple[GattWrite, ...]]
    """Writes that set the rate and start streaming, sent after subscribing."""
    stop_commands: Callable[[], tuple[GattWrite, ...]] = lambda: ()
    battery_commands: Callable[[], tuple[GattWrite, ...]] = lambda: ()
    """Writes whose reply (in the notify stream) carries the battery level, if the device works that way."""
    battery_read_uuid: str | None = None
    """Characteristic to read for the battery level (Battery Service 0x2A19 style), if any."""
    parse_battery: Callable[[bytes], int | None] = lambda data: None
    """Turns what ``battery_read_uuid`` returns into a percentage."""
    device_timestamps: bool = False
    """True when the stream carries device timestamps (otherwise: nominal clock + drift)."""
    sequence_numbers: bool = False
    advertised_uuids: tuple[str, ...] = ()
    """Further service UUIDs that identify the device in an advertisement (Thingy advertises its
    configuration service, not the motion service)."""
    manufacturer_ids: tuple[int, ...] = ()
    """Bluetooth company ids in the advertisement's manufacturer data that identify the device."""
    write_uuids: tuple[str, ...] = ()
    """Characteristics the central writes commands to (emulators serve them as writable)."""
    probe_commands: Callable[[], tuple[GattWrite, ...]] = lambda: ()
    """Optional writes sent after subscribing and before ``start_commands``: their replies, fed to the
    decoder, set ``decoder.variant`` (MetaWear's chip), after which ``variant_start_commands`` applies."""
    variant_start_commands: Callable[[float, str], tuple[GattWrite, ...]] | None = None
    """``variant_start_commands(rate_hz, decoder.variant)``; ``None`` when ``start_commands`` fits all."""

    def supports_rate(self, rate_hz: float) -> bool:
        return any(abs(rate_hz - supported) < 1e-9 for supported in self.rates_hz)

    def nearest_rate(self, rate_hz: float) -> float:
        """The supported live rate closest to ``rate_hz`` (ties go to the higher rate)."""
        return min(self.rates_hz, key=lambda supported: (abs(supported - rate_hz), -supported))

    def matches_advertisement(self, name: str | None, service_uuids: tuple[str, ...] | list[str] = (),
                              manufacturer_ids: tuple[int, ...] | list[int] = ()) -> bool:
        """True when the advertisement carries one of this profile's services or company ids, or
        its local name matches ``name_pattern``."""
        advertised = {uuid.lower() for uuid in service_uuids}
        if advertised & {uuid.lower() for uuid in (self.service_uuid, *self.advertised_uuids)}:
            return True
        if set(manufacturer_ids) & set(self.manufacturer_ids):
            return True
        return bool(name) and self.name_pattern.search(name) is not None


CommandKind = Literal["rate", "start", "stop", "battery", "read_register", "unlock", "save",
                      "config", "probe", "other"]


@dataclass(frozen=True)
class DeviceCommand:
    """A central-to-device write as an emulator understands it (``parse_command`` in each profile)."""

    kind: CommandKind
    rate_hz: float | None = None
    register: int | None = None
    """Register or (MetaWear) ``module << 8 | register`` the command addresses."""
    value: int | None = None
    raw: bytes = b""
