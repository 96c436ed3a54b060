"""Figure 4: what a larger release would do, by the population model and its lower bound.

Title, caption and alt text computed from the population curve.
"""

from __future__ import annotations

from fewpoints import figures as F
from fewpoints.audit.fig_words import measured
from fewpoints.audit.result import Audit


def fig_population(a: Audit):
    from fewpoints.briefing import BriefingFigure, pct

    curve = a.population
    t, ex = curve.table, curve.extrapolation
    first, last = t.iloc[0], t.iloc[-1]
    ten = ex.iloc[0]
    far = ex.iloc[-1]
    falls = last["unicity"] < first["unicity"] - 0.05
    title = (
        f"A release larger than {a.source} would hide few more devices: the model gives "
        f"{pct(ten['model'])} singled out at {F.fmt_count(ten['n_devices'])} devices."
        if ten["model"] >= 0.5
        else f"In a release larger than {a.source}, the model gives "
        f"{pct(ten['model'])} singled out at {F.fmt_count(ten['n_devices'])} devices."
    )
    if abs(last["unicity"] - first["unicity"]) < 0.005:
        how = "stays"
    elif falls:
        how = "falls slowly" if last["unicity"] > 0.5 else "falls"
    else:
        how = "barely moves"

    def draw(ax):
        F.plot_population(curve, ax=ax)
        legend = ax.get_legend()
        for text in legend.get_texts() if legend is not None else []:
            if text.get_text().startswith("measured, synthetic"):
                text.set_text(f"measured on subsets of {a.source} (95% interval)")
        return ax

    return BriefingFigure(
        name="4-population",
        title=title,
        caption=(
            f"{measured(a)}: the 4-point test in random subsets of the file's devices, "
            f"nested like a broker's growing market share: from "
            f"{F.fmt_count(first['n_devices'])} to {F.fmt_count(last['n_devices'])} "
            f"devices unicity {how}"
            + (
                f" at {pct(last['unicity'])}. "
                if how == "stays"
                else f", from {pct(first['unicity'])} to {pct(last['unicity'])}. "
            )
            + f"Beyond the file (shaded), a convex model of the form Farzanehfar et al. (2021) "
            f"proved, U(n) = E[(1 - P)^(n - 1)], with P drawn from a Beta distribution fitted "
            f"to these points (our choice of family), gives {pct(ten['model'])} at {F.fmt_count(ten['n_devices'])} "
            f"devices and {pct(far['model'])} at {F.fmt_count(far['n_devices'])}; the "
            f"straight line through the two largest subsets, a lower bound for any convex "
            f"curve, gives {pct(ten['lower_bound'])} and {pct(far['lower_bound'])}. Both "
            "are extrapolations from this file, not measurements: a larger release with "
            "other kinds of people or places may differ. Published: on real data, "
            "Farzanehfar et al. estimated 93% unique with 4 points among 60 million people "
            "(diamond)."
        ),
        alt=(
            f"Chart of the share singled out by 4 points against the number of devices (log "
            f"scale), measured on subsets of {a.source}: {pct(first['unicity'])} at "
            f"{F.fmt_count(first['n_devices'])} devices, {pct(last['unicity'])} at "
            f"{F.fmt_count(last['n_devices'])}; a dashed model continues to "
            f"{pct(far['model'])} at {F.fmt_count(far['n_devices'])}, a dotted lower bound "
            f"to {pct(far['lower_bound'])}. A diamond marks the published 93% at 60 million."
        ),
        headline=(
            f"{pct(ten['model'])} at {F.fmt_count(ten['n_devices'])} devices (model; lower "
            f"bound {pct(ten['lower_bound'])})"
        ),
        draw=draw,
        result=curve,
    )
