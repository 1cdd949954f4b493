"""Sacrum kinematics: scenario segments -> pelvis orientation and sensor position over time,
and the ideal (error-free) accelerometer and gyroscope readings they imply.

Each segment is rendered as smooth curves of the pelvis's heading, tilt and obliquity (ZYX
Euler angles, see truth.py) and of the hip-centre position, built from minimum-jerk
keyframes (zero velocity and acceleration at every key) and tapered oscillations, so the
curves are continuous up to their second derivative across segments. The curves are rendered
on a grid ``OVERSAMPLING`` times finer than the output rate and differentiated there, which
keeps finite-difference error in the ideal readings far below any sensor noise.

Standing boundaries are always at neutral (tilt 0, obliquity 0, hip height standing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_interface.conventions import STANDARD_GRAVITY

from ._rotation import euler_zyx_rates_to_body, euler_zyx_to_matrix
from .scenario import HipHinges, Lie, Scenario, Segment, Sit, SitDown, SquatSet, Stand, StandUp, Walk
from .subject import SITTING_RANGES_DEG, Subject
from .truth import TruthTransition

OVERSAMPLING = 4
SACRUM_FROM_HIP_M = np.array([-0.10, 0.0, 0.07])
"""Sensor position relative to the hip-joint centre, pelvis frame: behind and above."""
SIT_POSTURE_RATE_HZ = 9 / 900.0
FIDGET_RATE_HZ = 13 / 900.0
SQUAT_TIMING_CV = 0.08
SQUAT_AMPLITUDE_CV = 0.10
SQUAT_PEAK_FACTOR = {"half": 0.8, "parallel": 1.0, "deep": 1.1}
LYING_TILT_DEG = -85.0
LYING_HIP_HEIGHT_M = 0.45


@dataclass
class _Pose:
    """State at a segment boundary (radians and metres)."""

    x: float
    y: float
    z: float
    heading: float
    tilt: float = 0.0
    obliquity: float = 0.0


@dataclass(frozen=True)
class RepPlan:
    set: int
    index: int
    start_s: float
    bottom_s: float
    end_s: float
    depth_m: float
    designed_wink_deg: float
    peak_deg: float


@dataclass
class _Piece:
    """One segment rendered on its local fine grid, end point included."""

    tilt: np.ndarray
    obliquity: np.ndarray
    heading: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    activity: np.ndarray
    transitions: list[TruthTransition] = field(default_factory=list)
    reps: list[RepPlan] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class PelvisMotion:
    """Noise-free motion at the output sample times."""

    t: np.ndarray
    tilt_rad: np.ndarray
    obliquity_rad: np.ndarray
    pelvis_to_earth: np.ndarray
    """(N, 3, 3)"""
    position_m: np.ndarray
    """(N, 3) sensor position, earth frame."""
    acc_world: np.ndarray
    """(N, 3) specific force at the sensor in the earth frame (linear acceleration + g up)."""
    gyr_pelvis: np.ndarray
    """(N, 3) pelvis angular velocity in the pelvis frame, rad/s."""
    activity: np.ndarray
    transitions: tuple[TruthTransition, ...]
    reps: tuple[RepPlan, ...]


# --- curve primitives ---------------------------------------------------------------------------

def _minjerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def _bump(u: np.ndarray) -> np.ndarray:
    """Smooth 0 -> 1 -> 0 over u in [0, 1], zero slope and curvature at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return 64.0 * (u * (1.0 - u)) ** 3


def _keyframes(t: np.ndarray, times: list[float], values: list[float]) -> np.ndarray:
    """Minimum-jerk interpolation through (time, value) keys; holds the end values outside."""
    times_a = np.asarray(times, dtype=np.float64)
    values_a = np.asarray(values, dtype=np.float64)
    if len(times_a) == 1:
        return np.full_like(t, values_a[0])
    i = np.clip(np.searchsorted(times_a, t, side="right") - 1, 0, len(times_a) - 2)
    u = (t - times_a[i]) / (times_a[i + 1] - times_a[i])
    return values_a[i] + (values_a[i + 1] - values_a[i]) * _minjerk(u)


