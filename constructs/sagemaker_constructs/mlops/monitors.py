"""Monitoring beyond data quality: model quality against ground truth (the model-monitor
analyzer), bias drift and feature-attribution drift (SageMaker Clarify), each an
``AWS::SageMaker::<Kind>JobDefinition`` (child ``JobDefinition``) run by an
``AWS::SageMaker::MonitoringSchedule`` (child ``Resource``) with an alarm (child
``ViolationsAlarm``) on the metrics the job publishes, and a retraining trigger
(:meth:`on_violation_start`).

Every job: in the VPC (own security group, HTTPS to the VPC endpoints only), inter-container
traffic encryption, the key on its volume and its reports, a max runtime; network isolation for
model quality and bias jobs. Feature attribution (explainability) jobs run without network
isolation: Clarify computes SHAP values by querying a shadow endpoint of the model ("Make sure
network isolation option ... is turned off", https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html).
Model Monitor is closed to new customers; existing customers keep using it
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-cloudwatch.html).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import ValidationError, check_pattern
from ..inference.models import ContainerImage
from ..interfaces import IInstanceEndpoint
from ..validation.catalog import check_instance_type, has_instance_storage
from ..validation.checks import arn_name, check_choice, check_combination, check_range, claim_name
from .check_steps import BiasFacet, POST_TRAINING_METRICS, PRE_TRAINING_METRICS, PROBLEM_TYPES, SHAP_AGG_METHODS
from .monitor import (
    ANALYZER_IMAGE_ACCOUNTS,
    ANALYZER_REPOSITORY,
    CLARIFY_IMAGE_ACCOUNTS,
    CLARIFY_REPOSITORY,
    bind_monitor_role,
    check_monitored_endpoint,
    check_monitoring_job,
    max_runtime_seconds,
    publish_metrics_and_network,
)
from .retraining import start_pipeline_on_alarm

if TYPE_CHECKING:
    from .pipeline import Pipeline

#: Namespaces the jobs publish to for real-time endpoints: model quality
#: (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-cw.html), bias drift
#: (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-model-monitor-bias-drift-cw.html) and
#: feature attribution drift (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-feature-attribute-drift-cw.html).
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
BIAS_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/bias-metrics"
EXPLAINABILITY_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/explainability-metrics"
#: Model quality metrics a lower value of which is worse (the alarm fires below the threshold);
#: the others (errors) fire above it.
HIGHER_IS_BETTER = ("accuracy", "precision", "recall", "f0_5", "f1", "f2", "auc", "au_prc", "r2",
                    "true_positive_rate", "true_negative_rate", "weighted_f1", "weighted_precision",
                    "weighted_recall", "weighted_f0_5", "weighted_f2")
ERROR_METRICS = ("mae", "mse", "rmse", "false_positive_rate", "false_negative_rate")
OFFSET_PATTERN = r"-P(\d+D)?(T(\d+H)?(\d+M)?)?|-PT\d+[HM]|PT0H"
ENDPOINT_PATH = "/opt/ml/processing/input/endpoint"
GROUND_TRUTH_PATH = "/opt/ml/processing/groundtruth"


class _EndpointMonitor(Construct):
    """What the monitors share: role, network, job resources, schedule, alarm and its topic."""

    monitoring_type: ClassVar[str] = ""
    schedule_suffix: ClassVar[str] = ""
    namespace: ClassVar[str] = ""
    network_isolation: ClassVar[bool] = True
    cfn_class: ClassVar[Any] = None
    #: each monitor's prefix in output_bucket (declared here, set by every subclass)
    _output_prefix: ClassVar[str]

    def _setup(self, *, endpoint: IInstanceEndpoint, output_bucket: s3.IBucket, encryption_key: kms.IKey,
               vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet] | None,
               endpoint_security_group: ec2.ISecurityGroup | None, instance_type: str, schedule_expression: str,
               max_runtime: Duration, role: iam.IRole | None, role_is_prepared: bool,
               read_buckets: Sequence[s3.IBucket], constraints_uri: str | None) -> None:
        check_monitored_endpoint(self, endpoint)
        if encryption_key is None or output_bucket is None:
            raise ValidationError(self, "encryption_key/output_bucket", None, "required")
        if constraints_uri is not None:
            check_pattern(self, "constraints_uri", constraints_uri, r"s3://[a-z0-9.-]{3,63}/\S+",
                          description="an s3:// URI of the baseline's constraints file")
        check_monitoring_job(self, instance_type, schedule_expression, max_runtime)
        self.endpoint: IInstanceEndpoint = endpoint
        self.encryption_key: kms.IKey = encryption_key
        self._schedule_expression = schedule_expression
        capture = endpoint.data_capture
        assert capture is not None  # check_monitored_endpoint raised otherwise
        binding = bind_monitor_role(self, role, endpoint=endpoint, encryption_key=encryption_key,
                                    data_buckets=[capture.bucket, *read_buckets], output_bucket=output_bucket,
                                    role_is_prepared=role_is_prepared)
        self._binding = binding
        self.role: iam.IRole = binding.role
        self.security_group: ec2.SecurityGroup | None
        self.security_group, self._network = publish_metrics_and_network(
            self, binding, namespace=self.namespace,
            reason=f"Publishing the monitor's metrics: cloudwatch:PutMetricData has no resource type, "
                   f"limited to the {self.namespace} namespace; Clarify's shadow endpoints and "
                   "the monitor's analysis configuration asset are named at run time.",
            cfn_class=self.cfn_class, isolation=self.network_isolation, vpc=vpc, subnets=subnets,
            endpoint_security_group=endpoint_security_group)
        key_arn = encryption_key.key_arn
        self._resources = self.cfn_class.MonitoringResourcesProperty(
            cluster_config=self.cfn_class.ClusterConfigProperty(
                instance_count=1, instance_type=instance_type, volume_size_in_gb=20,
                volume_kms_key_id=None if has_instance_storage(instance_type) else key_arn))
        self._output = self.cfn_class.MonitoringOutputConfigProperty(
            kms_key_id=key_arn,
            monitoring_outputs=[self.cfn_class.MonitoringOutputProperty(s3_output=self.cfn_class.S3OutputProperty(
                s3_uri=output_bucket.s3_url_for_object(self._output_prefix), local_path="/opt/ml/processing/output",
                s3_upload_mode="EndOfJob"))])
        self._stopping = self.cfn_class.StoppingConditionProperty(
            max_runtime_in_seconds=max_runtime_seconds(self, max_runtime))
        self.schedule_name: str = f"{endpoint.endpoint_name[:63 - len(self.schedule_suffix)]}{self.schedule_suffix}"
        claim_name(self, "endpoint", self.schedule_name, kind="monitoring schedule name")

    def _image(self, accounts: Mapping[str, str], repository: str) -> str:
        return ContainerImage.from_regional_registry(accounts, repository).bind(self, self._binding.grantee)

    def _endpoint_input(self, **kwargs: Any) -> Any:
        values = {k: v for k, v in kwargs.items() if v is not None}
        return self.cfn_class.EndpointInputProperty(endpoint_name=self.endpoint.endpoint_name,
                                                    local_path=ENDPOINT_PATH, **values)

    def _schedule(self, job_definition: Any) -> None:
        self.job_definition = job_definition
        job_definition.node.add_dependency(self.endpoint)
        self._binding.finish()
        self._binding.depend_on_policies(job_definition)
        now = self._schedule_expression == "NOW"
        self.cfn_schedule: sagemaker.CfnMonitoringSchedule = sagemaker.CfnMonitoringSchedule(
            self, "Resource",
            monitoring_schedule_name=self.schedule_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=Fn.select(1, Fn.split("/", job_definition.attr_job_definition_arn)),
                monitoring_type=self.monitoring_type,
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=self._schedule_expression,
                    **({"data_analysis_start_time": "-PT1H", "data_analysis_end_time": "PT0H"} if now else {})),
            ),
        )

    def _alarm(self, *, description: str, metric: cloudwatch.IMetric, threshold: float,
               comparison: cloudwatch.ComparisonOperator, alarm_topic: sns.ITopic | None) -> None:
        self.violations_alarm: cloudwatch.Alarm = cloudwatch.Alarm(
            self, "ViolationsAlarm", alarm_description=description, metric=metric, threshold=threshold,
            comparison_operator=comparison, evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if alarm_topic is None:
            topic = sns.Topic(self, "AlarmTopic", display_name=description[:100], master_key=self.encryption_key,
                              enforce_ssl=True)
            topic.apply_removal_policy(RemovalPolicy.RETAIN)  # it holds the subscriptions people rely on
            alarm_topic = topic
        self.alarm_topic: sns.ITopic = alarm_topic
        self.violations_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    def _insights(self, select: str, label: str) -> cloudwatch.MathExpression:
        """A Metrics Insights query over this schedule's metrics (whatever their other dimensions)."""
        query = (f"SELECT {select} FROM \"{self.namespace}\" WHERE Endpoint = '{self.endpoint.endpoint_name}' "
                 f"AND MonitoringSchedule = '{self.schedule_name}'")
        return cloudwatch.MathExpression(expression=query, using_metrics={}, period=Duration.hours(1), label=label)

    def on_violation_start(self, pipeline: "Pipeline", *, parameters: Mapping[str, str] | None = None,
                           id: str = "RetrainOnViolation") -> events.CfnRule:
        """Start ``pipeline`` (e.g. the training pipeline) whenever the violations alarm goes into
        ALARM: an EventBridge rule (child ``id``) on the alarm's state change, with a role that may
        only start that pipeline (:func:`~sagemaker_constructs.mlops.retraining.start_pipeline_on_alarm`)."""
        return start_pipeline_on_alarm(self, id, alarm=self.violations_alarm, pipeline=pipeline,
                                       parameters=parameters)


