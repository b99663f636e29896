"""SageMaker models: inference images, model artifacts and the Model construct."""

from __future__ import annotations

import hashlib
import re
from typing import Callable, TYPE_CHECKING, Any, Mapping, Sequence, cast

from aws_cdk import Aws, CfnMapping, Resource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_ssm as ssm

    from ..interfaces import IModel, IModelPackageGroup

from ..compliance import acknowledge_iam_findings_at_synth
from ..errors import ValidationError, check_choice, check_pattern, is_unresolved
from ..validation.checks import check_count
from ..validation.limits import check_map
from ..validation.naming import check_name
from ..network import allow_https_to_endpoints, private_subnets
from .._internal.grants import bind_role, grant_read, s3_url_for_object
from .._internal.l1 import struct
from .._internal.stacks import note_scope
from ..security.roles import ModelHostingRole, flush_policy, give_network_interfaces, held_policy, platform_tags

_IMAGE_URI = r"[^\s]{1,255}"
_REGION = "_sagemaker_constructs_region"


#: Registry accounts of SageMaker's large model inference (DJL) images by region, from the
#: SageMaker Python SDK's ``src/sagemaker/image_uri_config/djl-lmi.json`` (version 0.30.0).
LMI_IMAGE_ACCOUNTS: dict[str, str] = {
    "af-south-1": "626614931356", "ap-east-1": "871362719292", "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884", "ap-northeast-3": "364406365360", "ap-south-1": "763104351884",
    "ap-southeast-1": "763104351884", "ap-southeast-2": "763104351884", "ap-southeast-3": "907027046896",
    "ca-central-1": "763104351884", "ca-west-1": "204538143572", "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807", "eu-central-1": "763104351884", "eu-north-1": "763104351884",
    "eu-south-1": "692866216735", "eu-west-1": "763104351884", "eu-west-2": "763104351884",
    "eu-west-3": "763104351884", "il-central-1": "780543022126", "me-central-1": "914824155844",
    "me-south-1": "217643126080", "sa-east-1": "763104351884", "us-east-1": "763104351884",
    "us-east-2": "763104351884", "us-gov-east-1": "446045086412", "us-gov-west-1": "442386744353",
    "us-west-1": "763104351884", "us-west-2": "763104351884",
}
#: The LMI image tag ``ContainerImage.from_lmi`` uses by default (djl-lmi.json's "latest").
LMI_DEFAULT_TAG = "0.30.0-lmi12.0.0-cu124"


#: CPU architectures a ``ContainerImage`` can be marked with (``architecture=``): ``"x86_64"``,
#: ``"arm64"`` (AWS Graviton), or ``"multi-arch"`` (an image index with both).
ARCHITECTURES = ("x86_64", "arm64", "multi-arch")
#: Words in an image URI or tag that mean an arm64 build (``sagemaker-scikit-learn:1.0-1-arm64-cpu-py3``,
#: ``sagemaker-xgboost:1.5-1-arm64``, ``pytorch-inference-graviton:...``).
_ARM64_WORDS = frozenset({"arm64", "aarch64", "graviton"})
#: Words that mean an x86_64 build of a framework image (CPU, CUDA or Neuron tags).
_X86_WORDS = frozenset({"cpu", "gpu", "amd64", "x86"})


def _words(text: str | None) -> set[str]:
    if not text or is_unresolved(text):
        return set()
    return set(re.split(r"[^a-z0-9]+", text.lower()))


def _check_architecture(where: str, architecture: str | None) -> None:
    if architecture is not None:
        check_choice(where, "architecture", architecture, ARCHITECTURES, note="or None (read from the URI)")


def check_image_architecture(scope: Construct, instance_type: str, architecture: str | None, *,
                             argument: str = "instance_type", image: str | Callable[[], str] = "the model's image") -> None:
    """Raise :class:`ValidationError` when ``instance_type``'s CPUs cannot run an image of
    ``architecture`` (a ``ContainerImage.architecture``): an arm64 (Graviton) instance type needs
    an image marked ``"arm64"`` or ``"multi-arch"``; an x86_64 one refuses an ``"arm64"`` image.
    Unresolved instance types are not checked; an unknown architecture passes on x86_64."""
    if not isinstance(instance_type, str) or is_unresolved(instance_type):
        return
    from ..validation.catalog import instance_facts

    def named() -> str:  # only in a message: a construct path costs a call to work out
        return image() if callable(image) else image

    if instance_facts(instance_type).arm64:
        if architecture not in ("arm64", "multi-arch"):
            raise ValidationError(
                scope, argument, instance_type,
                f"an arm64 (Graviton) instance type, but {named()} is "
                f"{'not marked arm64' if architecture is None else architecture}: use an arm64 build and mark it, "
                "e.g. ContainerImage.from_uri(uri, architecture=\"arm64\") (or \"multi-arch\"), "
                "or pick an x86_64 instance type",
            )
    elif architecture == "arm64":
        raise ValidationError(
            scope, argument, instance_type,
            f"an x86_64 instance type, but {named()} is arm64-only: pick an arm64 (Graviton) instance type such as "
            "ml.c7g.large, or an x86_64/multi-arch image",
        )


