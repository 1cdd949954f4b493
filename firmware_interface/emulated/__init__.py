"""Emulated sensors: real GATT peripherals on bumble's virtual link, one model per profile."""

from __future__ import annotations

from typing import Callable, Iterable

from firmware_interface.emulated.faults import FaultSpec
from firmware_interface.errors import UsageError
from firmware_interface.emulated.metamotion import MetaMotionModel
from firmware_interface.emulated.movella_dot import MovellaDotModel
from firmware_interface.emulated.open_profile import OpenProfileModel
from firmware_interface.emulated.peripheral import DeviceModel, EmulatedSensor
from firmware_interface.emulated.thingy52 import Thingy52Model
from firmware_interface.emulated.witmotion import WitMotionModel

MODELS: dict[str, Callable[[], DeviceModel]] = {
    "wt901": WitMotionModel,
    "dot": MovellaDotModel,
    "thingy": Thingy52Model,
    "metamotion": MetaMotionModel,
    "open": OpenProfileModel,
}
"""Profile key -> a fresh device model."""



def emulated_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` checked against ``MODELS`` (``UsageError`` naming the first unknown one)."""
    keys = list(keys)
    unknown = [key for key in keys if key not in MODELS]
    if unknown:
        raise UsageError(f"cannot emulate {unknown[0]!r}; expected one of {', '.join(MODELS)}")
    return keys


__all__ = ["MODELS", "DeviceModel", "EmulatedSensor", "FaultSpec", "emulated_keys"]
