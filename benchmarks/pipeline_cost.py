"""What the whole analysis costs against the bare ahrs filter loop on the same samples.

Writes one hour of simulated 100 Hz desk-and-squat data as a recording, then times, alternately
in the same run:
  * baseline: the bare ``ahrs.filters.Madgwick().updateIMU`` loop over the samples (already in
    memory, the cheapest possible use of ahrs), and
  * pipeline: ``tiltwatch analyze FILE --json`` in-process: parsing the file, fusion, calibration,
    tilt, activity, sustained tilt and squat detection, and the JSON.
Prints the median of each over ``--runs`` runs, the ratio, samples per second and the real-time
factor. CPU seconds of this process for both (see ``_baseline.py``). Goal (issue 9): pipeline <= 1.3x
baseline.

    python benchmarks/pipeline_cost.py [--minutes 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _baseline import bare_ahrs_seconds

from firmware_interface.recording import RecordingWriter, read_recording
from firmware_interface.samples import SampleBatch
from firmware_interface.simulator import SCENARIOS, Scenario, simulate
from tui.cli import main as tiltwatch

RATE_HZ = 100.0


def long_session(minutes: float, seed: int) -> tuple[SampleBatch, object]:
    """Desk and squat scenarios back to back, cut to ``minutes`` of data."""
    rng = np.random.default_rng(seed)
    segments = []
    duration_s = 0.0
    names = ("desk", "squat")
    i = 0
    while duration_s < minutes * 60.0:
        scenario = SCENARIOS[names[i % 2]](rng)
        segments.extend(scenario.segments if not segments else scenario.segments[1:])
        duration_s = Scenario(segments, "benchmark").duration_s
        i += 1
    session = simulate(Scenario(segments, "benchmark"), sample_rate_hz=RATE_HZ, seed=seed)
    b = session.batch
    keep = b.t < b.t[0] + minutes * 60.0
    return SampleBatch(b.t[keep], b.acc[keep], b.gyr[keep],
                       tuple(m for m in b.markers if m.t_s < b.t[0] + minutes * 60.0)), session.info


def bare_ahrs(batch: SampleBatch) -> float:
    """Seconds for the plain ahrs Madgwick loop (fixed dt, default gain)."""
    return bare_ahrs_seconds(batch, RATE_HZ)


def analyze_command(path: Path) -> float:
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = tiltwatch(["analyze", str(path), "--json", "--no-store"])
    elapsed = time.process_time() - start
    if code != 0:
        raise SystemExit(f"tiltwatch analyze exited with {code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    batch, info = long_session(args.minutes, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.csv"
        with RecordingWriter(path, info) as writer:
            writer.append(batch)
        batch = read_recording(path).batch  # the baseline gets exactly the samples analyze reads
        n = len(batch)
        print(f"{n} samples, {float(batch.t[-1] - batch.t[0]) / 60:.1f} min at {RATE_HZ:g} Hz, "
              f"file {path.stat().st_size / 1e6:.1f} MB")
        baseline, pipeline = [], []
        for run in range(args.runs):
            baseline.append(bare_ahrs(batch))
            pipeline.append(analyze_command(path))
            print(f"run {run + 1}: bare ahrs {baseline[-1]:.2f} s, tiltwatch analyze {pipeline[-1]:.2f} s")
    b, p = statistics.median(baseline), statistics.median(pipeline)
    duration_s = float(batch.t[-1] - batch.t[0])
    print(f"median bare ahrs loop:   {b:7.2f} s  {n / b:9.0f} samples/s  {b / n * 1e6:6.1f} µs/sample")
    print(f"median tiltwatch analyze:{p:7.2f} s  {n / p:9.0f} samples/s  {p / n * 1e6:6.1f} µs/sample"
          f"  real-time factor {duration_s / p:.0f}x (CPU)")
    print(f"ratio analyze / bare ahrs: {p / b:.2f}  (goal <= 1.3)")


if __name__ == "__main__":
    main()
