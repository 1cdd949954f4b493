"""A three-row number in solid half blocks: legible across a room, unlike box-drawn digits."""

from __future__ import annotations

import functools

# 3x5 pixel glyphs ('#' = lit). Two pixel rows make one text row, drawn with ▀ ▄ █.
_GLYPHS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "+": ("...", ".#.", "###", ".#.", "..."),
    "-": ("...", "...", "###", "...", "..."),
    "°": ("##", "##", "..", "..", ".."),
    " ": ("..", "..", "..", "..", ".."),
}
_HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
ROWS = 3


@functools.lru_cache(maxsize=256)  # the gauge asks at every redraw; a few dozen numbers recur
def big_lines(text: str) -> tuple[str, ...]:
    """``text`` (digits, ``+``, ``-``, ``°``, spaces; others drawn blank) as three text rows."""
    pixel_rows = ["", "", "", "", "", ""]
    for char in text:
        glyph = _GLYPHS.get(char, _GLYPHS[" "])
        for row in range(5):
            pixel_rows[row] += glyph[row] + "."
        pixel_rows[5] += "." * (len(glyph[0]) + 1)
    return tuple("".join(_HALF_BLOCKS[(top == "#", bottom == "#")]
                         for top, bottom in zip(pixel_rows[2 * row], pixel_rows[2 * row + 1])).rstrip()
                 for row in range(ROWS))
