"""Dashboard widgets: each renders part of ``DashboardState`` (or pipeline outputs); none computes."""

from tui.widgets.alert_panel import AlertPanel
from tui.widgets.calibration_status import CalibrationStatus
from tui.widgets.link_status import LinkStatus
from tui.widgets.rep_table import RepCounter, RepTable
from tui.widgets.tilt_chart import TiltChart
from tui.widgets.tilt_gauge import TiltGauge
from tui.widgets.why_line import WhyLine

__all__ = ["AlertPanel", "CalibrationStatus", "LinkStatus", "RepCounter", "RepTable", "TiltChart", "TiltGauge",
           "WhyLine"]
