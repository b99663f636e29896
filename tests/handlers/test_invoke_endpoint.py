"""invoke_endpoint handler: every SageMaker Runtime request and response is checked by a botocore Stubber
against the real service model."""

from __future__ import annotations

import base64
import io
import json

import boto3
import pytest

from tests.handlers.conftest import load_handler
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

ENDPOINT = "churn-endpoint"
ie = load_handler("invoke_endpoint")


@pytest.fixture(autouse=True)
def function_env(monkeypatch):
    """The function's configuration (credentials come from conftest's fake_aws_env)."""
    for name, value in {"ENDPOINT_NAME": ENDPOINT, "CONTENT_TYPE": "application/json",
                        "ACCEPT": "application/json"}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def runtime(monkeypatch):
    """A real sagemaker-runtime client with a Stubber, installed as the handler's client."""
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    monkeypatch.setattr(ie, "_client", lambda name="sagemaker-runtime": client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _answer(stub, expected: dict, payload: bytes, content_type: str = "application/json", **extra) -> None:
    stub.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": content_type, **extra},
        {"EndpointName": ENDPOINT, "ContentType": "application/json", "Accept": "application/json", **expected},
    )


def _log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def _api_gateway_event(body: str, *, headers: dict | None = None, base64_encoded: bool = False) -> dict:
    return {
        "resource": "/predict", "path": "/predict", "httpMethod": "POST",
        "headers": headers or {}, "requestContext": {"requestId": "r-1", "stage": "prod"},
        "body": body, "isBase64Encoded": base64_encoded,
    }


# --- direct invocations ---------------------------------------------------------------------------
def test_json_body_is_sent_as_json_and_the_json_answer_parsed(runtime):
    _answer(runtime, {"Body": b'{"instances":[[1,2,3]]}'}, b'{"predictions": [0.91]}',
            InvokedProductionVariant="AllTraffic")
    result = ie.handler({"body": {"instances": [[1, 2, 3]]}}, None)
    assert result == {"statusCode": 200, "body": {"predictions": [0.91]}, "contentType": "application/json",
                      "invokedProductionVariant": "AllTraffic"}


def test_string_body_is_sent_as_is_with_the_callers_content_type(runtime):
    _answer(runtime, {"Body": b"1,2,3", "ContentType": "text/csv", "Accept": "text/csv"}, b"0.91\n", "text/csv")
    result = ie.handler({"body": "1,2,3", "content_type": "text/csv", "accept": "text/csv"}, None)
    assert result == {"statusCode": 200, "body": "0.91\n", "contentType": "text/csv"}


def test_target_model_and_inference_id_are_passed(runtime):
    _answer(runtime, {"Body": b"[1]", "TargetModel": "model-a.tar.gz", "InferenceId": "req-42",
                      "TargetVariant": "blue", "CustomAttributes": "trace=1"}, b"[0]")
    result = ie.handler({"body": [1], "target_model": "model-a.tar.gz", "inference_id": "req-42",
                         "target_variant": "blue", "custom_attributes": "trace=1"}, None)
    assert result["statusCode"] == 200 and result["body"] == [0]


def test_defaults_come_from_the_environment_at_call_time(runtime, monkeypatch):
    monkeypatch.setenv("CONTENT_TYPE", "text/csv")
    monkeypatch.setenv("ACCEPT", "text/csv")
    _answer(runtime, {"Body": b"1,2", "ContentType": "text/csv", "Accept": "text/csv"}, b"1", "text/csv")
    assert ie.handler({"body": "1,2"}, None)["body"] == "1"
    monkeypatch.setenv("ENDPOINT_NAME", "other-endpoint")
    monkeypatch.setenv("CONTENT_TYPE", "application/json")
    monkeypatch.setenv("ACCEPT", "application/json")
    runtime.add_response(
        "invoke_endpoint", {"Body": StreamingBody(io.BytesIO(b"{}"), 2), "ContentType": "application/json"},
        {"EndpointName": "other-endpoint", "Body": b"{}", "ContentType": "application/json",
         "Accept": "application/json"},
    )
    assert ie.handler({"body": {}}, None)["body"] == {}


def test_binary_answer_is_base64(runtime):
    _answer(runtime, {"Body": b"{}"}, b"\xff\x00\xfe", "application/octet-stream")
    result = ie.handler({"body": {}}, None)
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"\xff\x00\xfe"


# --- API Gateway proxy events ----------------------------------------------------------------------
def test_api_gateway_string_body_and_headers(runtime):
    _answer(runtime, {"Body": b'{"x": 1}', "ContentType": "application/json", "Accept": "application/json",
                      "TargetModel": "m1.tar.gz"}, b'{"y": 2}', InvokedProductionVariant="AllTraffic")
    event = _api_gateway_event('{"x": 1}', headers={"Content-Type": "application/json",
                                                    "X-Amzn-SageMaker-Target-Model": "m1.tar.gz"})
    result = ie.handler(event, None)
    assert result == {
        "statusCode": 200, "isBase64Encoded": False, "body": '{"y": 2}',
        "headers": {"Content-Type": "application/json", "X-Amzn-Invoked-Production-Variant": "AllTraffic"},
    }


