"""Exercise answers that stay hidden until the student asks for them.

The student's edition of each lesson (``notebooks/*.ipynb``) holds every exercise's answer
as a call ``reveal(CODE, exercise=N)`` in a collapsed cell. "Run All" runs that cell, which
only shows a button: the answer's code is neither run nor shown until the student clicks
**Show the answer** (after writing a prediction in the empty cell above it). Then the code
is shown and run in the notebook's own namespace, its output under the button.

Without a widget-capable front end (a plain console, a static export), the answer stays
hidden and the cell says how to see it: ``reveal(CODE, exercise=N, now=True)``.
"""

from __future__ import annotations

import functools

__all__ = ["reveal"]


def _show_and_run(code: str, shell) -> None:
    """Show the answer's code, then run it in the notebook's namespace (output below)."""
    from IPython.display import Code, display

    display(Code(code, language="python"))
    shell.run_cell(code, store_history=False)


def reveal(code: str, *, exercise: int | str = "", now: bool = False):
    """Hide an exercise's answer behind a button; show and run it when the student asks.

    Parameters
    ----------
    code : str
        The answer's Python code, run in the notebook's namespace when revealed.
    exercise : int or str, default ""
        The exercise's number, for the button's label.
    now : bool, default False
        Show and run the answer at once, without a button.

    Returns
    -------
    ipywidgets.VBox or None
        The button and the area the answer appears in (displayed by the notebook as the
        cell's result), or None when the answer was shown at once or cannot be shown.
    """
    from IPython import get_ipython

    shell = get_ipython()
    label = f"exercise {exercise}" if exercise != "" else "this exercise"
    if shell is None:
        raise RuntimeError("reveal() shows an answer inside a notebook (IPython); none is running")
    if now:
        _show_and_run(code, shell)
        return None
    try:
        import ipywidgets as widgets
    except ImportError:
        print(
            f"The answer to {label} is hidden. To see it, add now=True to this cell's "
            "reveal(...) call and run the cell again."
        )
        return None

    button = widgets.Button(
        description="Show the answer",
        tooltip=f"Runs and shows the answer to {label}: write your prediction first",
        icon="eye",
        layout=widgets.Layout(width="auto"),
    )
    button.add_class("fewpoints-reveal")
    out = widgets.Output()
    out.add_class("fewpoints-answer")

    def on_click(_):
        button.disabled = True
        button.description = f"The answer to {label}"
        with out:
            _show_and_run(code, shell)

    button.on_click(on_click)
    return _hidden_class()([button, out], label=label)


@functools.cache
def _hidden_class():
    """A VBox whose plain-text form (no widgets) says the answer is hidden, and how to see it."""
    import ipywidgets as widgets

    class Hidden(widgets.VBox):
        def __init__(self, children, *, label):
            super().__init__(children)
            self._label = label

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            data["text/plain"] = (
                f"[The answer to {self._label} is hidden: click 'Show the answer', "
                "or add now=True to this cell's reveal(...) call.]"
            )
            return bundle

    return Hidden
