"""``fewpoints link``: pseudonymous devices named with the public directory and geotagged
posts, scored against the world's ground truth (which the attacks never read).
"""

from __future__ import annotations

import numpy as np

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import count, deprecated_alias, positive_float, positive_int, seed
from fewpoints.cli.progress import Progress
from fewpoints.schema import FewpointsError


def _share(value: float) -> str:
    """A share as a percentage, or "n/a" where there was nothing to divide by."""
    return "n/a" if not np.isfinite(value) else f"{value:.1%}"


def _add_link(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "link",
        help="name pseudonymous devices with a public directory and geotagged posts",
        description=(
            "Link the devices of a synthetic world to names: by matching each device's "
            "inferred home to the public directory, and by finding the devices that were "
            "near a person's first geotagged posts. Scored against the world's ground truth, "
            "which the attacks never read. WORLD is a folder written by 'fewpoints generate' "
            "or a preset to generate now."
        ),
    )
    p.add_argument("world", metavar="WORLD", help="world folder or preset")
    p.add_argument(
        "--points",
        type=positive_int,
        default=3,
        help="known points per person, the posts: each name's first N (default: 3)",
    )
    deprecated_alias(p, "--posts", "--points", type=positive_int)
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="which traces of the world to attack (default: the world's first)",
    )
    p.add_argument(
        "--max-km",
        type=positive_float,
        help="how far a record may be from a post (default: 2 for cdr, via the serving antenna; 0.05 for pings)",
    )
    p.add_argument(
        "--max-minutes",
        type=positive_float,
        help="how long before or after a post a record may be (default: 240)",
    )
    p.add_argument("--examples", type=count, default=5, help="example rows shown (default: 5)")
    p.add_argument(
        "--seed", type=seed, default=0, help="seed when generating a preset (default: 0)"
    )


def _run_link(args) -> int:
    from fewpoints.attacks.linkage import (
        POST_TOLERANCES,
        link_directory,
        link_posts,
        linkage_score,
        naming_curve,
    )

    loader.check_model_of_preset(args.world, args.observe, "--observe")
    world, what = loader.load_world(args.world, seed=args.seed, what="link")
    if len(world.people) == 0:
        raise FewpointsError(
            f"{args.world} has no ground truth (people): it is a released world, and link scores "
            "its guesses against the truth; run it on the world the release was made from"
        )
    if len(world.directory) == 0 and len(world.posts) == 0:
        raise FewpointsError("this world has no directory and no posts: nothing to link with")
    most = int(world.posts.groupby("name").size().max()) if len(world.posts) else 0
    if len(world.posts) and args.points > most:
        raise FewpointsError(
            f"--points {args.points}: nobody in this world has that many posts (the most is {most:,})"
        )
    traces, model = loader.world_traces(world, args.observe)
    kind = "cdr" if "antenna_id" in traces.columns else "pings"
    km = args.max_km if args.max_km is not None else POST_TOLERANCES[kind][0]
    minutes = args.max_minutes if args.max_minutes is not None else POST_TOLERANCES[kind][1]
    progress = Progress()
    try:
        progress("linking the directory", 0.0)
        book = (
            link_directory(traces, world.directory, world.places, posts=world.posts)
            if len(world.directory)
            else None
        )
        progress("linking the directory", 1.0)
        progress("linking the posts", 0.0)
        posts = curve = None
        if len(world.posts):
            posts = link_posts(
                traces, world.posts, max_km=km, max_minutes=minutes, n_points=args.points
            )
            ns = sorted(n for n in {1, 2, 3, 5, args.points} if n <= most)
            curve = naming_curve(
                traces, world.posts, world.people, n_points_range=ns, max_km=km, max_minutes=minutes
            )
        progress("linking the posts", 1.0)
    finally:
        progress.close()

    n_people = len(world.people)
    truth = set(
        zip(world.people["name"].astype(str), world.people["device_id"].astype(str), strict=True)
    )

    def check(name, device) -> str:
        return "right" if (str(name), str(device)) in truth else "wrong"

    print(f"Linkage -- SYNTHETIC data (no real person is in it): {what}, {model} traces")
    print(
        f"  {traces['device_id'].nunique():,} devices; public data: {len(world.directory):,} "
        f"directory entries, {len(world.posts):,} posts by {world.posts['name'].nunique():,} people"
    )
    print("  scored against the world's ground truth (people), which the attacks never read")
    if book is not None:
        sc = linkage_score(book, world.people)
        print()
        print(
            "From the directory (inferred home -> listed adults at that address; posts break ties):"
        )
        print(
            f"  best guess right for {sc.n_correct:,} of {sc.n_guesses:,} devices "
            f"(precision {_share(sc.precision)}); {_share(sc.share_named)} of all "
            f"{n_people:,} people correctly named"
        )
        best = book[book["rank"] == 1].head(args.examples)
        if len(best):
            print("  examples (best guess per device):")
            for _, r in best.iterrows():
                print(
                    f"    {r['device_id']:<14} -> {r['name']:<22} score {r['score']:.2f}"
                    f"  ({r['address_adults']} listed at the address, {r['posts_matched']} posts "
                    f"matched; {check(r['name'], r['device_id'])})"
                )
    if curve is not None:
        via = "its serving antenna" if kind == "cdr" else "distance"
        print()
        print(
            f"From geotagged posts (a device matches a post when it has a record within "
            f"{km:g} km by {via} and {minutes:g} minutes):"
        )
        print(f"  {'posts':>5}  {'people':>7}  {'named':>6}  {'95% CI':<15}  {'median set':>10}")
        for _, r in curve.iterrows():
            ci = f"{r['ci_low']:.1%} to {r['ci_high']:.1%}"
            print(
                f"  {int(r['n_posts']):>5}  {int(r['n_names']):>7,}  {r['share_named']:>6.1%}  "
                f"{ci:<15}  {r['median_set_size']:>10,.0f}"
            )
        print(
            "  named: share of the people with at least that many posts whose posts match "
            "exactly one device, their own"
        )
        sc = linkage_score(posts, world.people)
        print(
            f"  with {args.points} posts: {sc.n_guesses:,} people match a single device, "
            f"rightly for {sc.n_correct:,} (precision {_share(sc.precision)})"
        )
        one = posts[posts["anonymity_set_size"] == 1].head(args.examples)
        if len(one):
            print(f"  examples (first {args.points} posts match a single device):")
            for _, r in one.iterrows():
                device = r["device_ids"][0]
                print(
                    f"    {r['name']:<22} -> {device}  ({r['n_posts']} posts; "
                    f"{check(r['name'], device)})"
                )
    print()
    print("  right / wrong: checked against the ground truth, which only this report reads")
    return EXIT_OK


#: The sub-command: (add its parser, run it).
COMMAND = (_add_link, _run_link)
