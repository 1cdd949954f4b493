"""The BLE transport against emulated sensors, through bleak, over bumble's virtual link.

Each emulated sensor is a real GATT peripheral; the transport finds it by its advertisement,
connects, configures the rate, subscribes and decodes, exactly as with hardware. Streams run in
device time paced by the event loop, so stream tests run for real time: profiles stream side by
side to keep the file fast. Every wait is under a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import numpy as np
import pytest
from bumble.core import AdvertisingData

from firmware_interface.emulated import MODELS, FaultSpec
from firmware_interface.emulated.faults import DISCONNECT_DOWN_S, STALL_S
from firmware_interface.errors import (BluetoothUnavailableError, BluetoothUnavailableReason, SensorNotFoundError,
                                       UnsupportedSensorError, UsageError)
from firmware_interface.profiles import PROFILES
from firmware_interface.recording import RecordingWriter, read_recording
from firmware_interface.samples import SampleBatch
from firmware_interface.sources import record_stream
from firmware_interface.emulated.in_process import emulated_sensors
from firmware_interface.emulated.process import emulator_process
from firmware_interface.source_spec import BleSensor, EmulatedSensor, open_source
from firmware_interface.transport import BleBackend, BleSource, LinkPolicy, SensorTarget, scan
from firmware_interface.transport.bumble_backend import AdapterState, VirtualRadio

FAST = LinkPolicy(scan_s=2.0, connect_timeout_s=5.0)
STREAM_RATES_HZ = {key: 60.0 if key == "dot" else 100.0 for key in MODELS}


async def take(source: BleSource, seconds: float) -> tuple[SampleBatch, list[str]]:
    """Everything ``source`` yields during its first ``seconds`` of device time, and the health
    states seen along the way."""
    batches, states, first_t = [], [], None
    async with asyncio.timeout(seconds + 15.0):
        async for batch in source:
            states.append(source.health.state)
            if len(batch) and first_t is None:
                first_t = float(batch.t[0])
            if len(batch) and batch.t[-1] >= first_t + seconds:
                keep = batch.t < first_t + seconds
                batches.append(SampleBatch(batch.t[keep], batch.acc[keep], batch.gyr[keep], batch.markers))
                break
            batches.append(batch)
    return SampleBatch.concatenate(batches), states


@contextlib.asynccontextmanager
async def emulated_source(key: str, rate_hz: float, faults: str = "", seed: int = 0):
    """A ``BleSource`` on one emulated sensor, with the sensor exposed for its own counts."""
    async with emulated_sensors([key], seed=seed, faults=FaultSpec.parse(faults) if faults else FaultSpec()) \
            as (backend, sensors):
        source = BleSource(SensorTarget(profile_key=key), rate_hz=rate_hz,
                           environment=lambda: contextlib.nullcontext(backend), policy=FAST)
        async with source:
            yield source, sensors[0]


async def test_scan_finds_and_recognises_every_emulated_profile():
    async with emulated_sensors(list(MODELS), seed=5) as (backend, sensors):
        radio = backend.options["radio"]
        stranger = radio.add_device("Heart Rate Strap")
        stranger.advertising_data = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"HR Strap")]))
        await stranger.power_on()
        await stranger.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        found = await scan(0.3, backend)
        everything = await scan(0.3, backend, include_unsupported=True)
    assert {sensor.address: sensor.profile.key for sensor in found} == {
        sensor.address: sensor.model.profile.key for sensor in sensors}
    assert [s.name for s in everything if s.profile is None] == ["HR Strap"]
    assert all(s.rssi < 0 for s in found)
    assert [s.rssi for s in found] == sorted((s.rssi for s in found), reverse=True)
    assert {s.to_json()["profile"] for s in found} == set(MODELS)


async def _stream_ten_seconds(key: str, backend: BleBackend) -> dict:
    rate_hz = STREAM_RATES_HZ[key]
    source = BleSource(SensorTarget(profile_key=key), rate_hz=rate_hz,
                       environment=lambda: contextlib.nullcontext(backend), policy=FAST)
    async with source:
        batch, states = await take(source, 10.0)
        return {"batch": batch, "health": source.health, "rate_hz": rate_hz, "states": states}


async def test_every_profile_streams_ten_seconds_at_the_configured_rate_without_loss():
    """All five at once, their emulators in a process of their own as in `tiltwatch demo`: the
    wearers and the radio take none of this process's time, as real sensors would not."""
    keys = list(MODELS)
    async with emulator_process(keys, scenario="squat", seed=11) as emulator:
        backend = BleBackend.virtual(emulator.radio)
        results = await asyncio.gather(*(_stream_ten_seconds(key, backend) for key in keys))
    for key, result in zip(keys, results):
        batch, health, rate_hz = result["batch"], result["health"], result["rate_hz"]
        expected = 10.0 * rate_hz
        assert abs(len(batch) - expected) <= 0.01 * expected, (key, len(batch))
        assert np.all(np.diff(batch.t) > 0), key
        assert health.malformed == 0, key
        gaps = [m for m in batch.markers if m.kind == "gap"]
        if PROFILES[key].device_timestamps:
            assert not gaps and health.gaps == 0 and health.loss_pct == 0.0, (key, health)
        else:
            # Without device timestamps a gap can only be inferred from late arrivals, and a
            # machine busy with other work can delay this process past the envelope for a moment
            # (every sample still arrives: the count above). Bounded, never silent.
            assert all(m.data["detected_by"] == "arrival deficit" for m in gaps), (key, gaps)
            assert health.loss_pct <= 1.0, (key, health)
        assert health.battery_pct is not None
        assert set(result["states"]) == {"streaming"}, key
        # The samples are the simulator's, not zeros: gravity is there.
        assert 8.0 < np.median(np.linalg.norm(batch.acc, axis=1)) < 11.5, key


