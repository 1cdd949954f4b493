"""Opening a source, of any kind, from one frozen description: the only place that does.

``BleSensor`` (a real sensor), ``EmulatedSensor`` (an emulated one over a virtual BLE link, in its
own process), ``Simulation`` (the motion simulator straight in) and ``Replay`` (a recording, a
generic CSV or a phone app's export, re-played or imported) describe a source; ``open_source(description)`` is the async
context manager that yields it open. Each kind imports only what it uses: the real BLE path loads
neither bumble nor the simulator.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import AsyncIterator, Union

from firmware_interface.errors import UsageError
from firmware_interface.recording.units import Units

EMULATED_SCAN_S = 0.5
"""A virtual radio hears every advertisement within a few tens of ms; longer scans add nothing."""


@dataclass(frozen=True)
class BleSensor:
    address: str | None = None
    name_pattern: str | None = None
    profile_key: str | None = None
    rate_hz: float | None = None


@dataclass(frozen=True)
class EmulatedSensor:
    profile_key: str
    rate_hz: float | None = None
    scenario: str = "mixed"
    seed: int | None = None
    """None draws one (kept in the source's ``info.extra``)."""
    faults: str = ""
    """The ``--faults`` spelling, e.g. ``"disconnect@8,loss=2%"``."""


@dataclass(frozen=True)
class Simulation:
    scenario: str
    rate_hz: float = 100.0
    seed: int | None = None
    speed: float | None = 1.0
    """1.0 real time; None as fast as possible."""
    loop: bool = False


@dataclass(frozen=True)
class Replay:
    path: str
    """A recording or generic CSV, or a phyphox / Sensor Logger export (zip, folder, CSV)."""
    speed: float | None = 1.0
    """1.0 real time; None as fast as possible (importing a file)."""
    units: Units = Units()
    """The units of the file's columns (a generic CSV in g, deg/s or ms, say)."""


SourceDescription = Union[BleSensor, EmulatedSensor, Simulation, Replay]


def open_source(description: SourceDescription, *, policy=None) -> contextlib.AbstractAsyncContextManager:
    """``async with open_source(description) as source``: the source, open (connected, or ready
    to stream); closed on exit. ``policy``: a ``transport.LinkPolicy`` for BLE kinds."""
    if isinstance(description, Replay):
        from firmware_interface import sources

        return sources.opened(sources.replay_source(description.path, speed=description.speed,
                                                    units=description.units))
    if isinstance(description, Simulation):
        from firmware_interface import sources

        return sources.opened(sources.simulator_source(
            description.scenario, sample_rate_hz=description.rate_hz, seed=description.seed,
            speed=description.speed, loop=description.loop))
    if isinstance(description, BleSensor):
        from firmware_interface.transport import BleSource, LinkPolicy, SensorTarget

        return BleSource(SensorTarget(description.address, description.name_pattern, description.profile_key),
                         rate_hz=description.rate_hz, policy=policy or LinkPolicy())
    if isinstance(description, EmulatedSensor):
        return _emulated_source(description, policy)
    raise TypeError(f"not a source description: {description!r}")


def _emulated_source(description: EmulatedSensor, policy) -> contextlib.AbstractAsyncContextManager:
    import numpy as np

    from firmware_interface.emulated import FaultSpec, emulated_keys
    from firmware_interface.emulated.process import emulator_process
    from firmware_interface.simulator import SCENARIOS
    from firmware_interface.transport import BleBackend, BleSource, LinkPolicy, SensorTarget

    (key,) = emulated_keys([description.profile_key])
    if description.scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {description.scenario!r}; expected one of {', '.join(SCENARIOS)}")
    faults = FaultSpec.parse(description.faults) if description.faults else FaultSpec()
    seed = description.seed
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] % 2**31)

    @contextlib.asynccontextmanager
    async def environment() -> AsyncIterator[BleBackend]:
        async with emulator_process([key], scenario=description.scenario, seed=seed, faults=faults) as emulator:
            source.emulator_pid = emulator.pid
            yield BleBackend.virtual(emulator.radio)

    extra = {"scenario": description.scenario, "seed": seed} | ({"faults": str(faults)} if faults.any else {})
    source = BleSource(SensorTarget(None, None, key), rate_hz=description.rate_hz, environment=environment,
                       policy=policy or LinkPolicy(), extra_info=extra)
    return source


async def scan_sensors(seconds: float, *, emulate: list[str] | None = None) -> list:
    """Supported sensors heard within ``seconds``, strongest first (``transport.FoundSensor``).
    ``emulate``: scan emulated sensors of these profiles instead (an empty list: all of them)."""
    from firmware_interface.transport import BleBackend, scan

    if emulate is None:
        return await scan(seconds, BleBackend())
    from firmware_interface.emulated import MODELS, emulated_keys
    from firmware_interface.emulated.process import emulator_process

    keys = emulated_keys(emulate or MODELS)
    async with emulator_process(keys, scenario="squat", seed=0) as emulator:
        return await scan(min(seconds, EMULATED_SCAN_S), BleBackend.virtual(emulator.radio))
