"""BLE transport: finding sensors and the link to one, over bleak (the platform's backend or
bumble's virtual radio, ``BleBackend``). Importing it loads neither bumble nor the simulator:
opening a source of any kind is ``firmware_interface.source_spec``'s job."""

from firmware_interface.transport._backend import BleBackend
from firmware_interface.transport.link import BleSource, LinkPolicy, SensorTarget
from firmware_interface.transport.scanner import FoundSensor, find_sensor, scan

__all__ = ["BleBackend", "BleSource", "FoundSensor", "LinkPolicy", "SensorTarget", "find_sensor", "scan"]