def check_model_instance_type(scope: Construct, instance_type: str, model: object, *,
                              argument: str = "instance_type") -> None:
    """What ``model`` asks of the instance type an endpoint (or variant) hosts it on: its image's CPU
    architecture (a :class:`Model`'s; an imported model's is unknown), and for a multi-model model a
    type that can host one (``validation.catalog.check_multi_model_instance_type``)."""
    from ..validation.catalog import check_multi_model_instance_type

    if isinstance(model, Model):
        check_image_architecture(scope, instance_type, model.architecture, argument=argument,
                                 image=lambda: f"{model.node.path}'s image")
    if getattr(model, "multi_model", False):
        check_multi_model_instance_type(scope, argument, instance_type)


class ContainerImage:
    """An inference container image. Create with one of the ``from_*`` class methods.

    Its CPU architecture (:attr:`architecture`) decides which instance types can run it: an
    endpoint on an arm64 (Graviton) instance type needs an image marked ``"arm64"`` or
    ``"multi-arch"``, and one on an x86_64 instance type refuses an arm64-only image
    (``ValidationError``). Every ``from_*`` constructor takes ``architecture=``; without it the
    architecture is read from what CDK can see: SageMaker's prebuilt images
    (``from_regional_registry``) are x86_64 unless their repository or tag says ``arm64`` or
    ``graviton`` (the Graviton variants are separate tags, e.g. ``sagemaker-scikit-learn:1.0-1-arm64-cpu-py3``);
    a URI with those words is arm64, one with ``cpu``/``gpu``/``cu121``/``neuron`` words x86_64;
    an asset is what its ``platform`` builds; anything else is unknown (``None``).
    """

    def __init__(self, *, uri: str | None = None, repository: ecr.IRepository | None = None, tag: str = "latest",
                 directory: str | None = None, asset_options: Mapping[str, Any] | None = None,
                 regional: tuple[Mapping[str, str], str] | None = None, architecture: str | None = None) -> None:
        _check_architecture("ContainerImage", architecture)
        self._regional = regional
        self._uri = uri
        self._repository = repository
        self._tag = tag
        self._directory = directory
        self._asset_options = dict(asset_options or {})
        self._assets: dict[str, ecr_assets.DockerImageAsset] = {}
        self._architecture = architecture

    @property
    def reference(self) -> str | None:
        """The image as written: the URI (``from_uri``), ``repository[:tag]`` (``from_regional_registry``),
        or None when CDK cannot read it at synth (an ECR repository, an asset, an unresolved token)."""
        text = self._regional[1] if self._regional else self._uri
        return None if text is None or is_unresolved(text) else text

    @property
    def architecture(self) -> str | None:
        """``"x86_64"``, ``"arm64"``, ``"multi-arch"``, or None when unknown: the ``architecture=``
        it was created with, else what its URI, tag or asset platform says (see the class)."""
        if self._architecture is not None:
            return self._architecture
        platform = getattr(self._asset_options.get("platform"), "platform", None)
        if platform is not None:
            return {"linux/arm64": "arm64", "linux/amd64": "x86_64"}.get(platform)
        words = _words(self.reference)
        if words & _ARM64_WORDS:
            return "arm64"
        if self._regional is not None or words & _X86_WORDS or any(
                w.startswith("neuron") or re.fullmatch(r"cu\d{2,3}", w) for w in words):
            return "x86_64"
        return None

    @classmethod
    def from_uri(cls, uri: str, *, architecture: str | None = None) -> "ContainerImage":
        """An image by URI (e.g. a SageMaker prebuilt image). Pull permission: the role's ECR
        statement (``ModelHostingRole`` allows this account's repositories in this region).

        :param architecture: ``"x86_64"``, ``"arm64"`` or ``"multi-arch"``. Default: read from the
            URI (``arm64``/``graviton`` words: arm64; ``cpu``/``gpu``/CUDA/Neuron words: x86_64), else unknown."""
        check_pattern("ContainerImage.from_uri", "uri", "" if uri is None else uri, _IMAGE_URI, max_length=255,
                      min_length=1, description="an image URI without spaces, at most 255 characters",
                      limit="botocore sagemaker ContainerImage")
        _check_architecture("ContainerImage.from_uri", architecture)
        return cls(uri=uri, architecture=architecture)

    @classmethod
    def from_regional_registry(cls, accounts: Mapping[str, str], repository: str, *,
                               architecture: str | None = None) -> "ContainerImage":
        """A SageMaker prebuilt image whose registry account differs by region (as the SageMaker
        Python SDK's image URI tables list them): ``<account of the stack's region>.dkr.ecr.
        <region>.<url suffix>/<repository>``, resolved at deploy time through a CloudFormation
        mapping, so an environment-agnostic stack works in every listed region.

        :param architecture: Default: ``"arm64"`` when the repository or tag says ``arm64`` or
            ``graviton`` (SageMaker's Graviton images, e.g. ``sagemaker-xgboost:1.5-1-arm64``), else
            ``"x86_64"`` (the SDK's ``inference_graviton`` image scope lists the arm64 tags apart)."""
        check_pattern("ContainerImage.from_regional_registry", "repository", repository,
                      r"[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?", description="repository[:tag]")
        if not accounts:
            raise ValidationError("ContainerImage.from_regional_registry", "accounts", {}, "at least one region")
        _check_architecture("ContainerImage.from_regional_registry", architecture)
        return cls(regional=(dict(accounts), repository), architecture=architecture)

    @classmethod
    def for_builtin_algorithm(cls, algorithm: str, version: str, region: str | None = None, *,
                              scope: str = "training", processor: str = "cpu",
                              py_version: str | None = None) -> "ContainerImage":
        """A SageMaker first-party image by name: ``"xgboost"`` (the built-in algorithm,
        ``sagemaker-xgboost:<version>``), ``"sklearn"`` (``sagemaker-scikit-learn:<version>-cpu-py3``),
        ``"pytorch"`` / ``"tensorflow"`` (``<framework>-<scope>:<version>-<processor>[-<py_version>]``)
        or ``"huggingface"`` (``huggingface-pytorch-<scope>:<version>``, the full DLC tag), from the
        registry account tables that ship with the library
        (:mod:`sagemaker_constructs.inference.builtin_images`; "Docker Registry Paths",
        https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html).

        :param region: a region known at synth: the literal URI of that region's image. Default: the
            stack's region, resolved at deploy time through a CloudFormation mapping
            (:meth:`from_regional_registry`).
        :param scope: training or inference (framework images). Default: training.
        :param processor: cpu or gpu (framework images). Default: cpu.
        :param py_version: the Python version of framework images (``py310``); required for
            PyTorch and TensorFlow training. Default: none (``py3`` for scikit-learn)."""
        from .builtin_images import builtin_image

        return builtin_image(algorithm, version, region, scope=scope, processor=processor, py_version=py_version)

    @classmethod
    def from_lmi(cls, tag: str = LMI_DEFAULT_TAG) -> "ContainerImage":
        """SageMaker's large model inference (LMI) container (DJL Serving with vLLM, TensorRT-LLM
        and Neuron back ends): ``<account>.dkr.ecr.<region>.<url suffix>/djl-inference:<tag>``, the
        account by region as the SageMaker Python SDK lists it (``image_uri_config/djl-lmi.json``;
        :data:`LMI_IMAGE_ACCOUNTS`). Use it with an :class:`InferenceComponentEndpoint` on GPU or
        Neuron instances, e.g. ``ContainerImage.from_lmi("0.30.0-lmi12.0.0-cu124")``. The images are
        x86_64. Default tag: :data:`LMI_DEFAULT_TAG`."""
        check_pattern("ContainerImage.from_lmi", "tag", tag, r"[A-Za-z0-9._-]{1,128}",
                      description="an image tag of djl-inference, e.g. 0.30.0-lmi12.0.0-cu124")
        return cls.from_regional_registry(LMI_IMAGE_ACCOUNTS, f"djl-inference:{tag}")

    @classmethod
    def from_ecr_repository(cls, repository: ecr.IRepository, tag: str = "latest", *,
                            architecture: str | None = None) -> "ContainerImage":
        """An image in an ECR repository; the model's role may pull from that repository only.

        Prefer an immutable tag or a digest (``tag="sha256:..."``) so a deploy is reproducible.

        :param architecture: what the image is built for. Default: unknown (CDK cannot see into the
            repository): fine on x86_64 instances, a ``ValidationError`` on arm64 (Graviton) ones."""
        check_pattern("ContainerImage.from_ecr_repository", "tag", tag, r"[a-zA-Z0-9_.-]{1,128}|sha256:[a-f0-9]{64}",
                      description="an image tag (1-128 of a-zA-Z0-9_.-) or a sha256 digest")
        _check_architecture("ContainerImage.from_ecr_repository", architecture)
        return cls(repository=repository, tag=tag, architecture=architecture)

    @classmethod
    def from_asset(cls, directory: str, *, architecture: str | None = None, **asset_options: Any) -> "ContainerImage":
        """An image built from a Dockerfile in ``directory`` when the app is deployed (synth needs
        no Docker). ``asset_options`` go to ``ecr_assets.DockerImageAsset``.

        :param architecture: ``"arm64"`` or ``"x86_64"`` builds for that platform (``platform=``
            ``LINUX_ARM64``/``LINUX_AMD64`` when ``asset_options`` has no ``platform``; a different
            ``platform`` is a ``ValidationError``). Default: the ``platform`` given, else unknown
            (Docker builds for the deploying machine)."""
        where = "ContainerImage.from_asset"
        _check_architecture(where, architecture)
        platform = getattr(asset_options.get("platform"), "platform", None)
        wanted = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}.get(architecture or "")
        if wanted is not None and platform is None:
            asset_options["platform"] = ecr_assets.Platform.custom(wanted)
        elif wanted is not None and platform != wanted:
            raise ValidationError(where, "architecture", architecture,
                                  f"the asset's platform is {platform}: pass platform=Platform.custom({wanted!r}) or drop one")
        return cls(directory=directory, asset_options=asset_options, architecture=architecture)

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        """The image URI for a model in ``scope``, granting ``grantee`` the pull it needs."""
        if self._repository is not None:
            self._repository.grant_pull(grantee)
            if self._tag.startswith("sha256:"):
                return self._repository.repository_uri_for_digest(self._tag)
            return self._repository.repository_uri_for_tag(self._tag)
        if self._directory is not None:
            asset = ecr_assets.DockerImageAsset(scope, "ImageAsset", directory=self._directory, **self._asset_options)
            asset.repository.grant_pull(grantee)
            return asset.image_uri
        if self._regional is not None:
            accounts, repository = self._regional
            stack = Stack.of(scope)
            region = vars(stack).get(_REGION)
            if region is None:  # one call to Node per stack
                region = vars(stack)[_REGION] = stack.region
            if not is_unresolved(region) and region not in accounts:
                # Fn::FindInMap of a region the mapping lacks fails the deployment ("Unable to get mapping")
                raise ValidationError(scope, "image", repository,
                                      f"an image published in the stack's region {region}: the registry table "
                                      f"lists {', '.join(sorted(accounts))}; use ContainerImage.from_uri with the "
                                      "image's URI in that region, or deploy the stack to a listed region")
            mapping_id = "ImageAccounts" + hashlib.sha256(repository.split(":")[0].encode()).hexdigest()[:8]
            # the child of that id is the CfnMapping an earlier call made (try_find_child is typed IConstruct)
            mapping = cast("CfnMapping | None", stack.node.try_find_child(mapping_id)) or CfnMapping(
                stack, mapping_id, mapping={r: {"account": a} for r, a in sorted(accounts.items())}
            )
            return f"{mapping.find_in_map(Aws.REGION, 'account')}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{repository}"
        return self._uri  # type: ignore[return-value]


