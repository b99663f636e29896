"""SageMaker Feature Store: a feature group with a KMS-encrypted online store and an offline store in a
``SecureBucket`` prefix with its Glue table.

Facts used here (CreateFeatureGroup, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateFeatureGroup.html):
feature types are ``Integral``, ``Fractional`` and ``String``; ``FeatureName`` cannot be ``is_deleted``,
``write_time`` or ``api_invocation_time`` (the columns Feature Store adds to the offline store); up to
2,500 feature definitions per group; feature and group names match ``[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}``;
the event time feature is ``String`` (ISO-8601) or ``Fractional`` (Unix seconds); the offline store's
role writes its S3 prefix and its AWS Glue table
(https://docs.aws.amazon.com/sagemaker/latest/dg/feature-store-adding-policies.html).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .._internal.managed_role import service_role
from .._internal.grants import add_statements
from ..compliance import acknowledge_present_findings
from ..errors import ValidationError, check_choice, check_int_range, check_pattern, is_unresolved
from ..validation.checks import arn_name, check_count, check_excluded, check_length, duration_to_seconds
from ..validation.naming import default_name
from .mlflow import grant_with_policy

__all__ = ["Feature", "FeatureGroup", "FeatureType", "MAX_FEATURES", "RESERVED_FEATURE_NAMES"]

#: CreateFeatureGroup's limit on feature definitions per feature group.
MAX_FEATURES = 2500
#: Names Feature Store reserves for the columns it adds (CreateFeatureGroup, FeatureDefinitions).
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})
#: FeatureName / FeatureGroupName pattern (64 characters at most).
FEATURE_NAME_PATTERN = r"[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}"
#: Offline store table formats (OfflineStoreConfig.TableFormat).
TABLE_FORMATS = ("Iceberg", "Glue")
#: The Glue database Feature Store creates its offline-store tables in when none is given.
DEFAULT_GLUE_DATABASE = "sagemaker_featurestore"
_TTL_UNITS = (("Weeks", 604_800), ("Days", 86_400), ("Hours", 3_600), ("Minutes", 60), ("Seconds", 1))


class FeatureType(str, enum.Enum):
    STRING = "String"
    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"


@dataclass(frozen=True)
class Feature:
    """One feature definition: ``Feature.string("species")``, ``Feature.fractional("sepal_length")``."""

    name: str
    type: FeatureType

    @classmethod
    def string(cls, name: str) -> "Feature":
        return cls(name, FeatureType.STRING)

    @classmethod
    def integral(cls, name: str) -> "Feature":
        return cls(name, FeatureType.INTEGRAL)

    @classmethod
    def fractional(cls, name: str) -> "Feature":
        return cls(name, FeatureType.FRACTIONAL)


def _ttl(scope: Construct, ttl: Duration) -> dict[str, Any]:
    seconds = duration_to_seconds(scope, "ttl", ttl)
    if is_unresolved(seconds):  # Duration.seconds(<parameter>): no unit can be chosen at synth
        return {"Unit": "Seconds", "Value": seconds}
    seconds = int(seconds)
    check_int_range(scope, "ttl (seconds)", seconds, minimum=1)
    unit, size = next((u, s) for u, s in _TTL_UNITS if seconds % s == 0)
    return {"Unit": unit, "Value": seconds // size}


class FeatureGroup(Construct):
    """A Feature Store feature group with secure defaults.

    Default settings:

    * online store on, encrypted with ``encryption_key`` (``OnlineStoreSecurityConfig.KmsKeyId``),
      ``Standard`` storage, records kept until deleted unless ``ttl`` is given;
    * offline store (when ``offline_store_bucket`` is given) under ``offline_store_prefix`` of that
      bucket (a ``SecureBucket``), objects encrypted with ``encryption_key``, an ``Iceberg`` table
      created by Feature Store in the Glue database ``sagemaker_featurestore``;
    * the offline store's role (child ``OfflineStoreRole``, or ``role``): trusted by SageMaker in this
      account only; writes and reads only the offline store prefix, uses only the key, and creates or
      updates only this group's Glue table;
    * names validated at synth: features unique, not reserved, at most 2,500; the record identifier and
      the event time among them (the event time ``String`` or ``Fractional``).

    Exposes ``feature_group_name``, ``feature_group_arn``, ``features``, ``role`` (or ``None``),
    ``cfn_feature_group``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        record_identifier: str,
        event_time: str,
        features: Sequence[Feature],
        encryption_key: kms.IKey,
        online: bool = True,
        offline_store_bucket: s3.IBucket | None = None,
        offline_store_prefix: str = "feature-store",
        table_format: str = "Iceberg",
        ttl: Duration | None = None,
        feature_group_name: str | None = None,
        description: str | None = None,
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param record_identifier: the feature that identifies a record (one of ``features``).
        :param event_time: the feature holding each record's event time (one of ``features``,
            ``String`` or ``Fractional``).
        :param features: 1-2,500 feature definitions (``Feature.string/integral/fractional``).
        :param encryption_key: the key of the online store and the offline store's objects (required).
        :param online: create the online store. Default: true.
        :param offline_store_bucket: the offline store's bucket. Default: no offline store (then
            ``online`` must be true).
        :param offline_store_prefix: key prefix of the offline store in the bucket. Default: ``"feature-store"``.
        :param table_format: ``"Iceberg"`` or ``"Glue"``. Default: ``"Iceberg"``.
        :param ttl: online store records expire after this. Default: never.
        :param feature_group_name: Default: a unique name derived from the construct path.
        :param description: Default: none.
        :param role: the offline store's role. Default: a new role (child ``OfflineStoreRole``). A role
            given here gets the same statements, in its own policy.
        :param role_is_prepared: ``role`` already has the offline store's permissions (for roles CDK
            cannot change). Default: false.
        """
        super().__init__(scope, id)
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a kms.IKey is required")
        check_length(self, "description", description, maximum=128,
                     limit="botocore sagemaker CreateFeatureGroupRequest.Description")
        features = list(features)
        check_count(self, "features", features, minimum=1, maximum=MAX_FEATURES, what="features",
                    note="per feature group", limit="botocore sagemaker FeatureDefinitions")
        names: list[str] = []
        for feature in features:
            if not isinstance(feature, Feature):
                raise ValidationError(self, "features", feature, "Feature.string/integral/fractional(name)")
            check_pattern(self, "features (name)", feature.name, FEATURE_NAME_PATTERN, max_length=64,
                          description="1-64 letters and digits, single '-' or '_' between them")
            check_excluded(self, "features (name)", feature.name, sorted(RESERVED_FEATURE_NAMES), what="reserved names",
                           key=str.lower)
            if feature.name in names:
                raise ValidationError(self, "features (name)", feature.name, "each feature name at most once")
            names.append(feature.name)
        by_name = {f.name: f for f in features}
        for argument, value in (("record_identifier", record_identifier), ("event_time", event_time)):
            check_choice(self, argument, value, names, of="the features", shown=20)
        if event_time in by_name and by_name[event_time].type is FeatureType.INTEGRAL:
            raise ValidationError(self, "event_time", event_time,
                                  "a String (ISO-8601) or Fractional (Unix time) feature, not Integral")
        if not online and offline_store_bucket is None:
            raise ValidationError(self, "offline_store_bucket", None,
                                  "a bucket is required when online=False (a feature group needs a store)")
        check_choice(self, "table_format", table_format, TABLE_FORMATS)
        if role is not None and offline_store_bucket is None:
            # CreateFeatureGroup's RoleArn is the role that writes the offline store: without one it was
            # dropped from the template, silently.
            raise ValidationError(self, "role", getattr(role, "role_arn", role),
                                  "only with offline_store_bucket (the role writes the offline store; an "
                                  "online-only feature group has no role)")
        if role_is_prepared and role is None:
            raise ValidationError(self, "role_is_prepared", True, "only with role= (the default role gets its grants)")
        if ttl is not None and not online:
            raise ValidationError(self, "ttl", ttl.to_human_string(), "only with the online store (online=True)")
        check_pattern(self, "feature_group_name", feature_group_name, FEATURE_NAME_PATTERN, max_length=64,
                      description="1-64 letters and digits, single '-' or '_' between them")
        prefix = offline_store_prefix.strip("/")
        if not prefix and not is_unresolved(offline_store_prefix):
            raise ValidationError(self, "offline_store_prefix", offline_store_prefix, "a non-empty key prefix")

        self.encryption_key: kms.IKey = encryption_key
        self.features: tuple[Feature, ...] = tuple(features)
        self.feature_group_name: str = feature_group_name or default_name(self, max_length=64)
        self.offline_store_bucket: s3.IBucket | None = offline_store_bucket
        self.offline_store_prefix = prefix
        self.role: iam.IRole | None = None

        online_config: dict[str, Any] | None = None
        if online:
            # OnlineStoreConfig/OfflineStoreConfig are untyped JSON in aws-cdk-lib's CfnFeatureGroup: the
            # *Property classes would be written with camelCase keys, so the template's keys are given here.
            online_config = {
                "EnableOnlineStore": True,
                "SecurityConfig": {"KmsKeyId": encryption_key.key_arn},
                "StorageType": "Standard",
            }
            if ttl is not None:
                online_config["TtlDuration"] = _ttl(self, ttl)
        offline_config: dict[str, Any] | None = None
        policies = []
        if offline_store_bucket is not None:
            statements = self._offline_store_statements(offline_store_bucket)
            if role is None:
                created, policy = service_role(
                    self, "OfflineStoreRole", "OfflineStorePolicy", service="sagemaker.amazonaws.com",
                    description=f"Feature Store offline store of {self.feature_group_name}", statements=statements)
                acknowledge_present_findings(policy, reason=(
                    "Offline store objects are written by Feature Store under this group's prefix only "
                    "(<prefix>/*, keys chosen by Feature Store: account/region/table/partitions); the Glue "
                    "table is named by Feature Store at creation, inside its sagemaker_featurestore database."))
                policies = [policy]
                self.role = created
            else:
                policies = add_statements(self, role, statements, role_is_prepared=role_is_prepared)
                self.role = role
            offline_config = {
                "S3StorageConfig": {"S3Uri": offline_store_bucket.s3_url_for_object(prefix),
                                    "KmsKeyId": encryption_key.key_arn},
                "TableFormat": table_format,
                "DisableGlueTableCreation": False,
            }
        self.cfn_feature_group: sagemaker.CfnFeatureGroup = sagemaker.CfnFeatureGroup(
            self,
            "Resource",
            feature_group_name=self.feature_group_name,
            record_identifier_feature_name=record_identifier,
            event_time_feature_name=event_time,
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(feature_name=f.name, feature_type=f.type.value)
                for f in features
            ],
            online_store_config=online_config,
            offline_store_config=offline_config,
            role_arn=self.role.role_arn if self.role is not None else None,
            description=description,
        )
        for policy in policies:
            self.cfn_feature_group.node.add_dependency(policy)

    # ------------------------------------------------------------------ attributes
    @property
    def feature_group_arn(self) -> str:
        """The group's ARN (SageMaker lower-cases the name in it)."""
        name = self.feature_group_name
        return Stack.of(self).format_arn(service="sagemaker", resource="feature-group",
                                         resource_name=arn_name(name))

    def _grant(self, grantee: iam.IGrantable, actions: Sequence[str], key_actions: Sequence[str],
               offline_read: bool = False, role_is_prepared: bool = False,
               ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
        statements = [
            iam.PolicyStatement(sid="FeatureGroup", actions=list(actions), resources=[self.feature_group_arn]),
            iam.PolicyStatement(sid="FeatureGroupKey", actions=list(key_actions),
                                resources=[self.encryption_key.key_arn]),
        ]
        if offline_read and self.offline_store_bucket is not None:
            statements.append(iam.PolicyStatement(
                sid="OfflineStoreObjects", actions=["s3:GetObject"],
                resources=[self.offline_store_bucket.arn_for_objects(f"{self.offline_store_prefix}/*")]))
        return grant_with_policy(self, grantee, statements, role_is_prepared=role_is_prepared, reason=(
            "Offline store objects are named by Feature Store under this group's prefix (<prefix>/*)."))

    # ------------------------------------------------------------------ grants
    # A role of this app gets the grant in a managed policy of this construct (child ``Access<n>``,
    # returned), so roles whose own managed policy is near IAM's size limit (a ``StudioUserRole``)
    # still fit; an imported role in its own policy, refused (ValidationError naming the actions) when
    # CDK cannot change it unless ``role_is_prepared`` (then nothing is added: None); any other grantee
    # through ``iam.Grant``.
    def grant_read(self, grantee: iam.IGrantable, *, role_is_prepared: bool = False,
                   ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
        """Read records from the online store (``GetRecord``, ``BatchGetRecord``), describe the group, read
        the offline store's objects, and decrypt with the key."""
        return self._grant(grantee, ["sagemaker:GetRecord", "sagemaker:BatchGetRecord",
                                     "sagemaker:DescribeFeatureGroup", "sagemaker:DescribeFeatureMetadata"],
                           ["kms:Decrypt", "kms:DescribeKey"], offline_read=True, role_is_prepared=role_is_prepared)

    def grant_ingest(self, grantee: iam.IGrantable, *, role_is_prepared: bool = False,
                     ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
        """Put records (``PutRecord``: the online store and, from there, the offline store) and describe
        the group: what an ingestion job or a Data Wrangler flow needs."""
        return self._grant(grantee, ["sagemaker:PutRecord", "sagemaker:DescribeFeatureGroup"],
                           ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"],
                           role_is_prepared=role_is_prepared)

    def grant_write(self, grantee: iam.IGrantable, *, role_is_prepared: bool = False,
                    ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
        """Ingest (``grant_ingest``) and delete records (``DeleteRecord``)."""
        return self._grant(grantee, ["sagemaker:PutRecord", "sagemaker:DeleteRecord", "sagemaker:DescribeFeatureGroup"],
                           ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey"],
                           role_is_prepared=role_is_prepared)

    # ------------------------------------------------------------------ internals
    def _offline_store_statements(self, bucket: s3.IBucket) -> list[iam.PolicyStatement]:
        stack = Stack.of(self)
        prefix = self.offline_store_prefix
        glue = [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=DEFAULT_GLUE_DATABASE),
            stack.format_arn(service="glue", resource="table", resource_name=f"{DEFAULT_GLUE_DATABASE}/*"),
        ]
        keys = [self.encryption_key.key_arn]
        if bucket.encryption_key is not None:
            keys.append(bucket.encryption_key.key_arn)
        return [
            iam.PolicyStatement(
                sid="OfflineStoreObjects",
                actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{prefix}/*")],
            ),
            iam.PolicyStatement(sid="OfflineStoreBucket", actions=["s3:GetBucketAcl", "s3:ListBucket",
                                                                   "s3:GetBucketLocation"],
                                resources=[bucket.bucket_arn]),
            iam.PolicyStatement(sid="OfflineStoreGlueTable",
                                actions=["glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable",
                                         "glue:CreateTable", "glue:UpdateTable"],
                                resources=glue),
            iam.PolicyStatement(sid="OfflineStoreKey",
                                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                                resources=list(dict.fromkeys(keys))),
        ]
