"""The caller's own hourly prices (``hosting_prices=``, ``mlflow_prices=``, ``--hosting-price``,
``--mlflow-price``): used where the table has none or in place of its figure, named as the source,
and refused when they are not a positive price for a real instance type or size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sagemaker_constructs import ValidationError, estimate_monthly_cost
from sagemaker_constructs.cost.__main__ import main

ENDPOINT = {
    "Resources": {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"VariantName": "AllTraffic", "InstanceType": "ml.c7g.large", "InitialInstanceCount": 2,
             "InitialVariantWeight": 1, "ModelName": "m"}]}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint",
                     "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
        "Mlflow": {"Type": "AWS::SageMaker::MlflowTrackingServer",
                   "Properties": {"TrackingServerName": "t", "TrackingServerSize": "Medium"}},
        "M5": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
             "InitialVariantWeight": 1, "ModelName": "m"}]}},
        "M5Endpoint": {"Type": "AWS::SageMaker::Endpoint",
                       "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["M5", "EndpointConfigName"]}}},
    }
}


def test_without_overrides_graviton_and_mlflow_are_unpriced():
    report = estimate_monthly_cost(ENDPOINT, region="us-east-1")
    assert {u.item for u in report.unknown} == {"ml.c7g.large x2", "MLflow tracking server (Medium)"}


def test_overrides_price_what_the_table_lacks_and_replace_what_it_has():
    report = estimate_monthly_cost(ENDPOINT, region="us-east-1", hosting_prices={"ml.c7g.large": "0.05",
                                                                                  "ml.m5.large": 0.1},
                                   mlflow_prices={"Medium": Decimal("1.2")})
    lines = {line.item: line for line in report.lines}
    assert lines["ml.c7g.large x2"].monthly == Decimal("0.05") * 2 * 730
    assert lines["ml.m5.large x1"].monthly == Decimal("0.1") * 730
    assert lines["MLflow tracking server (Medium)"].monthly == Decimal("1.2") * 730
    assert {line.source for line in lines.values()} == {"supplied by the caller (hosting_prices=)",
                                                        "supplied by the caller (mlflow_prices=)"}
    assert report.unknown == ()


@pytest.mark.parametrize("kwargs, match", [
    ({"hosting_prices": {"ml.c7g.lage": "0.1"}}, "hosting_prices.*did you mean ml.c7g.large"),
    ({"hosting_prices": {"c7g.large": "0.1"}}, "hosting_prices"),
    ({"hosting_prices": {"ml.c7g.large": "0"}}, r"hosting_prices\['ml.c7g.large'\].*positive number of USD per hour"),
    ({"hosting_prices": {"ml.c7g.large": "-1"}}, "positive number"),
    ({"hosting_prices": {"ml.c7g.large": "cheap"}}, "positive number"),
    ({"hosting_prices": {"ml.c7g.large": "NaN"}}, "positive number"),
    ({"hosting_prices": {"ml.c7g.large": True}}, "positive number"),
    ({"mlflow_prices": {"Tiny": "1"}}, "mlflow_prices.*Small, Medium, Large"),
    ({"mlflow_prices": {"Small": "Infinity"}}, r"mlflow_prices\['Small'\]"),
])
def test_bad_overrides_are_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        estimate_monthly_cost(ENDPOINT, region="us-east-1", **kwargs)


def test_cli_takes_repeatable_prices(tmp_path, capsys):
    import json

    (tmp_path / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "S.template.json"}}}}))
    (tmp_path / "S.template.json").write_text(json.dumps(ENDPOINT))
    assert main([str(tmp_path), "--region", "us-east-1", "--json", "--hosting-price", "ml.c7g.large=0.05",
                 "--mlflow-price", "Medium=1.2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unknown"] == []
    assert main([str(tmp_path), "--region", "us-east-1", "--hosting-price", "ml.c7g.large=free"]) == 2
    assert "positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--hosting-price", "ml.c7g.large"])
    with pytest.raises(SystemExit):  # the same type twice: which rate is meant is not guessed
        main([str(tmp_path), "--hosting-price", "ml.c7g.large=0.05", "--hosting-price", "ml.c7g.large=0.06"])
