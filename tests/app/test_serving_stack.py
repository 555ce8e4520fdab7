"""The serving stacks: the endpoints each environment file declares, guarded in Prod."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from config import DEFAULT_CONFIG_DIR, load_all
from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

CONFIGS = load_all(DEFAULT_CONFIG_DIR)


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_one_endpoint_per_definition_with_its_name_published(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template(f"{stage}/Serving")
    names = sorted(CONFIGS[stage.lower()].endpoints)
    template.resource_count_is("AWS::SageMaker::Endpoint", len(names))
    for endpoint in template.find_resources("AWS::SageMaker::Endpoint").values():
        assert "EndpointName" not in endpoint["Properties"]
    parameters = template.find_resources("AWS::SSM::Parameter")
    assert sorted(p["Properties"]["Name"] for p in parameters.values()) == [
        f"/sagemaker-platform/{stage}/endpoints/{name}" for name in names
    ]


def test_dev_serves_xgboost_on_an_instance_and_pytorch_serverless(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template("Dev/Serving")
    configs = template.find_resources("AWS::SageMaker::EndpointConfig")
    variants = [c["Properties"]["ProductionVariants"][0] for c in configs.values()]
    assert sorted(v.get("InstanceType", "serverless") for v in variants) == [
        "ml.m5.large",
        "serverless",
    ]
    images = sorted(
        m["Properties"]["PrimaryContainer"]["Image"]
        for m in template.find_resources("AWS::SageMaker::Model").values()
    )
    assert images == [
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312",
    ]
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "KmsKeyId": Match.any_value(),
            "DataCaptureConfig": Match.object_like({"InitialSamplingPercentage": 100}),
        },
    )


def test_prod_serves_an_approved_package_autoscaled_and_guarded(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template("Prod/Serving")
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "ModelPackageName": "arn:aws:sagemaker:us-east-1:210987654321:model-package/"
                "Prod-Data-churn-xgboost/3"
            }
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 6}
    )
    endpoint = next(iter(template.find_resources("AWS::SageMaker::Endpoint").values()))
    deployment = endpoint["Properties"]["DeploymentConfig"]
    assert deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == ("CANARY")
    assert len(deployment["AutoRollbackConfiguration"]["Alarms"]) == 2
    alarms = {
        logical_id: alarm
        for logical_id, alarm in template.find_resources("AWS::CloudWatch::Alarm").items()
        if not logical_id.startswith("ChurnXgboostMonitoring")
    }
    assert len(alarms) == 2
    assert "ExportsOutputRefNotifications" in json.dumps(alarms)


def test_a_stage_without_endpoints_has_no_serving_stack_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from aws_cdk import App

    from stacks import SageMakerStage
    from tests.conftest import cdk_json_context

    config = CONFIGS["dev"].model_copy(update={"endpoints": {}})
    stage = SageMakerStage(App(context=cdk_json_context()), "Dev", config=config)
    assert stage.serving is None
    assert capsys.readouterr().err == "Dev: no endpoints declared, so no Serving stack\n"
