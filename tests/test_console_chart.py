"""The console's bar charts: the geometry the template draws, and an axis whose ticks are whole numbers."""

from __future__ import annotations

from ivr.console.chart import HEIGHT, bars, nice_top


def test_the_axis_top_is_at_or_above_the_largest_count_and_halves_to_a_whole_number() -> None:
    for largest in range(0, 2500):
        top = nice_top(largest)
        assert top >= largest and top % 2 == 0
        assert top < max(largest, 2) * 2.6  # never so high that the bars look flat


def test_bars_are_grouped_per_period_scaled_to_the_axis_and_titled() -> None:
    chart = bars([("1 Dec", (4, 2)), ("2 Dec", (0, 1)), ("3 Dec", (3, 3))], ("calls", "texts"), label_every=2)
    assert len(chart.bars) == 6 and [bar.series for bar in chart.bars] == [0, 1, 0, 1, 0, 1]
    tallest = chart.bars[0]
    assert tallest.y == chart.ticks[-1].y and tallest.title == "1 Dec: 4 calls"  # 4 is the top of the axis
    assert chart.bars[2].height == 0 and chart.bars[3].height == tallest.height / 4
    assert [label.text for label in chart.labels] == ["1 Dec", "3 Dec"]
    assert [tick.label for tick in chart.ticks] == ["0", "2", "4"]
    assert all(0 <= bar.y <= HEIGHT and bar.x + bar.width <= chart.right for bar in chart.bars)


def test_an_empty_chart_still_draws_its_axis() -> None:
    chart = bars([], ("calls",))
    assert chart.bars == () and [tick.label for tick in chart.ticks] == ["0", "1", "2"]
