"""MLOps: :class:`Pipeline`, a SageMaker pipeline of typed steps (:mod:`.steps`) with every
secure default, and :class:`TrainingPipeline`, the opinionated preset built on it (train,
evaluate, condition, register into a model registry group).

The definition JSON is built by :mod:`.definition` (step builders) from the steps; references
between steps are :mod:`.expressions`; the registered model's serving metadata is :mod:`.serving`.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any, Callable, Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .._internal.grants import ROLE_IS_PREPARED, bind_role
from ..compliance import acknowledge_iam_findings_at_synth
from ..errors import ValidationError, check_choice, check_int_range, check_pattern, is_unresolved
from ..validation.checks import arn_name, check_count, check_length, duration_to_seconds
from ..validation.limits import check_map
from ..inference.models import ContainerImage
from ..interfaces import IModelPackageGroup
from ..network import allow_https_to_endpoints, private_subnets
from ..security.roles import JobExecutionRole
from ..validation.catalog import check_instance_type, has_instance_storage
from ..validation.naming import default_name
from . import definition as d
from . import steps as st
from .definition import DEFINITION_VERSION, get, join  # noqa: F401 - kept importable from here
from .expressions import S3_URI, Execution, Expression, Join, JsonGet, Parameter, Property, render, walk
from .schedule import SCHEDULE_PATTERN, schedule_pipeline  # noqa: F401 - SCHEDULE_PATTERN kept importable
from .serving import check_metric_definitions, serving_metadata
from .training_steps import CHECK, EVALUATE, EVALUATION_REPORT, FAIL, REGISTER, TRAIN  # noqa: F401

#: Pipeline names: 1-256 letters, digits and hyphens (no leading/trailing hyphen); we also refuse "--".
PIPELINE_NAME_PATTERN = r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,255}"
#: CreateTrainingJob's MaxRuntimeInSeconds / MaxWaitTimeInSeconds ceiling: 28 days.
MAX_TRAINING_SECONDS = 28 * 24 * 3600


class _BindContext:
    """What a step sees while the pipeline binds and renders it."""

    def __init__(self, scope: "Pipeline", grantee: iam.IGrantable, job: d.JobSettings | None) -> None:
        self.scope: "Pipeline" = scope
        self.grantee: iam.IGrantable = grantee
        self.job: d.JobSettings = job  # type: ignore[assignment]
        # By identity; the image is kept with its URI, so a temporary image's id is never reused
        # for another image while the pipeline binds (that returned the wrong image's URI).
        self._images: dict[int, tuple[ContainerImage, str]] = {}
        self._image_scopes = 0

    def image_uri(self, image: ContainerImage) -> str:
        """The image's URI, bound (and its pull granted) once per pipeline."""
        if id(image) not in self._images:
            scope: Construct = self.scope
            if getattr(image, "_directory", None) is not None and self.scope.node.try_find_child("ImageAsset"):
                self._image_scopes += 1
                scope = Construct(self.scope, f"Image{self._image_scopes}")
            self._images[id(image)] = (image, image.bind(scope, self.grantee))
        return self._images[id(image)][1]

    def asset(self, id: str, path: str) -> s3_assets.Asset:
        """A code asset (child ``id`` of the pipeline) the role may read."""
        existing = self.scope.node.try_find_child(id)
        if isinstance(existing, s3_assets.Asset):
            return existing
        asset = s3_assets.Asset(self.scope, id, path=path)
        asset.grant_read(self.grantee)
        return asset