def _taper(t: np.ndarray, duration_s: float, ramp_s: float) -> np.ndarray:
    """0 at both ends, 1 in the middle, minimum-jerk ramps of ``ramp_s``."""
    return _minjerk(t / ramp_s) * _minjerk((duration_s - t) / ramp_s)


def _sway(t: np.ndarray, rms: float, rng: np.random.Generator,
          band_hz: tuple[float, float] = (0.1, 1.0), components: int = 12) -> np.ndarray:
    """Band-limited random sway: sinusoids with 1/f amplitudes, scaled to ``rms``."""
    freqs = np.exp(rng.uniform(np.log(band_hz[0]), np.log(band_hz[1]), components))
    phases = rng.uniform(0.0, 2.0 * np.pi, components)
    amps = 1.0 / freqs
    amps *= rms / np.sqrt(np.sum(amps**2) / 2.0)
    return np.sin(2.0 * np.pi * np.outer(t, freqs) + phases) @ amps


def _labels(n: int, label: str) -> np.ndarray:
    return np.full(n, label, dtype="<U9")


# --- segment renderers (local time t from 0 to the segment's duration, radians, metres) -------

def _still(t: np.ndarray, pose: _Pose) -> dict[str, np.ndarray]:
    ones = np.ones_like(t)
    return dict(tilt=pose.tilt * ones, obliquity=pose.obliquity * ones, heading=pose.heading * ones,
                x=pose.x * ones, y=pose.y * ones, z=pose.z * ones)


