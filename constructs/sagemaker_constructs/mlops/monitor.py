"""Model monitoring: data-quality checks of an endpoint's captured traffic against a baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from aws_cdk import Duration, Fn, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..compliance import acknowledge_iam_findings_at_synth
from ..validation.catalog import check_instance_type, has_instance_storage
from ..validation.checks import check_combination, check_range, claim_name, duration_seconds, duration_to_seconds
from ..validation.combinations import check_monitorable_endpoint
from ..validation.schedules import monitor_schedule_interval
from .._internal.grants import KEY_READ_ACTIONS, RoleBinding, bind_role
from .._internal.stacks import attribute
from ..interfaces import IInstanceEndpoint
from ..errors import ValidationError, check_pattern
from ..inference.models import ContainerImage
from ..network import allow_https_to_endpoints, check_vpc_settings, private_subnets
from ..security.roles import JobExecutionRole

if TYPE_CHECKING:
    from .pipeline import Pipeline

#: Registry accounts of SageMaker's model-monitor analyzer image (sagemaker-python-sdk
#: image_uri_config/model-monitor.json), repository ``sagemaker-model-monitor-analyzer``.
ANALYZER_IMAGE_ACCOUNTS = {
    "us-east-1": "156813124566", "us-east-2": "777275614652", "us-west-1": "890145073186",
    "us-west-2": "159807026194", "eu-west-1": "468650794304", "eu-west-2": "749857270468",
    "eu-west-3": "680080141114", "eu-central-1": "048819808253", "eu-north-1": "895015795356",
    "ap-south-1": "126357580389", "ap-east-1": "001633400207", "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524", "ap-southeast-1": "245545462676", "ap-southeast-2": "563025443158",
    "ca-central-1": "536280801234", "sa-east-1": "539772159869", "me-south-1": "607024016150",
}
ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"
#: Registry accounts of SageMaker Clarify's processing image (sagemaker-python-sdk
#: image_uri_config/clarify.json), repository ``sagemaker-clarify-processing``, version 1.0.
CLARIFY_IMAGE_ACCOUNTS = {
    "af-south-1": "811711786498", "ap-east-1": "098760798382", "ap-northeast-1": "377024640650",
    "ap-northeast-2": "263625296855", "ap-northeast-3": "364406365360", "ap-south-1": "452307495513",
    "ap-southeast-1": "834264404009", "ap-southeast-2": "007051062584", "ca-central-1": "675030665977",
    "eu-central-1": "017069133835", "eu-north-1": "763603941244", "eu-south-1": "638885417683",
    "eu-west-1": "131013547314", "eu-west-2": "440796970383", "eu-west-3": "341593696636",
    "me-south-1": "835444307964", "sa-east-1": "520018980103", "us-east-1": "205585389593",
    "us-east-2": "211330385671", "us-west-1": "740489534195", "us-west-2": "306415355426",
}
CLARIFY_REPOSITORY = "sagemaker-clarify-processing:1.0"
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MAX_MONITORING_SECONDS = 86_400


def check_monitored_endpoint(scope: Construct, endpoint: object) -> None:
    """What every Model Monitor needs of its endpoint: instance-backed, single-model, with data capture."""
    check_monitorable_endpoint(scope, "endpoint", endpoint, monitor=type(scope).__name__)
    if not isinstance(endpoint, IInstanceEndpoint):
        raise ValidationError(scope, "endpoint", type(endpoint).__name__,
                              "an instance-backed endpoint (IInstanceEndpoint): a RealtimeEndpoint or "
                              "RealtimeEndpoint.from_endpoint_attributes(...)")
    if endpoint.data_capture is None:
        raise ValidationError(scope, "endpoint", endpoint.node.path,
                              "an endpoint with data_capture=DataCapture(...) (the monitor reads its captures)")


def bind_monitor_role(scope: Construct, role: iam.IRole | None, *, endpoint: IInstanceEndpoint,
                      encryption_key: kms.IKey, data_buckets: Sequence[s3.IBucket], output_bucket: s3.IBucket,
                      role_is_prepared: bool) -> RoleBinding:
    """Every Model Monitor's role (:func:`bind_role`): a :class:`JobExecutionRole` reading
    ``data_buckets`` (the capture bucket first) and writing ``output_bucket``, with the use of
    ``encryption_key`` and of those buckets' own keys; a supplied ``role`` gets the same statements.

    The captures are encrypted with the capture key (:meth:`DataCapture.key_for`: the capture's
    own key, else the capture bucket's, else the endpoint's), which may be none of those keys
    (an imported capture bucket, an endpoint with its own key): the role then also gets, on it, ``kms:Decrypt``/``kms:DescribeKey`` (what a bucket read grants on the bucket's key)."""
    capture = endpoint.data_capture
    assert capture is not None  # check_monitored_endpoint raised otherwise
    binding = bind_role(scope, role, default=lambda scope, id: JobExecutionRole(
        scope, id, encryption_key=encryption_key, data_buckets=data_buckets, output_bucket=output_bucket,
    ), role_is_prepared=role_is_prepared)
    capture_key = capture.key_for(endpoint.encryption_key)
    if capture_key is not None:
        # The keys the JobExecutionRole already uses (security.roles: encryption_key and each bucket's key).
        keys = (encryption_key, *(attribute(b, "encryption_key") for b in (*data_buckets, output_bucket)))
        granted = {attribute(key, "key_arn") for key in keys if key is not None}
        capture_key_arn = attribute(capture_key, "key_arn")
        if capture_key_arn not in granted:
            binding.grantee.add_to_principal_policy(iam.PolicyStatement(
                actions=list(KEY_READ_ACTIONS), resources=[capture_key_arn]))
    return binding


def publish_metrics_and_network(scope: Construct, binding: Any, *, namespace: str, reason: str, cfn_class: Any,
                                isolation: bool, vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet] | None,
                                endpoint_security_group: ec2.ISecurityGroup | None) -> tuple[ec2.SecurityGroup | None, Any]:
    """What every Model Monitor job needs of its role and network: ``cloudwatch:PutMetricData``
    limited to ``namespace`` (acknowledged with ``reason`` on one of our roles), and the job's
    ``NetworkConfig`` of ``cfn_class`` (inter-container encryption, ``isolation``, and in a VPC a
    security group ``scope/SecurityGroup`` with HTTPS to the VPC endpoints only). Returns the
    security group (None outside a VPC) and the ``NetworkConfigProperty``. ``subnets`` or
    ``endpoint_security_group`` without ``vpc`` raise (``network.check_vpc_settings``)."""
    check_vpc_settings(scope, vpc, subnets=subnets, endpoint_security_group=endpoint_security_group)
    if isinstance(binding.role, Construct):
        acknowledge_iam_findings_at_synth(binding.role, reason=reason)
    binding.grantee.add_to_principal_policy(iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
    ))
    network: dict[str, Any] = {"enable_network_isolation": isolation, "enable_inter_container_traffic_encryption": True}
    security_group = None
    if vpc is not None:
        chosen = private_subnets(scope, vpc, subnets)
        security_group = ec2.SecurityGroup(
            scope, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Model Monitor jobs: HTTPS to the VPC endpoints only",
        )
        allow_https_to_endpoints(scope, security_group, vpc, endpoint_security_group)
        network["vpc_config"] = cfn_class.VpcConfigProperty(
            subnets=[s.subnet_id for s in chosen], security_group_ids=[security_group.security_group_id])
    return security_group, cfn_class.NetworkConfigProperty(**network)


