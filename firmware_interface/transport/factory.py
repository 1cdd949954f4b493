"""What the CLI calls: ``scan_sensors`` and ``open_ble_source``, for real and emulated sensors.

With ``emulate``, emulated sensors are started in-process on a fresh ``VirtualRadio`` and reached
through bleak with the bumble backend, so exactly the same scanner and link code runs.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator, Iterable

import numpy as np

from firmware_interface.emulated import MODELS, EmulatedSensor, FaultSpec
from firmware_interface.errors import UsageError
from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport.bumble_backend import VirtualRadio
from firmware_interface.transport.link import BleSource, LinkPolicy, SensorTarget
from firmware_interface.transport.scanner import FoundSensor, scan

EMULATED_SCAN_S = 0.5
"""A virtual radio hears every advertisement within a few tens of ms; longer scans add nothing."""


def _emulated_keys(keys: Iterable[str]) -> list[str]:
    keys = list(keys)
    unknown = [key for key in keys if key not in MODELS]
    if unknown:
        raise UsageError(f"cannot emulate {unknown[0]!r}; expected one of {', '.join(MODELS)}")
    return keys


@contextlib.asynccontextmanager
async def emulated_sensors(keys: Iterable[str], *, scenario: str = "squat", seed: int = 0,
                           faults: FaultSpec = FaultSpec()) -> AsyncIterator[tuple[BleBackend, list[EmulatedSensor]]]:
    """Emulated sensors for ``keys`` on a new virtual radio, and the backend that reaches them."""
    keys = _emulated_keys(keys)
    radio = VirtualRadio(seed=seed)
    sensors = [EmulatedSensor(MODELS[key](), radio, scenario=scenario, seed=seed + i, faults=faults)
               for i, key in enumerate(keys)]
    try:
        for sensor in sensors:
            await sensor.start()
        yield BleBackend.virtual(radio), sensors
    finally:
        for sensor in sensors:
            await sensor.stop()
        await radio.close()


async def scan_sensors(seconds: float, backend: BleBackend | None = None, *,
                       emulate: Iterable[str] | None = None) -> list[FoundSensor]:
    """Supported sensors heard within ``seconds``, strongest first. ``emulate``: scan a virtual
    radio with these emulated profiles instead (an empty list means all of them)."""
    if emulate is None:
        return await scan(seconds, backend or BleBackend())
    async with emulated_sensors(list(emulate) or list(MODELS)) as (virtual, _):
        return await scan(min(seconds, EMULATED_SCAN_S), virtual)


def open_ble_source(address: str | None = None, name_pattern: str | None = None, profile_key: str | None = None,
                    rate_hz: float | None = None, emulate: str | None = None, faults: str | FaultSpec | None = None,
                    *, scenario: str = "squat", seed: int | None = None, backend: BleBackend | None = None,
                    policy: LinkPolicy = LinkPolicy()) -> BleSource:
    """A ``BleSource`` (enter it with ``async with``). ``emulate="wt901"`` starts that emulated
    sensor on a virtual link and finds it by its advertisement, as with real hardware; ``faults``
    (``"disconnect@8,loss=5%"``) applies to emulated sensors only."""
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else (faults or FaultSpec())
    if spec.any and emulate is None:
        raise UsageError("--faults only applies to emulated sensors (--emulate PROFILE)")
    if emulate is None:
        return BleSource(SensorTarget(address, name_pattern, profile_key), rate_hz=rate_hz,
                         environment=lambda: contextlib.nullcontext(backend or BleBackend()), policy=policy)
    _emulated_keys([emulate])
    if profile_key is not None and profile_key != emulate:
        raise UsageError(f"--profile {profile_key} contradicts --emulate {emulate}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] % 2**31)

    @contextlib.asynccontextmanager
    async def environment() -> AsyncIterator[BleBackend]:
        async with emulated_sensors([emulate], scenario=scenario, seed=seed, faults=spec) as (virtual, _):
            yield virtual

    extra = {"scenario": scenario, "seed": seed} | ({"faults": str(spec)} if spec.any else {})
    return BleSource(SensorTarget(address, name_pattern, emulate), rate_hz=rate_hz, environment=environment,
                     policy=policy, extra_info=extra)
