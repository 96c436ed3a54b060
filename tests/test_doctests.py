"""The ``Examples`` sections of the most used public functions run as doctests.

Each example works on a tiny hand-built table (or the ``tiny`` world) whose answer
can be checked by eye; a wrong expected output fails its function's case with the
doctest's own report.
"""

import doctest
import inspect

import pytest

import fewpoints
from fewpoints import anonymize, attacks, defenses
from fewpoints.attacks.population import PopulationCurve
from fewpoints.attacks.population.marginals import Marginals
from fewpoints.synth.chunked import estimate_chunked

# The twenty most used public functions and classes (calls counted in the README,
# docs/, the notebooks and tests/), each with an Examples section.
DOCUMENTED = {
    "unicity": fewpoints.unicity,
    "PointIndex.from_traces": fewpoints.PointIndex.from_traces,
    "make_world": fewpoints.make_world,
    "read_traces": fewpoints.read_traces,
    "coarsen_time": anonymize.coarsen_time,
    "read_world": fewpoints.read_world,
    "resolution_sweep": fewpoints.resolution_sweep,
    "top_n_anonymity": fewpoints.top_n_anonymity,
    "link_posts": fewpoints.link_posts,
    "sensitive_visits": fewpoints.sensitive_visits,
    "pseudonymize": anonymize.pseudonymize,
    "coarsen_space": anonymize.coarsen_space,
    "dp_aggregate": defenses.dp_aggregate,
    "home_work": fewpoints.home_work,
    "explain": fewpoints.explain,
    "validate": fewpoints.validate,
    "wilson_interval": attacks.wilson_interval,
    "top_locations": fewpoints.top_locations,
    "link_directory": fewpoints.link_directory,
    "linkage_score": attacks.linkage_score,
    # and the release that replaces dp_aggregate's attrs
    "dp_release": defenses.dp_release,
    # and the results that used to be dicts
    "PopulationCurve.from_table": PopulationCurve.from_table,
    "Marginals.summary": Marginals.summary,
    "estimate_chunked": estimate_chunked,
}

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _doctest(name, obj):
    """The doctest of ``obj``'s own docstring, run in its module's namespace."""
    module = inspect.getmodule(obj)
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(obj, name, module=module, globs=vars(module)) if t.examples]
    assert len(tests) == 1, f"{name}: expected one docstring with examples, found {len(tests)}"
    return tests[0]


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_examples_section_runs(name):
    obj = DOCUMENTED[name]
    assert "\nExamples\n--------\n" in inspect.getdoc(obj), f"{name} has no Examples section"
    test = _doctest(name, obj)
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)
    assert result.attempted >= 2


def test_a_wrong_expected_output_fails():
    """The runner really compares outputs: a broken copy of an example fails."""
    test = _doctest("wilson_interval", attacks.wilson_interval)
    broken = doctest.DocTestParser().get_doctest(
        test.docstring.replace("(0.237, 0.763)", "(0.237, 0.764)"),
        dict(test.globs),
        test.name,
        test.filename,
        test.lineno,
    )
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(broken, out=lambda _: None)
    assert result.failed == 1
