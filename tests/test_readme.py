"""The README's Python examples run as written (so its first screens stay true)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@pytest.mark.slow
def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    result = namespace["result"]
    assert 0.5 < result.value < 1.0
    assert "no real person is in it" in capsys.readouterr().out


def test_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join(README.read_text().splitlines()[:30])
    assert "make demo" in first_screen and "make test" in first_screen


def test_readme_starts_short_and_leaves_the_measurements_to_the_docs():
    """About 150 lines; its tables are the two population ones tests/test_shipped_data.py reads."""
    text = README.read_text()
    assert len(text.splitlines()) <= 170
    tables = re.findall(r"^\|(.*)\|$\n^\|[-:|]+\|$", text, re.M)
    assert len(tables) <= 2, tables
    assert "flock" not in text and "soft)" not in text and "firm)" not in text


def test_readme_links_resolve():
    text = README.read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text) + re.findall(
        r'(?:src|href)="([^"#:]+)"', text
    ):
        assert (ROOT / target).exists(), target


def test_readme_commands_are_the_commands():
    """Every `fewpoints CMD --option` the README shows is one that CMD --help lists."""
    from fewpoints.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    lines, fence = [], None
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            fence = line[3:] if fence is None else None
        elif fence == "" and line.startswith("fewpoints "):
            lines.append(line.split("  #", 1)[0].strip())
    assert {line.split()[1] for line in lines} >= {
        "generate", "unicity", "anonymize", "link", "briefing", "audit"
    }  # fmt: skip
    for line in lines:
        command = line.split()[1]
        options = set(sub.choices[command]._option_string_actions)
        for word in line.split()[2:]:
            if word.startswith("--"):
                assert word in options, f"{command} has no {word}"
