"""PNG plots of timelines. Needs matplotlib: ``pip install 'searchlib[plot]'``."""

from __future__ import annotations

import os
from pathlib import Path

from searchlib.models import Timeline

__all__ = ["plot_timeline"]


def plot_timeline(timeline: Timeline, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Draw ``timeline`` as a bar chart into the PNG file ``path``; returns the path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'searchlib[plot]'") from exc
    labels = [p.value for p in timeline.points]
    counts = [p.count for p in timeline.points]
    fig, ax = plt.subplots(figsize=(max(6.0, len(labels) * 0.35), 3.5))
    try:
        ax.bar(range(len(labels)), counts, color="#3b6ea5")
        step = max(1, len(labels) // 20)
        ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("articles")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title or f"{timeline.query or 'all articles'} by {timeline.bucket.value}")
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png", dpi=100)
    finally:
        plt.close(fig)
    return out
