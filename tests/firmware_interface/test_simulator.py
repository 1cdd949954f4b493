"""The motion simulator: physics consistency, ground truth and imperfections.

Oracles here are written independently of the simulator's own rotation helpers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from firmware_interface.errors import UsageError
from firmware_interface.simulator import (
    SCENARIOS,
    EpisodeRules,
    HipHinges,
    ImuImperfections,
    Lie,
    Mounting,
    Scenario,
    Sit,
    SitDown,
    SquatSet,
    Stand,
    StandUp,
    Walk,
    simulate,
)
from firmware_interface.simulator.truth import find_episodes
from firmware_interface.conventions import DEFAULT_SENSOR_TO_BODY, STANDARD_GRAVITY

SEEDS = (1, 2, 3)
ACTIVITIES = {"standing", "sitting", "walking", "squatting", "lying", "other"}


# --- independent quaternion oracle ----------------------------------------------------------------

def q_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([w*w + x*x - y*y - z*z, 2*(x*y - w*z), 2*(x*z + w*y)], -1),
        np.stack([2*(x*y + w*z), w*w - x*x + y*y - z*z, 2*(y*z - w*x)], -1),
        np.stack([2*(x*z - w*y), 2*(y*z + w*x), w*w - x*x - y*y + z*z], -1),
    ], -2)


def q_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([aw*bw - ax*bx - ay*by - az*bz, aw*bx + ax*bw + ay*bz - az*by,
                     aw*by - ax*bz + ay*bw + az*bx, aw*bz + ax*by - ay*bx + az*bw])


def angle_between_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    dot = np.abs(np.sum(q1 * q2, axis=-1))
    return np.degrees(2 * np.arccos(np.clip(dot, 0.0, 1.0)))


def noise_free(scenario: Scenario, seed: int, **kwargs):
    return simulate(scenario, seed=seed, imperfections=ImuImperfections.none(), **kwargs)


MOVEMENT = Scenario((
    Stand(6.0),
    HipHinges(2),
    SquatSet(2, "deep", butt_wink=True),
    Walk(8.0),
    SitDown(),
    Sit(5.0, "slumped"),
    StandUp(),
    Lie(10.0),
    Stand(2.0),
))


# --- at rest -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_at_rest_reads_gravity_only(seed):
    session = noise_free(Scenario((Stand(8.0, sway_deg=0.0),)), seed)
    truth = session.truth
    np.testing.assert_allclose(np.linalg.norm(session.batch.acc, axis=1), STANDARD_GRAVITY, atol=1e-9)
    np.testing.assert_allclose(session.batch.gyr, 0.0, atol=1e-12)
    gravity_in_sensor = np.einsum("nji,j->ni", q_to_matrix(truth.sensor_quat), [0, 0, STANDARD_GRAVITY])
    np.testing.assert_allclose(session.batch.acc, gravity_in_sensor, atol=1e-9)
    assert np.all(truth.tilt_deg == 0.0)
    assert np.all(truth.activity == "standing")


def test_default_mounting_reads_gravity_on_sensor_y():
    # conventions.py: sensor +y points up the spine, so at standing neutral it reads +g.
    session = noise_free(Scenario((Stand(5.0, sway_deg=0.0),)), 7, mounting=Mounting.default())
    np.testing.assert_allclose(session.batch.acc, [[0.0, STANDARD_GRAVITY, 0.0]] * len(session.batch), atol=1e-9)
    np.testing.assert_allclose(session.truth.mounting, DEFAULT_SENSOR_TO_BODY, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_named_scenarios_start_with_a_still_standing_window(name):
    for seed in (4, 5):
        session = simulate(name, seed=seed)
        truth = session.truth
        first = truth.t < 5.0
        assert np.all(truth.activity[first] == "standing")
        assert np.max(np.abs(truth.tilt_deg[first])) < 1.0
        assert set(np.unique(truth.activity)) <= ACTIVITIES
        assert truth.t[-1] == pytest.approx(session.scenario.duration_s, abs=0.02)
        assert session.info.extra == {"scenario": name, "seed": seed}


# --- physical consistency ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_truth_tilt_is_the_pitch_of_the_pelvis_quaternion(seed):
    truth = noise_free(MOVEMENT, seed).truth
    r = q_to_matrix(truth.pelvis_quat)
    np.testing.assert_allclose(truth.tilt_deg, np.degrees(np.arcsin(-r[:, 2, 0])), atol=1e-6)
    np.testing.assert_allclose(truth.obliquity_deg, np.degrees(np.arctan2(r[:, 2, 1], r[:, 2, 2])), atol=1e-6)
    sensor = np.einsum("nij,jk->nik", r, truth.mounting)
    np.testing.assert_allclose(q_to_matrix(truth.sensor_quat), sensor, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_integrating_the_gyro_reproduces_the_true_orientation(seed):
    session = noise_free(MOVEMENT, seed)
    truth, gyr = session.truth, session.batch.gyr
    dt = 1.0 / truth.sample_rate_hz
    q = truth.sensor_quat[0].copy()
    errors = []
    for k in range(1, len(gyr)):
        rate = 0.5 * (gyr[k - 1] + gyr[k])
        angle = np.linalg.norm(rate) * dt
        axis = rate / np.linalg.norm(rate) if angle > 0 else np.zeros(3)
        q = q_multiply(q, np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis]))
        q /= np.linalg.norm(q)
        errors.append(angle_between_deg(q, truth.sensor_quat[k]))
    assert max(errors) < 0.5, f"max orientation error {max(errors):.3f}°"


@pytest.mark.parametrize("seed", SEEDS)
def test_accelerometer_is_specific_force_of_the_true_position(seed):
    session = noise_free(MOVEMENT, seed)
    truth = session.truth
    dt = 1.0 / truth.sample_rate_hz
    p = truth.position_m
    a_world = (p[2:] - 2 * p[1:-1] + p[:-2]) / dt**2 + [0.0, 0.0, STANDARD_GRAVITY]
    expected = np.einsum("nji,nj->ni", q_to_matrix(truth.sensor_quat[1:-1]), a_world)
    error = np.abs(session.batch.acc[1:-1] - expected)
    # The oracle's 3-point difference at the output rate is itself off by up to ~0.1 m/s² in the
    # quickest squat reversals (the simulator differentiates on a 4x finer grid).
    assert error.max() < 0.15, f"max accelerometer error {error.max():.4f} m/s²"
    assert np.sqrt(np.mean(error**2)) < 0.01
    # The motion is not trivial: the linear acceleration is well above the error.
    assert np.abs(a_world - [0, 0, STANDARD_GRAVITY]).max() > 1.0


def test_trajectories_are_continuous_across_segments():
    truth = noise_free(MOVEMENT, 11).truth
    dt = 1.0 / truth.sample_rate_hz
    assert np.abs(np.diff(truth.tilt_deg)).max() / dt < 200.0  # °/s
    assert np.abs(np.diff(truth.position_m, axis=0)).max() / dt < 3.0  # m/s


# --- squats --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_squat_truth_matches_the_design(seed):
    scenario = Scenario((Stand(6.0), SquatSet(4, "deep", butt_wink=True, wink_deg=15.0), Stand(20.0),
                         SquatSet(5, "parallel", butt_wink=False), Stand(3.0)))
    truth = noise_free(scenario, seed).truth
    assert [(r.set, r.index) for r in truth.reps] == [(1, i) for i in range(1, 5)] + [(2, i) for i in range(1, 6)]
    assert [r.butt_wink for r in truth.reps] == [True] * 4 + [False] * 5
    for rep in truth.reps:
        assert rep.start_s < rep.bottom_s < rep.end_s
        inside = (truth.t >= rep.start_s) & (truth.t < rep.end_s)  # a segment owns [start, end)
        assert np.all(truth.activity[inside] == "squatting")
        assert 20.0 - 0.01 <= truth.tilt_deg[inside].max() <= 40.0 + 0.01
        assert rep.wink_deg == pytest.approx(rep.designed_wink_deg, abs=0.3)
        if rep.butt_wink:
            assert rep.wink_deg >= 10.0
        else:
            assert rep.wink_deg < 5.0
    deep = [r.depth_m for r in truth.reps[:4]]
    assert all(0.35 <= d <= 0.8 for d in deep)


@pytest.mark.parametrize("seed", SEEDS)
def test_squat_wink_probability_mixes_reps_and_flags_follow_the_designed_reversal(seed):
    scenario = Scenario((Stand(6.0), SquatSet(12, "deep", butt_wink=0.5, between_reps_s=0.2), Stand(3.0)))
    reps = noise_free(scenario, seed).truth.reps
    assert len(reps) == 12
    flags = [r.butt_wink for r in reps]
    assert 0 < sum(flags) < 12
    for rep in reps:
        assert rep.butt_wink == (rep.designed_wink_deg >= 10.0)
        assert rep.wink_deg == pytest.approx(rep.designed_wink_deg, abs=0.3)


def test_squat_set_lasts_its_duration_despite_rep_variability():
    squats = SquatSet(5, descent_s=2.0, bottom_s=0.5, ascent_s=1.5, between_reps_s=1.0)
    assert squats.duration_s == pytest.approx(24.0)
    truth = noise_free(Scenario((Stand(5.0), squats, Stand(5.0))), 3).truth
    assert truth.reps[0].start_s == pytest.approx(5.0, abs=0.01)
    assert truth.reps[-1].end_s == pytest.approx(29.0, abs=0.01)
    descents = [r.bottom_s - r.start_s for r in truth.reps]
    assert np.std(descents) > 0.01  # rep-to-rep variability is present


# --- sitting, transitions, episodes --------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_long_slump_is_a_posterior_episode_and_short_one_is_not(seed):
    long_slump = Scenario((Stand(6.0), SitDown(), Sit(180.0, "slumped"), StandUp(), Stand(5.0)))
    truth = noise_free(long_slump, seed).truth
    assert len(truth.episodes) == 1
    episode = truth.episodes[0]
    assert (episode.direction, episode.activity, episode.threshold_deg) == ("posterior", "sitting", -20.0)
    assert episode.end_s - episode.start_s > 170.0
    assert episode.peak_deg < -20.0

    short_slump = Scenario((Stand(6.0), SitDown(), Sit(30.0, "slumped"), StandUp(), Stand(5.0)))
    assert noise_free(short_slump, seed).truth.episodes == ()


@pytest.mark.parametrize("seed", SEEDS)
def test_arched_sitting_and_standing_tilt_are_anterior_episodes(seed):
    scenario = Scenario((Stand(6.0), SitDown(), Sit(90.0, "arched"), StandUp(), Stand(45.0, tilt_deg=14.0),
                         Stand(5.0)))
    truth = noise_free(scenario, seed).truth
    assert [(e.direction, e.activity) for e in truth.episodes] == [("anterior", "sitting"), ("anterior", "standing")]
    assert truth.episodes[1].end_s - truth.episodes[1].start_s > 38.0


@pytest.mark.parametrize("seed", SEEDS)
def test_sitting_angles_transitions_and_labels(seed):
    scenario = Scenario((Stand(6.0), SitDown(duration_s=2.0), Sit(60.0, "habitual"), StandUp(duration_s=1.5),
                         Stand(4.0)))
    truth = noise_free(scenario, seed).truth
    assert [(e.kind, round(e.start_s, 2), round(e.end_s, 2)) for e in truth.transitions] == [
        ("sit_down", 6.0, 8.0), ("stand_up", 68.0, 69.5)]
    sitting = truth.activity == "sitting"
    assert truth.t[sitting][0] == pytest.approx(8.0, abs=0.02)
    assert -25.0 < np.median(truth.tilt_deg[sitting]) < -8.0
    assert np.all(truth.activity[(truth.t > 6.01) & (truth.t < 7.99)] == "other")
    # Sit-to-stand: forward pitch peak 20–40° above the sitting angle, hips rise 0.3–0.45 m.
    up = (truth.t >= 68.0) & (truth.t <= 69.5)
    assert 19.9 <= truth.tilt_deg[up].max() - truth.tilt_deg[truth.t < 68.0][-1] <= 40.1
    assert 0.25 < truth.position_m[-1, 2] - truth.position_m[sitting, 2].mean() < 0.55


def test_episode_rules_merge_fidgets_and_require_the_hold_time():
    t = np.arange(0, 200, 0.1)
    tilt = np.where((t > 10) & (t < 150), -25.0, -12.0)
    tilt[(t > 50) & (t < 53)] = -15.0  # a 3 s fidget back inside: merged
    activity = np.full(len(t), "sitting")
    episodes = find_episodes(t, tilt, activity, EpisodeRules())
    assert len(episodes) == 1 and episodes[0].start_s == pytest.approx(10.1)
    tilt[(t > 50) & (t < 58)] = -15.0  # an 8 s return: splits into 40 s (too short) + 92 s
    episodes = find_episodes(t, tilt, activity, EpisodeRules())
    assert [round(e.start_s, 1) for e in episodes] == [58.0]
    walking = np.full(len(t), "walking")
    assert find_episodes(t, tilt, walking) == []


# --- imperfections --------------------------------------------------------------------------------

STILL = Scenario((Stand(60.0, sway_deg=0.0),))


@pytest.mark.parametrize("seed", SEEDS)
def test_white_noise_matches_the_density(seed):
    imp = ImuImperfections(gyro_noise_dps_rthz=0.01, acc_noise_ug_rthz=150.0)
    session = simulate(STILL, seed=seed, imperfections=imp, sample_rate_hz=100.0)
    clean = noise_free(STILL, seed, sample_rate_hz=100.0)
    gyr_std = np.std(session.batch.gyr - clean.batch.gyr, axis=0)
    acc_std = np.std(session.batch.acc - clean.batch.acc, axis=0)
    np.testing.assert_allclose(gyr_std, np.radians(0.01) * 10.0, rtol=0.05)
    np.testing.assert_allclose(acc_std, 150e-6 * STANDARD_GRAVITY * 10.0, rtol=0.05)


def test_turn_on_biases_are_constant_with_the_asked_spread():
    imp = ImuImperfections(gyro_bias_dps=0.7, acc_bias_mg=20.0)
    short = Scenario((Stand(5.0, sway_deg=0.0),))
    gyro_biases, acc_biases = [], []
    for seed in range(40):
        session = simulate(short, seed=seed, imperfections=imp, mounting=Mounting.default())
        assert np.ptp(session.batch.gyr, axis=0).max() < 1e-12
        gyro_biases.append(session.batch.gyr[0])
        acc_biases.append(session.batch.acc[0] - [0.0, STANDARD_GRAVITY, 0.0])
    assert np.degrees(np.std(gyro_biases)) == pytest.approx(0.7, rel=0.25)
    assert np.std(acc_biases) / STANDARD_GRAVITY * 1e3 == pytest.approx(20.0, rel=0.25)


def test_bias_instability_drifts_slowly():
    imp = ImuImperfections(gyro_bias_instability_dph=360.0, gyro_bias_tau_s=20.0)
    session = simulate(Scenario((Stand(300.0, sway_deg=0.0),)), seed=2, imperfections=imp)
    drift = np.degrees(session.batch.gyr) * 3600.0  # °/h
    assert drift[0] == pytest.approx(0.0, abs=1e-6)
    assert 150.0 < np.std(drift[len(drift) // 5:]) < 600.0
    assert np.abs(np.diff(drift, axis=0)).max() < 20.0  # smooth, not white


@pytest.mark.parametrize("seed", SEEDS)
def test_loss_timestamps_and_gap_markers(seed):
    imp = dataclasses.replace(ImuImperfections.none(), loss_fraction=0.01, burst_prob=0.002,
                              timestamp_jitter_s=0.003, duplicate_timestamp_prob=0.01, clock_drift_ppm=3.0)
    session = simulate(Scenario((Stand(300.0),)), seed=seed, imperfections=imp)
    batch, truth, index = session.batch, session.truth, session.delivered_index
    expected_loss = 1 - 0.99 * (1 - 0.002) ** 17.5
    assert 1 - len(batch) / len(truth.t) == pytest.approx(expected_loss, abs=0.01)
    assert np.all(np.diff(index) > 0)
    assert np.all(np.diff(batch.t) >= 0)
    assert np.any(np.diff(batch.t) == 0)  # duplicated timestamps occur
    nominal = truth.t[index] * (1 + 3e-6)
    assert np.abs(batch.t - nominal).max() < 0.025  # jitter, or a repeated earlier stamp
    assert len(batch.markers) > 0
    for marker in batch.markers:
        assert marker.kind == "gap" and marker.end_s > marker.t_s
        inside = (batch.t > marker.t_s + 1e-9) & (batch.t < marker.end_s - 1e-9)
        assert not inside.any()
        assert marker.data["samples"] >= 5


def test_stress_loss_fraction():
    imp = dataclasses.replace(ImuImperfections.none(), loss_fraction=0.3)
    session = simulate(Scenario((Stand(100.0),)), seed=5, imperfections=imp)
    assert 1 - len(session.batch) / len(session.truth.t) == pytest.approx(0.3, abs=0.02)
    assert session.batch.markers == ()


def test_quantisation_and_saturation():
    imp = ImuImperfections(acc_range_g=2.0, gyro_range_dps=250.0, adc_bits=12)
    session = simulate(MOVEMENT, seed=1, imperfections=imp)
    acc_lsb = 2.0 * STANDARD_GRAVITY / 2048
    counts = session.batch.acc / acc_lsb
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    assert np.abs(session.batch.gyr).max() <= np.radians(250.0) + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_typical_imperfections_keep_the_signal_and_leave_the_truth_alone(seed):
    typical = simulate(MOVEMENT, seed=seed)
    clean = noise_free(MOVEMENT, seed)
    np.testing.assert_array_equal(typical.truth.tilt_deg, clean.truth.tilt_deg)
    np.testing.assert_array_equal(typical.truth.sensor_quat, clean.truth.sensor_quat)
    error = typical.batch.acc - clean.batch.acc[typical.delivered_index]
    assert 0.01 < np.sqrt(np.mean(error**2)) < 0.6


def test_determinism_per_seed():
    a, b, c = (simulate("mixed", seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.batch.t, b.batch.t)
    np.testing.assert_array_equal(a.batch.acc, b.batch.acc)
    np.testing.assert_array_equal(a.batch.gyr, b.batch.gyr)
    np.testing.assert_array_equal(a.truth.tilt_deg, b.truth.tilt_deg)
    assert a.batch.markers == b.batch.markers
    assert len(a.truth.t) != len(c.truth.t) or not np.array_equal(a.truth.tilt_deg, c.truth.tilt_deg)


def test_mountings():
    scenario = Scenario((Stand(5.0, sway_deg=0.0),))
    pitches = []
    for seed in range(30):
        m = noise_free(scenario, seed, mounting=Mounting.default_with_misalignment()).truth.mounting
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        # The pitch offset tips the sensor's y axis (up the spine) forward.
        y_in_pelvis = m[:, 1]
        pitches.append(np.degrees(np.arctan2(y_in_pelvis[0], y_in_pelvis[2])))
    assert np.mean(pitches) == pytest.approx(20.0, abs=4.0)
    assert 4.0 < np.std(pitches) < 12.0
    fixed = noise_free(scenario, 1, mounting=Mounting.offset(pitch_deg=30.0)).truth.mounting
    assert np.degrees(np.arctan2(fixed[0, 1], fixed[2, 1])) == pytest.approx(30.0)
    random_mounts = [noise_free(scenario, s, mounting=Mounting.random()).truth.mounting for s in range(3)]
    assert not np.allclose(random_mounts[0], random_mounts[1])


def test_tilt_at_interpolates_the_truth():
    truth = noise_free(MOVEMENT, 2).truth
    np.testing.assert_allclose(truth.tilt_at(truth.t[::7]), truth.tilt_deg[::7])
    mid = 0.5 * (truth.t[100] + truth.t[101])
    assert truth.tilt_at(mid) == pytest.approx(0.5 * (truth.tilt_deg[100] + truth.tilt_deg[101]))


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda: Scenario(()),
    lambda: Scenario((Sit(10.0),)),
    lambda: Scenario((Stand(3.0),)),
    lambda: Scenario((Stand(6.0), Sit(10.0))),
    lambda: Scenario((Stand(6.0), SitDown(), Walk(10.0))),
    lambda: Sit(10.0, posture="sprawled"),
    lambda: SquatSet(0),
    lambda: SquatSet(3, depth="ankle"),
    lambda: SquatSet(3, butt_wink=1.5),
    lambda: Stand(-1.0),
    lambda: ImuImperfections(loss_fraction=1.0),
    lambda: simulate("nonexistent"),
    lambda: simulate(Scenario((Stand(6.0),)), sample_rate_hz=0.0),
])
def test_bad_input_raises_one_line_usage_errors(build):
    with pytest.raises(UsageError) as info:
        build()
    assert "\n" not in str(info.value)


def test_anterior_tilt_turns_the_back_of_the_sensor_upwards():
    # Default mounting: sensor +z points out of the back, so bending forward (anterior tilt)
    # puts gravity onto +z and takes it off +y.
    scenario = Scenario((Stand(5.0, sway_deg=0.0), HipHinges(1, hold_s=2.0, angle_deg=50.0), Stand(2.0)))
    session = noise_free(scenario, 3, mounting=Mounting.default())
    holding = (session.truth.t > 7.2) & (session.truth.t < 7.8)
    assert np.all(session.truth.tilt_deg[holding] == pytest.approx(50.0))
    expected = STANDARD_GRAVITY * np.array([0.0, np.cos(np.radians(50.0)), np.sin(np.radians(50.0))])
    np.testing.assert_allclose(session.batch.acc[holding], np.tile(expected, (holding.sum(), 1)), atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_named_scenarios_contain_what_they_promise(seed):
    desk = noise_free("desk", seed).truth
    kinds = {(e.direction, e.activity) for e in desk.episodes}
    assert {("posterior", "sitting"), ("anterior", "sitting")} <= kinds
    assert all(e.end_s - e.start_s >= 60.0 for e in desk.episodes)
    assert 12 * 60 < desk.t[-1] < 18 * 60
    squat = noise_free("squat", seed).truth
    assert len(squat.reps) in (10, 15) and {r.set for r in squat.reps} in ({1, 2}, {1, 2, 3})
    hinge = noise_free("hinge", seed).truth
    assert [e.kind for e in hinge.transitions] == ["hinge"] * 3
    assert max(hinge.tilt_deg) > 40.0
    mixed = noise_free("mixed", seed).truth
    assert {"standing", "sitting", "walking", "squatting", "lying", "other"} == set(np.unique(mixed.activity))
    assert ("anterior", "standing") in {(e.direction, e.activity) for e in mixed.episodes}
