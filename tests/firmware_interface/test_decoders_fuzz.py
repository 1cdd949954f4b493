"""Every decoder on arbitrary bytes: it never raises, emits only sane samples, and accounts for
everything it is fed (accepted frames plus counted rejects)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_interface.profiles import PROFILES, metamotion, movella_dot, open_profile, thingy52, witmotion
from firmware_interface.profiles.witmotion import WT_NOTIFY_UUID, WitMotionDecoder, encode_frame

FUZZ = settings(max_examples=150, deadline=None)

# A notification: which characteristic it came on (one the profile subscribes to, or another) and
# arbitrary bytes, up to a long-payload size.
notifications = st.lists(st.tuples(st.integers(0, 3), st.binary(max_size=70)), max_size=25)


def uuid_for(profile, choice: int) -> str:
    uuids = profile.notify_uuids
    return uuids[choice] if choice < len(uuids) else "0000dead-0000-1000-8000-00805f9b34fb"


def check_batch(batch, previous_t: float) -> float:
    assert batch.acc.shape == (len(batch), 3) and batch.gyr.shape == (len(batch), 3)
    assert np.all(np.isfinite(batch.t)) and np.all(np.isfinite(batch.acc)) and np.all(np.isfinite(batch.gyr))
    if len(batch):
        assert batch.t[0] > previous_t and np.all(np.diff(batch.t) > 0)
        return float(batch.t[-1])
    return previous_t


@pytest.mark.parametrize("key", sorted(PROFILES))
@FUZZ
@given(stream=notifications, data=st.data())
def test_arbitrary_notifications_never_raise(key, stream, data):
    profile = PROFILES[key]
    rate_hz = data.draw(st.sampled_from(profile.rates_hz))
    decoder = profile.decoder_factory(rate_hz)
    last_t = -np.inf
    samples = 0
    for i, (choice, payload) in enumerate(stream):
        result = decoder.feed(uuid_for(profile, choice), payload, 100.0 + 0.01 * i)
        last_t = check_batch(result.batch, last_t)
        samples += len(result.batch)
        assert result.battery_pct is None or 0 <= result.battery_pct <= 100
    assert decoder.stats.samples == samples
    if key != "wt901":  # one frame per notification: each is either accepted or rejected with a reason
        assert decoder.stats.frames + decoder.stats.malformed == len(stream)


@FUZZ
@given(chunks=st.lists(st.binary(max_size=90), max_size=20))
def test_witmotion_accounts_for_every_byte(chunks):
    decoder = WitMotionDecoder(100.0)
    for chunk in chunks:
        decoder.feed(WT_NOTIFY_UUID, chunk, 1.0)
    fed = sum(map(len, chunks))
    assert decoder.stats.frames * 20 + decoder.stats.skipped_bytes + decoder._walker.pending_bytes == fed


@FUZZ
@given(noise=st.lists(st.binary(max_size=30), min_size=1, max_size=8), seed=st.integers(0, 2**32 - 1))
def test_witmotion_recovers_every_frame_not_touched_by_noise(noise, seed):
    """Noise between frames costs at most the frame it runs into; the others all decode."""
    rng = np.random.default_rng(seed)
    frames = [encode_frame(rng.normal(0, 5, 3), rng.normal(0, 1, 3)) for _ in range(len(noise))]
    decoder = WitMotionDecoder(50.0)
    decoded = 0
    for frame, garbage in zip(frames, noise):
        decoded += len(decoder.feed(WT_NOTIFY_UUID, garbage + frame, 1.0).batch)
    # A garbage tail that looks like a partial header can swallow the frame after it, never more.
    assert decoded >= len(frames) - sum(1 for g in noise if b"\x55" in g)


def valid_notifications(key: str, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """A short stream of well-formed notifications from the profile's own encoders."""
    count = 9
    t = 10.0 + np.arange(count) / 50
    acc = rng.normal(0, 8, (count, 3))
    gyr = rng.normal(0, 3, (count, 3))
    if key == "wt901":
        return [(witmotion.WT_NOTIFY_UUID, n) for n in witmotion.encode_samples(t, acc, gyr, rate_hz=50)]
    if key == "dot":
        return [(movella_dot.DOT_MEDIUM_PAYLOAD_UUID, n) for n in movella_dot.encode_samples(t, acc, gyr)]
    if key == "thingy":
        return [(thingy52.TH_RAW_DATA_UUID, n) for n in thingy52.encode_samples(t, acc, gyr)]
    if key == "metamotion":
        packed = bool(rng.integers(2))
        chip = str(rng.choice(["bmi160", "bmi270"]))
        return [(metamotion.MW_NOTIFY_UUID, n) for n in metamotion.encode_samples(t, acc, gyr, chip, packed)]
    config = open_profile.OpenConfig(50, acc_range_g=8)
    return [(open_profile.OP_CONFIG_UUID, open_profile.encode_config(config))] + [
        (open_profile.OP_DATA_UUID, n) for n in open_profile.encode_samples(t, acc, gyr, 3, config=config)]


mutations = st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["flip", "truncate", "extend", "drop", "dup"]),
                               st.integers(0, 255)), max_size=6)


@pytest.mark.parametrize("key", sorted(PROFILES))
@FUZZ
@given(seed=st.integers(0, 2**32 - 1), edits=mutations)
def test_mutated_valid_streams_never_raise(key, seed, edits):
    stream = valid_notifications(key, np.random.default_rng(seed))
    for index, kind, value in edits:
        if not stream:
            break
        index %= len(stream)
        uuid, payload = stream[index]
        if kind == "flip" and payload:
            position = value % len(payload)
            payload = payload[:position] + bytes([payload[position] ^ (1 << value % 8)]) + payload[position + 1:]
        elif kind == "truncate":
            payload = payload[: value % (len(payload) + 1)]
        elif kind == "extend":
            payload = payload + bytes([value]) * (value % 7 + 1)
        if kind == "drop":
            del stream[index]
        elif kind == "dup":
            stream.insert(index, (uuid, payload))
        else:
            stream[index] = (uuid, payload)
    decoder = PROFILES[key].decoder_factory(50)
    last_t = -np.inf
    for i, (uuid, payload) in enumerate(stream):
        last_t = check_batch(decoder.feed(uuid, payload, 200.0 + 0.02 * i).batch, last_t)
    if key != "wt901":
        assert decoder.stats.frames + decoder.stats.malformed == len(stream)
    if not edits:
        assert decoder.stats.malformed == 0 and decoder.stats.samples == 9