class ModelData:
    """Where a model's artifacts live. Create with one of the ``from_*`` class methods."""

    def __init__(self, *, bucket: s3.IBucket | None = None, key: str | None = None, path: str | None = None) -> None:
        self.bucket: s3.IBucket | None = bucket
        self.key: str | None = key
        self._path = path

    @classmethod
    def from_bucket(cls, bucket: s3.IBucket, key: str) -> "ModelData":
        """``s3://<bucket>/<key>``: a ``model.tar.gz`` object, or a prefix ending in ``/`` (a
        multi-model endpoint's models, or uncompressed model data)."""
        check_pattern("ModelData.from_bucket", "key", "" if key is None else key, r"[^/][\s\S]*", max_length=1024,
                      min_length=1, description="an S3 key of 1-1024 characters, not starting with '/'",
                      limit="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html")
        return cls(bucket=bucket, key=key)

    @classmethod
    def from_asset(cls, path: str) -> "ModelData":
        """A local ``model.tar.gz`` uploaded as a CDK file asset at deploy time."""
        return cls(path=path)

    @property
    def is_prefix(self) -> bool:
        return self.key is not None and not is_unresolved(self.key) and self.key.endswith("/")

    def bind(self, scope: Construct, grantee: iam.IGrantable, *, as_prefix: bool = False) -> str:
        """The S3 URL for a model in ``scope``, granting ``grantee`` read access (to the objects
        under the key with ``as_prefix``, as for a key ending in ``/``: a multi-model endpoint's
        prefix from a CloudFormation parameter)."""
        if self._path is not None:
            asset = s3_assets.Asset(scope, "ModelDataAsset", path=self._path)
            asset.grant_read(grantee)
            return asset.s3_object_url
        assert self.bucket is not None and self.key is not None
        grant_read(self.bucket, grantee, f"{self.key}*" if self.is_prefix or as_prefix else self.key)
        return s3_url_for_object(self.bucket, self.key)


