"""The briefing's recipes in reading order, and :func:`build_briefing`, which runs them on a world.

Each recipe lives with its family (:mod:`~fewpoints.briefing.unicity`,
:mod:`~fewpoints.briefing.population`, :mod:`~fewpoints.briefing.person`,
:mod:`~fewpoints.briefing.protection`); :data:`RECIPES` orders them and
:data:`HEADLINES` says whose headline ``make demo`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from fewpoints.briefing.context import BriefingContext, BriefingFigure, Recipe, Sizes, sizes_for
from fewpoints.briefing.person import HOME_WORK, NAMING, ONE_WEEK
from fewpoints.briefing.population import POPULATION
from fewpoints.briefing.protection import WHAT_PROTECTS
from fewpoints.briefing.unicity import COARSENING, HOW_FEW_POINTS
from fewpoints.common import renamed, seed_of

#: The briefing's figures in reading order.
RECIPES: tuple[Recipe, ...] = (
    HOW_FEW_POINTS,
    COARSENING,
    POPULATION,
    HOME_WORK,
    NAMING,
    ONE_WEEK,
    WHAT_PROTECTS,
)

#: Figures whose headline ``make demo`` prints, in order of preference (first three available).
HEADLINES = ("how-few-points", "naming", "what-protects", "coarsening", "population")


@renamed(seed="rng")
def build_briefing(
    world,
    *,
    rng: int | np.random.Generator | None = 0,
    sizes: Sizes | None = None,
    recipes: Sequence[Recipe] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> list[BriefingFigure]:
    """Run each available recipe on ``world``; return the figures in reading order.

    Parameters
    ----------
    world : World
        A synthetic world with ``cdr`` traces.
    rng : int, Generator or None, default 0
        Seed of every analysis (each recipe draws from its own stream); a
        Generator gives a seed drawn from it, None a fresh one. The seed is recorded with the
        briefing. ``seed=`` is the deprecated name of this keyword.
    sizes : Sizes, optional
        Analysis sizes (default: :func:`sizes_for` the world's people).
    recipes : sequence of Recipe, optional
        Default :data:`RECIPES`; recipes whose modules are missing are skipped.
    progress : callable, optional
        ``progress(stage, fraction)``.
    """
    if sizes is None:
        sizes = sizes_for(len(world.people))
    ctx = BriefingContext(world, sizes=sizes, seed=seed_of(rng))
    recipes = [r for r in (RECIPES if recipes is None else recipes) if r.available()]
    out = []
    for i, recipe in enumerate(recipes, 1):
        stage = f"figure {i}/{len(recipes)}: {recipe.name}"
        if progress:
            progress(stage, 0.0)
        t0 = time.perf_counter()
        fig = recipe.make(ctx)
        fig.seconds = time.perf_counter() - t0
        out.append(fig)
        if progress:
            progress(stage, 1.0)
    return out
