"""Our Token test (validation.checks.is_unresolved, pure Python so that skipping a Token costs no
Python-to-Node call) agrees with aws-cdk-lib's ``Token.is_unresolved`` on every kind of value."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Token

from sagemaker_constructs.validation.checks import is_list_token, is_unresolved


def _values():
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    number = cdk.CfnParameter(stack, "N", type="Number")
    text = cdk.CfnParameter(stack, "T")
    names = cdk.CfnParameter(stack, "L", type="CommaDelimitedList")
    selected = cdk.Fn.select(0, names.value_as_list)
    return {
        "string parameter": text.value_as_string,
        "string in text": f"ml.{text.value_as_string}.xlarge",
        "intrinsic string": selected,
        "account": cdk.Aws.ACCOUNT_ID,
        "number parameter": number.value_as_number,
        "number as string": Token.as_string(number.value_as_number),
        "number in text": f"{number.value_as_number} instances",
        "list parameter": names.value_as_list,
        "plain string": "ml.m5.xlarge",
        "brace string": "${NotAToken}",
        "almost a token": "${Token[]}",
        "number-like text": "-1.8881545897087626e+289",
        "zero": 0,
        "int": 42,
        "float": 0.5,
        "huge int": 10**400,
        "negative": -1.5e300,
        "plain list": ["a", "b"],
        "empty list": [],
    }


@pytest.mark.parametrize("name", list(_values()))
def test_is_unresolved_agrees_with_cdk(name):
    value = _values()[name]
    if isinstance(value, int) and abs(value) > 2**1023:
        assert is_unresolved(value) is False  # jsii cannot carry it; no Token either
        return
    expected = Token.is_unresolved(value)
    assert is_unresolved(value) is expected or (isinstance(value, list) and is_list_token(value) is expected)


def test_number_and_list_tokens_are_recognised():
    values = _values()
    assert is_unresolved(values["number parameter"])
    assert is_list_token(values["list parameter"]) and is_unresolved(values["list parameter"])
    assert not is_unresolved(values["plain string"]) and not is_unresolved(values["zero"])
    assert not is_list_token(values["plain list"])
    assert is_unresolved(["ml.m5.large", values["string parameter"]])  # a Token inside a list
