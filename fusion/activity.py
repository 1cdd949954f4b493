"""Activity from the sacrum sensor alone: standing, sitting, walking, squatting, lying, other,
with the sit-to-stand and stand-to-sit transitions between them.

Movement bouts (``fusion.bouts``) carry the transfers and the hinges; walking is found from the
step bounce; lying from how far the pelvis turned from standing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY
from fusion.bouts import BoutParams, BoutTracker
from fusion.vertical import find_dips
from fusion.walking import WalkingDetector, WalkingParams

@dataclass(frozen=True)
class Transition:
    kind: str
    """"sit_to_stand" or "stand_to_sit"."""
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ActivitySpan:
    start_s: float
    end_s: float
    activity: str


@dataclass(frozen=True)
class ActivityParams:
    min_transfer_m: float = 0.2
    """Net vertical displacement of a sit-to-stand or stand-to-sit (skdh uses 0.125 m; a
    sacral sensor moves 0.25–0.45 m in one, a seated posture shift up to about 0.15 m)."""
    seat_transfer_m: float = 0.125
    """The same for the way down to and up from a seat found at the bottom of a dip, or for a
    movement that also changed the posture by ``posture_change_deg`` (skdh's 0.125 m): the seat
    or the posture change tells it from a shift in the chair."""
    posture_change_deg: float = 11.6
    """Angle between the poses before and after a movement that marks a change between standing
    and sitting (Vähä-Ypyä's sit/stand cut-point at the hip, 94% sensitivity and specificity)."""
    min_transfer_speed_m_s: float = 0.2
    """Peak vertical speed of a transfer (skdh's 0.2 m/s)."""
    max_transfer_bout_s: float = 10.0
    """A longer bout (walking about, a squat set) is no single transfer or hinge."""
    other_tilt_excursion_deg: float = 25.0
    """A bout that turns the pelvis this far and is neither a transfer nor a squat (a hip
    hinge, picking something up) is "other"."""
    lying_tilt_deg: float = 60.0
    """Angle from the standing neutral, in any plane, beyond which the trunk is lying
    (Vähä-Ypyä: 65° lie/sit), at the end of the movement that got there."""
    sit_tiebreak_deg: float = -12.0
    """A "standing" posture held this far posterior for ``tiebreak_hold_s`` is sitting (11.6°)."""
    tiebreak_hold_s: float = 5.0
    min_dip_m: float = 0.12
    """Squat-like dips (for the "squatting" label), as SquatParams.min_depth_m."""
    seated_max_pitch_deg: float = 10.0
    """A rest at the bottom of a dip with the pelvis no further forward than this (vs the
    reference) is a seat: sitting rests the pelvis 0–20° behind standing, a squat's bottom
    holds it 20–40° in front (biomechanics notes §1.2, §2.2)."""
    seated_recline_deg: float = 30.0
    """... or one this far behind the most forward pitch of the way down: sitting down leans
    forward and reclines onto the seat (35–45° in real sit-downs, older people included), while
    a squat's bottom stays forward (a butt wink turns it back 5–25°)."""
    seated_min_rest_known_pitch_s: float = 0.3
    seated_min_rest_s: float = 1.0
    """A rest this long at the bottom of a dip is a seat whatever the pitch: squats pause 0–1 s
    at the bottom (biomechanics notes, simulator table); real sit-downs held still 1.1–2.6 s
    even when asked to sit only "a moment"."""
    max_dip_net_fraction: float = 0.5
    bouts: BoutParams = field(default_factory=BoutParams)
    walking: WalkingParams = field(default_factory=WalkingParams)

    def __post_init__(self) -> None:
        from firmware_interface.errors import UsageError

        if not 0.05 <= self.min_transfer_m <= 0.6:
            raise UsageError(f"min_transfer_m must be in [0.05, 0.6] m, got {self.min_transfer_m}")
        if not 30.0 <= self.lying_tilt_deg <= 90.0:
            raise UsageError(f"lying_tilt_deg must be in [30, 90] degrees, got {self.lying_tilt_deg}")
        if not -45.0 <= self.sit_tiebreak_deg <= -5.0:
            raise UsageError(f"sit_tiebreak_deg must be in [-45, -5] degrees, got {self.sit_tiebreak_deg}")


@dataclass(frozen=True, eq=False)
class ActivityUpdate:
    labels: np.ndarray
    """Per-sample activity of this batch (str). Movements are recognised when they end, so a
    transfer or a squat set is labelled in the batch where its bout closes (about 1.5 s after
    the wearer comes to rest); samples of earlier batches are corrected in ``revisions``."""
    transitions: tuple[Transition, ...] = ()
    revisions: tuple[ActivitySpan, ...] = ()
    """Corrected labels for samples delivered in earlier batches (apply in order; each covers
    the earlier samples with ``start_s <= t <= end_s``)."""


class ActivityClassifier:
    """Standing, sitting, walking, squatting, lying, other from the sacrum sensor alone.

    A transition-driven state machine (biomechanics notes §3.3): movement bouts between rests
    are integrated to a vertical displacement (zero-velocity updates at the rests); a bout that
    lowers the pelvis by ``min_transfer_m`` or more is a stand-to-sit, one that raises it a
    sit-to-stand, one with down-and-up dips is left to the squat detector (``fusion.detection.squat``,
    whose reps the pipeline labels squatting), one that turns the pelvis far is
    "other"; between bouts the posture holds. Walking (a large vertical bounce at 1.2–3.5
    steps/s that repeats a step and a stride later, ``fusion.walking``) overrides and leaves
    the wearer standing. Lying: a movement that ends 60° or more from the standing neutral, in
    any plane. Against a neutral, a movement from within 11.6° of it to beyond, or back, is a
    sit-down or a stand-up. Tie-breaker for a missed stand-to-sit: "standing" held 12° or more
    posterior for 5 s is sitting. Before calibration only the movement cues are used.

    Live delay: a bout is judged when it ends plus ``BoutParams.join_rest_s`` of rest; the first
    samples of a walk up to 3 s late (``fusion.walking``); later labels arrive in ``revisions``.
    """

    def __init__(self, params: ActivityParams | None = None, sample_rate_hz: float = 100.0):
        self.params = params or ActivityParams()
        self._bouts = BoutTracker(self.params.bouts, sample_rate_hz)
        self._walker = WalkingDetector(self.params.walking, sample_rate_hz)
        self.reset()

    def reset(self) -> None:
        self._bouts.reset()
        self._walker.reset()
        self._posture = "standing"
        self._tiebreak_since: float | None = None
        self._last_t: float | None = None
        # Walking spans (start, end s) recent enough for a closing bout's revisions to reach.
        self._walks: list[tuple[float, float]] = []

    def update(self, t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, tilt_deg: np.ndarray,
               pitch_deg: np.ndarray | None = None, away_deg: np.ndarray | None = None,
               up: np.ndarray | None = None, acc: np.ndarray | None = None) -> ActivityUpdate:
        """``acc_z``: earth-frame vertical acceleration (m/s², gravity removed, see
        :func:`fusion.vertical.vertical_acceleration`); ``gyr`` (N, 3) rad/s; ``tilt_deg`` vs the
        standing neutral (NaN before calibration); ``pitch_deg`` and ``away_deg`` as in
        :class:`fusion.tilt.TiltBatch`, vs the reference in use, neutral or provisional (default:
        ``tilt_deg`` and its magnitude); ``up`` (N, 3) the earth's up in the sensor frame, which
        tells a posture change from the poses before and after a movement; ``acc`` (N, 3) the
        specific force in the sensor frame, whose magnitude shows the steps (default: the
        vertical acceleration alone)."""
        t = np.asarray(t, dtype=float)
        acc_z = np.asarray(acc_z, dtype=float)
        tilt = np.asarray(tilt_deg, dtype=float)
        pitch = tilt if pitch_deg is None else np.asarray(pitch_deg, dtype=float)
        away_all = np.abs(pitch) if away_deg is None else np.asarray(away_deg, dtype=float)
        n = len(t)
        if n == 0:
            return ActivityUpdate(labels=np.empty(0, dtype="<U9"))
        if acc is None:
            acc = np.column_stack([np.zeros((len(t), 2)), acc_z + STANDARD_GRAVITY])
        steps = self._walker.update(t, np.asarray(acc, dtype=float))
        walking, walked_earlier = steps.walking, steps.earlier
        walk_edges = np.flatnonzero(np.diff(np.concatenate([walking.astype(np.int8), [0]])) == -1)
        walk_ends = [float(t[i]) for i in walk_edges]
        up = np.full((len(t), 3), np.nan) if up is None else np.asarray(up, dtype=float)
        bouts = self._bouts.update(t, acc_z, gyr, tilt=pitch, away=away_all, walking=walking.astype(float),
                                   neutral=np.isfinite(tilt).astype(float),
                                   up_x=up[:, 0], up_y=up[:, 1], up_z=up[:, 2])
        changes, spans, transitions = self._judge_bouts(bouts, walk_ends)
        self._last_t = float(t[-1])
        changes += [(w, "standing") for w in walk_ends]
        labels = np.empty(n, dtype="<U9")
        labels[:] = self._posture
        revisions: list[ActivitySpan] = []
        for when, what in sorted(changes, key=lambda c: c[0]):
            labels[t > when] = what
            self._posture = what
            if when < t[0]:
                revisions.append(ActivitySpan(when, float(t[0]), what))
        for start_s, end_s, what in spans:
            labels[(t >= start_s) & (t <= end_s)] = what
            if start_s < t[0]:
                revisions.append(ActivitySpan(start_s, min(end_s, float(t[0])), what))
        labels[walking] = "walking"
        revisions = self._keep_walks(revisions)
        revisions += [ActivitySpan(start_s, end_s, "walking") for start_s, end_s in walked_earlier]
        self._remember_walks(t, walking, walked_earlier)
        self._apply_posture_cues(t, tilt, labels)
        return ActivityUpdate(labels=labels, transitions=tuple(transitions), revisions=tuple(revisions))

    def finish(self) -> ActivityUpdate:
        """End of the stream: judge the movement in progress if the stream ended at rest (its
        labels arrive as revisions)."""
        changes, spans, transitions = self._judge_bouts(self._bouts.finish(), [])
        if self._last_t is None:
            return ActivityUpdate(labels=np.empty(0, dtype="<U9"))
        revisions = []
        for when, what in sorted(changes, key=lambda c: c[0]):
            revisions.append(ActivitySpan(when, self._last_t, what))
            self._posture = what
        revisions += [ActivitySpan(start_s, end_s, what) for start_s, end_s, what in spans]
        return ActivityUpdate(labels=np.empty(0, dtype="<U9"), transitions=tuple(transitions),
                              revisions=tuple(self._keep_walks(revisions)))

    def _remember_walks(self, t: np.ndarray, walking: np.ndarray, earlier: tuple[tuple[float, float], ...]) -> None:
        """Keep the walking spans a later bout's revisions can still reach: a bout lasts up to
        ``max_bout_s`` and closes after ``join_rest_s`` of rest, found over ``rest_window_s``."""
        edges = np.flatnonzero(np.diff(np.concatenate(([0], walking.astype(np.int8), [0]))))
        self._walks += list(earlier) + [(float(t[a]), float(t[b - 1])) for a, b in zip(edges[::2], edges[1::2])]
        bouts = self.params.bouts
        reach_s = bouts.max_bout_s + 2.0 * bouts.join_rest_s + bouts.rest_window_s
        self._walks = [w for w in self._walks if w[1] >= float(t[0]) - reach_s]

    def _keep_walks(self, revisions: list[ActivitySpan]) -> list[ActivitySpan]:
        """Walking seen in earlier samples stays walking when a bout that closes later revises
        them (a posture change from its end, or "other" over its movement), as walking overrides
        the posture in each batch: the steps were there, whatever the bout around them was."""
        kept = list(revisions)
        for span in revisions:
            if span.activity == "walking":
                continue
            kept += [ActivitySpan(max(start_s, span.start_s), min(end_s, span.end_s), "walking")
                     for start_s, end_s in self._walks if start_s <= span.end_s and end_s >= span.start_s]
        return kept

    def _judge_bouts(self, bouts, walk_ends: list[float]):
        """Posture changes (time, posture), painted spans (start, end, label) and transitions,
        in time order, from the bouts that closed; walking that ended between bouts stands the
        wearer up."""
        p = self.params
        # Posture changes (time, posture) and painted spans, in time order, then one pass.
        changes: list[tuple[float, str]] = []
        spans: list[tuple[float, float, str]] = []
        transitions: list[Transition] = []
        posture = self._posture
        last_bout_end_s = -np.inf
        for bout, extra in bouts:
            if not bout.complete or extra["walking"].mean() > 0.5:
                continue
            # Walking that ended since the last bout left the wearer standing.
            if any(last_bout_end_s < w <= bout.t[0] for w in walk_ends):
                posture = "standing"
            last_bout_end_s = float(bout.t[-1])
            z = bout.position
            bt = bout.t
            net = bout.net_m
            bout_tilt = extra["tilt"]
            # Far from standing whichever way (supine, prone, on a side): lying.
            lying_at = np.isfinite(extra["away"]) & (extra["away"] >= p.lying_tilt_deg)
            dips = find_dips(z, p.min_dip_m, p.max_dip_net_fraction)
            by_pose = None
            if lying_at[-1] or lying_at[0]:
                # Lying down or getting up: a change of posture but not a sit/stand transfer,
                # from leaving the first pose to reaching the last (the bout may hold fidgets).
                start_s, end_s = _height_change_span(bt, extra["away"], 0.1) if np.isfinite(extra["away"]).all() \
                    else (float(bt[0]), float(bt[-1]))
                spans.append((start_s, end_s, "other"))
                posture = "lying" if lying_at[-1] else ("standing" if net >= p.min_transfer_m else "sitting")
                changes.append((end_s, posture))
            elif ((seats := _seated_rests(bt, z, bout.rest, bout_tilt, dips, p))
                  or (by_pose := _pose_change(extra, p) if float(np.ptp(z)) >= p.seat_transfer_m
                      and _peak_speed_m_s(bt, z) >= p.min_transfer_speed_m_s else None) is not None or (
                    not dips and bt[-1] - bt[0] <= p.max_transfer_bout_s
                    and (abs(net) >= p.min_transfer_m
                         or (abs(net) >= p.seat_transfer_m and _posture_turn_deg(extra) >= p.posture_change_deg)))):
                # Sit-downs and stand-ups: the whole bout, or its pieces around the seated rests.
                if by_pose is not None and not seats:
                    # Against a standing neutral the poses before and after tell the direction
                    # (the vertical integral of a loose phone on a belt can get its sign wrong).
                    pieces = [(by_pose, *_height_change_span(bt, z))]
                else:
                    min_m = p.seat_transfer_m if seats or abs(net) < p.min_transfer_m else p.min_transfer_m
                    cuts = [0] + [i for seat in seats for i in seat] + [len(bt) - 1]
                    pieces = [transfer for a, b in zip(cuts[::2], cuts[1::2])
                              if (transfer := _transfer(bt[a:b + 1], z[a:b + 1] - z[a], min_m, p)) is not None]
                for new, start_s, end_s in pieces:
                    if (new == "sitting") != (posture == "sitting"):
                        transitions.append(Transition("stand_to_sit" if new == "sitting" else "sit_to_stand",
                                                      start_s, end_s))
                    spans.append((start_s, end_s, "other"))
                    posture = new
                    changes.append((end_s, posture))
            elif dips:
                pass  # down and up: squats, which the squat detector finds and labels
            elif np.isfinite(bout_tilt).any() and bt[-1] - bt[0] <= p.max_transfer_bout_s:
                # Turning far and back (a hinge, picking something up); a posture shift that
                # stays turned is not "other".
                finite = bout_tilt[np.isfinite(bout_tilt)]
                away = np.minimum(np.abs(finite - finite[0]), np.abs(finite - finite[-1]))
                if away.max() >= p.other_tilt_excursion_deg:
                    spans.append((float(bt[0]), float(bt[-1]), "other"))
        return changes, spans, transitions

    def _apply_posture_cues(self, t: np.ndarray, tilt: np.ndarray, labels: np.ndarray) -> None:
        """The sitting tie-breaker: "standing" held far posterior is sitting. Sample by sample
        only where the condition holds (few samples)."""
        p = self.params
        posterior = np.isfinite(tilt) & (tilt <= p.sit_tiebreak_deg) & (labels == "standing")
        if not posterior.any():
            self._tiebreak_since = None
            return
        runs_end = np.flatnonzero(np.diff(np.concatenate([posterior.astype(np.int8), [0]])) == -1)
        runs_start = np.flatnonzero(np.diff(np.concatenate([[0], posterior.astype(np.int8)])) == 1)
        for a, b in zip(runs_start, runs_end):
            since = self._tiebreak_since if (a == 0 and self._tiebreak_since is not None) else float(t[a])
            due = np.flatnonzero(t[a:b + 1] - since >= p.tiebreak_hold_s)
            if len(due):
                i = a + int(due[0])
                labels[i:][labels[i:] == "standing"] = "sitting"
                self._posture = "sitting"
                self._tiebreak_since = None
                return
            self._tiebreak_since = since if b == len(t) - 1 else None
        if not posterior[-1]:
            self._tiebreak_since = None


def _transfer(t: np.ndarray, z: np.ndarray, min_m: float, params: ActivityParams) -> tuple[str, float, float] | None:
    """A sit-down or a stand-up in a piece of movement (position ``z`` from 0, rest at both
    ends): (new posture, start, end) from leaving the start height to reaching the end height
    (3% of the move), or None if it moved too little or too slowly."""
    net = float(z[-1])
    if (abs(net) < min_m or t[-1] - t[0] > params.max_transfer_bout_s
            or _peak_speed_m_s(t, z) < params.min_transfer_speed_m_s):
        return None
    return ("sitting" if net < 0 else "standing"), *_height_change_span(t, z)


def _height_change_span(t: np.ndarray, z: np.ndarray, fraction: float = 0.03) -> tuple[float, float]:
    """From leaving the start value to reaching the end value (within ``fraction`` of the
    change): a height, or an angle from the reference."""
    net = float(z[-1] - z[0])
    moved = np.abs(z - z[0]) > fraction * abs(net)
    arrived = np.abs(z - z[-1]) < fraction * abs(net)
    i0 = int(np.argmax(moved)) if moved.any() else 0
    i1 = i0 + int(np.argmax(arrived[i0:]))
    return float(t[i0]), float(t[i1])


def _posture_turn_deg(extra: dict[str, np.ndarray]) -> float:
    """Angle between the pelvis's pose at the rest before a movement and at the rest after it
    (the first and last 0.2 s of the bout, NaN when unknown)."""
    up = np.column_stack([extra["up_x"], extra["up_y"], extra["up_z"]])
    k = max(1, len(up) // 10)
    before, after = np.nanmean(up[:k], axis=0), np.nanmean(up[-k:], axis=0)
    cosine = before @ after / max(np.linalg.norm(before) * np.linalg.norm(after), 1e-12)
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def _pose_change(extra: dict[str, np.ndarray], params: ActivityParams) -> str | None:
    """"sitting" or "standing" when a movement went from one to the other by the pose alone:
    against a standing neutral (known at both ends), a rest within ``posture_change_deg`` of it
    is standing and one beyond it (short of lying) sitting (Vähä-Ypyä's angle-for-posture)."""
    k = max(1, len(extra["away"]) // 10)
    if not (extra["neutral"][:k].all() and extra["neutral"][-k:].all()):
        return None
    before, after = float(np.nanmean(extra["away"][:k])), float(np.nanmean(extra["away"][-k:]))
    cut, lying = params.posture_change_deg, params.lying_tilt_deg
    if before < cut <= after < lying:
        return "sitting"
    if after < cut <= before < lying:
        return "standing"
    return None


def _seated_rests(t: np.ndarray, z: np.ndarray, rest: np.ndarray | None, pitch_deg: np.ndarray,
                  dips: list[tuple[int, int, int]], params: ActivityParams) -> list[tuple[int, int]]:
    """(first, last) indices of the rests at the bottom of down-and-up dips that are a seat,
    not the bottom of a squat: held ``seated_min_rest_s`` or longer, or, where the pitch is known,
    with the pelvis resting no further forward than ``seated_max_pitch_deg`` (a squat's bottom
    holds it 20–40° anterior of standing, a seated pelvis near or behind standing) or reclined
    ``seated_recline_deg`` from its lean on the way down."""
    if rest is None:
        return []
    seats = []
    for a, v, b in dips:
        depth = 0.5 * (z[a] + z[b]) - z[v]
        low = rest[a:b + 1] & (z[a:b + 1] <= z[v] + 0.3 * depth)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], low.astype(np.int8), [0]))))
        if len(edges) == 0:
            continue
        runs = [(a + int(i), a + int(j) - 1) for i, j in zip(edges[::2], edges[1::2])]
        i, j = max(runs, key=lambda r: t[r[1]] - t[r[0]])
        held_s = float(t[j] - t[i])
        pitch = pitch_deg[i:j + 1]
        seated = held_s >= params.seated_min_rest_s
        if not seated and np.isfinite(pitch).all() and np.isfinite(pitch_deg[a:v + 1]).any():
            resting = float(np.median(pitch))
            leaned = float(np.nanmax(pitch_deg[a:v + 1]))
            seated = held_s >= params.seated_min_rest_known_pitch_s and (
                resting <= params.seated_max_pitch_deg or leaned - resting >= params.seated_recline_deg)
        if seated:
            seats.append((i, j))
    return seats


