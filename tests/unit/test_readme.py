"""The README's Python examples run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
RUNNABLE = [b for b in BLOCKS if "app.synth()" in b]


def test_readme_has_runnable_examples():
    assert len(RUNNABLE) >= 2


@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_readme_example_synthesizes(index, tmp_path):
    # The jsii runtime's Node process does not see env changes made now: set the outdir in code.
    code = RUNNABLE[index].replace("cdk.App()", f"cdk.App(outdir={str(tmp_path)!r})")
    assert code != RUNNABLE[index]
    exec(compile(code, f"README.md example {index}", "exec"), {})
    assert list(tmp_path.glob("*.template.json"))