def _along_heading(pose: _Pose, forward_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pose.x + forward_m * np.cos(pose.heading), pose.y + forward_m * np.sin(pose.heading)


def _render_stand(seg: Stand, t: np.ndarray, pose: _Pose, subject: Subject,
                  rng: np.random.Generator) -> _Piece:
    d = seg.duration_s
    rms = np.radians(subject.sway_deg if seg.sway_deg is None else seg.sway_deg)
    curves = _still(t, pose)
    envelope = _taper(t, d, min(1.0, d / 4))
    if rms > 0:
        curves["tilt"] = curves["tilt"] + envelope * _sway(t, rms, rng)
        curves["obliquity"] = curves["obliquity"] + envelope * _sway(t, 0.5 * rms, rng)
        curves["heading"] = curves["heading"] + envelope * _sway(t, 0.3 * rms, rng)
    if seg.tilt_deg:
        blend_s = min(2.0, d / 4)
        held = np.radians(seg.tilt_deg)
        curves["tilt"] = curves["tilt"] + _keyframes(t, [0.0, blend_s, d - blend_s, d], [0.0, held, held, 0.0])
    return _Piece(**curves, activity=_labels(len(t), "standing"))


def _render_walk(seg: Walk, t: np.ndarray, pose: _Pose, subject: Subject,
                 rng: np.random.Generator) -> _Piece:
    d = seg.duration_s
    step_hz = seg.step_hz or subject.step_hz
    speed = seg.speed_mps or subject.step_length_m * step_hz
    turn = np.radians(rng.uniform(-180.0, 180.0) if seg.turn_deg is None else seg.turn_deg)
    direction = pose.heading + turn * _minjerk(t / min(2.0, d / 3))
    envelope = _taper(t, d, 1.0)
    stride = 2.0 * np.pi * (step_hz / 2.0) * t + rng.uniform(0, 2 * np.pi)
    step = 2.0 * stride
    tilt = pose.tilt + envelope * np.radians(1.0 + 1.5 * np.sin(step))
    obliquity = pose.obliquity + envelope * np.radians(4.0) * np.sin(stride)
    heading = direction + envelope * np.radians(5.0) * np.cos(stride)
    z = pose.z + envelope * subject.bounce_m * (np.cos(step) - 1.0)
    forward_speed = speed * envelope
    # Trapezoidal integral of the walking velocity along the (turning) direction of travel.
    vx, vy = forward_speed * np.cos(direction), forward_speed * np.sin(direction)
    dt = np.diff(t)
    x = pose.x + np.concatenate([[0.0], np.cumsum(0.5 * (vx[1:] + vx[:-1]) * dt)])
    y = pose.y + np.concatenate([[0.0], np.cumsum(0.5 * (vy[1:] + vy[:-1]) * dt)])
    lateral = envelope * 0.02 * np.sin(stride)  # side-to-side shift of the pelvis
    x, y = x - lateral * np.sin(direction), y + lateral * np.cos(direction)
    return _Piece(tilt, obliquity, heading, x, y, z, _labels(len(t), "walking"))


def _render_sit_down(seg: SitDown, t: np.ndarray, pose: _Pose, subject: Subject,
                     target_tilt: float) -> _Piece:
    d = seg.duration_s
    peak = np.radians(seg.peak_deg or subject.transfer_peak_deg)
    drop = seg.drop_m or subject.sit_drop_m
    tilt = _keyframes(t, [0.0, 0.55 * d, d], [pose.tilt, target_tilt + peak, target_tilt])
    z = _keyframes(t, [0.0, 0.15 * d, 0.8 * d], [pose.z, pose.z, pose.z - drop])
    x, y = _along_heading(pose, _keyframes(t, [0.0, 0.15 * d, 0.8 * d], [0.0, 0.0, -0.12]))
    curves = _still(t, pose)
    curves.update(tilt=tilt, z=z, x=x, y=y)
    return _Piece(**curves, activity=_labels(len(t), "other"),
                  transitions=[TruthTransition("sit_down", 0.0, d)])


def _render_sit(seg: Sit, t: np.ndarray, pose: _Pose, subject: Subject,
                rng: np.random.Generator) -> _Piece:
    d = seg.duration_s
    if seg.tilt_deg is None:
        base_deg = subject.sitting_deg[seg.posture]
        lo, hi = SITTING_RANGES_DEG[seg.posture]
    else:
        base_deg = seg.tilt_deg
        lo, hi = base_deg - 3.5, base_deg + 3.5
    blend_s = min(float(np.clip(1.5 + abs(np.degrees(pose.tilt) - base_deg) / 10.0, 1.5, 3.0)), d / 3)
    tilt_keys = ([0.0, blend_s], [np.degrees(pose.tilt), base_deg])
    obliquity_keys = ([0.0, blend_s], [np.degrees(pose.obliquity), rng.uniform(-1.5, 1.5)])
    if seg.shifts:
        current = base_deg
        last_end = blend_s
        for shift_t in np.sort(rng.uniform(blend_s, d, rng.poisson(SIT_POSTURE_RATE_HZ * d))):
            shift_s = rng.uniform(1.0, 2.5)
            if shift_t < last_end + 1.0 or shift_t + shift_s > d - 1.0:
                continue
            sign = rng.choice([-1.0, 1.0])
            size = rng.uniform(3.0, 10.0)
            new = current + sign * size
            if not lo <= new <= hi:
                new = current - sign * size
            current = float(np.clip(new, lo, hi))
            for keys, value in ((tilt_keys, current), (obliquity_keys, rng.uniform(-2.0, 2.0))):
                keys[0].extend([shift_t, shift_t + shift_s])
                keys[1].extend([keys[1][-1], value])
            last_end = shift_t + shift_s
    tilt = np.radians(_keyframes(t, *tilt_keys))
    obliquity = np.radians(_keyframes(t, *obliquity_keys))
    if seg.fidgets:
        for _ in range(rng.poisson(FIDGET_RATE_HZ * d)):
            fidget_s = rng.uniform(1.0, 5.0)
            if fidget_s >= d:
                continue
            start = rng.uniform(0.0, d - fidget_s)
            bump = _bump((t - start) / fidget_s)
            tilt = tilt + np.radians(rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 3.0)) * bump
            obliquity = obliquity + np.radians(rng.uniform(-1.5, 1.5)) * bump
    curves = _still(t, pose)
    curves.update(tilt=tilt, obliquity=obliquity)
    return _Piece(**curves, activity=_labels(len(t), "sitting"))


