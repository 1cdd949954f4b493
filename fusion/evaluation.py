"""Scoring detections against labelled truth: tolerance matching, F1, IoU, activity accuracy.

Shared by the tests and ``benchmarks/detection_eval.py`` (the shape of gaitmap's evaluation
utilities: match first, then count). Plain functions over floats and arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import numpy as np

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """1.0 when there was nothing to find and nothing was found."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 1.0


def match_one_to_one(detected: Sequence[A], truth: Sequence[B],
                     cost: Callable[[A, B], float | None]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching by increasing cost; ``cost`` returns None for "cannot match".
    Returns (detected index, truth index) pairs."""
    candidates = []
    for i, d in enumerate(detected):
        for j, g in enumerate(truth):
            c = cost(d, g)
            if c is not None:
                candidates.append((c, i, j))
    candidates.sort()
    used_d: set[int] = set()
    used_t: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def match_events(detected_s: Sequence[float], truth_s: Sequence[float], tolerance_s: float
                 ) -> tuple[list[tuple[int, int]], Counts]:
    """Events matched when within ``tolerance_s`` of each other (closest first)."""
    pairs = match_one_to_one(list(detected_s), list(truth_s),
                             lambda d, g: abs(d - g) if abs(d - g) <= tolerance_s else None)
    return pairs, Counts(len(pairs), len(detected_s) - len(pairs), len(truth_s) - len(pairs))


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two time intervals (0 when disjoint)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else float(a == b)


def match_intervals(detected: Sequence[tuple[float, float, str]], truth: Sequence[tuple[float, float, str]],
                    min_iou: float = 0.5) -> tuple[list[tuple[int, int]], Counts]:
    """(start, end, label) intervals matched when the labels agree and IoU >= ``min_iou``."""
    def cost(d, g):
        if d[2] != g[2]:
            return None
        iou = interval_iou((d[0], d[1]), (g[0], g[1]))
        return 1.0 - iou if iou >= min_iou else None

    pairs = match_one_to_one(list(detected), list(truth), cost)
    return pairs, Counts(len(pairs), len(detected) - len(pairs), len(truth) - len(pairs))


def binary_counts(predicted: Sequence[bool], actual: Sequence[bool]) -> Counts:
    """Counts of a yes/no label over matched items (e.g. butt wink over matched reps)."""
    p = np.asarray(predicted, dtype=bool)
    a = np.asarray(actual, dtype=bool)
    return Counts(int((p & a).sum()), int((p & ~a).sum()), int((~p & a).sum()))


def activity_accuracy(t: np.ndarray, predicted: np.ndarray, truth_t: np.ndarray, truth_labels: np.ndarray,
                      exclude_s: float = 1.0) -> tuple[float, int]:
    """Per-sample accuracy at times ``t``, truth taken at the nearest truth sample, leaving out
    samples within ``exclude_s`` of a change of the true label. Returns (accuracy, samples used)."""
    t = np.asarray(t, dtype=float)
    truth_t = np.asarray(truth_t, dtype=float)
    idx = np.clip(np.searchsorted(truth_t, t), 0, len(truth_t) - 1)
    prev = np.clip(idx - 1, 0, len(truth_t) - 1)
    idx = np.where(np.abs(truth_t[prev] - t) < np.abs(truth_t[idx] - t), prev, idx)
    actual = np.asarray(truth_labels)[idx]
    changes = truth_t[np.flatnonzero(truth_labels[1:] != truth_labels[:-1]) + 1]
    keep = np.ones(len(t), dtype=bool)
    if len(changes):
        pos = np.searchsorted(changes, t)
        before = np.abs(t - changes[np.clip(pos - 1, 0, len(changes) - 1)])
        after = np.abs(changes[np.clip(pos, 0, len(changes) - 1)] - t)
        keep = np.minimum(before, after) > exclude_s
    used = int(keep.sum())
    if used == 0:
        return float("nan"), 0
    return float((np.asarray(predicted)[keep] == actual[keep]).mean()), used


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Root-mean-square error over the samples where both are finite."""
    e = np.asarray(estimate, dtype=float) - np.asarray(truth, dtype=float)
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e ** 2))) if len(e) else float("nan")
