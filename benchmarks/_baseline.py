"""The baseline every cost benchmark quotes: ahrs's Madgwick filter alone over the same samples."""

from __future__ import annotations

import time

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch


def bare_ahrs_seconds(batch: SampleBatch, rate_hz: float) -> float:
    """Seconds for the plain ahrs Madgwick loop over ``batch`` (fixed dt, default gain)."""
    madgwick = Madgwick(frequency=rate_hz)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    gyr, acc = batch.gyr, batch.acc
    start = time.perf_counter()
    for i in range(len(gyr)):
        q = madgwick.updateIMU(q, gyr[i], acc[i])
    return time.perf_counter() - start
