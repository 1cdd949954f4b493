"""The shared frame walker and fixed-point helpers."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.framing import NEED_MORE, FrameWalker, int16_rows, to_int16

# A toy protocol: AA 55 <len> <payload...>, frame length = 3 + len, len <= 8.
HEADER = b"\xaa\x55"


def toy_length(buffer: bytes, start: int) -> int | None:
    if start + 2 >= len(buffer):
        return NEED_MORE
    payload = buffer[start + 2]
    return 3 + payload if payload <= 8 else None


def walker() -> FrameWalker:
    return FrameWalker(HEADER, toy_length, max_frame_bytes=11)


def frame(payload: bytes) -> bytes:
    return HEADER + bytes([len(payload)]) + payload


def accounted(w: FrameWalker, frames: list[bytes], fed: int) -> bool:
    return sum(map(len, frames)) + w.skipped_bytes + w.pending_bytes == fed


def test_frames_in_one_chunk():
    w = walker()
    data = frame(b"\x01\x02") + frame(b"") + frame(b"\x03" * 8)
    assert w.feed(data) == [frame(b"\x01\x02"), frame(b""), frame(b"\x03" * 8)]
    assert w.skipped_bytes == 0 and w.pending_bytes == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_at_every_offset_gives_the_same_frames(seed):
    rng = np.random.default_rng(seed)
    frames = [frame(rng.integers(0, 256, rng.integers(0, 9)).astype(np.uint8).tobytes()) for _ in range(6)]
    stream = b"".join(frames)
    for offset in range(len(stream) + 1):
        w = walker()
        out = w.feed(stream[:offset]) + w.feed(stream[offset:])
        assert out == frames
        assert accounted(w, out, len(stream))


def test_partial_header_at_the_end_is_carried():
    w = walker()
    assert w.feed(b"\x00\x01\xaa") == []
    assert w.pending_bytes == 1 and w.skipped_bytes == 2
    assert w.feed(b"\x55\x00") == [frame(b"")]


def test_bad_length_resyncs_by_one_byte():
    w = walker()
    data = HEADER + b"\x40" + frame(b"\x07")  # 0x40 is not a valid length
    out = w.feed(data)
    assert out == [frame(b"\x07")]
    assert w.skipped_bytes == 3
    assert accounted(w, out, len(data))


def test_pending_tail_is_bounded():
    # A length function that keeps asking for more must not let the tail grow without limit.
    w = FrameWalker(HEADER, lambda buffer, start: NEED_MORE, max_frame_bytes=11)
    for _ in range(5):
        assert w.feed(HEADER + b"\x08\x01\x02") == []
    assert w.pending_bytes == 11
    assert w.skipped_bytes + w.pending_bytes == 25


def test_reset_drops_the_tail():
    w = walker()
    w.feed(HEADER + b"\x03\x01")
    w.reset()
    assert w.pending_bytes == 0 and w.skipped_bytes == 4
    assert w.feed(b"\x02\x03") == []


def test_int16_rows_and_quantisation():
    data = np.array([1, -2, 3, 4, -5, 6], "<i2").tobytes()
    np.testing.assert_array_equal(int16_rows(b"\x00\x00" + data, 2, 2, 3), [[1, -2, 3], [4, -5, 6]])
    np.testing.assert_array_equal(to_int16([0.26, -0.24, 1e9, -1e9], 0.5), [1, 0, 32767, -32768])
