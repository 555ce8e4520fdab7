"""Training pipelines: one state machine per definition, whose SageMaker requests are valid."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters
from moto import mock_aws

from config import DEFAULT_CONFIG_DIR, load_all
from stacks.naming import pascal_case
from tests.conftest import SynthesizedApp

pytestmark = pytest.mark.xdist_group("app")

CONFIGS = load_all(DEFAULT_CONFIG_DIR)
DEFINITIONS = [
    (stage, name)
    for stage, key in (("Dev", "dev"), ("Prod", "prod"))
    for name in sorted(CONFIGS[key].training)
    if CONFIGS[key].training[name].autopilot is None
]
AUTOPILOT_DEFINITIONS = [
    (stage, name)
    for stage, key in (("Dev", "dev"), ("Prod", "prod"))
    for name in sorted(CONFIGS[key].training)
    if CONFIGS[key].training[name].autopilot is not None
]
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")
ACCOUNT = "123456789012"
SAMPLE_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DLC = "763104351884.dkr.ecr.us-east-1.amazonaws.com"
SAMPLE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"


def _sample(part: Any) -> str:
    """A deployed-looking value for a CloudFormation reference inside a definition."""
    if isinstance(part, str):
        return part
    text = json.dumps(part)
    if "AWS::Partition" in text:
        return "aws"
    if "container-assets" in text:
        return str(part["Fn::Sub"]).replace("${AWS::URLSuffix}", "amazonaws.com")
    if "Key" in text and "Arn" in text:
        return SAMPLE_KEY
    if "ExecutionRole" in text or "AutopilotRole" in text:
        return SAMPLE_ROLE
    if "Bucket" in text:
        return "sample-bucket"
    raise AssertionError(f"no sample for {text}")


def _definition(synthesized: SynthesizedApp, stage: str, name: str) -> dict[str, Any]:
    template = synthesized.template_json(f"{stage}/Training")
    construct_id = pascal_case(name)
    machines = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and re.fullmatch(f"{construct_id}[0-9A-F]{{8}}", logical_id)
    ]
    assert len(machines) == 1
    parts = machines[0]["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(_sample(part) for part in parts))  # type: ignore[no-any-return]


def _substitute(value: Any, job_name: str, state: dict[str, Any] | None = None) -> Any:
    """Resolve the per-execution paths as Step Functions would for a sample execution.

    `state` gives the values of other paths, e.g. `{"$.best.containers": [...]}`.
    """
    state = state or {}
    if isinstance(value, list):
        return [_substitute(item, job_name, state) for item in value]
    if not isinstance(value, dict):
        return value
    resolved = {}
    for key, item in value.items():
        if not key.endswith(".$"):
            resolved[key] = _substitute(item, job_name, state)
        elif item in state:
            resolved[key[:-2]] = state[item]
        elif item == "$.job_name":
            resolved[key[:-2]] = job_name
        elif item.startswith("$.data."):
            resolved[key[:-2]] = f"s3://sample-bucket/datasets/{item.removeprefix('$.data.')}/"
        elif item.startswith("States.Format('s3://"):
            resolved[key[:-2]] = f"s3://sample-bucket/checkpoints/{job_name}/"
        elif item == "States.Format('Trained by {}', $.job_name)":
            resolved[key[:-2]] = f"Trained by {job_name}"
        else:
            raise AssertionError(f"unexpected path {key}: {item}")
    return resolved


def test_one_state_machine_per_training_definition(synthesized: SynthesizedApp) -> None:
    for stage, key in (("Dev", "dev"), ("Prod", "prod")):
        template = synthesized.template(f"{stage}/Training")
        template.resource_count_is("AWS::StepFunctions::StateMachine", len(CONFIGS[key].training))


@pytest.mark.parametrize(("stage", "name"), DEFINITIONS)
def test_the_sagemaker_request_is_valid_for_botocore_and_moto(
    synthesized: SynthesizedApp, stage: str, name: str
) -> None:
    definition = _definition(synthesized, stage, name)
    tuning = "Tune" in definition["States"]
    state = definition["States"]["Tune" if tuning else "Train"]
    job_name = f"{name}-0f8fad5b" if tuning else f"{name}-0f8fad5b-d9cb-469f-a165-70867728950e"
    request = _substitute(state["Parameters"], job_name)
    operation = "CreateHyperParameterTuningJob" if tuning else "CreateTrainingJob"

    validate_parameters(request, SAGEMAKER.operation_model(operation).input_shape)

    if not tuning:
        with mock_aws():
            client = boto3.client("sagemaker", region_name="us-east-1")
            client.create_training_job(**request)
            job = client.describe_training_job(TrainingJobName=job_name)
            assert job["TrainingJobStatus"] == "Completed"


def test_a_hyperparameter_is_rendered_as_a_string(synthesized: SynthesizedApp) -> None:
    request = _definition(synthesized, "Dev", "churn-xgboost")["States"]["Train"]["Parameters"]
    assert request["HyperParameters"] == {
        "eta": "0.2",
        "eval_metric": "auc",
        "max_depth": "4",
        "num_round": "50",
        "objective": "binary:logistic",
    }
    assert request["AlgorithmSpecification"]["TrainingImage"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )


def test_dev_trains_on_spot_with_checkpoints_and_prod_tunes_xgboost(
    synthesized: SynthesizedApp,
) -> None:
    dev = _definition(synthesized, "Dev", "churn-xgboost")["States"]["Train"]["Parameters"]
    assert dev["EnableManagedSpotTraining"] is True
    assert dev["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}
    assert "checkpoints/{}/" in dev["CheckpointConfig"]["S3Uri.$"]
    prod = _definition(synthesized, "Prod", "churn-xgboost")["States"]
    config = prod["Tune"]["Parameters"]["HyperParameterTuningJobConfig"]
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 4}
    assert config["ParameterRanges"]["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"}
    ]
    assert "DescribeBestJob" in prod


@pytest.mark.parametrize(("stage", "name"), DEFINITIONS)
def test_volume_and_output_are_encrypted_and_the_container_isolated(
    synthesized: SynthesizedApp, stage: str, name: str
) -> None:
    states = _definition(synthesized, stage, name)["States"]
    request = (
        states["Train"]["Parameters"]
        if "Train" in states
        else states["Tune"]["Parameters"]["TrainingJobDefinition"]
    )
    assert request["OutputDataConfig"]["KmsKeyId"] == SAMPLE_KEY
    assert request["ResourceConfig"]["VolumeKmsKeyId"] == SAMPLE_KEY
    assert request["EnableNetworkIsolation"] is True
    assert states["CreateModel"]["Parameters"]["EnableNetworkIsolation"] is True


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_state_machines_may_pass_only_the_execution_role(
    synthesized: SynthesizedApp, stage: str
) -> None:
    template = synthesized.template_json(f"{stage}/Training")
    training = CONFIGS[stage.lower()].training
    passes = {
        logical_id: statement
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and not logical_id.startswith("ExecutionRole")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "iam:PassRole" in str(statement["Action"])
    }
    assert len(passes) == len(training)
    for name, config in training.items():
        (statement,) = (s for i, s in passes.items() if i.startswith(pascal_case(name)))
        role = "AutopilotRoleDEBD6F0D" if config.autopilot else "ExecutionRoleFAA49FA6"
        assert statement["Action"] == "iam:PassRole"
        assert statement["Resource"] == {"Fn::GetAtt": [role, "Arn"]}
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
        }


def test_failed_executions_are_published(synthesized: SynthesizedApp) -> None:
    rules = synthesized.template("Dev/Training").find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"source": ["aws.states"]}}},
    )
    assert len(rules) == len(CONFIGS["dev"].training)
    for rule in rules.values():
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
        assert "ExportsOutputRefNotifications" in json.dumps(rule["Properties"]["Targets"])


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_xgboost_models_are_registered_pending_approval(
    synthesized: SynthesizedApp, stage: str
) -> None:
    synthesized.template(f"{stage}/Data").has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup",
        {"ModelPackageGroupName": f"{stage}-Data-churn-xgboost"},
    )
    register = _definition(synthesized, stage, "churn-xgboost")["States"]["RegisterModel"]
    assert register["Parameters"]["ModelPackageGroupName"] == f"{stage}-Data-churn-xgboost"
    assert register["Parameters"]["ModelApprovalStatus"] == "PendingManualApproval"
    linear = _definition(synthesized, stage, "churn-linear-learner")["States"]
    assert "RegisterModel" not in linear


def test_dev_pytorch_runs_in_script_mode_with_its_code_as_a_channel(
    synthesized: SynthesizedApp,
) -> None:
    states = _definition(synthesized, "Dev", "churn-pytorch")["States"]
    request = states["Train"]["Parameters"]
    assert request["AlgorithmSpecification"]["TrainingImage"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10.0-cpu-py313"
    )
    assert request["HyperParameters"]["sagemaker_program"] == '"pytorch/train.py"'
    submit = json.loads(request["HyperParameters"]["sagemaker_submit_directory"])
    assert re.fullmatch(r"/opt/ml/input/data/code/[0-9a-f]{64}\.gz", submit)
    assert [c["ChannelName"] for c in request["InputDataConfig"]] == ["train", "validation", "code"]
    assert [d["Name"] for d in request["AlgorithmSpecification"]["MetricDefinitions"]][:2] == [
        "epoch",
        "train:loss",
    ]
    assert states["CreateModel"]["Parameters"]["PrimaryContainer"]["Image"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312"
    )


def test_dev_tensorflow_runs_in_script_mode_and_its_model_is_served_by_tensorflow_serving(
    synthesized: SynthesizedApp,
) -> None:
    states = _definition(synthesized, "Dev", "churn-tensorflow")["States"]
    request = states["Train"]["Parameters"]
    assert request["AlgorithmSpecification"]["TrainingImage"] == (
        f"{DLC}/tensorflow-training:2.21.0-cpu-py312"
    )
    assert request["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert request["HyperParameters"]["sagemaker_program"] == '"tensorflow/train.py"'
    assert [c["ChannelName"] for c in request["InputDataConfig"]] == ["train", "validation", "code"]
    pytorch = _definition(synthesized, "Dev", "churn-pytorch")["States"]["Train"]["Parameters"]
    assert request["InputDataConfig"][2] == pytorch["InputDataConfig"][2]  # one shared bundle
    container = states["CreateModel"]["Parameters"]["PrimaryContainer"]
    assert container["Image"] == f"{DLC}/tensorflow-inference:2.20.0-cpu-py312"
    assert "Environment" not in container  # TensorFlow Serving finds code/inference.py itself


PROD_IMAGES = [
    ("churn-pytorch", "pytorch/Dockerfile", f"{DLC}/pytorch-training:2.10.0-gpu-py313"),
    ("churn-tensorflow", "tensorflow/Dockerfile", f"{DLC}/tensorflow-training:2.21.0-gpu-py312"),
]


@pytest.mark.parametrize(("name", "dockerfile", "base_image"), PROD_IMAGES)
def test_prod_frameworks_train_on_gpu_with_an_image_built_from_training_code(
    synthesized: SynthesizedApp, name: str, dockerfile: str, base_image: str
) -> None:
    manifest = json.loads(
        next((synthesized.outdir / "assembly-Prod").glob("ProdTraining*.assets.json")).read_text()
    )
    images = {image["source"]["dockerFile"]: image for image in manifest["dockerImages"].values()}
    assert sorted(images) == sorted(dockerfile for _, dockerfile, _ in PROD_IMAGES)
    image = images[dockerfile]
    source = image["source"]
    assert source["platform"] == "linux/amd64"
    assert source["dockerBuildArgs"] == {"BASE_IMAGE": base_image}
    request = _definition(synthesized, "Prod", name)["States"]["Train"]["Parameters"]
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    training_image = json.dumps(request["AlgorithmSpecification"]["TrainingImage"])
    assert image["destinations"]
    tag = next(iter(image["destinations"].values()))["imageTag"]
    assert "container-assets" in training_image and tag in training_image
    assert "sagemaker_program" not in request["HyperParameters"]


# --- Autopilot --------------------------------------------------------------------------------


def _automl_definition(synthesized: SynthesizedApp, stage: str, name: str) -> dict[str, Any]:
    states: dict[str, Any] = _definition(synthesized, stage, name)["States"]
    assert "Train" not in states
    assert "Tune" not in states
    return states


def test_only_dev_has_an_autopilot_definition() -> None:
    assert AUTOPILOT_DEFINITIONS == [("Dev", "churn-autopilot")]


@pytest.mark.parametrize(("stage", "name"), AUTOPILOT_DEFINITIONS)
def test_the_automl_requests_are_valid_for_botocore_and_moto(
    synthesized: SynthesizedApp, stage: str, name: str
) -> None:
    states = _automl_definition(synthesized, stage, name)
    job_name = f"{name}-0f8fad5b"
    request = _substitute(states["StartAutoML"]["Parameters"], job_name)

    validate_parameters(request, SAGEMAKER.operation_model("CreateAutoMLJobV2").input_shape)

    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        client.create_auto_ml_job_v2(**request)
        job = client.describe_auto_ml_job_v2(AutoMLJobName=job_name)
        # moto reports a best candidate at once, with the shape SageMaker describes.
        containers = [
            {k: v for k, v in c.items() if k in ("Image", "ModelDataUrl", "Environment")}
            for c in job["BestCandidate"]["InferenceContainers"]
        ]
        follow_up = {"$.best.containers": containers}
        model = _substitute(states["CreateModel"]["Parameters"], job_name, follow_up)
        validate_parameters(model, SAGEMAKER.operation_model("CreateModel").input_shape)
        client.create_model(**model)
        assert client.describe_model(ModelName=job_name)["Containers"] == containers
    register = _substitute(states["RegisterModel"]["Parameters"], job_name, follow_up)
    validate_parameters(register, SAGEMAKER.operation_model("CreateModelPackage").input_shape)


def test_dev_autopilot_runs_the_configured_automl_job(synthesized: SynthesizedApp) -> None:
    states = _automl_definition(synthesized, "Dev", "churn-autopilot")
    request = states["StartAutoML"]["Parameters"]
    assert request["AutoMLProblemTypeConfig"] == {
        "TabularJobConfig": {
            "ProblemType": "BinaryClassification",
            "TargetAttributeName": "churned",
            "Mode": "ENSEMBLING",
            "CompletionCriteria": {
                "MaxCandidates": 5,
                "MaxRuntimePerTrainingJobInSeconds": 900,
                "MaxAutoMLJobRuntimeInSeconds": 3600,
            },
        }
    }
    assert request["AutoMLJobObjective"] == {"MetricName": "F1"}
    assert request["AutoMLJobInputDataConfig"] == [
        {
            "ChannelType": "training",
            "ContentType": "text/csv;header=present",
            "CompressionType": "None",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": "$.data.train"}},
        }
    ]
    assert request["OutputDataConfig"] == {
        "S3OutputPath": "s3://sample-bucket/models/churn-autopilot/",
        "KmsKeyId": SAMPLE_KEY,
    }
    assert request["SecurityConfig"] == {
        "VolumeKmsKeyId": SAMPLE_KEY,
        "EnableInterContainerTrafficEncryption": True,
    }
    assert request["RoleArn"] == SAMPLE_ROLE
    assert "ModelDeployConfig" not in request
    assert states["ChooseData"]["Parameters"]["defaults"] == {
        "train": "s3://sample-bucket/datasets/churn/tabular/train/"
    }
    assert states["CreateModel"]["Parameters"]["EnableNetworkIsolation"] is True
    assert states["CreateModel"]["Parameters"]["Containers.$"] == "$.best.containers"
    register = states["RegisterModel"]["Parameters"]
    assert register["ModelPackageGroupName"] == "Dev-Data-churn-autopilot"
    assert register["ModelApprovalStatus"] == "PendingManualApproval"


def test_the_autopilot_state_machine_may_touch_only_its_own_automl_jobs(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template_json("Dev/Training")
    statements = [
        statement
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith("ChurnAutopilot")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    automl = [s for s in statements if "AutoML" in json.dumps(s["Action"])]
    assert automl
    assert {statement["Resource"] for statement in automl} == {
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:automl-job/churn-autopilot-*"
    }
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "sagemaker:CreateTrainingJob" not in actions
    assert "events:PutRule" not in actions


def test_only_the_autopilot_role_may_start_autopilots_own_jobs(
    synthesized: SynthesizedApp,
) -> None:
    dev = synthesized.template_json("Dev/Training")

    def actions(prefix: str) -> set[str]:
        return {
            action
            for logical_id, resource in dev["Resources"].items()
            if logical_id.startswith(prefix) and resource["Type"] == "AWS::IAM::ManagedPolicy"
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
        }

    assert {"sagemaker:CreateProcessingJob", "iam:PassRole"} <= actions("AutopilotRole")
    assert not {a for a in actions("ExecutionRole") if a.startswith(("sagemaker:", "iam:"))}
    prod = synthesized.template("Prod/Training")
    assert not [i for i in prod.to_json()["Resources"] if i.startswith("AutopilotRole")]
