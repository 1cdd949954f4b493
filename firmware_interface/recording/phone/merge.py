"""Putting sensors sampled on their own clocks onto one time base, in chunks.

A phone delivers accelerometer and gyroscope events separately, at rates and instants of their
own. ``aligned`` keeps the accelerometer's instants and interpolates the other sensor linearly
onto them: the accelerometer carries gravity, the reference every tilt is measured against, so
its samples are kept as measured; the gyroscope's rate is smooth at the 50–500 Hz a phone
samples, so interpolating it between neighbours 2–20 ms apart costs far less than its noise. A
common uniform grid would resample both, smoothing the accelerometer for no gain. Accelerometer
samples the other sensor does not bracket within ``GAP_FACTOR`` of its median interval (before its
first sample, after its last, inside a gap) are dropped: nothing is invented across a gap.

Each output sample depends only on the other sensor's two neighbours, so the result is the same
whatever the chunking; memory holds one chunk of each.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from firmware_interface.recording.phone.channels import ReadTally

GAP_FACTOR = 3.0
"""An interval longer than this many median intervals is a gap (as for recordings)."""

Chunks = Iterable[tuple[np.ndarray, np.ndarray]]


def aligned(base: Chunks, other: Chunks, tally: ReadTally) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(t, base values, other values interpolated at t) for each base chunk, less the samples
    ``other`` does not cover (counted in ``tally.uncovered_samples``)."""
    others = iter(other)
    other_t, other_v = np.empty(0), np.empty((0, 3))
    max_step = np.inf
    exhausted = False
    for t, values in base:
        while not exhausted and (not len(other_t) or other_t[-1] < t[-1]):
            chunk = next(others, None)
            if chunk is None:
                exhausted = True
                break
            if not len(other_t) and len(chunk[0]) > 1:
                # From the first chunk, whose size is fixed by the parser: the same in every pass.
                max_step = GAP_FACTOR * float(np.median(np.diff(chunk[0])))
            other_t = np.concatenate([other_t, chunk[0]])
            other_v = np.concatenate([other_v, chunk[1]])
        if not len(other_t):
            tally.uncovered_samples += len(t)
            continue
        after = np.searchsorted(other_t, t, side="left")  # first other sample at or after t
        inside = after < len(other_t)
        hi = np.minimum(after, len(other_t) - 1)
        lo = np.maximum(hi - 1, 0)
        exact = inside & (other_t[hi] == t)
        bracketed = inside & (after > 0) & (other_t[hi] - other_t[lo] <= max_step)
        covered = exact | bracketed
        tally.uncovered_samples += int((~covered).sum())
        if covered.any():
            tc = t[covered]
            interpolated = np.column_stack([np.interp(tc, other_t, other_v[:, axis]) for axis in range(3)])
            yield tc, values[covered], interpolated
        # Keep the other sensor's samples from the last one at or before this chunk's end.
        keep_from = max(0, int(np.searchsorted(other_t, t[-1], side="right")) - 1)
        other_t, other_v = other_t[keep_from:], other_v[keep_from:]
