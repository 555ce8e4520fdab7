"""Endpoint definitions checked with the serving construct's own rules, located in the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.schema import EndpointConfig
from constructs_lib.builtin_algorithms import get_algorithm, sdk
from constructs_lib.framework_images import check_framework_image
from constructs_lib.serving import Autoscaling, ServerlessConfig
from constructs_lib.serving.hosting import Hosting, builtin_image_architecture_problem
from constructs_lib.serving.model_source import model_package_region_problem

if TYPE_CHECKING:  # config.schema imports the monitoring schema itself, part-way through
    from config.monitoring_schema import MonitoringConfig


def endpoint_problems(endpoint: EndpointConfig, *, region: str) -> list[tuple[str, str]]:
    """(field, message) for what SageMaker or the endpoint construct would refuse."""
    return (
        _model_problems(endpoint, region=region)
        or _hosting_problems(endpoint)
        or _monitoring_problems(endpoint, region=region)
    )


def _model_problems(endpoint: EndpointConfig, *, region: str) -> list[tuple[str, str]]:
    model = endpoint.model
    if model.model_package_arn is not None:
        problem = model_package_region_problem(model.model_package_arn, region)
        return [("model.model_package_arn", problem)] if problem else []
    if model.algorithm is not None:
        try:
            algorithm = get_algorithm(model.algorithm)
        except ValueError as error:
            return [("model.algorithm", str(error))]
        message = algorithm.version_problem(model.version or algorithm.default_version)
        if message:
            return [("model.version", message)]
        message = image_architecture_problem(model.algorithm, endpoint.instance_type)
        if message:
            return [("instance_type", message)]
    if model.framework is not None:
        problems = check_framework_image(
            model.framework,
            region=region,
            instance_type=endpoint.instance_type or "ml.m5.large",
            scope="inference",
            version=model.version,
        )
        return [(f"model.{p.field}", p.message) for p in problems]
    return []


def image_architecture_problem(algorithm: str, instance_type: str | None) -> str | None:
    """The serving construct's rule: built-in algorithm images are x86_64 only."""
    if instance_type is None:
        return None
    try:
        return builtin_image_architecture_problem(algorithm, instance_type)
    except ValueError:
        return None  # a malformed name: the instance type's own check says so


def _hosting_problems(endpoint: EndpointConfig) -> list[tuple[str, str]]:
    serverless_conflicts = [
        name
        for name, given in (
            ("instance_type", endpoint.instance_type),
            ("instance_count", endpoint.instance_count),
            ("autoscaling", endpoint.autoscaling),
            ("data_capture_percent", endpoint.data_capture_percent),
            ("deployment", endpoint.deployment),
            ("monitoring", endpoint.monitoring),
        )
        if endpoint.serverless is not None and given is not None
    ]
    if serverless_conflicts:
        return [
            (
                "serverless",
                f"cannot be combined with {', '.join(serverless_conflicts)}: serverless "
                "endpoints have no instances to choose or scale, no data capture (so nothing to "
                "monitor) and no deployment guardrails",
            )
        ]
    if endpoint.serverless is not None:
        try:
            ServerlessConfig(
                memory_size_mb=endpoint.serverless.memory_size_mb,
                max_concurrency=endpoint.serverless.max_concurrency,
            )
        except ValueError as error:
            return [("serverless", str(error))]
        return []
    try:
        Hosting.check(
            instance_type=endpoint.instance_type,
            initial_instance_count=endpoint.instance_count,
            autoscaling=Autoscaling(
                min_instances=endpoint.autoscaling.min_instances,
                max_instances=endpoint.autoscaling.max_instances,
            )
            if endpoint.autoscaling
            else None,
            # Data capture, alarms and guardrails are checked when the stack builds them; the
            # stack always adds alarms, which guardrails need.
            data_capture=None,
            alarms=None,
            deployment=None,
            serverless=None,
            network_isolation=None,
            vpc=None,
            vpc_subnets=None,
            security_groups=(),
        )
    except ValueError as error:
        field, separator, message = str(error).partition(": ")
        if separator and field in {"instance_type", "autoscaling"}:
            return [(field, message)]
        return [("instance_count", str(error).replace("initial_instance_count", "instance_count"))]
    return []


def _monitoring_problems(endpoint: EndpointConfig, *, region: str) -> list[tuple[str, str]]:
    monitoring = endpoint.monitoring
    if monitoring is None:
        return []
    if endpoint.data_capture_percent is None:
        return [
            (
                "monitoring",
                "needs data capture: monitoring schedules analyse the requests and responses "
                "the endpoint captures; set data_capture_percent (1 to 100) on this endpoint",
            )
        ]
    try:
        monitoring.resources()
    except ValueError as error:
        return [("monitoring.instance_type", str(error))]
    problems = _monitor_problems(monitoring)
    if problems:
        return problems
    images: list[sdk.MonitoringImage] = (
        ["model-monitor"] if monitoring.data_quality or monitoring.model_quality else []
    )
    if monitoring.bias or monitoring.explainability:
        images.append("clarify")
    for image in images:
        try:
            sdk.monitoring_image(image, region)
        except ValueError as error:
            return [("monitoring", str(error))]
    return []


def _monitor_problems(monitoring: MonitoringConfig) -> list[tuple[str, str]]:
    sections = {
        "data_quality": monitoring.data_quality,
        "model_quality": monitoring.model_quality,
        "bias": monitoring.bias,
        "explainability": monitoring.explainability,
    }
    for name, section in sections.items():
        if section is None:
            continue
        try:
            section.monitor()
        except ValueError as error:
            return [(f"monitoring.{name}", str(error))]
    return []
