"""Lambda handler behind a Studio domain's Canvas idle shutdown (``CanvasSettings(idle_timeout=...)``):
deletes the Canvas app of every user profile of the domain whose Canvas has been idle for at least
``IDLE_TIMEOUT_SECONDS``.

SageMaker Canvas publishes ``TimeSinceLastActive`` (seconds since the user's last activity) to
CloudWatch, namespace ``/aws/sagemaker/Canvas/AppActivity``, dimensions ``DomainId`` and
``UserProfileName``; deleting the user's Canvas app stops the workspace instance's billing and keeps
the user's models and datasets
(https://docs.aws.amazon.com/sagemaker/latest/dg/canvas-log-out.html,
https://aws.amazon.com/blogs/machine-learning/optimizing-costs-for-amazon-sagemaker-canvas-with-automatic-shutdown-of-idle-apps/).

An EventBridge schedule invokes the function (asynchronously: failures are retried, then
dead-lettered). Each run:

* lists the domain's ``InService`` Canvas apps (``ListApps``);
* reads each of their users' ``TimeSinceLastActive`` in one ``GetMetricData`` call per 500 users: the
  **Minimum** of the latest 5-minute period, and only a datapoint from after the app was created (a
  freshly started app is never judged by the metric of the app it replaces);
* deletes (``DeleteApp``) the apps whose user was idle for the whole latest period and at least the
  threshold; an app without such a datapoint is kept (one log line says why);
* logs one JSON line per app (``deleted``/``kept``, with the reason) and answers
  ``{"Deleted": [...], "Kept": [...]}``.

An app that is already going (``ResourceNotFound``, or ``ResourceInUse``/``ValidationException``
because it is no longer ``InService``) counts as deleted; any other error is raised after every app
was considered, so Lambda retries the run (deleting again is harmless). Configuration from the
environment: ``DOMAIN_ID`` and ``IDLE_TIMEOUT_SECONDS``. Packaged alone as Lambda code: boto3 and the
standard library only.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]

NAMESPACE = "/aws/sagemaker/Canvas/AppActivity"
METRIC = "TimeSinceLastActive"
#: The period whose Minimum decides (seconds), and how far back a datapoint is looked for.
PERIOD_SECONDS = 300
LOOKBACK = datetime.timedelta(minutes=30)
#: GetMetricData's limit of queries per request.
MAX_QUERIES = 500
#: Errors of DeleteApp that mean the app is already going (or gone); a ValidationException only when
#: its message is about the app's state.
GOING = frozenset({"ResourceNotFound", "ResourceNotFoundException", "ResourceInUse"})

#: One boto3 client per service, created on first use (tests replace this function).
_client = common.client


class IdleShutdownError(RuntimeError):
    """Some idle apps could not be deleted; the run is retried."""


def _now() -> datetime.datetime:  # tests replace this
    return datetime.datetime.now(datetime.timezone.utc)


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise IdleShutdownError(f"environment variable {name} is required")
    return value


def running_canvas_apps(domain_id: str) -> list[dict[str, Any]]:
    """The domain's ``InService`` Canvas apps of user profiles (ListApps, every page)."""
    apps: list[dict[str, Any]] = []
    for page in _client("sagemaker").get_paginator("list_apps").paginate(DomainIdEquals=domain_id):
        apps += [a for a in page.get("Apps", []) if a.get("AppType") == "Canvas" and a.get("Status") == "InService"
                 and a.get("UserProfileName")]
    return apps


def _aware(value: Any) -> datetime.datetime | None:
    if not isinstance(value, datetime.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)


def idle_seconds(domain_id: str, users: list[str]) -> dict[str, list[tuple[datetime.datetime, float]]]:
    """Each user's ``TimeSinceLastActive`` datapoints (timestamp, Minimum per period) of the last
    30 minutes."""
    end = _now()
    found: dict[str, list[tuple[datetime.datetime, float]]] = {user: [] for user in users}
    for start in range(0, len(users), MAX_QUERIES):
        chunk = users[start:start + MAX_QUERIES]
        queries = [{
            "Id": f"u{i}", "ReturnData": True,
            "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": METRIC, "Dimensions": [
                {"Name": "DomainId", "Value": domain_id}, {"Name": "UserProfileName", "Value": user}]},
                "Period": PERIOD_SECONDS, "Stat": "Minimum"},
        } for i, user in enumerate(chunk)]
        request: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": end - LOOKBACK, "EndTime": end,
                                   "ScanBy": "TimestampDescending"}
        while True:
            response = _client("cloudwatch").get_metric_data(**request)
            for result in response.get("MetricDataResults", []):
                user = chunk[int(result["Id"][1:])]
                for timestamp, value in zip(result.get("Timestamps", []), result.get("Values", [])):
                    stamp = _aware(timestamp)
                    if stamp is not None:
                        found[user].append((stamp, float(value)))
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    return found


def already_going(err: BaseException) -> bool:
    """Whether DeleteApp failed because the app is no longer ``InService`` (deleting, deleted, gone)."""
    code = common.error_code(err)
    if code in GOING:
        return True
    message = str(getattr(err, "response", {}).get("Error", {}).get("Message", "")).lower()
    return code == "ValidationException" and any(word in message for word in ("delet", "status", "state"))


def decide(app: dict[str, Any], datapoints: list[tuple[datetime.datetime, float]],
           threshold: float) -> tuple[bool, str]:
    """Whether to delete ``app``, and why: its user's latest datapoint after the app was created is
    at least ``threshold``."""
    created = _aware(app.get("CreationTime"))
    recent = [(t, v) for t, v in datapoints if created is None or t >= created]
    if not recent:
        return False, f"no {METRIC} datapoint since the app started"
    _, latest = max(recent, key=lambda point: point[0])
    if latest < threshold:
        return False, f"idle {int(latest)} s, below {int(threshold)} s"
    return True, f"idle at least {int(latest)} s (threshold {int(threshold)} s)"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One scheduled run (see the module docstring)."""
    domain_id = _env("DOMAIN_ID")
    threshold = float(_env("IDLE_TIMEOUT_SECONDS"))
    apps = running_canvas_apps(domain_id)
    points = idle_seconds(domain_id, sorted({a["UserProfileName"] for a in apps})) if apps else {}
    deleted: list[str] = []
    kept: list[str] = []
    failed: list[str] = []
    for app in apps:
        user, name = app["UserProfileName"], app["AppName"]
        delete, reason = decide(app, points.get(user, []), threshold)
        if not delete:
            kept.append(user)
            common.log("kept", domain_id=domain_id, user_profile=user, app_name=name, reason=reason)
            continue
        try:
            _client("sagemaker").delete_app(DomainId=domain_id, UserProfileName=user, AppType="Canvas", AppName=name)
        except Exception as err:  # noqa: BLE001 - the other apps are still considered; the run fails at the end
            if already_going(err):
                reason = f"already going ({common.error_code(err)})"
            else:
                failed.append(user)
                common.log("failed", domain_id=domain_id, user_profile=user, app_name=name,
                           error=type(err).__name__, detail=str(err))
                continue
        deleted.append(user)
        common.log("deleted", domain_id=domain_id, user_profile=user, app_name=name, reason=reason)
    if failed:
        raise IdleShutdownError(f"could not delete the idle Canvas apps of {', '.join(failed)} in {domain_id}")
    return {"Deleted": deleted, "Kept": kept}