#: A model package version ARN: ``arn:<partition>:sagemaker:<region>:<12 digits>:model-package/<group>/<version>``
#: (SageMaker lower-cases the group name in ARNs).
MODEL_PACKAGE_VERSION_ARN = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]{9,25}:\d{12}:model-package/[a-z0-9](-*[a-z0-9]){0,62}/\d{1,10}")
_SSM_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:ssm:[a-zA-Z0-9_.\-/:]{1,2048}\}\}")


def ssm_model_package(parameter_name: str, *, version: int | None = None) -> str:
    """``{{resolve:ssm:<parameter_name>[:<version>]}}``: a CloudFormation dynamic reference to the SSM
    parameter holding an approved version ARN, for :meth:`Model.from_model_package`. CloudFormation
    resolves it when the stack is created or updated. Prefer passing the parameter itself
    (``ssm.IStringParameter``) when approvals start stack updates: CloudFormation fetches the latest
    value of a Systems Manager parameter type at every update
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html)."""
    check_pattern("ssm_model_package", "parameter_name", parameter_name, r"[a-zA-Z0-9_.\-/]{1,2048}",
                  description="an SSM parameter name (a-zA-Z0-9_.-/)")
    return f"{{{{resolve:ssm:{parameter_name}{'' if version is None else f':{version}'}}}}}"