class _Collecting:
    """Passes a source through, keeping a copy of every batch it yields."""

    def __init__(self, source: BleSource) -> None:
        self.source, self.batches = source, []

    @property
    def info(self):
        return self.source.info

    @property
    def health(self):
        return self.source.health

    async def __aiter__(self):
        async for batch in self.source:
            self.batches.append(batch)
            yield batch


async def _record_with_disconnect(key: str, path) -> tuple:
    drop_at_s, seconds = 3.0, 8.0
    async with emulated_source(key, STREAM_RATES_HZ[key], faults=f"disconnect@{drop_at_s:g}", seed=3) as (source,
                                                                                                     sensor):
        collecting = _Collecting(source)
        with RecordingWriter(path, source.info) as writer:
            async with asyncio.timeout(seconds + 15.0):
                written = await record_stream(collecting, writer, seconds)
        return written, collecting.batches, sensor


async def test_disconnect_mid_stream_reconnects_and_the_recording_keeps_everything(tmp_path):
    keys = ["wt901", "dot"]  # a nominal clock, and device timestamps
    results = await asyncio.gather(*(_record_with_disconnect(key, tmp_path / f"{key}.csv") for key in keys))
    for key, result in zip(keys, results):
        _check_recording_across_the_drop(key, tmp_path / f"{key}.csv", *result)


