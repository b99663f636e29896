"""Typed steps of a :class:`~sagemaker_constructs.Pipeline`.

A step is plain data (like the SageMaker Python SDK's steps): its name, its arguments and the
properties other steps read (``train.model_artifacts``, ``tuning.best_training_job``,
``evaluate.property_file(...)``). The pipeline binds its images and code assets, gives every job
step the secure settings (role, VPC, network isolation where the job type has it, inter-container
traffic encryption, KMS on volumes and outputs, a max runtime) and renders it.

Each job step's ``Arguments`` is the request of its API without the job name (the SDK's
``trim_request_dict``): CreateTrainingJob, CreateProcessingJob, CreateTransformJob,
CreateHyperParameterTuningJob, CreateAutoMLJob (the AutoML step's request is CreateAutoMLJob's
and supports only ``ENSEMBLING`` mode, as the SDK's ``AutoMLStep.arguments`` enforces,
src/sagemaker/workflow/automl_step.py), CreateModel and CreateModelPackage. Tests validate each
against botocore's input shape.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from ..errors import ValidationError, is_unresolved
from ..validation.catalog import check_instance_type, instance_facts
from ..validation.checks import check_choice, check_count, check_pattern, check_range, duration_to_seconds
from ..validation.limits import check_map, check_string
from . import definition as d
from .registry import group_name_or_arn
from .expressions import (
    ANY,
    BOOLEAN,
    MODEL_ARTIFACTS,
    NUMBER,
    S3_URI,
    STRING,
    Expression,
    Join,
    Property,
    PropertyFile,
    check_kind,
)

if TYPE_CHECKING:
    from ..inference.models import ContainerImage
    from ..interfaces import IModelPackageGroup
    from .pipeline import _BindContext

#: StepName in the published pipeline definition schema.
STEP_NAME_PATTERN = r"[A-Za-z0-9\-_]{1,64}"
#: CreateTrainingJob's MaxRuntimeInSeconds / MaxWaitTimeInSeconds ceiling: 28 days
#: (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html).
MAX_TRAINING_SECONDS = 28 * 24 * 3600
#: CreateProcessingJob's MaxRuntimeInSeconds ceiling: 7 days (API_ProcessingStoppingCondition).
MAX_PROCESSING_SECONDS = 7 * 24 * 3600
TRAINING_CODE_DIR = "/opt/ml/input/data/code"
PROCESSING_CODE_DIR = "/opt/ml/processing/input/code"


def _seconds(where: str, argument: str, value: Duration | None, maximum: int, minimum: int = 1) -> int | None:
    if value is None:
        return None
    if not isinstance(value, Duration):
        raise ValidationError(where, argument, value, "a Duration")
    if value.is_unresolved():
        raise ValidationError(where, argument, value, "a Duration known at synth")
    seconds = int(duration_to_seconds(where, argument, value))
    check_range(where, argument, seconds, minimum=minimum, maximum=maximum, unit="seconds")
    return seconds


def _count(where: str, argument: str, value: Any, minimum: int, maximum: int) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, argument, value, NUMBER)
    check_range(where, argument, value, minimum=minimum, maximum=maximum, integer=True)  # Tokens pass
    return value


def _instance_type(where: str, argument: str, value: Any, use: str) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, argument, value, STRING)
    check_instance_type(where, argument, value, use=use)
    return value


def _s3(where: str, argument: str, value: Any) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, argument, value, S3_URI)
    if not isinstance(value, str) or not (is_unresolved(value) or value.startswith("s3://") or "${Token[" in value):
        raise ValidationError(where, argument, value, "an s3:// URI, a Parameter or a step property")
    return value


def _finite(where: str, argument: str, value: Any) -> None:
    """Raise when ``value`` is a float NaN or infinity: the definition is JSON, which has neither (jsii
    could not carry it to the template; a range's ``str(nan)`` reached SageMaker)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(where, argument, value, "a finite number")


def _string(where: str, argument: str, value: Any) -> Any:
    if isinstance(value, Expression):
        return check_kind(where, argument, value, STRING)
    if not isinstance(value, str):
        raise ValidationError(where, argument, value, "a string, a String parameter or a string property")
    return value


def _strings(where: str, argument: str, values: Mapping[str, Any] | None, *, shape: str) -> dict[str, Any]:
    """String (or String parameter / property) values, checked against botocore map shape ``shape``
    (entries, key pattern and length, value length: ``validation.limits``)."""
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        _string(where, f"{argument}[{key!r}]", value)
        out[key] = value
    check_map(where, argument, out, shape=shape)
    return out


# ------------------------------------------------------------------ base
class Step:
    """A step of a pipeline (subclasses: the typed steps). ``depends_on`` adds explicit
    dependencies (a ``DependsOn`` list) to those that follow from the properties a step reads."""

    step_type: ClassVar[str] = ""
    #: SageMaker resource types the pipeline role creates for this step (``JobExecutionRole``'s
    #: ``pipeline_resources``).
    resource_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, *, depends_on: Sequence["Step"] = (), display_name: str | None = None,
                 description: str | None = None) -> None:
        where = f"{type(self).__name__}"
        check_pattern(where, "name", "" if name is None else name, STEP_NAME_PATTERN,
                      description="1-64 letters, digits, hyphens and underscores")
        self.name: str = name
        self.where: str = f"{type(self).__name__} {name!r}"
        for dep in depends_on:
            if not isinstance(dep, Step):
                raise ValidationError(self.where, "depends_on", dep, "steps (Step objects)")
        self.depends_on: list["Step"] = list(depends_on)
        check_pattern(self.where, "display_name", display_name, STEP_NAME_PATTERN,
                      description="1-64 letters, digits, hyphens and underscores")
        check_pattern(self.where, "description", description, r"[\s\S]*", max_length=3072,
                      description="a description of at most 3072 characters")
        self.display_name: str | None = display_name
        self.description: str | None = description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # what the pipeline calls
    def instance_types(self) -> list[Any]:
        """The instance types this step's jobs run on (literal types, or pipeline parameters):
        the pipeline role's volume-key guardrail exempts those with local NVMe storage."""
        found = [g.instance_type for g in getattr(self, "instance_groups", None) or ()]
        if getattr(self, "instance_type", None) is not None:
            found.append(self.instance_type)  # type: ignore[attr-defined]
        return found

    def nested_steps(self) -> list["Step"]:
        """Steps inside this one (a condition's branches)."""
        return []

    def _grant(self, ctx: "_BindContext") -> None:
        """Permissions of the pipeline role for this step, beyond creating its jobs."""

    def _bind(self, ctx: "_BindContext") -> None:
        """Bind images and code assets (called once, before :meth:`_arguments`)."""

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:  # pragma: no cover - subclasses
        raise NotImplementedError

    def _extra(self, ctx: "_BindContext") -> dict[str, Any]:
        """Step-level keys besides ``Arguments`` (PropertyFiles, FunctionArn, ...)."""
        return {}

    def _to_definition(self, ctx: "_BindContext") -> dict[str, Any]:
        step: dict[str, Any] = {"Name": self.name, "Type": self.step_type}
        if self.depends_on:
            step["DependsOn"] = [s.name for s in self.depends_on]
        if self.display_name:
            step["DisplayName"] = self.display_name
        if self.description:
            step["Description"] = self.description
        step["Arguments"] = self._arguments(ctx)
        step.update(self._extra(ctx))
        return step


def _image(where: str, image: Any) -> Any:
    from ..inference.models import ContainerImage

    if not isinstance(image, ContainerImage):
        raise ValidationError(where, "image", image, "a ContainerImage")
    return image


# ------------------------------------------------------------------ training
@dataclass(frozen=True)
class TrainingInput:
    """A training channel: every object under ``s3_uri``; ``distribution`` ``ShardedByS3Key``
    gives each instance a share of the objects (data-parallel training)."""

    s3_uri: Any
    distribution: str = "FullyReplicated"
    content_type: str | None = None


@dataclass(frozen=True)
class InstanceGroup:
    """One group of a heterogeneous cluster (ResourceConfig ``InstanceGroups``)."""

    name: str
    instance_type: str
    instance_count: int = 1


#: Instance types SageMaker's distributed data parallel library runs on (the SDK's
#: ``SM_DATAPARALLEL_SUPPORTED_INSTANCE_TYPES``, src/sagemaker/fw_utils.py).
DATA_PARALLEL_INSTANCE_TYPES = ("ml.p3.16xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge", "ml.p4de.24xlarge",
                                "ml.p5.48xlarge")


