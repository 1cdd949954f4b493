"""Recordings (CSV + ``#`` JSON metadata, docs/recording-format.md) and generic CSV import."""

from firmware_interface.recording.reader import FORMAT_VERSION, Recording, read_recording
from firmware_interface.recording.summary import RecordingSummary, summarize, timing_gaps
from firmware_interface.recording.writer import RecordingWriter

__all__ = [
    "FORMAT_VERSION",
    "Recording",
    "RecordingSummary",
    "RecordingWriter",
    "read_recording",
    "summarize",
    "timing_gaps",
]