def test_api_gateway_base64_body(runtime):
    _answer(runtime, {"Body": b"1,2,3", "ContentType": "text/csv"}, b"0.5", "text/csv")
    event = _api_gateway_event(base64.b64encode(b"1,2,3").decode(), headers={"content-type": "text/csv"},
                               base64_encoded=True)
    result = ie.handler(event, None)
    assert result["statusCode"] == 200 and result["body"] == "0.5"
    assert result["headers"]["Content-Type"] == "text/csv"


def test_api_gateway_errors_are_proxy_responses(runtime):
    runtime.add_client_error("invoke_endpoint", service_error_code="ValidationError",
                             service_message="Endpoint churn-endpoint is not in service", http_status_code=400)
    result = ie.handler(_api_gateway_event("{}"), None)
    assert result["statusCode"] == 400
    assert isinstance(result["body"], str)
    assert json.loads(result["body"])["error"] == "ValidationError"


# --- errors ---------------------------------------------------------------------------------------
def test_model_error_is_a_424_result_with_a_structured_log_line(runtime, capsys):
    log_stream = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn-endpoint"
    runtime.add_client_error(
        "invoke_endpoint", service_error_code="ModelError", http_status_code=424,
        service_message="Received client error (400) from primary with message \"bad shape\"",
        modeled_fields={"OriginalStatusCode": 400, "OriginalMessage": "bad shape", "LogStreamArn": log_stream},
        expected_params={"EndpointName": ENDPOINT, "Body": b"[1]", "ContentType": "application/json",
                         "Accept": "application/json"},
    )
    result = ie.handler({"body": [1]}, None)
    assert result["statusCode"] == 424
    assert result["body"]["error"] == "ModelError"
    assert "bad shape" in result["body"]["message"]
    assert result["body"]["originalStatusCode"] == 400
    (line,) = _log_lines(capsys)
    assert line["level"] == "WARNING" and line["error"] == "ModelError" and line["endpoint"] == ENDPOINT
    assert line["original_status_code"] == 400
    assert "[1]" not in json.dumps(line)  # request bodies are never logged


def test_validation_error_is_a_400_result(runtime):
    runtime.add_client_error("invoke_endpoint", service_error_code="ValidationError",
                             service_message="Inference id too long", http_status_code=400)
    result = ie.handler({"body": {}, "inference_id": "x" * 65}, None)
    assert result == {"statusCode": 400, "contentType": "application/json",
                      "body": {"error": "ValidationError", "message": "Inference id too long"}}


@pytest.mark.parametrize("code, status", [("ThrottlingException", 400), ("ModelNotReadyException", 429)])
def test_errors_before_the_model_raise_so_lambda_retries(runtime, capsys, code, status):
    runtime.add_client_error("invoke_endpoint", service_error_code=code, service_message="slow down",
                             http_status_code=status)
    with pytest.raises(ClientError) as raised:
        ie.handler({"body": {}}, None)
    assert raised.value.response["Error"]["Code"] == code
    (line,) = _log_lines(capsys)
    assert line["level"] == "ERROR" and line["error"] == code


@pytest.mark.parametrize("code, status", [("ServiceUnavailable", 503), ("InternalFailure", 500)])
def test_5xx_answers_are_not_raised_so_lambda_does_not_send_again(runtime, capsys, code, status):
    runtime.add_client_error("invoke_endpoint", service_error_code=code, service_message="broken",
                             http_status_code=status)
    result = ie.handler({"body": {}}, None)
    assert result["statusCode"] == 502 and result["body"]["error"] == "EndpointFailure"
    assert code in result["body"]["message"]
    (line,) = _log_lines(capsys)
    assert line["level"] == "ERROR" and line["error"] == code and line["status"] == status


@pytest.mark.parametrize("event", [{}, {"body": None}, ["not", "an", "object"], {"body": {"x": {1, 2}}},
                                   {"body": {}, "target_model": ""}, {"body": {}, "inference_id": 7},
                                   # botocore's ParamValidationError was raised: a Lambda error, retried twice
                                   {"body": {}, "content_type": ["text/csv"]}, {"body": {}, "accept": 1}])
def test_malformed_events_are_400_results_without_calling_sagemaker(runtime, event):
    result = ie.handler(event, None)
    assert result["statusCode"] == 400 and result["body"]["error"] == "BadRequest"


def test_api_gateway_event_with_invalid_base64_is_a_400(runtime):
    result = ie.handler(_api_gateway_event("not base64!", base64_encoded=True), None)
    assert result["statusCode"] == 400 and json.loads(result["body"])["error"] == "BadRequest"


def test_missing_endpoint_name_is_a_configuration_error(runtime, monkeypatch):
    monkeypatch.delenv("ENDPOINT_NAME")
    with pytest.raises(RuntimeError, match="ENDPOINT_NAME"):
        ie.handler({"body": {}}, None)


# --- packaging ------------------------------------------------------------------------------------
