"""The one pipeline that live, replay and analysis all run: samples -> orientation -> tilt ->
activity -> events. Only the source and the sinks differ between them.
"""

from __future__ import annotations

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
    first). Until a calibration is set or found, the first still window of the session becomes
    the standing neutral, as the wearer is asked to stand still at the start.
    """

    def __init__(self, settings: Settings, sample_rate_hz: float, calibration: Calibration | None = None) -> None:
        self.settings = settings
        self.orientation = OrientationEstimator(settings.orientation)
        self.tilt = TiltEstimator(None, settings.tilt)
        self.activity = ActivityClassifier(settings.activity, sample_rate_hz)
        self.sustained = SustainedTiltDetector(settings.sustained_tilt)
        self.squats = SquatDetector(settings.squat, sample_rate_hz=sample_rate_hz)
        self._calibrator: NeutralCalibrator | None = None
        self._axis_finder: AxisFinder | None = None
        self._provisional: Calibration | None = None
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
        return self.tilt.calibration

    @property
    def calibrating(self) -> str | None:
        """The neutral being waited for (``"stand"``/``"sit"``), with its still time so far."""
        return None if self._calibrator is None else self._calibrator.kind

    @property
    def calibration_still_s(self) -> float:
        return 0.0 if self._calibrator is None else self._calibrator.still_s

    def set_calibration(self, calibration: Calibration | None) -> None:
        """Use this calibration from now on (a pending automatic one is cancelled)."""
        self._calibrator = None
        self._use(calibration)

    def _use(self, calibration: Calibration | None) -> None:
        """With the default-mounting axis, the pelvis's left-right axis is then looked for in the
        wearer's first hinges, squats or sit-to-stands."""
        self.tilt.set_calibration(calibration)
        self._sitting_reference_deg = self.sitting_reference_deg(calibration)
        self._axis_finder = (AxisFinder(calibration.up_sensor, self.settings.calibration)
                             if calibration is not None and calibration.axis_source == "default" else None)

    def request_calibration(self, kind: str = "stand") -> None:
        """The next still window of the calibrator's length becomes the standing (or sitting) neutral."""
        if kind == "sit" and self.calibration is None:
            raise CalibrationRejected("calibrate standing first: a sitting neutral is measured against it")
        self._calibrator = NeutralCalibrator(self.settings.calibration, kind,  # type: ignore[arg-type]
                                             base=self.calibration if kind == "sit" else None)
        if kind == "stand" and self.calibration is not None and self.calibration.axis_source == "functional":
            self._calibrator.base = self.calibration  # keep the functional axis across a re-zero

    @staticmethod
    def sitting_reference_deg(calibration: Calibration | None) -> float | None:
        """The sitting neutral expressed as a tilt against the standing neutral, if one was taken."""
        if calibration is None or calibration.sit_up_sensor is None:
            return None
        tilt_rad, _ = tilt_angles_rad(calibration.sit_up_sensor[None, :], calibration.up_sensor,
                                      calibration.left_axis_sensor)
        return float(np.degrees(tilt_rad[0]))

    def update(self, batch: SampleBatch) -> PipelineOutput:
        return self.update_oriented(batch, self.orientation.update(batch))

    def update_oriented(self, batch: SampleBatch, quaternion: np.ndarray) -> PipelineOutput:
        t = batch.t
        note = None
        if self._calibrator is not None:
            found = self._calibrator.update(t, batch.acc, batch.gyr - self.orientation.gyro_bias_rad_s, quaternion)
            if found is not None:
                note = f"{'standing' if self._calibrator.kind == 'stand' else 'sitting'} neutral set"
                self._calibrator = None
                self._use(found)
        if self._axis_finder is not None:
            gyr = batch.gyr - self.orientation.gyro_bias_rad_s
            axis = self._axis_finder.update(t, gyr, quaternion)
            if axis is not None:
                note = "left-right axis found from your movements"
                self._use(self.calibration.with_left_axis(axis))
        tilt = self.tilt.update(t, quaternion)
        acc_z = vertical_acceleration(batch.acc, quaternion)
        activity = self.activity.update(t, acc_z, batch.gyr, tilt.tilt_deg)
        detection = self.sustained.update(t, tilt.tilt_deg, activity.labels, self._sitting_reference_deg)
        squats = self.squats.update(t, tilt.tilt_deg, acc_z, batch.gyr, activity.labels)
        shown_tilt_deg = tilt.tilt_deg if tilt.calibrated else self._provisional_tilt_deg(quaternion)
        return PipelineOutput(
            t=t, quaternion=quaternion, tilt_deg=shown_tilt_deg, obliquity_deg=tilt.obliquity_deg,
            activity=activity.labels,
            status="uncalibrated" if not tilt.calibrated else detection.status,
            quality=TiltQuality(calibrated=tilt.calibrated, axis_known=tilt.axis_known,
                                sensor_slipped=tilt.sensor_slipped, still=bool(len(t) and tilt.still[-1])),
            hold=detection.hold, episodes=detection.episodes, alerts=detection.alerts, reps=squats.reps,
            transitions=activity.transitions, activity_revisions=activity.revisions, calibration_event=note)

    def _provisional_tilt_deg(self, quaternion: np.ndarray) -> np.ndarray:
        """Before any calibration: the tilt against the first pose seen, so the wearer sees the
        sensor respond at once. Only shown (flagged uncalibrated), never judged."""
        if len(quaternion) == 0:
            return np.empty(0)
        up = earth_up_in_sensor(quaternion)
        if self._provisional is None:
            self._provisional = Calibration.standing(up[0])
        tilt_rad, _ = tilt_angles_rad(up, self._provisional.up_sensor, self._provisional.left_axis_sensor)
        return np.degrees(tilt_rad)

    def finish(self) -> PipelineOutput:
        """End of stream: close open episodes; the last batch's per-sample arrays are empty."""
        detection = self.sustained.finish()
        empty = np.empty(0)
        return PipelineOutput(t=empty, quaternion=np.empty((0, 4)), tilt_deg=empty, obliquity_deg=empty,
                              activity=np.empty(0, dtype=str), status=detection.status,
                              quality=TiltQuality(calibrated=self.calibration is not None,
                                                  sensor_slipped=self.tilt.sensor_slipped),
                              episodes=detection.episodes)
