"""Data capture: a sample of requests and responses written, KMS-encrypted, to S3."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...errors import ValidationError, check_int_range, check_pattern
from ...validation.limits import check_string_list


@dataclass(frozen=True)
class DataCapture:
    """Capture settings for a real-time endpoint.

    ``DataCapture(bucket, sampling_percentage=20)`` writes 20 % of requests and responses to
    ``s3://<bucket>/<prefix>/``, encrypted with ``encryption_key`` (default: the bucket's key, or
    the endpoint's key when the bucket has none).
    """

    bucket: s3.IBucket
    sampling_percentage: int = 100
    prefix: str = "data-capture"
    capture_input: bool = True
    capture_output: bool = True
    encryption_key: kms.IKey | None = None
    json_content_types: Sequence[str] = field(default_factory=lambda: ("application/json",))
    csv_content_types: Sequence[str] = field(default_factory=lambda: ("text/csv",))

    def validate(self, scope: Construct) -> None:
        check_int_range(scope, "data_capture.sampling_percentage", self.sampling_percentage, minimum=0, maximum=100)
        check_pattern(scope, "data_capture.prefix", self.prefix, r"[a-zA-Z0-9!_.*'()/-]{1,512}",
                      description="an S3 key prefix without leading or trailing '/'")
        if self.prefix.startswith("/") or self.prefix.endswith("/"):
            raise ValidationError(scope, "data_capture.prefix", self.prefix, "no leading or trailing '/'")
        if not (self.capture_input or self.capture_output):
            raise ValidationError(scope, "data_capture", "capture_input=capture_output=False",
                                  "capture the input, the output or both")
        for argument, shape, types in (("json_content_types", "JsonContentTypes", self.json_content_types),
                                       ("csv_content_types", "CsvContentTypes", self.csv_content_types)):
            if types:  # an empty list is left out of CaptureContentTypeHeader
                check_string_list(scope, f"data_capture.{argument}", types, shape=shape)

    def key_for(self, endpoint_key: kms.IKey | None) -> kms.IKey | None:
        return self.encryption_key or self.bucket.encryption_key or endpoint_key

    def api(self, endpoint_key: kms.IKey | None) -> dict[str, Any]:
        """The same settings as CreateEndpointConfig's ``DataCaptureConfig`` (for DeployOnApproval)."""
        key = self.key_for(endpoint_key)
        config: dict[str, Any] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percentage,
            "DestinationS3Uri": self.bucket.s3_url_for_object(self.prefix),
            "CaptureOptions": [{"CaptureMode": m} for m, on in (("Input", self.capture_input),
                                                                 ("Output", self.capture_output)) if on],
            "CaptureContentTypeHeader": {k: list(v) for k, v in (("JsonContentTypes", self.json_content_types),
                                                                  ("CsvContentTypes", self.csv_content_types)) if v},
        }
        if key is not None:
            config["KmsKeyId"] = key.key_arn
        return config

    def bind(self, scope: Construct, role: iam.IRole, endpoint_key: kms.IKey | None, *,
             role_is_prepared: bool = False) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        """The EndpointConfig property; lets ``role`` (the model's) write the captures (a role CDK
        cannot change raises, naming the actions, unless ``role_is_prepared``)."""
        from ..._internal.grants import add_statements

        self.validate(scope)
        # Exact actions (no s3:Abort* / kms:GenerateDataKey* wildcards): write objects under the
        # prefix, and data keys of the capture key.
        statements = [iam.PolicyStatement(
            actions=["s3:PutObject", "s3:AbortMultipartUpload"],
            resources=[self.bucket.arn_for_objects(f"{self.prefix}/*")],
        )]
        key = self.key_for(endpoint_key)
        if key is not None:
            statements.append(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Encrypt"], resources=[key.key_arn],
            ))
        add_statements(scope, role, statements, role_is_prepared=role_is_prepared, argument="model.role")
        return data_capture_property(self.api(endpoint_key))


def data_capture_property(api: Mapping[str, Any]) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    """``AWS::SageMaker::EndpointConfig`` ``DataCaptureConfig`` from CreateEndpointConfig's
    ``DataCaptureConfig`` (the same fields under the same names)."""
    header = api.get("CaptureContentTypeHeader") or {}
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=api["EnableCapture"],
        initial_sampling_percentage=api["InitialSamplingPercentage"],
        destination_s3_uri=api["DestinationS3Uri"],
        kms_key_id=api.get("KmsKeyId"),
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=o["CaptureMode"])
                         for o in api["CaptureOptions"]],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            json_content_types=header.get("JsonContentTypes"), csv_content_types=header.get("CsvContentTypes"),
        ),
    )
