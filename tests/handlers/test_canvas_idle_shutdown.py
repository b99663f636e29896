"""canvas_idle_shutdown handler: delete only the Canvas apps idle for the whole latest period, since they started."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.handlers.conftest import load_handler

idle = load_handler("canvas_idle_shutdown")

DOMAIN = "d-abc123def456"
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
STARTED = NOW - datetime.timedelta(hours=5)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("DOMAIN_ID", DOMAIN)
    monkeypatch.setenv("IDLE_TIMEOUT_SECONDS", "7200")
    clients = {n: boto3.client(n, region_name="us-east-1") for n in ("sagemaker", "cloudwatch")}
    stubs = {n: Stubber(c) for n, c in clients.items()}
    monkeypatch.setattr(idle, "_client", lambda name: clients[name])
    monkeypatch.setattr(idle, "_now", lambda: NOW)
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def app(user, status="InService", app_type="Canvas", created=STARTED, **more):
    return {"DomainId": DOMAIN, "UserProfileName": user, "AppType": app_type, "AppName": "default",
            "Status": status, "CreationTime": created, **more}


def list_apps(aws, apps):
    aws["sagemaker"].add_response("list_apps", {"Apps": apps}, {"DomainIdEquals": DOMAIN})


def metrics(aws, users, points):
    """``points``: {user: [(minutes ago, value), ...]} for the users queried in this order."""
    expected = {"MetricDataQueries": [{
        "Id": f"u{i}", "ReturnData": True,
        "MetricStat": {"Metric": {"Namespace": "/aws/sagemaker/Canvas/AppActivity", "MetricName": "TimeSinceLastActive",
                                  "Dimensions": [{"Name": "DomainId", "Value": DOMAIN},
                                                 {"Name": "UserProfileName", "Value": user}]},
                       "Period": 300, "Stat": "Minimum"}} for i, user in enumerate(users)],
        "StartTime": NOW - datetime.timedelta(minutes=30), "EndTime": NOW, "ScanBy": "TimestampDescending"}
    results = [{"Id": f"u{i}", "Label": user, "StatusCode": "Complete",
                "Timestamps": [NOW - datetime.timedelta(minutes=m) for m, _ in points.get(user, [])],
                "Values": [v for _, v in points.get(user, [])]} for i, user in enumerate(users)]
    aws["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": results}, expected)


def delete(aws, user):
    aws["sagemaker"].add_response("delete_app", {}, {"DomainId": DOMAIN, "UserProfileName": user, "AppType": "Canvas",
                                                     "AppName": "default"})


def test_deletes_only_idle_users_app(aws):
    list_apps(aws, [app("alice"), app("bob"), app("carol", status="Deleted"), app("dave", app_type="JupyterLab")])
    # alice idle 2 h 10 min over the whole latest period; bob came back (latest minimum 60 s).
    metrics(aws, ["alice", "bob"], {"alice": [(5, 7800.0), (10, 7500.0)], "bob": [(5, 60.0), (10, 9000.0)]})
    delete(aws, "alice")
    assert idle.handler({}, None) == {"Deleted": ["alice"], "Kept": ["bob"]}


def test_no_running_apps_reads_no_metrics(aws):
    list_apps(aws, [app("carol", status="Deleting")])
    assert idle.handler({}, None) == {"Deleted": [], "Kept": []}


def test_app_without_datapoint_since_it_started_is_kept(aws):
    # erin's app restarted 3 minutes ago: the 10-minute-old datapoint belongs to the app it replaced.
    list_apps(aws, [app("erin", created=NOW - datetime.timedelta(minutes=3)), app("frank")])
    metrics(aws, ["erin", "frank"], {"erin": [(10, 99999.0)]})
    assert idle.handler({}, None) == {"Deleted": [], "Kept": ["erin", "frank"]}


def test_threshold_is_inclusive(aws):
    list_apps(aws, [app("alice")])
    metrics(aws, ["alice"], {"alice": [(5, 7200.0)]})
    delete(aws, "alice")
    assert idle.handler({}, None)["Deleted"] == ["alice"]


def test_app_already_going_counts_as_deleted(aws):
    list_apps(aws, [app("alice"), app("bob")])
    metrics(aws, ["alice", "bob"], {"alice": [(5, 8000.0)], "bob": [(5, 8000.0)]})
    aws["sagemaker"].add_client_error("delete_app", "ResourceNotFound", "App does not exist")
    aws["sagemaker"].add_client_error("delete_app", "ValidationException", "App is in Deleting status")
    assert idle.handler({}, None) == {"Deleted": ["alice", "bob"], "Kept": []}


def test_other_errors_fail_the_run_after_every_app(aws):
    list_apps(aws, [app("alice"), app("bob")])
    metrics(aws, ["alice", "bob"], {"alice": [(5, 8000.0)], "bob": [(5, 8000.0)]})
    aws["sagemaker"].add_client_error("delete_app", "AccessDeniedException", "no")
    delete(aws, "bob")  # bob is still shut down before the run fails (and is retried)
    with pytest.raises(idle.IdleShutdownError, match="alice"):
        idle.handler({}, None)


def test_metric_pages_and_chunks_of_500(aws, monkeypatch):
    monkeypatch.setattr(idle, "MAX_QUERIES", 1)
    users = ["alice", "bob"]
    list_apps(aws, [app(u) for u in users])
    page = {"MetricDataResults": [{"Id": "u0", "Timestamps": [NOW - datetime.timedelta(minutes=10)], "Values": [8000.0]}],
            "NextToken": "t"}
    aws["cloudwatch"].add_response("get_metric_data", page, {"MetricDataQueries": ANY, "StartTime": ANY,
                                                             "EndTime": ANY, "ScanBy": ANY})
    aws["cloudwatch"].add_response(
        "get_metric_data", {"MetricDataResults": [{"Id": "u0", "Timestamps": [NOW - datetime.timedelta(minutes=5)],
                                                   "Values": [30.0]}]},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "t"})
    metrics(aws, ["bob"], {"bob": [(5, 8000.0)]})
    delete(aws, "bob")
    # alice's latest datapoint (second page, 5 minutes ago) decides: she is active.
    assert idle.handler({}, None) == {"Deleted": ["bob"], "Kept": ["alice"]}


def test_missing_configuration_fails(aws, monkeypatch):
    monkeypatch.delenv("DOMAIN_ID")
    with pytest.raises(idle.IdleShutdownError, match="DOMAIN_ID"):
        idle.handler({}, None)
