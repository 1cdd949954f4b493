"""The dashboard's recording: a full disk stops the recording, never the session.

``GuardedRecorder`` wraps a ``RecordingWriter`` (or anything with its methods). The first
``OSError`` (ENOSPC, EIO, a vanished USB stick) ends the recording: the file keeps everything
written before it, ``stopped_reason`` says why in one line, and later calls do nothing.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from firmware_interface.samples import SampleBatch

logger = logging.getLogger(__name__)


class GuardedRecorder:
    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.path = getattr(recorder, "path", None)
        self.stopped_reason: str | None = None
        """One line for the notification: what failed, and what the file keeps."""
        self.stopped_short: str | None = None
        """A few words for the link panel."""
        self._closed = False

    @property
    def recording(self) -> bool:
        return self.stopped_reason is None and not self._closed

    def append(self, batch: SampleBatch) -> None:
        self._guarded(self.recorder.append, batch)

    def add_metadata(self, key: str, entry: dict[str, Any]) -> None:
        self._guarded(self.recorder.add_metadata, key, entry)

    def add_calibration(self, note: str, calibration: Any) -> None:
        """A ``fusion.calibration.Calibration`` as the ``calibration`` metadata line."""
        sitting = calibration.sit_up_sensor
        self.add_metadata("calibration", {
            "note": note,
            "made_at_s": calibration.made_at_s,
            "still_window_s": list(calibration.still_window),
            "axis_source": calibration.axis_source,
            "up_sensor": calibration.up_sensor.tolist(),
            "left_axis_sensor": calibration.left_axis_sensor.tolist(),
            "sit_up_sensor": None if sitting is None else sitting.tolist(),
        })

    def close(self, health: dict[str, Any] | None = None) -> None:
        """Write the link's final ``health`` line (if given) and close; only the first call acts."""
        if self._closed:
            return
        if health is not None:
            self.add_metadata("health", health)
        self._closed = True
        with contextlib.suppress(OSError):  # the stop was already reported
            self.recorder.close()

    def _guarded(self, write: Any, *args: Any) -> None:
        if not self.recording:
            return
        try:
            write(*args)
        except OSError as error:
            written = getattr(self.recorder, "samples_written", None)
            kept = f"; the file keeps the {written} samples before it" if written is not None else ""
            self.stopped_reason = f"recording stopped: cannot write {self.path} ({error.strerror or error}){kept}"
            self.stopped_short = f"REC stopped: {error.strerror or type(error).__name__}"
            logger.warning("%s", self.stopped_reason)
            with contextlib.suppress(OSError):
                self.recorder.close()
            self._closed = True
