"""PacedSource (replay and simulator streams), replay_source and record_stream."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_interface.errors import UsageError
from firmware_interface.recording import RecordingWriter, read_recording
from firmware_interface.samples import Marker, SampleBatch, SourceInfo
from firmware_interface.sources import (PacedSource, opened, record_stream, replay_source,
                                        simulator_source)

INFO = SourceInfo(device="Simulated IMU", profile="sim", sample_rate_hz=100.0)


def make_batch(rng: np.random.Generator, duration_s: float, rate_hz: float = 100.0,
               markers: tuple[Marker, ...] = ()) -> SampleBatch:
    n = int(round(duration_s * rate_hz))
    t = 10.0 + np.arange(n) / rate_hz + rng.uniform(0, 0.3 / rate_hz, n)
    return SampleBatch(t, rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), markers)


async def collect(source: PacedSource, limit: int | None = None) -> list[tuple[float, SampleBatch]]:
    clock = asyncio.get_running_loop()
    out = []
    async for chunk in source:
        out.append((clock.time(), chunk))
        if limit is not None and len(out) >= limit:
            break
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chunk_s", [0.05, 0.1, 0.37])
async def test_unpaced_chunks_rebuild_the_batch_and_carry_each_marker_once(
        seed: int, chunk_s: float) -> None:
    rng = np.random.default_rng(seed)
    base = make_batch(rng, 3.0)
    # A hole in the data with a gap marker inside it, plus markers at and beyond the ends.
    keep = (base.t < 11.0) | (base.t > 11.8)
    markers = (Marker(9.0, "note"), Marker(11.3, "gap", end_s=11.8), Marker(12.0, "note"),
               Marker(99.0, "note"))
    batch = SampleBatch(base.t[keep], base.acc[keep], base.gyr[keep], markers)
    chunks = [chunk for _, chunk in await collect(PacedSource(batch, INFO, speed=None,
                                                              chunk_s=chunk_s))]
    joined = SampleBatch.concatenate(chunks)
    np.testing.assert_array_equal(joined.t, batch.t)
    np.testing.assert_array_equal(joined.acc, batch.acc)
    np.testing.assert_array_equal(joined.gyr, batch.gyr)
    assert sorted(joined.markers, key=lambda m: m.t_s) == list(markers)
    t0 = batch.t[0]
    for index, chunk in enumerate(chunks):
        if len(chunk):
            assert chunk.t[-1] - chunk.t[0] < chunk_s
        for marker in chunk.markers:
            if marker.t_s == 9.0:
                assert index == 0
            elif marker.t_s == 99.0:
                assert index == len(chunks) - 1
            else:  # the chunk's span [start, start + chunk_s) contains the marker
                span = int((marker.t_s - t0) // chunk_s)
                assert all(span * chunk_s <= s - t0 < (span + 1) * chunk_s for s in chunk.t)
    gap_chunks = [c for c in chunks if any(m.kind == "gap" for m in c.markers)]
    assert len(gap_chunks) == 1


async def test_paced_release_follows_device_time_at_the_given_speed() -> None:
    batch = make_batch(np.random.default_rng(4), 2.0)
    speed = 4.0
    source = PacedSource(batch, INFO, speed=speed, chunk_s=0.1)
    started_s = asyncio.get_running_loop().time()
    released = await collect(source)
    t0 = batch.t[0]
    for at_s, chunk in released:
        # Never early: a chunk leaves once the device time it covers has passed.
        assert at_s - started_s >= (chunk.t[-1] - t0) / speed - 0.005
    assert released[-1][0] - started_s == pytest.approx(2.0 / speed, abs=0.15)


async def test_pacing_catches_up_after_a_slow_consumer_instead_of_drifting() -> None:
    batch = make_batch(np.random.default_rng(5), 1.0)
    source = PacedSource(batch, INFO, speed=1.0, chunk_s=0.1)
    started_s = time.monotonic()
    count = 0
    async for _ in source:
        count += 1
        if count <= 6:
            time.sleep(0.08)  # block the loop: 0.48 s lost over the first six chunks
    elapsed_s = time.monotonic() - started_s
    # Release times come from one anchor: the stream still ends near 1.0 s, not 1.0 + 0.48 s.
    assert elapsed_s < 1.3


async def test_loop_continues_time_and_repeats_markers() -> None:
    rng = np.random.default_rng(6)
    batch = make_batch(rng, 1.0, markers=(Marker(10.5, "note", text="x"),))
    dt = float(np.median(np.diff(batch.t)))
    pass_s = batch.t[-1] - batch.t[0] + dt
    source = PacedSource(batch, INFO, speed=None, chunk_s=0.1, loop=True)
    chunks = [chunk for _, chunk in await collect(source, limit=35)]
    joined = SampleBatch.concatenate(chunks)
    assert (np.diff(joined.t) > 0).all()
    n = len(batch)
    np.testing.assert_allclose(joined.t[n:2 * n], batch.t + pass_s)
    np.testing.assert_allclose(joined.t[2 * n:3 * n], batch.t + 2 * pass_s)
    np.testing.assert_array_equal(joined.acc[n:2 * n], batch.acc)
    assert [m.t_s for m in joined.markers[:3]] == pytest.approx([10.5, 10.5 + pass_s, 10.5 + 2 * pass_s])


async def test_health_tracks_state_samples_rate_and_gaps() -> None:
    batch = make_batch(np.random.default_rng(7), 4.0,
                       markers=(Marker(11.0, "gap", end_s=11.2),))
    source = PacedSource(batch, INFO, speed=None, chunk_s=0.1)
    assert source.health.state == "connecting"
    seen = 0
    async for chunk in source:
        seen += len(chunk)
        health = source.health
        assert health.state == "streaming" and health.samples == seen
        if chunk.t[-1] - batch.t[0] > 2.0:
            assert health.rate_hz == pytest.approx(100.0, rel=0.05)
    assert source.health.state == "ended"
    assert source.health.samples == len(batch)
    assert source.health.gaps == 1 and source.health.last_gap == batch.markers[0]


@pytest.mark.parametrize("kwargs", [{"speed": 0.0}, {"speed": -1.0}, {"chunk_s": 0.0},
                                    {"speed": float("nan")}])
def test_invalid_parameters_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        PacedSource(make_batch(np.random.default_rng(0), 0.1), INFO, **kwargs)
    with pytest.raises(ValueError, match="at least one sample"):
        PacedSource(SampleBatch.empty(), INFO)


async def test_replay_source_streams_a_recording_and_a_generic_csv(tmp_path: Path) -> None:
    batch = make_batch(np.random.default_rng(8), 1.0, markers=(Marker(10.2, "note", text="hi"),))
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        writer.append(batch)
    source = replay_source(path, speed=None)
    assert source.info == INFO
    joined = SampleBatch.concatenate([chunk for _, chunk in await collect(source)])
    np.testing.assert_allclose(joined.t, batch.t, atol=5e-7)
    assert joined.markers == batch.markers

    csv_path = tmp_path / "plain.csv"
    csv_path.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(
        f"{i * 0.02:.2f},0,9.81,0,0,0,0\n" for i in range(100)))
    csv_source = replay_source(csv_path, speed=None)
    assert csv_source.info.profile == "csv" and csv_source.info.sample_rate_hz == pytest.approx(50)
    assert sum(len(chunk) for _, chunk in await collect(csv_source)) == 100


@pytest.mark.parametrize("seed", [0, 1])
async def test_record_stream_stops_after_the_given_device_seconds(tmp_path: Path, seed: int) -> None:
    batch = make_batch(np.random.default_rng(seed), 3.0,
                       markers=(Marker(10.5, "note"), Marker(12.5, "note")))
    path = tmp_path / "rec.csv"
    with RecordingWriter(path, INFO) as writer:
        written = await record_stream(PacedSource(batch, INFO, speed=None, chunk_s=0.3),
                                      writer, seconds=1.25)
    expected = batch.t < batch.t[0] + 1.25
    assert written == expected.sum() == writer.samples_written
    recording = read_recording(path)
    np.testing.assert_allclose(recording.batch.t, batch.t[expected], atol=5e-7)
    assert [m.t_s for m in recording.batch.markers] == [10.5]


async def test_record_stream_without_limit_writes_everything(tmp_path: Path) -> None:
    batch = make_batch(np.random.default_rng(2), 2.0)
    with RecordingWriter(tmp_path / "rec.csv", INFO) as writer:
        written = await record_stream(PacedSource(batch, INFO, speed=None), writer, None)
    assert written == len(batch) == len(read_recording(tmp_path / "rec.csv").batch)
    with pytest.raises(ValueError):
        await record_stream(PacedSource(batch, INFO, speed=None), writer, 0.0)


async def test_cancelled_record_stream_keeps_what_it_received(tmp_path: Path) -> None:
    batch = make_batch(np.random.default_rng(3), 30.0)
    source = PacedSource(batch, INFO, speed=1.0, chunk_s=0.05)
    received: list[int] = []
    path = tmp_path / "rec.csv"
    writer = RecordingWriter(path, INFO)
    original_append = writer.append
    writer.append = lambda chunk: (received.append(len(chunk)), original_append(chunk))  # type: ignore[method-assign]
    task = asyncio.create_task(record_stream(source, writer, None))
    await asyncio.sleep(0.4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.health.state == "ended"  # the source was closed, not left hanging
    # Readable without close(): the cancelled helper already flushed.
    recording = read_recording(path)
    assert len(recording.batch) == sum(received) == writer.samples_written > 0
    assert recording.batch.t[-1] - batch.t[0] < 0.5
    writer.close()


async def test_opened_yields_the_source_and_ends_its_iteration_on_exit() -> None:
    batch = make_batch(np.random.default_rng(1), 5.0)
    async with opened(PacedSource(batch, INFO, speed=1.0, chunk_s=0.05)) as source:
        async for _ in source:
            break  # the generator stays suspended until the context closes it
        assert source.health.state == "streaming"
    assert source.health.state == "ended"


async def test_simulator_source_streams_the_named_scenario() -> None:
    source = simulator_source("desk", sample_rate_hz=50.0, seed=3, speed=None)
    assert source.info.profile == "sim" and source.info.sample_rate_hz == 50.0
    chunks = [chunk async for chunk in source]
    assert sum(len(chunk) for chunk in chunks) > 50 * 60
    with pytest.raises(UsageError, match="unknown scenario 'nope'; expected one of .*desk"):
        simulator_source("nope")