def model_package_parts(arn: str) -> tuple[str, str, str, str, int] | None:
    """``(partition, region, account, group, version)`` of a version ARN, or None if ``arn`` is not one."""
    if not isinstance(arn, str) or not MODEL_PACKAGE_VERSION_ARN.fullmatch(arn):
        return None
    head, _, path = arn.partition(":model-package/")
    _, partition, _, region, account = head.split(":")
    group, version = path.split("/")
    return partition, region, account, group, int(version)


class _ModelPackageSource:
    """The container of :meth:`Model.from_model_package`: a registered model package version
    (CreateModel's ``ModelPackageName``) instead of an image; grants describe of that version (or
    of the group's versions for a deploy-time reference) and read of the artifacts given."""

    def __init__(self, model_package: str, describe_arns: Sequence[str], artifacts: "ModelData | None",
                 images: Sequence[ecr.IRepository], architecture: str | None = None) -> None:
        #: The CPU architecture of the version's image(s), as given (``from_model_package(architecture=)``).
        self.architecture: str | None = architecture
        self.model_package_name = model_package
        self._describe_arns = list(describe_arns)
        self._artifacts = artifacts
        self._images = list(images)

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="DescribeTheModelPackage", actions=["sagemaker:DescribeModelPackage"], resources=self._describe_arns))
        for repository in self._images:
            repository.grant_pull(grantee)
        if self._artifacts is not None:
            self._artifacts.bind(scope, grantee)
        return None


def _model_role(scope: Construct, id: str, encryption_key: kms.IKey | None, vpc: ec2.IVpc | None,
                repositories: Sequence[ecr.IRepository] = ()) -> ModelHostingRole:
    """A Model's default role: the network-interface calls only for a model in a VPC (a choice the
    Model made, so an inference-component endpoint in a VPC may add them later); image pulls from
    ``repositories`` only when the image names its repository (else this account's, in this region)."""
    role = ModelHostingRole(scope, id, encryption_key=encryption_key, network_interfaces=vpc is not None,
                            ecr_repositories=repositories)
    role.network_interfaces_chosen = False
    return role


