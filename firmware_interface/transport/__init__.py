"""BLE transport: finding sensors, the link to one, and a bleak backend over bumble's virtual radio.

``scan_sensors`` and ``open_ble_source`` are what the CLI uses; ``BleSource`` is the source the
pipeline iterates; ``BleBackend`` says which bleak backend runs underneath.
"""

from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport.factory import emulated_sensors, open_ble_source, scan_sensors
from firmware_interface.transport.link import BleSource, LinkPolicy, SensorTarget
from firmware_interface.transport.scanner import FoundSensor, find_sensor, scan

__all__ = ["BleBackend", "BleSource", "FoundSensor", "LinkPolicy", "SensorTarget", "emulated_sensors",
           "find_sensor", "open_ble_source", "scan", "scan_sensors"]
