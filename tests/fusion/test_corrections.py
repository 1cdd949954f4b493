"""The corrections data: complete, direction-specific, traceable to the domain notes."""

from __future__ import annotations

import pytest

from firmware_interface.errors import TiltwatchError
from fusion.corrections import DISCLAIMER, PATTERNS, Correction, correction_for


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_pattern_has_titled_sections_with_reasons(pattern):
    correction = correction_for(pattern)
    assert isinstance(correction, Correction)
    assert correction.pattern == pattern
    assert correction.title and correction.summary
    assert correction.sections
    for section in correction.sections:
        assert section.heading in {"Strengthen", "Stretch", "Technique", "Routine"}
        assert section.items
        for item in section.items:
            assert item.text.strip() and item.reason.strip()


def _all_text(pattern: str) -> str:
    correction = correction_for(pattern)
    return " ".join(item.text for s in correction.sections for item in s.items).lower()


def test_directions_get_opposite_advice():
    anterior = correction_for("anterior")
    posterior = correction_for("posterior")
    strengthen_ant = " ".join(i.text for s in anterior.sections if s.heading == "Strengthen"
                              for i in s.items).lower()
    strengthen_post = " ".join(i.text for s in posterior.sections if s.heading == "Strengthen"
                               for i in s.items).lower()
    stretch_ant = " ".join(i.text for s in anterior.sections if s.heading == "Stretch"
                           for i in s.items).lower()
    # anterior: strengthen glutes/hamstrings, stretch the lower back; posterior the opposite
    assert "glute" in strengthen_ant and "hamstring" in strengthen_ant
    assert "lower back" in stretch_ant and "lower back" not in strengthen_ant
    assert "lower back" in strengthen_post and "hip flexor" in strengthen_post
    assert "sit-up" in _all_text("anterior")  # the warning against sit-ups


def test_butt_wink_guidance_is_about_squat_technique():
    text = _all_text("butt_wink")
    assert "brace" in text and "gradually" in text and "round" in text


def test_disclaimer_is_one_plain_sentence():
    assert "not a medical device" in DISCLAIMER
    assert DISCLAIMER.count(".") == 1 and DISCLAIMER.endswith(".")
    assert "physical therapist" in DISCLAIMER


def test_unknown_pattern_is_a_typed_error():
    with pytest.raises(TiltwatchError, match="unknown correction pattern"):
        correction_for("lateral")  # type: ignore[arg-type]