class Model(Construct):
    """A SageMaker model (``AWS::SageMaker::Model``, child ``Resource``).

    Default settings:

    * network isolation on: the container has no network access at all (``network_isolation``);
    * a least-privilege ``ModelHostingRole`` (child ``Role``) when ``role`` is not given: read
      only this model's artifacts, pull only its image (only this account's repositories for
      ``from_uri`` images), use ``encryption_key`` and the artifact bucket's key, write its logs;
    * in ``vpc`` (``subnets``: default the private and isolated subnets) with its own security
      group (child ``SecurityGroup``, no inbound, HTTPS out to the VPC) when a VPC is given;
    * ``Mode: MultiModel`` with ``multi_model=True`` (model data must then be an S3 prefix).

    A ``role`` you pass gets exactly the statements the default ``ModelHostingRole`` would have
    (and the artifact, image and data-capture grants). A role CDK cannot change (imported with
    ``mutable=False``) is a ``ValidationError`` naming the actions it needs, unless you pass
    ``role_is_prepared=True``. ``Model.from_model_attributes`` describes a model this stack does
    not own (an :class:`~sagemaker_constructs.IModel`).

    Exposes ``model_name``, ``role``, ``cfn_model``, ``image_uri``, ``architecture`` (the image's), ``model_data_url``,
    ``network_isolation``, ``vpc``, ``vpc_config`` and ``security_groups``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ContainerImage,
        model_data: ModelData | None = None,
        role: iam.IRole | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        network_isolation: bool = True,
        environment: Mapping[str, str] | None = None,
        encryption_key: kms.IKey | None = None,
        model_name: str | None = None,
        multi_model: bool = False,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param image: the inference image (``ContainerImage.from_*``).
        :param model_data: the artifacts (``ModelData.from_*``). Default: none (the image holds the model).
        :param role: Default: a new ``ModelHostingRole`` (child ``Role``). A role you pass receives
            the same statements (in its own policy).
        :param role_is_prepared: ``role`` already has every permission the default role would
            have: CDK adds none to a role it cannot change instead of raising. Default: false.
        :param vpc: run the model's containers in this VPC. Default: no VPC.
        :param subnets: Default: the VPC's private and isolated subnets (1-16).
        :param security_groups: Default: a new security group (child ``SecurityGroup``).
        :param network_isolation: Default: true.
        :param environment: container environment variables. Default: none.
        :param encryption_key: key the default role may use. Default: only the artifact bucket's key.
        :param model_name: Default: a name CloudFormation generates (so a changed model can be
            replaced; a fixed name makes every replacing change fail).
        :param multi_model: host many models from the ``model_data`` prefix. Default: false.
        """
        super().__init__(scope, id)
        note_scope(self, scope)
        check_name(self, "model_name", model_name)
        if image is None:
            raise ValidationError(self, "image", None, "a ContainerImage is required")
        check_map(self, "environment", environment, shape="EnvironmentMap")
        # a key from a CloudFormation parameter is taken as the prefix it names (the role reads under it)
        if multi_model and (model_data is None or (not model_data.is_prefix and model_data._path is None
                                                   and not is_unresolved(model_data.key))):
            raise ValidationError(
                self, "model_data", getattr(model_data, "key", None),
                "a multi-model endpoint loads models from an S3 prefix: ModelData.from_bucket(bucket, 'prefix/')",
            )
        if vpc is None and (subnets or security_groups):
            raise ValidationError(self, "subnets", "given without vpc", "pass vpc= together with subnets/security_groups")

        self.network_isolation: bool = network_isolation
        self.vpc: ec2.IVpc | None = vpc
        self.multi_model: bool = multi_model
        # The artifact grant (bind below) scopes reads to this model's key or prefix, and adds
        # the bucket key's Decrypt; the role itself gets no bucket-wide read.
        # held_policy: the artifact grant joins the role's one policy document (written in the finally below).
        with held_policy():
            # An image in a named ECR repository is pulled from it alone: the default role's pull of every
            # repository of the account was wider than the image needs.
            repository = image._repository if isinstance(image, ContainerImage) else None
            binding = bind_role(self, role, default=lambda scope, id: _model_role(
                scope, id, encryption_key, vpc, [repository] if repository is not None else ()),
                                role_is_prepared=role_is_prepared)
        try:
            self.role: iam.IRole = binding.role
            #: Whether the supplied role was declared prepared (later grants, e.g. data capture, honour it).
            self.role_is_prepared: bool = role_is_prepared
            if isinstance(self.role, Construct):
                constructed = getattr(self.role, "constructed_findings", None)  # our execution roles
                acknowledge_iam_findings_at_synth(
                    self.role,
                    exclude=constructed if binding.role is not role else None,
                    reason=(
                        "Grants of this model's own artifacts, image and data capture: S3 object access under "
                        "its model-data key or prefix and its capture prefix, ECR layer pulls of its repository, "
                        "and KMS data keys of those buckets' keys; object keys and layer digests are only "
                        "known at run time."
                    ),
                )
            #: The image's CPU architecture (``ContainerImage.architecture``): endpoints check it
            #: against their instance type.
            self.architecture: str | None = image.architecture
            #: The image URI, or None for a model package version (``model_package_name``).
            self.image_uri: str | None = image.bind(self, binding.grantee)
            #: The model package version the container runs (:meth:`from_model_package`), or None.
            self.model_package_name: str | None = getattr(image, "model_package_name", None)
            # as_prefix only where it matters: a ModelData subclass (or stand-in) written against
            # bind(scope, grantee) keeps working for every single-model Model.
            self.model_data_url: str | None = (
                None if model_data is None else model_data.bind(self, binding.grantee, as_prefix=True)
                if multi_model else model_data.bind(self, binding.grantee))
            binding.finish()
        finally:  # the held role's policy is written now, whether or not the binding succeeded
            flush_policy(binding.grantee)

        vpc_config = None
        self.security_groups: list[ec2.ISecurityGroup] = []
        if vpc is not None:
            chosen = private_subnets(self, vpc, subnets)
            if security_groups is None:
                sg = ec2.SecurityGroup(
                    self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                    description="SageMaker model containers: no inbound, HTTPS to the VPC only",
                )
                allow_https_to_endpoints(self, sg, vpc, None)
                self.security_groups = [sg]
            else:
                check_count(self, "security_groups", security_groups, minimum=1, maximum=5, what="security groups",
                            limit="botocore sagemaker VpcSecurityGroupIds")
                self.security_groups = list(security_groups)
            vpc_config = {  # CfnModel.VpcConfigProperty
                "subnets": [s.subnet_id for s in chosen],
                "securityGroupIds": [g.security_group_id for g in self.security_groups],
            }

        # No generated name by default: a model is immutable, and CloudFormation can replace it
        # only when it may choose the new one's name.
        self.cfn_model: sagemaker.CfnModel = sagemaker.CfnModel(
            self,
            "Resource",
            model_name=model_name,
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=network_isolation,
            vpc_config=vpc_config,
            primary_container=struct(  # CfnModel.ContainerDefinitionProperty
                image=self.image_uri,
                modelPackageName=self.model_package_name,
                modelDataUrl=self.model_data_url,
                environment=dict(environment) if environment else None,
                mode=None if self.model_package_name else "MultiModel" if multi_model else "SingleModel",
            ),
            # Studio personas other than PLATFORM_ADMIN may not update or delete it (StudioUserRole).
            tags=platform_tags(),
        )
        note_scope(self.cfn_model, self)
        self.model_name: str = model_name or self.cfn_model.attr_model_name
        #: CreateModel's VpcConfig (``Subnets``, ``SecurityGroupIds``), or None outside a VPC.
        self.vpc_config: dict[str, Any] | None = None if vpc_config is None else {
            "Subnets": vpc_config["subnets"], "SecurityGroupIds": vpc_config["securityGroupIds"]}
        # The role's permissions must exist before SageMaker validates the model.
        binding.depend_on_policies(self.cfn_model)

    @property
    def model_arn(self) -> str:
        return self.cfn_model.attr_model_arn

    @classmethod
    def from_model_package(
        cls,
        scope: Construct,
        id: str,
        *,
        model_package: "str | ssm.IStringParameter",
        model_package_group: "IModelPackageGroup | None" = None,
        artifacts: ModelData | None = None,
        images: Sequence[ecr.IRepository] = (),
        role: iam.IRole | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        network_isolation: bool = True,
        environment: Mapping[str, str] | None = None,
        encryption_key: kms.IKey | None = None,
        model_name: str | None = None,
        role_is_prepared: bool = False,
        architecture: str | None = None,
    ) -> "Model":
        """A model whose container is a registered model package version (CreateModel's
        ``ModelPackageName``: image, artifacts and environment come from the version), with the
        same secure defaults as :class:`Model` (network isolation, VPC placement, a least-privilege
        ``ModelHostingRole``).

        :param model_package: the version to serve: its ARN
            (``arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>``), or a
            reference CloudFormation resolves when the stack is created or updated: an
            ``ssm.IStringParameter`` holding the approved version ARN (imported by name, e.g.
            ``PromoteOnApproval.approved_version``; read as a Systems Manager parameter type, whose
            latest value CloudFormation fetches at every stack update), ``ssm_model_package(name)``
            (a ``{{resolve:ssm:...}}`` dynamic reference), or another unresolved token.
        :param model_package_group: the version's group. Required for a reference (the role may
            describe only that group's versions); with an ARN it must be the ARN's group.
            Default: the ARN's own version only.
        :param artifacts: where the version's artifacts live (``ModelData.from_bucket(bucket,
            "prefix/")``): the role may read them (and use the bucket's key). Default: no grant
            (the role must already read them, e.g. through the bucket policy of another account).
        :param images: ECR repositories of the version's images the role may pull from. Default:
            none beyond ``ModelHostingRole``'s (this account's repositories in this region).
        :param architecture: the CPU architecture of the version's images (``"x86_64"``, ``"arm64"`` or
            ``"multi-arch"``), which CDK cannot see: endpoints check it against their instance type
            as for a ``ContainerImage``, so an arm64 (Graviton) instance type needs ``"arm64"`` or
            ``"multi-arch"``. Default: unknown (x86_64 instance types only).
        Other arguments: as :class:`Model`. ``model_package_name`` on the result is the version
        (or the reference).
        """
        from aws_cdk import aws_ssm as ssm

        where = f"{scope.node.path}/{id}"
        _check_architecture(where, architecture)
        reference = False
        if hasattr(model_package, "parameter_name") and not isinstance(model_package, str):
            name = model_package.parameter_name  # type: ignore[union-attr]
            if is_unresolved(name):
                raise ValidationError(
                    where, "model_package", name,
                    "an SSM parameter imported by name (ssm.StringParameter.from_string_parameter_name(...)): "
                    "CloudFormation reads it at deployment, which needs its literal name")
            # Read in this model's stack, at each of its deployments (a Systems Manager parameter type).
            package = ssm.StringParameter.value_for_string_parameter(scope, name)
            reference = True
        elif isinstance(model_package, str) and (is_unresolved(model_package)
                                                 or _SSM_DYNAMIC_REFERENCE.fullmatch(model_package)):
            package, reference = model_package, True
        elif isinstance(model_package, str) and model_package_parts(model_package) is not None:
            package = model_package
        else:
            raise ValidationError(
                where, "model_package", model_package,
                "a model package version ARN (arn:<partition>:sagemaker:<region>:<12-digit account>:"
                "model-package/<group>/<version>), an ssm.IStringParameter holding one, or "
                "ssm_model_package(<parameter name>)")
        if reference:
            if model_package_group is None:
                raise ValidationError(where, "model_package_group", None,
                                      "the group of the versions the reference resolves to (the role may describe "
                                      "only its versions); a ModelPackageGroup or from_model_package_group_name(...)")
            describe = [model_package_group.model_package_arn_pattern]
        else:
            parts = model_package_parts(package)
            assert parts is not None
            group_name = getattr(model_package_group, "model_package_group_name", None)
            if group_name is not None and not is_unresolved(group_name) and group_name.lower() != parts[3]:
                raise ValidationError(where, "model_package_group", group_name,
                                      f"the group of {package} ({parts[3]})")
            describe = [package]
        return cls(scope, id, image=_ModelPackageSource(package, describe, artifacts, images, architecture),  # type: ignore[arg-type]
                   role=role, vpc=vpc, subnets=subnets, security_groups=security_groups,
                   network_isolation=network_isolation, environment=environment, encryption_key=encryption_key,
                   model_name=model_name, role_is_prepared=role_is_prepared)

    @classmethod
    def from_model_attributes(cls, scope: Construct, id: str, *, model_name: str, role: iam.IRole,
                              network_isolation: bool = True, subnets: Sequence[ec2.ISubnet] | None = None,
                              security_groups: Sequence[ec2.ISecurityGroup] | None = None,
                              role_is_prepared: bool = False) -> "IModel":
        """A model this stack does not own: its name, execution role, network isolation and VPC
        placement (``subnets`` with ``security_groups``; default: no VPC).

        :param role_is_prepared: ``role`` already has what the endpoints' grants would add (data
            capture, asynchronous results): CDK adds nothing to a role it cannot change
            (``mutable=False``, another account's) instead of raising. Default: false."""
        return ImportedModel(scope, id, model_name=model_name, role=role, network_isolation=network_isolation,
                             subnets=subnets, security_groups=security_groups, role_is_prepared=role_is_prepared)


