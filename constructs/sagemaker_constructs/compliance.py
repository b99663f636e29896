"""Compliance tooling: register the cdk-nag packs on an app, and acknowledge findings in place.

Every acknowledgement in this library goes through :func:`acknowledge`, which sits next to the
resource it is about and carries a specific reason. It records the same reason for cdk-nag
(``Validations.of(construct).acknowledge``) and, for checkov, in the CloudFormation resource's
``Metadata.checkov.skip`` list, so one reviewable line explains a finding to both tools.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from aws_cdk import Acknowledgment, CfnResource, Stage, Validations
from constructs import IConstruct

#: Why a CDK-generated ``DefaultPolicy`` on a single service role is acceptable.
INLINE_SERVICE_POLICY_REASON = (
    "CDK-generated policy attached to exactly one service role and scoped to the resources it "
    "writes to; a managed policy would grant the same and is only preferable when shared."
)

#: The cdk-nag rule-pack prefixes, in the order findings are reported.
NAG_PACKS: tuple[str, ...] = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


def add_compliance_checks(app: Stage, *, packs: Sequence[str] = NAG_PACKS, verbose: bool = False) -> None:
    """Register cdk-nag rule packs as validation plugins on ``app`` (cdk-nag 3 API).

    Default: AwsSolutions, HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1. A finding that is
    not acknowledged fails ``app.synth()`` / ``cdk synth`` and is written to
    ``validation-report.json`` in the cloud assembly.
    """
    import cdk_nag  # development dependency: imported only when checks are requested

    factories = {
        "AwsSolutions": cdk_nag.AwsSolutionsChecks,
        "HIPAA.Security": cdk_nag.HIPAASecurityChecks,
        "NIST.800.53.R5": cdk_nag.NIST80053R5Checks,
        "PCI.DSS.321": cdk_nag.PCIDSS321Checks,
    }
    unknown = [p for p in packs if p not in factories]
    if unknown:
        from .errors import ValidationError

        raise ValidationError(app, "packs", unknown, f"allowed: {', '.join(factories)}")
    Validations.of(app).add_plugins(*(factories[p](app, verbose=verbose) for p in packs))


def nag_rule_id(rule: str) -> str:
    """The acknowledgement id cdk-nag 3 expects: ``"<pack>::<rule>"``.

    ``"AwsSolutions-IAM5"`` becomes ``"AwsSolutions::AwsSolutions-IAM5"``; an id that already
    has a ``::`` prefix is returned unchanged.
    """
    if "::" in rule:
        return rule
    for pack in NAG_PACKS:
        if rule.startswith(pack + "-"):
            return f"{pack}::{rule}"
    raise ValueError(f"unknown cdk-nag rule pack in {rule!r}; expected one of {NAG_PACKS}")


def _cfn_resources(construct: IConstruct) -> list[CfnResource]:
    if isinstance(construct, CfnResource):
        return [construct]
    default = construct.node.default_child
    if isinstance(default, CfnResource):
        return [default]
    return [c for c in construct.node.find_all() if isinstance(c, CfnResource)]


def acknowledge(
    construct: IConstruct,
    *,
    reason: str,
    nag: Iterable[str] = (),
    checkov: Iterable[str] = (),
) -> None:
    """Acknowledge findings on ``construct`` (and its children) with one specific ``reason``.

    ``nag`` takes cdk-nag rule names (``"AwsSolutions-IAM5"``, ``"NIST.800.53.R5-..."``);
    ``checkov`` takes checkov check ids (``"CKV_AWS_18"``), written to the resource metadata
    (the construct's default child, or every CfnResource below it when it has none).
    """
    if len(reason.strip()) < 20:
        raise ValueError("an acknowledgement needs a specific reason (at least 20 characters)")
    rules = [nag_rule_id(r) for r in nag]
    if rules:
        Validations.of(construct).acknowledge(*(Acknowledgment(id=r, reason=reason) for r in rules))
    checks = list(checkov)
    if checks:
        for resource in _cfn_resources(construct):
            meta = resource.get_metadata("checkov") or {}
            skips = list(meta.get("skip", []))
            known = {s["id"] for s in skips}
            skips.extend({"id": c, "comment": reason} for c in checks if c not in known)
            resource.add_metadata("checkov", {**meta, "skip": skips})


def across_packs(rule: str, packs: Sequence[str] = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")) -> list[str]:
    """The same rule name in several packs: ``across_packs("S3BucketReplicationEnabled")``."""
    return [f"{p}-{rule}" for p in packs]
