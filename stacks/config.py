"""Typed configuration for the reference app, read from cdk.json context.

Only app.py reads the environment; stacks and constructs get plain typed values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from aws_cdk import aws_logs as logs

from sagemaker_constructs import ValidationError

CONTEXT_KEY = "sagemaker-constructs:platform"

#: CloudWatch Logs' allowed retention periods, in days (INFINITE is deliberately not offered).
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS, 120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS, 1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS, 2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}


@dataclass(frozen=True)
class PlatformConfig:
    """Settings of the reference ``PlatformStack``; every field has a secure default."""

    stack_name: str = "SageMakerPlatform"
    key_alias: str = "alias/sagemaker-platform"
    vpc_cidr: str = "10.0.0.0/16"
    max_azs: int = 2
    #: ``"auto"``: only the interface endpoints the reference features use (IsolatedNetwork).
    endpoints: str | tuple[str, ...] = "auto"
    log_retention_days: int = 365
    studio_users: tuple[str, ...] = ("data-scientist", "ml-engineer")
    studio_idle_timeout_minutes: int = 60
    studio_keep_home_efs: bool = True
    inference_stack_name: str = "SageMakerInference"
    inference_instance_type: str = "ml.m5.large"
    #: Canary deployments (with automatic rollback) for the real-time endpoint.
    inference_canary: bool = True
    #: A security group of its own for the real-time model instead of the one Model creates.
    inference_dedicated_model_security_group: bool = False
    #: Instance type of a shadow variant of the real-time endpoint (the same model, 20 % of the
    #: requests replicated to it; a Graviton type serves it on the arm64 image), e.g. ``"ml.t2.medium"``
    #: or ``"ml.c7g.large"``. Empty: no shadow (its always-on instance would take the reference
    #: stacks over their fixed monthly budget; the delivery pipeline's dev stage runs the shadow test).
    inference_shadow_instance_type: str = ""
    mlops_stack_name: str = "SageMakerMlops"

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> "PlatformConfig":
        """Build from the ``sagemaker-constructs:platform`` context object; unknown or mistyped
        keys raise :class:`ValidationError` naming the key."""
        where = f"cdk.json context {CONTEXT_KEY!r}"
        if context is None:
            return cls()
        if not isinstance(context, Mapping):
            raise ValidationError(where, "context", context, "a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(context) - set(known))
        if unknown:
            raise ValidationError(where, "key", unknown[0], f"allowed keys: {', '.join(known)}")
        values: dict[str, Any] = {}
        for name, value in context.items():
            default = getattr(cls, name)
            if name == "endpoints":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    value = tuple(value)
                elif not isinstance(value, str):
                    raise ValidationError(where, name, value, "a preset name or a list of service names")
            elif isinstance(default, tuple):
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise ValidationError(where, name, value, "a list of strings")
                value = tuple(value)
            elif type(value) is not type(default):  # noqa: E721 - bool is not an int here
                raise ValidationError(where, name, value, f"a {type(default).__name__}")
            values[name] = value
        config = cls(**values)
        if config.log_retention_days not in _RETENTION:
            raise ValidationError(
                where, "log_retention_days", config.log_retention_days,
                f"one of CloudWatch Logs' retention periods: {', '.join(map(str, sorted(_RETENTION)))}",
            )
        return config

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]
