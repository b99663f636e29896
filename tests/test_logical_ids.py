"""Stateful resources keep their logical IDs: a changed ID replaces a key, bucket, log group or
trail on the next deploy, which is data loss. Change these only with a migration plan."""

from __future__ import annotations

STATEFUL_TYPES = {
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::CloudTrail::Trail",
    "AWS::EC2::VPC",
    "AWS::EFS::FileSystem",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::UserProfile",
    "AWS::SageMaker::Endpoint",  # a replaced endpoint is downtime for every caller
    "AWS::SQS::Queue",  # dead-letter queues hold failed requests
    "AWS::SageMaker::ModelPackageGroup",  # the model registry and its approval history
    "AWS::SageMaker::Pipeline",  # a replaced pipeline loses its execution history
    "AWS::SNS::Topic",  # alarm topics: a replaced topic loses its subscriptions (who gets paged)
    # Custom resources: a renamed, replaced or removed one is sent a Delete, which acts.
    "Custom::StudioTeardown",  # its Delete may empty the Studio domain (handlers/studio_teardown.py)
    "Custom::VpcRestrictDefaultSG",  # its Delete restores the default security group's open rules
    "AWS::KMS::Alias",  # a moved alias breaks every caller that names the key by alias
    "AWS::SageMaker::FeatureGroup",  # a replaced group loses its online store's records
    "AWS::SageMaker::MlflowTrackingServer",  # a replaced server loses its experiment and run metadata
    "AWS::SageMaker::Space",  # a replaced space loses its EBS volume (the members' work)
    "Custom::CanvasSettings",  # its Delete restores the domain's previous Canvas settings
}

PINNED = {
    "platform": {
        "PlatformKey9FD66B6F": "AWS::KMS::Key",
        "Network6E62CE96": "AWS::EC2::VPC",
        "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
        "DataBucketE3889A50": "AWS::S3::Bucket",
        "DataBucketAccessLogsC7D55B3F": "AWS::S3::Bucket",
        "AuditTrailBucketA91FD435": "AWS::S3::Bucket",
        "AuditTrailBucketAccessLogsC13AE187": "AWS::S3::Bucket",
        "AuditTrailLogGroup28BB9333": "AWS::Logs::LogGroup",
        "AuditTrail213A10E8": "AWS::CloudTrail::Trail",
        "Studio43727D10": "AWS::SageMaker::Domain",
        "StudioUserProfilesdatascientist1DCB3DD0": "AWS::SageMaker::UserProfile",
        "StudioUserProfilesmlengineer02DFC56B": "AWS::SageMaker::UserProfile",
        "StudioTeardownProviderLogs75C9BAAE": "AWS::Logs::LogGroup",
        "StudioTeardown2CBC5054": "Custom::StudioTeardown",
        "NetworkRestrictDefaultSecurityGroupCustomResource5372F2F2": "Custom::VpcRestrictDefaultSG",
        "PlatformKeyAlias39BC314C": "AWS::KMS::Alias",
        "StudioCanvasSettingsProviderLogs4A8426ED": "AWS::Logs::LogGroup",
        "StudioCanvasSettingsF8FE76C1": "Custom::CanvasSettings",
        "StudioSpacesTeamSpace91CEBCAC": "AWS::SageMaker::Space",
        "IrisFeatures9AA5B8EA": "AWS::SageMaker::FeatureGroup",
        "MlflowE97BC70F": "AWS::SageMaker::MlflowTrackingServer",
        "AlarmTopicD01E77F9": "AWS::SNS::Topic",
        "StudioCanvasIdleShutdownLogs0530B2B0": "AWS::Logs::LogGroup",
        "StudioCanvasIdleShutdownDeadLetterQueue82AE6CDB": "AWS::SQS::Queue",
    },
    "inference": {
        "Realtime76B7E44C": "AWS::SageMaker::Endpoint",
        "Serverless54B8191B": "AWS::SageMaker::Endpoint",
        "MultiModel5826660D": "AWS::SageMaker::Endpoint",
        "InvokerLogs9857728A": "AWS::Logs::LogGroup",
        "InvokerDeadLetterQueueDFC21ADE": "AWS::SQS::Queue",
        "AlarmTopicD01E77F9": "AWS::SNS::Topic",
        "Components47415452": "AWS::SageMaker::Endpoint",
        "AsyncFA9677DE": "AWS::SageMaker::Endpoint",
        "AsyncResultsTopic326B8691": "AWS::SNS::Topic",
    },
    "mlops": {
        "ModelGroup6A6ED3EE": "AWS::SageMaker::ModelPackageGroup",
        "TrainingPipeline6E0303C5": "AWS::SageMaker::Pipeline",
        "DeployOnApprovalLogs275BC41B": "AWS::Logs::LogGroup",
        "DeployOnApprovalDeadLetterQueueF1C26059": "AWS::SQS::Queue",
        "DeployOnApprovalApprovalQueue7AD2A33E": "AWS::SQS::Queue",
        "DataQualityMonitorAlarmTopic43BEF99A": "AWS::SNS::Topic",
        "TuningPipelineA69922BC": "AWS::SageMaker::Pipeline",
        "BatchScoringPipeline2B4BA2CE": "AWS::SageMaker::Pipeline",
        "InstanceRecommenderLogs4B800E54": "AWS::Logs::LogGroup",
        "InstanceRecommenderDeadLetterQueueA140E6FF": "AWS::SQS::Queue",
    },
}


def test_stateful_logical_ids_are_pinned(reference):
    for name, pinned in PINNED.items():
        template = reference.template(name)
        stateful = {k: v["Type"] for k, v in template["Resources"].items() if v["Type"] in STATEFUL_TYPES}
        assert stateful == pinned, f"{name}: stateful logical IDs changed"
