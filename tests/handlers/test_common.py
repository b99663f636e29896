"""handlers/common.py: the clients, retries, log lines, names and tags every handler shares, shipped
in each function's code asset, and the same names and tags the constructs compute."""

from __future__ import annotations

import json
import sys

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from sagemaker_constructs._internal import functions
from sagemaker_constructs.mlops import deploy
from sagemaker_constructs.security import roles
from tests.handlers.conftest import HANDLERS, load_handler

USERS = ("canvas_settings", "deploy_on_approval", "invoke_endpoint", "studio_teardown")


@pytest.fixture()
def common():
    return load_handler("common")


def _error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Op")


def test_config_retries_standard_with_timeouts_and_our_user_agent(common):
    config = common.config()
    assert config.retries == {"mode": "standard", "max_attempts": common.MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout) == (common.CONNECT_TIMEOUT, common.READ_TIMEOUT)
    assert config.user_agent_extra == "sagemaker-constructs"
    once = common.config(total_max_attempts=1, connect_timeout=2, read_timeout=3)
    assert once.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (once.connect_timeout, once.read_timeout) == (2, 3)


def test_client_is_made_on_first_use_once_per_service_and_settings(common, monkeypatch):
    made = []
    monkeypatch.setattr(boto3, "client", lambda name, **kwargs: made.append((name, kwargs["config"])) or object())
    common.client.cache_clear()
    try:
        assert common.client("sagemaker") is common.client("sagemaker")
        assert common.client("sagemaker", read_timeout=5) is not common.client("sagemaker")
        assert [name for name, _ in made] == ["sagemaker", "sagemaker"]
        assert made[1][1].read_timeout == 5 and made[1][1].user_agent_extra == "sagemaker-constructs"
    finally:
        common.client.cache_clear()


def test_log_is_one_sorted_json_line(common, capsys):
    line = common.log("deployed", zeta=1, alpha={"b"})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == {"decision": "deployed", "zeta": 1, "alpha": "{'b'}"}
    assert line == {"decision": "deployed", "zeta": 1, "alpha": {"b"}}
    assert out.index('"alpha"') < out.index('"decision"') < out.index('"zeta"')


@pytest.mark.parametrize("err", [
    _error("ThrottlingException"), _error("Throttling"), _error("TooManyRequestsException"),
    _error("RequestLimitExceeded"), _error("InternalFailure", 500), _error("Whatever", 503),
    _error("ServiceUnavailable", 400), EndpointConnectionError(endpoint_url="https://x"),
    ReadTimeoutError(endpoint_url="https://x"),
], ids=lambda e: type(e).__name__ + ":" + (e.response["Error"]["Code"] if isinstance(e, ClientError) else ""))
def test_transient_errors(common, err):
    assert common.is_transient(err)


@pytest.mark.parametrize("err", [_error("ValidationException"), _error("AccessDeniedException", 403),
                                 ValueError("no"), RuntimeError("x")])
def test_other_errors_are_not_transient(common, err):
    assert not common.is_transient(err)
    assert common.error_code(err) == (err.response["Error"]["Code"] if isinstance(err, ClientError) else "")


@pytest.mark.parametrize("group, prefix", [
    ("iris", "iris"), ("Iris_Models.v2", "Iris-Models-v2"), ("__x", "x"), ("___", "model"),
    ("a" * 40, "a" * 30), ("-" * 29 + "_b", "model"), ("-" * 29 + "b", "b"),
])
def test_name_prefix(common, group, prefix):
    assert common.name_prefix(group) == prefix


@pytest.mark.parametrize("group", ["iris", "Iris_Models.v2", "___", "A" * 40, "x" * 29 + "_Y" * 3])
def test_the_deploy_construct_grants_on_the_prefix_the_handler_names_with(common, group):
    """DeployOnApproval's role may manage ``<prefix>-*``: the names the handler creates start with it."""
    name = load_handler("deploy_on_approval").resource_name(group, 3, "arn:pkg/1", "ep")
    assert deploy._name_prefix(group) == common.name_prefix(group).lower()
    assert name.lower().startswith(deploy._name_prefix(group) + "-")


def test_the_constructs_tag_with_the_handlers_keys(common):
    assert (roles.PLATFORM_RESOURCE_TAG_KEY, roles.PLATFORM_RESOURCE_TAG_VALUE) == (
        common.PLATFORM_TAG_KEY, common.PLATFORM_TAG_VALUE)


@pytest.mark.parametrize("name", USERS)
def test_handlers_use_the_shared_module(name):
    module = load_handler(name)
    assert module.common is sys.modules["common"]
    if name != "invoke_endpoint":  # which has its own retries and timeouts (from its environment)
        assert module._client is module.common.client


def test_the_shared_module_ships_in_every_function_asset(tmp_path):
    """The code asset is the handlers directory: common.py lands next to each handler."""
    assert functions.HANDLERS_DIR == HANDLERS
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "S")
    lambda_.Function(stack, "F", runtime=lambda_.Runtime.PYTHON_3_14, handler="deploy_on_approval.handler",
                     code=functions.handler_code())
    assembly = app.synth()
    dirs = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("asset.")]
    assert dirs and all((d / "common.py").is_file() and (d / "deploy_on_approval.py").is_file() for d in dirs)
    assert not any(p.name == "__pycache__" for d in dirs for p in d.rglob("*"))
    assert assembly.stacks