def check_monitoring_job(scope: Construct, instance_type: str, schedule_expression: str,
                         max_runtime: Duration) -> None:
    """A monitoring job's instance type, schedule, and max runtime within 24 hours and the interval."""
    check_instance_type(scope, "instance_type", instance_type, use="monitoring")
    interval = monitor_schedule_interval(scope, "schedule_expression", schedule_expression)
    if not max_runtime.is_unresolved():
        runtime = duration_seconds(scope, "max_runtime", max_runtime)
        assert runtime is not None  # max_runtime is resolved: duration_seconds is None only for a Token
        check_range(scope, "max_runtime", runtime, minimum=1, maximum=MAX_MONITORING_SECONDS, unit="seconds",
                    limit="botocore sagemaker MonitoringMaxRuntimeInSeconds")
        # "The MaxRuntimeInSeconds cannot exceed the frequency of the job" (MonitoringStoppingCondition)
        check_combination(scope, "max_runtime", f"{runtime:g} seconds",
                          refused=interval is not None and runtime > interval,
                          because=f"at most the schedule's interval, {interval} seconds for {schedule_expression}",
                          limit="botocore sagemaker MonitoringStoppingCondition.MaxRuntimeInSeconds")


def max_runtime_seconds(scope: Construct, max_runtime: Duration) -> int | float:
    """``MaxRuntimeInSeconds`` of ``max_runtime``: a whole number, or the Token of
    ``Duration.seconds(<parameter>)``; a parameter in another unit (which CDK cannot convert) is a
    ValidationError naming ``max_runtime``, not CDK's own error."""
    seconds = duration_to_seconds(scope, "max_runtime", max_runtime)
    return seconds if max_runtime.is_unresolved() else int(seconds)


