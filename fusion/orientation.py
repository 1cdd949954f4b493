"""Orientation from accelerometer and gyroscope: ahrs's Madgwick filter, fed carefully.

ahrs stays the fusion engine: each sample is one ``Madgwick.updateIMU`` call. What this module
adds runs beside that call, per sample in plain Python floats (a few dozen multiplications: less
than the fixed cost of NumPy calls over the one to ten samples a sensor notification brings, and
the same work however the stream is cut):

* initialisation from the first accelerometer sample (zero heading) instead of identity, with a
  higher gain for ``recovery_s`` (``startup_gain``);
* time steps from the device timestamps: repeated timestamps are not integrated; a step longer
  than ``lost_samples_step_s`` (lost samples) is bridged with the mean of the rates on either
  side; after a loss longer than ``restart_after_s`` the filter restarts its gravity reference
  and gain ramp; a gap longer than ``max_gap_s`` is not integrated at all;
* gyroscope bias learnt while at rest (``bias.py``) and subtracted;
* the accelerometer enters as a gravity reference low-passed (``acc_lowpass_s``) in a frame that
  follows the gyroscope, so translational acceleration (squats, sit-to-stand) averages out
  while rotation passes (the idea of VQF); optionally, samples far from 1 g count less
  (``acc_trust_g``, off by default: measured worse on BROAD);
* the reference is handed to ahrs as seen at the start of each step, because ahrs evaluates
  its correction at the previous orientation (fast rotation otherwise drags the estimate);
* a higher gain while at rest (``rest_gain``);
* a work-around for ahrs 0.4 returning the previous orientation unchanged whenever the
  gyroscope sample is exactly zero (quantised sensors at rest): such samples get a rate of
  1e-12 rad/s, which integrates to nothing but lets the accelerometer correction run.

Streaming gives bit-for-bit the batch result: every sample is computed the same way, in order.

Output quaternions are (w, x, y, z), sensor-to-earth, earth z up, heading arbitrary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch
from fusion import _quaternion as quat
from fusion.bias import GyroBiasEstimator, GyroBiasParams
from firmware_interface.conventions import STANDARD_GRAVITY

_NEGLIGIBLE_RATE = 1e-12  # rad/s about x
_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class OrientationParams:
    gain: float = 0.02
    """Madgwick gain (beta) in motion with a trustworthy accelerometer."""
    rest_gain: float = 0.1
    """Gain while the bias estimator sees rest: the accelerometer reads gravity only."""
    startup_gain: float = 0.2
    """Gain right after a reset or a gap, ramping down to the normal gain over ``recovery_s``."""
    recovery_s: float = 3.0
    acc_trust_g: tuple[float, float] | None = None
    """(start, end): samples whose | ‖a‖ − g | exceeds ``start`` g count less in the gravity
    reference, not at all beyond ``end``. None trusts every sample: measured on BROAD, gating
    by magnitude loses the reference during sustained shaking (mean 0.83° -> 4.1° with
    (0.5, 1.0)), while the gyroscope-frame low-pass already averages translation out."""
    acc_lowpass_s: float = 3.0
    """Time constant of the gravity reference: the accelerometer is low-passed in a frame that
    follows the gyroscope (VQF's idea), so translational accelerations average out while
    rotations pass; 0 feeds the raw accelerometer to Madgwick."""
    lost_samples_step_s: float = 0.04
    """A longer step means samples were lost: it is integrated with the mean of the rates on
    either side (the rotation during a 0.3 s loss in a squat is tens of degrees)."""
    restart_after_s: float = 0.1
    """After a longer loss the bridged rotation is uncertain: the gravity reference restarts
    and the gain ramps up as after a reset."""
    max_gap_s: float = 1.0
    """A longer step is a gap: not integrated at all (and a restart)."""
    gyro_bias: GyroBiasParams | None = GyroBiasParams()
    """None: no bias estimation."""

    def __post_init__(self) -> None:
        for name in ("gain", "rest_gain", "startup_gain"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"OrientationParams.{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.acc_lowpass_s >= 0:
            raise ValueError(f"OrientationParams.acc_lowpass_s must be >= 0, got {self.acc_lowpass_s!r}")
        for name in ("recovery_s", "lost_samples_step_s", "restart_after_s", "max_gap_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"OrientationParams.{name} must be > 0, got {getattr(self, name)!r}")
        if self.acc_trust_g is not None and not 0 <= self.acc_trust_g[0] < self.acc_trust_g[1]:
            raise ValueError(f"OrientationParams.acc_trust_g must be (start, end) with 0 <= start < end, "
                             f"got {self.acc_trust_g!r}")


class OrientationEstimator:
    """Streaming orientation: ``update(batch)`` returns one quaternion per sample; state carries over."""

    def __init__(self, params: OrientationParams = OrientationParams()) -> None:
        self.params = params
        self._madgwick = Madgwick()  # its gain is set per sample
        self._bias = GyroBiasEstimator(params.gyro_bias) if params.gyro_bias is not None else None
        self.reset()

    def reset(self) -> None:
        self._q: np.ndarray | None = None
        self._last_t: float | None = None
        self._last_gyr = (0.0, 0.0, 0.0)
        self._recovery_start_s = -math.inf
        # The gravity reference: the low-passed specific force, in the sensor frame.
        self._lowpass = (0.0, 0.0, 0.0)
        if self._bias is not None:
            self._bias.reset()

    @property
    def gyro_bias_rad_s(self) -> np.ndarray:
        """The current gyroscope bias estimate (zeros without bias estimation)."""
        return self._bias.bias_rad_s if self._bias is not None else np.zeros(3)

    @property
    def quaternion(self) -> np.ndarray | None:
        """The latest orientation, or None before the first sample."""
        return None if self._q is None else self._q.copy()

    def update(self, batch: SampleBatch) -> np.ndarray:
        return self._filter(batch.t, batch.acc, batch.gyr, None)

    def orient(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``update`` of a batch's columns (float64 (N,), (N, 3), (N, 3)); also returns the
        earth's up direction in the sensor frame per sample (``earth_up_in_sensor`` of each
        quaternion, the same values), which the shown tilt needs per show hop."""
        up = np.empty((len(t), 3))
        return self._filter(t, acc, gyr, up), up

    def _filter(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, up: np.ndarray | None) -> np.ndarray:
        """Quaternions (N, 4); fills ``up`` (N, 3) with the earth's up in the sensor frame if given."""
        n = len(t)
        out = np.empty((n, 4))
        if n == 0:
            return out
        runs = self._bias.update(t, gyr, acc) if self._bias is not None else [(n, (0.0, 0.0, 0.0), False)]
        # Python floats: at the few samples a notification brings, scalar arithmetic costs less
        # than the fixed overhead of NumPy calls, and each sample's work never depends on how the
        # stream was cut.
        p = self.params
        lowpass_s, trust_g = p.acc_lowpass_s, p.acc_trust_g
        rest_gain, motion_gain, startup_gain = p.rest_gain, p.gain, p.startup_gain
        restart_after_s, max_gap_s, recovery_s = p.restart_after_s, p.max_gap_s, p.recovery_s
        lost_step_s = p.lost_samples_step_s
        madgwick = self._madgwick
        last_t, recovery_start = self._last_t, self._recovery_start_s
        (lx, ly, lz), (lgx, lgy, lgz) = self._lowpass, self._last_gyr
        q = self._q
        gravity_row = np.empty(3)
        run, (stop, (bx, by, bz), at_rest) = 0, runs[0]
        for i, (time_s, (ax, ay, az), (gx, gy, gz)) in enumerate(zip(t.tolist(), acc.tolist(), gyr.tolist())):
            while i >= stop:  # the next run of samples with one gyroscope bias
                run += 1
                stop, (bx, by, bz), at_rest = runs[run]
            gx, gy, gz = gx - bx, gy - by, gz - bz
            # Time step: neither a gap nor a repeated or out-of-order timestamp is integrated.
            raw_dt = 0.0 if last_t is None else time_s - last_t
            restart = last_t is None or raw_dt > restart_after_s
            dt = 0.0 if raw_dt > max_gap_s or raw_dt <= 0.0 else raw_dt
            previous_t, last_t = (time_s if last_t is None else last_t), time_s
            if restart:
                recovery_start = time_s
            # A lost-samples step is bridged with the mean of the rates on either side.
            lost = dt > lost_step_s
            if lost:
                wx, wy, wz = 0.5 * (lgx + gx), 0.5 * (lgy + gy), 0.5 * (lgz + gz)
            else:
                wx, wy, wz = gx, gy, gz
            lgx, lgy, lgz = gx, gy, gz
            if wx == 0.0 and wy == 0.0 and wz == 0.0:
                wx = _NEGLIGIBLE_RATE  # ahrs 0.4 skips the correction on an exactly zero rate
            s0, s1, s2, s3, s4, s5, s6, s7, s8 = _rotation_from_rate(wx, wy, wz, dt)
            if lowpass_s > 0:
                if restart:
                    lx, ly, lz = ax, ay, az
                else:
                    weighted_dt = dt if trust_g is None else _trust(ax, ay, az, trust_g) * dt
                    # A running mean until acc_lowpass_s has passed since the (re)start, so a jolt
                    # in the first sample does not linger; then the exponential low-pass.
                    since_start_s = previous_t - recovery_start
                    if since_start_s < 0.0:
                        since_start_s = 0.0
                    decay = math.exp(-weighted_dt / lowpass_s)
                    if weighted_dt > 0:
                        running_mean = since_start_s / (since_start_s + weighted_dt)
                        if running_mean < decay:
                            decay = running_mean
                    keep = 1.0 - decay
                    # The low-passed specific force, carried into this sample's frame (the step's
                    # transpose: the sensor turned by the step), then blended with this sample.
                    # The same as low-passing in a frame that follows the gyroscope and turning
                    # the result back, without carrying that frame.
                    lx, ly, lz = (decay * (s0 * lx + s3 * ly + s6 * lz) + keep * ax,
                                  decay * (s1 * lx + s4 * ly + s7 * lz) + keep * ay,
                                  decay * (s2 * lx + s5 * ly + s8 * lz) + keep * az)
                ax, ay, az = lx, ly, lz
            # ahrs evaluates the correction at the previous orientation, so give it gravity as seen
            # there; otherwise fast rotation drags the estimate ahead by up to 2·gain rad/s.
            gravity_row[0] = s0 * ax + s1 * ay + s2 * az
            gravity_row[1] = s3 * ax + s4 * ay + s5 * az
            gravity_row[2] = s6 * ax + s7 * ay + s8 * az
            if q is None:
                q = quat.from_gravity(acc[0])
            else:
                # Madgwick's correction is gain·dt whatever the error: over a long step it would
                # overshoot.
                if lost:
                    madgwick.gain = 0.0
                else:
                    base_gain = rest_gain if at_rest else motion_gain
                    ramp = min(1.0 - (time_s - recovery_start) / recovery_s, 1.0)
                    madgwick.gain = (base_gain + ramp * (startup_gain - base_gain)
                                     if ramp > 0.0 and startup_gain > base_gain else base_gain)
                q = madgwick.updateIMU(q, (wx, wy, wz), gravity_row, dt)
            out[i] = q
            if up is not None:
                w, x, y, z = q.tolist()
                up[i] = (2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y))
        self._q, self._last_t, self._recovery_start_s = q, last_t, recovery_start
        self._last_gyr, self._lowpass = (lgx, lgy, lgz), (lx, ly, lz)
        return out


