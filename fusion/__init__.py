"""Orientation, calibration, tilt, activity and detection: the signal processing of tiltwatch."""

from fusion.orientation import estimate_orientation

__all__ = ["estimate_orientation"]
