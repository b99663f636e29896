"""The README's Python fragments run as written, each after the one shared set-up block it shows."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
SETUP_MARK = "# Shared set-up for the fragments in this README."
SETUPS = [b for b in BLOCKS if b.startswith(SETUP_MARK)]
FRAGMENTS = [b for b in BLOCKS if not b.startswith(SETUP_MARK)]


def _title(block: str) -> str:
    line = README[: README.index(block)].count("\n") + 1
    return f"README.md:{line}"


def test_readme_shows_one_shared_setup_before_every_fragment():
    assert len(SETUPS) == 1, f"exactly one block starts with {SETUP_MARK!r}"
    assert BLOCKS.index(SETUPS[0]) == 0, "the set-up is the first Python block"
    assert len(FRAGMENTS) >= 5


def test_readme_keeps_two_setup_commands():
    section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    (commands,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert [line.split("#")[0].strip() for line in commands.strip().splitlines()] == ["make synth", "make test"]


@pytest.mark.parametrize("index", range(len(FRAGMENTS)), ids=[_title(b) for b in FRAGMENTS])
def test_readme_fragment_runs_after_the_setup(index, tmp_path):
    # The jsii runtime's Node process does not see env changes made now: set the outdir in code.
    setup, fragment = SETUPS[0], FRAGMENTS[index]
    outdir = f"cdk.App(outdir={str(tmp_path)!r})"
    namespace: dict = {}
    exec(compile(setup.replace("cdk.App()", outdir), "README.md set-up", "exec"), namespace)
    exec(compile(fragment.replace("cdk.App()", outdir), _title(fragment), "exec"), namespace)
    namespace["app"].synth()
    assert list(tmp_path.glob("*.template.json"))
