"""Which bleak backend the transport drives: the platform's own, or one passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner


@dataclass(frozen=True)
class BleBackend:
    """bleak backend classes plus the keyword arguments they need; ``BleBackend()`` is the
    platform default (BlueZ, CoreBluetooth, WinRT). Never chosen by a global switch."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    """Extra keyword arguments bleak forwards to both backend classes (``radio=`` for bumble)."""
    emulated: bool = False

    @classmethod
    def virtual(cls, radio: Any) -> BleBackend:
        """bleak over bumble's virtual link (``transport.bumble_backend``)."""
        from firmware_interface.transport.bumble_backend import BumbleBleakClient, BumbleBleakScanner

        return cls(BumbleBleakScanner, BumbleBleakClient, {"radio": radio}, emulated=True)

    def scanner_kwargs(self) -> dict[str, Any]:
        return {"backend": self.scanner, **self.options} if self.scanner else dict(self.options)

    def client_kwargs(self) -> dict[str, Any]:
        return {"backend": self.client, **self.options} if self.client else dict(self.options)
