"""Sustained anterior/posterior tilt while standing or sitting: episodes, hold progress and alerts.

Rules (defaults from the biomechanics notes, "Recommended defaults"):

- Only standing and sitting are judged. Walking, squatting, lying, transitions ("other") and
  uncalibrated samples (NaN tilt) pause the judgement and count as "back inside" for the
  fidget tolerance.
- Thresholds are per activity. Standing: > +10° anterior, < -8° posterior vs the standing
  neutral. Sitting with a sitting calibration: > +8° / < -10° vs the sitting neutral. Sitting
  without one: > +5° / < -20° vs the standing neutral, because habitual desk sitting already sits
  10–20° posterior to standing and upright sitting is within ±5° of it.
- An episode starts when the tilt first crosses the threshold. Until it is reported it must stay
  beyond the threshold itself (brief returns shorter than the fidget tolerance aside); once
  reported it stays alive while the tilt is beyond ``threshold - hysteresis``. It ends when the
  tilt has been back inside for
  ``fidget_tolerance_s`` (end time = the first sample back inside), when the wearer changes to
  another judged activity (standing up ends a sitting episode at once: the posture changed,
  which is what the alert asked for), or at a data gap longer than the fidget tolerance.
- It becomes a reported episode, and alerts, once it has lasted the hold time (60 s sitting,
  30 s standing). After an alert for a (direction, activity), the next alert for the same pair
  waits ``re_alert_s`` (a reminder within a long episode, or a new episode soon after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_interface.errors import UsageError
from fusion.detection.events import Activity, Direction, TiltAlert, TiltEpisode
from fusion.outputs import HoldProgress, TiltStatus

JUDGED_ACTIVITIES: tuple[Activity, ...] = ("standing", "sitting")


@dataclass(frozen=True)
class SustainedTiltParams:
    standing_anterior_deg: float = 10.0
    """Anterior threshold while standing, vs the standing neutral."""
    standing_posterior_deg: float = -8.0
    sitting_anterior_deg: float = 8.0
    """Anterior threshold while sitting, vs the sitting neutral (when one was calibrated)."""
    sitting_posterior_deg: float = -10.0
    sitting_anterior_vs_standing_deg: float = 5.0
    """Anterior threshold while sitting with no sitting calibration, vs the standing neutral."""
    sitting_posterior_vs_standing_deg: float = -20.0
    hysteresis_deg: float = 3.0
    hold_sitting_s: float = 60.0
    hold_standing_s: float = 30.0
    fidget_tolerance_s: float = 5.0
    re_alert_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("standing_anterior_deg", "sitting_anterior_deg", "sitting_anterior_vs_standing_deg"):
            if not 0.0 < getattr(self, name) <= 45.0:
                raise UsageError(f"{name} must be an anterior angle in (0, 45] degrees, got {getattr(self, name)}")
        for name in ("standing_posterior_deg", "sitting_posterior_deg", "sitting_posterior_vs_standing_deg"):
            if not -60.0 <= getattr(self, name) < 0.0:
                raise UsageError(f"{name} must be a posterior angle in [-60, 0) degrees, got {getattr(self, name)}")
        if not 0.0 <= self.hysteresis_deg <= 10.0:
            raise UsageError(f"hysteresis_deg must be in [0, 10] degrees, got {self.hysteresis_deg}")
        for name in ("hold_sitting_s", "hold_standing_s", "re_alert_s"):
            if not 0.0 < getattr(self, name) <= 7200.0:
                raise UsageError(f"{name} must be in (0, 7200] seconds, got {getattr(self, name)}")
        if not 0.0 <= self.fidget_tolerance_s <= 60.0:
            raise UsageError(f"fidget_tolerance_s must be in [0, 60] seconds, got {self.fidget_tolerance_s}")
        for ant, post in ((self.standing_anterior_deg, self.standing_posterior_deg),
                          (self.sitting_anterior_deg, self.sitting_posterior_deg),
                          (self.sitting_anterior_vs_standing_deg, self.sitting_posterior_vs_standing_deg)):
            if ant - post <= 2 * self.hysteresis_deg:
                raise UsageError(f"the band {post:+g}..{ant:+g}° is too narrow for a hysteresis of "
                                 f"{self.hysteresis_deg:g}°; widen it or lower the hysteresis")

    def thresholds_deg(self, activity: str, sitting_reference_deg: float | None = None
                       ) -> tuple[float, float] | None:
        """(anterior, posterior) thresholds vs the standing neutral, or None if not judged."""
        if activity == "standing":
            return self.standing_anterior_deg, self.standing_posterior_deg
        if activity == "sitting":
            if sitting_reference_deg is None or not np.isfinite(sitting_reference_deg):
                return self.sitting_anterior_vs_standing_deg, self.sitting_posterior_vs_standing_deg
            return (sitting_reference_deg + self.sitting_anterior_deg,
                    sitting_reference_deg + self.sitting_posterior_deg)
        return None

    def hold_s(self, activity: str) -> float:
        return self.hold_sitting_s if activity == "sitting" else self.hold_standing_s


@dataclass(frozen=True)
class DetectionUpdate:
    status: TiltStatus
    hold: HoldProgress | None = None
    episodes: tuple[TiltEpisode, ...] = ()
    """Reported episodes that were under way in this batch (latest state; ``end_s`` None if open)."""
    alerts: tuple[TiltAlert, ...] = ()


@dataclass
class _Candidate:
    direction: Direction
    activity: Activity
    start_s: float
    threshold_deg: float
    peak_deg: float
    last_angle_deg: float
    out_since_s: float | None = None
    """First sample of the current run back inside the band (None while beyond/hysteresis)."""
    reported: bool = False

    def episode(self, end_s: float | None) -> TiltEpisode:
        return TiltEpisode(start_s=self.start_s, end_s=end_s, direction=self.direction,
                           activity=self.activity, peak_deg=self.peak_deg,
                           threshold_deg=self.threshold_deg)


# Per-sample zones, computed vectorised; the state machine then walks runs of equal zone.
_OUT, _ANT_BEYOND, _ANT_HYST, _POST_BEYOND, _POST_HYST = 0, 1, 2, 3, 4


class SustainedTiltDetector:
    """Streaming detector; feed consecutive batches, call :meth:`finish` at the end of a recording."""

    def __init__(self, params: SustainedTiltParams | None = None):
        self.params = params or SustainedTiltParams()
        self.reset()

    def reset(self) -> None:
        self._candidate: _Candidate | None = None
        self._last_alert_s: dict[tuple[str, str], float] = {}
        self._last_t: float | None = None
        self._last_tilt = float("nan")
        self._last_activity = "other"

    def update(self, t: np.ndarray, tilt_deg: np.ndarray, activity: np.ndarray,
               sitting_reference_deg: float | None = None) -> DetectionUpdate:
        """One batch. ``tilt_deg`` is vs the standing neutral (NaN before calibration);
        ``sitting_reference_deg`` is the sitting neutral expressed vs the standing one, if known."""
        t = np.asarray(t, dtype=float)
        tilt = np.asarray(tilt_deg, dtype=float)
        activity = np.asarray(activity)
        if not (len(t) == len(tilt) == len(activity)):
            raise ValueError("t, tilt_deg and activity must have the same length")
        episodes: dict[float, TiltEpisode] = {}
        alerts: list[TiltAlert] = []
        if self._candidate is not None and self._candidate.reported:
            episodes[self._candidate.start_s] = self._candidate.episode(None)
        if len(t):
            zone, ant_thr, post_thr = self._zones(tilt, activity, sitting_reference_deg)
            self._walk(t, tilt, activity, zone, ant_thr, post_thr, episodes, alerts)
            self._last_t = float(t[-1])
            self._last_tilt = float(tilt[-1])
            self._last_activity = str(activity[-1])
        return DetectionUpdate(status=self._status(), hold=self._hold(),
                               episodes=tuple(episodes.values()), alerts=tuple(alerts))

    def finish(self) -> DetectionUpdate:
        """End of the recording: close an open reported episode at the last sample."""
        episodes: tuple[TiltEpisode, ...] = ()
        if self._candidate is not None and self._candidate.reported and self._last_t is not None:
            episodes = (self._candidate.episode(self._last_t),)
        self._candidate = None
        return DetectionUpdate(status=self._status(), episodes=episodes)

    # -- internals -------------------------------------------------------------------------

    def _zones(self, tilt, activity, sitting_reference_deg):
        p = self.params
        ant = np.full(len(tilt), np.nan)
        post = np.full(len(tilt), np.nan)
        for name in JUDGED_ACTIVITIES:
            mask = activity == name
            if mask.any():
                ant[mask], post[mask] = p.thresholds_deg(name, sitting_reference_deg)
        zone = np.full(len(tilt), _OUT, dtype=np.int8)
        with np.errstate(invalid="ignore"):
            zone[(tilt > ant - p.hysteresis_deg)] = _ANT_HYST
            zone[tilt > ant] = _ANT_BEYOND
            zone[tilt < post + p.hysteresis_deg] = _POST_HYST
            zone[tilt < post] = _POST_BEYOND
        zone[~np.isfinite(tilt) | np.isnan(ant)] = _OUT
        return zone, ant, post

    def _walk(self, t, tilt, activity, zone, ant_thr, post_thr, episodes, alerts) -> None:
        p = self.params
        # Runs of equal (zone, activity); a data gap longer than the fidget tolerance also splits.
        codes = zone.astype(np.int64) * 16 + np.searchsorted(_ACTIVITY_ORDER, activity.astype(str))
        breaks = np.flatnonzero(np.diff(codes) != 0) + 1
        gaps = np.flatnonzero(np.diff(t) > p.fidget_tolerance_s) + 1
        starts = np.union1d(np.concatenate(([0], breaks)), gaps).astype(int)
        ends = np.append(starts[1:], len(t))
        prev_t = self._last_t
        for i0, i1 in zip(starts, ends):
            t0 = float(t[i0])
            cand = self._candidate
            if cand is not None and prev_t is not None and t0 - prev_t > p.fidget_tolerance_s:
                self._end(cand.out_since_s if cand.out_since_s is not None else prev_t, episodes)
            self._run(t[i0:i1], tilt[i0:i1], str(activity[i0]), int(zone[i0]),
                      float(ant_thr[i0]), float(post_thr[i0]), episodes, alerts)
            prev_t = float(t[i1 - 1])

    def _run(self, t, tilt, activity, zone, ant_thr, post_thr, episodes, alerts) -> None:
        """One run of samples with the same zone and activity."""
        p = self.params
        cand = self._candidate
        if cand is not None:
            # Until it is reported, an episode must stay beyond the threshold itself (the hold is
            # "sustained beyond", biomechanics notes); once reported, the hysteresis band keeps it
            # alive, so a tilt hovering at the threshold does not end and restart it.
            beyond = _ANT_BEYOND if cand.direction == "anterior" else _POST_BEYOND
            band = _ANT_HYST if cand.direction == "anterior" else _POST_HYST
            same_side = zone == beyond or (cand.reported and zone == band)
            opposite_beyond = zone == (_POST_BEYOND if cand.direction == "anterior" else _ANT_BEYOND)
            back_since_s = cand.out_since_s if cand.out_since_s is not None else float(t[0])
            if activity in JUDGED_ACTIVITIES and activity != cand.activity:
                self._end(back_since_s, episodes)  # e.g. standing up ends a sitting episode
            elif activity == cand.activity and opposite_beyond:
                self._end(back_since_s, episodes)  # a swing to the other side is not a fidget
            elif activity == cand.activity and same_side:
                cand.out_since_s = None
                if zone in (_ANT_BEYOND, _POST_BEYOND):
                    extreme = float(tilt.max() if cand.direction == "anterior" else tilt.min())
                    if (extreme - cand.peak_deg) * (1 if cand.direction == "anterior" else -1) > 0:
                        cand.peak_deg = extreme
                cand.last_angle_deg = float(tilt[-1])
                self._maybe_alert(cand, t, tilt, episodes, alerts)
                return
            else:
                cand.out_since_s = back_since_s
                if t[-1] - back_since_s >= p.fidget_tolerance_s:
                    self._end(back_since_s, episodes)
                return
        if zone in (_ANT_BEYOND, _POST_BEYOND) and activity in JUDGED_ACTIVITIES:
            direction: Direction = "anterior" if zone == _ANT_BEYOND else "posterior"
            extreme = float(tilt.max() if direction == "anterior" else tilt.min())
            self._candidate = _Candidate(
                direction=direction, activity=activity,  # type: ignore[arg-type]
                start_s=float(t[0]), threshold_deg=ant_thr if direction == "anterior" else post_thr,
                peak_deg=extreme, last_angle_deg=float(tilt[-1]))
            self._maybe_alert(self._candidate, t, tilt, episodes, alerts)

    def _maybe_alert(self, cand: _Candidate, t, tilt, episodes, alerts) -> None:
        hold_s = self.params.hold_s(cand.activity)
        if t[-1] - cand.start_s < hold_s:
            return
        cand.reported = True
        episodes[cand.start_s] = cand.episode(None)
        key = (cand.direction, cand.activity)
        due_s = max(cand.start_s + hold_s, self._last_alert_s.get(key, -np.inf) + self.params.re_alert_s)
        while t[-1] >= due_s:
            i = int(np.searchsorted(t, due_s))
            alert = TiltAlert(t_s=float(t[i]), direction=cand.direction, angle_deg=float(tilt[i]),
                              duration_s=float(t[i]) - cand.start_s, activity=cand.activity,
                              threshold_deg=cand.threshold_deg, hold_s=hold_s,
                              episode_start_s=cand.start_s)
            alerts.append(alert)
            self._last_alert_s[key] = alert.t_s
            due_s = alert.t_s + self.params.re_alert_s

    def _end(self, end_s: float, episodes) -> None:
        cand = self._candidate
        if cand is not None and cand.reported:
            episodes[cand.start_s] = cand.episode(end_s)
        self._candidate = None

    def _status(self) -> TiltStatus:
        if not np.isfinite(self._last_tilt):
            return "uncalibrated"
        if self._last_activity not in JUDGED_ACTIVITIES:
            return "paused"
        cand = self._candidate
        if cand is not None and cand.out_since_s is None:
            return cand.direction
        return "neutral"

    def _hold(self) -> HoldProgress | None:
        cand = self._candidate
        if cand is None or cand.reported or self._last_t is None:
            return None
        return HoldProgress(direction=cand.direction, angle_deg=cand.last_angle_deg,
                            elapsed_s=self._last_t - cand.start_s,
                            hold_s=self.params.hold_s(cand.activity),
                            threshold_deg=cand.threshold_deg)


_ACTIVITY_ORDER = np.array(sorted(("standing", "sitting", "walking", "squatting", "lying", "other")))


def detect_sustained_tilt(t: np.ndarray, tilt_deg: np.ndarray, activity: np.ndarray,
                          sitting_reference_deg: float | None = None,
                          params: SustainedTiltParams | None = None
                          ) -> tuple[tuple[TiltEpisode, ...], tuple[TiltAlert, ...]]:
    """Batch helper for whole recordings: every reported episode (closed at the end) and alert."""
    detector = SustainedTiltDetector(params)
    first = detector.update(t, tilt_deg, activity, sitting_reference_deg)
    last = detector.finish()
    episodes = {e.start_s: e for e in first.episodes}
    episodes.update({e.start_s: e for e in last.episodes})
    return tuple(sorted(episodes.values(), key=lambda e: e.start_s)), first.alerts


def time_in_zone(t: np.ndarray, tilt_deg: np.ndarray, activity: np.ndarray,
                 params: SustainedTiltParams | None = None, sitting_reference_deg: float | None = None
                 ) -> dict[str, dict[str, float]]:
    """Seconds spent neutral / anterior / posterior (beyond the activity's threshold) for each
    judged activity. Each sample counts for the time to the next one, capped at the fidget
    tolerance so a gap in the data is not counted as posture."""
    p = params or SustainedTiltParams()
    t = np.asarray(t, dtype=float)
    tilt = np.asarray(tilt_deg, dtype=float)
    activity = np.asarray(activity).astype(str)
    weights = np.minimum(np.diff(t, append=t[-1] if len(t) else 0.0), p.fidget_tolerance_s)
    result: dict[str, dict[str, float]] = {}
    for name in JUDGED_ACTIVITIES:
        anterior_deg, posterior_deg = p.thresholds_deg(name, sitting_reference_deg)
        mask = (activity == name) & np.isfinite(tilt)
        ant = mask & (tilt > anterior_deg)
        post = mask & (tilt < posterior_deg)
        result[name] = {"neutral": float(weights[mask & ~ant & ~post].sum()),
                        "anterior": float(weights[ant].sum()), "posterior": float(weights[post].sum())}
    return result