def _render_stand_up(seg: StandUp, t: np.ndarray, pose: _Pose, subject: Subject) -> _Piece:
    d = seg.duration_s
    peak = np.radians(seg.peak_deg or subject.transfer_peak_deg)
    tilt = _keyframes(t, [0.0, 0.4 * d, d], [pose.tilt, pose.tilt + peak, 0.0])
    obliquity = _keyframes(t, [0.0, 0.5 * d], [pose.obliquity, 0.0])
    z = _keyframes(t, [0.0, 0.38 * d, d], [pose.z, pose.z, subject.hip_height_m])
    x, y = _along_heading(pose, _keyframes(t, [0.0, 0.3 * d, 0.85 * d], [0.0, 0.0, 0.12]))
    curves = _still(t, pose)
    curves.update(tilt=tilt, obliquity=obliquity, z=z, x=x, y=y)
    return _Piece(**curves, activity=_labels(len(t), "other"),
                  transitions=[TruthTransition("stand_up", 0.0, d)])


def _squat_timings(seg: SquatSet, rng: np.random.Generator) -> np.ndarray:
    """(reps, 4) descent, bottom, ascent, pause after; varied rep to rep, same total."""
    nominal = np.array([seg.descent_s, seg.bottom_s, seg.ascent_s, seg.between_reps_s])
    factors = np.clip(1.0 + SQUAT_TIMING_CV * rng.standard_normal((seg.reps, 4)), 0.75, 1.25)
    phases = nominal * factors
    phases[-1, 3] = 0.0
    return phases * (seg.duration_s / phases.sum())


def _render_squats(seg: SquatSet, t: np.ndarray, pose: _Pose, subject: Subject,
                   rng: np.random.Generator, set_number: int) -> _Piece:
    wink_probability = float(seg.butt_wink)
    tilt_keys: tuple[list[float], list[float]] = ([0.0], [0.0])
    obliquity_keys: tuple[list[float], list[float]] = ([0.0], [0.0])
    depth_keys: tuple[list[float], list[float]] = ([0.0], [0.0])
    reps = []
    start = 0.0
    for index, (descent, bottom, ascent, pause) in enumerate(_squat_timings(seg, rng), start=1):
        vary = 1.0 + SQUAT_AMPLITUDE_CV * np.clip(rng.standard_normal(2), -2, 2)
        depth = seg.depth_m or subject.squat_depth_m[seg.depth] * vary[0]
        peak_deg = seg.peak_deg or float(np.clip(
            subject.squat_peak_deg * SQUAT_PEAK_FACTOR[seg.depth] * vary[1], 20.0, 40.0))
        winks = rng.random() < wink_probability
        if winks:
            wink_deg = seg.wink_deg if seg.wink_deg is not None else rng.uniform(8.0, 25.0)
        else:
            wink_deg = rng.uniform(0.0, 4.0)
        reversal_s = min(rng.uniform(0.3, 0.6), 0.45 * descent)
        bottom_deg = peak_deg - wink_deg
        # Early in the ascent the hips rise first: the pelvis stays pitched or re-antevers.
        mid_deg = max(bottom_deg, peak_deg * rng.uniform(0.85, 1.0))
        bottom_t, rise_t, end_t = start + descent, start + descent + bottom, start + descent + bottom + ascent
        if start > tilt_keys[0][-1]:  # standing still between reps
            for keys in (tilt_keys, obliquity_keys, depth_keys):
                keys[0].append(start)
                keys[1].append(0.0)
        times = [start + descent - reversal_s, bottom_t] + ([rise_t] if bottom > 0 else [])
        times += [rise_t + 0.4 * ascent, end_t]
        values = [peak_deg, bottom_deg] + ([bottom_deg] if bottom > 0 else []) + [mid_deg, 0.0]
        tilt_keys[0].extend(times)
        tilt_keys[1].extend(values)
        side_deg = rng.uniform(-2.0, 2.0)
        level_times = [bottom_t] + ([rise_t] if bottom > 0 else []) + [end_t]
        obliquity_keys[0].extend(level_times)
        obliquity_keys[1].extend([side_deg] * (len(level_times) - 1) + [0.0])
        depth_keys[0].extend(level_times)
        depth_keys[1].extend([depth] * (len(level_times) - 1) + [0.0])
        reps.append(RepPlan(set_number, index, start, bottom_t, end_t, float(depth),
                            float(wink_deg), float(peak_deg)))
        start = end_t + pause
    drop = _keyframes(t, *depth_keys)
    curves = _still(t, pose)
    x, y = _along_heading(pose, -0.3 * drop)  # the hips travel back as they go down
    curves.update(tilt=np.radians(_keyframes(t, *tilt_keys)),
                  obliquity=np.radians(_keyframes(t, *obliquity_keys)),
                  z=pose.z - drop, x=x, y=y)
    return _Piece(**curves, activity=_labels(len(t), "squatting"), reps=reps)


