"""What the detectors report (events.py) and the detectors: sustained tilt and squat reps."""

from fusion.detection.events import ACTIVITIES, SquatRep, TiltAlert, TiltEpisode
from fusion.detection.squat import SetSummary, SquatDetector, SquatParams, detect_squats, summarize_sets
from fusion.detection.sustained_tilt import (
    DetectionUpdate, SustainedTiltDetector, SustainedTiltParams, detect_sustained_tilt, time_in_zone)

__all__ = [
    "ACTIVITIES", "DetectionUpdate", "SetSummary", "SquatDetector", "SquatParams", "SquatRep",
    "SustainedTiltDetector", "SustainedTiltParams", "TiltAlert", "TiltEpisode", "detect_squats",
    "detect_sustained_tilt", "summarize_sets", "time_in_zone",
]
