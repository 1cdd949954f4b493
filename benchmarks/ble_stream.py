"""BLE streaming benchmark: every emulated profile through bleak over the virtual link.

For each profile at 100 and 200 Hz (DOT at its 60 Hz maximum) it streams ``--seconds`` of device
time through ``BleSource``, exactly as ``tiltwatch live`` does, and prints:

- delivered rate: samples over the device time they span;
- loss: samples the emulator sent that never came out of the source, and the source's own
  gap-based ``health.loss_pct``;
- notification-to-sample latency (p50/p99): from a notification's arrival in bleak's callback to
  its samples leaving the source's iterator;
- CPU time per sample in the decode path (decoder + marker/health bookkeeping in the source).

Usage: ``python benchmarks/ble_stream.py [--seconds 60] [--profiles wt901,dot] [--json]``
Runs sequentially so runs do not compete for the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_interface.emulated import MODELS  # noqa: E402
from firmware_interface.profiles import PROFILES  # noqa: E402
from firmware_interface.emulated.in_process import emulated_sensors  # noqa: E402
from firmware_interface.transport import BleSource, LinkPolicy, SensorTarget  # noqa: E402


def rates_for(key: str) -> list[float]:
    profile = PROFILES[key]
    return [rate for rate in (100.0, 200.0) if profile.supports_rate(rate)] or [max(profile.rates_hz)]


async def run_one(key: str, rate_hz: float, seconds: float, seed: int) -> dict:
    async with emulated_sensors([key], seed=seed) as (backend, sensors):
        sensor = sensors[0]
        source = BleSource(SensorTarget(profile_key=key), rate_hz=rate_hz, policy=LinkPolicy(scan_s=5.0),
                           environment=lambda: contextlib.nullcontext(backend))
        async with source:
            loop = asyncio.get_running_loop()
            latencies_s: list[float] = []
            samples = 0
            first_t = last_t = None
            sent_before = None
            async for batch in source:
                if not len(batch):
                    continue
                latencies_s.append(loop.time() - source.last_notification_at_s)
                if first_t is None:
                    first_t = float(batch.t[0])
                    sent_before = sensor.stats.samples_sent - len(batch)
                    cpu_before = source.decode_cpu_s
                samples += len(batch)
                last_t = float(batch.t[-1])
                if last_t - first_t >= seconds:
                    break
            sent = sensor.stats.samples_sent - sent_before
            health = source.health
            cpu_s = source.decode_cpu_s - cpu_before
    latencies_ms = np.array(latencies_s) * 1e3
    return {
        "profile": key, "rate_hz": rate_hz, "samples": samples,
        "delivered_hz": (samples - 1) / (last_t - first_t),
        "loss_pct": 100.0 * max(0, sent - samples) / sent if sent else 0.0,
        "gap_loss_pct": health.loss_pct,
        "latency_p50_ms": float(np.percentile(latencies_ms, 50)),
        "latency_p99_ms": float(np.percentile(latencies_ms, 99)),
        "decode_us_per_sample": 1e6 * cpu_s / samples,
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="device time per run (default 60)")
    parser.add_argument("--profiles", default=",".join(MODELS), help="comma list of profile keys")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args(argv)
    if not args.json:
        print(f"{'profile':<11}{'rate':>6}{'samples':>9}{'delivered':>11}{'loss%':>7}{'gap%':>7}"
              f"{'lat p50':>9}{'lat p99':>9}{'decode':>10}")
        print(f"{'':<11}{'Hz':>6}{'':>9}{'Hz':>11}{'':>7}{'':>7}{'ms':>9}{'ms':>9}{'µs/smp':>10}")
    for key in args.profiles.split(","):
        for rate_hz in rates_for(key):
            result = await run_one(key, rate_hz, args.seconds, args.seed)
            if args.json:
                print(json.dumps(result), flush=True)
            else:
                print(f"{key:<11}{rate_hz:>6g}{result['samples']:>9}{result['delivered_hz']:>11.2f}"
                      f"{result['loss_pct']:>7.2f}{result['gap_loss_pct']:>7.2f}{result['latency_p50_ms']:>9.2f}"
                      f"{result['latency_p99_ms']:>9.2f}{result['decode_us_per_sample']:>10.1f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
