"""On-demand list prices the cost estimate uses: dated, per region, each naming its public source.

Every figure is an AWS on-demand list price in USD (no Savings Plan, Reserved capacity, free tier
or private discount). Each :class:`Price` names the AWS pricing page it belongs to (``source``)
and, in ``evidence``, where the figure was read and when. AWS renders its pricing pages from the
AWS Price List API (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/price-changes.html),
so a figure quoted from a Price List extract or from an AWS invoice line is the page's figure.

**A price that could not be confirmed from a public source is left out**, not guessed: the
estimator then lists the item under ``CostReport.unknown``. In particular no Graviton
(``ml.c6g``/``ml.c7g``/``ml.m6g``/``ml.m7g``/``ml.r7g``) hosting rate and no SageMaker serverless
provisioned-concurrency rate could be confirmed when this table was compiled, nor the managed
MLflow tracking server's per-hour rate by size (``Small``/``Medium``/``Large``; looked for again on
2026-12-02: neither the SageMaker pricing page's MLflow section nor a Price List extract of it was
available, only third-party quotes, which this table does not take). Add them here (with their
source) when you have them from https://aws.amazon.com/sagemaker/pricing/: Graviton types under
:data:`SAGEMAKER_HOSTING`, tracking servers under :data:`SAGEMAKER_MLFLOW` by size; the estimator
prices them from then on.

To update: change the figure, its ``evidence`` and :data:`PRICE_DATE`; the tests in
``tests/unit/test_cost.py`` compute their expected totals from this table, so they follow.
"""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass
from decimal import Decimal

#: The day this table was compiled (ISO 8601). Each price's ``evidence`` dates its own source.
PRICE_DATE = "2026-12-01"

#: Hours in the month the estimate prices (AWS's own calculator uses 730).
HOURS_PER_MONTH = Decimal(730)

SAGEMAKER_PRICING = "https://aws.amazon.com/sagemaker/pricing/"
PRIVATELINK_PRICING = "https://aws.amazon.com/privatelink/pricing/"
VPC_PRICING = "https://aws.amazon.com/vpc/pricing/"
KMS_PRICING = "https://aws.amazon.com/kms/pricing/"
CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
SECRETS_MANAGER_PRICING = "https://aws.amazon.com/secrets-manager/pricing/"
CLOUDTRAIL_PRICING = "https://aws.amazon.com/cloudtrail/pricing/"


@dataclass(frozen=True)
class Price:
    """One unit price: ``usd`` per ``unit``, from ``source`` (an AWS pricing page)."""

    usd: Decimal
    unit: str
    source: str
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"usd": str(self.usd), "unit": self.unit, "source": self.source, "evidence": self.evidence}


def _p(usd: str, unit: str, source: str, evidence: str = "") -> Price:
    return Price(Decimal(usd), unit, source, evidence)


_HOSTING = "instance-hour"
_PRICE_LIST_US = "AWS Price List API extract, usage type {usage}, read 2026-07-30"
_INVOICE_EU = "AWS invoice line 'per Hosting {type} hour in EU (Ireland)', December 2023"

#: Price keys (the second level of :data:`PRICES`).
SAGEMAKER_HOSTING = "sagemaker.hosting"  # {instance type: Price per instance-hour}, real-time/async
SAGEMAKER_MLFLOW = "sagemaker.mlflow_tracking_server"  # {size: Price per server-hour}; none confirmed yet
INTERFACE_ENDPOINT_AZ_HOUR = "vpc.interface_endpoint_az_hour"
NAT_GATEWAY_HOUR = "vpc.nat_gateway_hour"
KMS_KEY_MONTH = "kms.key_month"
ALARM_STANDARD_METRIC_MONTH = "cloudwatch.alarm_standard_metric_month"
ALARM_HIGH_RESOLUTION_METRIC_MONTH = "cloudwatch.alarm_high_resolution_metric_month"
COMPOSITE_ALARM_MONTH = "cloudwatch.composite_alarm_month"
SECRET_MONTH = "secretsmanager.secret_month"

