"""Orientation from accelerometer and gyroscope: ahrs's Madgwick filter, fed carefully.

ahrs stays the fusion engine: each sample is one ``Madgwick.updateIMU`` call. What this module
adds is computed per batch with NumPy, so the per-sample Python work is that call and nothing
else:

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

All of that is vectorised per batch (recurrences as blocked prefix scans, ``_scan.py``), and
streaming gives bit-for-bit the batch result.

Output quaternions are (w, x, y, z), sensor-to-earth, earth z up, heading arbitrary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ahrs.filters import Madgwick

from firmware_interface.samples import SampleBatch
from fusion import _quaternion as quat
from fusion._scan import BLOCK, blocked_prefix_affine, blocked_prefix_matmul, to_blocks
from fusion.bias import GyroBiasEstimator, GyroBiasParams
from firmware_interface.conventions import STANDARD_GRAVITY

_NEGLIGIBLE_RATE = np.array([1e-12, 0.0, 0.0])
_IDENTITY = np.eye(3)


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
        self._last_gyr = np.zeros(3)
        self._recovery_start_s = -np.inf
        # The gravity reference's state at the start of the current scan block, and the
        # samples of that block seen so far (see _scan.py).
        self._block_frame = np.eye(3)  # sensor -> the gyroscope-integrated frame
        self._block_lowpass = np.zeros(3)  # low-passed specific force in that frame
        self._block_steps = np.empty((0, 3, 3))
        self._block_acc = np.empty((0, 3))
        self._block_decay = np.empty(0)
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
        n = len(batch)
        out = np.empty((n, 4))
        if n == 0:
            return out
        gyr, gravity, dt, gain = self._prepare(batch.t, batch.acc, batch.gyr)
        madgwick = self._madgwick
        start = 0
        q = self._q
        if q is None:
            q = quat.from_gravity(batch.acc[0])
            out[0] = q
            start = 1
        # Python floats and row views: the least per-call work around ahrs (same values).
        gains, steps = gain.tolist(), dt.tolist()
        for i in range(start, n):
            madgwick.gain = gains[i]
            q = madgwick.updateIMU(q, gyr[i], gravity[i], steps[i])
            out[i] = q
        self._q = q
        return out

    def _prepare(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per sample and vectorised: corrected gyroscope, gravity reference, time step and gain."""
        p = self.params
        # Each sample's predecessor's time (the first's: the last of the previous batch).
        previous_t = np.empty(len(t))
        previous_t[0] = t[0] if self._last_t is None else self._last_t
        previous_t[1:] = t[:-1]
        raw_dt = t - previous_t
        gap = raw_dt > p.max_gap_s
        restart = raw_dt > p.restart_after_s
        if self._last_t is None:
            restart[0] = True
        # Neither a gap nor a repeated or out-of-order timestamp is integrated.
        dt = np.where(gap | (raw_dt <= 0.0), 0.0, raw_dt)
        self._last_t = float(t[-1])
        recovery_start = np.maximum.accumulate(np.where(restart, t, self._recovery_start_s))
        self._recovery_start_s = float(recovery_start[-1])
        ramp = np.minimum(np.maximum(1.0 - (t - recovery_start) / p.recovery_s, 0.0), 1.0)

        rest = np.zeros(len(t), dtype=bool)
        if self._bias is not None:
            bias, rest = self._bias.update(t, gyr, acc)
            gyr = gyr - bias
        lost = dt > p.lost_samples_step_s
        if lost.any():
            previous_gyr = np.concatenate([self._last_gyr[None], gyr[:-1]])
            gyr_step = np.where(lost[:, None], 0.5 * (previous_gyr + gyr), gyr)
        else:
            gyr_step = gyr
        self._last_gyr = gyr[-1]
        gyr = np.where((gyr_step != 0.0).any(axis=1, keepdims=True), gyr_step, _NEGLIGIBLE_RATE)

        if p.acc_trust_g is None:
            trust = 1.0
        else:
            start_g, end_g = p.acc_trust_g
            acc_deviation_g = np.abs(np.linalg.norm(acc, axis=1) / STANDARD_GRAVITY - 1.0)
            trust = np.clip((end_g - acc_deviation_g) / (end_g - start_g), 0.0, 1.0)
        steps = quat.rotation_matrices_from_rates(gyr, dt)
        if p.acc_lowpass_s > 0:
            # A running mean until acc_lowpass_s has passed since the (re)start, so a jolt in the
            # first sample does not linger; then the exponential low-pass.
            weighted_dt = dt if p.acc_trust_g is None else trust * dt
            since_start_s = np.maximum(previous_t - recovery_start, 0.0)
            running_mean = np.divide(since_start_s, since_start_s + weighted_dt,
                                     out=np.ones_like(dt), where=np.asarray(weighted_dt) > 0)
            decay = np.where(restart, 0.0, np.minimum(np.exp(-weighted_dt / p.acc_lowpass_s), running_mean))
            gravity = self._gravity_reference(acc, steps, decay)
        else:
            gravity = acc
        # ahrs evaluates the correction at the previous orientation, so give it gravity as seen
        # there; otherwise fast rotation drags the estimate ahead by up to 2·gain rad/s.
        gravity = np.einsum("nij,nj->ni", steps, gravity)
        base_gain = np.where(rest, p.rest_gain, p.gain)
        gain = base_gain + ramp * np.maximum(p.startup_gain - base_gain, 0.0)
        # Madgwick's correction is gain·dt whatever the error: over a long step it would overshoot.
        gain[lost] = 0.0
        return gyr, gravity, dt, gain

    def _gravity_reference(self, acc: np.ndarray, steps: np.ndarray, decay: np.ndarray) -> np.ndarray:
        """The accelerometer low-passed in the gyroscope-integrated frame, returned in the sensor frame.

        Untrusted samples (‖a‖ far from g) leave the low-pass unchanged; ``decay`` 0 restarts it.
        """
        n = len(acc)
        steps = np.concatenate([self._block_steps, steps])
        acc = np.concatenate([self._block_acc, acc])
        decay = np.concatenate([self._block_decay, decay])
        count = len(acc)

        step_products = blocked_prefix_matmul(to_blocks(steps, _IDENTITY))
        block_frames = np.empty((len(step_products), 3, 3))
        frame = self._block_frame
        for k, product in enumerate(step_products):
            block_frames[k] = frame
            frame = frame @ product[-1]
        frames = (block_frames[:, None] @ step_products).reshape(-1, 3, 3)[:count]

        acc_in_frame = np.einsum("nij,nj->ni", frames, acc)
        lowpass_gain, lowpass_offset = blocked_prefix_affine(
            to_blocks(decay, 1.0), to_blocks((1.0 - decay)[:, None] * acc_in_frame, 0.0))
        block_lowpass = np.empty((len(lowpass_gain), 3))
        lowpass = self._block_lowpass
        for k in range(len(lowpass_gain)):
            block_lowpass[k] = lowpass
            lowpass = lowpass_gain[k, -1] * lowpass + lowpass_offset[k, -1]
        lowpass = (lowpass_gain[..., None] * block_lowpass[:, None] + lowpass_offset).reshape(-1, 3)[:count]

        complete = count // BLOCK
        if complete:
            self._block_frame = block_frames[complete - 1] @ step_products[complete - 1, -1]
            self._block_lowpass = lowpass[complete * BLOCK - 1]
        self._block_steps = steps[complete * BLOCK:]
        self._block_acc = acc[complete * BLOCK:]
        self._block_decay = decay[complete * BLOCK:]
        return np.einsum("nji,nj->ni", frames[-n:], lowpass[-n:])


def estimate_orientation(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                         params: OrientationParams | None = None) -> np.ndarray:
    """Batch orientation: (N, 4) unit quaternions (w, x, y, z), sensor-to-earth, earth z up.

    ``t`` in s, ``acc`` in m/s², ``gyr`` in rad/s (sensor frame). The same kernel as the
    streaming ``OrientationEstimator``, so both agree sample for sample.
    """
    return OrientationEstimator(params or OrientationParams()).update(SampleBatch(t, acc, gyr))
