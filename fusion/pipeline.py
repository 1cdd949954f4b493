"""The one pipeline that live, replay and analysis all run: samples -> orientation -> tilt ->
activity -> events. Only the source and the sinks differ between them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from firmware_interface.errors import CalibrationRejected
from firmware_interface.samples import SampleBatch, SourceInfo
from fusion._quaternion import earth_up_in_sensor
from fusion.activity import ActivityClassifier
from fusion.vertical import vertical_acceleration
from fusion.calibration import AxisFinder, Calibration, NeutralCalibrator
from fusion.detection.squat import SquatDetector
from fusion.detection.sustained_tilt import SustainedTiltDetector
from fusion.orientation import OrientationEstimator
from fusion.outputs import PipelineOutput, TiltQuality
from fusion.settings import Settings
from fusion.tilt import TiltEstimator, tilt_angles_rad


class Pipeline:
    """Samples -> orientation -> calibration and tilt -> activity -> sustained tilt and squat reps.

    Stage instances are built from one frozen :class:`~fusion.settings.Settings`. ``update``
    feeds one batch through every stage; ``update_oriented`` does the same when the orientation
    is already known (analysis computes it once for the whole recording to find the calibration
    first). Until a standing neutral is set or found (the first good still window, as the wearer
    is asked to stand still at the start), tilt is measured against a provisional reference, the
    first pose: shown, used for movements within a rep once the pelvis's axis is known, never
    judged.
    """

    HOP_S = 0.05
    """``update`` runs the stages once at least this much data (in samples at the nominal rate)
    has arrived: every stage costs a fixed overhead per call, so a sensor that notifies one
    sample at a time would otherwise cost many times one that notifies ten. The stages give the
    same result however the stream is cut, so this only delays a sample by up to the hop."""

    def __init__(self, settings: Settings, sample_rate_hz: float, calibration: Calibration | None = None) -> None:
        self.settings = settings
        self._hop_samples = max(1, int(np.ceil(self.HOP_S * sample_rate_hz)))
        self._pending: list[SampleBatch] = []
        self._pending_samples = 0
        self._last_output: PipelineOutput | None = None
        self.orientation = OrientationEstimator(settings.orientation)
        self.tilt = TiltEstimator(None, settings.tilt)
        self.activity = ActivityClassifier(settings.activity, sample_rate_hz)
        self.sustained = SustainedTiltDetector(settings.sustained_tilt)
        self.squats = SquatDetector(settings.squat, settings.activity.bouts, sample_rate_hz)
        self._calibrator: NeutralCalibrator | None = None
        self._axis_finder: AxisFinder | None = None
        self._sitting_reference_deg: float | None = None
        self.set_calibration(calibration)
        if calibration is None:
            self.request_calibration("stand")

    @classmethod
    def for_source(cls, info: SourceInfo, settings: Settings | None = None,
                   calibration: Calibration | None = None) -> Pipeline:
        return cls(settings or Settings(), info.sample_rate_hz, calibration)

    @property
    def calibration(self) -> Calibration | None:
        """The standing neutral (None while only a provisional reference is known)."""
        reference = self.tilt.calibration
        return None if reference is None or reference.provisional else reference

    @property
    def reference(self) -> Calibration | None:
        """What tilt is measured against now: the neutral, or the provisional reference."""
        return self.tilt.calibration

    @property
    def calibrating(self) -> str | None:
        """The neutral being waited for (``"stand"``/``"sit"``), with its still time so far."""
        return None if self._calibrator is None else self._calibrator.kind

    @property
    def calibration_still_s(self) -> float:
        return 0.0 if self._calibrator is None else self._calibrator.still_s

    def set_calibration(self, calibration: Calibration | None) -> None:
        """Use this neutral (or provisional reference) from now on; a pending automatic
        calibration is cancelled. None: a provisional reference is taken from the next sample."""
        self._calibrator = None
        self._use(calibration)

    def _use(self, reference: Calibration | None) -> None:
        """With the default-mounting axis, the pelvis's left-right axis is then looked for in the
        wearer's first hinges, squats or sit-to-stands."""
        self.tilt.set_calibration(reference)
        self._sitting_reference_deg = self.sitting_reference_deg(reference)
        self._axis_finder = (AxisFinder(reference.up_sensor, self.settings.calibration)
                             if reference is not None and reference.axis_source == "default" else None)

    def request_calibration(self, kind: str = "stand") -> None:
        """The next good still window of the calibrator's length becomes the standing (or sitting) neutral."""
        if kind == "sit" and self.calibration is None:
            raise CalibrationRejected("calibrate standing first: a sitting neutral is measured against it")
        self._calibrator = NeutralCalibrator(self.settings.calibration, kind,  # type: ignore[arg-type]
                                             base=self.calibration if kind == "sit" else None)

    @staticmethod
    def sitting_reference_deg(calibration: Calibration | None) -> float | None:
        """The sitting neutral expressed as a tilt against the standing neutral, if one was taken."""
        if calibration is None or calibration.sit_up_sensor is None:
            return None
        tilt_rad, _ = tilt_angles_rad(calibration.sit_up_sensor[None, :], calibration.up_sensor,
                                      calibration.left_axis_sensor)
        return float(np.degrees(tilt_rad[0]))

    def update(self, batch: SampleBatch) -> PipelineOutput:
        """Feed a batch; the output covers the samples processed now (none while fewer than a
        hop are waiting: then it repeats the last status with empty arrays)."""
        if len(batch):
            self._pending.append(batch)
            self._pending_samples += len(batch)
        if self._pending_samples < self._hop_samples:
            return self._idle_output()
        return self._flush()

    def _flush(self) -> PipelineOutput:
        batch = SampleBatch.concatenate(self._pending)
        self._pending, self._pending_samples = [], 0
        output = self.update_oriented(batch, self.orientation.update(batch))
        self._last_output = output
        return output

    def _idle_output(self) -> PipelineOutput:
        empty = np.empty(0)
        last = self._last_output
        return PipelineOutput(t=empty, quaternion=np.empty((0, 4)), tilt_deg=empty, obliquity_deg=empty,
                              activity=np.empty(0, dtype="<U9"),
                              status=last.status if last is not None else "uncalibrated",
                              quality=last.quality if last is not None else TiltQuality(),
                              hold=last.hold if last is not None else None)

    def update_oriented(self, batch: SampleBatch, quaternion: np.ndarray) -> PipelineOutput:
        t = batch.t
        note = None
        if self.reference is None and len(t):
            self._use(Calibration.provisional_from(earth_up_in_sensor(quaternion[:1])[0]))
        gyr = batch.gyr - self.orientation.gyro_bias_rad_s
        if self._calibrator is not None:
            found = self._calibrator.update(t, batch.acc, gyr, quaternion)
            if found is not None:
                note = f"{'standing' if self._calibrator.kind == 'stand' else 'sitting'} neutral set"
                self._calibrator = None
                reference = self.reference
                if found.axis_source == "default" and reference is not None and reference.axis_source == "functional":
                    found = found.with_left_axis(reference.left_axis_sensor)  # the axis outlives a re-zero
                self._use(found)
        if self._axis_finder is not None:
            axis = self._axis_finder.update(t, gyr, quaternion)
            if axis is not None:
                note = "left-right axis found from your movements"
                self._use(self.reference.with_left_axis(axis))
        tilt = self.tilt.update(t, quaternion)
        acc_z = vertical_acceleration(batch.acc, quaternion)
        activity = self.activity.update(t, acc_z, gyr, tilt.tilt_deg, tilt.pitch_deg, tilt.away_deg,
                                        earth_up_in_sensor(quaternion))
        detection = self.sustained.update(t, tilt.tilt_deg, activity.labels, self._sitting_reference_deg)
        # Within a rep only changes of tilt count; they are right once the axis is known (or the
        # wearer calibrated with the default mounting).
        rep_pitch = tilt.pitch_deg if (tilt.calibrated or tilt.axis_known) else np.full(len(t), np.nan)
        squats = self.squats.update(t, rep_pitch, acc_z, gyr, activity.labels)
        return PipelineOutput(
            t=t, quaternion=quaternion, tilt_deg=tilt.tilt_deg if tilt.calibrated else tilt.pitch_deg,
            obliquity_deg=tilt.obliquity_deg, activity=activity.labels,
            status="uncalibrated" if not tilt.calibrated else detection.status,
            quality=TiltQuality(calibrated=tilt.calibrated, axis_known=tilt.axis_known,
                                sensor_slipped=tilt.sensor_slipped, still=bool(len(t) and tilt.still[-1])),
            hold=detection.hold, episodes=detection.episodes, alerts=detection.alerts, reps=squats.reps,
            transitions=activity.transitions, activity_revisions=activity.revisions, calibration_event=note)

    def finish(self) -> PipelineOutput:
        """End of stream: samples still waiting for a hop are processed, the movement in
        progress is judged if the stream ended at rest, open episodes close. The output holds
        the waiting samples (often none); its revisions may cover any sample, its own included."""
        flushed = self._flush() if self._pending else self._idle_output()
        activity = self.activity.finish()
        detection = self.sustained.finish()
        return replace(flushed, status=detection.status,
                       quality=replace(flushed.quality, calibrated=self.calibration is not None,
                                       sensor_slipped=self.tilt.sensor_slipped),
                       episodes=flushed.episodes + detection.episodes,
                       transitions=flushed.transitions + activity.transitions,
                       activity_revisions=flushed.activity_revisions + activity.revisions)