def _write_config(config: Mapping[str, Any]) -> str:
    directory = tempfile.mkdtemp(prefix="monitor-")
    path = os.path.join(directory, "analysis_config.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, sort_keys=True, indent=1)
    return path


class ModelQualityMonitor(_EndpointMonitor):
    """A model-quality monitoring schedule: SageMaker's model-monitor analyzer merges the
    endpoint's captured predictions with ground-truth labels (``ground_truth_uri``) and compares
    the quality metrics with the baseline's constraints.

    Default settings: ``AWS::SageMaker::ModelQualityJobDefinition`` (child ``JobDefinition``) with
    network isolation, inter-container encryption, ``encryption_key`` on its volume and reports,
    in ``vpc`` (own security group); a daily schedule (ground truth arrives late); an alarm when
    ``alarm_metric`` (in ``aws/sagemaker/Endpoints/model-metrics``) crosses ``alarm_threshold``
    (below it for accuracy-like metrics, above it for errors), notifying ``alarm_topic`` (default:
    a new KMS-encrypted topic, RETAIN); role: a :class:`JobExecutionRole` (child ``Role``)."""

    monitoring_type = "ModelQuality"
    schedule_suffix = "-model-quality"
    namespace = MODEL_METRICS_NAMESPACE
    cfn_class = sagemaker.CfnModelQualityJobDefinition
    _output_prefix = "monitoring/model-quality"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: IInstanceEndpoint,
        ground_truth_uri: str,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        problem_type: str,
        constraints_uri: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold_attribute: float | None = None,
        start_time_offset: str | None = "-P1D",
        end_time_offset: str | None = "-PT0H",
        alarm_metric: str | None = None,
        alarm_threshold: float | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        schedule_expression: str = "cron(0 0 ? * * *)",
        max_runtime: Duration = Duration.hours(1),
        read_buckets: Sequence[s3.IBucket] = (),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param endpoint: an instance-backed endpoint with data capture.
        :param ground_truth_uri: ``s3://`` prefix of the ground-truth records (in ``output_bucket``
            or ``read_buckets``).
        :param problem_type: Regression, BinaryClassification or MulticlassClassification.
        :param constraints_uri: the baseline's ``constraints.json``. Default: none (metrics are
            published; no constraint violations are reported).
        :param inference_attribute: / :param probability_attribute: where the prediction is in the
            captured output (index or JSONPath). Default: none (the whole output).
        :param probability_threshold_attribute: threshold for binary classification. Default: none.
        :param start_time_offset: / :param end_time_offset: the window of captures merged with ground
            truth (ISO 8601 durations, e.g. ``-P1D``; "Model monitor offsets"). Default: -P1D, -PT0H.
        :param alarm_metric: the metric alarmed on. Default: accuracy (classification), rmse (regression).
        :param alarm_threshold: Default: 0.8 for accuracy-like metrics, required for error metrics.
        :param schedule_expression: Model Monitor's schedule forms. Default: daily at midnight UTC.
        :param max_runtime: 1 s - 24 hours, at most the schedule's interval. Default: 1 hour.
        :param read_buckets: more buckets the job reads (ground truth elsewhere). Default: none.
        """
        super().__init__(scope, id)
        check_choice(self, "problem_type", problem_type, PROBLEM_TYPES)
        check_pattern(self, "ground_truth_uri", ground_truth_uri, r"s3://[a-z0-9.-]{3,63}(/\S*)?",
                      description="an s3:// URI of the ground-truth prefix")
        for argument, value in (("start_time_offset", start_time_offset), ("end_time_offset", end_time_offset)):
            if value is not None:
                check_pattern(self, argument, value, OFFSET_PATTERN,
                              description="a negative ISO 8601 duration such as -P1D or -PT1H")
        check_combination(self, "probability_threshold_attribute", probability_threshold_attribute,
                          refused=probability_threshold_attribute is not None and problem_type != "BinaryClassification",
                          because="only with problem_type BinaryClassification")
        check_range(self, "probability_threshold_attribute", probability_threshold_attribute, minimum=0, maximum=1,
                    note="with BinaryClassification")
        metric = alarm_metric or ("rmse" if problem_type == "Regression" else "accuracy")
        if metric not in HIGHER_IS_BETTER + ERROR_METRICS:
            raise ValidationError(self, "alarm_metric", metric,
                                  f"a model quality metric ({', '.join(HIGHER_IS_BETTER + ERROR_METRICS)})")
        if alarm_threshold is None and metric in ERROR_METRICS:
            raise ValidationError(self, "alarm_threshold", None, f"required with the error metric {metric}")
        threshold = 0.8 if alarm_threshold is None else alarm_threshold
        self._setup(endpoint=endpoint, output_bucket=output_bucket, encryption_key=encryption_key, vpc=vpc,
                    subnets=subnets, endpoint_security_group=endpoint_security_group, instance_type=instance_type,
                    schedule_expression=schedule_expression, max_runtime=max_runtime, role=role,
                    role_is_prepared=role_is_prepared, read_buckets=read_buckets, constraints_uri=constraints_uri)
        c = sagemaker.CfnModelQualityJobDefinition
        job = c(
            self, "JobDefinition",
            role_arn=self.role.role_arn,
            model_quality_app_specification=c.ModelQualityAppSpecificationProperty(
                image_uri=self._image(ANALYZER_IMAGE_ACCOUNTS, ANALYZER_REPOSITORY), problem_type=problem_type,
                environment={"publish_cloudwatch_metrics": "Enabled"}),
            model_quality_baseline_config=(c.ModelQualityBaselineConfigProperty(
                constraints_resource=c.ConstraintsResourceProperty(s3_uri=constraints_uri))
                if constraints_uri else None),
            model_quality_job_input=c.ModelQualityJobInputProperty(
                endpoint_input=self._endpoint_input(
                    inference_attribute=inference_attribute, probability_attribute=probability_attribute,
                    probability_threshold_attribute=probability_threshold_attribute,
                    start_time_offset=start_time_offset, end_time_offset=end_time_offset),
                ground_truth_s3_input=c.MonitoringGroundTruthS3InputProperty(s3_uri=ground_truth_uri)),
            model_quality_job_output_config=self._output,
            job_resources=self._resources,
            network_config=self._network,
            stopping_condition=self._stopping,
        )
        self._schedule(job)
        lower = metric in HIGHER_IS_BETTER
        self._alarm(
            description=f"{endpoint.endpoint_name}: model quality {metric} {'below' if lower else 'above'} {threshold}",
            metric=cloudwatch.Metric(namespace=MODEL_METRICS_NAMESPACE, metric_name=metric,
                                     dimensions_map={"Endpoint": endpoint.endpoint_name,
                                                     "MonitoringSchedule": self.schedule_name},
                                     statistic="Minimum" if lower else "Maximum", period=Duration.hours(1)),
            threshold=threshold,
            comparison=(cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD if lower
                        else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
            alarm_topic=alarm_topic)


class ModelBiasMonitor(_EndpointMonitor):
    """A bias-drift monitoring schedule (SageMaker Clarify): post-training bias metrics of the
    endpoint's captured predictions merged with ground truth, compared with the baseline's
    constraints.

    Default settings: ``AWS::SageMaker::ModelBiasJobDefinition`` (child ``JobDefinition``) with
    network isolation (the job reads captured predictions, it queries no model),
    inter-container encryption, ``encryption_key`` on its volume and reports, in ``vpc``; the
    analysis configuration (label, facets, label values) built at synth and shipped as an asset
    the role may read; a daily schedule; an alarm when ``bias_metric_<alarm_metric>`` (in
    ``aws/sagemaker/Endpoints/bias-metrics``, any facet) exceeds ``alarm_threshold``."""

    monitoring_type = "ModelBias"
    schedule_suffix = "-model-bias"
    namespace = BIAS_METRICS_NAMESPACE
    cfn_class = sagemaker.CfnModelBiasJobDefinition
    _output_prefix = "monitoring/model-bias"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: IInstanceEndpoint,
        ground_truth_uri: str,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        label: str,
        facets: Sequence[BiasFacet],
        label_values: Sequence[Any],
        headers: Sequence[str] = (),
        constraints_uri: str | None = None,
        features_attribute: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold_attribute: float | None = None,
        start_time_offset: str | None = "-P1D",
        end_time_offset: str | None = "-PT0H",
        alarm_metric: str = "DPPL",
        alarm_threshold: float = 0.1,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        schedule_expression: str = "cron(0 0 ? * * *)",
        max_runtime: Duration = Duration.hours(1),
        read_buckets: Sequence[s3.IBucket] = (),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param label: the target column. :param facets: sensitive attributes (at least one).
        :param label_values: the positive outcome's label values (at least one).
        :param headers: the captured records' column names. Default: none.
        :param constraints_uri: the baselining job's ``analysis.json``. Default: none.
        :param features_attribute: / :param inference_attribute: / :param probability_attribute:
            where the features and predictions are in the captures. Default: none.
        :param alarm_metric: a bias metric code (pre- or post-training). Default: DPPL.
        :param alarm_threshold: Default: 0.1.
        Other parameters: as :class:`ModelQualityMonitor`.
        """
        super().__init__(scope, id)
        check_pattern(self, "ground_truth_uri", ground_truth_uri, r"s3://[a-z0-9.-]{3,63}(/\S*)?",
                      description="an s3:// URI of the ground-truth prefix")
        if not label:
            raise ValidationError(self, "label", label, "the target column")
        if not facets or not all(isinstance(f, BiasFacet) for f in facets):
            raise ValidationError(self, "facets", list(facets), "at least one BiasFacet")
        if not label_values:
            raise ValidationError(self, "label_values", list(label_values), "at least one label value")
        if alarm_metric not in PRE_TRAINING_METRICS + POST_TRAINING_METRICS:
            raise ValidationError(self, "alarm_metric", alarm_metric,
                                  f"a bias metric ({', '.join(PRE_TRAINING_METRICS + POST_TRAINING_METRICS)})")
        for argument, value in (("start_time_offset", start_time_offset), ("end_time_offset", end_time_offset)):
            if value is not None:
                check_pattern(self, argument, value, OFFSET_PATTERN,
                              description="a negative ISO 8601 duration such as -P1D or -PT1H")
        check_range(self, "probability_threshold_attribute", probability_threshold_attribute, minimum=0, maximum=1)
        for column, argument in ((label, "label"), *((f.name, "facets") for f in facets)):
            if headers:
                check_choice(self, argument, column, headers)
        self._setup(endpoint=endpoint, output_bucket=output_bucket, encryption_key=encryption_key, vpc=vpc,
                    subnets=subnets, endpoint_security_group=endpoint_security_group, instance_type=instance_type,
                    schedule_expression=schedule_expression, max_runtime=max_runtime, role=role,
                    role_is_prepared=role_is_prepared, read_buckets=read_buckets, constraints_uri=constraints_uri)
        #: The analysis configuration (the SDK's ``BiasAnalysisConfig``).
        self.analysis_config: dict[str, Any] = {
            "label": label, "facet": [f.to_json() for f in facets], "label_values_or_threshold": list(label_values),
            "methods": {"post_training_bias": {"methods": "all"}},
            **({"headers": list(headers)} if headers else {}),
        }
        config = s3_assets.Asset(self, "AnalysisConfig", path=_write_config(self.analysis_config))
        config.grant_read(self._binding.grantee)
        c = sagemaker.CfnModelBiasJobDefinition
        job = c(
            self, "JobDefinition",
            role_arn=self.role.role_arn,
            model_bias_app_specification=c.ModelBiasAppSpecificationProperty(
                image_uri=self._image(CLARIFY_IMAGE_ACCOUNTS, CLARIFY_REPOSITORY), config_uri=config.s3_object_url,
                environment={"publish_cloudwatch_metrics": "Enabled"}),
            model_bias_baseline_config=(c.ModelBiasBaselineConfigProperty(
                constraints_resource=c.ConstraintsResourceProperty(s3_uri=constraints_uri))
                if constraints_uri else None),
            model_bias_job_input=c.ModelBiasJobInputProperty(
                endpoint_input=self._endpoint_input(
                    features_attribute=features_attribute, inference_attribute=inference_attribute,
                    probability_attribute=probability_attribute,
                    probability_threshold_attribute=probability_threshold_attribute,
                    start_time_offset=start_time_offset, end_time_offset=end_time_offset),
                ground_truth_s3_input=c.MonitoringGroundTruthS3InputProperty(s3_uri=ground_truth_uri)),
            model_bias_job_output_config=self._output,
            job_resources=self._resources,
            network_config=self._network,
            stopping_condition=self._stopping,
        )
        self._schedule(job)
        self._alarm(
            description=f"{endpoint.endpoint_name}: bias metric {alarm_metric} above {alarm_threshold}",
            metric=self._insights(f"MAX(bias_metric_{alarm_metric})", f"max {alarm_metric}"),
            threshold=alarm_threshold, comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            alarm_topic=alarm_topic)