def _check_recording_across_the_drop(key, path, written, yielded, sensor):
    recording = read_recording(path)
    rate_hz = STREAM_RATES_HZ[key]
    assert sensor.stats.disconnects == 1
    gaps = [m for m in recording.batch.markers if m.kind == "gap"]
    reconnects = [m for m in recording.batch.markers if m.kind == "reconnect"]
    assert len(gaps) == 1 and gaps[0].data["detected_by"] == "link loss"
    assert len(reconnects) == 1
    gap = gaps[0]
    # Back within 5 s of the device advertising again.
    assert DISCONNECT_DOWN_S - 0.2 < gap.end_s - gap.t_s < DISCONNECT_DOWN_S + 5.0
    assert reconnects[0].t_s == pytest.approx(gap.end_s)
    # The recording spans the whole time: samples on both sides of the gap, to the end.
    t = recording.batch.t
    assert len(t) == written
    assert t[0] < gap.t_s and t[-1] > gap.end_s
    assert t[-1] - t[0] == pytest.approx(8.0, abs=2.0 / rate_hz)
    assert np.sum(t > gap.end_s - 1e-9) > 2.0 * rate_hz
    # Every sample received before the drop is in the file.
    received = SampleBatch.concatenate(yielded)
    before = received.t <= gap.t_s + 1e-6  # the file keeps times to the µs
    in_file = t <= gap.t_s + 1e-6
    assert before.sum() == in_file.sum() > 2.0 * rate_hz
    np.testing.assert_allclose(t[in_file], received.t[before], atol=1e-6)
    np.testing.assert_allclose(recording.batch.acc[in_file], received.acc[before], atol=1e-4)


async def _loss_and_malformed(key: str) -> tuple:
    async with emulated_source(key, STREAM_RATES_HZ[key], faults="loss=4%,malformed=4%", seed=21) as (source, sensor):
        batch, _ = await take(source, 4.0)
        await asyncio.sleep(0.1)
        return batch, source.health, sensor


async def test_malformed_notifications_are_counted_and_skipped_and_losses_marked():
    keys = ["dot", "wt901", "open"]
    results = await asyncio.gather(*(_loss_and_malformed(key) for key in keys))
    for key, (batch, health, sensor) in zip(keys, results):
        assert sensor.stats.malformed > 0 and sensor.stats.dropped > 0, key
        # One reject per corrupted notification, none for good ones.
        assert health.malformed == sensor.stats.malformed, (key, health.malformed, sensor.stats.malformed)
        assert np.all(np.diff(batch.t) > 0)
        assert health.gaps > 0 and health.loss_pct > 0
    dot_batch, dot_health, dot_sensor = results[0]
    # DOT stamps every sample: each dropped or corrupted notification is exactly one missing sample
    # (the stream may have run on a little past the 4 s taken).
    missing = sum(m.data["missing"] for m in dot_batch.markers if m.kind == "gap")
    assert missing <= dot_sensor.stats.dropped + dot_sensor.stats.malformed
    assert missing >= 0.8 * (dot_sensor.stats.dropped + dot_sensor.stats.malformed)


async def test_a_stall_is_reported_as_a_stall_not_a_disconnect():
    async with emulated_source("wt901", 100.0, faults="stall@1", seed=4) as (source, sensor):
        batch, states = await take(source, 6.0)
    assert sensor.stats.stalls == 1 and sensor.stats.disconnects == 0
    stalls = [m for m in batch.markers if m.kind == "stall"]
    assert len(stalls) == 1
    assert STALL_S - 0.3 < stalls[0].end_s - stalls[0].t_s < STALL_S + 0.5
    assert not [m for m in batch.markers if m.kind == "reconnect"]
    assert not [m for m in batch.markers if m.kind == "gap" and m.data.get("detected_by") == "link loss"]
    assert "stalled" in states and "reconnecting" not in states
    assert states[-1] == "streaming"


@pytest.mark.parametrize("state, reason", [
    (AdapterState.POWERED_OFF, BluetoothUnavailableReason.POWERED_OFF),
    (AdapterState.MISSING, BluetoothUnavailableReason.NO_BLUETOOTH),
    (AdapterState.DENIED, BluetoothUnavailableReason.DENIED),
])
async def test_unavailable_adapter_is_one_clear_error(state, reason):
    backend = BleBackend.virtual(VirtualRadio(adapter_state=state))
    source = BleSource(SensorTarget(profile_key="wt901"), environment=lambda: contextlib.nullcontext(backend),
                       policy=FAST)
    with pytest.raises(BluetoothUnavailableError) as caught:
        async with source:
            pass
    assert caught.value.reason is reason
    assert "\n" not in str(caught.value)


