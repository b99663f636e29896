"""The platform every other reference stack builds on: key, network, data bucket, audit trail."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from sagemaker_constructs import (
    AuditTrail,
    IsolatedNetwork,
    JobExecutionRole,
    PlatformKey,
    SecureBucket,
    StudioDomain,
)

from .config import PlatformConfig


class PlatformStack(Stack):
    """A customer-managed key, an isolated network, an ML data bucket, a CloudTrail trail and a
    VPC-only Studio domain with example user profiles.

    Exposes ``key``, ``network``, ``vpc``, ``data_bucket``, ``trail``, ``job_role`` and ``studio`` for the stacks that
    build on it (pass them as constructor arguments; CDK wires the cross-stack references).
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig | None = None, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        config = config or PlatformConfig()
        self.config = config
        self.key = PlatformKey(self, "PlatformKey", alias=config.key_alias, description="SageMaker platform data key")
        self.network = IsolatedNetwork(
            self,
            "Network",
            max_azs=config.max_azs,
            cidr=config.vpc_cidr,
            endpoints=config.endpoints,
            encryption_key=self.key,
            flow_log_retention=config.log_retention,
        )
        self.vpc = self.network.vpc
        self.data_bucket = SecureBucket(self, "DataBucket", encryption_key=self.key)
        self.trail = AuditTrail(
            self,
            "AuditTrail",
            encryption_key=self.key,
            data_event_buckets=[self.data_bucket],
            log_retention=config.log_retention,
        )
        self.job_role = JobExecutionRole(
            self, "JobRole", encryption_key=self.key, data_buckets=[self.data_bucket], output_bucket=self.data_bucket
        )
        self.studio = StudioDomain(
            self,
            "Studio",
            vpc=self.vpc,
            encryption_key=self.key,
            subnets=self.network.isolated_subnets.subnets,
            endpoint_security_group=self.network.endpoint_security_group,
            data_buckets=[self.data_bucket],
            job_roles=[self.job_role],
            idle_timeout=Duration.minutes(config.studio_idle_timeout_minutes),
            home_efs_removal_policy=RemovalPolicy.RETAIN if config.studio_keep_home_efs else RemovalPolicy.DESTROY,
        )
        for user in config.studio_users:
            self.studio.add_user_profile(user)
        CfnOutput(self, "StudioDomainId", value=self.studio.domain_id)
        CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        CfnOutput(self, "DataBucketName", value=self.data_bucket.bucket_name)
        CfnOutput(self, "PlatformKeyArn", value=self.key.key_arn)