PRICES: dict[str, dict[str, Any]] = {
    "us-east-1": {
        SAGEMAKER_HOSTING: {
            "ml.t2.medium": _p("0.056", _HOSTING, SAGEMAKER_PRICING,
                               "Real-Time Inference, US East (N. Virginia); same figure in several public "
                               "cost scripts that quote the page"),
            "ml.m5.large": _p("0.115", _HOSTING, SAGEMAKER_PRICING,
                              _PRICE_LIST_US.format(usage="USE1-Host:ml.m5.large")),
            "ml.m5.xlarge": _p("0.23", _HOSTING, SAGEMAKER_PRICING,
                               "Real-Time Inference, US East (N. Virginia); AWS Price List (processing and "
                               "hosting share the m5 rate)"),
            "ml.m5.2xlarge": _p("0.46", _HOSTING, SAGEMAKER_PRICING, "Real-Time Inference, US East (N. Virginia)"),
            "ml.c5.xlarge": _p("0.204", _HOSTING, SAGEMAKER_PRICING, "Real-Time Inference, US East (N. Virginia)"),
            "ml.g4dn.xlarge": _p("0.736", _HOSTING, SAGEMAKER_PRICING, "Real-Time Inference, US East (N. Virginia)"),
            "ml.g5.xlarge": _p("1.408", _HOSTING, SAGEMAKER_PRICING, "Real-Time Inference, US East (N. Virginia)"),
        },
        INTERFACE_ENDPOINT_AZ_HOUR: _p("0.01", "endpoint-AZ-hour", PRIVATELINK_PRICING,
                                       "'Pricing per VPC endpoint per AZ ($/hour)'; Price List usage type "
                                       "USE1-VpcEndpoint-Hours 0.010000, publication 2026-09-17"),
        NAT_GATEWAY_HOUR: _p("0.045", "gateway-hour", VPC_PRICING,
                             "Price List (AmazonEC2 NatGateway-Hours), effective 2025-10-01"),
        KMS_KEY_MONTH: _p("1", "key-month", KMS_PRICING,
                          "'Each AWS KMS key that you create in AWS KMS costs $1/month (prorated hourly)'"),
        ALARM_STANDARD_METRIC_MONTH: _p("0.10", "alarm-metric-month", CLOUDWATCH_PRICING,
                                        "Price List usage type CW:AlarmMonitorUsage, read 2026-07-30"),
        ALARM_HIGH_RESOLUTION_METRIC_MONTH: _p("0.30", "alarm-metric-month", CLOUDWATCH_PRICING,
                                               "Alarms, high resolution"),
        COMPOSITE_ALARM_MONTH: _p("0.50", "alarm-month", CLOUDWATCH_PRICING, "Alarms, composite"),
        SECRET_MONTH: _p("0.40", "secret-month", SECRETS_MANAGER_PRICING, "'$0.40 per secret per month'"),
    },
    "eu-west-1": {
        SAGEMAKER_HOSTING: {
            "ml.m5.large": _p("0.128", _HOSTING, SAGEMAKER_PRICING,
                              "AWS invoice line '$0.128 per Studio-Notebook ml.m5.large hour in EU (Ireland)', "
                              "December 2023; the m5 rate is the same for hosting, training and processing "
                              "(ml.m5.xlarge: $0.257 on all four lines of the same invoice)"),
            "ml.m5.xlarge": _p("0.257", _HOSTING, SAGEMAKER_PRICING, _INVOICE_EU.format(type="ml.m5.xlarge")),
            "ml.g4dn.xlarge": _p("0.821", _HOSTING, SAGEMAKER_PRICING,
                                 "AWS invoice line '$0.821 for Endpoint ml.g4dn.xlarge', EU (Ireland), "
                                 "December 2023"),
        },
        INTERFACE_ENDPOINT_AZ_HOUR: _p("0.011", "endpoint-AZ-hour", PRIVATELINK_PRICING,
                                       "'Pricing per VPC endpoint per AZ ($/hour)', EU (Ireland)"),
        NAT_GATEWAY_HOUR: _p("0.048", "gateway-hour", VPC_PRICING, "NAT Gateway, EU (Ireland)"),
        KMS_KEY_MONTH: _p("1", "key-month", KMS_PRICING,
                          "'Each AWS KMS key that you create in AWS KMS costs $1/month (prorated hourly)'"),
        ALARM_STANDARD_METRIC_MONTH: _p("0.10", "alarm-metric-month", CLOUDWATCH_PRICING,
                                        "Alarms, standard resolution, EU (Ireland)"),
        ALARM_HIGH_RESOLUTION_METRIC_MONTH: _p("0.30", "alarm-metric-month", CLOUDWATCH_PRICING,
                                               "Alarms, high resolution, EU (Ireland)"),
        COMPOSITE_ALARM_MONTH: _p("0.50", "alarm-month", CLOUDWATCH_PRICING, "Alarms, composite, EU (Ireland)"),
        SECRET_MONTH: _p("0.40", "secret-month", SECRETS_MANAGER_PRICING, "'$0.40 per secret per month'"),
    },
}


def regions() -> list[str]:
    """The regions this table has prices for."""
    return sorted(PRICES)


def hosting_price(region: str, instance_type: str) -> Price | None:
    """The real-time/async hosting price of ``instance_type`` in ``region``, or ``None`` if unknown."""
    return PRICES.get(region, {}).get(SAGEMAKER_HOSTING, {}).get(instance_type)


def mlflow_price(region: str, size: str) -> Price | None:
    """The per-hour price of a managed MLflow tracking server of ``size`` in ``region``, or ``None`` if unknown."""
    return PRICES.get(region, {}).get(SAGEMAKER_MLFLOW, {}).get(size)


def price(region: str, key: str) -> Price | None:
    """The price ``key`` (one of the module's key constants) in ``region``, or ``None`` if unknown."""
    value = PRICES.get(region, {}).get(key)
    return value if isinstance(value, Price) else None
