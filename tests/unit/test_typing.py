"""Static types of the public API: pyright (pinned in package.json) against the virtualenv's aws-cdk-lib.

- ``pyright --verifytypes sagemaker_constructs --ignoreexternal``: every public symbol has a known
  type, none ambiguous (``make test`` runs it).
- No private (``_``-prefixed) type appears in a public signature.
- ``pyright`` on the whole package (``make typecheck``, marker ``typecheck``): no error except
  aws-cdk-lib's own binding mismatches, the one baselined kind (see ``_is_binding_mismatch``).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

PYRIGHT = REPO / "node_modules" / ".bin" / "pyright"
PACKAGE = REPO / "constructs" / "sagemaker_constructs"
MIN_COMPLETENESS = 1.0

pytestmark = pytest.mark.skipif(not PYRIGHT.exists(), reason="pyright comes with `make install` (npm ci)")


def _pyright(*args: str) -> dict:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([str(PYRIGHT), "--pythonpath", sys.executable, "--outputjson", *args],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=900)
    # 0: no errors, 1: errors reported; anything else is pyright failing to run.
    assert result.returncode in (0, 1), result.stderr[-3000:] or result.stdout[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def completeness() -> dict:
    return _pyright("--verifytypes", "sagemaker_constructs", "--ignoreexternal")["typeCompleteness"]


def _unknown(completeness: dict) -> list[str]:
    lines = []
    for symbol in completeness["symbols"]:
        if symbol["isExported"] and not symbol["isTypeKnown"]:
            why = next((d["message"].splitlines()[0] for d in symbol["diagnostics"]), "a member's type is unknown")
            lines.append(f"{symbol['name']}: {why}")
    return lines


@pytest.mark.slow
def test_public_api_is_fully_typed(completeness):
    score = completeness["completenessScore"]
    unknown = "\n".join(_unknown(completeness)[:40])
    assert score >= MIN_COMPLETENESS, f"type completeness {score:.1%} < {MIN_COMPLETENESS:.0%}; first unknown:\n{unknown}"
    assert completeness["packageName"] == "sagemaker_constructs"
    assert completeness["pyTypedPath"], "py.typed marks the package as typed"


# --- no private type in a public signature -------------------------------------------------------
_PRIVATE_NAME = re.compile(r"(?<![\w.])(?:\w+\.)*_[A-Za-z]\w*")


def _public_callables():
    import sagemaker_constructs

    for name in sagemaker_constructs.__all__:
        obj = getattr(sagemaker_constructs, name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr == "__init__" or not attr.startswith("_"):
                    func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                    func = func.fget if isinstance(func, property) else func
                    if inspect.isfunction(func):
                        yield f"{name}.{attr}", func
            for attr, annotation in vars(obj).get("__annotations__", {}).items():
                if not attr.startswith("_"):
                    yield f"{name}.{attr}", annotation
        elif inspect.isfunction(obj):
            yield name, obj


def _private_types(annotation: object) -> list[str]:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return [m for m in _PRIVATE_NAME.findall(str(text)) if not m.split(".")[-1].startswith("__")]


def test_private_type_detector_finds_private_names():
    assert _private_types("_InstanceEndpoint | None") == ["_InstanceEndpoint"]
    assert _private_types("realtime._InstanceEndpoint") == ["realtime._InstanceEndpoint"]
    assert _private_types("Sequence[iam.IRole] | None") == []
    assert _private_types("dict[str, Any]") == []


def test_no_private_type_in_a_public_signature():
    found = []
    for where, obj in _public_callables():
        if inspect.isfunction(obj):
            for param, annotation in obj.__annotations__.items():
                found.extend(f"{where}({param}): {t}" for t in _private_types(annotation))
        else:
            found.extend(f"{where}: {t}" for t in _private_types(obj))
    assert found == [], "private types in public signatures:\n" + "\n".join(found)


# --- pyright on the whole package ----------------------------------------------------------------
def _is_binding_mismatch(diagnostic: dict) -> bool:
    """aws-cdk-lib's own binding mismatch, the baseline: jsii renders every interface (``iam.IRole``,
    ``iam.IPrincipal``, ``kms.IKey``, ``sns.ITopic``, ``cloudwatch.IAlarmAction``, ...) as a
    ``typing.Protocol`` whose members are typed unlike the classes that implement them, so pyright
    rejects an ``iam.Role`` where an ``iam.IRole`` is expected ("... is incompatible with protocol
    ..."). The same code type-checks against the TypeScript sources; nothing on our side can fix it."""
    return diagnostic.get("rule") in ("reportArgumentType", "reportAssignmentType", "reportAttributeAccessIssue",
                                      "reportReturnType") \
        and "is incompatible with protocol" in diagnostic["message"]


def test_binding_mismatch_baseline_is_that_one_kind():
    mismatch = {"rule": "reportArgumentType", "message": 'Argument of type "Role" cannot be assigned to parameter '
                '"role" of type "IRole"\n  "Role" is incompatible with protocol "IRole"'}
    assert _is_binding_mismatch(mismatch)
    assert not _is_binding_mismatch({"rule": "reportOptionalMemberAccess", "message": '"path" is not a known '
                                     'attribute of "None"'})
    assert not _is_binding_mismatch({"rule": "reportArgumentType", "message": 'Argument of type "int | None" '
                                     'cannot be assigned to parameter "value" of type "int"'})


@pytest.mark.typecheck
def test_pyright_reports_nothing_but_the_binding_baseline():
    report = _pyright(str(PACKAGE))
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    ours = [d for d in errors if not _is_binding_mismatch(d)]
    lines = [f"{os.path.relpath(d['file'], REPO)}:{d['range']['start']['line'] + 1}: {d.get('rule')}: "
             f"{d['message'].splitlines()[0]}" for d in ours]
    assert lines == [], f"{len(lines)} pyright errors outside the aws-cdk-lib binding baseline:\n" + "\n".join(lines)
