"""What live use costs: the pipeline per sample by batch size, and the dashboard on live sources.

1. Pipeline cost by batch size: µs per sample through ``Pipeline.update`` on
   ``recordings/desk-stretch.csv`` in batches of 1, 4, 20 and 100 samples, beside the bare ahrs
   ``Madgwick.updateIMU`` loop on the same samples, alternating, medians over ``--runs`` runs (CPU
   time of this process, see ``_baseline.py``).
   Goal (issue 9): batch-of-1 cost <= 2x the bare loop.
2. The dashboard headless (Textual's headless driver, recording to a temporary file) on the
   simulator and on every emulated sensor at 100 and 200 Hz (DOT: 60 Hz, its maximum) for
   ``--seconds``: CPU share of tiltwatch's process and, apart, of the emulator's process; samples
   lost (the loss on the link panel; samples that arrived but are not in the recording; the loss
   ``tiltwatch info`` reads from the recording); p50/p99 latency from the arrival of the newest
   sample a redraw shows to that redraw (``screen``: how far the screen lags the sensor), p99 of the
   same from the oldest sample each output shows (``oldest``: the longest a sample waited to be
   drawn, the pipeline's show hop included), and from a key press to its effect; the time ``q``
   takes to quit with the recording closed. The CPU baseline is the bare ahrs loop at the same
   rate, from part 1. ``pipe%``: the analysis thread's own CPU (``Pipeline.update``); the rest of
   tiltwatch's share is the link, decoding, recording and Textual. Rows ``…/no-redraw`` run the same with the dashboard's redraws
   stopped during the measurement: the difference in CPU is what redrawing costs (no screen
   latency then).
3. The same latencies with a CPU hog (``while True: pass`` in another process) on the simulator
   and on the WitMotion sensor at 200 Hz.
Goals: dashboard <= 15% of a core at 200 Hz; 0 samples lost at 200 Hz on every emulated sensor;
p99 sample-to-screen <= 100 ms (every sample: ``oldest``); every quit < 1 s.

    python benchmarks/live_cost.py [--seconds 60] [--runs 3] [--live-runs 1] [--quick] [--pipeline-only]

``--quick``: 30 s of the recording in part 1, 10-s live runs on the simulator and the WitMotion sensor
at 200 Hz only (each with and without redraw), one run each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _baseline import bare_ahrs_seconds  # noqa: E402
from textual import events  # noqa: E402

from firmware_interface.emulated import MODELS  # noqa: E402
from firmware_interface.profiles import PROFILES  # noqa: E402
from firmware_interface.recording import RecordingWriter, read_recording, summarize  # noqa: E402
from firmware_interface.recording.writer import LIVE_WRITE_INTERVAL_S  # noqa: E402
from firmware_interface.source_spec import EmulatedSensor, Simulation, open_source  # noqa: E402
from fusion.pipeline import Pipeline  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.screens.summary import SummaryScreen  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DESK = ROOT / "recordings" / "desk-stretch.csv"
BATCH_SIZES = (1, 4, 20, 100)
KEY_EVERY_S = 1.0
START_TIMEOUT_S = 90.0
KEY_TIMEOUT_S = 10.0
RUN_MARGIN_S = 150.0
"""A run that does not start streaming, or a key without effect, fails the run (printed), not the
benchmark."""


# -- 1. pipeline cost by batch size ------------------------------------------------------------

def bare_ahrs_us(batch, rate_hz: float) -> float:
    return bare_ahrs_seconds(batch, rate_hz) / len(batch) * 1e6


def pipeline_us(batch, info, size: int) -> float:
    pipeline = Pipeline.for_source(info)
    pieces = batch.split(size)
    start = time.process_time()
    for piece in pieces:
        pipeline.update(piece)
    pipeline.finish()
    return (time.process_time() - start) / len(batch) * 1e6


def pipeline_by_batch_size(runs: int, seconds: float | None) -> float:
    """Prints the table; returns the median bare ahrs µs/sample."""
    recording = read_recording(DESK)
    batch, info = recording.batch, recording.info
    if seconds is not None:
        keep = batch.t < batch.t[0] + seconds
        batch = type(batch)(batch.t[keep], batch.acc[keep], batch.gyr[keep])
    print(f"1. Pipeline.update on {DESK.name}: {len(batch)} samples at {info.sample_rate_hz:g} Hz, "
          f"{runs} runs (medians)")
    bare, by_size = [], {size: [] for size in BATCH_SIZES}
    for _ in range(runs):
        bare.append(bare_ahrs_us(batch, info.sample_rate_hz))
        for size in BATCH_SIZES:
            by_size[size].append(pipeline_us(batch, info, size))
    b = statistics.median(bare)
    print(f"   bare ahrs updateIMU loop   {b:8.1f} µs/sample")
    for size in BATCH_SIZES:
        p = statistics.median(by_size[size])
        print(f"   batches of {size:<4}            {p:8.1f} µs/sample  {p / b:6.1f}x bare"
              + ("   (goal <= 2x)" if size == 1 else ""))
    return b


# -- 2./3. the dashboard on live sources ---------------------------------------------------------

@dataclass
class LiveResult:
    label: str
    rate_hz: float
    cpu_pct: float
    pipeline_pct: float
    emulator_cpu_pct: float | None
    shown_loss_pct: float
    unrecorded: int
    info_loss_pct: float
    screen_ms: tuple[float, float]
    oldest_ms: tuple[float, float]
    key_ms: tuple[float, float]
    quit_s: float
    behind_s: float
    marked_loss_pct: float = 0.0
    """What the link's gap markers report missing (the source's own health)."""
    gaps: int = 0


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p50_p99(values_s: list[float]) -> tuple[float, float]:
    if not values_s:
        return (float("nan"), float("nan"))
    ms = np.array(values_s) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


async def live_run(label: str, description, seconds: float, tmp: Path) -> LiveResult:
    redraw = not label.endswith("/no-redraw")
    path = tmp / f"{label.replace('/', '-')}-{time.monotonic_ns()}.csv"
    async with open_source(description) as source:
        writer = RecordingWriter(path, source.info, write_interval_s=LIVE_WRITE_INTERVAL_S)  # as the CLI records
        app = make_app(source, Pipeline.for_source(source.info), recorder=writer)
        async with app.run_test(headless=True, size=(120, 40)):
            async with asyncio.timeout(START_TIMEOUT_S):
                while app.state.now_s is None:  # streaming and drawn
                    await asyncio.sleep(0.01)
            emulator_pid = getattr(source, "emulator_pid", None)
            app.screen_latencies_s.clear()
            app.oldest_sample_latencies_s.clear()
            if not redraw:
                app._redraws_stopped = True  # a measurement only: the app keeps its redraws private
            wall0, cpu0, pipeline0 = time.monotonic(), time.process_time(), app._worker.update_cpu_s
            emu0 = _process_cpu_s(emulator_pid) if emulator_pid else None
            key_latencies, next_key_s = [], wall0 + KEY_EVERY_S
            while time.monotonic() - wall0 < seconds:
                if time.monotonic() >= next_key_s:
                    muted = app.state.muted
                    pressed = time.perf_counter()
                    # As a terminal delivers it (Pilot.press would also wait for the process to idle).
                    app.post_message(events.Key("m", "m"))
                    async with asyncio.timeout(KEY_TIMEOUT_S):
                        while app.state.muted == muted:
                            await asyncio.sleep(0.001)
                    key_latencies.append(time.perf_counter() - pressed)
                    next_key_s += KEY_EVERY_S
                await asyncio.sleep(0.02)
            wall = time.monotonic() - wall0
            cpu_pct = 100 * (time.process_time() - cpu0) / wall
            pipeline_pct = 100 * (app._worker.update_cpu_s - pipeline0) / wall
            if not redraw:
                app._redraws_stopped = False
            emu_pct = 100 * (_process_cpu_s(emulator_pid) - emu0) / wall if emulator_pid else None
            behind_s = app.state.analysis_behind_s
            screen, oldest = list(app.screen_latencies_s), list(app.oldest_sample_latencies_s)
            # q closes the session (recording flushed) and shows the summary; a second key leaves.
            # The quit time is both waits together, without the reader's pause between them.
            pressed = time.perf_counter()
            app.post_message(events.Key("q", "q"))
            async with asyncio.timeout(KEY_TIMEOUT_S):
                while app.is_running and not isinstance(app.screen, SummaryScreen):
                    await asyncio.sleep(0.001)
            quit_s = time.perf_counter() - pressed
            pressed = time.perf_counter()
            app.post_message(events.Key("q", "q"))
            async with asyncio.timeout(KEY_TIMEOUT_S):
                while app.is_running:
                    await asyncio.sleep(0.001)
            quit_s += time.perf_counter() - pressed
            shown_loss_pct = app.state.health.loss_pct  # the last the panel showed
        health = source.health
    recording = read_recording(path)
    # Samples the writer rejects (a repeated or non-finite timestamp: the simulator makes some) are
    # counted as dropped in the file, not as unrecorded.
    unrecorded = health.samples - writer.samples_written - writer.samples_dropped
    return LiveResult(label, description.rate_hz, cpu_pct, pipeline_pct, emu_pct, shown_loss_pct,
                      unrecorded, summarize(recording).loss_pct,
                      _p50_p99(screen), _p50_p99(oldest), _p50_p99(key_latencies), quit_s, behind_s,
                      health.loss_pct, health.gaps)


def _rates(key: str) -> list[float]:
    profile = PROFILES[key]
    return [rate for rate in (100.0, 200.0) if profile.supports_rate(rate)] or [max(profile.rates_hz)]


def live_sources(quick: bool) -> list[tuple[str, object]]:
    if quick:
        return [("sim", Simulation("mixed", rate_hz=200.0, seed=1, loop=True)),
                ("sim/no-redraw", Simulation("mixed", rate_hz=200.0, seed=1, loop=True)),
                ("wt901", EmulatedSensor("wt901", rate_hz=200.0, scenario="mixed", seed=1)),
                ("wt901/no-redraw", EmulatedSensor("wt901", rate_hz=200.0, scenario="mixed", seed=1))]
    configs = [("sim", Simulation("mixed", rate_hz=rate, seed=1, loop=True)) for rate in (100.0, 200.0)]
    configs += [("sim/no-redraw", Simulation("mixed", rate_hz=200.0, seed=1, loop=True)),
                ("wt901/no-redraw", EmulatedSensor("wt901", rate_hz=200.0, scenario="mixed", seed=1))]
    for key in MODELS:
        configs += [(key, EmulatedSensor(key, rate_hz=rate, scenario="mixed", seed=1)) for rate in _rates(key)]
    return configs


def print_header() -> None:
    print(f"   {'source':<14}{'Hz':>5}{'CPU%':>7}{'/bare':>7}{'pipe%':>7}{'emul%':>7}{'shown':>7}{'unrec':>6}{'info':>7}"
          f"{'screen p50/p99':>16}{'oldest':>8}{'key p50/p99':>14}{'quit':>7}{'behind':>8}")


def print_live(results: list[LiveResult], bare_us: float) -> None:
    for r in results:
        bare_pct = bare_us * r.rate_hz / 1e4
        emulator = f"{r.emulator_cpu_pct:7.1f}" if r.emulator_cpu_pct is not None else f"{'-':>7}"
        print(f"   {r.label:<14}{r.rate_hz:>5g}{r.cpu_pct:>7.1f}{r.cpu_pct / bare_pct:>7.1f}{r.pipeline_pct:>7.1f}{emulator}"
              f"{r.shown_loss_pct:>6.1f}%{r.unrecorded:>6}{r.info_loss_pct:>6.1f}%"
              f"{r.screen_ms[0]:>8.0f}/{r.screen_ms[1]:<4.0f}ms{r.oldest_ms[1]:>6.0f}ms"
              f"{r.key_ms[0]:>6.0f}/{r.key_ms[1]:<4.0f}ms"
              f"{r.quit_s:>6.2f}s{r.behind_s:>7.1f}s", flush=True)


def median_result(runs: list[LiveResult]) -> LiveResult:
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    first = runs[0]
    return LiveResult(
        first.label, first.rate_hz, med(r.cpu_pct for r in runs), med(r.pipeline_pct for r in runs),
        med(r.emulator_cpu_pct for r in runs),
        med(r.shown_loss_pct for r in runs), max(r.unrecorded for r in runs), med(r.info_loss_pct for r in runs),
        (med(r.screen_ms[0] for r in runs), med(r.screen_ms[1] for r in runs)),
        (med(r.oldest_ms[0] for r in runs), med(r.oldest_ms[1] for r in runs)),
        (med(r.key_ms[0] for r in runs), med(r.key_ms[1] for r in runs)),
        max(r.quit_s for r in runs), med(r.behind_s for r in runs), med(r.marked_loss_pct for r in runs),
        max(r.gaps for r in runs))


async def live_part(configs, seconds: float, runs: int, bare_us: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        print_header()
        for label, description in configs:
            try:
                runs_done = []
                for _ in range(runs):
                    async with asyncio.timeout(seconds + RUN_MARGIN_S):
                        runs_done.append(await live_run(label, description, seconds, Path(tmp)))
            except TimeoutError:
                print(f"   {label:<14}{description.rate_hz:>5g}  FAILED: no stream, a key without effect "
                      f"or a run not over within {seconds + RUN_MARGIN_S:g} s", flush=True)
                continue
            results.append(median_result(runs_done))
            print_live(results[-1:], bare_us)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="wall time of each live run (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the batch-size part (default 3)")
    parser.add_argument("--live-runs", type=int, default=1, help="runs of each live configuration (default 1)")
    parser.add_argument("--pipeline-seconds", type=float, default=60.0,
                        help="seconds of the recording in part 1 (default 60; batch-of-1 is slow)")
    parser.add_argument("--only", metavar="LABELS", help="live configurations to run, e.g. sim,wt901 "
                        "(part 1 is then skipped)")
    parser.add_argument("--quick", action="store_true", help="short run: see the module docstring")
    parser.add_argument("--pipeline-only", action="store_true", help="part 1 only")
    args = parser.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    runs, live_runs = (1, 1) if args.quick else (args.runs, args.live_runs)

    configs = live_sources(args.quick)
    if args.only:
        configs = [(label, d) for label, d in configs if label in args.only.split(",")]
        bare_us = statistics.median(bare_ahrs_us(read_recording(DESK).batch, 100.0) for _ in range(runs))
        print(f"bare ahrs updateIMU loop {bare_us:.1f} µs/sample")
    else:
        bare_us = pipeline_by_batch_size(runs, 30.0 if args.quick else args.pipeline_seconds)
        if args.pipeline_only:
            return
    print(f"\n2. Dashboard headless, {seconds:g} s per run, {live_runs} run(s) each (medians; CPU% of one core, "
          f"/bare: against the bare ahrs loop at that rate; shown: loss on the link panel; unrec: samples that "
          f"arrived but are not in the recording; info: loss `tiltwatch info` reads)")
    asyncio.run(live_part(configs, seconds, live_runs, bare_us))

    hogged = [(label, d) for label, d in configs if d.rate_hz == 200.0 and label in ("sim", "wt901")]
    print("\n3. The same with a CPU hog in another process")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        asyncio.run(live_part(hogged, seconds, live_runs, bare_us))
    finally:
        hog.kill()
        hog.wait()


if __name__ == "__main__":
    main()
