"""Frames and signs, fixed once for the whole project.

Earth frame: z up (heading arbitrary; no magnetometer). Quaternions are scalar first
(w, x, y, z) and rotate sensor-frame vectors into the earth frame.

Body (pelvis) frame used for tilt: x forward, y to the wearer's left, z up.
Pelvic tilt is the rotation of the pelvis about its mediolateral (left) axis relative to the
calibrated neutral, **anterior positive** (the top of the pelvis rotating forward), in degrees
at the edges (display, reports, JSON), radians inside.

Default mounting, assumed until a functional calibration finds the axis: the sensor lies flat on
the sacrum, its printed face pointing away from the body, with
  sensor +x -> the wearer's right,
  sensor +y -> up the spine (towards the head),
  sensor +z -> backwards, out of the body.
"""

from __future__ import annotations

import numpy as np

STANDARD_GRAVITY = 9.80665  # m/s²

# Rows: the sensor axes' directions expressed in the body frame (x fwd, y left, z up) for
# the default mounting, so that v_body = DEFAULT_SENSOR_TO_BODY @ v_sensor.
DEFAULT_SENSOR_TO_BODY = np.array(
    [
        [0.0, 0.0, -1.0],  # body forward  = -sensor z
        [-1.0, 0.0, 0.0],  # body left     = -sensor x
        [0.0, 1.0, 0.0],   # body up       = +sensor y
    ]
)

# The pelvis's left axis in sensor coordinates for the default mounting: anterior tilt is a
# positive right-hand rotation about it.
DEFAULT_LEFT_AXIS_SENSOR = DEFAULT_SENSOR_TO_BODY[1]
