"""The one pipeline that live, replay and analysis all run: samples -> orientation -> tilt ->
activity -> events. Only the source and the sinks differ between them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from firmware_interface.errors import CalibrationRejected
from firmware_interface.samples import SampleBatch, SourceInfo
from fusion._quaternion import earth_up_in_sensor
from fusion.activity import ActivityClassifier, ActivitySpan, activity_spans
from fusion.vertical import vertical_acceleration
from fusion.axis import AxisFinder
from fusion.calibration import Calibration, NeutralCalibrator
from fusion.detection.squat import SquatDetector
from fusion.detection.sustained_tilt import SustainedTiltDetector
from fusion.orientation import OrientationEstimator
from fusion.outputs import PipelineOutput, TiltQuality
from fusion.settings import Settings
from fusion.tilt import TiltEstimator, pelvis_axes, tilt_angles_rad


class TurningDetector:
    """Per sample: has the pelvis been turning on average faster than ``rate_deg_s`` over the last
    ``window_s``? Squats turn it 17–38° each way every 1–3 s; standing or sitting still, under
    3°/s; a fidget is over within the sustained-tilt detector's fidget tolerance."""

    def __init__(self, window_s: float = 4.0, rate_deg_s: float = 8.0) -> None:
        self.window_s = window_s
        self._rate_rad_s = np.radians(rate_deg_s)
        self._t = np.empty(0)
        self._rate = np.empty(0)

    def update(self, t: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        all_t = np.concatenate([self._t, t])
        rate = np.concatenate([self._rate, np.linalg.norm(gyr, axis=1)])
        sums = np.concatenate(([0.0], np.cumsum(rate)))
        first = np.searchsorted(all_t, all_t - self.window_s, side="left")
        mean = (sums[1:] - sums[first]) / (np.arange(1, len(all_t) + 1) - first)
        keep = all_t > all_t[-1] - self.window_s if len(all_t) else np.zeros(0, dtype=bool)
        self._t, self._rate = all_t[keep], rate[keep]
        return (mean > self._rate_rad_s)[len(all_t) - len(t):]


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

    SHOW_HOP_S = 0.06
    """``update`` runs the orientation filter and the tilt on screen once this much data (in
    samples at the nominal rate) has arrived: vectorised stages cost a fixed overhead per call,
    so a sensor that notifies one sample at a time would otherwise cost many times one that
    notifies ten. The dashboard redraws once per show hop (about 17 times a second): a sample
    waits for its hop to fill, then is drawn."""
    DETECT_HOP_S = 2.0
    """... and calibration, activity and detection once this much while the pelvis keeps still
    (posture holds last 30–60 s, so their results may arrive two seconds later). Their cost is
    nearly all a fixed cost per hop (about 2 ms, a few hundred NumPy calls over short arrays),
    spread over the hop's samples: at 100 Hz a 1-s hop costs about half the ahrs filter's time
    per sample, a 2-s hop a quarter."""
    MOVING_DETECT_HOP_S = 1.0
    """The detection hop after one that ended with the pelvis turning (a squat set, getting up,
    walking): a rep, reported when it ends, then reaches the screen a second sooner. Each hop's
    length follows from the samples alone, and every stage gives the same result however the
    stream is cut, so the hops change only when results arrive, never what they are."""

    SHOWN_LABEL_LAG_S = 0.6
    """The activity shown for new samples is that of a sample this much older (see ``_output``)."""

    def __init__(self, settings: Settings, sample_rate_hz: float, calibration: Calibration | None = None) -> None:
        self.settings = settings
        self._show_hop = max(1, int(np.ceil(round(self.SHOW_HOP_S * sample_rate_hz, 6))))  # 0.07 * 100 is 7.000...01
        self._still_hop, self._moving_hop = (self._show_hop * max(1, int(round(hop_s / self.SHOW_HOP_S)))
                                             for hop_s in (self.DETECT_HOP_S, self.MOVING_DETECT_HOP_S))
        self._detect_hop = self._still_hop
        self._turning_now = False  # at the newest judged sample
        # Waiting samples as (t, acc, gyr) arrays (and the quaternions once oriented): a
        # SampleBatch's validation costs as much as a hop's orientation set-up.
        self._to_show: list[tuple[np.ndarray, ...]] = []
        self._to_show_samples = 0
        self._to_detect: list[tuple[np.ndarray, ...]] = []
        self._to_detect_samples = 0
        self._last_detection: PipelineOutput | None = None
        self._shown_label = "standing"  # the activity shown for new samples
        self._idle: PipelineOutput | None = None  # the output while a show hop fills (no samples)
        self._shown_axes: tuple[Calibration, tuple[np.ndarray, np.ndarray]] | None = None  # per reference
        self.orientation = OrientationEstimator(settings.orientation)
        self.tilt = TiltEstimator(None, settings.tilt)
        self.activity = ActivityClassifier(settings.activity, sample_rate_hz)
        self.sustained = SustainedTiltDetector(settings.sustained_tilt)
        self._turning = TurningDetector()
        self._squat_set, self._squat_end_s = 0, -np.inf  # the last rep's set and end
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
    def samples_until_shown(self) -> int:
        """Samples ``update`` needs before its output shows any (its output is idle until then)."""
        return max(1, self._show_hop - self._to_show_samples)

    @property
    def calibration_still_s(self) -> float:
        return 0.0 if self._calibrator is None else self._calibrator.still_s

    def use_alert_settings(self, settings: Settings) -> None:
        """The sustained-tilt thresholds, hold times and alert delivery of ``settings`` (the
        settings screen), from the next update on; the rest stays as the pipeline was built."""
        self.settings = replace(self.settings, sustained_tilt=settings.sustained_tilt, alerts=settings.alerts)
        self.sustained.params = settings.sustained_tilt

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
        """Feed a batch as it arrives (live and replay). The output holds the samples shown now,
        with their orientation and tilt (none while fewer than a show hop are waiting); their
        activity is the latest known, corrected in a later output's revisions once the detection
        hop has judged them; events, status and quality are those of the latest detection.
        Samples are taken in whole show hops and judged in whole detection hops counted from the
        first sample, so the outputs' content does not depend on how the stream was cut."""
        if len(batch):
            self._to_show.append((batch.t, batch.acc, batch.gyr))
            self._to_show_samples += len(batch)
        if self._to_show_samples < self._show_hop:
            if self._idle is None:
                self._idle = self._output()
            return self._idle
        t, acc, gyr = _joined(self._to_show)
        ready = len(t) // self._show_hop * self._show_hop
        self._to_show = [(t[ready:], acc[ready:], gyr[ready:])] if ready < len(t) else []
        self._to_show_samples = len(t) - ready
        return self._show(t[:ready], acc[:ready], gyr[:ready])

    def _show(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> PipelineOutput:
        """Orientation for these samples, then per show hop: queue it for detection (judging each
        whole detection hop) and its tilt against the reference known by then. Computed per run
        of show hops between two detections (the same result; per-call overheads once per run):
        the hop that completes a detection hop is shown against the reference that detection
        leaves."""
        quaternion, up = self.orientation.orient(t, acc, gyr)
        detections, tilt, obliquity = [], [], []
        a, n = 0, len(t)
        while a < n:
            b = min(n, a + self._detect_hop - self._to_detect_samples)
            self._to_detect.append((t[a:b], acc[a:b], gyr[a:b], quaternion[a:b]))
            self._to_detect_samples += b - a
            if self._to_detect_samples >= self._detect_hop:
                last_hop = max(a, b - self._show_hop)
                if last_hop > a:
                    self._append_shown_tilt(up[a:last_hop], tilt, obliquity)
                detections.append(self._detect())
                a = last_hop
            self._append_shown_tilt(up[a:b], tilt, obliquity)
            a = b
        if len(tilt) > 1:
            tilt, obliquity = [np.concatenate(tilt)], [np.concatenate(obliquity)]
        return self._output(t, quaternion, tilt[0], obliquity[0], detections)

    def _detect(self) -> PipelineOutput:
        t, acc, gyr, quaternion = _joined(self._to_detect)
        self._to_detect, self._to_detect_samples = [], 0
        detection = self.update_oriented(SampleBatch(t, acc, gyr), quaternion)
        self._detect_hop = self._moving_hop if self._turning_now else self._still_hop
        # The detection hop's labels, for the samples already shown with the previous label.
        labels = tuple(ActivitySpan(span.start_s, span.end_s, span.activity)
                       for span in activity_spans(detection.t, detection.activity))
        detection = replace(detection, activity_revisions=detection.activity_revisions + labels)
        self._last_detection = detection
        if len(detection.activity):
            # The newest samples of a detection hop are not judged for walking yet (up to 0.5 s,
            # ``fusion.walking``): new samples show the label of the newest judged one.
            judged = int(np.searchsorted(detection.t, detection.t[-1] - self.SHOWN_LABEL_LAG_S, side="right")) - 1
            self._shown_label = str(detection.activity[max(judged, 0)])
        self._idle = None  # it shows the latest detection's status
        return detection

    def _output(self, t: np.ndarray | None = None, quaternion: np.ndarray | None = None,
                tilt: np.ndarray | None = None, obliquity: np.ndarray | None = None,
                detections: list[PipelineOutput] = ()) -> PipelineOutput:
        """Shown samples (none by default) with the events of the detections that ran meanwhile."""
        last = self._last_detection
        if t is None:
            t, quaternion, tilt, obliquity = np.empty(0), np.empty((0, 4)), np.empty(0), np.empty(0)
        activity = np.empty(len(t), dtype="<U9")
        activity[:] = self._shown_label  # (np.full with a string costs twice as much)
        events = {}  # most hops: none
        if detections:
            notes = [d.calibration_event for d in detections if d.calibration_event]
            events = dict(episodes=tuple(e for d in detections for e in d.episodes),
                          alerts=tuple(a for d in detections for a in d.alerts),
                          reps=tuple(r for d in detections for r in d.reps),
                          transitions=tuple(x for d in detections for x in d.transitions),
                          activity_revisions=tuple(x for d in detections for x in d.activity_revisions),
                          calibration_event=notes[-1] if notes else None)
        return PipelineOutput(
            t=t, quaternion=quaternion, tilt_deg=tilt, obliquity_deg=obliquity, activity=activity,
            status=last.status if last is not None else "uncalibrated",
            quality=last.quality if last is not None else TiltQuality(),
            hold=last.hold if last is not None else None, **events)

    def _append_shown_tilt(self, up: np.ndarray, tilt: list[np.ndarray], obliquity: list[np.ndarray]) -> None:
        """Tilt and obliquity to show of up-directions ``up``, against the reference in use (the
        provisional one, from the first pose, until a neutral is set: shown, flagged
        uncalibrated, never judged)."""
        if self.reference is None:
            self._use(Calibration.provisional_from(up[0]))
        reference = self.reference
        if self._shown_axes is None or self._shown_axes[0] is not reference:
            self._shown_axes = (reference, pelvis_axes(reference.up_sensor, reference.left_axis_sensor))
        tilt_rad, obliquity_rad = tilt_angles_rad(up, reference.up_sensor, reference.left_axis_sensor,
                                                  self._shown_axes[1])
        tilt.append(np.degrees(tilt_rad))
        obliquity.append(np.degrees(obliquity_rad) if not reference.provisional else np.full(len(up), np.nan))

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
                                        earth_up_in_sensor(quaternion), batch.acc)
        # A pelvis that keeps turning (a squat set, exercise) holds no posture: not judged, as
        # in a transition.
        turning = self._turning.update(t, gyr)
        if len(t):
            self._turning_now = bool(turning[-1])
        judged = np.where(turning, "other", activity.labels)
        detection = self.sustained.update(t, tilt.tilt_deg, judged, self._sitting_reference_deg)
        # Within a rep only changes of tilt count; they are right once the axis is known (or the
        # wearer calibrated with the default mounting).
        rep_pitch = tilt.pitch_deg if (tilt.calibrated or tilt.axis_known) else np.full(len(t), np.nan)
        squats = self.squats.update(t, rep_pitch, acc_z, gyr, activity.labels, tilt_calibrated=tilt.calibrated)
        labels, squatting = self._squatting(t, activity.labels, squats.reps)
        return PipelineOutput(
            t=t, quaternion=quaternion, tilt_deg=tilt.tilt_deg if tilt.calibrated else tilt.pitch_deg,
            obliquity_deg=tilt.obliquity_deg, activity=labels,
            status="uncalibrated" if not tilt.calibrated else detection.status,
            quality=TiltQuality(calibrated=tilt.calibrated, axis_known=tilt.axis_known,
                                sensor_slipped=tilt.sensor_slipped, still=bool(len(t) and tilt.still[-1])),
            hold=detection.hold, episodes=detection.episodes, alerts=detection.alerts, reps=squats.reps,
            transitions=activity.transitions, activity_revisions=activity.revisions + squatting,
            calibration_event=note)

    def _squatting(self, t: np.ndarray, labels: np.ndarray, reps) -> tuple[np.ndarray, tuple[ActivitySpan, ...]]:
        """Squatting is what the squat detector found: each rep, and the turn between two reps
        of one set. Labels of this batch, and revisions for earlier samples."""
        labels = labels.copy()
        revisions = []
        for rep in reps:
            start_s = self._squat_end_s if rep.set == self._squat_set and rep.index > 1 else rep.start_s
            labels[(t >= start_s) & (t <= rep.end_s)] = "squatting"
            if len(t) == 0 or start_s < t[0]:
                revisions.append(ActivitySpan(start_s, rep.end_s if len(t) == 0 else min(rep.end_s, float(t[0])),
                                              "squatting"))
            self._squat_set, self._squat_end_s = rep.set, rep.end_s
        return labels, tuple(revisions)

    def finish(self) -> PipelineOutput:
        """End of stream: samples still waiting are shown and judged, the movement in progress
        is judged if the stream ended at rest, open episodes close. The output holds the waiting
        samples (often none); its revisions may cover any sample, its own included."""
        output = self._show(*_joined(self._to_show)) if self._to_show else self._output()
        self._to_show, self._to_show_samples = [], 0
        if self._to_detect:
            detection = self._detect()
            output = replace(output, episodes=output.episodes + detection.episodes,
                             alerts=output.alerts + detection.alerts, reps=output.reps + detection.reps,
                             transitions=output.transitions + detection.transitions,
                             activity_revisions=output.activity_revisions + detection.activity_revisions,
                             calibration_event=detection.calibration_event or output.calibration_event)
        activity = self.activity.finish()
        ended = self.sustained.finish()
        last_reps = self.squats.flush(tilt_calibrated=self.calibration is not None).reps
        _, squatting = self._squatting(np.empty(0), np.empty(0, dtype="<U9"), last_reps)
        return replace(output, status=ended.status,
                       quality=replace(output.quality, calibrated=self.calibration is not None,
                                       sensor_slipped=self.tilt.sensor_slipped),
                       episodes=output.episodes + ended.episodes, reps=output.reps + last_reps,
                       transitions=output.transitions + activity.transitions,
                       activity_revisions=output.activity_revisions + activity.revisions + squatting)


def _joined(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Column-wise concatenation of queued (t, acc, gyr, ...) pieces (no copy for one piece)."""
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(column) for column in zip(*parts))
