"""Offline analysis of a whole session: the typed :class:`~fusion.session.SessionAnalysis`.

It runs the same :class:`~fusion.pipeline.Pipeline` as the live dashboard, in chunks, with one
difference only: the calibration is known before the first sample (from the given windows, or
the best still standing stretch anywhere in the recording; without one, a provisional reference
that serves the measures within a rep), so the tilt is reported from the start of the recording.
The session is read in passes (``fusion.neutral_search``), so memory stays bounded whatever its
length; reading files is the caller's business, rendering is ``tui.reports``'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from firmware_interface.samples import SampleBatch, SourceInfo
from fusion.activity import activity_spans
from fusion.detection.events import ACTIVITIES
from fusion.detection.squat import summarize_sets
from fusion.detection.sustained_tilt import time_in_zone
from fusion.neutral_search import CHUNK_S, Passes, activity_codes, calibrate_session, relabel
from fusion.pipeline import Pipeline, PipelineOutput
from fusion.session import SessionAnalysis, SessionQuality, SessionSource, TiltSeries, ZoneTime
from fusion.settings import Settings

SERIES_RATE_HZ = 10.0
"""Rate of the tilt series kept with the analysis."""
ZONE_BLOCK = 1 << 20
"""Time in zone is summed over blocks of this many samples (labels as text take 36 bytes each)."""


def analyze_batch(batch: SampleBatch, info: SourceInfo, settings: Settings | None = None,
                  calibration_windows: dict[str, tuple[float, float]] | None = None,
                  progress: Callable[[float], None] | None = None,
                  source: SessionSource | None = None) -> SessionAnalysis:
    """The analysis of samples held in memory (see ``analyze_passes``)."""
    return analyze_passes(lambda: _slices(batch), info, settings, calibration_windows, progress, source, len(batch))


def analyze_passes(passes: Passes, info: SourceInfo, settings: Settings | None = None,
                   calibration_windows: dict[str, tuple[float, float]] | None = None,
                   progress: Callable[[float], None] | None = None,
                   source: SessionSource | None = None, expected_samples: int | None = None) -> SessionAnalysis:
    """The analysis of one session. ``passes()`` starts a pass over its samples in chunks of
    ``CHUNK_S`` from the first sample (``fusion.neutral_search.Passes``; several passes are made).
    ``calibration_windows``: ``stand``/``sit``/``hinge`` → (start, end) seconds from the first
    sample. ``progress`` is called with the fraction done; ``source`` names the session (default:
    from ``info``)."""
    settings = settings or Settings()
    pipeline = Pipeline.for_source(info, settings)
    found = calibrate_session(passes, pipeline.orientation, settings, info.sample_rate_hz,
                              calibration_windows or {}, progress, expected_samples)
    pipeline.set_calibration(found.reference)
    t = found.t
    t0 = float(t[0]) if len(t) else 0.0
    # Per sample only what the end needs: the calibrated tilt and the activity (revised later).
    tilt = np.full(len(t), np.nan)
    codes = np.zeros(len(t), dtype=np.uint8)
    episodes = {}
    alerts, reps, transitions = [], [], []
    gaps = pos = 0
    chunks = max(1, int(np.ceil((t[-1] - t0) / CHUNK_S))) if len(t) else 1
    try:
        for k, (batch, q) in enumerate(found.quaternions.replay(passes)):
            out = pipeline.update_oriented(SampleBatch(batch.t, batch.acc, batch.gyr), q)
            n = len(batch)
            if out.quality.calibrated:  # the pipeline shows a provisional tilt before that
                tilt[pos:pos + n] = out.tilt_deg
            codes[pos:pos + n] = activity_codes(out.activity)
            for span in out.activity_revisions:
                relabel(t, codes, span.start_s, span.end_s, span.activity, before=pos)
            gaps += sum(1 for m in batch.markers if m.kind == "gap")
            _collect(out, episodes, alerts, reps, transitions)
            pos += n
            if progress is not None and k % 30 == 29:
                progress(0.7 + 0.3 * min(1.0, (k + 1) / chunks))
    finally:
        found.quaternions.close()
    final = pipeline.finish()
    for span in final.activity_revisions:
        relabel(t, codes, span.start_s, span.end_s, span.activity, before=len(t))
    _collect(final, episodes, alerts, reps, transitions)

    calibration = pipeline.calibration
    end_s = float(t[-1]) if len(t) else t0
    zones = _time_in_zone(t, tilt, codes, settings, Pipeline.sitting_reference_deg(calibration))
    return SessionAnalysis(
        source=source or SessionSource(info.device, info.profile, info.sample_rate_hz),
        duration_s=end_s - t0,
        samples=int(len(t)),
        calibration=found.summary,
        activities=tuple(replace(s, start_s=s.start_s - t0, end_s=s.end_s - t0, activity=ACTIVITIES[int(s.activity)])
                         for s in activity_spans(t, codes)),
        transitions=tuple(replace(tr, start_s=tr.start_s - t0, end_s=tr.end_s - t0) for tr in transitions),
        episodes=tuple(replace(e, start_s=e.start_s - t0, end_s=(e.end_s if e.end_s is not None else end_s) - t0)
                       for e in sorted(episodes.values(), key=lambda e: e.start_s)),
        alerts=tuple(replace(a, t_s=a.t_s - t0, episode_start_s=a.episode_start_s - t0) for a in alerts),
        reps=tuple(replace(r, start_s=r.start_s - t0, bottom_s=r.bottom_s - t0, end_s=r.end_s - t0) for r in reps),
        # Summarised on device time, then shifted: the same figures as from the shifted reps.
        sets=tuple(replace(s, start_s=s.start_s - t0, end_s=s.end_s - t0) for s in summarize_sets(reps)),
        time_in_zone=zones,
        quality=SessionQuality(calibrated=calibration is not None,
                               axis_known=calibration is not None and calibration.axis_source == "functional",
                               sensor_slipped=bool(final.quality.sensor_slipped), gaps=gaps),
        settings=settings,
        tilt=_series(t, tilt, t0),
    )


def _slices(batch: SampleBatch) -> Iterator[SampleBatch]:
    """``batch`` in the chunks of a pass (its markers ride with the first)."""
    t = batch.t
    if len(t) == 0:
        return
    edges = np.searchsorted(t, np.arange(t[0], t[-1], CHUNK_S)[1:], side="left")
    bounds = np.concatenate(([0], edges, [len(t)]))
    first = True
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b > a:
            yield SampleBatch(t[a:b], batch.acc[a:b], batch.gyr[a:b], batch.markers if first else ())
            first = False


def _collect(out: PipelineOutput, episodes: dict, alerts: list, reps: list, transitions: list) -> None:
    for e in out.episodes:
        episodes[(e.start_s, e.direction)] = e  # later states replace earlier ones
    alerts.extend(out.alerts)
    reps.extend(out.reps)
    transitions.extend(out.transitions)


def _time_in_zone(t: np.ndarray, tilt: np.ndarray, codes: np.ndarray, settings: Settings,
                  sitting_reference_deg: float | None) -> tuple[ZoneTime, ...]:
    names = np.asarray(ACTIVITIES)
    totals: dict[str, dict[str, float]] = {}
    for a in range(0, max(len(t), 1), ZONE_BLOCK):
        b = min(a + ZONE_BLOCK, len(t))
        # Each sample counts to the next one: a block ends on the next block's first sample, unjudged.
        stop = min(b + 1, len(t))
        block_tilt = tilt[a:stop].copy()
        block_tilt[b - a:] = np.nan
        zones = time_in_zone(t[a:stop], block_tilt, names[codes[a:stop]], settings.sustained_tilt,
                             sitting_reference_deg)
        for name, z in zones.items():
            total = totals.setdefault(name, dict.fromkeys(z, 0.0))
            for zone, seconds in z.items():
                total[zone] += seconds
    return tuple(ZoneTime(name, z["neutral"], z["anterior"], z["posterior"]) for name, z in totals.items())


def _series(t: np.ndarray, tilt: np.ndarray, t0: float) -> TiltSeries:
    """The tilt on a regular grid from ``t0`` (the latest sample at or before each grid time)."""
    if len(t) == 0:
        return TiltSeries(SERIES_RATE_HZ, np.empty(0))
    grid = np.arange(t0, t[-1] + 1e-9, 1.0 / SERIES_RATE_HZ)
    index = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 1)
    return TiltSeries(SERIES_RATE_HZ, tilt[index])
