"""Evaluation helpers: matching, F1, IoU, activity accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from fusion.evaluation import (Counts, activity_accuracy, binary_counts, interval_iou, match_events,
                               match_intervals, rmse)


def test_event_matching_is_one_to_one_within_tolerance():
    pairs, counts = match_events([0.8, 1.2, 5.0, 9.0], [1.1, 5.9, 20.0], 1.0)
    assert pairs == [(1, 0), (2, 1)]  # the closest detection takes the truth; each used once
    assert counts == Counts(2, 2, 1)
    assert counts.precision == 0.5 and counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 * 2 / (4 + 2 + 1))


def test_f1_of_nothing_is_one_and_of_all_wrong_is_zero():
    assert Counts(0, 0, 0).f1 == 1.0
    assert Counts(0, 3, 2).f1 == 0.0


def test_interval_iou_and_matching_needs_the_same_label():
    assert interval_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert interval_iou((0, 1), (2, 3)) == 0.0
    _, counts = match_intervals([(0, 10, "anterior"), (20, 30, "posterior")],
                                [(1, 10, "anterior"), (20, 30, "anterior")], 0.5)
    assert counts == Counts(1, 1, 1)


def test_binary_counts():
    assert binary_counts([True, True, False, False], [True, False, True, False]) == Counts(1, 1, 1)


def test_activity_accuracy_leaves_out_changes():
    t = np.arange(0, 10, 0.01)
    truth = np.where(t < 5, "standing", "sitting")
    predicted = np.where(t < 5.8, "standing", "sitting")  # 0.8 s late: inside the exclusion
    accuracy, used = activity_accuracy(t, predicted, t, truth, 1.0)
    assert accuracy == 1.0 and used == pytest.approx(800, abs=2)
    accuracy, _ = activity_accuracy(t, predicted, t, truth, 0.5)
    assert accuracy < 1.0


def test_rmse_ignores_nan():
    assert rmse(np.array([1.0, np.nan, 3.0]), np.array([0.0, 0.0, 3.0])) == pytest.approx(np.sqrt(0.5))