class ModelExplainabilityMonitor(_EndpointMonitor):
    """A feature-attribution drift monitoring schedule (SageMaker Clarify, SHAP): Clarify queries
    a shadow endpoint of ``model_name`` with the captured records and compares the global SHAP
    values with the baseline's constraints.

    Default settings: ``AWS::SageMaker::ModelExplainabilityJobDefinition`` (child
    ``JobDefinition``) in ``vpc`` with inter-container encryption and ``encryption_key`` on its
    volume and reports; network isolation off, as Clarify requires; the role may create, invoke
    and delete the shadow endpoint; a daily schedule; an alarm when the global SHAP value of
    ``alarm_feature`` exceeds ``alarm_threshold``."""

    monitoring_type = "ModelExplainability"
    schedule_suffix = "-explainability"
    namespace = EXPLAINABILITY_METRICS_NAMESPACE
    network_isolation = False
    cfn_class = sagemaker.CfnModelExplainabilityJobDefinition
    _output_prefix = "monitoring/explainability"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: IInstanceEndpoint,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        model_name: str,
        alarm_feature: str,
        alarm_threshold: float,
        headers: Sequence[str] = (),
        shap_baseline: Any = None,
        shap_num_samples: int = 100,
        shap_agg_method: str = "mean_abs",
        model_instance_type: str = "ml.m5.large",
        content_type: str = "text/csv",
        constraints_uri: str | None = None,
        features_attribute: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        schedule_expression: str = "cron(0 0 ? * * *)",
        max_runtime: Duration = Duration.hours(1),
        read_buckets: Sequence[s3.IBucket] = (),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param model_name: the model Clarify explains (its shadow endpoint's model).
        :param alarm_feature: the feature whose global SHAP value is alarmed on (a Metrics Insights
            alarm reads one metric).
        :param alarm_threshold: the global SHAP value above which the alarm fires.
        :param headers: the records' feature names. Default: none.
        :param shap_baseline: baseline records (lists) or an ``s3://`` URI. Default: Clarify's.
        :param shap_num_samples: 1-100000. Default: 100. :param shap_agg_method: Default: mean_abs.
        :param model_instance_type: the shadow endpoint's instance type. Default: ml.m5.large.
        :param content_type: the model's request type. Default: text/csv.
        Other parameters: as :class:`ModelQualityMonitor`.
        """
        super().__init__(scope, id)
        check_pattern(self, "model_name", model_name, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
                      description="a SageMaker model name")
        check_pattern(self, "alarm_feature", alarm_feature, r"[A-Za-z0-9_]{1,200}",
                      description="a feature name (letters, digits, underscores: a metric name in a query)")
        if headers:
            check_choice(self, "alarm_feature", alarm_feature, headers)
        if shap_baseline is not None and not ((isinstance(shap_baseline, str) and shap_baseline.startswith("s3://"))
                                              or (isinstance(shap_baseline, (list, tuple)) and shap_baseline)):
            raise ValidationError(self, "shap_baseline", shap_baseline, "a list of records or an s3:// URI")
        check_range(self, "shap_num_samples", shap_num_samples, minimum=1, maximum=100000, integer=True)
        check_choice(self, "shap_agg_method", shap_agg_method, SHAP_AGG_METHODS)
        check_instance_type(self, "model_instance_type", model_instance_type, use="hosting")
        self._setup(endpoint=endpoint, output_bucket=output_bucket, encryption_key=encryption_key, vpc=vpc,
                    subnets=subnets, endpoint_security_group=endpoint_security_group, instance_type=instance_type,
                    schedule_expression=schedule_expression, max_runtime=max_runtime, role=role,
                    role_is_prepared=role_is_prepared, read_buckets=read_buckets, constraints_uri=constraints_uri)
        shap: dict[str, Any] = {"num_samples": shap_num_samples, "agg_method": shap_agg_method, "use_logit": False,
                                "save_local_shap_values": False}
        if shap_baseline is not None:
            shap["baseline"] = shap_baseline if isinstance(shap_baseline, str) else [list(r) for r in shap_baseline]
        #: The analysis configuration (the SDK's ``ExplainabilityAnalysisConfig``).
        self.analysis_config: dict[str, Any] = {
            "methods": {"shap": shap},
            "predictor": {"model_name": model_name, "instance_type": model_instance_type,
                          "initial_instance_count": 1, "content_type": content_type},
            **({"headers": list(headers)} if headers else {}),
        }
        config = s3_assets.Asset(self, "AnalysisConfig", path=_write_config(self.analysis_config))
        config.grant_read(self._binding.grantee)
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        self._binding.grantee.add_to_principal_policy(iam.PolicyStatement(
            actions=["sagemaker:CreateEndpointConfig", "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint",
                     "sagemaker:DeleteEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
            resources=[f"{arn}:endpoint/*", f"{arn}:endpoint-config/*"]))
        self._binding.grantee.add_to_principal_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeModel"], resources=[f"{arn}:model/{arn_name(model_name)}"]))
        c = sagemaker.CfnModelExplainabilityJobDefinition
        job = c(
            self, "JobDefinition",
            role_arn=self.role.role_arn,
            model_explainability_app_specification=c.ModelExplainabilityAppSpecificationProperty(
                image_uri=self._image(CLARIFY_IMAGE_ACCOUNTS, CLARIFY_REPOSITORY), config_uri=config.s3_object_url,
                environment={"publish_cloudwatch_metrics": "Enabled"}),
            model_explainability_baseline_config=(c.ModelExplainabilityBaselineConfigProperty(
                constraints_resource=c.ConstraintsResourceProperty(s3_uri=constraints_uri))
                if constraints_uri else None),
            model_explainability_job_input=c.ModelExplainabilityJobInputProperty(
                endpoint_input=self._endpoint_input(features_attribute=features_attribute,
                                                    inference_attribute=inference_attribute,
                                                    probability_attribute=probability_attribute)),
            model_explainability_job_output_config=self._output,
            job_resources=self._resources,
            network_config=self._network,
            stopping_condition=self._stopping,
        )
        self._schedule(job)
        self._alarm(
            description=f"{endpoint.endpoint_name}: global SHAP value of {alarm_feature} above {alarm_threshold}",
            metric=self._insights(f"MAX(feature_{alarm_feature})", f"feature_{alarm_feature}"),
            threshold=alarm_threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, alarm_topic=alarm_topic)


__all__ = ["ModelBiasMonitor", "ModelExplainabilityMonitor", "ModelQualityMonitor"]