def _render_hinges(seg: HipHinges, t: np.ndarray, pose: _Pose, subject: Subject,
                   rng: np.random.Generator) -> _Piece:
    tilt_keys: tuple[list[float], list[float]] = ([0.0], [0.0])
    activity = _labels(len(t), "standing")
    transitions = []
    start = 0.0
    for _ in range(seg.count):
        angle = seg.angle_deg or subject.hinge_deg * rng.uniform(0.93, 1.07)
        times = [start + seg.bend_s, start + seg.bend_s + seg.hold_s, start + seg.bend_s + seg.hold_s + seg.return_s]
        if seg.hold_s == 0:
            times.pop(1)
        if start > tilt_keys[0][-1]:  # standing between hinges
            tilt_keys[0].append(start)
            tilt_keys[1].append(0.0)
        tilt_keys[0].extend(times)
        tilt_keys[1].extend([angle] * (len(times) - 1) + [0.0])
        end = times[-1]
        activity[(t >= start) & (t <= end)] = "other"
        transitions.append(TruthTransition("hinge", start, end))
        start = end + seg.pause_s
    tilt = np.radians(_keyframes(t, *tilt_keys))
    # Hips travel back and slightly down in proportion to the bend.
    bend = tilt / np.radians(55.0)
    x, y = _along_heading(pose, -0.12 * bend)
    curves = _still(t, pose)
    curves.update(tilt=tilt, z=pose.z - 0.05 * bend, x=x, y=y)
    return _Piece(**curves, activity=activity, transitions=transitions)


def _render_lie(seg: Lie, t: np.ndarray, pose: _Pose) -> _Piece:
    d, down, up = seg.duration_s, seg.down_s, seg.up_s
    times = [0.0, down, d - up, d]
    lying = np.radians(LYING_TILT_DEG)
    tilt = _keyframes(t, times, [pose.tilt, lying, lying, 0.0])
    z = _keyframes(t, times, [pose.z, LYING_HIP_HEIGHT_M, LYING_HIP_HEIGHT_M, pose.z])
    x, y = _along_heading(pose, _keyframes(t, times, [0.0, -0.3, -0.3, 0.0]))
    activity = _labels(len(t), "lying")
    activity[(t < down) | (t > d - up)] = "other"
    curves = _still(t, pose)
    curves.update(tilt=tilt, z=z, x=x, y=y)
    return _Piece(**curves, activity=activity, transitions=[TruthTransition("lie_down", 0.0, down),
                                                            TruthTransition("get_up", d - up, d)])


def _sitting_target(segments: tuple[Segment, ...], i: int, subject: Subject) -> float:
    """The angle a SitDown settles at: the following Sit's, else the subject's habitual one."""
    following = segments[i + 1] if i + 1 < len(segments) else None
    if isinstance(following, Sit):
        deg = following.tilt_deg if following.tilt_deg is not None else subject.sitting_deg[following.posture]
    else:
        deg = subject.sitting_deg["habitual"]
    return float(np.radians(deg))


def _render(segments: tuple[Segment, ...], i: int, t: np.ndarray, pose: _Pose, subject: Subject,
            rng: np.random.Generator, set_number: int) -> _Piece:
    seg = segments[i]
    if isinstance(seg, Stand):
        return _render_stand(seg, t, pose, subject, rng)
    if isinstance(seg, Walk):
        return _render_walk(seg, t, pose, subject, rng)
    if isinstance(seg, SitDown):
        return _render_sit_down(seg, t, pose, subject, _sitting_target(segments, i, subject))
    if isinstance(seg, Sit):
        return _render_sit(seg, t, pose, subject, rng)
    if isinstance(seg, StandUp):
        return _render_stand_up(seg, t, pose, subject)
    if isinstance(seg, SquatSet):
        return _render_squats(seg, t, pose, subject, rng, set_number)
    if isinstance(seg, HipHinges):
        return _render_hinges(seg, t, pose, subject, rng)
    return _render_lie(seg, t, pose)


