"""Squat reps, depth and butt wink on real squat sets (development split of the real-data kit).

    python benchmarks/squat_eval.py DATA_DIR [--old]

DATA_DIR is the folder the real-data kit built (``DATA_DIR/squat/squat_NNN.csv`` with a
``.truth.json`` beside each; subjects 1-3 only). Build it with the kit in shared/realdata
(see its README: fetch github:choijaeh01/Squat-Realtime-Classifier, then
``python3 build.py DATA_DIR --only squat``). The data have no licence: they are read from
there and never copied into this repository.

Chain per file, as the analysis will wire it: orientation (``estimate_orientation``), up
direction over the first 0.5 s, the pelvis's left axis from the movements
(``find_left_axis``), pitch about it (any offset: no standing neutral), earth-frame vertical
acceleration, then ``SquatDetector`` streamed in one batch and flushed at the end.

Scoring as the kit's squat scorer: a predicted rep matches a labelled one when its bottom_s lies
inside the labelled window (one-to-one, greedy, labelled reps in time order, each taking the
unused prediction nearest its window's middle); butt-wink F1 with the class-2 reps positive;
per subject, median depth_m of matched partial (class 4) reps < 0.7 x that of correct (class 0).
Also per-file wink_deg, class 2 against the others, to judge how separable the wink is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_interface.errors import CalibrationRejected  # noqa: E402
from fusion import estimate_orientation  # noqa: E402
from fusion._quaternion import earth_up_in_sensor  # noqa: E402
from fusion.vertical import vertical_acceleration  # noqa: E402
from fusion.axis import find_left_axis  # noqa: E402
from fusion.detection.squat import SquatDetector  # noqa: E402
from fusion.tilt import tilt_angles_rad  # noqa: E402

CLASSES = {0: "correct", 1: "knee valgus", 2: "butt wink", 3: "excessive lean", 4: "partial squat"}
DEPTH_RATIO = 0.7
HOW_TO_BUILD = ("build it with the real-data kit: see shared/realdata/README.md (fetch "
                "github:choijaeh01/Squat-Realtime-Classifier, then python3 build.py DATA_DIR --only squat)")


def pelvis_signals(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pitch in degrees, any offset, NaN if the axis is not found; vertical acceleration m/s²)."""
    q = estimate_orientation(t, acc, gyr)
    up = earth_up_in_sensor(q)
    first = max(2, int(np.searchsorted(t, t[0] + 0.5)))
    up0 = up[:first].mean(axis=0)
    up0 /= np.linalg.norm(up0)
    try:
        pitch = np.degrees(tilt_angles_rad(up, up0, find_left_axis(t, gyr, q, up0))[0])
    except CalibrationRejected:
        pitch = np.full(len(t), np.nan)
    return pitch, vertical_acceleration(acc, q)


