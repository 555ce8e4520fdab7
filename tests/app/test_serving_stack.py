"""The serving stacks: the endpoints each environment file declares, guarded in Prod."""

from __future__ import annotations

import json
from typing import Any

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


def test_dev_serves_xgboost_on_an_instance_and_pytorch_and_tensorflow_serverless(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template("Dev/Serving")
    configs = template.find_resources("AWS::SageMaker::EndpointConfig")
    variants = [c["Properties"]["ProductionVariants"][0] for c in configs.values()]
    assert sorted(v.get("InstanceType", "serverless") for v in variants) == [
        "ml.m5.large",
        "serverless",
        "serverless",
    ]
    images = sorted(
        m["Properties"]["PrimaryContainer"]["Image"]
        for m in template.find_resources("AWS::SageMaker::Model").values()
    )
    assert images == [
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.20.0-cpu-py312",
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
    endpoint = _resource_of(template, "AWS::SageMaker::Endpoint", "ChurnXgboost")
    deployment = endpoint["Properties"]["DeploymentConfig"]
    assert deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == ("CANARY")
    assert len(deployment["AutoRollbackConfiguration"]["Alarms"]) == 2
    alarms = {
        logical_id: alarm
        for logical_id, alarm in template.find_resources("AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("ChurnXgboost")
        and not logical_id.startswith("ChurnXgboostMonitoring")
    }
    assert len(alarms) == 2
    assert "ExportsOutputRefNotifications" in json.dumps(alarms)


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_tensorflow_is_served_by_the_sdks_tensorflow_serving_image_with_its_own_handlers(
    synthesized: SynthesizedApp, stage: str
) -> None:
    """TensorFlow Serving finds code/inference.py in the artifact itself: no SAGEMAKER_PROGRAM."""
    template = synthesized.template(f"{stage}/Serving")
    model = _resource_of(template, "AWS::SageMaker::Model", "ChurnTensorflow")["Properties"]
    container = model["PrimaryContainer"]
    assert container["Image"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.20.0-cpu-py312"
    )
    artifact = CONFIGS[stage.lower()].endpoints["churn-tensorflow"].model.artifact
    assert artifact is not None
    assert json.dumps(container["ModelDataUrl"]).endswith(f'/{artifact}"]]}}')
    assert "Environment" not in container
    # Serverless endpoints cannot isolate the container; code/ needs no network either way.
    assert model["EnableNetworkIsolation"] is (stage == "Prod")
    config = _resource_of(template, "AWS::SageMaker::EndpointConfig", "ChurnTensorflow")
    variant = config["Properties"]["ProductionVariants"][0]
    if stage == "Dev":
        assert variant["ServerlessConfig"] == {"MaxConcurrency": 5, "MemorySizeInMB": 3072}
    else:
        assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)


def _resource_of(template: Any, resource_type: str, prefix: str) -> dict[str, Any]:
    """The one resource of a type whose logical id starts with an endpoint's construct id."""
    found = [
        resource
        for logical_id, resource in template.find_resources(resource_type).items()
        if logical_id.startswith(prefix) and not logical_id.startswith(f"{prefix}Monitoring")
    ]
    assert len(found) == 1, (resource_type, prefix, len(found))
    resource: dict[str, Any] = found[0]
    return resource


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


def test_endpoints_that_name_another_serving_stack_are_synthesized_there() -> None:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from stacks import SageMakerStage
    from tests.conftest import cdk_json_context

    dev = CONFIGS["dev"]
    pytorch = dev.endpoints["churn-pytorch"].model_copy(update={"stack": "serving-2"})
    config = dev.model_copy(update={"endpoints": {**dev.endpoints, "churn-pytorch": pytorch}})
    stage = SageMakerStage(App(context=cdk_json_context()), "Dev", config=config)

    assert sorted(stage.serving_stacks) == ["serving", "serving-2"]
    assert stage.serving is stage.serving_stacks["serving"]
    assert stage.serving_stacks["serving-2"].node.id == "Serving2"
    assert sorted(stage.serving_stacks["serving"].endpoints) == [
        "churn-tensorflow",
        "churn-xgboost",
    ]
    assert sorted(stage.serving_stacks["serving-2"].endpoints) == ["churn-pytorch"]
    second = Template.from_stack(stage.serving_stacks["serving-2"])
    second.resource_count_is("AWS::SageMaker::Endpoint", 1)
    second.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/sagemaker-platform/Dev/endpoints/churn-pytorch"}
    )


# --- monitoring -------------------------------------------------------------------------------

MONITORING_TYPES = {
    "AWS::SageMaker::DataQualityJobDefinition": "DataQuality",
    "AWS::SageMaker::ModelQualityJobDefinition": "ModelQuality",
    "AWS::SageMaker::ModelBiasJobDefinition": "ModelBias",
    "AWS::SageMaker::ModelExplainabilityJobDefinition": "ModelExplainability",
}


def _schedules(synthesized: SynthesizedApp, stage: str) -> dict[str, dict[str, Any]]:
    template = synthesized.template(f"{stage}/Serving")
    return {
        props["MonitoringScheduleConfig"]["MonitoringType"]: props
        for props in (
            resource["Properties"]
            for resource in template.find_resources("AWS::SageMaker::MonitoringSchedule").values()
        )
    }


def _monitoring_alarms(synthesized: SynthesizedApp, stage: str) -> dict[str, dict[str, Any]]:
    template = synthesized.template(f"{stage}/Serving")
    return {
        props["MetricName"]: props
        for props in (
            resource["Properties"]
            for resource in template.find_resources("AWS::CloudWatch::Alarm").values()
        )
        if str(props["Namespace"]).startswith("aws/sagemaker/Endpoints/")
    }


def test_dev_monitors_churn_xgboost_with_all_four_monitors(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("Dev/Serving")
    for job_type in MONITORING_TYPES:
        template.resource_count_is(job_type, 1)
    schedules = _schedules(synthesized, "Dev")
    expressions = {
        kind: schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
        for kind, schedule in schedules.items()
    }
    assert expressions == {
        "DataQuality": "cron(0 * ? * * *)",
        "ModelQuality": "cron(0 0 ? * * *)",
        "ModelBias": "cron(0 0 ? * * *)",
        "ModelExplainability": "cron(0 0 ? * * *)",
    }
    endpoint_id = next(
        logical_id
        for logical_id in template.find_resources("AWS::SageMaker::Endpoint")
        if logical_id.startswith("ChurnXgboost")
    )
    for schedule in schedules.values():
        assert schedule["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert sorted(_monitoring_alarms(synthesized, "Dev")) == [
        "auc",
        "feature_baseline_drift_age",
        "feature_baseline_drift_monthly_charges",
    ]
    # Dev's monitoring jobs run on the instance its file names.
    template.has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {"JobResources": {"ClusterConfig": Match.object_like({"InstanceType": "ml.m5.large"})}},
    )


def test_dev_bias_analysis_config_is_a_published_file_asset(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("Dev/Serving")
    job = next(iter(template.find_resources("AWS::SageMaker::ModelBiasJobDefinition").values()))
    config_uri = job["Properties"]["ModelBiasAppSpecification"]["ConfigUri"]
    asset_hash = config_uri.rsplit("/", 1)[1].removesuffix(".json")
    files = json.loads(
        next(
            path for path in (synthesized.outdir / "assembly-Dev").glob("DevServing*.assets.json")
        ).read_text()
    )["files"]
    assert asset_hash in files
    source = synthesized.outdir / "assembly-Dev" / files[asset_hash]["source"]["path"]
    analysis = json.loads(source.read_text())
    assert analysis["label"] == "churned"
    assert analysis["facet"] == [{"name_or_index": "age", "value_or_threshold": [60]}]


def test_prod_monitors_data_and_model_quality_and_alarms_on_call(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template("Prod/Serving")
    template.resource_count_is("AWS::SageMaker::DataQualityJobDefinition", 1)
    template.resource_count_is("AWS::SageMaker::ModelQualityJobDefinition", 1)
    template.resource_count_is("AWS::SageMaker::ModelBiasJobDefinition", 0)
    template.resource_count_is("AWS::SageMaker::ModelExplainabilityJobDefinition", 0)
    assert sorted(_schedules(synthesized, "Prod")) == ["DataQuality", "ModelQuality"]
    alarms = _monitoring_alarms(synthesized, "Prod")
    assert sorted(alarms) == [
        "auc",
        "feature_baseline_drift_age",
        "feature_baseline_drift_monthly_charges",
        "feature_baseline_drift_tenure_months",
    ]
    for alarm in alarms.values():
        assert "ExportsOutputRefNotifications" in json.dumps(alarm["AlarmActions"])
    assert alarms["auc"]["Threshold"] == 0.75
    assert alarms["feature_baseline_drift_age"]["Threshold"] == 0.1


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_monitoring_role_reads_captured_data_and_writes_reports_of_its_endpoint_only(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template(f"{stage}/Serving")
    policies = [
        resource["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, resource in template.find_resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("ChurnXgboostMonitoring")
    ]
    assert len(policies) == 1
    text = json.dumps(policies[0])
    writes = [s for s in policies[0] if "s3:PutObject" in s["Action"]]
    assert len(writes) == 1
    assert json.dumps(writes[0]["Resource"]).endswith('"/monitoring/churn-xgboost/reports/*"]]}')
    assert "/data-capture/churn-xgboost/*" in text
    assert "/data-capture/churn-pytorch" not in text
    assert '"s3:*"' not in text
