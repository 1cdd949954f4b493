"""The dashboard commands' arguments: an unknown scenario or view is one line, never a traceback."""

from __future__ import annotations

import pytest

from firmware_interface.simulator import SCENARIOS
from tui.cli import SCENARIO_NAMES, main


def test_the_demo_offers_exactly_the_simulators_scenarios():
    assert SCENARIO_NAMES == tuple(SCENARIOS)


@pytest.mark.parametrize("argv, named", [
    (["demo", "--scenario", "gym"], "--scenario"),
    (["demo", "--mode", "gym"], "--mode"),
    (["replay", "recordings/squat-session.csv", "--mode", "sofa"], "--mode"),
])
def test_a_bad_dashboard_argument_is_one_line(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "Traceback" not in err