# --- assembly -----------------------------------------------------------------------------------

def _second_difference(p: np.ndarray, h: float) -> np.ndarray:
    a = np.empty_like(p)
    a[1:-1] = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / (h * h)
    a[0], a[-1] = a[1], a[-2]
    return a


def _session_s(segment_start_s: float, local_s: float, warp: float) -> float:
    """A segment-local event time in session time, rounded to the microsecond so an event that
    ends on a segment boundary ends exactly there."""
    return round(segment_start_s + local_s / warp, 6)


def simulate_motion(scenario: Scenario, subject: Subject, sample_rate_hz: float,
                    rng: np.random.Generator) -> PelvisMotion:
    """Render the scenario and derive the ideal sensor kinematics at the output sample times."""
    fine_hz = sample_rate_hz * OVERSAMPLING
    h = 1.0 / fine_hz
    # Segment boundaries snapped to the fine grid so each segment ends exactly where the next starts.
    bounds = np.concatenate([[0], np.round(np.cumsum([s.duration_s for s in scenario.segments]) * fine_hz)])
    bounds = bounds.astype(np.int64)
    pose = _Pose(0.0, 0.0, subject.hip_height_m, float(rng.uniform(-np.pi, np.pi)))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("tilt", "obliquity", "heading", "x", "y", "z", "activity")}
    transitions: list[TruthTransition] = []
    reps: list[RepPlan] = []
    set_number = 0
    for i, seg in enumerate(scenario.segments):
        n = int(bounds[i + 1] - bounds[i])
        t0 = bounds[i] * h
        # Local time warped by at most half a fine step so the segment spans its nominal duration.
        warp = seg.duration_s / (n * h) if n else 1.0
        t_local = np.arange(n + 1) * h * warp
        set_number += isinstance(seg, SquatSet)
        piece = _render(scenario.segments, i, t_local, pose, subject, rng, set_number)
        last = i == len(scenario.segments) - 1
        for key in parts:
            values = getattr(piece, key)
            parts[key].append(values if last else values[:-1])
        pose = _Pose(float(piece.x[-1]), float(piece.y[-1]), float(piece.z[-1]), float(piece.heading[-1]),
                     float(piece.tilt[-1]), float(piece.obliquity[-1]))
        transitions += [TruthTransition(e.kind, _session_s(t0, e.start_s, warp), _session_s(t0, e.end_s, warp))
                        for e in piece.transitions]
        reps += [RepPlan(r.set, r.index, _session_s(t0, r.start_s, warp), _session_s(t0, r.bottom_s, warp),
                         _session_s(t0, r.end_s, warp), r.depth_m, r.designed_wink_deg, r.peak_deg)
                 for r in piece.reps]
    fine = {k: np.concatenate(v) for k, v in parts.items()}

    rates = {k: np.gradient(fine[k], h) for k in ("tilt", "obliquity", "heading")}
    gyr_pelvis = euler_zyx_rates_to_body(fine["tilt"], fine["obliquity"], rates["heading"],
                                         rates["tilt"], rates["obliquity"])
    pelvis_to_earth = euler_zyx_to_matrix(fine["heading"], fine["tilt"], fine["obliquity"])
    hip = np.stack([fine["x"], fine["y"], fine["z"]], axis=-1)
    position = hip + pelvis_to_earth @ SACRUM_FROM_HIP_M
    acc_world = _second_difference(position, h)
    acc_world[:, 2] += STANDARD_GRAVITY

    keep = slice(0, None, OVERSAMPLING)
    t = np.arange(len(fine["tilt"][keep])) / sample_rate_hz
    return PelvisMotion(
        t=t,
        tilt_rad=fine["tilt"][keep],
        obliquity_rad=fine["obliquity"][keep],
        pelvis_to_earth=pelvis_to_earth[keep],
        position_m=position[keep],
        acc_world=acc_world[keep],
        gyr_pelvis=gyr_pelvis[keep],
        activity=fine["activity"][keep],
        transitions=tuple(transitions),
        reps=tuple(reps),
    )
