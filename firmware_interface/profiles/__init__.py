"""Device profiles: one module per sensor family, each exposing ``PROFILE`` (see ``_base.py``).

``PROFILES`` maps the CLI key (``wt901``, ``dot``, ``thingy``, ``metamotion``, ``open``) to its
profile; ``match_advertisement`` recognises a scanned device.
"""

from __future__ import annotations

from typing import Iterable

from firmware_interface.profiles import metamotion, movella_dot, open_profile, thingy52, witmotion
from firmware_interface.profiles._base import (DecodeResult, DecodeStats, Decoder, DeviceCommand,
                                               DeviceProfile, GattWrite)

PROFILES: dict[str, DeviceProfile] = {
    module.PROFILE.key: module.PROFILE
    for module in (witmotion, movella_dot, thingy52, metamotion, open_profile)
}


def match_advertisement(name: str | None, service_uuids: Iterable[str] = (),
                        manufacturer_ids: Iterable[int] = ()) -> DeviceProfile | None:
    """The profile an advertisement belongs to: by advertised service or company id first (names
    can be changed by the user), then by local name; ``None`` if no profile recognises it."""
    uuids = tuple(service_uuids)
    company_ids = tuple(manufacturer_ids)
    for profile in PROFILES.values():
        if profile.matches_advertisement(None, uuids, company_ids):
            return profile
    for profile in PROFILES.values():
        if profile.matches_advertisement(name, (), ()):
            return profile
    return None


__all__ = ["PROFILES", "match_advertisement", "DecodeResult", "DecodeStats", "Decoder", "DeviceCommand",
           "DeviceProfile", "GattWrite"]
