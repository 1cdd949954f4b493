"""Soak: a whole desk day through the full live path, accelerated, watching for leaks.

An emulated sensor (``--profile``, default WT901) on bumble's virtual radio streams the simulator's
desk scenario at ``--rate`` Hz to ``BleSource`` (bleak, the real link code with its reconnects and
stall detection); the dashboard runs headless (Textual's ``run_test``) with a real
``RecordingWriter`` and the pipeline on its analysis thread, exactly as ``tiltwatch live
--record`` wires them. ``--drops`` link drops and ``--stalls`` stalls (``FaultSpec``) are spread
over the day, one at a random point in each equal slot.

Time is driven (``firmware_interface.emulated.clock``): the event loop skips its idle waits, so
sample pacing, the fault schedule and the link's timeouts and backoff all run in stream time as
fast as the CPU allows, and a busy or starved host slows the run down without distorting it. The
clock waits in real time while the analysis thread is more than ``HOLD_BEHIND_S`` behind, so the
pipeline runs on every sample as it would live. Textual redraws by the host clock, so the
headless dashboard redraws fewer times per stream second than live (its cost per redraw is
measured by the TUI benchmarks, not here).

Every simulated hour it prints resident memory, open file descriptors, asyncio tasks, threads,
the samples recorded in that hour, the host CPU per recorded sample (the whole process: emulator,
virtual radio, bleak, link, recorder, dashboard and pipeline), the analysis thread's CPU per
analysed sample and the analysis backlog. At the end: samples sent vs recorded (read back from
the file) vs analysed, per-connection sent vs recorded, and whether the last hour's memory and
costs are within 10 % of the first's.

Usage: ``python benchmarks/soak.py [--hours 8] [--rate 100] [--drops 50] [--stalls 50] [--seed 1]
[--every 60]`` (run ``--hours 1`` first: it says how long the full day will take).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_interface.emulated import FaultSpec  # noqa: E402
from firmware_interface.emulated.clock import run_driven  # noqa: E402
from firmware_interface.emulated.in_process import emulated_sensors  # noqa: E402
from firmware_interface.emulated.peripheral import simulated_batch  # noqa: E402
from firmware_interface.recording import RecordingWriter, open_recording_stream  # noqa: E402
from firmware_interface.recording.summary import samples_per_connection  # noqa: E402
from firmware_interface.transport import BleSource, SensorTarget  # noqa: E402
from fusion.pipeline import Pipeline  # noqa: E402
from tui.app import make_app  # noqa: E402

HOUR_S = 3600.0
WITHIN_PCT = 10.0
"""The goal: the last hour's memory and cost per sample within this of the first hour's."""
HOLD_BEHIND_S = 1.0
"""Stream seconds the analysis thread may lag before the driven clock waits for it."""


def spread(count: int, span_s: float, rng: random.Random, *, margin: float = 0.1) -> tuple[float, ...]:
    """``count`` times, one at a random point of each of ``count`` equal slots of ``span_s``
    (away from the slot edges, so two faults never overlap)."""
    slot_s = span_s / max(count, 1)
    return tuple(slot_s * (i + rng.uniform(margin, 1 - margin)) for i in range(count))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class HourRow:
    row: int
    wall_s: float
    rss_mb: float
    fds: int
    tasks: int
    threads: int
    widgets: int
    recorded: int
    us_per_sample: float
    analysis_us_per_sample: float
    behind_s: float

    HEADER = (f"{'row':>4}{'wall s':>8}{'RSS MB':>8}{'fds':>5}{'tasks':>6}{'thr':>4}{'widgets':>8}"
              f"{'recorded':>10}"
              f"{'µs/smp':>8}{'anal µs':>8}{'behind s':>9}")

    def line(self) -> str:
        return (f"{self.row:>4}{self.wall_s:>8.0f}{self.rss_mb:>8.1f}{self.fds:>5}{self.tasks:>6}{self.threads:>4}"
                f"{self.widgets:>8}{self.recorded:>10}{self.us_per_sample:>8.1f}{self.analysis_us_per_sample:>8.1f}"
                f"{self.behind_s:>9.1f}")


async def soak(args: argparse.Namespace, out: Path) -> list[HourRow]:
    rng = random.Random(args.seed)
    day_s = args.hours * HOUR_S
    faults = FaultSpec(disconnect_at_s=spread(args.drops, day_s, rng), stall_at_s=spread(args.stalls, day_s, rng))
    loop = asyncio.get_running_loop()
    rows: list[HourRow] = []
    # The sensor simulates its session on a thread when the link sets the rate; the driven clock
    # does not see that thread and would run ahead meanwhile: simulate it now (memoised).
    simulated_batch("desk", args.seed, args.rate)
    async with emulated_sensors([args.profile], scenario="desk", seed=args.seed, faults=faults) as (backend, sensors):
        sensor = sensors[0]
        source = BleSource(SensorTarget(profile_key=args.profile), rate_hz=args.rate,
                           environment=lambda: contextlib.nullcontext(backend))
        async with source:
            writer = RecordingWriter(out, source.info)
            pipeline = Pipeline.for_source(source.info)
            app = make_app(source, pipeline, recorder=writer)
            worker = app._worker  # the dashboard's analysis thread (its counters)
            loop.hold = lambda: worker.behind_s > HOLD_BEHIND_S
            async with app.run_test(headless=True, size=(100, 32)) as pilot:
                await pilot.press("c")  # the desk scenario opens with a still standing calibration
                started_loop_s, started_wall_s = loop.time(), time.monotonic()
                cpu_s, analysis_cpu_s = process_cpu_s(), worker.update_cpu_s
                recorded, analysed = writer.samples_written, worker.samples_analysed
                every_s = args.every * 60.0
                for hour in range(1, int(np.ceil(day_s / every_s)) + 1):
                    await asyncio.sleep(started_loop_s + min(hour * every_s, day_s) - loop.time())
                    now_cpu_s, now_analysis_cpu_s = process_cpu_s(), worker.update_cpu_s
                    now_recorded, now_analysed = writer.samples_written, worker.samples_analysed
                    row = HourRow(
                        row=hour, wall_s=time.monotonic() - started_wall_s, rss_mb=rss_mb(), fds=open_fds(),
                        tasks=len(asyncio.all_tasks()), threads=threading.active_count(),
                        widgets=len(app.query("*")),
                        recorded=now_recorded - recorded,
                        us_per_sample=1e6 * (now_cpu_s - cpu_s) / max(1, now_recorded - recorded),
                        analysis_us_per_sample=1e6 * (now_analysis_cpu_s - analysis_cpu_s)
                        / max(1, now_analysed - analysed),
                        behind_s=worker.behind_s)
                    print(row.line(), flush=True)
                    rows.append(row)
                    cpu_s, analysis_cpu_s = now_cpu_s, now_analysis_cpu_s
                    recorded, analysed = now_recorded, now_analysed
                # Let the analysis catch up before quitting (quit analyses the backlog for 0.4 s only).
                catch_up_until_s = time.monotonic() + 60.0
                while worker.behind_s > 1.0 and worker.alive and time.monotonic() < catch_up_until_s:
                    await asyncio.sleep(0.05)
                # End the stream at a known point: what the sensor sent has arrived once the link stalls.
                sensor.stop_streaming()
                stop_by_s = loop.time() + 30.0
                while source.health.state != "stalled" and loop.time() < stop_by_s:
                    await asyncio.sleep(0.1)
                await pilot.press("q")
            sent = sensor.stats.samples_sent
            sent_per_connection = list(sensor.stats.sent_per_connection)
            stats = sensor.stats
            health = source.health
    file_per_connection = samples_per_connection(open_recording_stream(out))
    in_file = sum(file_per_connection)
    print(f"\nsimulated {args.hours:g} h at {args.rate:g} Hz in {time.monotonic() - started_wall_s:.0f} s wall "
          f"(x{day_s / (time.monotonic() - started_wall_s):.0f}); faults: {stats.disconnects} drops, "
          f"{stats.stalls} stalls; link: {health.gaps} gaps, {health.loss_pct:.2f} % loss")
    print(f"samples sent {sent}, recorded {writer.samples_written} (file {in_file}), "
          f"analysed {worker.samples_analysed}; lost between sensor and file: {sent - in_file}")
    mismatched = [(i, s, r) for i, (s, r) in enumerate(zip(sent_per_connection, file_per_connection)) if s != r]
    print(f"connections: {len(sent_per_connection)} sent, {len(file_per_connection)} in the file; "
          f"differing: {mismatched[:10] if mismatched else 'none'}")
    return rows


def compare(rows: list[HourRow]) -> bool:
    """Last row (hour by default) against first: memory and both costs per sample within ``WITHIN_PCT``."""
    if len(rows) < 2:
        print("one row only: nothing to compare")
        return True
    first, last = rows[0], rows[-1]
    ok = True
    for name in ("rss_mb", "us_per_sample", "analysis_us_per_sample"):
        a, b = getattr(first, name), getattr(last, name)
        change_pct = 100.0 * (b - a) / a
        within = abs(change_pct) <= WITHIN_PCT or b <= a
        ok &= within
        print(f"{name}: first row {a:.1f}, last row {b:.1f} ({change_pct:+.1f} %) "
              f"{'within' if within else 'NOT within'} {WITHIN_PCT:g} %")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0, help="simulated hours (default 8)")
    parser.add_argument("--rate", type=float, default=100.0, help="sample rate, Hz (default 100)")
    parser.add_argument("--drops", type=int, default=50, help="link drops over the day (default 50)")
    parser.add_argument("--stalls", type=int, default=50, help="stalls over the day (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=float, default=60.0,
                        help="simulated minutes between rows (default 60)")
    parser.add_argument("--profile", default="wt901", help="emulated sensor profile (default wt901)")
    parser.add_argument("--keep", metavar="PATH", help="keep the recording at PATH")
    args = parser.parse_args(argv)
    # The virtual radio warns about packets in flight on a dropped link: expected here, as in the CLI.
    logging.getLogger("bumble.controller").setLevel(logging.ERROR)
    print(f"soak: {args.hours:g} h desk day at {args.rate:g} Hz, {args.drops} drops, {args.stalls} stalls, "
          f"seed {args.seed}, profile {args.profile}")
    print(HourRow.HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="tiltwatch-soak-") as folder:
        out = Path(args.keep) if args.keep else Path(folder) / "soak.csv"
        rows = run_driven(soak(args, out))
    return 0 if compare(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
