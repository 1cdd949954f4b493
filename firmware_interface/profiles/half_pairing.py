"""Pairing the accelerometer and gyroscope halves of MetaWear samples (protocols.md §4).

A MetaMotion streams acc and gyro as separate packets with no counter or timestamp. Both come from
one chip at one rate and the device sends each as it is sampled, on one characteristic (whose order
the link keeps, however late a busy host reads it), so the k-th acc half belongs with the k-th gyro
half and the two halves of a sample arrive together (the same connection event). Either stream may
run ahead for a while (the halves in either order, a few packets of one before the other's): the
leading stream's halves wait for their partners. A lost packet shows in one of three ways:

- the trailing stream comes back while the other is further ahead than ``max_lead``: it lost the
  partners of all the waiting halves but the newest, as many as waited for its packets before (the
  device's order: sent first or second);
- a lead that never closes: over ``window_samples`` received (both streams together, far longer
  than a reordering), a stream ahead the whole time by at least ``lead`` holds ``lead`` orphans;
- split pairs: with one packet lost from the stream sent first, the other stream goes first from
  then on, a packet ahead; the lead closes after each pair, but its halves now meet partners sampled
  a packet later, which arrive in a later connection event. When the stream that waits in most pairs
  of a window is not the one that did while the halves came together, and most of its pairs had
  their halves more than half a packet's duration apart, it holds a packet too many. (A device that
  merely changed its order still sends both halves of a sample together; a link that never carries
  both halves in one event never tells which stream goes first, and this is not used.)

Orphans are dropped, oldest first, and counted ``missing``; the pairs formed before a loss was found
were a packet (5–15 ms) apart. Before the first pair, the waiting halves older than the other
stream's first packet are the start of a stream that began earlier (MetaWear starts acc before gyro):
dropped, not missing.
"""

from __future__ import annotations

from collections import deque

import numpy as np

STREAMS = ("acc", "gyr")


class HalfPairing:
    """Acc and gyro halves in, (acc, gyro) pairs out; see the module docstring."""

    def __init__(self, rate_hz: float, max_lead: int, window_samples: int) -> None:
        self.rate_hz = rate_hz
        self.max_lead = max_lead
        self.window_samples = window_samples
        self.unpaired = 0
        """Halves dropped without a partner (lost partners and the earlier stream's start)."""
        self.missing = 0
        """Samples lost (unpaired halves after the first pair) not yet reported with a pair."""
        self._pending: dict[str, deque[tuple[np.ndarray, float]]] = {name: deque() for name in STREAMS}
        """Halves waiting for a partner, with their arrival times."""
        self._paired_any = False
        self._packet = {name: 1 for name in STREAMS}
        self._waiting_before: dict[str, int] = {}
        """Per stream: how many of the other's halves waited when its last packet came (the device's
        order: with acc sent first, a gyro packet finds its partners waiting, an acc packet none)."""
        self._to_drop = {name: 0 for name in STREAMS}
        """Orphans found while none of them waited: dropped as they arrive."""
        self._window_received = 0
        self._window_pairs = 0
        self._window_split = {name: 0 for name in STREAMS}
        """Pairs whose halves arrived apart, by the stream that waited."""
        self._window_waited = {name: 0 for name in STREAMS}
        """Pairs by the stream that waited."""
        self._sent_first: str | None = None
        """The stream that waited in most pairs of the last window whose halves mostly came together."""
        self._lead_range = (0, 0)
        """Least and greatest lead (acc waiting − gyro waiting) in this window."""

    def add(self, stream: str, rows: np.ndarray, received_at_s: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Take one packet's halves; returns the (acc, gyro) pairs they complete, oldest first."""
        other = "gyr" if stream == "acc" else "acc"
        mine, theirs = self._pending[stream], self._pending[other]
        self._packet[stream] = len(rows)
        received = len(rows)
        if self._to_drop[stream]:
            dropped = min(self._to_drop[stream], len(rows))
            self._to_drop[stream] -= dropped
            self._count_dropped(dropped, missing=True)
            rows = rows[dropped:]
        if not self._paired_any:
            keep = len(rows)
        elif len(theirs) > self.max_lead:
            keep = self._waiting_before.get(stream, len(rows))
        else:
            keep = len(theirs)
        if len(theirs) > keep:
            self._drop(other, len(theirs) - keep)
        self._waiting_before[stream] = len(theirs)
        mine.extend((row, received_at_s) for row in rows)
        split_s = 0.5 * self._packet[other] / self.rate_hz
        pairs = []
        while mine and theirs:
            (half, _), (partner, waited_since_s) = mine.popleft(), theirs.popleft()
            pairs.append((half, partner) if stream == "acc" else (partner, half))
            self._window_split[other] += received_at_s - waited_since_s > split_s
            self._window_waited[other] += 1
        self._paired_any = self._paired_any or bool(pairs)
        self._window_pairs += len(pairs)
        self._track_window(received)
        return pairs

    def _track_window(self, received: int) -> None:
        lead = len(self._pending["acc"]) - len(self._pending["gyr"])
        least, greatest = self._lead_range
        self._lead_range = (min(least, lead), max(greatest, lead))
        self._window_received += received
        if self._window_received < self.window_samples:
            return
        least, greatest = self._lead_range
        if least > 0:
            self._drop("acc", least)
        elif greatest < 0:
            self._drop("gyr", -greatest)
        elif self._window_pairs:
            self._check_order()
        lead = len(self._pending["acc"]) - len(self._pending["gyr"])
        self._window_received = self._window_pairs = 0
        self._window_split = {name: 0 for name in STREAMS}
        self._window_waited = {name: 0 for name in STREAMS}
        self._lead_range = (lead, lead)

    def _check_order(self) -> None:
        """Split pairs: the stream that now goes first lost none; the one sent first before did."""
        waited = max(STREAMS, key=lambda name: self._window_waited[name])
        split = self._window_split[waited] > self._window_waited[waited] / 2
        if not split and self._window_waited[waited] > self._window_pairs / 2:
            self._sent_first = waited
        elif split and self._sent_first not in (None, waited):
            self._drop(waited, self._packet[waited])

    def _drop(self, stream: str, count: int) -> None:
        """Drop ``count`` orphans of ``stream``: those waiting, then (split pairs) those to come."""
        halves = self._pending[stream]
        waiting = min(count, len(halves))
        for _ in range(waiting):
            halves.popleft()
        self._to_drop[stream] += count - waiting
        self._count_dropped(waiting, missing=self._paired_any)

    def _count_dropped(self, count: int, missing: bool) -> None:
        self.unpaired += count
        if missing:
            self.missing += count