def _rotation_from_rate(wx: float, wy: float, wz: float, dt: float) -> tuple[float, ...]:
    """exp([ω·dt]×) row-major (Rodrigues): the body-frame step of one gyroscope sample."""
    norm = math.sqrt(wx * wx + wy * wy + wz * wz)
    if norm == 0.0 or dt == 0.0:
        return _IDENTITY
    x, y, z = wx / norm, wy / norm, wz / norm
    angle = norm * dt
    sin, one_minus_cos = math.sin(angle), 1.0 - math.cos(angle)
    xy, xz, yz = one_minus_cos * x * y, one_minus_cos * x * z, one_minus_cos * y * z
    sx, sy, sz = sin * x, sin * y, sin * z
    return (1.0 - one_minus_cos * (y * y + z * z), xy - sz, xz + sy,
            xy + sz, 1.0 - one_minus_cos * (x * x + z * z), yz - sx,
            xz - sy, yz + sx, 1.0 - one_minus_cos * (x * x + y * y))


def _trust(ax: float, ay: float, az: float, trust_g: tuple[float, float]) -> float:
    """How much a sample counts in the gravity reference: 1 near 1 g, 0 beyond ``trust_g[1]``."""
    start_g, end_g = trust_g
    deviation_g = abs(math.sqrt(ax * ax + ay * ay + az * az) / STANDARD_GRAVITY - 1.0)
    return min(max((end_g - deviation_g) / (end_g - start_g), 0.0), 1.0)


def estimate_orientation(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                         params: OrientationParams | None = None) -> np.ndarray:
    """Batch orientation: (N, 4) unit quaternions (w, x, y, z), sensor-to-earth, earth z up.

    ``t`` in s, ``acc`` in m/s², ``gyr`` in rad/s (sensor frame). The same kernel as the
    streaming ``OrientationEstimator``, so both agree sample for sample.
    """
    return OrientationEstimator(params or OrientationParams()).update(SampleBatch(t, acc, gyr))
