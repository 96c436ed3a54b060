"""``fewpoints briefing``: the briefing pack (figures, captions, numbers, briefing.pdf and
briefing.html) written for a world generated from a preset.
"""

from __future__ import annotations

import time

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import seed
from fewpoints.cli.progress import Progress


def _add_briefing(sub) -> None:
    from fewpoints.synth.world import PRESETS

    p = sub.add_parser(
        "briefing",
        help="write the briefing pack: figures (PNG, SVG, PDF), captions, briefing.pdf and .html",
        description=(
            "Generate a synthetic world, run each briefing analysis on it, and write every "
            "figure as PNG (300 dpi), SVG and PDF, captions.md (captions and alt text), "
            "results.json (the numbers stated), a printable tagged briefing.pdf and the same "
            "briefing as one accessible web page, briefing.html. The same seed gives the same "
            "figures."
        ),
    )
    p.add_argument(
        "--out",
        required=True,
        help="folder to write (refused if not empty; --force replaces what fewpoints wrote)",
    )
    p.add_argument(
        "--preset",
        default="city",
        help=f"world to generate: {', '.join(PRESETS)} (default: city)",
    )
    p.add_argument(
        "--seed", type=seed, default=0, help="seed of the world and the analyses (default: 0)"
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _run_briefing(args) -> int:
    from pathlib import Path

    from fewpoints.briefing import (
        HEADLINES,
        RECIPES,
        build_briefing,
        pack_files,
        pdf_renderer,
        write_briefing,
    )
    from fewpoints.io import check_output_folder
    from fewpoints.synth.world import resolve_params

    resolve_params(args.preset, seed=args.seed)
    # Refuse before doing any work, so a long run never ends in "folder exists".
    out = check_output_folder(Path(args.out), force=args.force, expect=pack_files())
    pdf_renderer()  # a missing PDF library is said before the world is generated
    progress = Progress(enabled=not args.quiet)
    t0 = time.perf_counter()
    skipped = [r.name for r in RECIPES if not r.available()]
    try:
        world = loader.generate_world(args.preset, args.seed, progress, observe=("cdr", "pings"))
        t_world = time.perf_counter() - t0
        figs = build_briefing(world, rng=args.seed, progress=progress)
        command = f"fewpoints briefing --preset {args.preset} --seed {args.seed} --out {out}"
        t1 = time.perf_counter()
        written = write_briefing(figs, out, force=args.force, command=command, progress=progress)
        t_write = time.perf_counter() - t1
    finally:
        progress.close()
    print(
        f"Briefing -- SYNTHETIC data (preset {args.preset}, seed {args.seed}): "
        f"{len(figs)} figures, {len(written)} files in {out}/ ({time.perf_counter() - t0:.0f} s)"
    )
    print(f"  read first: {out / 'briefing.pdf'}   on screen: {out / 'briefing.html'}")
    print(f"  captions and alt text: {out / 'captions.md'}   numbers: {out / 'results.json'}")
    if skipped:
        print(f"  not in this build yet: {', '.join(skipped)}")
    print(
        f"  world {t_world:.0f} s; analyses: "
        + ", ".join(f"{f.name.split('-', 1)[1]} {f.seconds:.0f} s" for f in figs)
        + f"; writing {t_write:.0f} s"
    )
    by_name = {f.name.split("-", 1)[1]: f for f in figs}
    shown = [by_name[n] for n in HEADLINES if n in by_name][:3]
    print("  headline numbers (synthetic data):")
    for f in shown:
        print(f"    - {f.headline}")
    return EXIT_OK


#: The sub-command: (add its parser, run it).
COMMAND = (_add_briefing, _run_briefing)
