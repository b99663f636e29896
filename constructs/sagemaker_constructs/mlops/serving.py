"""What a registered model version can be served on: defaults decided from the serving image,
and validation against SageMaker's API model (CreateModelPackage, CreateTrainingJob).

Defaults as data: the instance lists below are the ones a pipeline registers when the caller
gives none. The image decides the list, by its ``ContainerImage.architecture`` (which the
``architecture=`` argument of its ``from_*`` constructor sets, or CDK reads from its URI):

* an Arm image (marked ``"arm64"``; ``graviton``, ``arm64`` or ``aarch64`` in its URI or repository,
  or an asset built for ``linux/arm64``): Graviton instances (``ml.c6g``, ``ml.m6g``, ``ml.c7g``) for
  real-time inference; no batch transform (``TransformInstanceType`` lists no Graviton type);
* a GPU image (``gpu`` or a CUDA tag such as ``cu121``): ``ml.g4dn``/``ml.g5``/``ml.g6``;
* a Neuron image (``neuron``): ``ml.inf2``;
* an x86 CPU image (``cpu`` in the tag, SageMaker's prebuilt CPU images, an asset built for
  ``linux/amd64``): ``ml.m5``/``ml.c5``/``ml.m6i``/``ml.c6i``/``ml.c7i``;
* anything else (marked ``"multi-arch"``, or an image CDK cannot see into: a repository, a URI
  without those hints, an asset built for the deploying machine's platform): x86 and Graviton,
  since it may be multi-arch. Pass ``inference_instance_types`` to narrow it.

Validation reads the installed botocore's SageMaker service model (the API's own enums and
limits) when botocore is importable; without it (botocore is not a runtime dependency of this
library) instance types are only checked for their ``ml.<family>.<size>`` form and the limits
below (from the same model) apply. The API reference pages say the same:
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceSpecification.html
(instance and MIME types) and
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricDefinition.html (``Name``
1-255 and ``Regex`` 1-500 characters; ``AlgorithmSpecification`` takes at most 40).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Mapping, Sequence

from constructs import IConstruct

from ..errors import ValidationError, check_choice, check_pattern, is_unresolved
from ..validation.checks import check_combination, check_count, check_length
from ..validation.limits import check_string
from ..validation.instances import INSTANCE_TYPE_PATTERN
from .definition import ServingMetadata

X86_REALTIME = ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.large", "ml.c5.xlarge", "ml.c5.2xlarge",
                "ml.m6i.large", "ml.m6i.xlarge", "ml.c6i.large", "ml.c6i.xlarge", "ml.c7i.large", "ml.c7i.xlarge")
X86_TRANSFORM = ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.xlarge", "ml.c5.2xlarge",
                 "ml.m6i.large", "ml.m6i.xlarge", "ml.c6i.large", "ml.c6i.xlarge")
GRAVITON_REALTIME = ("ml.c6g.large", "ml.c6g.xlarge", "ml.c6g.2xlarge", "ml.m6g.large", "ml.m6g.xlarge",
                     "ml.m6g.2xlarge", "ml.c7g.large", "ml.c7g.xlarge")
GPU_REALTIME = ("ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g6.xlarge", "ml.g6.2xlarge")
GPU_TRANSFORM = ("ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g6.xlarge")
NEURON_REALTIME = ("ml.inf2.xlarge", "ml.inf2.8xlarge")
NEURON_TRANSFORM = ("ml.inf2.xlarge", "ml.inf2.8xlarge")

#: ``{architecture: (real-time types, transform types)}``.
DEFAULT_INSTANCE_TYPES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "x86": (X86_REALTIME, X86_TRANSFORM),
    "arm": (GRAVITON_REALTIME, ()),
    "gpu": (GPU_REALTIME, GPU_TRANSFORM),
    "neuron": (NEURON_REALTIME, NEURON_TRANSFORM),
    "unknown": (X86_REALTIME + GRAVITON_REALTIME, X86_TRANSFORM),
}
DEFAULT_CONTENT_TYPES = ("application/json", "text/csv")
DEFAULT_RESPONSE_TYPES = ("application/json",)

# Limits of the SageMaker API model (botocore ``sagemaker`` 2017-07-24), used when botocore is absent.
_FALLBACK_LIMITS = {"metric_definitions": 40, "metric_name": 255, "metric_regex": 500, "content_type": 256,
                    "response_type": 1024}
_METRIC_PAGE = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricDefinition.html"


@functools.lru_cache(maxsize=1)
def sagemaker_service_model() -> Any | None:
    """botocore's SageMaker service model, or None when botocore is not installed."""
    try:
        import botocore.session
    except ImportError:
        return None
    return botocore.session.get_session().get_service_model("sagemaker")


def _input_member(operation: str, *path: str) -> Any | None:
    model = sagemaker_service_model()
    if model is None:
        return None
    shape = model.operation_model(operation).input_shape
    for name in path:
        shape = shape.members[name]
    return shape


def allowed_instance_types(kind: str) -> tuple[str, ...] | None:
    """The API's enum of instance types a model package may list for ``"realtime"`` or
    ``"transform"``; None without botocore."""
    member = "SupportedRealtimeInferenceInstanceTypes" if kind == "realtime" else "SupportedTransformInstanceTypes"
    shape = _input_member("CreateModelPackage", "InferenceSpecification", member)
    return None if shape is None else tuple(shape.member.enum)