async def test_no_matching_device_is_sensor_not_found():
    async with emulated_sensors(["wt901"]) as (backend, _):
        source = BleSource(SensorTarget(name_pattern="^Movella"), environment=lambda: contextlib.nullcontext(backend),
                           policy=LinkPolicy(scan_s=0.3))
        with pytest.raises(SensorNotFoundError, match="'\\^Movella'.*0.3 s"):
            await source.open()


async def test_a_device_of_no_supported_profile_is_unsupported():
    async with emulated_sensors([]) as (backend, _):
        radio = backend.options["radio"]
        stranger = radio.add_device("HR Strap")
        stranger.advertising_data = bytes(AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"HR Strap")]))
        await stranger.power_on()
        await stranger.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        source = BleSource(SensorTarget(name_pattern="strap"), environment=lambda: contextlib.nullcontext(backend),
                           policy=FAST)
        with pytest.raises(UnsupportedSensorError, match="HR Strap .* is not a supported sensor"):
            await source.open()


@pytest.mark.parametrize("description, fragment", [
    (EmulatedSensor("dot", rate_hz=200), "cannot stream at 200 Hz"),
    (EmulatedSensor("wt901", faults="disconnect@"), "disconnect@T"),
    (EmulatedSensor("polar"), "cannot emulate 'polar'"),
    (EmulatedSensor("wt901", scenario="yoga"), "unknown scenario"),
    (BleSensor(profile_key="fitbit"), "unknown profile"),
])
def test_bad_descriptions_fail_before_any_radio_work(description, fragment):
    with pytest.raises(UsageError, match=fragment):
        open_source(description)


async def test_an_emulated_sensor_runs_in_its_own_process_and_describes_itself():
    async with open_source(EmulatedSensor("thingy", rate_hz=50, seed=7), policy=FAST) as source:
        assert source.emulator_pid is not None and source.emulator_pid != os.getpid()
        batch, _ = await take(source, 1.0)
        info = source.info
    assert info.profile == "thingy" and info.sample_rate_hz == 50
    assert info.device == PROFILES["thingy"].display_name + " (emulated)"
    assert info.extra["emulated"] is True and info.extra["seed"] == 7
    assert abs(len(batch) - 50) <= 2
    assert source.health.state == "ended"


async def test_a_sensor_back_under_a_new_address_is_found_again_by_name():
    """The OS forgot the device (BlueZ dropped it; a private address rotated): the reconnect
    rescans instead of reusing the first scan's device object, and marks the gap."""
    from firmware_interface.emulated import EmulatedSensor as Peripheral

    policy = LinkPolicy(scan_s=2.0, connect_timeout_s=5.0, rescan_s=2.0, retry_delays_s=(0.1,))
    async with emulated_sensors(["wt901"], seed=3) as (backend, (first,)):
        source = BleSource(SensorTarget(profile_key="wt901"), rate_hz=50,
                           environment=lambda: contextlib.nullcontext(backend), policy=policy)
        async with source:
            old_address = source.info.address
            batches = []
            async with asyncio.timeout(60):  # margins for a loaded machine
                async for batch in source:
                    batches.append(batch)
                    if sum(len(b) for b in batches) >= 25 and first is not None:
                        await first.stop()  # off the air for good
                        first = None
                        replacement = Peripheral(MODELS["wt901"](), backend.options["radio"], seed=4)
                        await replacement.start()
                    if any(m.kind == "reconnect" for b in batches for m in b.markers):
                        break
            assert source._found.address != old_address
            await replacement.stop()
    markers = [m for b in batches for m in b.markers]
    assert [m.kind for m in markers if m.kind in ("gap", "reconnect")] == ["gap", "reconnect"]
