"""The server-side SVG charts of the report pages."""

import re

import pytest

from tasks.reportcards.charts import Bar, Series, bar_chart, fit, line_chart, nice_ceiling


# --- Charts ------------------------------------------------------------------------------------


def test_bar_chart_escapes_labels_links_bars_and_scales_to_the_largest():
    svg = bar_chart([Bar("<住建局>", 50, "50", "/r/?a=1&b=2"), Bar("城管局", 100, "100"), Bar("空", None, "—")],
                    title="排名 & 比较")
    assert "<住建局>" not in svg and "&lt;住建局&gt;" in svg and 'href="/r/?a=1&amp;b=2"' in svg
    assert "<title>排名 &amp; 比较</title>" in svg and 'data-bars="3"' in svg
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="16" fill="#2b4c7e"', svg)]
    assert len(widths) == 2 and widths[1] == pytest.approx(2 * widths[0])


def test_line_chart_draws_each_series_and_breaks_at_missing_values():
    svg = line_chart(["1", "2", "3", "4"], [Series("收到", [1, 5, 3, 8]), Series("满意率", [90.0, None, 95.0, 99.0])],
                     title="趋势")
    assert 'data-steps="4"' in svg
    assert re.findall(r'data-series="([^"]+)" data-points="(\d+)"', svg) == [("收到", "4"), ("满意率", "3")]
    second = re.search(r'data-series="满意率".*?</g>', svg, re.S).group(0)
    assert second.count("<polyline") == 2  # the missing month breaks the line
    assert 'stroke-dasharray="6 3"' in second  # told apart in black and white too


def test_axis_tops_are_round_and_long_labels_are_cut():
    assert nice_ceiling(0) == (1.0, 0.25)
    assert nice_ceiling(7) == (8.0, 2.0)
    assert nice_ceiling(730) == (800.0, 200.0)
    assert nice_ceiling(100) == (100.0, 25.0)
    assert fit("自然资源和规划局测试很长的名字", 60).endswith("…")
    assert fit("民政局", 60) == "民政局"