def image_architecture(image: Any) -> str:
    """``"arm"``, ``"gpu"``, ``"neuron"``, ``"x86"`` or ``"unknown"`` for a ``ContainerImage``: its
    public ``architecture`` (``"multi-arch"`` counts as unknown: both lists) and, for x86 images,
    the accelerator its URI or tag names."""
    architecture = getattr(image, "architecture", None)
    if architecture == "arm64":
        return "arm"
    if architecture == "multi-arch":
        return "unknown"
    words = set(re.split(r"[^a-z0-9]+", (getattr(image, "reference", None) or "").lower()))
    if any(w.startswith("neuron") for w in words):
        return "neuron"
    if "gpu" in words or any(re.fullmatch(r"cu\d{2,3}", w) for w in words):
        return "gpu"
    return "x86" if architecture == "x86_64" else "unknown"


def check_instance_types(scope: IConstruct, argument: str, values: Sequence[str], kind: str, *,
                         allow_empty: bool) -> tuple[str, ...]:
    values = tuple(values)
    if not values and not allow_empty:
        raise ValidationError(scope, argument, [], "at least one instance type")
    allowed = allowed_instance_types(kind)
    for value in values:
        if is_unresolved(value):
            continue
        if not isinstance(value, str) or not re.fullmatch(INSTANCE_TYPE_PATTERN, value):
            raise ValidationError(scope, argument, value, "ml.<family>.<size>")
        if allowed is not None:
            api = "ProductionVariantInstanceType" if kind == "realtime" else "TransformInstanceType"
            check_choice(scope, argument, value, allowed, of=f"CreateModelPackage's {api} values", shown=12,
                         limit=f"botocore sagemaker {api}")
    if len(set(values)) != len(values):
        raise ValidationError(scope, argument, list(values), "each instance type once")
    return values


def _limit(name: str, operation: str, *path: str) -> int:
    shape = _input_member(operation, *path)
    if shape is None:
        return _FALLBACK_LIMITS[name]
    return int(shape.metadata.get("max", _FALLBACK_LIMITS[name]))


def check_media_types(scope: IConstruct, argument: str, values: Sequence[str], *, response: bool) -> tuple[str, ...]:
    """Request (``ContentType``, 1-256 characters) or response (``ResponseMIMEType``, ``type/subtype`` of at
    most 1024) MIME types of ``InferenceSpecification``: at least one (botocore shapes, ``validation.limits``)."""
    values = tuple(values)
    check_combination(scope, argument, [], refused=not values, because="at least one MIME type",
                      limit="https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceSpecification.html")
    for i, value in enumerate(values):
        check_length(scope, f"{argument}[{i}]", value, minimum=1)
        check_string(scope, f"{argument}[{i}]", value, shape="ResponseMIMEType" if response else "ContentType")
    return values


def check_metric_definitions(scope: IConstruct, definitions: Mapping[str, str] | None) -> dict[str, str]:
    """``{name: regex}`` checked against CreateTrainingJob's ``MetricDefinitions`` limits."""
    if not definitions:
        return {}
    path = ("AlgorithmSpecification", "MetricDefinitions")
    most = _limit("metric_definitions", "CreateTrainingJob", *path)
    limit = "botocore sagemaker MetricDefinitionList, " + _METRIC_PAGE
    check_count(scope, "metric_definitions", definitions, maximum=most, what="definitions", limit=limit)
    shape = _input_member("CreateTrainingJob", *path)
    name_max = int(shape.member.members["Name"].metadata["max"]) if shape is not None else _FALLBACK_LIMITS["metric_name"]
    regex_max = (int(shape.member.members["Regex"].metadata["max"]) if shape is not None
                 else _FALLBACK_LIMITS["metric_regex"])
    for name, regex in definitions.items():
        if not isinstance(name, str):
            check_pattern(scope, "metric_definitions", name, ".+", description="a metric name (a string)")
        check_length(scope, "metric_definitions", name, minimum=1, maximum=name_max, limit=limit)
        if not isinstance(regex, str):
            check_pattern(scope, f"metric_definitions[{name!r}]", regex, ".+", description="a regular expression")
        check_length(scope, f"metric_definitions[{name!r}]", regex, minimum=1, maximum=regex_max, limit=limit)
    return dict(definitions)


def serving_metadata(
    scope: IConstruct,
    image: Any,
    *,
    inference_instance_types: Sequence[str] | None,
    transform_instance_types: Sequence[str] | None,
    content_types: Sequence[str] | None,
    response_types: Sequence[str] | None,
) -> ServingMetadata:
    """The registered model's serving metadata: the caller's values, checked, or the image's defaults."""
    realtime, transform = DEFAULT_INSTANCE_TYPES[image_architecture(image)]
    return ServingMetadata(
        content_types=check_media_types(
            scope, "content_types", DEFAULT_CONTENT_TYPES if content_types is None else content_types, response=False),
        response_types=check_media_types(
            scope, "response_types", DEFAULT_RESPONSE_TYPES if response_types is None else response_types,
            response=True),
        inference_instance_types=check_instance_types(
            scope, "inference_instance_types",
            realtime if inference_instance_types is None else inference_instance_types, "realtime", allow_empty=False),
        transform_instance_types=check_instance_types(
            scope, "transform_instance_types",
            transform if transform_instance_types is None else transform_instance_types, "transform",
            allow_empty=True),
    )