def match_reps(labelled: list[dict], bottoms: list[float]) -> list[int | None]:
    """Matched prediction index (or None) per labelled rep, labelled reps in time order."""
    used: set[int] = set()
    out: list[int | None] = []
    for r in sorted(labelled, key=lambda r: r["start_s"]):
        middle = 0.5 * (r["start_s"] + r["end_s"])
        inside = [(abs(b - middle), j) for j, b in enumerate(bottoms)
                  if j not in used and r["start_s"] <= b <= r["end_s"]]
        j = min(inside)[1] if inside else None
        if j is not None:
            used.add(j)
        out.append(j)
    return out


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    folder = args.data_dir / "squat"
    files = sorted(folder.glob("squat_*.csv"))
    if not files:
        print(f"error: no squat_*.csv in {folder}; {HOW_TO_BUILD}", file=sys.stderr)
        return 2
    counts = defaultdict(int)
    per_class = defaultdict(lambda: dict(labelled=0, matched=0, flagged=0))
    depth = defaultdict(lambda: {0: [], 4: []})
    file_winks = []
    seconds = samples = 0.0
    for path in files:
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        if truth["subject"] not in (1, 2, 3):
            print(f"error: {path.name} is subject {truth['subject']}, held out; build the development split",
                  file=sys.stderr)
            return 2
        data = np.loadtxt(path, delimiter=",", skiprows=1)
        t, acc, gyr = data[:, 0], data[:, 1:4], data[:, 4:7]
        pitch, acc_z = pelvis_signals(t, acc, gyr)
        started = time.perf_counter()
        detector = SquatDetector(sample_rate_hz=1.0 / float(np.median(np.diff(t))))
        reps = detector.update(t, pitch, acc_z, gyr, tilt_calibrated=False).reps + detector.flush(False).reps
        seconds += time.perf_counter() - started
        samples += len(t)
        labelled = truth["reps"]
        match = match_reps(labelled, [r.bottom_s for r in reps])
        matched = {j for j in match if j is not None}
        cls = truth["cls"]
        for r, j in zip(sorted(labelled, key=lambda r: r["start_s"]), match):
            flag = j is not None and reps[j].butt_wink
            counts["wtp"] += r["butt_wink"] and flag
            counts["wfn"] += r["butt_wink"] and not flag
            counts["wfp"] += (not r["butt_wink"]) and flag
            per_class[cls]["labelled"] += 1
            if j is not None:
                per_class[cls]["matched"] += 1
                per_class[cls]["flagged"] += flag
                if cls in (0, 4) and reps[j].depth_m is not None:
                    depth[truth["subject"]][cls].append(reps[j].depth_m)
        counts["wfp"] += sum(reps[j].butt_wink for j in range(len(reps)) if j not in matched)
        counts["rtp"] += len(matched)
        counts["rfp"] += len(reps) - len(matched)
        counts["rfn"] += len(labelled) - len(matched)
        winks = [reps[j].wink_deg for j in matched]
        file_winks.append((cls, truth["subject"], path.stem, len(labelled), len(reps), len(matched),
                           float(np.nanmedian(winks)) if winks else float("nan"),
                           sum(reps[j].butt_wink for j in matched)))
    rep_f1 = f1(counts["rtp"], counts["rfp"], counts["rfn"])
    wink_f1 = f1(counts["wtp"], counts["wfp"], counts["wfn"])
    print(f"squat: {len(files)} sets; reps tp {counts['rtp']} fp {counts['rfp']} fn {counts['rfn']}: "
          f"rep F1 {rep_f1:.3f} (goal >= 0.95); butt-wink tp {counts['wtp']} fp {counts['wfp']} "
          f"fn {counts['wfn']}: F1 {wink_f1:.3f} (goal >= 0.85)")
    for cls, pc in sorted(per_class.items()):
        print(f"  class {cls} {CLASSES[cls]:14s}: {pc['matched']}/{pc['labelled']} reps matched, "
              f"{pc['flagged']} flagged butt wink")
    depth_ok = True
    for subject in sorted(depth):
        d0, d4 = depth[subject][0], depth[subject][4]
        if not d0 or not d4:
            print(f"  depth subject {subject}: no matched correct or partial rep FAIL")
            depth_ok = False
            continue
        m0, m4 = float(np.median(d0)), float(np.median(d4))
        ok = m4 < DEPTH_RATIO * m0
        depth_ok &= ok
        print(f"  depth subject {subject}: partial {m4:.3f} m vs correct {m0:.3f} m (ratio {m4 / m0:.2f}) "
              f"{'ok' if ok else 'FAIL'}")
    print("per file (class, subject, file, labelled/found/matched, median wink_deg of matched reps, flagged):")
    for cls, subject, name, n_lab, n_found, n_match, wink, flagged in sorted(file_winks):
        print(f"  class {cls} subject {subject} {name}: {n_lab}/{n_found}/{n_match} reps, "
              f"wink {wink:5.1f} deg, {flagged} flagged")
    print(f"detector cost: {1e6 * seconds / samples:.1f} us per sample (one batch per file)")
    goals_met = rep_f1 >= 0.95 and wink_f1 >= 0.85 and depth_ok
    print(f"summary: rep F1 {rep_f1:.3f}, butt-wink F1 {wink_f1:.3f}, depth check "
          f"{'pass' if depth_ok else 'FAIL'}: {'all goals met' if goals_met else 'goals NOT met'}")
    return 0 if goals_met else 1


if __name__ == "__main__":
    sys.exit(main())
