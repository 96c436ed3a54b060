"""fewpoints.reveal: an exercise's answer runs only when the student asks for it."""

from __future__ import annotations

import pytest

IPython = pytest.importorskip("IPython")
widgets = pytest.importorskip("ipywidgets")

from fewpoints.reveal import reveal  # noqa: E402


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.user_ns.pop("answer", None)
    yield sh
    sh.user_ns.pop("answer", None)


def test_the_answer_does_not_run_until_the_button_is_clicked(shell):
    box = reveal("answer = 6 * 7\nprint('the answer is', answer)", exercise=3)
    assert "answer" not in shell.user_ns, "the answer ran before it was asked for"
    button, out = box.children
    assert isinstance(button, widgets.Button) and button.description == "Show the answer"
    assert out.outputs == ()
    button.click()
    assert shell.user_ns["answer"] == 42
    assert button.disabled and button.description == "The answer to exercise 3"


def test_without_widgets_the_cell_says_the_answer_is_hidden(shell):
    box = reveal("answer = 1", exercise=2)
    bundle = box._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"].startswith("[The answer to exercise 2 is hidden")
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "answer" not in shell.user_ns


def test_now_shows_and_runs_the_answer_at_once(shell, capsys):
    assert reveal("answer = 'seen'\nprint(answer)", now=True) is None
    assert shell.user_ns["answer"] == "seen"
    assert "seen" in capsys.readouterr().out


def test_an_answer_that_fails_shows_its_error_in_the_answer_area(shell):
    box = reveal("answer = 1 / 0", exercise=1)
    box.children[0].click()
    assert "answer" not in shell.user_ns


def test_reveal_outside_ipython_says_so(monkeypatch):
    import IPython as ipy

    monkeypatch.setattr(ipy, "get_ipython", lambda: None)
    with pytest.raises(RuntimeError, match="inside a notebook"):
        reveal("x = 1")
