"""Bar charts as SVG geometry, drawn on the server: no script, no inline style.

Each chart is a title, a description and bars with their own text; the template
(`metrics/_charts.html`) draws them with classes from app.css and puts the numbers in a
table under the chart, so nothing depends on colour or on seeing the picture. The view box
is narrow, so on a phone its text is close to the page's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from portal.metrics import Dashboard, duration_text

WIDTH = 360  # view box units; the SVG scales to its box
FONT = 12  # font size in view box units (app.css sets it on .chart text)
LABEL_WIDTH = 112  # room for the row labels of a bar chart
VALUE_WIDTH = 76  # room for the value after the longest bar
LABEL_WIDTH_PER_COLUMN = 72  # room one column label needs
ROW_HEIGHT = 22
ROW_GAP = 6
GROUP_GAP = 10
COLUMN_CHART_HEIGHT = 200
COLUMN_TOP = 20  # room for the value above the highest column
COLUMN_BOTTOM = 36  # room for the labels under the columns
MOST_VALUES_SHOWN = 16  # columns past this many are too narrow to carry their number


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # a class suffix: bar-<kind>
    tip: str  # what a pointer or a screen reader says about this bar
    text: str  # the value written next to the bar, or ""
    text_x: float
    text_y: float
    text_anchor: str = "start"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str  # start, middle or end


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    baseline: tuple[float, float, float, float]


def columns(chart_id: str, title: str, description: str, items: list[tuple[str, float, str]]):
    """Vertical columns, one per (label, value, text): submissions per week."""
    count = max(1, len(items))
    slot = (WIDTH - 8) / count
    width = max(2.0, slot * 0.7)
    plot = COLUMN_CHART_HEIGHT - COLUMN_TOP - COLUMN_BOTTOM
    bottom = COLUMN_TOP + plot
    highest = max((value for _, value, _ in items), default=0) or 1
    # Label every n-th column so the labels never overlap.
    every = max(1, math.ceil(count / (WIDTH / LABEL_WIDTH_PER_COLUMN)))
    bars, labels = [], []
    for index, (label, value, text) in enumerate(items):
        height = plot * value / highest
        x = 4 + index * slot + (slot - width) / 2
        shown = text if count <= MOST_VALUES_SHOWN else ""
        bars.append(
            Bar(
                x,
                bottom - height,
                width,
                height,
                "count",
                f"{label}: {text}",
                shown,
                x + width / 2,
                bottom - height - 4,
                "middle",
            )
        )
        if index % every == 0:
            labels.append(Label(x + width / 2, bottom + FONT + 4, label, "middle"))
    return Chart(
        chart_id,
        title,
        description,
        WIDTH,
        COLUMN_CHART_HEIGHT,
        tuple(bars),
        tuple(labels),
        (4, bottom, WIDTH - 4, bottom),
    )


def rows(
    chart_id: str,
    title: str,
    description: str,
    groups: list[tuple[str, str, list[tuple[str, float, str]]]],
):
    """Horizontal bars in groups: a label and a note per group, a bar per (kind, value,
    text) in it."""
    highest = max((value for _, _, bars in groups for _, value, _ in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars, labels = [], []
    y = GROUP_GAP / 2
    for group, note, items in groups:
        top = y
        for kind, value, text in items:
            width = span * value / highest
            bars.append(
                Bar(
                    LABEL_WIDTH,
                    y,
                    max(width, 1.0),
                    ROW_HEIGHT,
                    kind,
                    f"{group}: {text}",
                    text,
                    LABEL_WIDTH + max(width, 1.0) + 4,
                    y + ROW_HEIGHT / 2 + FONT / 3,
                )
            )
            y += ROW_HEIGHT + ROW_GAP
        middle = (top + y - ROW_GAP) / 2
        if note:
            labels.append(Label(LABEL_WIDTH - 6, middle - 2, group, "end"))
            labels.append(Label(LABEL_WIDTH - 6, middle + FONT, note, "end"))
        else:
            labels.append(Label(LABEL_WIDTH - 6, middle + FONT / 3, group, "end"))
        y += GROUP_GAP
    height = round(y)
    return Chart(
        chart_id,
        title,
        description,
        WIDTH,
        height,
        tuple(bars),
        tuple(labels),
        (LABEL_WIDTH, 0, LABEL_WIDTH, height),
    )


def dashboard_charts(board: Dashboard) -> dict[str, Chart]:
    """The dashboard's three charts: submissions per week, time in stage, open by age."""
    week_items = [(f"{monday:%d %b}", count, str(count)) for monday, count in board.weeks]
    busiest = max(board.weeks, key=lambda item: item[1], default=None)
    submissions = columns(
        "chart-submissions",
        "Registrations submitted per week",
        f"{board.submissions} registrations in {len(board.weeks)} weeks starting on Mondays"
        + (
            f"; the most, {busiest[1]}, in the week of {busiest[0]:%d %b %Y}."
            if busiest and busiest[1]
            else "."
        ),
        week_items,
    )
    stage_groups = []
    named = [*board.stage_times, ("To decision", board.to_decision)]
    for name, times in named:
        if times.count:
            stage_groups.append(
                (
                    name,
                    "",
                    [
                        ("median", times.median, f"median {duration_text(times.median)}"),
                        ("p90", times.p90, f"90% {duration_text(times.p90)}"),
                    ],
                )
            )
    stage = rows(
        "chart-stages",
        "Time in each stage",
        "Median (solid bar) and 90th percentile (outlined bar) of the time registrations "
        "spent in each stage, and from submission to decision: "
        + "; ".join(
            f"{name} median {duration_text(times.median)}, 90th percentile "
            f"{duration_text(times.p90)}"
            for name, times in named
            if times.count
        )
        + ".",
        stage_groups,
    )
    stuck = board.stuck
    age_groups = [
        (
            bucket.label,
            bucket.verdict,
            [(f"bucket-{index}", stuck.in_bucket(index), f"{stuck.in_bucket(index)} open")],
        )
        for index, bucket in enumerate(stuck.buckets)
    ]
    ages = rows(
        "chart-ages",
        "Open registrations by age",
        f"{stuck.total} registrations still open, by business days since submission "
        f"against the target of {board.target_days}: "
        + "; ".join(
            f"{bucket.label} ({bucket.verdict}) {stuck.in_bucket(index)}"
            for index, bucket in enumerate(stuck.buckets)
        )
        + ".",
        age_groups,
    )
    return {"submissions": submissions, "stages": stage, "ages": ages}
