"""FeatureGroup: encrypted online/offline stores, the offline store's role, grants, validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from sagemaker_constructs import Feature, FeatureGroup, PlatformKey, SecureBucket, ValidationError
from tests.harness.templates import only, resources, template_of

IRIS = [Feature.string("record_id"), Feature.string("event_time"), Feature.fractional("sepal_length"),
        Feature.fractional("sepal_width"), Feature.fractional("petal_length"), Feature.fractional("petal_width"),
        Feature.string("species")]


def _group(stack, **kwargs):
    key = kwargs.pop("key", None) or PlatformKey(stack, "Key")
    kwargs.setdefault("record_identifier", "record_id")
    kwargs.setdefault("event_time", "event_time")
    kwargs.setdefault("features", IRIS)
    return FeatureGroup(stack, "Iris", encryption_key=key, **kwargs)


def test_online_store_encrypted_no_offline_store_by_default(stack):
    _group(stack)
    props = only(template_of(stack), "AWS::SageMaker::FeatureGroup")
    assert props["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert "KmsKeyId" in props["OnlineStoreConfig"]["SecurityConfig"]
    assert "OfflineStoreConfig" not in props and "RoleArn" not in props
    assert [d["FeatureName"] for d in props["FeatureDefinitions"]][:2] == ["record_id", "event_time"]
    assert props["RecordIdentifierFeatureName"] == "record_id"


def test_offline_store_in_bucket_prefix_with_key_and_scoped_role(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = _group(stack, key=key, offline_store_bucket=bucket, ttl=Duration.days(30))
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::FeatureGroup")
    offline = props["OfflineStoreConfig"]
    assert offline["TableFormat"] == "Iceberg" and offline["S3StorageConfig"]["KmsKeyId"]
    assert "feature-store" in json.dumps(offline["S3StorageConfig"]["S3Uri"])
    assert props["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Days", "Value": 30}
    assert props["RoleArn"] and group.role is not None
    policy = json.dumps(next(iter(resources(t, "AWS::IAM::ManagedPolicy").values()))["Properties"])
    assert "feature-store/*" in policy and "s3:*" not in policy and '"Resource": "*"' not in policy
    trust = json.dumps(next(iter(resources(t, "AWS::IAM::Role").values()))["Properties"]["AssumeRolePolicyDocument"])
    assert "sagemaker.amazonaws.com" in trust and "aws:SourceAccount" in trust


def test_grants(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = _group(stack, key=key, offline_store_bucket=bucket)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    writer = iam.Role(stack, "Writer", assumed_by=iam.AccountRootPrincipal())
    ingester = iam.Role(stack, "Ingester", assumed_by=iam.AccountRootPrincipal())
    docs = [json.dumps(stack.resolve(p.document.to_json()))
            for p in (group.grant_read(reader), group.grant_write(writer), group.grant_ingest(ingester))]
    read, write, ingest = docs
    t = template_of(stack)
    roles = sorted(v["Properties"]["Roles"][0]["Ref"][:6] for k, v in resources(t, "AWS::IAM::ManagedPolicy").items()
                   if k.startswith("IrisAccess"))
    assert roles == ["Ingest", "Reader", "Writer"]
    assert "sagemaker:GetRecord" in read and "sagemaker:PutRecord" not in read and "kms:Decrypt" in read
    assert "sagemaker:PutRecord" in write and "sagemaker:DeleteRecord" in write
    assert "sagemaker:PutRecord" in ingest and "sagemaker:DeleteRecord" not in ingest
    assert group.feature_group_name.lower() in read


def test_supplied_offline_store_role_gets_statements(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    group = _group(stack, key=key, offline_store_bucket=bucket, role=role)
    assert group.role is role
    t = template_of(stack)
    assert "glue:CreateTable" in json.dumps(resources(t, "AWS::IAM::Policy"))


def test_immutable_role_without_prepared_raises(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    role = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/x", mutable=False)
    with pytest.raises(ValidationError, match="role"):
        _group(stack, key=key, offline_store_bucket=bucket, role=role)


@pytest.mark.parametrize("kwargs, match", [
    ({"record_identifier": "id"}, "record_identifier"),
    ({"event_time": "when"}, "event_time"),
    ({"event_time": "n", "features": [*IRIS, Feature.integral("n")]}, "Integral"),
    ({"features": [*IRIS, Feature.string("is_deleted")]}, "reserved"),
    ({"features": [*IRIS, Feature.string("Write_Time")]}, "reserved"),
    ({"features": [*IRIS, Feature.string("species")]}, "at most once"),
    ({"features": [*IRIS, Feature.string("bad name")]}, "features"),
    ({"features": IRIS + [Feature.integral(f"f{i}") for i in range(2500 - len(IRIS) + 1)]}, "2500"),
    ({"features": []}, "features"),
    ({"online": False}, "offline_store_bucket"),
    ({"table_format": "Parquet"}, "table_format"),
    ({"feature_group_name": "bad name"}, "feature_group_name"),
    ({"description": "d" * 129}, "description"),  # botocore Description: at most 128
])
def test_bad_input(stack, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _group(stack, **kwargs)


def test_exactly_2500_features_pass(stack):
    _group(stack, features=IRIS + [Feature.integral(f"f{i}") for i in range(2500 - len(IRIS))])


def test_ttl_without_online_store_raises(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    with pytest.raises(ValidationError, match="ttl"):
        _group(stack, key=key, online=False, offline_store_bucket=bucket, ttl=Duration.days(1))


def test_offline_only(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    _group(stack, key=key, online=False, offline_store_bucket=bucket, table_format="Glue")
    props = only(template_of(stack), "AWS::SageMaker::FeatureGroup")
    assert "OnlineStoreConfig" not in props and props["OfflineStoreConfig"]["TableFormat"] == "Glue"


def test_a_description_of_128_characters_passes(stack):
    _group(stack, description="d" * 128)


def test_a_role_without_an_offline_store_is_refused(stack):
    """role= was the offline store's role; on an online-only group it was dropped from the template without
    a word (no RoleArn), so a user expecting their role to be used got none."""
    role = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/features")
    with pytest.raises(ValidationError, match=r"role.*only with offline_store_bucket"):
        _group(stack, role=role)


def test_role_is_prepared_without_a_role_is_refused(stack):
    with pytest.raises(ValidationError, match=r"role_is_prepared.*only with role="):
        _group(stack, offline_store_bucket=SecureBucket(stack, "Data", encryption_key=PlatformKey(stack, "K")),
               role_is_prepared=True)
