"""Inference Recommender for new model versions: :class:`InstanceRecommender` (the function that
starts recommendations jobs and records their result on the version) and
:class:`RecommendInstancesStep` (the pipeline step after ``RegisterModel`` that asks it to).

The cheapest instance that meets the latency target is recorded on the version's
``CustomerMetadataProperties`` (``sagemaker-constructs:recommendation-instance-type``, ``-cost-per-hour``,
``-model-latency-ms``, ...), so it is visible in the registry when someone approves the version.
Inference Recommender reads the version's sample payload, domain, task and framework
(``RegisterModelStep(recommend_instances=InstanceRecommendation(...))``;
https://docs.aws.amazon.com/sagemaker/latest/dg/inference-recommender-prerequisites.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._internal.functions import SecureFunction
from ..compliance import acknowledge_iam_findings_at_synth
from ..errors import ValidationError
from ..validation.checks import (arn_name, check_choice, check_combination, check_count, check_range, duration_seconds,
                                 duration_to_seconds)
from ..validation.limits import check_timeout_outlives
from ..security.roles import JobExecutionRole
from ..validation.catalog import check_instance_type
from .steps import LambdaStep, RegisterModelStep, Step

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup

HANDLER = "recommend_instances.handler"
JOB_TYPES = ("Default", "Advanced")
#: Seconds one attempt of the handler's SageMaker client may take: it keeps botocore's default
#: connect and read timeouts, 60 s each (``connect_timeout``/``read_timeout``,
#: https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html); the function's
#: timeout must outlive one attempt, or a slow call is cut off before the SDK can retry or report it.
SDK_ATTEMPT_SECONDS = 60 + 60


class InstanceRecommender(SecureFunction):
    """Starts Inference Recommender jobs for versions of ``model_package_group`` and records each
    job's cheapest recommendation that meets the version's latency target on the version
    (``handlers/recommend_instances.py``; hardened as :class:`SecureFunction`: KMS, DLQ, tracing,
    reserved concurrency 2). A :class:`RecommendInstancesStep` invokes it after registration; an
    EventBridge rule (child ``RecordSchedule``) invokes it every ``record_interval`` to record
    ended jobs.

    Default settings: the jobs run as ``job_role`` (default: a :class:`JobExecutionRole`, child
    ``JobRole``, that reads ``model_buckets`` and may create, invoke and delete the endpoints and
    models Inference Recommender benchmarks), with ``encryption_key`` on their volumes and output,
    in ``vpc``'s private subnets when given. The function may start and read only jobs named
    ``<group>-rec-*``, describe and update only the group's versions, and pass only the job role.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group: "IModelPackageGroup",
        encryption_key: kms.IKey,
        model_buckets: Sequence[s3.IBucket] = (),
        job_role: iam.IRole | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        job_security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        record_interval: Duration = Duration.minutes(30),
        timeout: Duration = Duration.minutes(3),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param model_package_group: the registry group whose versions get recommendations.
        :param encryption_key: the jobs' volume and output key (and the function's, by default).
        :param model_buckets: buckets of the model artifacts and sample payloads the jobs read (the default
            ``JobRole``'s grants; not with ``job_role``). Default: none.
        :param job_role: what the recommendations jobs run as. Default: a new role (child ``JobRole``).
        :param vpc: the function and the jobs' endpoints in this VPC (needs the sagemaker.api endpoint).
            Default: none (the function reaches the SageMaker API over Lambda's network).
        :param job_security_groups: the benchmark endpoints' groups. Default: the function's.
        :param record_interval: how often ended jobs are recorded (5 minutes - 1 day). Default: 30 minutes.
        :param timeout: the function's timeout: at least one attempt of its SDK client
            (``SDK_ATTEMPT_SECONDS``, 120 s). Default: 3 minutes.
        """
        super().__init__(scope, id)
        if model_package_group is None or not hasattr(model_package_group, "model_package_arn_pattern"):
            raise ValidationError(self, "model_package_group", model_package_group, "an IModelPackageGroup")
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "required")
        if not record_interval.is_unresolved() and not 300 <= record_interval.to_seconds() <= 86400:
            raise ValidationError(self, "record_interval", record_interval.to_human_string(), "5 minutes to 1 day")
        self._check_function(timeout=timeout, memory_size=256, reserved_concurrency=2, retry_attempts=2)
        check_timeout_outlives(self, "timeout", duration_seconds(self, "timeout", timeout), SDK_ATTEMPT_SECONDS,
                               what=f"one attempt of the handler's SageMaker client (botocore's default connect + "
                                    f"read timeouts, 60 + 60 = {SDK_ATTEMPT_SECONDS} s)")
        chosen = self._check_network(vpc, subnets, endpoint_security_group)
        if job_security_groups:
            # The jobs' VpcConfig (RecommendationJobVpcConfig.SecurityGroupIds): 1-5; more fails every job.
            check_count(self, "job_security_groups", list(job_security_groups), minimum=1, maximum=5,
                        what="security groups", limit="botocore sagemaker RecommendationJobVpcConfig.SecurityGroupIds")
        self.model_package_group = model_package_group
        group = model_package_group.model_package_group_name
        stack = Stack.of(self)
        #: Prefix of the jobs' names (``<group>-rec``).
        self.job_prefix: str = f"{group[:40]}-rec"
        check_combination(self, "model_buckets", [getattr(b, "bucket_name", b) for b in model_buckets],
                          refused=job_role is not None and bool(model_buckets), because=(
                              "model_buckets only with the default job role (they are what it may read): a "
                              "job_role given here is used as it is; grant it read on the buckets "
                              "(bucket.grant_read(job_role)) and drop model_buckets"))
        if job_role is None:
            default = JobExecutionRole(self, "JobRole", encryption_key=encryption_key, data_buckets=list(model_buckets))
            acknowledge_iam_findings_at_synth(default, reason=(
                "Inference Recommender names the models, endpoint configs and endpoints it benchmarks at run time "
                "(model/*, endpoint-config/*, endpoint/* of this account and region); versions are numbered at run "
                "time (model-package/<group>/*); the model artifacts' and payloads' object keys are chosen at run "
                "time (objects of model_buckets)."))
            default.add_to_policy(iam.PolicyStatement(
                sid="BenchmarkEndpoints",
                actions=["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel",
                         "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                         "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint",
                         "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags"],
                resources=[stack.format_arn(service="sagemaker", resource=r, resource_name="*")
                           for r in ("model", "endpoint-config", "endpoint")]))
            default.add_to_policy(iam.PolicyStatement(
                sid="ReadTheGroupsVersions", actions=["sagemaker:DescribeModelPackage"],
                resources=[model_package_group.model_package_arn_pattern]))
            default.add_to_policy(iam.PolicyStatement(
                sid="PassSelfToSageMaker", actions=["iam:PassRole"], resources=[default.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
            job_role = default
        # set above when none was given (pyright loses that narrowing to the IRole binding mismatch)
        assert job_role is not None
        self.job_role: iam.IRole = job_role
        environment = {"JOB_ROLE_ARN": job_role.role_arn, "JOB_PREFIX": self.job_prefix,
                       "MODEL_PACKAGE_GROUP_NAME": group, "KMS_KEY_ARN": encryption_key.key_arn}
        # The handler names every job <prefix>-v<version>-<hash> (handlers/recommend_instances.job_name):
        # "<prefix>-v*", not "<prefix>*", which matched another group's jobs ("churn-rec*" those of
        # "churn-recall"); SageMaker lower-cases names in ARNs, so the pattern is lower case too.
        self._job_arn = stack.format_arn(service="sagemaker", resource="inference-recommendations-job",
                                         resource_name=f"{arn_name(self.job_prefix)}-v*")
        statements = [
            iam.PolicyStatement(sid="RecommendationsJobs",
                                actions=["sagemaker:CreateInferenceRecommendationsJob",
                                         "sagemaker:DescribeInferenceRecommendationsJob", "sagemaker:AddTags"],
                                resources=[self._job_arn]),
            iam.PolicyStatement(sid="ListRecommendationsJobs", actions=["sagemaker:ListInferenceRecommendationsJobs"],
                                resources=["*"]),
            iam.PolicyStatement(sid="RecordOnTheGroupsVersions",
                                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                                resources=[model_package_group.model_package_arn_pattern]),
            iam.PolicyStatement(sid="PassOnlyTheJobRole", actions=["iam:PassRole"], resources=[job_role.role_arn],
                                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
        ]
        self._build(
            purpose=f"InstanceRecommender: instance recommendations for {group} versions",
            handler=HANDLER,
            description=f"Starts Inference Recommender jobs for new {group} versions and records their result",
            environment=environment, statements=statements, vpc=vpc, subnets=chosen,
            endpoint_security_group=endpoint_security_group, encryption_key=encryption_key, timeout=timeout,
            memory_size=256, reserved_concurrency=2, retry_attempts=2, log_retention=log_retention,
            alarm_topic=alarm_topic,
            outside_vpc_reason=(
                "Created without vpc=: the function calls only the SageMaker API (its own recommendations jobs, "
                "this group's versions), over Lambda's network, authorised by IAM and TLS. Pass vpc= (with the "
                "sagemaker.api endpoint) to run it in a VPC, which removes this finding."),
            iam_reason=(
                "Wildcards only where IAM cannot scope further: ListInferenceRecommendationsJobs and X-Ray have no "
                "resource type; job names carry a run-time version suffix (<group>-rec-v*); versions are numbered "
                "at run time (model-package/<group>/*); EC2 Describe* for VPC functions."),
        )
        if vpc is not None:
            groups = list(job_security_groups) if job_security_groups else [self.security_group]
            self.function.add_environment("VPC_CONFIG", stack.to_json_string({
                "Subnets": [s.subnet_id for s in chosen],
                "SecurityGroupIds": [g.security_group_id for g in groups if g is not None]}))
        try:
            schedule = events.Schedule.rate(record_interval)
        except RuntimeError:  # jsii InvalidScheduleUnit: Duration.seconds(<parameter>)
            if not record_interval.is_unresolved():
                raise
            raise ValidationError(self, "record_interval", record_interval.to_human_string(),
                                  "a Duration from a parameter in minutes, hours or days (Duration.minutes("
                                  "<parameter>)): an EventBridge rate schedule has no seconds") from None
        self.record_rule: events.Rule = events.Rule(
            self, "RecordSchedule", schedule=schedule,
            description=f"Record ended Inference Recommender jobs on {group} versions",
            targets=[targets.LambdaFunction(self.function, event=events.RuleTargetInput.from_object(
                {"action": "record"}), retry_attempts=2, dead_letter_queue=self.dead_letter_queue)],
        )


class RecommendInstancesStep(LambdaStep):
    """A ``Lambda`` step after ``register`` that starts an Inference Recommender job for the new
    version (``Default``, or ``Advanced`` with ``instance_types``, a p95 ``max_latency_ms`` and
    ``max_invocations``) through ``recommender``; the result lands on the version when the job
    ends (see :class:`InstanceRecommender`). Outputs: ``JobName``, ``Status``."""

    def __init__(
        self,
        name: str,
        *,
        register: RegisterModelStep,
        recommender: InstanceRecommender,
        job_type: str = "Default",
        instance_types: Sequence[str] = (),
        max_latency_ms: int | None = None,
        max_invocations: int | None = None,
        job_duration: Duration | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param register: the ``RegisterModelStep`` whose version is benchmarked (with
            ``recommend_instances=InstanceRecommendation(...)``: the sample payload).
        :param recommender: the :class:`InstanceRecommender` of that step's group.
        :param job_type: Default (about 45 minutes, SageMaker's instance candidates) or Advanced
            (load tests of ``instance_types``). Default: Default.
        :param instance_types: candidate real-time instance types (1-10, botocore EndpointConfigurations; required with Advanced).
        :param max_latency_ms: the p95 latency target in ms: recommendations above it are not
            recorded; with Advanced also the job's stopping condition. Default: none (the cheapest).
        :param max_invocations: invocations per minute the Advanced job aims at. Default: none.
        :param job_duration: the job's limit. Default: SageMaker's.
        """
        where = f"RecommendInstancesStep {name!r}"
        if not isinstance(register, RegisterModelStep):
            raise ValidationError(where, "register", register, "a RegisterModelStep")
        if register.recommend_instances is None:
            raise ValidationError(where, "register", register.name,
                                  "a RegisterModelStep with recommend_instances=InstanceRecommendation(...) "
                                  "(Inference Recommender needs the version's sample payload)")
        if not isinstance(recommender, InstanceRecommender):
            raise ValidationError(where, "recommender", recommender, "an InstanceRecommender")
        if recommender.model_package_group.model_package_group_name != register.group.model_package_group_name:
            raise ValidationError(where, "recommender", recommender.node.path,
                                  f"the InstanceRecommender of {register.group.model_package_group_name}")
        check_choice(where, "job_type", job_type, JOB_TYPES)
        check_count(where, "instance_types", list(instance_types), minimum=1 if job_type == "Advanced" else 0,
                    maximum=10 if job_type == "Advanced" else 0, what="candidate instance types",
                    limit="botocore RecommendationJobInputConfig.EndpointConfigurations; only with job_type Advanced")
        check_combination(where, "max_invocations", max_invocations, refused=job_type == "Default" and
                          max_invocations is not None, because="only with job_type Advanced (a stopping condition)")
        for instance_type in instance_types:
            check_instance_type(where, "instance_types", instance_type, use="hosting")
        for argument, value in (("max_latency_ms", max_latency_ms), ("max_invocations", max_invocations)):
            check_range(where, argument, value, minimum=1, integer=True)
        seconds = None
        if job_duration is not None:
            seconds = int(duration_to_seconds(where, "job_duration", job_duration))
            check_range(where, "job_duration", seconds, minimum=1, unit="seconds",
                        limit="botocore RecommendationJobInputConfig.JobDurationInSeconds")
        inputs: dict[str, Any] = {"ModelPackageArn": register.model_package_arn, "JobType": job_type}
        if instance_types:
            inputs["InstanceTypes"] = list(instance_types)
        for key, value in (("MaxLatencyMs", max_latency_ms), ("MaxInvocations", max_invocations),
                           ("JobDurationSeconds", seconds)):
            if value is not None:
                inputs[key] = value
        super().__init__(name, function=recommender.function, inputs=inputs,
                         outputs={"JobName": "String", "Status": "String"}, depends_on=depends_on,
                         display_name=display_name, description=description)
        self.register: RegisterModelStep = register
        self.recommender: InstanceRecommender = recommender


__all__ = ["InstanceRecommender", "RecommendInstancesStep"]
