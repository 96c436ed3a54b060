"""``fewpoints explain``: one device's story, from the released and public data of a world."""

from __future__ import annotations

from fewpoints.cli import loader
from fewpoints.cli.errors import EXIT_OK
from fewpoints.cli.options import seed


def _add_explain(sub) -> None:
    from fewpoints.synth.world import OBSERVATION_MODELS

    p = sub.add_parser(
        "explain",
        help="one device's story: how few points single it out, its home, its name, its visits",
        description=(
            "Tell what a synthetic world's released and public data reveal about one device: "
            "how few of its points single it out, where it sleeps and works, the name the "
            "public directory suggests, and its visits to sensitive places."
        ),
    )
    p.add_argument("world", metavar="WORLD", help="world folder or preset")
    p.add_argument("device_id", metavar="DEVICE_ID", help="the pseudonymous device id")
    p.add_argument(
        "--observe",
        choices=OBSERVATION_MODELS,
        help="which traces of the world (default: the world's first)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed for the random draws (default: 0)")


def _run_explain(args) -> int:
    from fewpoints.attacks.explain import explain

    loader.check_model_of_preset(args.world, args.observe, "--observe")
    world, what = loader.load_world(args.world, seed=args.seed, what="explain")
    _, model = loader.world_traces(world, args.observe)
    story = explain(world, args.device_id, observe=model, rng=args.seed)
    print(f"{what}, {model} traces")
    print(story)
    return EXIT_OK


#: The sub-command: (add its parser, run it).
COMMAND = (_add_explain, _run_explain)
