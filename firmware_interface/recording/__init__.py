"""Recordings (CSV + ``#`` JSON metadata, docs/recording-format.md) and generic CSV import.

``read_recording`` gives a whole file as one batch; ``open_recording_stream`` the same samples in
chunks, in constant memory (see ``stream.py``).
"""

from firmware_interface.recording.metadata import FORMAT_VERSION
from firmware_interface.recording.reader import Recording, read_recording
from firmware_interface.recording.scan import StreamStats
from firmware_interface.recording.stream import RecordingStream, open_recording_stream
from firmware_interface.recording.summary import RecordingSummary, summarize
from firmware_interface.recording.units import Units
from firmware_interface.recording.writer import RecordingWriter

__all__ = [
    "FORMAT_VERSION",
    "Recording",
    "RecordingStream",
    "RecordingSummary",
    "RecordingWriter",
    "StreamStats",
    "Units",
    "open_recording_stream",
    "read_recording",
    "summarize",
]
