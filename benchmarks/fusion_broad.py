"""Inclination accuracy of tiltwatch's orientation filter on real data, and its cost.

Data: BROAD — D. Laidig, M. Caruso, A. Cereatti, T. Seel, "BROAD — A Benchmark for Robust
Inertial Orientation Estimation", Data 6(7), 2021, doi:10.3390/data6070072, CC BY 4.0
(30 of its 39 trials, in ../shared/data/broad).

Metric (BROAD README): inclination error 2·arccos(√(w² + z²)) of q_est ⊗ q_true⁻¹, RMS over the
samples with ``movement`` true and finite ground truth, per trial, then the mean over trials.
Baseline in the same run: bare ahrs 0.4 Madgwick, batch mode, gain 0.033.
Cost: µs per sample of the streaming path (``OrientationEstimator.update`` on 20-sample
batches, as BLE delivers them), median of several runs over one trial.

    python benchmarks/fusion_broad.py [--trials 01,21] [--no-baseline] [--cost-runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch
from fusion import _quaternion as quat
from fusion.orientation import OrientationEstimator, estimate_orientation

BROAD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "broad"
CITATION = ("BROAD: Laidig, Caruso, Cereatti, Seel, Data 6(7) 2021, doi:10.3390/data6070072, CC BY 4.0")
BASELINE_GAIN = 0.033
STREAM_BATCH = 20


def inclination_rmse_deg(q_est: np.ndarray, q_true: np.ndarray, valid: np.ndarray) -> float:
    error = quat.inclination_error_rad(q_est[valid], q_true[valid])
    return float(np.degrees(np.sqrt(np.mean(error ** 2))))


def load(path: Path) -> dict[str, np.ndarray]:
    data = np.load(path)
    fs = float(data["sampling_rate"])
    truth = data["opt_quat"].astype(np.float64)
    return {
        "t": np.arange(len(data["acc"])) / fs,
        "acc": data["acc"].astype(np.float64),
        "gyr": data["gyr"].astype(np.float64),
        "truth": truth,
        "valid": data["movement"].astype(bool) & np.all(np.isfinite(truth), axis=1),
        "fs": fs,
    }


def streaming_us_per_sample(trial: dict[str, np.ndarray], runs: int) -> float:
    batches = SampleBatch(trial["t"], trial["acc"], trial["gyr"]).split(STREAM_BATCH)
    timings = []
    for _ in range(runs):
        estimator = OrientationEstimator()
        start = time.perf_counter()
        for batch in batches:
            estimator.update(batch)
        timings.append((time.perf_counter() - start) / len(trial["t"]) * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="", help="comma-separated trial number prefixes (default: all)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--cost-runs", type=int, default=3)
    args = parser.parse_args()
    if not BROAD.is_dir():
        raise SystemExit(f"BROAD data not found at {BROAD}")
    paths = sorted(BROAD.glob("*.npz"))
    if args.trials:
        wanted = tuple(args.trials.split(","))
        paths = [p for p in paths if p.name.startswith(wanted)]

    print(f"Inclination RMSE (deg) on {len(paths)} trials — {CITATION}")
    print(f"{'trial':45s} {'tiltwatch':>10s} {'baseline':>10s}")
    ours, baseline = [], []
    for path in paths:
        trial = load(path)
        ours.append(inclination_rmse_deg(estimate_orientation(trial["t"], trial["acc"], trial["gyr"]),
                                         trial["truth"], trial["valid"]))
        line = f"{path.stem:45s} {ours[-1]:10.2f}"
        if not args.no_baseline:
            q = Madgwick(gyr=trial["gyr"], acc=trial["acc"], frequency=trial["fs"], gain=BASELINE_GAIN).Q
            baseline.append(inclination_rmse_deg(q, trial["truth"], trial["valid"]))
            line += f" {baseline[-1]:10.2f}"
        print(line, flush=True)
    mean_line = f"{'mean':45s} {np.mean(ours):10.2f}"
    if baseline:
        mean_line += f" {np.mean(baseline):10.2f}"
    print(mean_line)
    print(f"baseline: ahrs {Madgwick.__module__.split('.')[0]} Madgwick, gain {BASELINE_GAIN}, batch mode")

    trial = load(paths[0])
    us = streaming_us_per_sample(trial, args.cost_runs)
    start = time.perf_counter()
    Madgwick(gyr=trial["gyr"], acc=trial["acc"], frequency=trial["fs"], gain=BASELINE_GAIN)
    bare_us = (time.perf_counter() - start) / len(trial["t"]) * 1e6
    print(f"streaming cost on {paths[0].stem}: {us:.1f} µs/sample in {STREAM_BATCH}-sample batches "
          f"(median of {args.cost_runs}); bare ahrs Madgwick loop {bare_us:.1f} µs/sample ({us / bare_us:.2f}x)")


if __name__ == "__main__":
    main()
