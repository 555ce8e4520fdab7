"""Endpoint definitions checked with the serving construct's own rules, located in the file."""

from __future__ import annotations

from config.schema import EndpointConfig
from constructs_lib.builtin_algorithms import get_algorithm
from constructs_lib.framework_images import check_framework_image
from constructs_lib.serving import Autoscaling, ServerlessConfig
from constructs_lib.serving.hosting import Hosting


def endpoint_problems(endpoint: EndpointConfig, *, region: str) -> list[tuple[str, str]]:
    """(field, message) for what SageMaker or the endpoint construct would refuse."""
    return _model_problems(endpoint, region=region) or _hosting_problems(endpoint)


def _model_problems(endpoint: EndpointConfig, *, region: str) -> list[tuple[str, str]]:
    model = endpoint.model
    if model.algorithm is not None:
        try:
            algorithm = get_algorithm(model.algorithm)
        except ValueError as error:
            return [("model.algorithm", str(error))]
        message = algorithm.version_problem(model.version or algorithm.default_version)
        if message:
            return [("model.version", message)]
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


def _hosting_problems(endpoint: EndpointConfig) -> list[tuple[str, str]]:
    serverless_conflicts = [
        name
        for name, given in (
            ("instance_type", endpoint.instance_type),
            ("instance_count", endpoint.instance_count),
            ("autoscaling", endpoint.autoscaling),
            ("data_capture_percent", endpoint.data_capture_percent),
            ("deployment", endpoint.deployment),
        )
        if endpoint.serverless is not None and given is not None
    ]
    if serverless_conflicts:
        return [
            (
                "serverless",
                f"cannot be combined with {', '.join(serverless_conflicts)}: serverless "
                "endpoints have no instances to choose or scale, no data capture and no "
                "deployment guardrails",
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
