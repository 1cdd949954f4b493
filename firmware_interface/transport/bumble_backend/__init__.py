"""A bleak backend over bumble's virtual link: emulated sensors are real GATT peripherals."""

from firmware_interface.transport.bumble_backend.client import BumbleBleakClient, BumbleDeviceDetails
from firmware_interface.transport.bumble_backend.radio import AdapterState, VirtualRadio
from firmware_interface.transport.bumble_backend.scanner import BumbleBleakScanner

__all__ = ["AdapterState", "BumbleBleakClient", "BumbleBleakScanner", "BumbleDeviceDetails", "VirtualRadio"]
