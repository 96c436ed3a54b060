"""Labels: the headline goes where it hides no marker."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from fewpoints import figures as F


def test_headline_goes_where_it_hides_no_marker():
    """Markers fill the top right: the headline moves to a corner they leave free."""
    fig, ax = plt.subplots(figsize=(6, 4))
    x, y = np.meshgrid(np.linspace(0.5, 1.0, 6), np.linspace(0.6, 1.0, 5))
    ax.plot(x.ravel(), y.ravel(), "o", ls="none")
    ax.set(xlim=(0, 1), ylim=(0, 1))
    note = F._headline(ax, "A headline\non two lines", (0.9, 0.9), (0.97, 0.95),
                       coords="axes fraction", ha="right", va="top")  # fmt: skip
    candidates = [((0.97, 0.95), "right", "top"), ((0.97, 0.05), "right", "bottom")]
    points = np.column_stack([x.ravel(), y.ravel()])
    F._clear_spot(ax, note, points, np.empty((0, 2)), candidates)
    assert note.get_position() == (0.97, 0.05) and note.get_verticalalignment() == "bottom"
    box = matplotlib.text.Text.get_window_extent(note, fig.canvas.get_renderer())
    shown = ax.transData.transform(points)
    assert not any(box.contains(px, py) for px, py in shown)
    # With nothing in the way, the first candidate is kept.
    F._clear_spot(ax, note, np.empty((0, 2)), np.empty((0, 2)), candidates)
    assert note.get_position() == (0.97, 0.95)
    plt.close(fig)
