#!/usr/bin/env python3
"""Reference app: the stacks in stacks/, configured from cdk.json context.

Environment-agnostic by default. With context ``sagemaker-constructs:compliance=true`` (set in
cdk.json) every synth runs the compliance packs and fails on an unacknowledged finding. Set CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION (the CDK CLI
does this from your profile) and context ``sagemaker-constructs:use-cli-environment=true``
to pin the stacks to that account and region.
"""

from __future__ import annotations

import os

import aws_cdk as cdk

from sagemaker_constructs import COMPLIANCE_PACKS, add_compliance_checks
from stacks import InferenceStack, MlopsStack, PlatformConfig, PlatformStack
from stacks.config import CONTEXT_KEY
from stacks.delivery import CONTEXT_KEY as DELIVERY_CONTEXT_KEY
from stacks.delivery import DeliveryConfig, DeliveryStack, approved_model


#: The reference stacks in build order: each one reads only from those before it.
STACK_ORDER = ("platform", "inference", "mlops", "delivery")


def build(app: cdk.App, *, through: str = "delivery") -> dict[str, cdk.Stack]:
    """Compose the reference stacks into ``app``; returns them by name (used by the tests).

    :param through: stop after this stack of :data:`STACK_ORDER` (a test of the inference stack
        needs only ``through="inference"``: the platform it imports from and nothing after it).
    """
    if through not in STACK_ORDER:
        raise ValueError(f"through={through!r}: one of {', '.join(STACK_ORDER)}")
    config = PlatformConfig.from_context(app.node.try_get_context(CONTEXT_KEY))
    env = None
    if app.node.try_get_context("sagemaker-constructs:use-cli-environment") in (True, "true"):
        env = cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        )
    platform = PlatformStack(
        app,
        config.stack_name,
        config=config,
        env=env,
        description="sagemaker-constructs reference platform: key, isolated network, data bucket, audit trail",
    )
    if through == "platform":
        return {"platform": platform}
    inference = InferenceStack(
        app,
        config.inference_stack_name,
        encryption_key=platform.key,
        vpc=platform.vpc,
        data_bucket=platform.data_bucket,
        endpoint_security_group=platform.network.endpoint_security_group,
        instance_type=config.inference_instance_type,
        canary=config.inference_canary,
        dedicated_model_security_group=config.inference_dedicated_model_security_group,
        shadow_instance_type=config.inference_shadow_instance_type or None,
        env=env,
        description="sagemaker-constructs reference inference: real-time, serverless and multi-model endpoints",
    )
    if through == "inference":
        return {"platform": platform, "inference": inference}
    mlops = MlopsStack(
        app,
        config.mlops_stack_name,
        encryption_key=platform.key,
        vpc=platform.vpc,
        data_bucket=platform.data_bucket,
        endpoint=inference.realtime,
        endpoint_security_group=platform.network.endpoint_security_group,
        model_vpc_config_parameter=inference.model_vpc_config_parameter,
        env=env,
        description="sagemaker-constructs reference MLOps: training pipeline, registry, deploy-on-approval, monitor",
    )
    if through == "mlops":
        return {"platform": platform, "inference": inference, "mlops": mlops}
    # The tooling account's delivery pipeline (its own explicit environment: CodePipeline needs one
    # for cross-account stages); the approved version comes from the pipeline's synth step.
    delivery_config = DeliveryConfig.from_context(app.node.try_get_context(DELIVERY_CONTEXT_KEY))
    model_package, model_artifacts = approved_model(app, delivery_config)
    delivery = DeliveryStack(
        app,
        delivery_config.stack_name,
        config=delivery_config,
        model_package_group=mlops.group,
        artifact_bucket=platform.data_bucket,
        artifact_key=platform.key,
        model_package=model_package,
        model_artifacts=model_artifacts,
        env=cdk.Environment(account=delivery_config.account, region=delivery_config.region),
        description="sagemaker-constructs reference delivery: approvals promote the model through a pipeline to dev and prod",
    )
    return {"platform": platform, "inference": inference, "mlops": mlops, "delivery": delivery}


def compliance_packs(value: object) -> tuple[str, ...]:
    """Context ``sagemaker-constructs:compliance``: ``true`` for every pack, ``false`` for none,
    or a comma-separated list (``-c sagemaker-constructs:compliance=AwsSolutions,SageMaker``:
    Control Tower's cfn-guard run takes about 4 s per template, most of a full synth)."""
    if value in (True, "true"):
        return COMPLIANCE_PACKS
    if isinstance(value, str) and value not in ("", "false"):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return ()


def main() -> None:
    app = cdk.App()
    build(app)
    packs = compliance_packs(app.node.try_get_context("sagemaker-constructs:compliance"))
    if packs:
        # cdk-nag's four packs, our SageMaker pack and AWS Control Tower's proactive controls (or
        # the packs named): an unacknowledged finding fails the synth.
        add_compliance_checks(app, packs=packs)
    app.synth()


if __name__ == "__main__":
    main()
