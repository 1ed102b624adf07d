"""A timeline as an inline SVG bar chart: one bar per bucket, each a link narrowing the search to it.

Server-rendered and script-free: every bar carries a ``<title>`` (the browser's tooltip) and,
when ``link`` is given, is wrapped in ``<a href>`` to that bucket's search. All text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from searchlib import Timeline

__all__ = ["timeline_svg"]

WIDTH = 720
HEIGHT = 140
AXIS = 18
"""Pixels under the bars for the first and last labels."""
TOP = 16
"""Pixels above the tallest bar for the "max" label."""


def timeline_svg(timeline: Timeline, *, link: Callable[[str], str] | None = None, label: str = "Matches") -> str:
    """The chart as an ``<svg>`` element string; an empty chart says "no matches"."""
    esc = html.escape
    points = timeline.points
    title = f"{label} per {timeline.bucket.value}"
    head = (
        f'<svg class="timeline" role="img" aria-label="{esc(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    )
    if not points:
        return head + f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">no matches</text></svg>'
    top = max(p.count for p in points) or 1
    slot = WIDTH / len(points)
    gap = min(2.0, slot * 0.2)
    plot = HEIGHT - AXIS - TOP
    parts = [head]
    for i, point in enumerate(points):
        height = plot * point.count / top
        x = i * slot
        tip = f"{point.value}: {point.count}"
        bar = (
            f'<rect class="bar" x="{x + gap / 2:.2f}" y="{TOP + plot - height:.2f}" width="{max(slot - gap, 0.5):.2f}" '
            f'height="{max(height, 0.0):.2f}"><title>{esc(tip)}</title></rect>'
        )
        # a full-height transparent target makes small bars easy to click
        target = (
            f'<rect class="hit" x="{x:.2f}" y="{TOP}" width="{slot:.2f}" height="{plot}">'
            f"<title>{esc(tip)}</title></rect>"
        )
        if link is not None and point.count:
            parts.append(f'<a href="{esc(link(point.value))}" aria-label="{esc(tip)}">{target}{bar}</a>')
        else:
            parts.append(bar)
    parts.append(f'<text class="axis" x="0" y="{HEIGHT - 4}">{esc(points[0].value)}</text>')
    if len(points) > 1:
        parts.append(
            f'<text class="axis" x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{esc(points[-1].value)}</text>'
        )
    parts.append(f'<text class="axis" x="{WIDTH}" y="12" text-anchor="end">max {top}</text>')
    parts.append("</svg>")
    return "".join(parts)
