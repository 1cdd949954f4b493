"""Faults an emulated sensor produces on demand: ``--faults "disconnect@8,loss=5%"``.

Grammar (comma-separated, any order, times in seconds since the sensor started streaming):

- ``disconnect@T``: drop the link at T (as a supervision timeout would) and stay silent, not
  advertising, for ``DISCONNECT_DOWN_S``; then advertise again.
- ``stall@T``: keep the link up but send no notifications for ``STALL_S`` (the samples of that
  span are never sent, as with a device whose sensor loop hung).
- ``loss=P%``: drop each notification with probability P/100.
- ``malformed=P%``: replace each notification, with probability P/100, by a corrupted one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from firmware_interface.errors import UsageError

DISCONNECT_DOWN_S = 2.0
STALL_S = 3.0

_EXAMPLE = "e.g. disconnect@8,stall@20,loss=5%,malformed=1%"
_TIMED = re.compile(r"^(disconnect|stall)@(.*)$")
_PERCENT = re.compile(r"^(loss|malformed)=(.*)%$")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _spelling(value: float) -> str:
    """Shortest text that parses back to exactly ``value``."""
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class FaultSpec:
    disconnect_at_s: tuple[float, ...] = ()
    stall_at_s: tuple[float, ...] = ()
    loss_pct: float = 0.0
    malformed_pct: float = 0.0

    @property
    def any(self) -> bool:
        return bool(self.disconnect_at_s or self.stall_at_s or self.loss_pct or self.malformed_pct)

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse the CLI spelling; a bad item raises ``UsageError`` naming it and the expected form."""
        items = [item.strip() for item in spec.split(",")]
        if not spec.strip() or any(not item for item in items):
            raise UsageError(f"--faults {spec!r} has an empty item; expected a comma list, {_EXAMPLE}")
        times: dict[str, list[float]] = {"disconnect": [], "stall": []}
        percents: dict[str, float] = {}
        for item in items:
            if timed := _TIMED.match(item):
                kind, text = timed.groups()
                at_s = _number(text.removesuffix("s"))
                if at_s is None or at_s < 0:
                    raise UsageError(f"bad fault {item!r}: expected {kind}@T with T seconds >= 0, e.g. {kind}@8")
                times[kind].append(at_s)
            elif percent := _PERCENT.match(item):
                kind, text = percent.groups()
                value = _number(text)
                if value is None or not 0 <= value < 100:
                    raise UsageError(f"bad fault {item!r}: expected {kind}=P% with 0 <= P < 100, e.g. {kind}=5%")
                if kind in percents:
                    raise UsageError(f"fault {kind!r} given twice in {spec!r}; give it once")
                percents[kind] = value
            else:
                raise UsageError(f"unknown fault {item!r}; expected disconnect@T, stall@T, loss=P% or "
                                 f"malformed=P%, {_EXAMPLE}")
        return cls(disconnect_at_s=tuple(sorted(times["disconnect"])), stall_at_s=tuple(sorted(times["stall"])),
                   loss_pct=percents.get("loss", 0.0), malformed_pct=percents.get("malformed", 0.0))

    def __str__(self) -> str:
        """The CLI spelling (``FaultSpec.parse(str(spec)) == spec``); empty when there are no faults."""
        items = ([f"disconnect@{_spelling(t)}" for t in self.disconnect_at_s]
                 + [f"stall@{_spelling(t)}" for t in self.stall_at_s])
        if self.loss_pct:
            items.append(f"loss={_spelling(self.loss_pct)}%")
        if self.malformed_pct:
            items.append(f"malformed={_spelling(self.malformed_pct)}%")
        return ",".join(items)
