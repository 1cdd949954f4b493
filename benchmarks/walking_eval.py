"""Walking detection on real recordings of other labs (the realdata kit's development split).

    python benchmarks/walking_eval.py DATA_DIR [--only sisfall,mobgap,hapt,squat]

DATA_DIR is the folder ``build.py`` of /work/shared/realdata writes (e.g. /tmp/tw-realdata; see
that kit's README: ``fetch`` the four mirrors, then ``python3 build.py /tmp/tw-realdata``). Each
file runs through ``fusion.walking.WalkingDetector`` in one batch (streaming gives the same
labels). Prints per dataset the walking figures the kit scores, the false walking on squats,
sit-to-stands and knee bends, and the cost per sample by batch size.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fusion.walking import WalkingDetector  # noqa: E402

SIT_STAND = ("D07", "D08", "D09", "D10", "D15")


def load(csv_path: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """(truth, t, acc) of one converted file."""
    with open(csv_path[:-4] + ".truth.json") as f:
        truth = json.load(f)
    table = np.loadtxt(csv_path, delimiter=",", skiprows=1, ndmin=2)
    return truth, table[:, 0], table[:, 1:4]


def _inside(t: np.ndarray, bouts) -> np.ndarray:
    out = np.zeros(len(t), dtype=bool)
    for start, end in bouts or []:
        out |= (t >= start) & (t <= end)
    return out


class Tally:
    """Per dataset, what each file adds up to."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.lists: dict[str, list[float]] = defaultdict(list)

    def add(self, truth: dict, t: np.ndarray, walking: np.ndarray) -> None:
        kind = truth["dataset"]
        if kind == "sisfall" and truth["code"] in ("D01", "D02"):
            # The kit's rule: the excerpt's time labelled walking, leaving out its first and last second.
            inner = (t >= 1.0) & (t <= truth["duration_s"] - 1.0)
            fraction = float(walking[inner].mean())
            for key in ("all", truth["group"], truth["code"]):
                self.lists[f"sisfall walk {key}"].append(fraction)
        elif kind == "sisfall" and truth["code"] in SIT_STAND:
            code = "D15" if truth["code"] == "D15" else "D07-D10"
            self.sums[f"sisfall {code} n"] += len(t)
            self.sums[f"sisfall {code} walking"] += walking.sum()
            self.lists[f"sisfall {code} trials with walking"].append(float(walking.any()))
        elif kind == "mobgap" and truth["scored"]:
            # The kit's grid: the CSV rows are the 100 Hz samples.
            bouts = _inside(t, truth["walking_bouts"])
            rest = ~bouts & ~_inside(t, truth.get("stereophoto_bouts"))
            # As the kit's information line: also leaving out 1 s either side of every bout
            # boundary, which tells a walk found late or ended early from one missed.
            far = ~np.any([np.abs(t - edge) < 1.0 for bout in truth["walking_bouts"] for edge in bout]
                          + [np.zeros(len(t), dtype=bool)], axis=0)
            for key, inside in (("", np.ones(len(t), dtype=bool)), (" far", far)):
                self.sums[f"mobgap bout{key}"] += (bouts & inside).sum()
                self.sums[f"mobgap bout walking{key}"] += (bouts & inside & walking).sum()
                self.sums[f"mobgap rest{key}"] += (rest & inside).sum()
                self.sums[f"mobgap rest not walking{key}"] += (rest & inside & ~walking).sum()
        elif kind == "hapt":
            for segment in truth["segments"]:
                part = (t >= segment["start_s"]) & (t <= segment["end_s"])
                label = segment["truth"] if segment["kind"] == "activity" else "transition"
                self.sums[f"hapt {label} n"] += part.sum()
                self.sums[f"hapt {label} walking"] += (part & walking).sum()
        elif kind == "squat":
            self.sums["squat n"] += len(t)
            self.sums["squat walking"] += walking.sum()
            self.lists["squat files with walking"].append(float(walking.any()))

    def lines(self) -> list[str]:
        s, lst = self.sums, self.lists
        out = []
        if lst.get("sisfall walk all"):
            parts = ", ".join(f"{k} {np.mean(lst['sisfall walk ' + k]):.3f}" for k in ("young", "elderly", "D01", "D02")
                              if lst.get("sisfall walk " + k))
            out.append(f"sisfall D01/D02: {len(lst['sisfall walk all'])} excerpts, time labelled walking "
                       f"{np.mean(lst['sisfall walk all']):.3f} (goal >= 0.90); {parts}; worst excerpt "
                       f"{np.min(lst['sisfall walk all']):.3f}")
        for code in ("D07-D10", "D15"):
            if s.get(f"sisfall {code} n"):
                out.append(f"sisfall {code}: time labelled walking {s[f'sisfall {code} walking'] / s[f'sisfall {code} n']:.4f}"
                           f" (should be ~0); trials with any walking "
                           f"{int(sum(lst[f'sisfall {code} trials with walking']))}/{len(lst[f'sisfall {code} trials with walking'])}")
        if s.get("mobgap bout"):
            out.append(f"mobgap: walking-bout time labelled walking {s['mobgap bout walking'] / s['mobgap bout']:.3f} "
                       f"(goal >= 0.90); non-walking time not labelled walking "
                       f"{s['mobgap rest not walking'] / s['mobgap rest']:.3f} (goal >= 0.90); leaving out 1 s "
                       f"either side of each bout boundary: {s['mobgap bout walking far'] / s['mobgap bout far']:.3f}, "
                       f"{s['mobgap rest not walking far'] / s['mobgap rest far']:.3f}")
        if s.get("hapt walking n"):
            false = ", ".join(f"{k} {s[f'hapt {k} walking'] / s[f'hapt {k} n']:.4f}"
                              for k in ("standing", "sitting", "lying", "transition") if s.get(f"hapt {k} n"))
            postures = ("standing", "sitting", "lying")
            still_walking = sum(s.get(f"hapt {k} walking", 0.0) for k in postures)
            still_n = sum(s.get(f"hapt {k} n", 0.0) for k in postures)
            agree = (s["hapt walking walking"] + still_n - still_walking) / (s["hapt walking n"] + still_n)
            out.append(f"hapt: walking recall {s['hapt walking walking'] / s['hapt walking n']:.3f}; false walking: "
                       f"{false}; walking-or-not right on the scored (non-transition) samples {agree:.3f}")
        if s.get("squat n"):
            out.append(f"squat: time labelled walking {s['squat walking'] / s['squat n']:.4f} (should be ~0); "
                       f"files with any walking {int(sum(lst['squat files with walking']))}/{len(lst['squat files with walking'])}")
        return out


