"""``QualityCheck`` and ``ClarifyCheck`` steps of a :class:`~sagemaker_constructs.Pipeline`.

Both run a processing job (their ``Arguments`` are a CreateProcessingJob request, as the SageMaker
Python SDK renders them: ``src/sagemaker/workflow/quality_check_step.py`` and
``clarify_check_step.py``) and add the step-level keys of a check: ``CheckType``,
``ModelPackageGroupName``, ``SkipCheck``, ``RegisterNewBaseline`` and the supplied baselines.

* :class:`QualityCheckStep` runs SageMaker's model-monitor analyzer
  (``sagemaker-model-monitor-analyzer``) over a baseline dataset: ``DATA_QUALITY`` (statistics
  and constraints of the features) or ``MODEL_QUALITY`` (metrics of predictions against ground
  truth). The job runs with network isolation, in the VPC, inter-container traffic encrypted, the
  pipeline's key on its volume and outputs.
* :class:`ClarifyCheckStep` runs SageMaker Clarify (``sagemaker-clarify-processing``):
  ``DATA_BIAS`` (pre-training bias of the dataset), ``MODEL_BIAS`` (post-training bias of a
  model's predictions) or ``MODEL_EXPLAINABILITY`` (SHAP values). Clarify jobs run in the VPC
  with network isolation *off*: "Make sure network isolation option ... is turned off"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html), since a Clarify job gets
  inferences from a shadow endpoint of the model. The analysis configuration
  (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-processing-job-configure-analysis.html)
  is built at synth (:attr:`ClarifyCheckStep.analysis_config`) and shipped as an asset, read
  through the processing input named ``analysis_config`` that the page requires.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam

from ..errors import ValidationError, check_choice, is_unresolved
from ..validation.checks import check_combination, check_pattern, check_range
from ..validation.naming import check_name
from . import definition as d
from .expressions import BOOLEAN, S3_URI, STRING, Expression, Property, check_kind
from .steps import MAX_PROCESSING_SECONDS, Step, _count, _instance_type, _s3, _seconds

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup
    from .pipeline import _BindContext

PROCESSING_BASE = "/opt/ml/processing"
BASELINE_DATASET_PATH = f"{PROCESSING_BASE}/input/baseline_dataset_input"
OUTPUT_PATH = f"{PROCESSING_BASE}/output"
CLARIFY_CONFIG_PATH = f"{PROCESSING_BASE}/input/config"
CLARIFY_DATA_PATH = f"{PROCESSING_BASE}/input/data"

QUALITY_CHECK_TYPES = ("DATA_QUALITY", "MODEL_QUALITY")
CLARIFY_CHECK_TYPES = ("DATA_BIAS", "MODEL_BIAS", "MODEL_EXPLAINABILITY")
PROBLEM_TYPES = ("Regression", "BinaryClassification", "MulticlassClassification")
#: Dataset formats of the model-monitor analyzer (the SDK's ``DatasetFormat``).
DATASET_FORMATS = ("csv", "json", "parquet")
#: Clarify's ``dataset_type`` values (analysis configuration file).
CLARIFY_DATASET_TYPES = ("text/csv", "application/jsonlines", "application/json", "application/x-parquet",
                         "application/x-image")
#: Pre- and post-training bias metrics (the SDK's ``DataBiasCheckConfig`` / ``ModelBiasCheckConfig``).
PRE_TRAINING_METRICS = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")
POST_TRAINING_METRICS = ("DPPL", "DI", "DCA", "DCR", "RD", "DAR", "DRR", "AD", "CDDPL", "TE", "FT")
SHAP_AGG_METHODS = ("mean_abs", "median", "mean_sq")


def _flag(where: str, argument: str, value: Any) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, argument, value, BOOLEAN)
    if not isinstance(value, bool):
        raise ValidationError(where, argument, value, "true, false or a Boolean parameter")
    return value


def _literal(where: str, argument: str, value: Any, pattern: str = r"[^\x00-\x1f]{1,256}") -> str:
    if is_unresolved(value):
        raise ValidationError(where, argument, value, "a string known at synth, not a Token")
    text = "" if value is None else value  # None fails the pattern as "" (min_length=1)
    check_pattern(where, argument, text, pattern, min_length=1,
                  description="a string known at synth (1-256 characters, no control characters)")
    return text


class _CheckStep(Step):
    """What both check steps share: the job's instances and limits, the check's step keys."""

    resource_types: ClassVar[tuple[str, ...]] = ("processing-job",)
    check_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, *, check_type: str, output_uri: Any, model_package_group: "IModelPackageGroup | None",
                 skip_check: Any, register_new_baseline: Any, supplied_baseline_constraints: Any,
                 instance_type: Any, instance_count: Any, volume_size_gb: int, max_runtime: Duration,
                 depends_on: Sequence[Step], display_name: str | None, description: str | None) -> None:
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        check_choice(w, "check_type", check_type, self.check_types)
        self.check_type: str = check_type
        self.output_uri: Any = _s3(w, "output_uri", output_uri)
        if model_package_group is not None and not hasattr(model_package_group, "grant_read"):
            raise ValidationError(w, "model_package_group", model_package_group, "an IModelPackageGroup")
        self.model_package_group: "IModelPackageGroup | None" = model_package_group
        self.skip_check: Any = _flag(w, "skip_check", skip_check)
        self.register_new_baseline: Any = _flag(w, "register_new_baseline", register_new_baseline)
        self.supplied_baseline_constraints: Any = (None if supplied_baseline_constraints is None
                                              else _s3(w, "supplied_baseline_constraints", supplied_baseline_constraints))
        if model_package_group is None and supplied_baseline_constraints is None and skip_check is False:
            raise ValidationError(w, "model_package_group", None,
                                  "a model_package_group (its latest approved version's baseline) or "
                                  "supplied_baseline_constraints to check against, or skip_check=True")
        self.instance_type: Any = _instance_type(w, "instance_type", instance_type, "processing")
        self.instance_count: Any = _count(w, "instance_count", instance_count, 1, 100)
        self.volume_size_gb: Any = _count(w, "volume_size_gb", volume_size_gb, 1, 16384)
        self.max_runtime: int | None = _seconds(w, "max_runtime", max_runtime, MAX_PROCESSING_SECONDS)

    # properties every check has
    @property
    def calculated_baseline_constraints(self) -> Property:
        """The constraints this run calculated (``CalculatedBaselineConstraints``)."""
        return Property(self, "CalculatedBaselineConstraints", S3_URI)

    @property
    def baseline_used_for_drift_check_constraints(self) -> Property:
        """The constraints the check compared against (``BaselineUsedForDriftCheckConstraints``)."""
        return Property(self, "BaselineUsedForDriftCheckConstraints", S3_URI)

    def _grant(self, ctx: "_BindContext") -> None:
        if self.model_package_group is not None:
            # The check reads the baseline of the group's latest approved version.
            self.model_package_group.grant_read(ctx.grantee)

    def _job(self, ctx: "_BindContext", *, image_uri: Any, inputs: list[dict[str, Any]], output_name: str,
             network_isolation: bool) -> dict[str, Any]:
        args = d.processing_step(
            self.name, ctx.job, image_uri=image_uri, entrypoint=[], instance_type=self.instance_type,
            volume_size_gb=self.volume_size_gb, inputs=inputs,
            outputs=[d.processing_output(output_name, self.output_uri, OUTPUT_PATH)],
            max_runtime_seconds=self.max_runtime or 1, instance_count=self.instance_count,
        )["Arguments"]
        args["AppSpecification"].pop("ContainerEntrypoint")
        args["NetworkConfig"]["EnableNetworkIsolation"] = network_isolation
        return args

    def _check_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {"CheckType": self.check_type}
        if self.model_package_group is not None:
            keys["ModelPackageGroupName"] = self.model_package_group.model_package_group_name
        keys["SkipCheck"] = self.skip_check
        keys["RegisterNewBaseline"] = self.register_new_baseline
        return keys


class QualityCheckStep(_CheckStep):
    """A ``QualityCheck`` step: SageMaker's model-monitor analyzer computes the statistics and
    constraints of ``baseline_dataset`` (``DATA_QUALITY``) or the quality metrics of its
    predictions against ground truth (``MODEL_QUALITY``, with ``problem_type`` and the
    attributes), and the step fails when they drift from the baseline it checks against: the
    latest approved version's in ``model_package_group`` or the supplied baseline files. With
    ``register_new_baseline`` the calculated baseline becomes the one later steps read.

    Defaults: network isolation, the pipeline's VPC, inter-container traffic encryption, the
    pipeline's key on the volume and the outputs, 1 hour max runtime, run as the pipeline role.

    Properties: ``calculated_baseline_constraints``, ``calculated_baseline_statistics``,
    ``baseline_used_for_drift_check_constraints``, ``baseline_used_for_drift_check_statistics``
    (register them with the version as drift-check baselines)."""

    step_type = "QualityCheck"
    check_types: ClassVar[tuple[str, ...]] = QUALITY_CHECK_TYPES

    def __init__(
        self,
        name: str,
        *,
        baseline_dataset: Any,
        output_uri: Any,
        check_type: str = "DATA_QUALITY",
        dataset_format: str = "csv",
        header: bool = True,
        problem_type: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        ground_truth_attribute: str | None = None,
        probability_threshold_attribute: float | None = None,
        model_package_group: "IModelPackageGroup | None" = None,
        skip_check: Any = False,
        register_new_baseline: Any = False,
        supplied_baseline_statistics: Any = None,
        supplied_baseline_constraints: Any = None,
        instance_type: Any = "ml.m5.xlarge",
        instance_count: Any = 1,
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.hours(1),
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param baseline_dataset: the dataset's S3 URI (a parameter or a step property works too).
        :param output_uri: where the calculated statistics and constraints go.
        :param check_type: DATA_QUALITY or MODEL_QUALITY. Default: DATA_QUALITY.
        :param dataset_format: csv, json (JSON lines) or parquet. Default: csv.
        :param header: the CSV has a header row. Only with csv. Default: true.
        :param problem_type: Regression, BinaryClassification or MulticlassClassification.
            Required with MODEL_QUALITY, refused with DATA_QUALITY.
        :param inference_attribute: index or JSONPath of the prediction (MODEL_QUALITY). Default: none.
        :param probability_attribute: index or JSONPath of the probability (MODEL_QUALITY). Default: none.
        :param ground_truth_attribute: index or JSONPath of the label (required with MODEL_QUALITY).
        :param probability_threshold_attribute: the threshold that turns probabilities into
            labels (MODEL_QUALITY, binary classification). Default: none.
        :param model_package_group: the group whose latest approved version's baseline the check
            compares with; the pipeline role may read that group. Default: none.
        :param skip_check: skip the drift check (a Boolean parameter lets an execution choose). Default: false.
        :param register_new_baseline: make the calculated baseline the one used. Default: false.
        :param supplied_baseline_statistics: / :param supplied_baseline_constraints: S3 URIs of the
            baseline files to compare with instead of the group's. Default: none.
        :param instance_type: Default: ml.m5.xlarge. :param instance_count: 1-100. Default: 1.
        :param volume_size_gb: 1-16384. Default: 30. :param max_runtime: 1 s - 7 days. Default: 1 hour.
        """
        super().__init__(name, check_type=check_type, output_uri=output_uri, model_package_group=model_package_group,
                         skip_check=skip_check, register_new_baseline=register_new_baseline,
                         supplied_baseline_constraints=supplied_baseline_constraints, instance_type=instance_type,
                         instance_count=instance_count, volume_size_gb=volume_size_gb, max_runtime=max_runtime,
                         depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        self.baseline_dataset: Any = _s3(w, "baseline_dataset", baseline_dataset)
        check_choice(w, "dataset_format", dataset_format, DATASET_FORMATS)
        if dataset_format != "csv" and header is not True:
            raise ValidationError(w, "header", header, "only with dataset_format csv")
        self.dataset_format: str = dataset_format
        self.header: bool = bool(header)
        model = {"inference_attribute": inference_attribute, "probability_attribute": probability_attribute,
                 "ground_truth_attribute": ground_truth_attribute,
                 "probability_threshold_attribute": probability_threshold_attribute}
        if check_type == "DATA_QUALITY":
            for argument, value in [("problem_type", problem_type), *model.items()]:
                if value is not None:
                    raise ValidationError(w, argument, value, "only with check_type MODEL_QUALITY")
        else:
            check_choice(w, "problem_type", problem_type, PROBLEM_TYPES, note="with MODEL_QUALITY")
            if ground_truth_attribute is None:
                raise ValidationError(w, "ground_truth_attribute", None, "required with MODEL_QUALITY")
            if inference_attribute is None and probability_attribute is None:
                raise ValidationError(w, "inference_attribute", None,
                                      "inference_attribute or probability_attribute with MODEL_QUALITY")
            check_range(w, "probability_threshold_attribute", probability_threshold_attribute, minimum=0, maximum=1)
            if probability_threshold_attribute is not None and problem_type != "BinaryClassification":
                raise ValidationError(w, "probability_threshold_attribute", probability_threshold_attribute,
                                      "only with problem_type BinaryClassification")
        self.problem_type: str | None = problem_type
        self.model_attributes: dict[str, Any] = {k: v for k, v in model.items() if v is not None}
        self.supplied_baseline_statistics: Any = (None if supplied_baseline_statistics is None
                                             else _s3(w, "supplied_baseline_statistics", supplied_baseline_statistics))

    @property
    def calculated_baseline_statistics(self) -> Property:
        return Property(self, "CalculatedBaselineStatistics", S3_URI)

    @property
    def baseline_used_for_drift_check_statistics(self) -> Property:
        return Property(self, "BaselineUsedForDriftCheckStatistics", S3_URI)

    def _bind(self, ctx: "_BindContext") -> None:
        from ..inference.models import ContainerImage
        from .monitor import ANALYZER_IMAGE_ACCOUNTS, ANALYZER_REPOSITORY

        self._image_uri = ctx.image_uri(ContainerImage.from_regional_registry(ANALYZER_IMAGE_ACCOUNTS,
                                                                              ANALYZER_REPOSITORY))

    def dataset_format_json(self) -> dict[str, Any]:
        """The analyzer's ``dataset_format`` (the SDK's ``DatasetFormat.csv/json``)."""
        if self.dataset_format == "csv":
            return {"csv": {"header": self.header, "output_columns_position": "START"}}
        if self.dataset_format == "json":
            return {"json": {"lines": True}}
        return {"parquet": {}}

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        args = self._job(ctx, image_uri=self._image_uri,
                         inputs=[d.processing_input("baseline_dataset_input", self.baseline_dataset,
                                                    BASELINE_DATASET_PATH)],
                         output_name="quality_check_output", network_isolation=True)
        env: dict[str, Any] = {
            "dataset_format": json.dumps(self.dataset_format_json()),
            "dataset_source": BASELINE_DATASET_PATH,
            "output_path": OUTPUT_PATH,
            "publish_cloudwatch_metrics": "Disabled",  # only monitoring schedules publish metrics
        }
        if self.check_type == "MODEL_QUALITY":
            env["analysis_type"] = "MODEL_QUALITY"
            env["problem_type"] = self.problem_type
            env.update({k: str(v) for k, v in self.model_attributes.items()})
        args["Environment"] = env
        return args

    def _extra(self, ctx: "_BindContext") -> dict[str, Any]:
        keys = self._check_keys()
        if self.supplied_baseline_statistics is not None:
            keys["SuppliedBaselineStatistics"] = self.supplied_baseline_statistics
        if self.supplied_baseline_constraints is not None:
            keys["SuppliedBaselineConstraints"] = self.supplied_baseline_constraints
        return keys


class BiasFacet:
    """A sensitive attribute of a Clarify bias check: a column ``name`` and the values (or the
    threshold) of its sensitive group (``facet`` of the analysis configuration)."""

    def __init__(self, name: str, values: Sequence[Any] = ()) -> None:
        _literal("BiasFacet", "name", name)
        for value in values:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValidationError(f"BiasFacet {name!r}", "values", value, "strings or numbers")
        self.name: str = name
        self.values: list[Any] = list(values)

    def to_json(self) -> dict[str, Any]:
        facet: dict[str, Any] = {"name_or_index": self.name}
        if self.values:
            facet["value_or_threshold"] = list(self.values)
        return facet


class ClarifyCheckStep(_CheckStep):
    """A ``ClarifyCheck`` step: SageMaker Clarify computes pre-training bias of ``dataset_uri``
    (``DATA_BIAS``), post-training bias of ``model_name``'s predictions (``MODEL_BIAS``) or SHAP
    explanations (``MODEL_EXPLAINABILITY``), and the step fails when they drift from the
    baseline it checks against (the latest approved version's in ``model_package_group`` or
    ``supplied_baseline_constraints``).

    Defaults: the pipeline's VPC, inter-container traffic encryption, the pipeline's key on the
    volume and the outputs, 1 hour max runtime, run as the pipeline role. Network isolation is
    off, as Clarify requires (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html);
    with a model, the role may create, invoke and delete Clarify's shadow endpoint. Clarify is
    closed to new customers (existing ones keep using it;
    https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-processing-job-configure-analysis.html).

    Properties: ``calculated_baseline_constraints``, ``baseline_used_for_drift_check_constraints``."""

    step_type = "ClarifyCheck"
    check_types: ClassVar[tuple[str, ...]] = CLARIFY_CHECK_TYPES

    def __init__(
        self,
        name: str,
        *,
        dataset_uri: Any,
        output_uri: Any,
        check_type: str = "DATA_BIAS",
        label: str | None = None,
        headers: Sequence[str] = (),
        dataset_type: str = "text/csv",
        facets: Sequence[BiasFacet] = (),
        label_values: Sequence[Any] = (),
        group_variable: str | None = None,
        methods: str | Sequence[str] = "all",
        model_name: Any = None,
        model_instance_type: str = "ml.m5.large",
        model_instance_count: int = 1,
        content_type: str | None = None,
        accept_type: str | None = None,
        predicted_label: str | int | None = None,
        probability: str | int | None = None,
        probability_threshold: float | None = None,
        shap_baseline: Any = None,
        shap_num_samples: int = 100,
        shap_agg_method: str = "mean_abs",
        model_package_group: "IModelPackageGroup | None" = None,
        skip_check: Any = False,
        register_new_baseline: Any = False,
        supplied_baseline_constraints: Any = None,
        instance_type: Any = "ml.m5.xlarge",
        instance_count: Any = 1,
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.hours(1),
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param dataset_uri: the dataset (S3 URI, parameter or property).
        :param output_uri: where Clarify writes its analysis.
        :param check_type: DATA_BIAS, MODEL_BIAS or MODEL_EXPLAINABILITY. Default: DATA_BIAS.
        :param label: the target column (required for bias checks). Default: none.
        :param headers: the dataset's column names. Default: none (the dataset's header).
        :param dataset_type: text/csv, application/jsonlines, application/json,
            application/x-parquet or application/x-image. Default: text/csv.
        :param facets: sensitive attributes (at least one for bias checks). Default: none.
        :param label_values: label values (or a threshold) of the positive outcome (required for
            bias checks). Default: none.
        :param group_variable: column for conditional demographic disparity. Default: none.
        :param methods: "all" or metric codes (pre-training: CI, DPL, KL, JS, LP, TVD, KS, CDDL;
            post-training: DPPL, DI, DCA, DCR, RD, DAR, DRR, AD, CDDPL, TE, FT). Default: all.
        :param model_name: the model Clarify queries through a shadow endpoint (a model name or
            ``CreateModelStep.model_name``); required for MODEL_BIAS and MODEL_EXPLAINABILITY.
        :param model_instance_type: / :param model_instance_count: the shadow endpoint's
            instances. Default: ml.m5.large, 1.
        :param content_type: / :param accept_type: the model's request and response types.
            Default: the dataset's type.
        :param predicted_label: / :param probability: where the prediction is in the model's
            response (index or JSONPath). Default: none (the whole response).
        :param probability_threshold: probabilities at or above it count as the positive label
            (MODEL_BIAS). Default: none.
        :param shap_baseline: SHAP baseline records (a list of rows) or an S3 URI of them.
            Default: Clarify computes one (MODEL_EXPLAINABILITY).
        :param shap_num_samples: samples per record, 1-100000 (MODEL_EXPLAINABILITY). Default: 100.
        :param shap_agg_method: mean_abs, median or mean_sq. Default: mean_abs.
        :param model_package_group: / :param skip_check: / :param register_new_baseline: /
            :param supplied_baseline_constraints: as :class:`QualityCheckStep`.
        :param instance_type: Default: ml.m5.xlarge. :param instance_count: 1-100. Default: 1.
        :param volume_size_gb: Default: 30. :param max_runtime: Default: 1 hour.
        """
        super().__init__(name, check_type=check_type, output_uri=output_uri, model_package_group=model_package_group,
                         skip_check=skip_check, register_new_baseline=register_new_baseline,
                         supplied_baseline_constraints=supplied_baseline_constraints, instance_type=instance_type,
                         instance_count=instance_count, volume_size_gb=volume_size_gb, max_runtime=max_runtime,
                         depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        self.dataset_uri: Any = _s3(w, "dataset_uri", dataset_uri)
        check_choice(w, "dataset_type", dataset_type, CLARIFY_DATASET_TYPES)
        headers = [_literal(w, "headers", h) for h in headers]
        if len(set(headers)) != len(headers):
            raise ValidationError(w, "headers", headers, "unique column names")
        bias = check_type in ("DATA_BIAS", "MODEL_BIAS")
        if bias:
            if label is None:
                raise ValidationError(w, "label", None, f"required with {check_type} (the target column)")
            if not facets:
                raise ValidationError(w, "facets", [], f"at least one BiasFacet with {check_type}")
            if not label_values:
                raise ValidationError(w, "label_values", [], f"the positive outcome's label values with {check_type}")
        else:
            for argument, value in (("facets", list(facets)), ("label_values", list(label_values)),
                                    ("group_variable", group_variable)):
                if value:
                    raise ValidationError(w, argument, value, "only with DATA_BIAS or MODEL_BIAS")
        for facet in facets:
            if not isinstance(facet, BiasFacet):
                raise ValidationError(w, "facets", facet, "BiasFacet objects")
        if label is not None:
            _literal(w, "label", label)
        for column, argument in ((label, "label"), *((f.name, "facets") for f in facets), (group_variable, "group_variable")):
            if headers and column is not None:
                check_choice(w, argument, column, headers)
        allowed = {"DATA_BIAS": PRE_TRAINING_METRICS, "MODEL_BIAS": POST_TRAINING_METRICS}.get(check_type, ())
        if methods != "all":
            if not bias:
                raise ValidationError(w, "methods", methods, "only with DATA_BIAS or MODEL_BIAS")
            if isinstance(methods, str) or not methods or any(m not in allowed for m in methods):
                raise ValidationError(w, "methods", methods, f"'all' or a list of {', '.join(allowed)}")
        needs_model = check_type != "DATA_BIAS"
        if needs_model and model_name is None:
            raise ValidationError(w, "model_name", None, f"required with {check_type} (Clarify queries the model)")
        if not needs_model and model_name is not None:
            raise ValidationError(w, "model_name", model_name, "only with MODEL_BIAS or MODEL_EXPLAINABILITY")
        self.model_name: Any = None if model_name is None else _model_name(w, model_name)
        self.model_instance_type: str = _instance_type(w, "model_instance_type", model_instance_type, "hosting")
        self.model_instance_count: int = _count(w, "model_instance_count", model_instance_count, 1, 100)
        check_combination(w, "probability_threshold", probability_threshold,
                          refused=probability_threshold is not None and check_type != "MODEL_BIAS",
                          because="only with check_type MODEL_BIAS")
        check_range(w, "probability_threshold", probability_threshold, minimum=0, maximum=1, note="with MODEL_BIAS")
        if check_type != "MODEL_EXPLAINABILITY":
            if shap_baseline is not None:
                raise ValidationError(w, "shap_baseline", shap_baseline, "only with MODEL_EXPLAINABILITY")
        elif shap_baseline is not None and not (
                (isinstance(shap_baseline, str) and shap_baseline.startswith("s3://"))
                or (isinstance(shap_baseline, (list, tuple)) and shap_baseline
                    and all(isinstance(r, (list, tuple)) for r in shap_baseline))):
            raise ValidationError(w, "shap_baseline", shap_baseline, "a list of records (lists) or an s3:// URI")
        check_range(w, "shap_num_samples", shap_num_samples, minimum=1, maximum=100000, integer=True)
        check_choice(w, "shap_agg_method", shap_agg_method, SHAP_AGG_METHODS)
        for argument, value in (("content_type", content_type), ("accept_type", accept_type)):
            if value is not None:
                _literal(w, argument, value)
        self.label: str | None = label
        self.headers: list[str] = headers
        self.dataset_type: str = dataset_type
        self.facets: list[BiasFacet] = list(facets)
        self.label_values: list[Any] = list(label_values)
        self.group_variable: str | None = group_variable
        self.methods: str | list[str] = "all" if methods == "all" else list(methods)
        self.content_type: str | None = content_type
        self.accept_type: str | None = accept_type
        self.predicted_label: str | int | None = predicted_label
        self.probability: str | int | None = probability
        self.probability_threshold: float | None = probability_threshold
        self.shap_baseline: Any = shap_baseline
        self.shap_num_samples: int = shap_num_samples
        self.shap_agg_method: str = shap_agg_method

    @property
    def analysis_config(self) -> dict[str, Any]:
        """The analysis configuration file the job reads (built as the SDK's
        ``ClarifyCheckStep._generate_processing_job_analysis_config`` builds it; the model's name
        is the step's ``ModelName``, resolved when the pipeline runs)."""
        config: dict[str, Any] = {"dataset_type": self.dataset_type}
        if self.headers:
            config["headers"] = list(self.headers)
        if self.label is not None:
            config["label"] = self.label
        if self.check_type in ("DATA_BIAS", "MODEL_BIAS"):
            config["label_values_or_threshold"] = list(self.label_values)
            config["facet"] = [f.to_json() for f in self.facets]
            if self.group_variable:
                config["group_variable"] = self.group_variable
            kind = "pre_training_bias" if self.check_type == "DATA_BIAS" else "post_training_bias"
            config["methods"] = {kind: {"methods": self.methods}}
        else:
            shap: dict[str, Any] = {"num_samples": self.shap_num_samples, "agg_method": self.shap_agg_method,
                                    "use_logit": False, "save_local_shap_values": True}
            if self.shap_baseline is not None:
                shap["baseline"] = (self.shap_baseline if isinstance(self.shap_baseline, str)
                                    else [list(r) for r in self.shap_baseline])
            config["methods"] = {"shap": shap}
        if self.model_name is not None:
            predictor: dict[str, Any] = {"instance_type": self.model_instance_type,
                                         "initial_instance_count": self.model_instance_count,
                                         "content_type": self.content_type or self.dataset_type,
                                         "accept_type": self.accept_type or self.content_type or self.dataset_type}
            if self.predicted_label is not None:
                predictor["label"] = self.predicted_label
            if self.probability is not None:
                predictor["probability"] = self.probability
            config["predictor"] = predictor
            if self.probability_threshold is not None:
                config["probability_threshold"] = float(self.probability_threshold)
        methods: dict[str, Any] = config["methods"]
        methods["report"] = {"name": "report", "title": "Analysis Report"}
        return config

    def _grant(self, ctx: "_BindContext") -> None:
        super()._grant(ctx)
        if self.model_name is not None:
            # Clarify's shadow endpoint, named by Clarify at run time.
            iam.Grant.add_to_principal(
                grantee=ctx.grantee,
                actions=["sagemaker:CreateEndpointConfig", "sagemaker:DeleteEndpointConfig",
                         "sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:DescribeEndpoint",
                         "sagemaker:InvokeEndpoint"],
                resource_arns=[f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:endpoint/*",
                               f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:endpoint-config/*"],
            )

    def _bind(self, ctx: "_BindContext") -> None:
        from ..inference.models import ContainerImage
        from .monitor import CLARIFY_IMAGE_ACCOUNTS, CLARIFY_REPOSITORY

        self._image_uri = ctx.image_uri(ContainerImage.from_regional_registry(CLARIFY_IMAGE_ACCOUNTS,
                                                                              CLARIFY_REPOSITORY))
        directory = tempfile.mkdtemp(prefix="clarify-")
        path = os.path.join(directory, "analysis_config.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.analysis_config, f, sort_keys=True, indent=1)
        self._config_uri = ctx.asset(f"{self.name}AnalysisConfig", path).s3_object_url

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        return self._job(ctx, image_uri=self._image_uri, inputs=[
            d.processing_input("analysis_config", self._config_uri, CLARIFY_CONFIG_PATH),
            d.processing_input("dataset", self.dataset_uri, CLARIFY_DATA_PATH),
        ], output_name="analysis_result", network_isolation=False)

    def _extra(self, ctx: "_BindContext") -> dict[str, Any]:
        keys = self._check_keys()
        if self.supplied_baseline_constraints is not None:
            keys["SuppliedBaselineConstraints"] = self.supplied_baseline_constraints
        if self.model_name is not None:
            keys["ModelName"] = self.model_name
        return keys


def _model_name(where: str, value: Any) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, "model_name", value, STRING)
    if not isinstance(value, str):
        raise ValidationError(where, "model_name", value, "a model name or a property")
    check_name(where, "model_name", value, shape="EndpointName")
    return value


__all__ = ["BiasFacet", "ClarifyCheckStep", "QualityCheckStep"]