class ModelMonitor(Construct):
    """A data-quality monitoring schedule over a real-time endpoint's captured data.

    Default settings:

    * ``AWS::SageMaker::DataQualityJobDefinition`` (child ``JobDefinition``) running SageMaker's
      model-monitor analyzer on ``instance_type`` against the baseline
      (``<baseline_uri>/constraints.json`` and ``statistics.json``), publishing CloudWatch metrics;
      the job runs in the VPC (``vpc``; own security group, child ``SecurityGroup``) with network
      isolation, inter-container encryption, ``encryption_key`` on its volume and its reports in
      ``s3://<output_bucket>/<output_prefix>/``, a max runtime (1 hour);
    * an hourly ``AWS::SageMaker::MonitoringSchedule`` (child ``Resource``);
    * an alarm (child ``ViolationsAlarm``) when any of ``features`` drifts from the baseline
      (``feature_baseline_drift_<feature>`` in ``aws/sagemaker/Endpoints/data-metrics`` above
      ``drift_threshold``), notifying ``alarm_topic`` (default: a new KMS-encrypted SNS topic);
    * role: a :class:`JobExecutionRole` (child ``Role``) reading the captures and the baseline
      (``kms:Decrypt`` also on the capture key, when the endpoint's captures use another key),
      writing reports, publishing the data metrics. A ``role`` you pass gets exactly the same
      statements; one CDK cannot change raises a ``ValidationError`` naming them unless
      ``role_is_prepared=True``.

    The endpoint (any ``IInstanceEndpoint``: a ``RealtimeEndpoint``, or one imported with
    ``RealtimeEndpoint.from_endpoint_attributes(..., data_capture=...)``) must have data capture.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: IInstanceEndpoint,
        baseline_uri: str,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        features: Sequence[str],
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        schedule_expression: str = "cron(0 * ? * * *)",
        max_runtime: Duration = Duration.hours(1),
        output_prefix: str = "monitoring",
        drift_threshold: float = 0.1,
        role: iam.IRole | None = None,
        alarm_topic: sns.ITopic | None = None,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param endpoint: an instance-backed endpoint with ``data_capture`` (``RealtimeEndpoint``,
            or ``RealtimeEndpoint.from_endpoint_attributes``).
        :param role: the jobs' execution role. Default: a new ``JobExecutionRole`` (child ``Role``).
        :param role_is_prepared: ``role`` already has every permission the default role would
            have (CDK adds none to a role it cannot change instead of raising). Default: false.
        :param baseline_uri: ``s3://...`` prefix holding ``constraints.json`` and ``statistics.json``
            (from a baselining job), in ``output_bucket``.
        :param features: the feature names whose drift raises the alarm.
        :param vpc: the VPC the job runs in. Default: none (no ``VpcConfig``).
        :param subnets: / :param endpoint_security_group: the job's subnets (default: the VPC's
            private and isolated subnets) and the VPC interface endpoints' security group (default:
            HTTPS to the VPC CIDR); only with ``vpc`` (a ``ValidationError`` without it).
        :param schedule_expression: one of the forms Model Monitor supports: hourly
            ``cron(0 * ? * * *)``, daily ``cron(0 <0-23> ? * * *)``, every N hours
            ``cron(0 <0-23>/<1-24> ? * * *)``, or ``NOW`` for one run at once (analysing the hour
            before it: ``DataAnalysisStartTime`` ``-PT1H``, ``DataAnalysisEndTime`` ``PT0H``)
            (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).
            Default: hourly, ``cron(0 * ? * * *)``.
        :param max_runtime: 1 s to 24 hours, and at most the schedule's interval ("The
            MaxRuntimeInSeconds cannot exceed the frequency of the job", API reference
            MonitoringStoppingCondition). Default: 1 hour.
        :param drift_threshold: alarm threshold of the drift distance. Default: 0.1.
        :param alarm_topic: where the drift alarm notifies. Default: a new SNS topic (child
            ``AlarmTopic``, encrypted with ``encryption_key``, TLS only, RETAINed: it holds the
            subscriptions) to subscribe to.
        """
        super().__init__(scope, id)
        check_monitored_endpoint(self, endpoint)
        check_pattern(self, "baseline_uri", baseline_uri, r"s3://[a-z0-9.-]{3,63}(/\S*)?",
                      description="an s3:// URI of the baseline prefix")
        check_monitoring_job(self, instance_type, schedule_expression, max_runtime)
        if not features:
            raise ValidationError(self, "features", list(features), "at least one feature name to alarm on")
        for feature in features:
            check_pattern(self, "feature", feature, r"[A-Za-z0-9_.\-]{1,200}", description="a feature name")
        self.endpoint: IInstanceEndpoint = endpoint
        base = baseline_uri.rstrip("/")
        output_uri = output_bucket.s3_url_for_object(output_prefix)
        capture = endpoint.data_capture
        assert capture is not None  # check_monitored_endpoint raised otherwise

        binding = bind_monitor_role(self, role, endpoint=endpoint, encryption_key=encryption_key,
                                    data_buckets=[capture.bucket], output_bucket=output_bucket,
                                    role_is_prepared=role_is_prepared)
        self.role: iam.IRole = binding.role
        self.security_group: ec2.SecurityGroup | None
        self.security_group, network_config = publish_metrics_and_network(
            self, binding, namespace=DATA_METRICS_NAMESPACE,
            reason="Publishing Model Monitor's data metrics: cloudwatch:PutMetricData has no "
                   "resource type, limited here to the aws/sagemaker/Endpoints/data-metrics namespace.",
            cfn_class=sagemaker.CfnDataQualityJobDefinition, isolation=True, vpc=vpc, subnets=subnets,
            endpoint_security_group=endpoint_security_group)

        image = ContainerImage.from_regional_registry(
            ANALYZER_IMAGE_ACCOUNTS, "sagemaker-model-monitor-analyzer").bind(self, binding.grantee)
        binding.finish()
        key_arn = encryption_key.key_arn
        self.job_definition: sagemaker.CfnDataQualityJobDefinition = sagemaker.CfnDataQualityJobDefinition(
            self,
            "JobDefinition",
            role_arn=self.role.role_arn,
            data_quality_app_specification=sagemaker.CfnDataQualityJobDefinition.DataQualityAppSpecificationProperty(
                image_uri=image, environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=sagemaker.CfnDataQualityJobDefinition.DataQualityBaselineConfigProperty(
                constraints_resource=sagemaker.CfnDataQualityJobDefinition.ConstraintsResourceProperty(
                    s3_uri=f"{base}/constraints.json"),
                statistics_resource=sagemaker.CfnDataQualityJobDefinition.StatisticsResourceProperty(
                    s3_uri=f"{base}/statistics.json"),
            ),
            data_quality_job_input=sagemaker.CfnDataQualityJobDefinition.DataQualityJobInputProperty(
                endpoint_input=sagemaker.CfnDataQualityJobDefinition.EndpointInputProperty(
                    endpoint_name=endpoint.endpoint_name, local_path="/opt/ml/processing/input/endpoint",
                ),
            ),
            data_quality_job_output_config=sagemaker.CfnDataQualityJobDefinition.MonitoringOutputConfigProperty(
                kms_key_id=key_arn,
                monitoring_outputs=[sagemaker.CfnDataQualityJobDefinition.MonitoringOutputProperty(
                    s3_output=sagemaker.CfnDataQualityJobDefinition.S3OutputProperty(
                        s3_uri=output_uri, local_path="/opt/ml/processing/output", s3_upload_mode="EndOfJob",
                    ))],
            ),
            job_resources=sagemaker.CfnDataQualityJobDefinition.MonitoringResourcesProperty(
                cluster_config=sagemaker.CfnDataQualityJobDefinition.ClusterConfigProperty(
                    instance_count=1, instance_type=instance_type, volume_size_in_gb=20,
                    # SageMaker refuses a volume key for types with local (hardware-encrypted) storage
                    volume_kms_key_id=None if has_instance_storage(instance_type) else key_arn,
                )),
            network_config=network_config,
            stopping_condition=sagemaker.CfnDataQualityJobDefinition.StoppingConditionProperty(
                max_runtime_in_seconds=max_runtime_seconds(self, max_runtime)),
        )
        self.job_definition.node.add_dependency(endpoint)
        binding.depend_on_policies(self.job_definition)
        self.schedule_name: str = f"{endpoint.endpoint_name[:50]}-data-quality"
        # Schedule names are unique per account and Region: a second monitor on the endpoint would collide.
        claim_name(self, "endpoint", self.schedule_name, kind="monitoring schedule name")
        self.cfn_schedule: sagemaker.CfnMonitoringSchedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Resource",
            monitoring_schedule_name=self.schedule_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                # The definition's name, CloudFormation-generated (any change replaces it), from its ARN.
                monitoring_job_definition_name=Fn.select(1, Fn.split("/", self.job_definition.attr_job_definition_arn)),
                monitoring_type="DataQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=schedule_expression,
                    # NOW (one run, at once) requires an analysis window: the hour before the run.
                    **({"data_analysis_start_time": "-PT1H", "data_analysis_end_time": "PT0H"}
                       if schedule_expression == "NOW" else {})),
            ),
        )
        drift = {
            f"d{i}": cloudwatch.Metric(
                namespace=DATA_METRICS_NAMESPACE, metric_name=f"feature_baseline_drift_{feature}",
                dimensions_map={"Endpoint": endpoint.endpoint_name, "MonitoringSchedule": self.schedule_name},
                statistic="Maximum", period=Duration.hours(1),
            )
            for i, feature in enumerate(features)
        }
        self.violations_alarm: cloudwatch.Alarm = cloudwatch.Alarm(
            self,
            "ViolationsAlarm",
            alarm_description=f"{endpoint.endpoint_name}: data drift from the baseline ({', '.join(features)})",
            metric=cloudwatch.MathExpression(expression=f"MAX([{', '.join(drift)}])", using_metrics=drift,
                                             period=Duration.hours(1), label="max feature drift"),
            threshold=drift_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if alarm_topic is None:
            topic = sns.Topic(
                self, "AlarmTopic", display_name=f"{endpoint.endpoint_name} data drift", master_key=encryption_key,
                enforce_ssl=True,
            )
            topic.apply_removal_policy(RemovalPolicy.RETAIN)  # it holds the subscriptions people rely on
            alarm_topic = topic
        self.alarm_topic: sns.ITopic = alarm_topic
        self.violations_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    def metric_max_drift(self) -> cloudwatch.IMetric:
        """The largest feature drift of the last run: Maximum over 1 hour."""
        return self.violations_alarm.metric

    def on_violation_start(self, pipeline: "Pipeline", *, parameters: Mapping[str, str] | None = None,
                           id: str = "RetrainOnViolation") -> events.CfnRule:
        """Start ``pipeline`` (e.g. the training pipeline) whenever the drift alarm goes into ALARM:
        an EventBridge rule (child ``id``) on the alarm's state change, with a role that may only
        start that pipeline (:func:`~sagemaker_constructs.mlops.retraining.start_pipeline_on_alarm`)."""
        from .retraining import start_pipeline_on_alarm

        return start_pipeline_on_alarm(self, id, alarm=self.violations_alarm, pipeline=pipeline,
                                       parameters=parameters)
