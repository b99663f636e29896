"""SageMaker-MlflowArtifactsEncrypted: a managed MLflow tracking server's artifact store is a bucket
encrypted with SSE-KMS under a customer-managed key.

``AWS::SageMaker::MlflowTrackingServer`` has no encryption property of its own: its properties are
``TrackingServerName``, ``ArtifactStoreUri`` (``s3://bucket/prefix``), ``RoleArn``, ``TrackingServerSize``,
``MlflowVersion``, ``AutomaticModelRegistration``, ``WeeklyMaintenanceWindowStart`` and ``Tags``
(the CloudFormation resource schema, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-mlflowtrackingserver.html),
and clients upload artifacts to the store themselves
(https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html), so the
artifacts are encrypted by the bucket's default encryption. The rule therefore reads the bucket the
``ArtifactStoreUri`` names when it is an ``AWS::S3::Bucket`` of the same template (a ``Ref`` or
``Fn::GetAtt`` of it, or its literal ``BucketName``): ``BucketEncryption`` must default to ``aws:kms``
(or ``aws:kms:dsse``) with a ``KMSMasterKeyID``. A bucket outside the template cannot be read: not
applicable.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ._base import NA, Compliance, Rule, ok, props

BUCKET = "AWS::S3::Bucket"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
_LITERAL = re.compile(r"^s3://([^/]+)")


_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(value: Any) -> Iterator[str]:
    """Logical ids a template value refers to (``Ref``, ``Fn::GetAtt``, and ``Fn::Sub``'s
    ``${Bucket}``/``${Bucket.Arn}`` that its variables do not name), anywhere inside it."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".", 1)[0]
                if isinstance(target, str):
                    yield target
            elif key == "Fn::Sub":
                body = inner[0] if isinstance(inner, list) and inner else inner
                variables = inner[1] if isinstance(inner, list) and len(inner) > 1 and isinstance(inner[1], dict) else {}
                if isinstance(body, str):
                    for name in _SUB_VARIABLE.findall(body):
                        if name not in variables:
                            yield name.split(".", 1)[0]
                yield from _references(variables)
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def artifact_buckets(resource: Mapping[str, Any], template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The buckets of ``template`` the server's ``ArtifactStoreUri`` names."""
    resources = template.get("Resources") or {}
    uri = props(resource).get("ArtifactStoreUri")
    buckets = [resources[r] for r in dict.fromkeys(_references(uri))
               if isinstance(resources.get(r), dict) and resources[r].get("Type") == BUCKET]
    match = _LITERAL.match(uri) if isinstance(uri, str) else None
    if match:
        buckets += [b for b in resources.values() if isinstance(b, dict) and b.get("Type") == BUCKET
                    and props(b).get("BucketName") == match.group(1)]
    return buckets


def bucket_kms_encrypted(bucket: Mapping[str, Any]) -> bool:
    """Default encryption SSE-KMS (or DSSE-KMS) with a key of the caller's."""
    rules = (props(bucket).get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    return any(isinstance(r, dict) and (r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
               in KMS_ALGORITHMS and (r.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID")
               for r in rules)


def mlflow_artifacts_encrypted_in(resource: Mapping[str, Any], template: Mapping[str, Any]) -> Compliance:
    buckets = artifact_buckets(resource, template)
    if not buckets:
        return NA
    return ok(all(bucket_kms_encrypted(b) for b in buckets))


def mlflow_artifacts_encrypted(resource: Mapping[str, Any]) -> Compliance:
    """Without the template the bucket cannot be read."""
    return NA


RULE = Rule("SageMaker-MlflowArtifactsEncrypted", "AWS::SageMaker::MlflowTrackingServer",
            "The MLflow tracking server's artifact store (ArtifactStoreUri) is a bucket of this template "
            "without SSE-KMS default encryption under a customer-managed key.",
            "MlflowTrackingServer(artifact_bucket=SecureBucket(..., encryption_key=key)), or give the bucket "
            "BucketEncryption with SSEAlgorithm aws:kms and a KMSMasterKeyID.",
            mlflow_artifacts_encrypted, template_check=mlflow_artifacts_encrypted_in)
