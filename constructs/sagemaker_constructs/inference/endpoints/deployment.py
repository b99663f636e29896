"""Deployment guardrails: blue/green traffic shifting with automatic rollback on alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...errors import ValidationError, check_int_range
from ...validation.checks import (check_combination, check_range, duration_seconds, duration_to_seconds,
                                  is_unresolved)

#: SageMaker's limits for BlueGreenUpdatePolicy (UpdateEndpoint DeploymentConfig).
MAX_WAIT_SECONDS = 3600
MIN_EXECUTION_TIMEOUT_SECONDS, MAX_EXECUTION_TIMEOUT_SECONDS = 600, 28800
MAX_ROLLBACK_ALARMS = 10
CANARY_MAX_PERCENT = 50
LINEAR_MIN_PERCENT, LINEAR_MAX_PERCENT = 10, 50


@dataclass(frozen=True)
class DeploymentGuardrail:
    """How a real-time endpoint moves traffic to a new fleet when its model or config changes.

    Create with :meth:`all_at_once`, :meth:`canary` or :meth:`linear`. Every mode is blue/green:
    the old fleet stays until the new one has baked for ``wait`` without any rollback alarm
    firing; an alarm during the shift or the bake sends all traffic back. ``alarms=None`` uses
    the endpoint's own alarms (5xx errors and model latency).
    """

    mode: str
    wait: Duration
    step_percent: int | None = None
    step_instances: int | None = None
    termination_wait: Duration = Duration.minutes(5)
    max_execution_timeout: Duration | None = None
    alarms: Sequence[cloudwatch.IAlarm] | None = None

    @classmethod
    def all_at_once(cls, *, bake: Duration = Duration.minutes(10), termination_wait: Duration = Duration.minutes(5),
                    max_execution_timeout: Duration | None = None,
                    alarms: Sequence[cloudwatch.IAlarm] | None = None) -> "DeploymentGuardrail":
        """Shift all traffic at once, bake ``bake`` (default 10 minutes), then retire the old fleet."""
        return cls("ALL_AT_ONCE", bake, termination_wait=termination_wait,
                   max_execution_timeout=max_execution_timeout, alarms=alarms)

    @classmethod
    def canary(cls, *, percent: int | None = 10, instances: int | None = None, wait: Duration = Duration.minutes(10),
               termination_wait: Duration = Duration.minutes(5), max_execution_timeout: Duration | None = None,
               alarms: Sequence[cloudwatch.IAlarm] | None = None) -> "DeploymentGuardrail":
        """Send ``percent`` of capacity (1-50 %; or ``instances``) to the new fleet, wait ``wait``,
        then the rest."""
        return cls("CANARY", wait, step_percent=None if instances else percent, step_instances=instances,
                   termination_wait=termination_wait, max_execution_timeout=max_execution_timeout, alarms=alarms)

    @classmethod
    def linear(cls, *, step_percent: int | None = 20, step_instances: int | None = None,
               wait: Duration = Duration.minutes(5), termination_wait: Duration = Duration.minutes(5),
               max_execution_timeout: Duration | None = None,
               alarms: Sequence[cloudwatch.IAlarm] | None = None) -> "DeploymentGuardrail":
        """Shift ``step_percent`` (10-50 %; or ``step_instances``) of capacity every ``wait``."""
        return cls("LINEAR", wait, step_percent=None if step_instances else step_percent,
                   step_instances=step_instances, termination_wait=termination_wait,
                   max_execution_timeout=max_execution_timeout, alarms=alarms)

    def validate(self, scope: Construct, instance_count: int) -> None:
        for argument, duration in (("deployment wait", self.wait), ("deployment termination_wait", self.termination_wait),
                                   ("deployment max_execution_timeout", self.max_execution_timeout)):
            if duration is not None and duration.is_unresolved():
                # Duration.minutes(<parameter>): CDK's raw MustBeDurationSpecifiedDuration when rendered
                duration_to_seconds(scope, argument, duration)
        check_int_range(scope, "deployment wait (seconds)", duration_seconds(scope, "deployment wait", self.wait),
                        minimum=0, maximum=MAX_WAIT_SECONDS)
        check_int_range(scope, "deployment termination_wait (seconds)",
                        duration_seconds(scope, "deployment termination_wait", self.termination_wait),
                        minimum=0, maximum=MAX_WAIT_SECONDS)
        if self.max_execution_timeout is not None:
            check_int_range(scope, "deployment max_execution_timeout (seconds)",
                            duration_seconds(scope, "deployment max_execution_timeout", self.max_execution_timeout),
                            minimum=MIN_EXECUTION_TIMEOUT_SECONDS, maximum=MAX_EXECUTION_TIMEOUT_SECONDS)
        if self.alarms is not None and len(self.alarms) > MAX_ROLLBACK_ALARMS:
            raise ValidationError(scope, "deployment alarms", f"{len(self.alarms)} alarms",
                                  f"at most {MAX_ROLLBACK_ALARMS} rollback alarms")
        kind = {"CANARY": "canary", "LINEAR": "linear"}.get(self.mode)
        if kind is not None:
            check_combination(scope, f"{kind} size", None, refused=self.step_instances is None and self.step_percent is None,
                              because=f"a {kind} step: a percent of the fleet or a number of instances",
                              limit=f"botocore sagemaker TrafficRoutingConfig.{'CanarySize' if kind == 'canary' else 'LinearStepSize'}")
        known = not is_unresolved(instance_count)
        limit = ("botocore sagemaker TrafficRoutingConfig.CanarySize: at most 50% of the variant's instances"
                 if kind == "canary" else
                 "botocore sagemaker TrafficRoutingConfig.LinearStepSize: 10-50% of the variant's instances")
        if kind is not None and self.step_instances is not None and known:
            argument = "canary instances" if kind == "canary" else "linear step_instances"
            lowest = 1 if kind == "canary" else max(1, -(-instance_count // 10))
            check_combination(scope, argument, self.step_instances, refused=instance_count // 2 < lowest,
                              because=f"a step smaller than the fleet: with instance_count={instance_count} no "
                                      f"{kind} step of whole instances fits; use a larger fleet or all_at_once()",
                              limit=limit)
            check_range(scope, argument, self.step_instances, minimum=lowest, maximum=instance_count // 2,
                        unit=f"instances of {instance_count}", limit=limit)
        elif kind == "canary":
            check_int_range(scope, "canary percent", self.step_percent, minimum=1, maximum=CANARY_MAX_PERCENT)
        elif kind == "linear":
            check_int_range(scope, "linear step_percent", self.step_percent, minimum=LINEAR_MIN_PERCENT,
                            maximum=LINEAR_MAX_PERCENT)
        timeout = duration_seconds(scope, "deployment max_execution_timeout", self.max_execution_timeout)
        wait = duration_seconds(scope, "deployment wait", self.wait)
        termination = duration_seconds(scope, "deployment termination_wait", self.termination_wait)
        if timeout is not None and wait is not None and termination is not None:
            steps = 1
            if kind == "linear" and self.step_percent and not is_unresolved(self.step_percent):
                steps = max(1, -(-100 // self.step_percent) - 1)
            elif kind == "linear" and self.step_instances and known and not is_unresolved(self.step_instances):
                steps = max(1, -(-instance_count // self.step_instances) - 1)
            total = steps * wait + termination
            check_combination(
                scope, "deployment max_execution_timeout", f"{timeout:g} seconds", refused=timeout <= total,
                because=f"longer than the deployment's waits: {steps} x wait ({wait:g} s) + termination_wait "
                        f"({termination:g} s) = {total:g} s",
                limit="botocore sagemaker BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds: \"larger than the "
                      "total waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds\"")

    def api(self, alarms: Sequence[cloudwatch.IAlarm]) -> dict[str, Any]:
        """The same configuration as UpdateEndpoint's ``DeploymentConfig`` (for DeployOnApproval)."""
        routing: dict[str, Any] = {"Type": self.mode, "WaitIntervalInSeconds": int(self.wait.to_seconds())}
        size = ({"Type": "INSTANCE_COUNT", "Value": self.step_instances} if self.step_instances is not None
                else {"Type": "CAPACITY_PERCENT", "Value": self.step_percent} if self.step_percent is not None else None)
        if size and self.mode == "CANARY":
            routing["CanarySize"] = size
        if size and self.mode == "LINEAR":
            routing["LinearStepSize"] = size
        policy: dict[str, Any] = {"TrafficRoutingConfiguration": routing,
                        "TerminationWaitInSeconds": int(self.termination_wait.to_seconds())}
        if self.max_execution_timeout:
            policy["MaximumExecutionTimeoutInSeconds"] = int(self.max_execution_timeout.to_seconds())
        config: dict[str, Any] = {"BlueGreenUpdatePolicy": policy}
        if alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a.alarm_name} for a in alarms]}
        return config

    def render(self, alarms: Sequence[cloudwatch.IAlarm]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        """The CloudFormation form of :meth:`api` (one rendering: the L1 property is built from it)."""
        return deployment_config_property(self.api(alarms))


def deployment_config_property(api: Mapping[str, Any]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    """``AWS::SageMaker::Endpoint`` ``DeploymentConfig`` from UpdateEndpoint's ``DeploymentConfig``
    (the same fields under the same names: CloudFormation and the API share the shape)."""
    policy, rollback = api["BlueGreenUpdatePolicy"], api.get("AutoRollbackConfiguration")
    routing = policy["TrafficRoutingConfiguration"]

    def size(key: str) -> sagemaker.CfnEndpoint.CapacitySizeProperty | None:
        value = routing.get(key)
        return sagemaker.CfnEndpoint.CapacitySizeProperty(type=value["Type"], value=value["Value"]) if value else None

    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type=routing["Type"], wait_interval_in_seconds=routing.get("WaitIntervalInSeconds"),
                canary_size=size("CanarySize"), linear_step_size=size("LinearStepSize"),
            ),
            termination_wait_in_seconds=policy.get("TerminationWaitInSeconds"),
            maximum_execution_timeout_in_seconds=policy.get("MaximumExecutionTimeoutInSeconds"),
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a["AlarmName"]) for a in rollback["Alarms"]]
        ) if rollback else None,
    )
