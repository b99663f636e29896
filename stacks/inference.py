"""Inference reference stack: one endpoint of each kind and a Lambda that invokes one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeploymentGuardrail,
    EndpointInvoker,
    Model,
    ModelData,
    MultiModelEndpoint,
    RealtimeEndpoint,
    ServerlessEndpoint,
)

#: The iris nearest-centroid model shipped in the repo (stacks/assets/iris_model, built by build.py).
MODEL_ARTIFACT = Path(__file__).resolve().parent / "assets" / "iris_model" / "dist" / "model.tar.gz"

#: SageMaker's prebuilt scikit-learn inference image: registry account by region
#: (aws/sagemaker-python-sdk image_uri_config/sklearn.json), repository and tag.
SKLEARN_IMAGE_ACCOUNTS = {
    "af-south-1": "510948584623", "ap-east-1": "651117190479", "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698", "ap-northeast-3": "867004704886", "ap-south-1": "720646828776",
    "ap-south-2": "628508329040", "ap-southeast-1": "121021644041", "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941", "ap-southeast-4": "106583098589", "ca-central-1": "341280168497",
    "ca-west-1": "190319476487", "eu-central-1": "492215442770", "eu-central-2": "680994064768",
    "eu-north-1": "662702820516", "eu-south-2": "104374241257", "eu-west-1": "141502667606",
    "eu-west-2": "764974769150", "eu-west-3": "659782779980", "il-central-1": "898809789911",
    "me-central-1": "272398656194", "me-south-1": "801668240914", "sa-east-1": "737474898029",
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
SKLEARN_IMAGE = "sagemaker-scikit-learn:1.2-1-cpu-py3"
#: What the scikit-learn container needs to run code/inference.py from the model archive.
SKLEARN_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


class InferenceStack(Stack):
    """A real-time endpoint (in the VPC, network-isolated, autoscaled, data capture, canary
    deployments), a serverless endpoint (no idle cost), a multi-model endpoint (models under
    ``s3://<data bucket>/models/``), and an ``EndpointInvoker`` for the real-time endpoint.

    The model is the iris nearest-centroid artifact in ``stacks/assets/iris_model`` served by
    SageMaker's prebuilt scikit-learn image, so synth needs no Docker.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        data_bucket: s3.IBucket,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        image = ContainerImage.from_regional_registry(SKLEARN_IMAGE_ACCOUNTS, SKLEARN_IMAGE)
        artifact = ModelData.from_asset(str(MODEL_ARTIFACT))

        self.model = Model(
            self, "IrisModel", image=image, model_data=artifact, vpc=vpc, encryption_key=encryption_key,
            environment=SKLEARN_ENVIRONMENT,
        )
        self.realtime = RealtimeEndpoint(
            self,
            "Realtime",
            model=self.model,
            instance_type=instance_type,
            instance_count=2,
            max_instance_count=4,
            target_invocations_per_instance=200,
            encryption_key=encryption_key,
            data_capture=DataCapture(data_bucket, sampling_percentage=20, prefix="data-capture/iris"),
            deployment=DeploymentGuardrail.canary(instances=1, wait=Duration.minutes(10)),
        )
        # Serverless Inference supports neither a VPC nor network isolation (SageMaker docs).
        self.serverless_model = Model(
            self, "IrisServerlessModel", image=image, model_data=artifact, network_isolation=False,
            encryption_key=encryption_key, environment=SKLEARN_ENVIRONMENT,
        )
        self.serverless = ServerlessEndpoint(
            self, "Serverless", model=self.serverless_model, memory_size_in_mb=2048, max_concurrency=20
        )
        self.multi_model = MultiModelEndpoint(
            self,
            "MultiModel",
            image=image,
            model_data_prefix=ModelData.from_bucket(data_bucket, "models/"),
            instance_type=instance_type,
            encryption_key=encryption_key,
            vpc=vpc,
            environment=SKLEARN_ENVIRONMENT,
        )
        self.invoker = EndpointInvoker(
            self, "Invoker", endpoint=self.realtime, vpc=vpc, endpoint_security_group=endpoint_security_group,
            encryption_key=encryption_key,
        )
        CfnOutput(self, "RealtimeEndpointName", value=self.realtime.endpoint_name)
        CfnOutput(self, "ServerlessEndpointName", value=self.serverless.endpoint_name)
        CfnOutput(self, "MultiModelEndpointName", value=self.multi_model.endpoint_name)
        CfnOutput(self, "InvokerFunctionName", value=self.invoker.function.function_name)