def cost_us_per_sample(t, acc, rate_hz: float, batch: int, seconds: float = 60.0) -> float:
    """Streaming cost on the first ``seconds`` of a file in batches of ``batch`` samples."""
    n = min(len(t), int(np.searchsorted(t, t[0] + seconds)))
    update = WalkingDetector(sample_rate_hz=rate_hz).update
    start = time.perf_counter()
    for i in range(0, n, batch):
        update(t[i:i + batch], acc[i:i + batch])
    return (time.perf_counter() - start) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--only", default="sisfall,mobgap,hapt,squat", help="datasets, comma-separated")
    args = parser.parse_args(argv)
    datasets = [d for d in args.only.split(",") if d]
    missing = [d for d in datasets if not glob.glob(os.path.join(args.data_dir, d, "*.truth.json"))]
    if missing:
        print(f"error: no converted {', '.join(missing)} files in {args.data_dir}; build them with the realdata kit: "
              f"cd /work/shared/realdata && python3 build.py {args.data_dir} (after fetching the mirrors its README "
              f"lists)", file=sys.stderr)
        return 2
    tally = Tally()
    cost_file = None
    for dataset in datasets:
        for csv_path in sorted(glob.glob(os.path.join(args.data_dir, dataset, "*.csv"))):
            truth, t, acc = load(csv_path)
            if dataset == "sisfall" and truth["code"] not in ("D01", "D02", *SIT_STAND):
                continue
            rate_hz = float(truth.get("rate_hz") or 1.0 / np.median(np.diff(t)))
            tally.add(truth, t, WalkingDetector(sample_rate_hz=rate_hz).update(t, acc).walking)
            if dataset == "mobgap" and truth["test"] == "Test11" and cost_file is None:
                cost_file = (os.path.basename(csv_path), t, acc, rate_hz)
    for line in tally.lines():
        print(line)
    if cost_file is not None:
        label, t, acc, rate_hz = cost_file
        costs = ", ".join(f"batch {b}: {cost_us_per_sample(t, acc, rate_hz, b):.1f}" for b in (1, 10, 100))
        print(f"cost ({label}, {rate_hz:g} Hz, first 60 s), µs/sample: {costs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
