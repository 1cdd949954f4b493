"""Emulated sensors on a virtual radio in this process: tests and benchmarks that drive the
peripherals directly (``EmulatedSensor`` objects at hand). ``tiltwatch`` itself runs them in
their own process (``emulated.process``)."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator, Iterable

from firmware_interface.emulated import MODELS, EmulatedSensor, FaultSpec, emulated_keys
from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport.bumble_backend import VirtualRadio


@contextlib.asynccontextmanager
async def emulated_sensors(keys: Iterable[str], *, scenario: str = "squat", seed: int = 0,
                           faults: FaultSpec = FaultSpec()) -> AsyncIterator[tuple[BleBackend, list[EmulatedSensor]]]:
    """Emulated sensors for ``keys`` on a new virtual radio, and the backend that reaches them."""
    keys = emulated_keys(keys)
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
