"""Prefix scans that turn per-sample recurrences into a few whole-batch NumPy operations.

Hillis–Steele doubling: log2(B) vectorised steps instead of B Python steps. Rounding depends on
how products are grouped, and Madgwick's normalised gradient magnifies differences of 1e-16 to
its step size, so the scans run in blocks of ``BLOCK`` samples aligned to the sample count since
reset; blocks are chained in order. The grouping then never depends on how the stream was
batched, and streaming reproduces batch results bit for bit.
"""

from __future__ import annotations

import numpy as np

BLOCK = 32


def blocked_prefix_matmul(m: np.ndarray) -> np.ndarray:
    """Within each block (axis 1): cumulative products ``m[:, 0] @ ... @ m[:, i]`` of 3×3 matrices."""
    out = m.copy()
    shift = 1
    while shift < out.shape[1]:
        out[:, shift:] = out[:, :-shift] @ out[:, shift:]
        shift *= 2
    return out


def blocked_prefix_affine(decay: np.ndarray, drive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within each block: ``y[i] = decay[i]·y[i−1] + drive[i]`` as ``y[i] = gain[i]·y[−1] + offset[i]``.

    ``decay`` (nb, B), ``drive`` (nb, B, 3); returns (gain, offset).
    """
    a = decay.copy()
    b = drive.copy()
    shift = 1
    while shift < a.shape[1]:
        b[:, shift:] = b[:, shift:] + a[:, shift:, None] * b[:, :-shift]
        a[:, shift:] = a[:, shift:] * a[:, :-shift]
        shift *= 2
    return a, b


def to_blocks(values: np.ndarray, fill: np.ndarray | float) -> np.ndarray:
    """(N, ...) -> (ceil(N / BLOCK), BLOCK, ...), padding the last block with ``fill``."""
    n_blocks = -(-len(values) // BLOCK)
    padded = np.empty((n_blocks * BLOCK, *values.shape[1:]))
    padded[:len(values)] = values
    padded[len(values):] = fill
    return padded.reshape(n_blocks, BLOCK, *values.shape[1:])