def _peak_speed_m_s(t: np.ndarray, z: np.ndarray) -> float:
    """Peak vertical speed over 0.1-s steps (duplicate timestamps and jitter averaged out)."""
    step = max(1, int(np.searchsorted(t, t[0] + 0.1)))
    if len(t) <= step:
        return 0.0
    dt = t[step:] - t[:-step]
    return float(np.max(np.abs(z[step:] - z[:-step]) / np.maximum(dt, 1e-3)))


def classify_activity(t: np.ndarray, acc_z: np.ndarray, gyr: np.ndarray, tilt_deg: np.ndarray,
                      params: ActivityParams | None = None, sample_rate_hz: float = 100.0
                      ) -> tuple[np.ndarray, tuple[Transition, ...]]:
    """Batch helper: per-sample labels of a whole recording and its transitions."""
    out = ActivityClassifier(params, sample_rate_hz).update(t, acc_z, gyr, tilt_deg)
    return out.labels, out.transitions


def activity_spans(t: np.ndarray, labels: np.ndarray) -> list[ActivitySpan]:
    """Runs of equal labels as spans (end = the next span's start, or the last sample)."""
    if len(t) == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(t) - 1]))
    return [ActivitySpan(float(t[a]), float(t[b]), str(labels[a])) for a, b in zip(starts, ends)]
