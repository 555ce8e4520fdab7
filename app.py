#!/usr/bin/env python3
"""The CDK app: one SageMakerStage per environment file, checked by cdk-nag at synth.

`cdk synth` runs this file (see cdk.json). Environment files are read from `config/` or from
the folder given with `-c config_dir=PATH`. `-c stages=Dev` builds only the stages named
(comma-separated; default: all), as a command that deploys one stage does. A configuration
problem ends synth with one message naming the file, line and field, and exit status 2: no
traceback, nothing written to cdk.out. An error raised while a stage is built from a loaded
file is reported the same way, at the section being built; set SAGEMAKER_IAC_DEBUG=1 to see
its traceback instead.
A cdk-nag finding or a stack past a CloudFormation quota ends it with exit status 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from config import DEFAULT_CONFIG_DIR, ENVIRONMENTS, ConfigError, StageConfig, load_all
from config.build_errors import located_build_error
from constructs_lib.builtin_algorithms import sdk
from stacks import SageMakerStage
from stacks.cloudformation_limits import TemplateSize, cdk_quota_problems, quota_problems

#: CDK context key naming the folder of environment files.
CONFIG_DIR_CONTEXT = "config_dir"
#: CDK context key naming the stages to build, comma-separated (`-c stages=Dev`); default: all.
#: Every environment file is still loaded and checked.
STAGES_CONTEXT = "stages"
#: Image URIs and other answers of the SageMaker SDK, kept between synths: importing the SDK
#: costs about 5 s a process. Keyed by the SDK's version; safe to delete at any time.
SDK_ANSWERS = Path(__file__).resolve().parent / ".cache" / "sagemaker-sdk-answers.json"
#: CDK's own template validation (WebAssembly, on by default in aws-cdk-lib 2.275) costs 2 s
#: (idle) to 7 s (busy machine) of every synth here, most of it compiling its engine, and it only
#: warns. The templates are gated instead by the real cfn-lint, cdk-nag and checkov in the tests
#: (tests/app/test_compliance.py, tests/reliability). Set True to see its warnings as well.
BUILTIN_CLOUDFORMATION_VALIDATION = False
#: Set this environment variable to 1 to see the traceback of an error raised while a stage is
#: built (a bug in this project's code), instead of the located one-line message.
DEBUG_VARIABLE = "SAGEMAKER_IAC_DEBUG"


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """Build the whole app (every stage) as `cdk synth` does.

    Args:
        context: CDK context; `cdk synth` passes cdk.json's own. Tests pass the same.
        outdir: where the cloud assembly goes. Default: what the CLI says, else `cdk.out`.

    Raises:
        ConfigError: an environment file is missing or invalid.
    """
    app = App(
        context=dict(context) if context is not None else None,
        outdir=outdir,
        builtin_cloud_formation_validation=BUILTIN_CLOUDFORMATION_VALIDATION,
    )
    sdk.keep_answers_in(SDK_ANSWERS)
    config_dir = Path(app.node.try_get_context(CONFIG_DIR_CONTEXT) or DEFAULT_CONFIG_DIR)
    configs = load_all(config_dir)
    wanted = selected_stages(app.node.try_get_context(STAGES_CONTEXT))
    for name, stage_id in ENVIRONMENTS.items():
        if stage_id in wanted:
            build_stage(app, stage_id, configs[name], config_dir / f"{name}.yaml")
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app)
    )
    return app


def build_stage(app: App, stage_id: str, config: StageConfig, path: Path) -> SageMakerStage:
    """One stage from its loaded environment file.

    Raises:
        ConfigError: anything raised while building it, as `file:line: section: message` at
            the section of `path` being built (unless SAGEMAKER_IAC_DEBUG=1).
    """
    try:
        return SageMakerStage(app, stage_id, config=config)
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        raise ConfigError(located_build_error(error, config, path)) from error


def selected_stages(value: object) -> set[str]:
    """The stage ids of `-c stages=...` (all of them when it is not given).

    Raises:
        ConfigError: a name that is no stage, or nothing named.
    """
    known = list(ENVIRONMENTS.values())
    if value is None:
        return set(known)
    names = [name.strip() for name in str(value).split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ConfigError(
            f"-c {STAGES_CONTEXT}={value}: "
            + (f"no stage {unknown[0]!r}; " if unknown else "no stage named; ")
            + f"give one or more of {', '.join(known)}, comma-separated"
        )
    return set(names)


def main() -> int:
    try:
        app = build_app()
    except ConfigError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        return 2
    try:
        assembly = app.synth()
    except RuntimeError as error:
        if too_large := cdk_quota_problems(str(error)):
            print("CloudFormation quota exceeded:", *too_large, sep="\n  ", file=sys.stderr)
            return 1
        if not str(error).startswith("ValidationFailed"):
            raise
        print(f"Compliance check failed: {error}", file=sys.stderr)
        return 1
    # Under the cdk CLI, CDK reports plugin violations without failing a Python app's synth
    # (it sets the exit code of its Node process only), so the report is checked here.
    findings = unacknowledged_findings(Path(assembly.directory) / "validation-report.json")
    if findings:
        print("Compliance check failed (cdk-nag):", *findings, sep="\n  ", file=sys.stderr)
        return 1
    problems = quota_problems(
        TemplateSize.of(stack.display_name, Path(stack.template_full_path))
        for stack in assembly.stacks_recursively
    )
    if problems:
        print("CloudFormation quota exceeded:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def unacknowledged_findings(report: Path) -> list[str]:
    """`rule at construct path` for every violation in a CDK validation report."""
    if not report.exists():
        return []
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in json.loads(report.read_text())["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


if __name__ == "__main__":
    sys.exit(main())
