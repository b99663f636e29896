"""The steps of :class:`~sagemaker_constructs.TrainingPipeline` (train, evaluate, decide,
register), written with the generic builders of :mod:`.definition`.

Step names and the property file are part of the pipeline's contract (executions, dashboards
and approvals refer to them): ``Train``, ``Evaluate``, ``CheckMetric``, ``Register``,
``MetricBelowThreshold``, ``EvaluationReport``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from aws_cdk import Aws
from aws_cdk import aws_s3_assets as s3_assets

from . import definition as d
from .definition import get, join

TRAIN, EVALUATE, CHECK, REGISTER, FAIL = "Train", "Evaluate", "CheckMetric", "Register", "MetricBelowThreshold"
EVALUATION_REPORT = "EvaluationReport"
#: Where script mode finds the training code (the "code" channel) and a processing job its script.
TRAINING_CODE_DIR = "/opt/ml/input/data/code"
PROCESSING_CODE_DIR = "/opt/ml/processing/input/code"
THRESHOLD = get("Parameters.MetricThreshold")


def parameters(*, input_url: str, test_url: str | None, instance_type: str,
               metric_threshold: float | None) -> list[dict[str, Any]]:
    """``InputDataUrl``, ``TestDataUrl`` (with an evaluation), ``TrainingInstanceType`` and
    ``MetricThreshold`` (when a metric decides)."""
    return [
        d.parameter("InputDataUrl", "String", input_url),
        *([d.parameter("TestDataUrl", "String", test_url)] if test_url is not None else []),
        d.parameter("TrainingInstanceType", "String", instance_type),
        *([d.parameter("MetricThreshold", "Float", float(metric_threshold))] if metric_threshold is not None else []),
    ]


def train(job: d.JobSettings, *, image_uri: str, instance_count: int, volume_size_gb: int, runtime: int, wait: int,
          use_spot: bool, base: str, hyperparameters: Mapping[str, str] | None, code: s3_assets.Asset | None,
          code_path: str | None, entry_point: str, metric_definitions: Mapping[str, str]) -> dict[str, Any]:
    """``Train``: data from ``InputDataUrl``, script-mode code from the ``code`` channel."""
    channels = [d.s3_channel("train", get("Parameters.InputDataUrl"))]
    hp = dict(hyperparameters or {})
    if code is not None and code_path is not None:
        channels.append(d.s3_channel("code", code.s3_object_url))
        # Script mode with network isolation reads its code from the "code" channel (as the SDK does).
        local = f"{TRAINING_CODE_DIR}/{d.container_file_name(code, code_path)}"
        hp.update({"sagemaker_program": json.dumps(entry_point),
                   "sagemaker_submit_directory": json.dumps(local),
                   "sagemaker_region": json.dumps(Aws.REGION)})
    return d.training_step(
        TRAIN, job, image_uri=image_uri, instance_type=get("Parameters.TrainingInstanceType"),
        instance_count=instance_count, volume_size_gb=volume_size_gb, max_runtime_seconds=runtime,
        output_uri=join(base, d.EXECUTION_ID, "model"), channels=channels, use_spot=use_spot,
        max_wait_seconds=wait, checkpoint_uri=f"{base}/checkpoints", hyperparameters=hp,
        metric_definitions=metric_definitions,
    )


def evaluate(job: d.JobSettings, *, image_uri: str, instance_type: str, volume_size_gb: int, base: str,
             script: s3_assets.Asset, script_path: str) -> dict[str, Any]:
    """``Evaluate``: ``python3 <script>`` over the model and ``TestDataUrl``, writing
    ``evaluation.json`` (the ``EvaluationReport`` property file)."""
    return d.processing_step(
        EVALUATE, job, image_uri=image_uri,
        entrypoint=["python3", f"{PROCESSING_CODE_DIR}/{d.container_file_name(script, script_path)}"],
        instance_type=instance_type, volume_size_gb=volume_size_gb,
        inputs=[
            d.processing_input("model", d.model_artifacts(TRAIN), "/opt/ml/processing/model"),
            d.processing_input("test", get("Parameters.TestDataUrl"), "/opt/ml/processing/test"),
            d.processing_input("code", script.s3_object_url, PROCESSING_CODE_DIR),
        ],
        outputs=[d.processing_output("evaluation", evaluation_uri(base), "/opt/ml/processing/evaluation")],
        property_files=[d.property_file(EVALUATION_REPORT, "evaluation", "evaluation.json")],
    )


def evaluation_uri(base: str) -> dict[str, Any]:
    return join(base, d.EXECUTION_ID, "evaluation")


def evaluation_report_uri(base: str) -> dict[str, Any]:
    return join(base, d.EXECUTION_ID, "evaluation", "evaluation.json")


def evaluated_metric(metric_name: str) -> dict[str, Any]:
    """``metrics.<name>.value`` of the evaluation report."""
    return d.json_get(EVALUATE, EVALUATION_REPORT, f"metrics.{metric_name}.value")


def training_metric(metric_name: str) -> dict[str, str]:
    """The training job's final value of one of its metric definitions."""
    return d.final_metric(TRAIN, metric_name)


def decide(register: Mapping[str, Any], *, metric: Any, metric_name: str, higher_is_better: bool) -> dict[str, Any]:
    """``CheckMetric``: ``register`` when the metric meets ``MetricThreshold``, else fail."""
    compare = (d.greater_than_or_equal(metric, THRESHOLD) if higher_is_better
               else d.less_than_or_equal(metric, THRESHOLD))
    fail = d.fail_step(FAIL, join(f"{metric_name} {'below' if higher_is_better else 'above'}", THRESHOLD, on=" "))
    return d.condition_step(CHECK, [compare], [register], [fail])