@dataclass(frozen=True)
class Distribution:
    """How a framework container runs on several instances, rendered as the hyperparameters
    SageMaker's framework containers read (the SDK's ``Framework._distribution_configuration``,
    src/sagemaker/estimator.py). Create with a class method."""

    kind: str
    processes_per_host: int | None = None
    custom_mpi_options: str | None = None
    parameters: Mapping[str, Any] | None = None
    instance_groups: Sequence[str] = ()

    @classmethod
    def torchrun(cls, *, instance_groups: Sequence[str] = ()) -> "Distribution":
        """PyTorch ``torchrun`` (``sagemaker_torch_distributed_enabled``): GPU or Trainium instances."""
        return cls("torchrun", instance_groups=tuple(instance_groups))

    @classmethod
    def mpi(cls, *, processes_per_host: int = 1, custom_mpi_options: str | None = None,
            instance_groups: Sequence[str] = ()) -> "Distribution":
        """Horovod / MPI (``sagemaker_mpi_enabled``)."""
        return cls("mpi", processes_per_host=processes_per_host, custom_mpi_options=custom_mpi_options,
                   instance_groups=tuple(instance_groups))

    @classmethod
    def data_parallel(cls, *, custom_mpi_options: str | None = None) -> "Distribution":
        """SageMaker's distributed data parallel library (``sagemaker_distributed_dataparallel_enabled``)."""
        return cls("data_parallel", custom_mpi_options=custom_mpi_options)

    @classmethod
    def model_parallel(cls, *, parameters: Mapping[str, Any], processes_per_host: int = 8,
                       custom_mpi_options: str | None = None) -> "Distribution":
        """SageMaker's model parallel library: ``mp_parameters`` and MPI."""
        return cls("model_parallel", processes_per_host=processes_per_host, custom_mpi_options=custom_mpi_options,
                   parameters=dict(parameters))

    @classmethod
    def parameter_server(cls, *, instance_groups: Sequence[str] = ()) -> "Distribution":
        """TensorFlow parameter servers (``sagemaker_parameter_server_enabled``)."""
        return cls("parameter_server", instance_groups=tuple(instance_groups))

    def hyperparameters(self, instance_type: Any) -> dict[str, Any]:
        on = json.dumps(True)
        if self.kind == "torchrun":
            hp: dict[str, Any] = {"sagemaker_torch_distributed_enabled": on}
        elif self.kind == "parameter_server":
            hp = {"sagemaker_parameter_server_enabled": on}
        elif self.kind == "data_parallel":
            hp = {"sagemaker_distributed_dataparallel_enabled": on,
                  "sagemaker_distributed_dataparallel_custom_mpi_options": json.dumps(self.custom_mpi_options or "")}
        else:
            hp = {"sagemaker_mpi_enabled": on,
                  "sagemaker_mpi_num_of_processes_per_host": json.dumps(self.processes_per_host or 1)}
            if self.custom_mpi_options:
                hp["sagemaker_mpi_custom_mpi_options"] = json.dumps(self.custom_mpi_options)
            if self.kind == "model_parallel":
                hp["mp_parameters"] = json.dumps(dict(self.parameters or {}), sort_keys=True)
        if self.instance_groups:
            hp["sagemaker_distribution_instance_groups"] = json.dumps(list(self.instance_groups))
        hp["sagemaker_instance_type"] = instance_type if isinstance(instance_type, Expression) else json.dumps(
            instance_type)
        return hp


