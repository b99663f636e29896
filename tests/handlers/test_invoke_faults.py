"""invoke_endpoint under faults: a slow endpoint (a local HTTP server that answers too late) counts
the requests that reach it; oversized answers come back as a clear 502, not a Lambda error."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.handlers.conftest import load_handler

ENDPOINT = "churn-endpoint"
ie = load_handler("invoke_endpoint")


class SlowEndpoint(BaseHTTPRequestHandler):
    """Counts InvokeEndpoint requests and answers each after ``delay`` seconds."""

    requests = 0
    delay = 2.0

    def do_POST(self):  # noqa: N802 - the http.server API
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay)
        try:
            body = b'{"predictions": [1]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (read timeout)
            pass

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def slow_endpoint():
    SlowEndpoint.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def function_env(monkeypatch):
    for name, value in {"ENDPOINT_NAME": ENDPOINT, "CONNECT_TIMEOUT": "1", "READ_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAX_ATTEMPTS", raising=False)


def _use_endpoint(monkeypatch, url: str):
    """The handler's own client settings (from the environment), pointed at ``url``."""
    client = boto3.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=url, config=ie.client_config())
    monkeypatch.setattr(ie, "_client", lambda name="sagemaker-runtime": client)


def test_default_config_makes_one_attempt():
    config = ie.client_config()
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (1, 1)


def test_a_read_timeout_reaches_the_endpoint_once_and_is_answered_504(monkeypatch, slow_endpoint, capsys):
    _use_endpoint(monkeypatch, slow_endpoint)
    result = ie.handler({"body": {"x": 1}}, None)
    time.sleep(0.1)
    assert SlowEndpoint.requests == 1  # one call, one request: nothing resent
    assert result["statusCode"] == 504 and result["body"]["error"] == "EndpointTimeout"
    assert "may have been processed" in result["body"]["message"]
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["error"] == "ReadTimeout"


def test_retries_are_opt_in(monkeypatch, slow_endpoint):
    monkeypatch.setenv("MAX_ATTEMPTS", "2")
    _use_endpoint(monkeypatch, slow_endpoint)
    assert ie.handler({"body": {}}, None)["statusCode"] == 504
    time.sleep(0.1)
    assert SlowEndpoint.requests == 2


def test_the_former_client_settings_resent_the_request(slow_endpoint):
    """What the issue measured: botocore's retries resend a request after a read timeout."""
    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError

    client = boto3.client("sagemaker-runtime", region_name="us-east-1", endpoint_url=slow_endpoint,
                          config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1,
                                        read_timeout=1))
    with pytest.raises(ReadTimeoutError):
        client.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", ContentType="application/json")
    time.sleep(0.1)
    assert SlowEndpoint.requests > 1


@pytest.mark.parametrize("value", ["0", "many"])
def test_misconfigured_attempts_fail_loudly(monkeypatch, value):
    monkeypatch.setenv("MAX_ATTEMPTS", value)
    with pytest.raises(RuntimeError, match="MAX_ATTEMPTS"):
        ie.client_config()


# --- response size --------------------------------------------------------------------------------
@pytest.fixture
def runtime(monkeypatch):
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    monkeypatch.setattr(ie, "_client", lambda name="sagemaker-runtime": client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _answer(stub, payload: bytes, content_type: str) -> None:
    stub.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(payload), len(payload)),
                                          "ContentType": content_type})


@pytest.mark.parametrize("api_gateway", [False, True])
def test_binary_answer_over_the_lambda_limit_is_a_clear_502(runtime, capsys, api_gateway):
    payload = bytes(range(256)) * (4_800_000 // 256)  # 4.8 MB, not UTF-8: 6.4 MB of base64
    _answer(runtime, payload, "application/octet-stream")
    event = ({"requestContext": {}, "headers": {}, "body": "{}"} if api_gateway else {"body": {}})
    result = ie.handler(event, None)
    assert result["statusCode"] == 502
    body = json.loads(result["body"]) if api_gateway else result["body"]
    assert body["error"] == "ResponseTooLarge" and body["responseBytes"] > ie.MAX_RESPONSE_BYTES
    assert body["responseBytes"] > len(base64.b64encode(payload))
    assert len(json.dumps(result)) < 10_000  # the error itself is small
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["error"] == "ResponseTooLarge"


def test_answer_under_the_limit_is_returned(runtime):
    payload = json.dumps({"values": ["a" * 1000] * 4000}).encode()  # about 4 MB of JSON
    _answer(runtime, payload, "application/json")
    result = ie.handler({"body": {}}, None)
    assert result["statusCode"] == 200 and len(result["body"]["values"]) == 4000


class DroppingEndpoint(BaseHTTPRequestHandler):
    """Reads each InvokeEndpoint request whole, then closes the connection without answering (a load
    balancer or container dropping it mid-inference)."""

    requests = 0

    def do_POST(self):  # noqa: N802 - the http.server API
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(2)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def dropping_endpoint():
    DroppingEndpoint.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), DroppingEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_connection_closed_after_the_request_was_sent_is_answered_not_raised(monkeypatch, dropping_endpoint,
                                                                              capsys):
    """The request reached the endpoint, which closed the connection without an answer: botocore's
    ConnectionClosedError was raised, so Lambda invoked the function again (asynchronous invocations: twice)
    and the model ran up to three times, against the function's at-most-once contract."""
    _use_endpoint(monkeypatch, dropping_endpoint)
    result = ie.handler({"body": {"x": 1}}, None)
    time.sleep(0.1)
    assert DroppingEndpoint.requests == 1
    assert result["statusCode"] == 502 and result["body"]["error"] == "EndpointFailure"
    assert "may have been processed" in result["body"]["message"]
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["error"] == "ConnectionClosedError"
