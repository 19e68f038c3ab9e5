"""README.md and docs/: every command shown is run and prints what is shown; the pages link up.

The machinery is in tests/docs_examples.py; `python3 tests/docs_examples.py --update` pastes
the real outputs in after a change of output.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_examples import ROOT, Block, blocks, documents, matches, run_all

BLOCKS = [block for path in documents() for block in blocks(path)]
PAGES = sorted((ROOT / "docs").glob("*.md"))


@pytest.fixture(scope="module")
def ran() -> dict[str, Block]:
    return {block.name: block for block in run_all(BLOCKS)}


@pytest.mark.parametrize("name", [block.name for block in BLOCKS])
def test_each_command_shown_prints_what_is_shown(ran, name):
    block = ran[name]
    for step in block.steps:
        assert step.real is not None
        if block.session:
            assert matches(step.shown, step.real), (
                f"{name}: `{step.command}` printed\n" + "\n".join(step.real) + "\n"
                "(python3 tests/docs_examples.py --update pastes it in)"
            )
        else:
            assert step.rc in (0, 1), f"{name}: `{step.command}` ended with {step.rc}"
            assert "Traceback" not in "\n".join(step.real)


def test_the_elision_matches_any_lines_and_nothing_else():
    assert matches(["a", "…", "d"], ["a", "b", "c", "d"]) and matches(["a", "…", "d"], ["a", "d"])
    assert not matches(["a", "…", "d"], ["a", "b", "c", "e"])
    assert not matches(["a", "b"], ["a", "b", "c"]) and matches([], [])


def test_the_examples_cover_the_readme_and_every_page():
    shown = {block.path.name for block in BLOCKS if block.session}
    assert {"README.md", "check.md", "formats.md", "language.md", "errors.md"} <= shown
    assert len([b for b in BLOCKS if b.session]) >= 20


def test_each_page_says_what_it_is_for_and_links_back():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        title, blank, purpose = page.read_text(encoding="utf-8").split("\n")[:3]
        assert title.startswith("# ") and blank == "" and purpose, page.name
        assert "](../README.md)" in purpose, page.name
        assert f"](docs/{page.name})" in readme, f"the README does not link to {page.name}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    fenced = re.sub(r"^ *```.*?^ *```", "", text, flags=re.S | re.M)
    found = {_slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", fenced, re.M)}
    return found | set(re.findall(r'<a id="([^"]+)"></a>', text))


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_link_between_the_pages_leads_somewhere(path):
    text = re.sub(r"^ *```.*?^ *```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        where = (path.parent / file).resolve() if file else path
        assert where.exists(), f"{path.name}: {target}"
        if anchor:
            assert anchor in _anchors(where), f"{path.name}: {target}: no such heading"


def test_the_readme_commands_are_the_ones_ci_runs():
    """.ci/run runs the README's install and test commands; they must stay the same."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    first, second = re.findall(r"```\n(python3 -m .*)\n```", readme)[:2]
    assert first.endswith('bpcli grad "(x+y)*z" x=-2 y=5 z=-4')
    assert '(cd "$(mktemp -d)" && bpcli grad "(x+y)*z" x=-2 y=5 z=-4)' in ci
    assert second == 'python3 -m pip install ".[test]" && python3 -m pytest -q'
    assert 'python3 -m pip install --quiet ".[test]" && python3 -m pytest -q' in ci
