"""Custom Studio images: the caller's ECR image as a SageMaker image, its version and app image config.

A domain lists them in its JupyterLab or Code Editor app settings (``StudioDomain(custom_images=...)``);
see https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-byoi.html.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .._internal.managed_role import service_role
from ..compliance import acknowledge_present_findings
from ..errors import check_choice, check_pattern, is_unresolved
from ..validation.checks import check_count
from ..validation.limits import check_map
from ..validation.naming import default_name

__all__ = ["APP_TYPES", "CustomImage"]

#: The Studio apps a custom image can be for.
APP_TYPES = ("JupyterLab", "CodeEditor")
_IMAGE_NAME = r"[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}"
_CONFIG_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


class CustomImage(Construct):
    """A custom image for Studio's JupyterLab or Code Editor: ``AWS::SageMaker::Image`` (child
    ``Resource``), its ``ImageVersion`` (child ``Version``, from ``repository:tag``) and an
    ``AppImageConfig`` (child ``AppImageConfig``).

    Default settings: the image's role (child ``Role``, or ``role``) is trusted by SageMaker in this
    account only and may pull only from ``repository`` (plus ``ecr:GetAuthorizationToken``, which has
    no resource type); the container runs with the image's own entrypoint.

    Exposes ``image_name``, ``image_arn``, ``app_image_config_name``, ``app_type``, ``version`` (the
    ``CfnImageVersion``) and ``role``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: ecr.IRepository,
        tag: str = "latest",
        app_type: str = "JupyterLab",
        image_name: str | None = None,
        display_name: str | None = None,
        role: iam.IRole | None = None,
        container_entrypoint: Sequence[str] | None = None,
        container_arguments: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param repository: the ECR repository of the image.
        :param tag: the image tag. Default: ``"latest"``.
        :param app_type: ``"JupyterLab"`` or ``"CodeEditor"``. Default: ``"JupyterLab"``.
        :param image_name: Default: a unique name derived from the construct path.
        :param display_name: Default: none.
        :param role: the role SageMaker uses for the image. Default: a new role (child ``Role``)
            that may pull from ``repository``.
        :param container_entrypoint: Default: the image's entrypoint.
        :param container_arguments: Default: none.
        :param environment: container environment variables. Default: none.
        """
        super().__init__(scope, id)
        check_choice(self, "app_type", app_type, APP_TYPES)
        check_map(self, "environment", environment, shape="CustomImageContainerEnvironmentVariables")
        check_pattern(self, "image_name", image_name, _IMAGE_NAME, max_length=63,
                      description="1-63 letters and digits, single '-' or '.' between them")
        check_pattern(self, "display_name", display_name, r"\S(.*\S)?", max_length=128, min_length=1,
                      description="1-128 characters, not starting or ending with whitespace",
                      limit="botocore sagemaker ImageDisplayName")
        check_count(self, "container_entrypoint", container_entrypoint, maximum=1, what="entries",
                    note="(the executable; its arguments go in container_arguments)",
                    limit="botocore sagemaker CustomImageContainerEntrypoint")
        check_count(self, "container_arguments", container_arguments, maximum=50, what="arguments",
                    limit="botocore sagemaker CustomImageContainerArguments")
        self.app_type: str = app_type
        self.image_name: str = image_name or default_name(self)
        # Derived from the image name in Python; a Token (CfnParameter) cannot be edited so, and its
        # marker with '.' replaced resolved to nothing: the config is then named from the construct path.
        base = default_name(self, max_length=56) if is_unresolved(self.image_name) else self.image_name
        self.app_image_config_name: str = f"{base.replace('.', '-')[:56].rstrip('-')}-config"
        check_pattern(self, "image_name (app image config name)", self.app_image_config_name, _CONFIG_NAME,
                      max_length=63)
        policy: iam.ManagedPolicy | None = None
        if role is None:
            created, policy = service_role(
                self, "Role", "Policy", service="sagemaker.amazonaws.com",
                description=f"SageMaker custom image {self.image_name}", statements=[
                    iam.PolicyStatement(sid="PullImage", actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                                                  "ecr:BatchCheckLayerAvailability"],
                                        resources=[repository.repository_arn]),
                    iam.PolicyStatement(sid="EcrToken", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                ])
            acknowledge_present_findings(policy, reason=(
                "ecr:GetAuthorizationToken has no resource type in the Service Authorization Reference (it must "
                "be '*'); image pulls are limited to the image's repository."))
            role = created
        # set above when none was given (pyright loses that narrowing to the IRole binding mismatch)
        assert role is not None
        self.role: iam.IRole | None = role
        self.cfn_image: sagemaker.CfnImage = sagemaker.CfnImage(
            self, "Resource", image_name=self.image_name, image_role_arn=role.role_arn,
            image_display_name=display_name,
        )
        if policy is not None:
            self.cfn_image.node.add_dependency(policy)
        self.version: sagemaker.CfnImageVersion = sagemaker.CfnImageVersion(
            self, "Version", image_name=self.image_name, base_image=repository.repository_uri_for_tag(tag),
        )
        self.version.add_dependency(self.cfn_image)
        container = sagemaker.CfnAppImageConfig.ContainerConfigProperty(
            container_entrypoint=list(container_entrypoint) if container_entrypoint else None,
            container_arguments=list(container_arguments) if container_arguments else None,
            container_environment_variables=[
                sagemaker.CfnAppImageConfig.CustomImageContainerEnvironmentVariableProperty(key=k, value=v)
                for k, v in sorted((environment or {}).items())
            ] or None,
        )
        self.app_image_config: sagemaker.CfnAppImageConfig = sagemaker.CfnAppImageConfig(
            self, "AppImageConfig", app_image_config_name=self.app_image_config_name,
            jupyter_lab_app_image_config=sagemaker.CfnAppImageConfig.JupyterLabAppImageConfigProperty(
                container_config=container) if app_type == "JupyterLab" else None,
            code_editor_app_image_config=sagemaker.CfnAppImageConfig.CodeEditorAppImageConfigProperty(
                container_config=container) if app_type == "CodeEditor" else None,
        )

    @property
    def image_arn(self) -> str:
        return self.cfn_image.attr_image_arn