class Pipeline(Construct):
    """A SageMaker pipeline (``AWS::SageMaker::Pipeline``, child ``Resource``) of typed steps
    (:class:`TrainingStep`, :class:`ProcessingStep`, :class:`TransformStep`, :class:`TuningStep`,
    :class:`AutoMLStep`, :class:`CreateModelStep`, :class:`RegisterModelStep`,
    :class:`ConditionStep`, :class:`LambdaStep`, :class:`FailStep`), its definition inline
    (``PipelineDefinitionBody``) so every job setting shows up in a CloudFormation diff.

    Default settings, for every job step:

    * in ``vpc``'s private and isolated subnets (``subnets``) with ``security_groups`` (default: a
      new group, child ``JobSecurityGroup``, traffic only within itself and HTTPS out);
    * network isolation where the job type has it (training, tuning, processing, models; a
      transform job inherits its model's), inter-container traffic encryption;
    * ``encryption_key`` on volumes and outputs; a max runtime;
    * run as the pipeline role. Default role: a :class:`JobExecutionRole` (child ``Role``) that
      may create, describe and stop only the job types of the steps present, pass itself to
      SageMaker only, register versions only in the groups of ``RegisterModelStep`` steps,
      invoke only the functions of ``LambdaStep`` steps, read its code assets, read and write
      ``data_bucket`` and read ``read_buckets``; its guardrails deny jobs without this key. A
      supplied ``role`` CDK can change gets the same statements; an immutable one needs
      ``role_is_prepared=True``.

    Dependencies follow from the properties a step reads (``train.model_artifacts``) and from
    ``depends_on``. Bad graphs fail at synth: duplicate step names, references to steps that are
    not in the pipeline (listed, or nested in a listed condition step), cycles, parameters
    declared twice with different types.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        steps: Sequence[st.Step],
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        parameters: Sequence[Parameter] = (),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        data_bucket: s3.IBucket | None = None,
        read_buckets: Sequence[s3.IBucket] = (),
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        s3_prefix_list_id: str | None = None,
        pipeline_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param steps: the pipeline's steps (steps of a condition's branches are not listed again).
        :param encryption_key: key of every job's volumes and outputs.
        :param vpc: the jobs' VPC (``IsolatedNetwork``'s ``vpc``).
        :param parameters: parameters of each execution. Referenced parameters that are not listed
            are declared too. Default: none.
        :param role: what the pipeline and its jobs run as. Default: a new ``JobExecutionRole``.
        :param role_is_prepared: ``role`` already allows what the steps need. Only with ``role``.
            Default: false.
        :param data_bucket: a bucket the jobs read and write (inputs, outputs, checkpoints).
            Default: none.
        :param read_buckets: buckets the jobs only read. Default: none.
        :param subnets: Default: the VPC's private and isolated subnets.
        :param security_groups: Default: a new security group (child ``JobSecurityGroup``).
        :param s3_prefix_list_id: the region's S3 prefix list, to limit the jobs' HTTPS egress to
            the VPC endpoints and S3. Default: HTTPS to anywhere (in an isolated VPC that reaches
            only the VPC endpoints and S3's gateway).
        :param pipeline_name: Default: a unique name derived from the construct path.
        :param description: Default: ``Steps: <names>``.
        """
        super().__init__(scope, id)
        self._build(steps=steps, encryption_key=encryption_key, vpc=vpc, parameters=parameters, role=role,
                    role_is_prepared=role_is_prepared, data_bucket=data_bucket, read_buckets=read_buckets,
                    subnets=subnets, security_groups=security_groups, s3_prefix_list_id=s3_prefix_list_id,
                    pipeline_name=pipeline_name, description=description)

    # ------------------------------------------------------------------ public
    def dependencies_of(self, step: st.Step) -> list[st.Step]:
        """The steps ``step`` waits for: those whose properties it reads, and its ``depends_on``."""
        return list(self._dependencies[id(step)])

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start, describe and stop executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:StartPipelineExecution", "sagemaker:DescribePipelineExecution",
                     "sagemaker:StopPipelineExecution"],
            resource_arns=[self.pipeline_arn, f"{self.pipeline_arn}/execution/*"],
        )

    def schedule(self, expression: str, *, parameters: Mapping[str, str] | None = None,
                 id: str = "Schedule") -> scheduler.CfnSchedule:
        """Start the pipeline on ``expression`` (``rate(...)`` or ``cron(...)``) through EventBridge
        Scheduler, with a role (child ``<id>Role``) that may only start this pipeline, the target
        input encrypted with the pipeline's key, and retries for 24 hours."""
        return schedule_pipeline(self, pipeline_name=self.pipeline_name, pipeline_arn=self.pipeline_arn,
                                 pipeline=self.cfn_pipeline, encryption_key=self.encryption_key,
                                 expression=expression, parameters=parameters, id=id)

    # ------------------------------------------------------------------ building
    def _role_resources(self, resource_types: list[str]) -> list[str] | None:
        """The resource types the default role may create jobs of (None: JobExecutionRole's default)."""
        return resource_types

    def _build(self, *, steps: Sequence[st.Step], encryption_key: kms.IKey, vpc: ec2.IVpc,
               parameters: Sequence[Parameter], role: iam.IRole | None, role_is_prepared: bool,
               data_bucket: s3.IBucket | None, read_buckets: Sequence[s3.IBucket],
               subnets: Sequence[ec2.ISubnet] | None, security_groups: Sequence[ec2.ISecurityGroup] | None,
               s3_prefix_list_id: str | None, pipeline_name: str | None, description: str | None,
               iam_reason: str | None = None, on_role: Callable[[iam.IRole], None] | None = None) -> None:
        for argument, value in (("encryption_key", encryption_key), ("vpc", vpc)):
            if value is None:
                raise ValidationError(self, argument, None, "required")
        check_pattern(self, "pipeline_name", pipeline_name, PIPELINE_NAME_PATTERN, max_length=256,
                      description="1-256 letters, digits and single hyphens, starting and ending with a letter or digit")
        if role_is_prepared and role is None:
            raise ValidationError(self, ROLE_IS_PREPARED, True, "only with role= (the default role gets its grants)")
        check_length(self, "description", description, maximum=3072,
                     limit="botocore sagemaker CreatePipelineRequest.PipelineDescription")
        self.steps: list[st.Step] = list(steps)
        everything = self._check_steps()
        chosen = private_subnets(self, vpc, subnets)
        if security_groups:
            # Every job's VpcConfig.SecurityGroupIds: SageMaker refuses more than 5 when the step runs.
            check_count(self, "security_groups", list(security_groups), minimum=1, maximum=5, what="security groups",
                        limit="botocore sagemaker VpcSecurityGroupIds")
        self.encryption_key = encryption_key
        self.pipeline_name: str = pipeline_name or default_name(self, max_length=80)

        types: list[str] = []
        for step in everything:
            for kind in step.resource_types:
                if kind not in types:
                    types.append(kind)
        resources = self._role_resources(types)
        buckets = [b for b in read_buckets if b is not data_bucket]
        # The steps leave the volume key out on instance types with local NVMe storage (SageMaker
        # rejects one there): the role's guardrail must let those jobs through without it.
        # A parameter's default counts: the steps leave the key out for it (definition.job_volume_key).
        unkeyed = sorted({t for s in everything for t in map(d.instance_type_default, s.instance_types())
                          if isinstance(t, str) and not is_unresolved(t) and has_instance_storage(t)})
        if isinstance(role, JobExecutionRole) and role.orchestrate_pipelines:  # a role with its own guardrails
            exempt = role.volume_key_exempt_instance_types
            missing = [t for t in unkeyed if not any(fnmatch.fnmatchcase(t, pattern) for pattern in exempt)]
            if missing:
                raise ValidationError(
                    self, "role", role.node.path,
                    f"a JobExecutionRole whose guardrails let jobs on {', '.join(missing)} omit the volume key: those "
                    "types have local NVMe storage, so the steps leave VolumeKmsKeyId out (SageMaker rejects one "
                    "there) and the role's DenyMissingVolumeKey would deny the job; create it with "
                    f"volume_key_exempt_instance_types={missing!r} (or patterns such as 'ml.g5.*')")
        binding = bind_role(self, role, role_is_prepared=role_is_prepared,
                            default=lambda scope, child: JobExecutionRole(
                                scope, child, encryption_key=encryption_key,
                                data_buckets=[*buckets, *([data_bucket] if data_bucket is not None else [])],
                                output_bucket=data_bucket, orchestrate_pipelines=bool(types),
                                pipeline_resources=resources if types else None,
                                volume_key_exempt_instance_types=unkeyed if types else ()))
        self.role: iam.IRole = binding.role
        if isinstance(self.role, Construct):
            acknowledge_iam_findings_at_synth(
                self.role,
                reason=iam_reason or (
                    "Grants of this pipeline's own code assets (read), model registry groups (versions are "
                    "numbered at run time, so model-package/<group>/*) and the jobs its steps create (named at "
                    "run time)." if not binding.supplied else
                    "The statements of this pipeline's default JobExecutionRole, given to the supplied role: "
                    "objects of its buckets and code assets (keys chosen at run time), the jobs and models the "
                    "steps create, SageMaker's log groups, image pulls, the ENI and metric calls SageMaker "
                    "requires unscoped, the registry groups' versions."
                ),
            )
        if on_role is not None:
            on_role(self.role)
        ctx = _BindContext(self, binding.grantee, None)
        for step in everything:
            step._grant(ctx)
        self.security_groups: list[ec2.ISecurityGroup] = list(security_groups) if security_groups else [
            self._job_security_group(vpc, s3_prefix_list_id)
        ]
        ctx.job = d.JobSettings(
            role_arn=self.role.role_arn, key_arn=encryption_key.key_arn,
            vpc_config={"Subnets": [s.subnet_id for s in chosen],
                        "SecurityGroupIds": [g.security_group_id for g in self.security_groups]},
        )
        self._bind_steps(ctx, everything)
        binding.finish()

        rendered = [step._to_definition(ctx) for step in self.steps]
        self._dependencies = self._check_references(ctx, everything)
        declared = self._declare_parameters(parameters, rendered)
        self.parameters: list[dict[str, Any]] = [p.declaration() for p in declared]
        #: The pipeline definition (a dict; tokens resolve at synth).
        self.definition: dict[str, Any] = render(d.pipeline_definition(self.parameters, rendered))
        self._check_finite(self.definition)
        self.cfn_pipeline: sagemaker.CfnPipeline = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=self.pipeline_name,
            role_arn=self.role.role_arn,
            pipeline_description=description or f"Steps: {', '.join(s.name for s in self.steps)}"[:3072],
            pipeline_definition={"PipelineDefinitionBody": Stack.of(self).to_json_string(self.definition)},
        )
        binding.depend_on_policies(self.cfn_pipeline)
        # An iam.Role reports its DefaultPolicy through a dependency group that is filled only at
        # synth, so wait for the policy itself as well (SageMaker checks the role on creation).
        default_policy = self.role.node.try_find_child("DefaultPolicy") if binding.supplied else None
        if isinstance(default_policy, Construct):
            self.cfn_pipeline.node.add_dependency(default_policy)
        self.pipeline_arn: str = Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=arn_name(self.pipeline_name)
        )

    def _check_finite(self, value: Any, path: str = "definition") -> None:
        """Refuse NaN and infinities anywhere in the definition (a condition's operand, a Lambda step's
        input...): the definition is JSON, which has neither, and jsii died carrying it to the template."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError(self, path, value, "a finite number (a pipeline definition is JSON, which has no "
                                                     "NaN or infinity)")
        if isinstance(value, dict):
            for key, item in value.items():
                self._check_finite(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                named = item.get("Name") if isinstance(item, dict) and isinstance(item.get("Name"), str) else None
                self._check_finite(item, f"{path}[{named!r}]" if named else f"{path}[{index}]")

    def _bind_steps(self, ctx: _BindContext, everything: list[st.Step]) -> None:
        for step in everything:
            step._bind(ctx)

    def _check_steps(self) -> list[st.Step]:
        if not self.steps:
            raise ValidationError(self, "steps", [], "at least one step")
        for step in self.steps:
            if not isinstance(step, st.Step):
                raise ValidationError(self, "steps", step, "Step objects (TrainingStep, ProcessingStep, ...)")
        everything = st.all_steps(self.steps)
        seen: dict[str, st.Step] = {}
        for step in everything:
            if step.name in seen:
                raise ValidationError(self, "steps", step.name,
                                      "unique step names (each step once: steps of a condition's branches are "
                                      "not listed again)")
            seen[step.name] = step
        return everything

    def _check_references(self, ctx: _BindContext, everything: list[st.Step]) -> dict[int, list[st.Step]]:
        members = {id(s) for s in everything}
        parent: dict[int, st.Step] = {}
        for step in everything:
            for child in step.nested_steps():
                parent[id(child)] = step
        deps: dict[int, list[st.Step]] = {}
        for step in everything:
            own = ([c.to_json() for c in step.conditions] if isinstance(step, st.ConditionStep)
                   else [step._arguments(ctx), step._extra(ctx)])
            found: list[st.Step] = []
            for expression in walk(own):
                if isinstance(expression, (Property, JsonGet)):
                    target = expression.step if isinstance(expression, Property) else expression.property_file.step
                    if id(target) not in members:
                        raise ValidationError(self, f"steps[{step.name!r}]", expression.render(),
                                              f"references to steps of this pipeline (step {target.name!r} is not "
                                              "in it: list it in steps or in a condition step's branches)")
                    if target is step:
                        raise ValidationError(self, f"steps[{step.name!r}]", expression.render(),
                                              "a step cannot read its own properties")
                    if target not in found:
                        found.append(target)
            for dep in step.depends_on:
                if id(dep) not in members:
                    raise ValidationError(self, f"steps[{step.name!r}].depends_on", dep.name,
                                          "steps of this pipeline")
                if dep not in found:
                    found.append(dep)
            deps[id(step)] = found
        # Cycles, counting a branch step's wait for its condition step.
        edges = {id(s): [id(t) for t in deps[id(s)]] + ([id(parent[id(s)])] if id(s) in parent else [])
                 for s in everything}
        names = {id(s): s.name for s in everything}
        state: dict[int, int] = {}

        def visit(node: int, path: list[int]) -> None:
            state[node] = 1
            for nxt in edges[node]:
                if state.get(nxt) == 1:
                    cycle = [names[n] for n in path[path.index(nxt):]] + [names[nxt]]
                    raise ValidationError(self, "steps", " -> ".join(cycle), "steps without dependency cycles")
                if nxt not in state:
                    visit(nxt, [*path, nxt])
            state[node] = 2

        for step in everything:
            if id(step) not in state:
                visit(id(step), [id(step)])
        return deps

    def _declare_parameters(self, parameters: Sequence[Parameter], rendered: list[dict[str, Any]]) -> list[Parameter]:
        declared: dict[str, Parameter] = {}
        for p in [*parameters, *(e for e in walk(rendered) if isinstance(e, Parameter))]:
            if not isinstance(p, Parameter):
                raise ValidationError(self, "parameters", p, "Parameter objects")
            existing = declared.get(p.name)
            if existing is None:
                declared[p.name] = p
            elif existing is not p and (existing.type, existing.default) != (p.type, p.default):
                raise ValidationError(self, "parameters", p.name,
                                      "one declaration per name (two parameters differ in type or default)")
        return list(declared.values())

    def _job_security_group(self, vpc: ec2.IVpc, s3_prefix_list_id: str | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self, "JobSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="SageMaker pipeline jobs: traffic within the group, HTTPS to VPC endpoints and S3",
        )
        sg.add_ingress_rule(sg, ec2.Port.all_tcp(), "Distributed training within the group")
        sg.add_egress_rule(sg, ec2.Port.all_tcp(), "Distributed training within the group")
        if s3_prefix_list_id is not None:
            allow_https_to_endpoints(self, sg, vpc, None)  # a clear error for an imported VPC without its CIDR
            sg.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list_id), ec2.Port.tcp(443), "HTTPS to S3 (gateway)")
        else:
            sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                               "HTTPS: in an isolated VPC only the VPC endpoints and the S3 gateway answer")
        return sg


class TrainingPipeline(Pipeline):
    """A SageMaker Pipeline (``AWS::SageMaker::Pipeline``, child ``Resource``) whose definition is
    built in typed Python (:mod:`sagemaker_constructs.mlops.definition`) and placed inline
    (``PipelineDefinitionBody``) so every job setting shows up in a CloudFormation diff.

    Steps, by what decides whether a model is registered:

    * with ``evaluation_script``: ``Train`` (training job) -> ``Evaluate`` (processing job writing
      ``evaluation.json``) -> ``CheckMetric`` (``metrics.<metric_name>.value`` against
      ``MetricThreshold``) -> ``Register`` or ``MetricBelowThreshold`` (Fail);
    * without it, with ``metric_definitions``: ``Train`` -> ``CheckMetric`` on the training job's
      final value of ``metric_name`` (``FinalMetricDataList``, one of ``metric_definitions``) ->
      ``Register`` or ``MetricBelowThreshold``;
    * with neither: ``Train`` -> ``Register``. Every version waits for a person's approval.

    Registered versions are ``PendingManualApproval`` in ``model_package_group``, deployable on
    ``inference_instance_types`` (default: what the serving image can run, see
    :mod:`sagemaker_constructs.mlops.serving`).

    Every job: in the VPC subnets with ``security_groups`` (default: a new group, child
    ``JobSecurityGroup``, that allows traffic only within itself and HTTPS out), network isolation,
    inter-container traffic encryption, ``encryption_key`` on volumes and outputs, a max runtime.
    Training: managed spot capacity with checkpoints in the bucket and a max wait when
    ``use_spot``. Outputs go to ``s3://<data_bucket>/<output_prefix>/<pipeline name>/<execution id>/...``.
    Code assets are found in the containers by their object's file name, whatever the stack's
    synthesizer and its ``bucket_prefix``.

    Parameters of each execution: ``InputDataUrl``, ``TrainingInstanceType``, and
    ``TestDataUrl`` (with ``evaluation_script``) and ``MetricThreshold`` (when a metric decides).

    Default role: a :class:`JobExecutionRole` (child ``Role``) that orchestrates pipelines, reads
    and writes ``data_bucket``, uses the key, and may register versions in the group only. A
    supplied ``role`` that CDK can change receives exactly the statements the default role would
    have; one it cannot change (``mutable=False``) raises a ``ValidationError`` naming the actions
    it needs, unless ``role_is_prepared=True``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        training_image: ContainerImage,
        data_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        model_package_group: IModelPackageGroup,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        use_spot: bool = True,
        max_runtime: Duration = Duration.hours(2),
        max_wait: Duration | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        pipeline_name: str | None = None,
        training_code: str | None = None,
        entry_point: str = "train.py",
        evaluation_script: str | None = None,
        evaluation_image: ContainerImage | None = None,
        evaluation_instance_type: str = "ml.m5.large",
        metric_definitions: Mapping[str, str] | None = None,
        inference_image: ContainerImage | None = None,
        inference_environment: Mapping[str, str] | None = None,
        inference_instance_types: Sequence[str] | None = None,
        transform_instance_types: Sequence[str] | None = None,
        content_types: Sequence[str] | None = None,
        response_types: Sequence[str] | None = None,
        metric_name: str = "accuracy",
        metric_threshold: float = 0.8,
        higher_is_better: bool = True,
        input_prefix: str = "training/",
        test_prefix: str = "test/",
        output_prefix: str = "pipelines",
        volume_size_gb: int = 30,
        s3_prefix_list_id: str | None = None,
    ) -> None:
        """
        :param training_image: the training container (e.g. SageMaker's scikit-learn image).
        :param data_bucket: input data, outputs, checkpoints and evaluation reports.
        :param encryption_key: key for volumes, outputs and the registry's artifacts.
        :param vpc: the jobs' VPC (``IsolatedNetwork``'s ``vpc``).
        :param model_package_group: where passing models are registered (a ``ModelPackageGroup``,
            or one imported with ``ModelPackageGroup.from_model_package_group_name``).
        :param instance_type: default of the ``TrainingInstanceType`` parameter. The volume key follows
            it: none on a type with local NVMe storage (``ml.g5``, ``ml.g4dn``, ``ml.p4d``...), which
            SageMaker refuses one for, so an execution that overrides the parameter with a type of the
            other storage kind is refused. Default: ml.m5.xlarge.
        :param instance_count: training instances (at least 1). Default: 1.
        :param use_spot: managed spot training with checkpoints. Default: true.
        :param max_runtime: training max runtime (1 s - 28 days). Default: 2 hours.
        :param max_wait: spot max wait, at least ``max_runtime``. Default: twice ``max_runtime``
            (capped at 28 days).
        :param hyperparameters: string hyperparameters. Default: none.
        :param role: what the pipeline and its jobs run as. Default: a new ``JobExecutionRole``
            (child ``Role``). A role CDK can change gets the default role's statements (Allow and
            its key guardrails); one it cannot change needs ``role_is_prepared``.
        :param role_is_prepared: ``role`` already allows everything the pipeline needs, so a role
            CDK cannot change is used as it is instead of failing (a role CDK can change still
            receives the statements). Only with ``role``. Default: false.
        :param subnets: Default: the VPC's private and isolated subnets.
        :param security_groups: Default: a new security group (child ``JobSecurityGroup``).
        :param pipeline_name: Default: a unique name derived from the construct path.
        :param training_code: a ``sourcedir.tar.gz`` with ``entry_point`` for script-mode images,
            passed as the ``code`` channel (works with network isolation). Default: none (the
            image runs its own entry point).
        :param evaluation_script: a Python file run with ``python3`` in the evaluation job; it reads
            the model in ``/opt/ml/processing/model`` and test data in ``/opt/ml/processing/test``
            and writes ``/opt/ml/processing/evaluation/evaluation.json`` with
            ``{"metrics": {"<metric_name>": {"value": ...}}}``. Default: none (no ``Evaluate``
            step: the training job's ``metric_definitions`` decide, or, without them, every
            trained model is registered for approval).
        :param evaluation_image: Default: ``training_image``. Only with ``evaluation_script``.
        :param evaluation_instance_type: Default: ml.m5.large.
        :param metric_definitions: ``{metric name: regex}`` the training job extracts from its logs
            (CreateTrainingJob ``MetricDefinitions``: at most 40, names 1-255 and regexes 1-500
            characters); without ``evaluation_script``, ``metric_name`` must be one of them and its
            final value decides. Default: none.
        :param inference_image: image registered for serving. Default: ``training_image``.
        :param inference_environment: environment registered with the model. Default: none.
        :param inference_instance_types: real-time instance types the version is registered for
            (CreateModelPackage's ``ProductionVariantInstanceType`` values). Default: what the
            serving image can run (Graviton for Arm images, GPU types for GPU images, x86 CPU
            types for CPU images, x86 and Graviton when the image does not say).
        :param transform_instance_types: batch transform instance types (``TransformInstanceType``
            values; an empty list registers none). Default: as ``inference_instance_types``
            (none for Arm images: batch transform has no Graviton type).
        :param content_types: request MIME types. Default: application/json, text/csv.
        :param response_types: response MIME types. Default: application/json.
        :param metric_name: the metric compared with the threshold. Default: accuracy.
        :param metric_threshold: default of the ``MetricThreshold`` parameter. Default: 0.8.
        :param higher_is_better: register when the metric is at least the threshold (true) or at
            most the threshold (false, for losses such as ``validation:rmse``). Default: true.
        :param s3_prefix_list_id: the region's S3 prefix list, to limit the jobs' HTTPS egress to the
            VPC endpoints and S3. Default: HTTPS to anywhere (in an isolated VPC that reaches only
            the VPC endpoints and S3's gateway).
        """
        Construct.__init__(self, scope, id)
        self._validate(instance_type, instance_count, max_runtime, max_wait, use_spot, pipeline_name, metric_name,
                       metric_threshold, evaluation_instance_type, volume_size_gb, hyperparameters, entry_point)
        for argument, value in (("training_image", training_image), ("data_bucket", data_bucket),
                                ("encryption_key", encryption_key), ("vpc", vpc),
                                ("model_package_group", model_package_group)):
            if value is None:
                raise ValidationError(self, argument, None, "required")
        metrics = check_metric_definitions(self, metric_definitions)
        self._check_decision(evaluation_script, evaluation_image, metrics, metric_name, role, role_is_prepared)

        self.data_bucket: s3.IBucket = data_bucket
        self.model_package_group: IModelPackageGroup = model_package_group
        name = pipeline_name or default_name(self, max_length=80)
        runtime = int(max_runtime.to_seconds())
        base = f"s3://{data_bucket.bucket_name}/{output_prefix.strip('/')}/{name}"
        evaluated = evaluation_script is not None
        threshold = Parameter.float("MetricThreshold", float(metric_threshold))
        params = [Parameter.string("InputDataUrl", f"s3://{data_bucket.bucket_name}/{input_prefix}"),
                  *([Parameter.string("TestDataUrl", f"s3://{data_bucket.bucket_name}/{test_prefix}")]
                    if evaluated else []),
                  Parameter.string("TrainingInstanceType", instance_type)]

        #: The ``Train`` step (and ``Evaluate``, ``Register`` below): the typed steps of this preset.
        self.train: st.TrainingStep = st.TrainingStep(
            TRAIN, image=training_image, inputs={"train": params[0]},
            output_uri=Join(base, Execution.ID, "model", kind=S3_URI), instance_type=params[-1],
            instance_count=instance_count, volume_size_gb=volume_size_gb, max_runtime=max_runtime, use_spot=use_spot,
            max_wait=max_wait if max_wait is not None else (
                Duration.seconds(min(2 * runtime, MAX_TRAINING_SECONDS)) if use_spot else None),
            checkpoint_uri=f"{base}/checkpoints" if use_spot else None, hyperparameters=hyperparameters,
            metric_definitions=metrics, code=training_code, entry_point=entry_point,
        )
        self.train._code_asset_id = "TrainingCode"
        self.evaluate: st.ProcessingStep | None = None
        report = None
        if evaluated:
            self.evaluate = st.ProcessingStep(
                EVALUATE, image=evaluation_image or training_image, code=evaluation_script,
                instance_type=evaluation_instance_type, volume_size_gb=volume_size_gb,
                inputs=[st.ProcessingInput("model", self.train.model_artifacts, "/opt/ml/processing/model"),
                        st.ProcessingInput("test", params[1], "/opt/ml/processing/test")],
                outputs=[st.ProcessingOutput("evaluation", Join(base, Execution.ID, "evaluation", kind=S3_URI),
                                             "/opt/ml/processing/evaluation")],
            )
            self.evaluate._code_asset_id = "EvaluationScript"
            report = self.evaluate.property_file(EVALUATION_REPORT, output_name="evaluation", path="evaluation.json")
        self.register: st.RegisterModelStep = st.RegisterModelStep(
            REGISTER, model_package_group=model_package_group, image=inference_image or training_image,
            model_data=self.train.model_artifacts, environment=inference_environment,
            description=f"Trained by pipeline {name}",
            serving=serving_metadata(self, inference_image or training_image,
                                     inference_instance_types=inference_instance_types,
                                     transform_instance_types=transform_instance_types,
                                     content_types=content_types, response_types=response_types),
            model_quality_report_uri=(Join(base, Execution.ID, "evaluation", "evaluation.json", kind=S3_URI)
                                      if evaluated else None),
        )
        metric: Expression | None = (report.json_get(f"metrics.{metric_name}.value") if report is not None
                                     else self.train.final_metric(metric_name) if metrics else None)
        steps: list[st.Step] = [self.train, *([self.evaluate] if self.evaluate is not None else [])]
        if metric is None:
            steps.append(self.register)
        else:
            params.append(threshold)
            compare = (st.Condition.greater_than_or_equal(metric, threshold) if higher_is_better
                       else st.Condition.less_than_or_equal(metric, threshold))
            fail = st.FailStep(FAIL, message=Join(f"{metric_name} {'below' if higher_is_better else 'above'}",
                                                  threshold, on=" "))
            steps.append(st.ConditionStep(CHECK, conditions=[compare], if_steps=[self.register], else_steps=[fail]))
        group_name = model_package_group.model_package_group_name
        self._build(
            steps=steps, encryption_key=encryption_key, vpc=vpc, parameters=params, role=role,
            role_is_prepared=role_is_prepared, data_bucket=data_bucket, read_buckets=(), subnets=subnets,
            security_groups=security_groups, s3_prefix_list_id=s3_prefix_list_id, pipeline_name=name,
            description=(f"Train, evaluate and register into {group_name}" if evaluated
                         else f"Train and register into {group_name}"),
            iam_reason=(
                "Grants of this pipeline's own code assets (read) and model registry group "
                "(versions are numbered at run time, so model-package/<group>/*)."
                if role is None else
                "The statements of this pipeline's default JobExecutionRole, given to the supplied "
                "role: objects of the data bucket and code assets (keys chosen at run time), the "
                "jobs and models the steps create, SageMaker's log groups, image pulls, the ENI "
                "and metric calls SageMaker requires unscoped, the registry group's versions."
            ),
        )

    def _role_resources(self, resource_types: list[str]) -> list[str] | None:
        # The preset's role keeps JobExecutionRole's pipeline default (training, processing, tuning
        # and transform jobs, models), as it always had: its template is unchanged.
        return None

    # ------------------------------------------------------------------ internals
    def _validate(self, instance_type, instance_count, max_runtime, max_wait, use_spot, pipeline_name, metric_name,
                  metric_threshold, evaluation_instance_type, volume_size_gb, hyperparameters, entry_point) -> None:
        check_instance_type(self, "instance_type", instance_type, use="training")
        check_instance_type(self, "evaluation_instance_type", evaluation_instance_type, use="processing")
        check_int_range(self, "instance_count", instance_count, minimum=1, maximum=100)
        check_int_range(self, "volume_size_gb", volume_size_gb, minimum=1, maximum=16384)
        check_pattern(self, "pipeline_name", pipeline_name, PIPELINE_NAME_PATTERN, max_length=256,
                      description="1-256 letters, digits and single hyphens, starting and ending with a letter or digit")
        check_pattern(self, "entry_point", entry_point, r"[A-Za-z0-9_./-]{1,256}", description="a file name")
        if not isinstance(metric_threshold, (int, float)) or metric_threshold != metric_threshold:
            raise ValidationError(self, "metric_threshold", metric_threshold, "a number")
        if max_runtime.is_unresolved():
            # The Train step takes a literal MaxRuntimeInSeconds (its spot max wait is computed from it at
            # synth): a CloudFormation parameter failed in jsii ("Duration amounts cannot be negative").
            raise ValidationError(self, "max_runtime", max_runtime.to_human_string(), "a Duration known at synth")
        check_int_range(self, "max_runtime (seconds)", duration_to_seconds(self, "max_runtime", max_runtime), minimum=1,
                        maximum=MAX_TRAINING_SECONDS)
        if max_wait is not None:
            if not use_spot:
                raise ValidationError(self, "max_wait", max_wait.to_human_string(), "only with use_spot=True")
            if not max_wait.is_unresolved() and not max_runtime.is_unresolved():
                check_int_range(self, "max_wait (seconds)", duration_to_seconds(self, "max_wait", max_wait),
                                minimum=duration_to_seconds(self, "max_runtime", max_runtime),
                                maximum=MAX_TRAINING_SECONDS)
        for key, value in (hyperparameters or {}).items():
            if not isinstance(value, str):
                raise ValidationError(self, f"hyperparameters[{key!r}]", value, "a string value")
        check_map(self, "hyperparameters", hyperparameters, shape="HyperParameters")

    def _check_decision(self, evaluation_script, evaluation_image, metrics, metric_name, role,
                        role_is_prepared) -> None:
        """What decides registration, and the role arguments, hang together."""
        if evaluation_script is not None:
            check_pattern(self, "metric_name", metric_name, r"[A-Za-z_][A-Za-z0-9_]{0,127}",
                          description="a JSON key of evaluation.json (letters, digits, underscore)")
        else:
            if evaluation_image is not None:
                raise ValidationError(self, "evaluation_image", "an image", "only with evaluation_script")
            if metrics:
                check_choice(self, "metric_name", metric_name, metrics, of="metric_definitions",
                             note="when there is no evaluation_script")
            if metrics and "'" in metric_name:
                raise ValidationError(self, "metric_name", metric_name, "a name without quotes")
        if role_is_prepared and role is None:
            raise ValidationError(self, ROLE_IS_PREPARED, True, "only with role= (the default role gets its grants)")
