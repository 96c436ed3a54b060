"""The house style is scoped and saves reproducibly."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt

from fewpoints import figures as F
from tests.builders import CURVE


def test_house_style_is_scoped_and_saves_reproducibly(tmp_path):
    before = matplotlib.rcParams["svg.fonttype"]
    with F.house_style():
        assert matplotlib.rcParams["svg.fonttype"] == "none"
    assert matplotlib.rcParams["svg.fonttype"] == before
    for run in ("a", "b"):
        ax = F.plot_unicity_curve(CURVE)
        F.save_figure(ax.figure, tmp_path / run)
        plt.close(ax.figure)
    for ext in ("png", "svg"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    svg = (tmp_path / "a.svg").read_text()
    assert "<text" in svg and "dc:date" not in svg
    pdf = (tmp_path / "a.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"CreationDate" not in pdf