class ImportedModel(Resource):
    """A model described by attributes (:meth:`Model.from_model_attributes`); an ``IModel``."""

    def __init__(self, scope: Construct, id: str, *, model_name: str, role: iam.IRole, network_isolation: bool = True,
                 subnets: Sequence[ec2.ISubnet] | None = None,
                 security_groups: Sequence[ec2.ISecurityGroup] | None = None, role_is_prepared: bool = False) -> None:
        super().__init__(scope, id)
        if role is None:
            raise ValidationError(self, "role", None, "the model's execution role (an iam.IRole)")
        if bool(subnets) != bool(security_groups):
            raise ValidationError(self, "subnets", "given without security_groups" if subnets else "missing",
                                  "a VPC placement needs both subnets and security_groups")
        if security_groups:
            check_count(self, "security_groups", security_groups, minimum=1, maximum=5, what="security groups",
                        limit="botocore sagemaker VpcSecurityGroupIds")
        self.model_name: str = model_name
        self.role: iam.IRole = role
        self.network_isolation: bool = network_isolation
        self.role_is_prepared: bool = role_is_prepared
        #: Unknown for a model described by attributes: endpoints do not check it.
        self.architecture: str | None = None
        self.vpc_config: dict[str, Any] | None = None if not subnets else {
            "Subnets": [s.subnet_id for s in subnets],
            "SecurityGroupIds": [g.security_group_id for g in security_groups or ()],
        }
        if subnets and isinstance(role, ModelHostingRole):  # a role of ours, for a model created in a VPC
            give_network_interfaces(self, role)
