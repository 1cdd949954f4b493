"""``FaultSpec.parse``: the CLI spelling of emulated faults, and one-line errors for bad specs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_interface.emulated.faults import FaultSpec
from firmware_interface.errors import UsageError


def test_parses_every_kind_in_any_order():
    spec = FaultSpec.parse("loss=5%, stall@20,disconnect@8 ,malformed=0.5%,disconnect@3.5")
    assert spec == FaultSpec(disconnect_at_s=(3.5, 8.0), stall_at_s=(20.0,), loss_pct=5.0, malformed_pct=0.5)
    assert spec.any


def test_seconds_suffix_is_accepted():
    assert FaultSpec.parse("disconnect@8s").disconnect_at_s == (8.0,)


def test_no_faults_is_the_default():
    assert not FaultSpec().any
    assert str(FaultSpec()) == ""


@pytest.mark.parametrize("spec, fragment", [
    ("", "empty item"),
    ("disconnect@8,,loss=5%", "empty item"),
    ("disconnect", "unknown fault 'disconnect'"),
    ("disconnect@", "bad fault 'disconnect@'"),
    ("disconnect@-1", "T seconds >= 0"),
    ("stall@soon", "stall@T"),
    ("loss=5", "unknown fault 'loss=5'"),
    ("loss=100%", "0 <= P < 100"),
    ("malformed=-1%", "0 <= P < 100"),
    ("loss=nan%", "loss=P%"),
    ("loss=1%,loss=2%", "given twice"),
    ("jitter=3ms", "unknown fault 'jitter=3ms'"),
])
def test_bad_specs_raise_one_line_usage_errors(spec, fragment):
    with pytest.raises(UsageError) as caught:
        FaultSpec.parse(spec)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


times = st.lists(st.floats(0, 3600, allow_nan=False), max_size=3).map(lambda v: tuple(sorted(v)))
percents = st.floats(0, 99.99, allow_nan=False)


@given(times, times, percents, percents)
def test_spelling_round_trips(disconnects, stalls, loss, malformed):
    spec = FaultSpec(disconnects, stalls, loss, malformed)
    text = str(spec)
    assert (FaultSpec.parse(text) if text else FaultSpec()) == spec
