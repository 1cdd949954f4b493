"""The baseline every cost benchmark quotes: ahrs's Madgwick filter alone over the same samples.

Costs are CPU seconds of this process (``time.process_time``), not wall time: on a machine shared
with other work, wall time measures the neighbours as much as the code (the bare loop's wall time
varied 2x between runs of one benchmark); both sides of every ratio are timed the same way."""

from __future__ import annotations

import time

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch


def bare_ahrs_seconds(batch: SampleBatch, rate_hz: float) -> float:
    """CPU seconds for the plain ahrs Madgwick loop over ``batch`` (fixed dt, default gain)."""
    madgwick = Madgwick(frequency=rate_hz)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    gyr, acc = batch.gyr, batch.acc
    start = time.process_time()
    for i in range(len(gyr)):
        q = madgwick.updateIMU(q, gyr[i], acc[i])
    return time.process_time() - start