class TrainingStep(Step):
    """A ``Training`` step (CreateTrainingJob): in the VPC, network isolation, inter-container
    traffic encryption, the pipeline's key on volume and output, a max runtime; managed spot
    with checkpoints when ``use_spot``; ``distribution`` across ``instance_count`` instances or
    ``instance_groups``; a warm pool with ``keep_alive``.

    Properties: ``model_artifacts`` (the ``model.tar.gz`` S3 URI), ``training_job_name``,
    :meth:`final_metric`.
    """

    step_type = "Training"
    resource_types: ClassVar[tuple[str, ...]] = ("training-job",)

    def __init__(
        self,
        name: str,
        *,
        image: "ContainerImage",
        inputs: Mapping[str, Any],
        output_uri: Any,
        instance_type: Any = "ml.m5.xlarge",
        instance_count: Any = 1,
        instance_groups: Sequence[InstanceGroup] = (),
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.hours(2),
        use_spot: bool = False,
        max_wait: Duration | None = None,
        checkpoint_uri: Any = None,
        hyperparameters: Mapping[str, Any] | None = None,
        metric_definitions: Mapping[str, str] | None = None,
        code: str | None = None,
        entry_point: str = "train.py",
        distribution: Distribution | None = None,
        keep_alive: Duration | None = None,
        environment: Mapping[str, Any] | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param image: the training container.
        :param inputs: ``{channel name: S3 URI or TrainingInput}`` (at least one).
        :param output_uri: where the ``model.tar.gz`` goes (S3 URI, parameter or ``s3_uri(...)``).
        :param instance_type: an instance type or a String parameter. Default: ml.m5.xlarge.
        :param instance_count: 1-100, or an Integer parameter. Default: 1.
        :param instance_groups: a heterogeneous cluster instead of ``instance_type``/``instance_count``
            (at most 5 groups). Default: none.
        :param volume_size_gb: 1-16384. Default: 30.
        :param max_runtime: 1 s - 28 days. Default: 2 hours.
        :param use_spot: managed spot training; needs ``checkpoint_uri`` or runs without checkpoints.
            Default: false.
        :param max_wait: spot max wait, at least ``max_runtime``. Only with ``use_spot``.
            Default: twice ``max_runtime`` (at most 28 days).
        :param checkpoint_uri: where checkpoints go (with ``use_spot``). Default: none.
        :param hyperparameters: string values (or String parameters / string properties). Default: none.
        :param metric_definitions: ``{name: regex}`` read from the logs. Default: none.
        :param code: a ``sourcedir.tar.gz`` with ``entry_point`` for script-mode images, passed as
            the ``code`` channel (works with network isolation). Default: none.
        :param entry_point: Default: train.py.
        :param distribution: a :class:`Distribution`; needs more than one instance (or
            ``processes_per_host`` above 1 / several GPUs for MPI and data parallel). Default: none.
        :param keep_alive: keep the instances warm for the next matching job (a warm pool,
            ``KeepAlivePeriodInSeconds``, 0-21600 s: botocore KeepAlivePeriodInSeconds). Not with a
            :class:`TuningStep`, whose jobs do not carry it. Default: none.
        :param environment: container environment. Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        self.image: Any = _image(w, image)
        if not inputs:
            raise ValidationError(w, "inputs", inputs, "at least one channel")
        self.inputs: dict[str, TrainingInput] = {}
        for channel, value in inputs.items():
            check_pattern(w, "inputs", "" if channel is None else channel, r"[A-Za-z0-9\.\-_]{1,64}",
                          description="channel names of 1-64 letters, digits, . - _")
            item = value if isinstance(value, TrainingInput) else TrainingInput(value)
            _s3(w, f"inputs[{channel!r}]", item.s3_uri)
            if item.distribution not in ("FullyReplicated", "ShardedByS3Key"):
                raise ValidationError(w, f"inputs[{channel!r}].distribution", item.distribution,
                                      "FullyReplicated or ShardedByS3Key")
            self.inputs[channel] = item
        if code is not None and "code" in self.inputs:
            raise ValidationError(w, "inputs", "code", "no channel named 'code' when code= is given")
        self.output_uri: Any = _s3(w, "output_uri", output_uri)
        self.instance_groups: list[InstanceGroup] = list(instance_groups)
        if self.instance_groups:
            check_count(w, "instance_groups", self.instance_groups, minimum=1, maximum=5, what="groups")
            names = [g.name for g in self.instance_groups]
            if len(set(names)) != len(names):
                raise ValidationError(w, "instance_groups", names, "unique group names")
            for g in self.instance_groups:
                _instance_type(w, f"instance_groups[{g.name!r}].instance_type", g.instance_type, "training")
                _count(w, f"instance_groups[{g.name!r}].instance_count", g.instance_count, 1, 100)
        self.instance_type: Any = _instance_type(w, "instance_type", instance_type, "training")
        self.instance_count: Any = _count(w, "instance_count", instance_count, 1, 100)
        self.volume_size_gb: Any = _count(w, "volume_size_gb", volume_size_gb, 1, 16384)
        self.max_runtime: int | None = _seconds(w, "max_runtime", max_runtime, MAX_TRAINING_SECONDS)
        if max_wait is not None and not use_spot:
            raise ValidationError(w, "max_wait", max_wait.to_human_string(), "only with use_spot=True")
        if checkpoint_uri is not None and not use_spot:
            raise ValidationError(w, "checkpoint_uri", checkpoint_uri, "only with use_spot=True")
        self.use_spot: bool = bool(use_spot)
        runtime = self.max_runtime or 0
        self.max_wait: int | None = (_seconds(w, "max_wait", max_wait, MAX_TRAINING_SECONDS, minimum=runtime) if max_wait
                         else min(2 * runtime, MAX_TRAINING_SECONDS) if use_spot else None)
        self.checkpoint_uri: Any = None if checkpoint_uri is None else _s3(w, "checkpoint_uri", checkpoint_uri)
        self.hyperparameters: dict[str, Any] = _strings(w, "hyperparameters", hyperparameters, shape="HyperParameters")
        self.metric_definitions: dict[str, str] = dict(metric_definitions or {})
        for metric, regex in self.metric_definitions.items():
            check_pattern(w, "metric_definitions (name)", metric, r".+", max_length=255, min_length=1,
                          description="a metric name of 1-255 characters on one line", limit="botocore sagemaker MetricName")
            check_pattern(w, f"metric_definitions[{metric!r}]", "" if regex is None else regex, r".+", max_length=500,
                          min_length=1, description="a regex of 1-500 characters on one line",
                          limit="botocore sagemaker MetricRegex")
        check_count(w, "metric_definitions", self.metric_definitions, maximum=40, what="definitions",
                    limit="botocore sagemaker MetricDefinitionList")
        self.code: str | None = code
        if not re.fullmatch(r"[A-Za-z0-9_./-]{1,256}", entry_point or ""):
            raise ValidationError(w, "entry_point", entry_point, "a file name")
        self.entry_point: str = entry_point
        self.distribution: Distribution | None = distribution
        self._check_distribution()
        self.keep_alive: int | None = _seconds(w, "keep_alive", keep_alive, 21600, minimum=0)
        self.environment: dict[str, Any] = _strings(w, "environment", environment, shape="TrainingEnvironmentMap")
        self._code_asset_id = f"{name}Code"
        self._code_uri: Any = None

    def _check_distribution(self) -> None:
        dist, w = self.distribution, self.where
        if dist is None:
            return
        if not isinstance(dist, Distribution):
            raise ValidationError(w, "distribution", dist, "a Distribution")
        groups_used = [g for g in self.instance_groups if not dist.instance_groups or g.name in dist.instance_groups]
        types = [g.instance_type for g in groups_used] if self.instance_groups else [self.instance_type]
        known = [t for t in types if isinstance(t, str) and not is_unresolved(t)]
        hosts = (sum(g.instance_count for g in self.instance_groups if isinstance(g.instance_count, int))
                 if self.instance_groups else self.instance_count)
        single = isinstance(hosts, int) and hosts == 1
        if dist.kind == "parameter_server" and single:
            raise ValidationError(w, "distribution", "parameter_server",
                                  "parameter servers need instance_count above 1 (one server per host)")
        if dist.kind == "mpi" and single and (dist.processes_per_host or 1) == 1:
            raise ValidationError(w, "distribution", "mpi",
                                  "more than one instance or processes_per_host above 1")
        check_range(w, "distribution.processes_per_host", dist.processes_per_host, minimum=1, maximum=64, integer=True)
        if dist.kind in ("data_parallel", "model_parallel") and self.instance_groups:
            raise ValidationError(w, "distribution", dist.kind, "not with instance_groups")
        if dist.kind == "data_parallel":
            for instance_type in known:
                check_choice(w, "instance_type", instance_type, DATA_PARALLEL_INSTANCE_TYPES,
                             note="with Distribution.data_parallel (the SDK's supported types)")
        if dist.kind in ("torchrun", "model_parallel"):
            bad = [t for t in known if not (instance_facts(t).accelerator == "nvidia"
                                            or instance_facts(t).family.startswith("trn"))]
            if bad:
                raise ValidationError(w, "instance_type", bad[0], f"with Distribution.{dist.kind} a GPU or Trainium "
                                      "instance type (ml.p*, ml.g*, ml.trn*)")
        groups = {g.name for g in self.instance_groups}
        for group in dist.instance_groups:
            check_choice(w, "distribution.instance_groups", group, sorted(groups), of="instance_groups")

    # properties
    @property
    def model_artifacts(self) -> Property:
        """``ModelArtifacts.S3ModelArtifacts``: the trained ``model.tar.gz``."""
        return Property(self, "ModelArtifacts.S3ModelArtifacts", MODEL_ARTIFACTS)

    @property
    def training_job_name(self) -> Property:
        return Property(self, "TrainingJobName", STRING)

    def final_metric(self, metric_name: str) -> Property:
        """The job's final value of one of its ``metric_definitions`` (``FinalMetricDataList``)."""
        check_choice(self.where, "final_metric", metric_name, self.metric_definitions, of="metric_definitions")
        if "'" in metric_name:
            raise ValidationError(self.where, "final_metric", metric_name, "a name without quotes")
        return Property(self, f"FinalMetricDataList['{metric_name}'].Value", NUMBER)

    def _bind(self, ctx: "_BindContext") -> None:
        self._image_uri = ctx.image_uri(self.image)
        if self.code is not None:
            asset = ctx.asset(self._code_asset_id, self.code)
            self._code_uri = asset.s3_object_url
            self._code_file = d.container_file_name(asset, self.code)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        channels = []
        for channel, item in self.inputs.items():
            c = d.s3_channel(channel, item.s3_uri)
            if item.distribution != "FullyReplicated":
                c["DataSource"]["S3DataSource"]["S3DataDistributionType"] = item.distribution
            if item.content_type:
                c["ContentType"] = item.content_type
            channels.append(c)
        hp = dict(self.hyperparameters)
        if self.code is not None:
            channels.append(d.s3_channel("code", self._code_uri))
            hp.update({"sagemaker_program": json.dumps(self.entry_point),
                       "sagemaker_submit_directory": json.dumps(f"{TRAINING_CODE_DIR}/{self._code_file}"),
                       "sagemaker_region": json.dumps(Aws.REGION)})
        if self.distribution is not None:
            first = self.instance_groups[0].instance_type if self.instance_groups else self.instance_type
            hp.update(self.distribution.hyperparameters(first))
        args = d.training_step(
            self.name, ctx.job, image_uri=self._image_uri, instance_type=self.instance_type,
            instance_count=self.instance_count, volume_size_gb=self.volume_size_gb,
            max_runtime_seconds=self.max_runtime or 1, output_uri=self.output_uri, channels=channels,
            use_spot=self.use_spot, max_wait_seconds=self.max_wait, checkpoint_uri=self.checkpoint_uri,
            hyperparameters=hp, metric_definitions=self.metric_definitions,
        )["Arguments"]
        if self.instance_groups:
            resources = args["ResourceConfig"]
            resources.pop("InstanceType")
            resources.pop("InstanceCount")
            resources["InstanceGroups"] = [{"InstanceGroupName": g.name, "InstanceType": g.instance_type,
                                            "InstanceCount": g.instance_count} for g in self.instance_groups]
            # The volume key follows the groups' types, not instance_type: none when a group has local
            # NVMe storage (SageMaker refuses VolumeKmsKeyId for those, catalog.volume_key).
            if not all(d.job_volume_key(g.instance_type, True) for g in self.instance_groups):
                resources.pop("VolumeKmsKeyId", None)
            elif "VolumeKmsKeyId" not in resources:
                resources["VolumeKmsKeyId"] = ctx.job.key_arn
        if self.keep_alive is not None:
            args["ResourceConfig"]["KeepAlivePeriodInSeconds"] = self.keep_alive
        if self.environment:
            args["Environment"] = dict(self.environment)
        return args


# ------------------------------------------------------------------ processing
@dataclass(frozen=True)
class ProcessingInput:
    """Every object under ``s3_uri`` downloaded to ``local_path`` before the job starts."""

    name: str
    s3_uri: Any
    local_path: str


@dataclass(frozen=True)
class ProcessingOutput:
    """``local_path`` uploaded to ``s3_uri`` when the job ends."""

    name: str
    s3_uri: Any
    local_path: str


class ProcessingStep(Step):
    """A ``Processing`` step (CreateProcessingJob): in the VPC, network isolation, inter-container
    traffic encryption, the pipeline's key on volumes and outputs, a max runtime. With ``code``
    (a script), the entry point is ``python3 <script>``. Properties: :meth:`output_uri`,
    :meth:`property_file` (read with ``json_get``), ``processing_job_name``."""

    step_type = "Processing"
    resource_types: ClassVar[tuple[str, ...]] = ("processing-job",)

    def __init__(
        self,
        name: str,
        *,
        image: "ContainerImage",
        inputs: Sequence[ProcessingInput] = (),
        outputs: Sequence[ProcessingOutput] = (),
        code: str | None = None,
        entrypoint: Sequence[str] | None = None,
        arguments: Sequence[Any] = (),
        instance_type: Any = "ml.m5.large",
        instance_count: Any = 1,
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.hours(1),
        environment: Mapping[str, Any] | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param image: the processing container.
        :param inputs: :class:`ProcessingInput` list (at most 10 with the code). Default: none.
        :param outputs: :class:`ProcessingOutput` list (at most 10). Default: none.
        :param code: a Python script run with ``python3`` (downloaded to
            ``/opt/ml/processing/input/code``). Default: none (``entrypoint`` or the image's).
        :param entrypoint: the container entry point. Default: ``python3 <code>`` with ``code``.
        :param arguments: container arguments. Default: none.
        :param instance_type: Default: ml.m5.large.
        :param instance_count: 1-100. Default: 1.
        :param volume_size_gb: 1-16384. Default: 30.
        :param max_runtime: 1 s - 7 days. Default: 1 hour.
        :param environment: container environment. Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        self.image: Any = _image(w, image)
        self.inputs: list[ProcessingInput] = list(inputs)
        self.outputs: list[ProcessingOutput] = list(outputs)
        for item in [*self.inputs, *self.outputs]:
            _s3(w, f"inputs/outputs[{item.name!r}].s3_uri", item.s3_uri)
            if not isinstance(item.local_path, str) or not item.local_path.startswith("/opt/ml/processing"):
                raise ValidationError(w, f"{item.name}.local_path", item.local_path, "a path under /opt/ml/processing")
        names = [i.name for i in self.inputs] + (["code"] if code else [])
        check_count(w, "inputs", names, maximum=10, what="inputs", note="('code' is the script's)",
                    limit="botocore sagemaker ProcessingInputs")
        if len(set(names)) != len(names):
            raise ValidationError(w, "inputs", names, "inputs with unique names ('code' is the script's)")
        out_names = [o.name for o in self.outputs]
        check_count(w, "outputs", out_names, maximum=10, what="outputs", limit="botocore sagemaker ProcessingOutputs")
        if len(set(out_names)) != len(out_names):
            raise ValidationError(w, "outputs", out_names, "outputs with unique names")
        self.entrypoint: list[str] | None = list(entrypoint) if entrypoint is not None else None
        self.code: str | None = code
        self.arguments: list[Any] = [_string(w, "arguments", a) for a in arguments]
        # AppSpecification.ContainerEntrypoint / ContainerArguments: 1-100 entries of at most 256 characters
        # (botocore); an empty entrypoint or a longer list passed synth and failed when the step started.
        if self.entrypoint is not None:
            check_count(w, "entrypoint", self.entrypoint, minimum=1, maximum=100, what="entries",
                        limit="botocore sagemaker ContainerEntrypoint")
        check_count(w, "arguments", self.arguments, maximum=100, what="arguments",
                    limit="botocore sagemaker ContainerArguments")
        for argument, values in (("entrypoint", self.entrypoint or []), ("arguments", self.arguments)):
            for value in values:
                if not isinstance(value, Expression):
                    check_pattern(w, argument, _string(w, argument, value), r"[\s\S]*", max_length=256,
                                  description="entries of at most 256 characters",
                                  limit="botocore sagemaker ContainerEntrypointString")
        self.instance_type: Any = _instance_type(w, "instance_type", instance_type, "processing")
        self.instance_count: Any = _count(w, "instance_count", instance_count, 1, 100)
        self.volume_size_gb: Any = _count(w, "volume_size_gb", volume_size_gb, 1, 16384)
        self.max_runtime: int | None = _seconds(w, "max_runtime", max_runtime, MAX_PROCESSING_SECONDS)
        self.environment: dict[str, Any] = _strings(w, "environment", environment, shape="ProcessingEnvironmentMap")
        self.property_files: list[PropertyFile] = []
        self._code_asset_id = f"{name}Code"

    def output_uri(self, output_name: str) -> Property:
        """The S3 URI of one of ``outputs``."""
        check_choice(self.where, "output_uri", output_name, [o.name for o in self.outputs], of="outputs")
        return Property(self, f"ProcessingOutputConfig.Outputs['{output_name}'].S3Output.S3Uri", S3_URI)

    @property
    def processing_job_name(self) -> Property:
        return Property(self, "ProcessingJobName", STRING)

    def property_file(self, name: str, *, output_name: str, path: str) -> PropertyFile:
        """Declare a JSON file the job writes under one of its ``outputs`` (``path`` relative to
        the output's directory); later steps read its values with ``json_get`` (``Std:JsonGet``)."""
        check_choice(self.where, "property_file output_name", output_name, [o.name for o in self.outputs],
                     of="outputs")
        if not re.fullmatch(r"[A-Za-z0-9\-_]{1,256}", name or ""):
            raise ValidationError(self.where, "property_file name", name, "letters, digits, hyphens, underscores")
        for existing in self.property_files:
            if existing.name == name:
                if (existing.output_name, existing.path) != (output_name, path):
                    raise ValidationError(self.where, "property_file name", name, "declared once")
                return existing
        pf = PropertyFile(self, name, output_name, path)
        self.property_files.append(pf)
        return pf

    def _bind(self, ctx: "_BindContext") -> None:
        self._image_uri = ctx.image_uri(self.image)
        self._code_inputs: list[dict[str, Any]] = []
        entrypoint = self.entrypoint
        if self.code is not None:
            asset = ctx.asset(self._code_asset_id, self.code)
            self._code_inputs.append(d.processing_input("code", asset.s3_object_url, PROCESSING_CODE_DIR))
            if entrypoint is None:
                entrypoint = ["python3", f"{PROCESSING_CODE_DIR}/{d.container_file_name(asset, self.code)}"]
        self._entrypoint = entrypoint

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        step = d.processing_step(
            self.name, ctx.job, image_uri=self._image_uri, entrypoint=self._entrypoint or [],
            instance_type=self.instance_type, volume_size_gb=self.volume_size_gb,
            inputs=[*(d.processing_input(i.name, i.s3_uri, i.local_path) for i in self.inputs), *self._code_inputs],
            outputs=[d.processing_output(o.name, o.s3_uri, o.local_path) for o in self.outputs],
            max_runtime_seconds=self.max_runtime or 1, instance_count=self.instance_count,
        )
        args = step["Arguments"]
        if self._entrypoint is None:
            args["AppSpecification"].pop("ContainerEntrypoint")
        if self.arguments:
            args["AppSpecification"]["ContainerArguments"] = list(self.arguments)
        if not self.inputs and not self._code_inputs:
            args.pop("ProcessingInputs")
        if self.environment:
            args["Environment"] = dict(self.environment)
        return args

    def _extra(self, ctx: "_BindContext") -> dict[str, Any]:
        return {"PropertyFiles": [p.declaration() for p in self.property_files]} if self.property_files else {}


# ------------------------------------------------------------------ models
class CreateModelStep(Step):
    """A ``Model`` step (CreateModel) for later transform steps: network isolation and the
    pipeline's VPC, run as the pipeline role. Property: ``model_name``."""

    step_type = "Model"
    resource_types: ClassVar[tuple[str, ...]] = ("model",)

    def __init__(self, name: str, *, image: Any, model_data: Any, environment: Mapping[str, Any] | None = None,
                 depends_on: Sequence[Step] = (), display_name: str | None = None,
                 description: str | None = None) -> None:
        """
        :param image: a ``ContainerImage`` or an image property (``automl.best_candidate_image``).
        :param model_data: the model's S3 URI (``train.model_artifacts``, ``tuning.best_model_artifacts``).
        :param environment: Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        self.image: Any = image if isinstance(image, Expression) else _image(self.where, image)
        if isinstance(image, Expression):
            check_kind(self.where, "image", image, STRING)
        self.model_data: Any = _s3(self.where, "model_data", model_data)
        self.environment: dict[str, Any] = _strings(self.where, "environment", environment, shape="EnvironmentMap")

    @property
    def model_name(self) -> Property:
        return Property(self, "ModelName", STRING)

    def _bind(self, ctx: "_BindContext") -> None:
        self._image_uri = self.image if isinstance(self.image, Expression) else ctx.image_uri(self.image)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        container: dict[str, Any] = {"Image": self._image_uri, "ModelDataUrl": self.model_data}
        if self.environment:
            container["Environment"] = dict(self.environment)
        return {"ExecutionRoleArn": ctx.job.role_arn, "PrimaryContainer": container,
                "VpcConfig": dict(ctx.job.vpc_config), "EnableNetworkIsolation": True}


@dataclass(frozen=True)
class InstanceRecommendation:
    """Inference Recommender settings recorded with a registered version (CreateModelPackage's
    ``SamplePayloadUrl``, ``Domain``, ``Task`` and ``InferenceSpecification`` instance types are
    what a recommendations job reads; https://docs.aws.amazon.com/sagemaker/latest/dg/inference-recommender-prerequisites.html)."""

    sample_payload_url: Any
    domain: str = "MACHINE_LEARNING"
    task: str = "OTHER"
    framework: str | None = None
    framework_version: str | None = None


class RegisterModelStep(Step):
    """A ``RegisterModel`` step (CreateModelPackage): a new version in ``model_package_group``,
    ``PendingManualApproval`` by default. The pipeline role may register in that group only.
    With ``recommend_instances``, the version carries what an Inference Recommender job needs
    (sample payload, domain, task, framework) so a default recommendations job can run on it
    before approval."""

    step_type = "RegisterModel"

    def __init__(
        self,
        name: str,
        *,
        model_package_group: "IModelPackageGroup",
        image: Any,
        model_data: Any,
        serving: d.ServingMetadata | None = None,
        environment: Mapping[str, Any] | None = None,
        approval_status: str = "PendingManualApproval",
        description: str | None = None,
        model_quality_report_uri: Any = None,
        recommend_instances: InstanceRecommendation | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
    ) -> None:
        """
        :param model_package_group: the registry group (``ModelPackageGroup`` or imported).
        :param image: ``ContainerImage`` or an image property.
        :param model_data: the model's S3 URI (``train.model_artifacts``...).
        :param serving: content/response and instance types registered. Default: what the image
            can run (see :mod:`sagemaker_constructs.mlops.serving`).
        :param environment: Default: none.
        :param approval_status: PendingManualApproval, Approved or Rejected. Default: PendingManualApproval.
        :param description: the version's description. Default: ``Registered by step <name>``.
        :param model_quality_report_uri: an evaluation report (JSON) recorded as ``ModelQuality``
            statistics. Default: none.
        :param recommend_instances: Inference Recommender inputs. Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name)
        w = self.where
        if model_package_group is None or not hasattr(model_package_group, "grant_register"):
            raise ValidationError(w, "model_package_group", model_package_group, "an IModelPackageGroup")
        self.group: "IModelPackageGroup" = model_package_group
        if isinstance(image, Expression):
            check_kind(w, "image", image, STRING)
            self.image: Any = image
        else:
            self.image = _image(w, image)
        self.model_data: Any = _s3(w, "model_data", model_data)
        self.serving: d.ServingMetadata | None = serving
        self.environment: dict[str, Any] = _strings(w, "environment", environment, shape="EnvironmentMap")
        check_choice(w, "approval_status", approval_status, ("PendingManualApproval", "Approved", "Rejected"))
        self.approval_status: str = approval_status
        check_string(w, "description", description, shape="EntityDescription")
        self.version_description: str = description or f"Registered by step {name}"
        self.model_quality_report_uri: Any = (None if model_quality_report_uri is None
                                         else _s3(w, "model_quality_report_uri", model_quality_report_uri))
        if recommend_instances is not None:
            _s3(w, "recommend_instances.sample_payload_url", recommend_instances.sample_payload_url)
            check_string(w, "recommend_instances.framework_version", recommend_instances.framework_version,
                         shape="ModelPackageFrameworkVersion")
            for argument, value, allowed in (
                ("domain", recommend_instances.domain, ("COMPUTER_VISION", "NATURAL_LANGUAGE_PROCESSING",
                                                        "MACHINE_LEARNING")),
                ("task", recommend_instances.task, ("IMAGE_CLASSIFICATION", "OBJECT_DETECTION", "TEXT_GENERATION",
                                                    "IMAGE_SEGMENTATION", "FILL_MASK", "CLASSIFICATION",
                                                    "REGRESSION", "OTHER")),
            ):
                check_choice(w, f"recommend_instances.{argument}", value, allowed)
        self.recommend_instances: InstanceRecommendation | None = recommend_instances

    @property
    def model_package_arn(self) -> Property:
        return Property(self, "ModelPackageArn", STRING)

    def _grant(self, ctx: "_BindContext") -> None:
        self.group.grant_register(ctx.grantee)

    def _bind(self, ctx: "_BindContext") -> None:
        self._image_uri = self.image if isinstance(self.image, Expression) else ctx.image_uri(self.image)
        if self.serving is None:
            from .serving import serving_metadata

            source = None if isinstance(self.image, Expression) else self.image
            self._serving = serving_metadata(ctx.scope, source, inference_instance_types=None,
                                             transform_instance_types=None, content_types=None, response_types=None)
        else:
            self._serving = self.serving

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        args = d.register_model_step(
            self.name, model_package_group_name=group_name_or_arn(ctx.scope, self.group),
            description=self.version_description, image_uri=self._image_uri, model_data_url=self.model_data,
            serving=self._serving, environment=self.environment, approval_status=self.approval_status,
            model_quality_report_uri=self.model_quality_report_uri,
        )["Arguments"]
        rec = self.recommend_instances
        if rec is not None:
            args["SamplePayloadUrl"] = rec.sample_payload_url
            args["Domain"] = rec.domain
            args["Task"] = rec.task
            container = args["InferenceSpecification"]["Containers"][0]
            if rec.framework:
                container["Framework"] = rec.framework
            if rec.framework_version:
                container["FrameworkVersion"] = rec.framework_version
        return args


# ------------------------------------------------------------------ batch transform
class TransformStep(Step):
    """A ``Transform`` step (CreateTransformJob) over a model (``create_model.model_name``): the
    pipeline's key on the volume and the output. Network isolation and the VPC come from the
    model (``CreateModelStep`` sets both; a transform job has no settings of its own for them,
    API_CreateTransformJob). Property: ``output_uri``."""

    step_type = "Transform"
    resource_types: ClassVar[tuple[str, ...]] = ("transform-job",)

    def __init__(
        self,
        name: str,
        *,
        model_name: Any,
        input_uri: Any,
        output_uri: Any,
        instance_type: Any = "ml.m5.large",
        instance_count: Any = 1,
        content_type: str | None = None,
        split_type: str = "None",
        batch_strategy: str | None = None,
        max_payload_mb: int | None = None,
        max_concurrent_transforms: int | None = None,
        accept: str | None = None,
        assemble_with: str | None = None,
        input_filter: str | None = None,
        output_filter: str | None = None,
        join_source: str | None = None,
        environment: Mapping[str, Any] | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param model_name: a model name or ``CreateModelStep.model_name``.
        :param input_uri: the S3 prefix scored. :param output_uri: where results go.
        :param instance_type: Default: ml.m5.large. :param instance_count: 1-100. Default: 1.
        :param content_type: the input MIME type. Default: none (the container's).
        :param split_type: None, Line, RecordIO or TFRecord. Default: None.
        :param batch_strategy: MultiRecord or SingleRecord. Default: SageMaker's.
        :param max_payload_mb: 0-100 MB (API_CreateTransformJob ``MaxPayloadInMB``). Default: SageMaker's (6).
        :param max_concurrent_transforms: Default: SageMaker's.
        :param accept: output MIME type. :param assemble_with: None or Line.
        :param input_filter: / :param output_filter: JSONPath data processing filters.
        :param join_source: None or Input (join the input to the output). Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        self.model_name: Any = _string(w, "model_name", model_name)
        self.input_uri: Any = _s3(w, "input_uri", input_uri)
        self.output_uri: Any = _s3(w, "output_uri", output_uri)
        self.instance_type: Any = _instance_type(w, "instance_type", instance_type, "transform")
        self.instance_count: Any = _count(w, "instance_count", instance_count, 1, 100)
        for argument, value, allowed in (("split_type", split_type, ("None", "Line", "RecordIO", "TFRecord")),
                                         ("batch_strategy", batch_strategy, (None, "MultiRecord", "SingleRecord")),
                                         ("assemble_with", assemble_with, (None, "None", "Line")),
                                         ("join_source", join_source, (None, "None", "Input"))):
            if value is not None:
                check_choice(w, argument, value, [a for a in allowed if a], note="or not given (the service default)")
        self.split_type: str = split_type
        self.batch_strategy: str | None = batch_strategy
        self.assemble_with: str | None = assemble_with
        self.join_source: str | None = join_source
        self.max_payload_mb: Any = None if max_payload_mb is None else _count(w, "max_payload_mb", max_payload_mb, 0, 100)
        self.max_concurrent_transforms: Any = (None if max_concurrent_transforms is None else
                                          _count(w, "max_concurrent_transforms", max_concurrent_transforms, 0, 2**31 - 1))
        payload, concurrent = self.max_payload_mb, self.max_concurrent_transforms
        if all(isinstance(v, int) and not is_unresolved(v) for v in (payload, concurrent)) and payload * concurrent > 100:
            raise ValidationError(w, "max_concurrent_transforms", concurrent,
                                  f"at most {100 // max(payload, 1)} with max_payload_mb={payload}: max_concurrent_transforms "
                                  "x max_payload_mb cannot exceed 100 MB (botocore CreateTransformJobRequest.MaxPayloadInMB)")
        for argument, value in (("input_filter", input_filter), ("output_filter", output_filter)):
            check_pattern(w, argument, value, r".+", max_length=63, description="a JSONPath of 1-63 characters")
        check_string(w, "content_type", content_type, shape="ContentType")
        check_string(w, "accept", accept, shape="Accept")
        self.content_type: str | None = content_type
        self.accept: str | None = accept
        self.input_filter: str | None = input_filter
        self.output_filter: str | None = output_filter
        self.environment: dict[str, Any] = _strings(w, "environment", environment, shape="TransformEnvironmentMap")

    @property
    def output_location(self) -> Property:
        """Where the results are (``TransformOutput.S3OutputPath``)."""
        return Property(self, "TransformOutput.S3OutputPath", S3_URI)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        data_input: dict[str, Any] = {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                      "S3Uri": self.input_uri}},
                                      "SplitType": self.split_type}
        if self.content_type:
            data_input["ContentType"] = self.content_type
        output: dict[str, Any] = {"S3OutputPath": self.output_uri, "KmsKeyId": ctx.job.key_arn}
        if self.accept:
            output["Accept"] = self.accept
        if self.assemble_with:
            output["AssembleWith"] = self.assemble_with
        args: dict[str, Any] = {
            "ModelName": self.model_name,
            "TransformInput": data_input,
            "TransformOutput": output,
            "TransformResources": {"InstanceType": self.instance_type, "InstanceCount": self.instance_count,
                                   **d.job_volume_key(self.instance_type, ctx.job.key_arn)},
        }
        if self.batch_strategy:
            args["BatchStrategy"] = self.batch_strategy
        if self.max_payload_mb is not None:
            args["MaxPayloadInMB"] = self.max_payload_mb
        if self.max_concurrent_transforms is not None:
            args["MaxConcurrentTransforms"] = self.max_concurrent_transforms
        processing = {k: v for k, v in (("InputFilter", self.input_filter), ("OutputFilter", self.output_filter),
                                        ("JoinSource", self.join_source)) if v}
        if processing:
            args["DataProcessing"] = processing
        if self.environment:
            args["Environment"] = dict(self.environment)
        return args


# ------------------------------------------------------------------ tuning
@dataclass(frozen=True)
class IntegerRange:
    name: str
    min_value: int
    max_value: int
    scaling: str = "Auto"


@dataclass(frozen=True)
class ContinuousRange:
    name: str
    min_value: float
    max_value: float
    scaling: str = "Auto"


@dataclass(frozen=True)
class CategoricalRange:
    name: str
    values: Sequence[str]


TUNING_STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


class TuningStep(Step):
    """A ``Tuning`` step (CreateHyperParameterTuningJob) over ``training``'s job definition (its
    image, inputs, instances, spot, code; every secure default of a training step). The training
    step itself is not added to the pipeline. Properties: ``best_training_job``,
    ``best_model_artifacts`` (the best job's ``model.tar.gz``, as the SDK's
    ``get_top_model_s3_uri`` builds it), :meth:`top_model_artifacts`."""

    step_type = "Tuning"
    resource_types: ClassVar[tuple[str, ...]] = ("hyper-parameter-tuning-job", "training-job")

    def __init__(
        self,
        name: str,
        *,
        training: TrainingStep,
        objective_metric: str,
        ranges: Sequence[IntegerRange | ContinuousRange | CategoricalRange],
        objective_type: str = "Maximize",
        strategy: str = "Bayesian",
        max_jobs: int = 10,
        max_parallel_jobs: int = 2,
        max_runtime: Duration | None = None,
        early_stopping: bool = False,
        warm_start_from: Sequence[str] = (),
        warm_start_type: str = "IdenticalDataAndAlgorithm",
        target_objective_value: float | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param training: the training job to tune (a ``TrainingStep`` with ``metric_definitions``
            that include ``objective_metric``).
        :param objective_metric: one of ``training``'s metric definitions.
        :param ranges: at least one range (``IntegerRange``, ``ContinuousRange``, ``CategoricalRange``).
        :param objective_type: Maximize or Minimize. Default: Maximize.
        :param strategy: Bayesian, Random, Hyperband or Grid. Default: Bayesian.
        :param max_jobs: total training jobs (1-750; not with Grid, which runs every combination).
            Default: 10.
        :param max_parallel_jobs: at most ``max_jobs``. Default: 2.
        :param max_runtime: the tuning job's limit (120 s - 30 days). Default: none.
        :param early_stopping: stop jobs that are not improving (Auto; not with Hyperband, whose
            own early stopping applies). Default: false.
        :param warm_start_from: parent tuning job names (at most 5). Default: none.
        :param warm_start_type: IdenticalDataAndAlgorithm or TransferLearning.
        :param target_objective_value: stop once the objective reaches it. Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        if not isinstance(training, TrainingStep):
            raise ValidationError(w, "training", training, "a TrainingStep")
        # A tuning job's training definition takes fewer environment variables than a training job.
        check_map(w, "training.environment", training.environment, shape="HyperParameterTrainingJobEnvironmentMap")
        check_choice(w, "objective_metric", objective_metric, training.metric_definitions,
                     of="training's metric_definitions")
        if objective_type not in ("Maximize", "Minimize"):
            raise ValidationError(w, "objective_type", objective_type, "Maximize or Minimize")
        check_choice(w, "strategy", strategy, TUNING_STRATEGIES)
        if not ranges:
            raise ValidationError(w, "ranges", ranges, "at least one parameter range")
        seen: set[str] = set()
        for r in ranges:
            if r.name in seen:
                raise ValidationError(w, "ranges", r.name, "each hyperparameter once")
            seen.add(r.name)
            if r.name in training.hyperparameters:
                raise ValidationError(w, "ranges", r.name, "a hyperparameter that is not also static in training")
            if isinstance(r, CategoricalRange):
                check_count(w, f"ranges[{r.name!r}].values", list(r.values), minimum=1, maximum=30, what="values")
            elif isinstance(r, (IntegerRange, ContinuousRange)):
                for bound in ("min_value", "max_value"):
                    _finite(w, f"ranges[{r.name!r}].{bound}", getattr(r, bound))
                if r.min_value > r.max_value:
                    raise ValidationError(w, f"ranges[{r.name!r}]", (r.min_value, r.max_value), "min_value <= max_value")
                check_choice(w, f"ranges[{r.name!r}].scaling", r.scaling, SCALING_TYPES)
                if strategy == "Grid":
                    raise ValidationError(w, f"ranges[{r.name!r}]", type(r).__name__,
                                          "only CategoricalRange with strategy Grid")
                # botocore ContinuousParameterRange/IntegerParameterRange.ScalingType: logarithmic needs
                # values above 0; reverse logarithmic is for continuous ranges entirely within 0 <= x < 1.
                if r.scaling == "Logarithmic" and r.min_value <= 0:
                    raise ValidationError(w, f"ranges[{r.name!r}].min_value", r.min_value,
                                          "above 0 with logarithmic scaling")
                if r.scaling == "ReverseLogarithmic":
                    if isinstance(r, IntegerRange):
                        raise ValidationError(w, f"ranges[{r.name!r}].scaling", r.scaling,
                                              "Auto, Linear or Logarithmic for an IntegerRange (reverse "
                                              "logarithmic scaling is for continuous ranges)")
                    if r.min_value < 0 or r.max_value >= 1:
                        raise ValidationError(w, f"ranges[{r.name!r}]", (r.min_value, r.max_value),
                                              "a range entirely within 0 <= x < 1 with reverse logarithmic scaling")
            else:
                raise ValidationError(w, "ranges", r, "IntegerRange, ContinuousRange or CategoricalRange")
        if strategy != "Grid":
            _count(w, "max_jobs", max_jobs, 1, 750)
        _count(w, "max_parallel_jobs", max_parallel_jobs, 1, 100)
        literal = all(isinstance(v, int) and not is_unresolved(v) for v in (max_jobs, max_parallel_jobs))
        if strategy != "Grid" and literal and max_parallel_jobs > max_jobs:
            raise ValidationError(w, "max_parallel_jobs", max_parallel_jobs, f"at most max_jobs ({max_jobs})")
        if early_stopping and strategy == "Hyperband":
            raise ValidationError(w, "early_stopping", True, "not with strategy Hyperband (it stops jobs itself)")
        check_count(w, "warm_start_from", list(warm_start_from), maximum=5, what="parent tuning jobs")
        if warm_start_type not in ("IdenticalDataAndAlgorithm", "TransferLearning"):
            raise ValidationError(w, "warm_start_type", warm_start_type, "IdenticalDataAndAlgorithm or TransferLearning")
        if training.keep_alive is not None:
            raise ValidationError(w, "training.keep_alive", training.keep_alive,
                                  "none: a tuning step's training jobs keep no warm pool (the training step's "
                                  "keep_alive would be dropped)")
        self.training: TrainingStep = training
        self.objective_metric: str = objective_metric
        self.objective_type: str = objective_type
        self.strategy: str = strategy
        self.ranges: list[IntegerRange | ContinuousRange | CategoricalRange] = list(ranges)
        self.max_jobs: int = max_jobs
        self.max_parallel_jobs: int = max_parallel_jobs
        self.max_runtime: int | None = _seconds(w, "max_runtime", max_runtime, 30 * 24 * 3600, minimum=120)
        self.early_stopping: bool = early_stopping
        self.warm_start_from: list[Any] = [_string(w, "warm_start_from", j) for j in warm_start_from]
        self.warm_start_type: str = warm_start_type
        if target_objective_value is not None:
            try:  # rendered as float(...): a number, or a string of one
                target = float(target_objective_value)
            except (TypeError, ValueError):
                target = None
            if target is None or isinstance(target_objective_value, bool) or not math.isfinite(target):
                raise ValidationError(w, "target_objective_value", target_objective_value, "a finite number")
        self.target_objective_value: float | None = target_objective_value

    @property
    def best_training_job(self) -> Property:
        """The best training job's name (``BestTrainingJob.TrainingJobName``)."""
        return Property(self, "BestTrainingJob.TrainingJobName", STRING)

    def top_model_artifacts(self, rank: int = 0) -> Join:
        """The ``model.tar.gz`` of the ``rank``-th job (0: the best), as the SDK's
        ``TuningStep.get_top_model_s3_uri`` joins it: ``<output>/<job name>/output/model.tar.gz``."""
        check_range(self.where, "rank", rank, minimum=0, maximum=49, integer=True)
        output = self.training.output_uri
        parts = list(output.values) if isinstance(output, Join) and output.on == "/" else [output]
        if isinstance(parts[-1], str) and not is_unresolved(parts[-1]) and parts[-1].endswith("/"):
            # Joined on "/", the path would hold "//": give the prefix without its trailing "/".
            raise ValidationError(self.where, "training.output_uri", output if isinstance(output, str) else parts[-1],
                                  "an S3 URI without a trailing '/' (the artifacts are at "
                                  "<output_uri>/<job name>/output/model.tar.gz)")
        return Join(*parts, Property(self, f"TrainingJobSummaries[{rank}].TrainingJobName", STRING),
                    "output/model.tar.gz", on="/", kind=MODEL_ARTIFACTS)

    @property
    def best_model_artifacts(self) -> Join:
        return self.top_model_artifacts(0)

    def instance_types(self) -> list[Any]:
        return self.training.instance_types()  # its jobs run on the training step's instances

    def _bind(self, ctx: "_BindContext") -> None:
        self.training._bind(ctx)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        job = self.training._arguments(ctx)
        static = dict(job.pop("HyperParameters", {}) or {})
        definition: dict[str, Any] = {
            "AlgorithmSpecification": job["AlgorithmSpecification"],
            "RoleArn": job["RoleArn"],
            "InputDataConfig": job["InputDataConfig"],
            "VpcConfig": job["VpcConfig"],
            "OutputDataConfig": job["OutputDataConfig"],
            "ResourceConfig": {k: v for k, v in job["ResourceConfig"].items() if k != "KeepAlivePeriodInSeconds"},
            "StoppingCondition": job["StoppingCondition"],
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "EnableManagedSpotTraining": job["EnableManagedSpotTraining"],
        }
        if static:
            definition["StaticHyperParameters"] = static
        if "CheckpointConfig" in job:
            definition["CheckpointConfig"] = job["CheckpointConfig"]
        if "Environment" in job:
            definition["Environment"] = job["Environment"]
        ranges: dict[str, list[dict[str, Any]]] = {}
        for r in self.ranges:
            if isinstance(r, CategoricalRange):
                ranges.setdefault("CategoricalParameterRanges", []).append({"Name": r.name, "Values": list(r.values)})
            else:
                key = "IntegerParameterRanges" if isinstance(r, IntegerRange) else "ContinuousParameterRanges"
                ranges.setdefault(key, []).append({"Name": r.name, "MinValue": str(r.min_value),
                                                   "MaxValue": str(r.max_value), "ScalingType": r.scaling})
        limits: dict[str, Any] = {"MaxParallelTrainingJobs": self.max_parallel_jobs}
        if self.strategy != "Grid":
            limits["MaxNumberOfTrainingJobs"] = self.max_jobs
        if self.max_runtime is not None:
            limits["MaxRuntimeInSeconds"] = self.max_runtime
        config: dict[str, Any] = {
            "Strategy": self.strategy,
            "HyperParameterTuningJobObjective": {"Type": self.objective_type, "MetricName": self.objective_metric},
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
            "TrainingJobEarlyStoppingType": "Auto" if self.early_stopping else "Off",
        }
        if self.target_objective_value is not None:
            config["TuningJobCompletionCriteria"] = {"TargetObjectiveMetricValue": float(self.target_objective_value)}
        args: dict[str, Any] = {"HyperParameterTuningJobConfig": config, "TrainingJobDefinition": definition}
        if self.warm_start_from:
            args["WarmStartConfig"] = {"ParentHyperParameterTuningJobs": [
                {"HyperParameterTuningJobName": j} for j in self.warm_start_from], "WarmStartType": self.warm_start_type}
        return args


# ------------------------------------------------------------------ AutoML
AUTOML_PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
AUTOML_OBJECTIVES = ("Accuracy", "MSE", "F1", "F1macro", "AUC", "RMSE", "BalancedAccuracy", "R2", "Recall",
                     "RecallMacro", "Precision", "PrecisionMacro", "MAE", "MAPE", "MASE", "WAPE",
                     "AverageWeightedQuantileLoss")
#: The objectives of each tabular problem type (botocore sagemaker AutoMLJobObjective.MetricName;
#: the others of AUTOML_OBJECTIVES are time-series forecasting's, which this step does not run).
AUTOML_OBJECTIVES_BY_PROBLEM_TYPE: dict[str, tuple[str, ...]] = {
    "Regression": ("MAE", "MSE", "R2", "RMSE"),
    "BinaryClassification": ("Accuracy", "AUC", "BalancedAccuracy", "F1", "Precision", "Recall"),
    "MulticlassClassification": ("Accuracy", "BalancedAccuracy", "F1macro", "PrecisionMacro", "RecallMacro"),
}


class AutoMLStep(Step):
    """An ``AutoML`` step (Autopilot, CreateAutoMLJob) for a tabular problem, in ``ENSEMBLING``
    mode (the only mode the AutoML step runs, SDK ``AutoMLStep.arguments``): the pipeline's key
    on volumes and output, its VPC and inter-container traffic encryption (``SecurityConfig``;
    Autopilot has no network-isolation setting). Properties: ``best_candidate_image``,
    ``best_model_artifacts``, ``best_candidate_name``; register the best candidate with
    ``RegisterModelStep(image=automl.best_candidate_image, model_data=automl.best_model_artifacts)``."""

    step_type = "AutoML"
    resource_types: ClassVar[tuple[str, ...]] = ("automl-job", "training-job", "processing-job", "transform-job", "model")

    def __init__(
        self,
        name: str,
        *,
        input_uri: Any,
        output_uri: Any,
        target_column: str,
        problem_type: str | None = None,
        objective: str | None = None,
        mode: str = "ENSEMBLING",
        max_candidates: int | None = None,
        max_runtime_per_job: Duration | None = None,
        max_runtime: Duration | None = Duration.hours(4),
        content_type: str = "text/csv;header=present",
        sample_weight_column: str | None = None,
        validation_fraction: float | None = None,
        depends_on: Sequence[Step] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param input_uri: the training data (CSV or Parquet, with a header).
        :param output_uri: where Autopilot writes its artifacts.
        :param target_column: the column to predict (required).
        :param problem_type: BinaryClassification, MulticlassClassification or Regression.
            Default: Autopilot infers it. With ``objective``, required.
        :param objective: the objective metric (``Accuracy``, ``F1``, ``MSE``...). Default: Autopilot's
            for the problem type.
        :param mode: ENSEMBLING (the only mode of the AutoML step). Default: ENSEMBLING.
        :param max_candidates: Default: Autopilot's. :param max_runtime_per_job: Default: Autopilot's.
        :param max_runtime: the whole job's limit. Default: 4 hours.
        :param content_type: text/csv;header=present or x-application/vnd.amazon+parquet.
        :param sample_weight_column: Default: none. :param validation_fraction: 0-1. Default: Autopilot's.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        w = self.where
        check_pattern(w, "target_column", target_column or "", r"[\s\S]+", max_length=256, min_length=1,
                      description="the name of the column to predict (1-256 characters)",
                      limit="botocore sagemaker TargetAttributeName")
        if problem_type is not None:
            check_choice(w, "problem_type", problem_type, AUTOML_PROBLEM_TYPES)
        if objective is not None:
            check_choice(w, "objective", objective, AUTOML_OBJECTIVES)
        if objective is not None and problem_type is None:
            raise ValidationError(w, "problem_type", None, "required with objective")
        if objective is not None and problem_type in AUTOML_OBJECTIVES_BY_PROBLEM_TYPE:
            check_choice(w, "objective", objective, AUTOML_OBJECTIVES_BY_PROBLEM_TYPE[problem_type],
                         note=f"with problem_type {problem_type}")
        if mode != "ENSEMBLING":
            raise ValidationError(w, "mode", mode, "ENSEMBLING (the only mode a pipeline's AutoML step runs)")
        if content_type not in ("text/csv;header=present", "x-application/vnd.amazon+parquet"):
            raise ValidationError(w, "content_type", content_type,
                                  "text/csv;header=present or x-application/vnd.amazon+parquet")
        check_range(w, "validation_fraction", validation_fraction, minimum=0, maximum=1)
        check_pattern(w, "sample_weight_column", sample_weight_column, r"[a-zA-Z0-9_-]+", max_length=256, min_length=1,
                      description="a column name of 1-256 letters, digits, '_' and '-'",
                      limit="botocore sagemaker AutoMLChannel.SampleWeightAttributeName")
        self.input_uri: Any = _s3(w, "input_uri", input_uri)
        self.output_uri: Any = _s3(w, "output_uri", output_uri)
        self.target_column: str = target_column
        self.problem_type: str | None = problem_type
        self.objective: str | None = objective
        self.mode: str = mode
        self.max_candidates: Any = None if max_candidates is None else _count(w, "max_candidates", max_candidates, 1, 750)
        self.max_runtime_per_job: int | None = _seconds(w, "max_runtime_per_job", max_runtime_per_job, 259200)
        self.max_runtime: int | None = _seconds(w, "max_runtime", max_runtime, 30 * 24 * 3600)
        self.content_type: str = content_type
        self.sample_weight_column: str | None = sample_weight_column
        self.validation_fraction: float | None = validation_fraction

    @property
    def best_candidate_name(self) -> Property:
        return Property(self, "BestCandidate.CandidateName", STRING)

    @property
    def best_candidate_image(self) -> Property:
        return Property(self, "BestCandidate.InferenceContainers[0].Image", STRING)

    @property
    def best_model_artifacts(self) -> Property:
        return Property(self, "BestCandidate.InferenceContainers[0].ModelDataUrl", MODEL_ARTIFACTS)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        channel: dict[str, Any] = {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": self.input_uri}},
                                   "TargetAttributeName": self.target_column, "ContentType": self.content_type,
                                   "ChannelType": "training"}
        if self.sample_weight_column:
            channel["SampleWeightAttributeName"] = self.sample_weight_column
        criteria: dict[str, Any] = {}
        if self.max_candidates is not None:
            criteria["MaxCandidates"] = self.max_candidates
        if self.max_runtime_per_job is not None:
            criteria["MaxRuntimePerTrainingJobInSeconds"] = self.max_runtime_per_job
        if self.max_runtime is not None:
            criteria["MaxAutoMLJobRuntimeInSeconds"] = self.max_runtime
        config: dict[str, Any] = {
            "SecurityConfig": {"VolumeKmsKeyId": ctx.job.key_arn, "EnableInterContainerTrafficEncryption": True,
                               "VpcConfig": dict(ctx.job.vpc_config)},
            "Mode": self.mode,
        }
        if criteria:
            config["CompletionCriteria"] = criteria
        if self.validation_fraction is not None:
            config["DataSplitConfig"] = {"ValidationFraction": float(self.validation_fraction)}
        args: dict[str, Any] = {
            "InputDataConfig": [channel],
            "OutputDataConfig": {"S3OutputPath": self.output_uri, "KmsKeyId": ctx.job.key_arn},
            "AutoMLJobConfig": config,
            "RoleArn": ctx.job.role_arn,
        }
        if self.problem_type:
            args["ProblemType"] = self.problem_type
        if self.objective:
            args["AutoMLJobObjective"] = {"MetricName": self.objective}
        return args


# ------------------------------------------------------------------ control flow
@dataclass(frozen=True)
class Condition:
    """A condition of a :class:`ConditionStep`; build with the class methods."""

    type: str
    left: Any
    right: Any = None
    values: Sequence[Any] = ()
    conditions: Sequence["Condition"] = ()

    @classmethod
    def greater_than_or_equal(cls, left: Any, right: Any) -> "Condition":
        return cls("GreaterThanOrEqualTo", left, right)

    @classmethod
    def greater_than(cls, left: Any, right: Any) -> "Condition":
        return cls("GreaterThan", left, right)

    @classmethod
    def less_than_or_equal(cls, left: Any, right: Any) -> "Condition":
        return cls("LessThanOrEqualTo", left, right)

    @classmethod
    def less_than(cls, left: Any, right: Any) -> "Condition":
        return cls("LessThan", left, right)

    @classmethod
    def equals(cls, left: Any, right: Any) -> "Condition":
        return cls("Equals", left, right)

    @classmethod
    def is_in(cls, value: Any, values: Sequence[Any]) -> "Condition":
        return cls("In", value, values=tuple(values))

    @classmethod
    def not_(cls, condition: "Condition") -> "Condition":
        return cls("Not", None, conditions=(condition,))

    @classmethod
    def or_(cls, *conditions: "Condition") -> "Condition":
        return cls("Or", None, conditions=tuple(conditions))

    def check(self, where: str) -> None:
        numeric = self.type in ("GreaterThanOrEqualTo", "GreaterThan", "LessThanOrEqualTo", "LessThan")
        for side in (self.left, self.right) if self.type not in ("Not", "Or", "In") else (self.left,):
            if isinstance(side, Expression):
                check_kind(where, f"{self.type} operand", side, NUMBER if numeric else ANY)
                if side.kind == MODEL_ARTIFACTS:
                    raise ValidationError(where, f"{self.type} operand", side.render(), "not a model artifact")
            elif numeric and (isinstance(side, bool) or not isinstance(side, (int, float))):
                raise ValidationError(where, f"{self.type} operand", side, "a number or a numeric reference")
        for c in self.conditions:
            if not isinstance(c, Condition):
                # Condition.not_(None) / or_(..., "x") failed with a raw AttributeError on .check.
                raise ValidationError(where, f"{self.type} condition", c, "Condition objects (Condition.equals(...), ...)")
            c.check(where)

    def to_json(self) -> dict[str, Any]:
        if self.type == "Not":
            return {"Type": "Not", "Expression": self.conditions[0].to_json()}
        if self.type == "Or":
            return {"Type": "Or", "Conditions": [c.to_json() for c in self.conditions]}
        if self.type == "In":
            return {"Type": "In", "QueryValue": self.left, "Values": list(self.values)}
        return {"Type": self.type, "LeftValue": self.left, "RightValue": self.right}


class ConditionStep(Step):
    """A ``Condition`` step: ``if_steps`` when every condition holds, else ``else_steps``. Steps
    in the branches belong to the pipeline through this step (do not list them again)."""

    step_type = "Condition"

    def __init__(self, name: str, *, conditions: Sequence[Condition], if_steps: Sequence[Step] = (),
                 else_steps: Sequence[Step] = (), depends_on: Sequence[Step] = (), display_name: str | None = None,
                 description: str | None = None) -> None:
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        if not conditions:
            raise ValidationError(self.where, "conditions", [], "at least one condition")
        for c in conditions:
            if not isinstance(c, Condition):
                raise ValidationError(self.where, "conditions", c, "Condition objects")
            c.check(self.where)
        if not if_steps and not else_steps:
            raise ValidationError(self.where, "if_steps", [], "at least one step in if_steps or else_steps")
        for s in [*if_steps, *else_steps]:
            if not isinstance(s, Step):
                raise ValidationError(self.where, "if_steps/else_steps", s, "Step objects")
        self.conditions: list[Condition] = list(conditions)
        self.if_steps: list[Step] = list(if_steps)
        self.else_steps: list[Step] = list(else_steps)

    def nested_steps(self) -> list[Step]:
        return [*self.if_steps, *self.else_steps]

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        return {"Conditions": [c.to_json() for c in self.conditions],
                "IfSteps": [s._to_definition(ctx) for s in self.if_steps],
                "ElseSteps": [s._to_definition(ctx) for s in self.else_steps]}

    def condition_operands(self) -> list[Any]:
        return [c.to_json() for c in self.conditions]


class FailStep(Step):
    """A ``Fail`` step: the execution stops, failed, with ``message``."""

    step_type = "Fail"

    def __init__(self, name: str, *, message: Any = "", depends_on: Sequence[Step] = (),
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        self.message: Any = _string(self.where, "message", message)

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        return {"ErrorMessage": self.message}


LAMBDA_OUTPUT_TYPES = ("String", "Integer", "Boolean", "Float")


class LambdaStep(Step):
    """A ``Lambda`` step: invokes ``function`` with ``inputs``; the pipeline role may invoke this
    function only. Outputs (``{name: type}``) are read with :meth:`output`."""

    step_type = "Lambda"

    def __init__(self, name: str, *, function: lambda_.IFunction, inputs: Mapping[str, Any] | None = None,
                 outputs: Mapping[str, str] | None = None,
                 depends_on: Sequence[Step] = (), display_name: str | None = None,
                 description: str | None = None) -> None:
        """
        :param function: the function (``lambda_.IFunction``).
        :param inputs: the event (values may be parameters and properties). Default: none.
        :param outputs: ``{name: String|Integer|Boolean|Float}`` the function returns. Default: none.
        """
        super().__init__(name, depends_on=depends_on, display_name=display_name, description=description)
        if function is None or not hasattr(function, "function_arn"):
            raise ValidationError(self.where, "function", function, "a lambda_.IFunction")
        for key, value in (outputs or {}).items():
            check_choice(self.where, f"outputs[{key!r}]", value, LAMBDA_OUTPUT_TYPES)
        self.function: lambda_.IFunction = function
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.outputs: dict[str, str] = dict(outputs or {})

    def output(self, name: str) -> Property:
        check_choice(self.where, "output", name, self.outputs, of="outputs")
        kind = {"String": STRING, "Integer": NUMBER, "Float": NUMBER, "Boolean": BOOLEAN}[self.outputs[name]]
        return Property(self, f"OutputParameters['{name}']", kind)

    def _grant(self, ctx: "_BindContext") -> None:
        iam.Grant.add_to_principal(grantee=ctx.grantee, actions=["lambda:InvokeFunction"],
                                   resource_arns=[self.function.function_arn])

    def _arguments(self, ctx: "_BindContext") -> dict[str, Any]:
        return dict(self.inputs)

    def _extra(self, ctx: "_BindContext") -> dict[str, Any]:
        return {"FunctionArn": self.function.function_arn,
                "OutputParameters": [{"OutputName": k, "OutputType": v} for k, v in self.outputs.items()]}


def all_steps(steps: Iterable[Step]) -> list[Step]:
    """``steps`` and every step nested in them, depth first."""
    found: list[Step] = []
    for step in steps:
        found.append(step)
        found.extend(all_steps(step.nested_steps()))
    return found
