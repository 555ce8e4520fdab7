#!/usr/bin/env python3
"""Deploy a stage of the app with the real CDK CLI: into an emulated AWS account, or into AWS.

    scripts/deploy.py                      deploy Dev into a fresh local emulated account (moto)
    scripts/deploy.py --keep-running       ... and leave the emulator up afterwards
    scripts/deploy.py --endpoint-url URL   deploy into an emulator left up by --keep-running
    scripts/deploy.py --destroy --endpoint-url URL   remove the Dev stacks from it
    scripts/deploy.py --target aws         deploy Dev into AWS with your own credentials
    scripts/deploy.py --target aws --stage Prod

The default target is the emulator, always: real AWS needs `--target aws`. Emulator commands get
fake credentials and the local endpoint only (see `emulator.emulator_environment`). The phases
are the CLI's own: `cdk synth`, `cdk bootstrap`, `cdk publish-assets`, `cdk deploy` (change
sets), each timed; then the report reads back what exists. docs/deploy.md has the details.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

import boto3
import inventory
from assembly import AssemblyError, StackArtifact, read_stage
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)
from cdk_env import REPO_ROOT, offline_environment, tool_environment
from emulator import (
    Emulator,
    EmulatorError,
    check_local_endpoint,
    emulator_environment,
    emulator_session,
    last_error,
    last_error_in,
    require_emulator_environment,
)

DEFAULT_LOG_DIR = REPO_ROOT / ".local" / "deploy"
BOOTSTRAP_QUALIFIER = "hnb659fds"
#: The CDK context key app.py reads to build some stages only (app.STAGES_CONTEXT).
STAGES_CONTEXT = "stages"
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
#: A CDK command against the emulator that runs longer than this is stuck (moto never finishes
#: some resources); against AWS the CLI's own waiting applies.
EMULATOR_COMMAND_TIMEOUT_S = 600
#: Known emulator failures: a text in the CDK or emulator log, and what to do about it.
EMULATOR_HINTS = (
    (
        "at 'instanceType' failed to satisfy constraint",
        "moto accepts endpoint instance types of the c4, c5, c5d, g4dn, inf1, m4, m5, m5d, p2, "
        "p3, r5, r5d and t2 families only: give the Dev config one of them (e.g. ml.m5.large)",
    ),
)
#: Stack states a deploy cannot start from, and what to do ({path}: the stack's construct path).
BLOCKING_STATES = {
    "CREATE_FAILED": "its creation failed and was left as it is (--no-rollback): roll it back "
    "with `npx cdk rollback {path}`, then deploy again",
    "UPDATE_FAILED": "its last update failed and was left as it is (--no-rollback): roll it "
    "back with `npx cdk rollback {path}`, then deploy again",
    "UPDATE_ROLLBACK_FAILED": "its last update could not be rolled back: finish the rollback "
    "with `npx cdk rollback {path}` (add `--orphan LOGICAL_ID` for a resource that cannot roll "
    "back), then deploy again",
    "IMPORT_ROLLBACK_FAILED": "a resource import could not be rolled back: fix the resource the "
    "stack's events name, then deploy again",
    "DELETE_FAILED": "an earlier destroy did not finish: run this command with --destroy again; "
    "its message names what blocks the deletion",
}
#: Stack states the CDK CLI deals with itself, and what it does.
HANDLED_STATES = {
    "ROLLBACK_COMPLETE": "its creation failed earlier; cdk deploy deletes it and creates it again",
    "ROLLBACK_FAILED": "its creation failed earlier; cdk deploy deletes it and creates it again",
    "REVIEW_IN_PROGRESS": "a change set was created but never executed (an interrupted deploy); "
    "cdk deploy creates the stack",
    "UPDATE_ROLLBACK_COMPLETE": "its last update was rolled back; cdk deploy updates it",
}
#: What a user does with a deployed stage: purpose, make target, the stacks whose outputs name
#: what it takes (`<Name><suffix>`), and what the target does against the emulator.
USER_COMMANDS = (
    (
        "start a training run",
        "train",
        "Training",
        "StateMachineArn",
        "the emulator never runs a training job: this finds the pipeline, starts nothing and "
        "says what to run instead",
    ),
    (
        "invoke an endpoint",
        "invoke",
        "Serving",
        "EndpointName",
        "the emulator has no model behind an endpoint, only a fixed placeholder answer: this "
        "checks that it is InService and sends nothing",
    ),
    (
        "run a batch transform",
        "batch",
        "Batch",
        "StateMachineArn",
        "the emulator never runs a transform job: this finds the pipeline, starts nothing and "
        "says what to run instead",
    ),
)
#: What trains, serves and invokes a real model on this machine (scripts/local_loop.py).
LOCAL_LOOP = "make local-loop"

#: What failed when a resource cannot be looked up after a destroy.
LOOKUPS = "looking up the stacks' resources after the destroy (read access to each is needed)"

Target = Literal["emulator", "aws"]
_T = TypeVar("_T")


class DeployError(Exception):
    """A problem the user can act on. The message says what happened and what to do."""


@dataclass(frozen=True)
class Options:
    """The command line, parsed and checked."""

    target: Target
    stage: str
    destroy: bool
    keep_running: bool
    endpoint_url: str | None
    port: int
    outdir: Path
    synthesize: bool
    context: tuple[str, ...]
    log_dir: Path
    verbose: bool


@dataclass
class Timings:
    """Wall time of each phase, in the order they ran."""

    phases: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str, out: TextIO, *, verbose: bool = False) -> Iterator[list[str]]:
        """Time a phase and print one line for it; notes appended to the yielded list follow
        the time on that line."""
        print(f"  {name:<10}...", end="\n" if verbose else "", flush=True, file=out)
        notes: list[str] = []
        start = time.monotonic()
        try:
            yield notes
        except BaseException:
            print(" failed", file=out, flush=True)
            raise
        seconds = time.monotonic() - start
        self.phases.append((name, seconds))
        detail = f"  {'; '.join(notes)}" if notes else ""
        prefix = f"  {name:<10}" if verbose else ""
        print(f"{prefix}{seconds:6.1f} s{detail}", file=out, flush=True)


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="scripts/deploy.py",
        description="Deploy a stage with the real CDK CLI into an emulated AWS account "
        "(default) or into AWS (--target aws).",
    )
    parser.add_argument(
        "--target",
        choices=("emulator", "aws"),
        default="emulator",
        help="emulator (default): a local moto account, no credentials needed; "
        "aws: your AWS account, with your credentials",
    )
    parser.add_argument("--stage", default="Dev", help="Dev (default) or Prod (--target aws only)")
    parser.add_argument("--destroy", action="store_true", help="remove the stage's stacks")
    parser.add_argument(
        "--keep-running", action="store_true", help="leave the emulator up after the deploy"
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="use the emulator already running at URL (left up by --keep-running)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port for the emulator (default: a free one)"
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=REPO_ROOT / "cdk.out",
        help="where synth writes the cloud assembly (default: cdk.out)",
    )
    parser.add_argument(
        "--assembly",
        type=Path,
        metavar="DIR",
        help="deploy this cloud assembly (from `cdk synth`) as it is, without synthesizing",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=DEFAULT_LOG_DIR,
        help="where the CDK CLI and emulator logs go (default: .local/deploy)",
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context for synth, e.g. -c config_dir=PATH (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the CDK CLI output")
    args = parser.parse_args(argv)
    options = Options(
        target=args.target,
        stage=args.stage,
        destroy=args.destroy,
        keep_running=args.keep_running,
        endpoint_url=args.endpoint_url,
        port=args.port,
        outdir=(args.assembly or args.outdir).resolve(),
        synthesize=args.assembly is None,
        context=tuple(args.context),
        log_dir=args.log_dir.resolve(),
        verbose=args.verbose,
    )
    problem = _option_problem(options)
    if problem:
        parser.error(problem)
    return options


def _option_problem(options: Options) -> str | None:
    if options.stage not in ("Dev", "Prod"):
        return f"--stage must be Dev or Prod (got {options.stage!r})"
    bad_context = [item for item in options.context if "=" not in item]
    if options.context and not options.synthesize:
        return "--context applies to synth; --assembly deploys an assembly as it is"
    if bad_context:
        return f"--context takes KEY=VALUE (got {bad_context[0]!r})"
    if options.target == "aws":
        return _aws_option_problem(options)
    return _emulator_option_problem(options)


def _emulator_option_problem(options: Options) -> str | None:
    if options.stage != "Dev":
        return "only Dev deploys into the emulator; Prod needs --target aws"
    if options.destroy and not options.endpoint_url:
        return (
            "a fresh emulator holds nothing to destroy: pass --endpoint-url of one left up by "
            "--keep-running"
        )
    if options.endpoint_url and options.port:
        return "--port starts a new emulator; --endpoint-url uses a running one: pick one"
    return None


def _aws_option_problem(options: Options) -> str | None:
    if options.keep_running or options.endpoint_url or options.port:
        return "--keep-running, --endpoint-url and --port are for the emulator target"
    if options.destroy and options.stage == "Prod":
        return "Prod keeps its data (termination protection, RETAIN): it is not destroyed here"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    # A terminated deploy (CI cancel, `kill`) unwinds like Ctrl-C, so the emulator and the CLI
    # are stopped by the `finally` blocks instead of being left behind.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if options.target == "aws":
            deploy_to_aws(options)
        else:
            deploy_to_emulator(options)
    except (DeployError, EmulatorError, AssemblyError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the emulator and the CDK CLI were stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


# --- targets -------------------------------------------------------------------------------


def deploy_to_emulator(options: Options) -> None:
    """Synthesize, then bootstrap, publish and deploy (or destroy) in the emulator, and report."""
    out = sys.stdout
    timings = Timings()
    action = "Destroying" if options.destroy else "Deploying"
    print(f"{action} {options.stage} in the emulated AWS account (moto, on localhost)", file=out)
    stacks = synthesize(options, offline_environment(), timings, out)
    account, region = _environment_of(stacks)
    if not options.destroy:
        check_emulator_can_deploy(stacks)
    log_path = options.log_dir / "emulator.log"
    emulator = Emulator(log_path=log_path, port=options.port, account=account)
    try:
        if options.endpoint_url:
            url = check_local_endpoint(options.endpoint_url)
            supported = _supported_types_in_process()
            _check_reachable(url, region)
        else:
            with timings.phase("emulator", out) as notes:
                info = emulator.start()
                notes.append(f"{info.endpoint_url}, account {account}, {region}")
            url, supported = info.endpoint_url, info.cloudformation_types
        env = emulator_environment(url, region, base=tool_environment())
        require_emulator_environment(env)
        session = emulator_session(url, region)
        log_start = _size(log_path)
        run_phases(options, stacks=stacks, env=env, session=session, timings=timings, out=out)
        check_emulator_log(log_path, log_start)
        if not options.destroy:
            stays_up = options.keep_running or options.endpoint_url is not None
            print_report(session, stacks, supported, out, running_url=url if stays_up else None)
        _print_timings(timings, out)
        if options.keep_running and not options.endpoint_url:
            _print_keep_running(url, emulator.detach(), out)
    except DeployError as error:
        hint = emulator_hint(options, emulator)
        if hint:
            raise DeployError(f"{error}\n{hint}") from None
        raise
    finally:
        if emulator.pid is not None:
            emulator.stop()
            print("Emulator stopped.", file=out)


def deploy_to_aws(options: Options) -> None:
    """Synthesize, then bootstrap if needed, publish and deploy (or destroy) in AWS."""
    out = sys.stdout
    env = tool_environment()
    overrides = sorted(key for key in env if key.startswith("AWS_ENDPOINT_URL"))
    if overrides:
        raise DeployError(
            f"--target aws deploys to AWS itself, but {', '.join(overrides)} is set: unset it"
        )
    timings = Timings()
    action = "Destroying" if options.destroy else "Deploying"
    print(f"{action} {options.stage} in AWS with your credentials", file=out)
    stacks = synthesize(options, env, timings, out)
    account, region = _environment_of(stacks)
    session = boto3.Session(region_name=region)
    check_aws_credentials(session, account, options.stage)
    run_phases(options, stacks=stacks, env=env, session=session, timings=timings, out=out)
    if not options.destroy:
        print_report(session, stacks, None, out)
    _print_timings(timings, out)


def synthesize(
    options: Options, env: dict[str, str], timings: Timings, out: TextIO
) -> list[StackArtifact]:
    """`cdk synth` the whole app (unless --assembly gave one); return the stage's stacks."""
    if options.synthesize:
        with timings.phase("synth", out, verbose=options.verbose) as notes:
            run_cdk(_synth_args(options), env=env, options=options, log="synth")
            stacks = read_stage(options.outdir, options.stage)
            notes.append(f"{options.stage}: {', '.join(stack.path for stack in stacks)}")
        return stacks
    stacks = read_stage(options.outdir, options.stage)
    print(f"  synth      skipped: deploying the assembly in {_shown(options.outdir)}", file=out)
    return stacks


def run_phases(
    options: Options,
    *,
    stacks: list[StackArtifact],
    env: dict[str, str],
    session: Any,
    timings: Timings,
    out: TextIO,
) -> None:
    """bootstrap (unless done), publish, deploy, or destroy: each one timed."""
    pattern = f"{options.stage}/*"
    app = ["--app", str(options.outdir)]
    verbose = options.verbose
    names = ", ".join(stack.stack_name for stack in stacks)
    if options.destroy:
        destroy(options, stacks=stacks, env=env, session=session, timings=timings, out=out)
        return
    account, region = _environment_of(stacks)
    check_stack_states(session, stacks, target=options.target, out=out)
    version = bootstrap_version(session)
    if version is not None:
        print(f"  bootstrap  skipped: already bootstrapped (version {version})", file=out)
    else:
        with timings.phase("bootstrap", out, verbose=verbose) as notes:
            environment = f"aws://{account}/{region}"
            run_cdk(["bootstrap", *app, environment], env=env, options=options, log="bootstrap")
            version = bootstrap_version(session)
            if version is None:
                raise DeployError(
                    f"cdk bootstrap finished, but the SSM parameter {BOOTSTRAP_VERSION_PARAMETER}"
                    " does not exist: the templates of this app cannot deploy without it"
                )
            notes.append(f"{environment}, {BOOTSTRAP_VERSION_PARAMETER} = {version}")
    with timings.phase("publish", out, verbose=verbose) as notes:
        run_cdk(
            ["publish-assets", "--unstable=publish-assets", *app, pattern],
            env=env,
            options=options,
            log="publish",
        )
        files = sum(len(stack.file_assets) for stack in stacks)
        images = sum(len(stack.docker_images) for stack in stacks)
        notes.append(f"{files} file assets, {images} Docker images")
    with timings.phase("deploy", out, verbose=verbose) as notes:
        run_cdk(
            ["deploy", *app, pattern, "--require-approval", "never", "--progress", "events"],
            env=env,
            options=options,
            log="deploy",
        )
        notes.append(f"{names} (CloudFormation change sets)")


def destroy(
    options: Options,
    *,
    stacks: list[StackArtifact],
    env: dict[str, str],
    session: Any,
    timings: Timings,
    out: TextIO,
) -> None:
    """`cdk destroy` the stage, then look up every resource its stacks had: each must be gone.

    Raises:
        DeployError: the CLI failed, or resources remain (each named, with what to do).
    """
    names = [stack.stack_name for stack in stacks]
    before = _read_back(
        lambda: inventory.stack_resources(session, names), "listing the stacks' resources"
    )
    try:
        with timings.phase("destroy", out, verbose=options.verbose) as notes:
            run_cdk(
                ["destroy", "--app", str(options.outdir), f"{options.stage}/*", "--force"],
                env=env,
                options=options,
                log="destroy",
            )
            notes.append(f"removed {', '.join(names)}")
    except DeployError as error:
        remaining = _read_back(lambda: inventory.leftovers(session, before), LOOKUPS)
        if not remaining:
            raise
        raise DeployError(f"{error}\n{_remaining_text(remaining, options.stage)}") from None
    unknown = inventory.unknown_types(before)
    checked = [resource for resource in before if resource.resource_type not in unknown]
    with timings.phase("check", out) as notes:
        remaining = _read_back(lambda: inventory.leftovers(session, checked), LOOKUPS)
        notes.append(f"{len(checked) - len(remaining)} of {len(checked)} resources gone")
        if unknown:
            notes.append(f"not looked up (no probe in scripts/inventory.py): {', '.join(unknown)}")
    if remaining:
        raise DeployError(
            f"`cdk destroy` finished, but {_remaining_text(remaining, options.stage)}"
        )


def _read_back(read: Callable[[], _T], what: str) -> _T:
    """`read()`, with an AWS error turned into a `DeployError` that names `what` failed."""
    try:
        return read()
    except (BotoCoreError, ClientError) as error:
        raise DeployError(f"{what} failed: {error}") from None


def _remaining_text(remaining: list[inventory.Leftover], stage: str) -> str:
    """`N resource(s) of STAGE remain:` and one indented line per resource, with what to do."""
    lines = [
        f"{left.resource.resource_type} {left.resource.physical_id} "
        f"({left.resource.stack}/{left.resource.logical_id}): {left.state}"
        for left in remaining
    ]
    return f"{len(remaining)} resource(s) of {stage} remain:\n  " + "\n  ".join(lines)


# --- checks --------------------------------------------------------------------------------


def check_stack_states(
    session: Any, stacks: list[StackArtifact], *, target: Target, out: TextIO
) -> None:
    """Before a deploy: refuse stacks left in a state a deploy cannot start from, and say what
    the CLI does about the others (a re-run after an interrupted or failed deploy meets them).

    Raises:
        DeployError: one line per blocked stack, naming it, its state and what to do.
    """
    cloudformation = session.client("cloudformation")
    problems = []
    for stack in stacks:
        try:
            found = cloudformation.describe_stacks(StackName=stack.stack_name)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                continue
            raise DeployError(f"cannot read the state of {stack.stack_name}: {error}") from None
        state = str(found[0]["StackStatus"])
        where = f"{stack.stack_name} ({stack.path}) is {state}"
        if state in BLOCKING_STATES:
            problems.append(f"{where}: {BLOCKING_STATES[state].format(path=stack.path)}")
        elif state in HANDLED_STATES:
            print(f"  note: {where}: {HANDLED_STATES[state]}", file=out)
        elif state.endswith("_IN_PROGRESS") and target == "emulator":
            problems.append(
                f"{where}: the emulator never finishes it (moto works synchronously, so an "
                "operation still in progress is stuck): stop this emulator and deploy into a "
                "fresh one (leave out --endpoint-url)"
            )
        elif state.endswith("_IN_PROGRESS"):
            print(f"  note: {where}: cdk deploy waits for it to finish first", file=out)
    if problems:
        raise DeployError("cannot deploy over these stacks:\n  " + "\n  ".join(problems))


def check_emulator_can_deploy(stacks: list[StackArtifact]) -> None:
    """Refuse, before anything starts, what the emulator cannot deploy (instead of hanging)."""
    problems = []
    for stack in stacks:
        custom = sorted(
            {t for t in stack.resource_types() if t.startswith("Custom::")}
            | {t for t in stack.resource_types() if t == "AWS::CloudFormation::CustomResource"}
        )
        if custom:
            problems.append(
                f"{stack.path} has custom resources ({', '.join(custom)}): moto never completes "
                "them and the deploy would hang. Turn off the config setting that adds them for "
                "Dev (e.g. auto_delete_objects)."
            )
        if stack.docker_images and shutil.which("docker") is None:
            problems.append(
                f"{stack.path} has Docker image assets ({', '.join(stack.docker_images)}) and "
                "there is no Docker engine to build them. Use script mode (an AWS Deep Learning "
                "Container image plus the code as an S3 asset) for Dev in the config."
            )
    if problems:
        raise DeployError("the emulator cannot deploy this app:\n  " + "\n  ".join(problems))


def check_aws_credentials(session: Any, account: str, stage: str) -> None:
    """Fail unless credentials exist and belong to the stage's account."""
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise DeployError(
            "--target aws needs AWS credentials, and none were found: sign in (e.g. "
            "`aws sso login --profile NAME` and AWS_PROFILE=NAME, or the AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY variables), or leave out --target aws to use the emulator"
        ) from None
    except (ClientError, BotoCoreError) as error:
        raise DeployError(f"your AWS credentials do not work: {error}") from None
    if identity["Account"] != account:
        raise DeployError(
            f"{stage} deploys to account {account} (config/{stage.lower()}.yaml), but your "
            f"credentials are for account {identity['Account']}: use credentials for {account}, "
            "or put your account id in the config file"
        )


def bootstrap_version(session: Any) -> str | None:
    """The CDK bootstrap version of the account, or None when it is not bootstrapped."""
    try:
        response = session.client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise DeployError(f"cannot read {BOOTSTRAP_VERSION_PARAMETER}: {error}") from None
    return str(response["Parameter"]["Value"])


def check_emulator_log(log_path: Path, start: int) -> None:
    """Fail if moto crashed while the CLI ran (from byte `start` of its log).

    A crash is an HTTP 500 to the CLI, which retries; the retry can then "succeed" on a half
    created stack. The CLI's success is not trusted when the emulator's log shows a crash.
    """
    try:
        with log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(start)
            text = log.read()
    except OSError:
        return
    if "Traceback (most recent call last)" in text:
        crash = last_error_in(text) or "an exception"
        raise DeployError(
            f"the emulator failed while the CDK CLI ran ({crash}); the stacks may be incomplete "
            f"(log: {_shown(log_path)}). If this is a moto bug, scripts/emulator_fixes.py is "
            "the place to correct it."
        )


def emulator_hint(options: Options, emulator: Emulator) -> str | None:
    """What the emulator's log says about a failure, and a known fix, if any."""
    texts = []
    for name in ("bootstrap", "publish", "deploy", "destroy"):
        log = options.log_dir / f"{name}.log"
        if log.exists():
            texts.append(log.read_text(encoding="utf-8", errors="replace"))
    hints = [hint for pattern, hint in EMULATOR_HINTS if any(pattern in text for text in texts)]
    crash = last_error(emulator.log_path)
    if crash:
        hints.append(f"the emulator itself failed: {crash} (log: {_shown(emulator.log_path)})")
    return "\n".join(f"hint: {hint}" for hint in hints) or None


# --- the CDK CLI ---------------------------------------------------------------------------


def run_cdk(args: list[str], *, env: dict[str, str], options: Options, log: str) -> None:
    """Run `npx cdk ARGS` in the repository; its output goes to .local/deploy/LOG.log.

    The CLI runs in its own process group, which is killed on a timeout (emulator target),
    on Ctrl-C and on any error here, so no CLI or app process is left behind.

    Raises:
        DeployError: the CLI failed or timed out; the message ends with its last lines.
    """
    if options.target == "emulator" and args[0] != "synth":
        require_emulator_environment(env)
    options.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = options.log_dir / f"{log}.log"
    command = ["npx", "--no-install", "cdk", *args, "--no-notices"]
    timeout = EMULATOR_COMMAND_TIMEOUT_S if options.target == "emulator" else None
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def stop_on_timeout() -> None:
            timed_out.set()
            _kill_group(process)

        timer = threading.Timer(timeout, stop_on_timeout) if timeout else None
        try:
            if timer:
                timer.start()
            _copy_output(process, log_file, sys.stdout if options.verbose else None)
            returncode = process.wait()
        finally:
            if timer:
                timer.cancel()
            _kill_group(process)
    if returncode == 0:
        return
    if timed_out.is_set():
        raise DeployError(
            f"`cdk {args[0]}` did not finish within {timeout} s and was stopped "
            f"(log: {_shown(log_path)})"
        )
    raise DeployError(
        f"`cdk {args[0]}` failed (exit status {returncode}); its last lines "
        f"(all in {_shown(log_path)}):\n{_tail(log_path)}"
    )


def _synth_args(options: Options) -> list[str]:
    """`cdk synth` of the stage deployed only (`-c stages=Dev`, read by app.py), unless the
    user's own context names the stages."""
    context = [arg for item in options.context for arg in ("-c", item)]
    if not any(item.startswith(f"{STAGES_CONTEXT}=") for item in options.context):
        context += ["-c", f"{STAGES_CONTEXT}={options.stage}"]
    return ["synth", "--quiet", "--output", str(options.outdir), *context]


def _copy_output(process: subprocess.Popen[str], log: TextIO, echo: TextIO | None) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.write(line)
        if echo:
            echo.write(line)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# --- the report ----------------------------------------------------------------------------


def print_report(
    session: Any,
    stacks: list[StackArtifact],
    supported_types: frozenset[str] | None,
    out: TextIO,
    *,
    running_url: str | None = None,
) -> None:
    """Print what exists now, what was not deployed and why, and what to do next.

    Args:
        supported_types: the emulator's CloudFormation types; None for AWS.
        running_url: the emulator's URL when it stays up after this command.
    """
    try:
        found = inventory.collect(session, [stack.stack_name for stack in stacks])
    except (BotoCoreError, ClientError) as error:
        message = f"the stacks are deployed, but reading them back failed: {error}"
        raise DeployError(message) from None
    where = "the emulator" if supported_types is not None else "AWS"
    print(f"\nWhat exists now (read back from {where}):", file=out)
    for line in report_lines(found, stacks):
        print(f"  {line}", file=out)
    if supported_types is not None:
        print("\nNot deployed, and why:", file=out)
        for line in not_deployed_lines(stacks, supported_types):
            print(f"  {line}", file=out)
    print("\nNext:", file=out)
    emulator = supported_types is not None
    for line in next_steps(stacks, emulator=emulator, url=running_url):
        print(f"  {line}", file=out)


def next_steps(stacks: list[StackArtifact], *, emulator: bool, url: str | None = None) -> list[str]:
    """The commands that use the deployed stage, with real names, each runnable as printed.

    Args:
        emulator: whether the stage is in the emulator.
        url: the emulator's URL when it stays up; without it, the emulator commands cannot run.
    """
    if emulator and url is None:
        return [
            "The emulator is stopped now. To try training, invoking and batch commands against "
            "it, deploy with `make deploy ARGS=--keep-running`: it prints them with its URL.",
            f"Train, serve and invoke a real model on this machine: {LOCAL_LOOP}",
        ]
    stage = stacks[0].stage
    options = "" if stage == "Dev" else f" STAGE={stage}"
    options += f" ENDPOINT_URL={url}" if url else ""
    lines = []
    for purpose, target, stack_id, suffix, emulator_note in USER_COMMANDS:
        names = output_names(stacks, stack_id, suffix)
        if not names:
            lines.append(f"{purpose}: none in this stage")
            continue
        lines.append(f"{purpose} ({', '.join(names)}):")
        lines.append(f"  make {target} NAME={names[0]}{options}")
        if emulator:
            lines.append(f"    ({emulator_note})")
    if emulator:
        lines.append("train, serve and invoke a real model on this machine:")
        lines.append(f"  {LOCAL_LOOP}")
    return lines


def output_names(stacks: list[StackArtifact], stack_id: str, suffix: str) -> list[str]:
    """The config names behind the `<Name><suffix>` outputs of the stage's `stack_id` stacks
    (Serving, Serving2, ... for `Serving`), sorted."""
    naming = _stack_naming()
    return sorted(
        naming.kebab_case(key.removesuffix(suffix))
        for stack in stacks
        if re.fullmatch(rf"{stack_id}\d*", stack.path.rpartition("/")[2])
        for key in stack.template.get("Outputs", {})
        if key.endswith(suffix)
    )


def _stack_naming() -> Any:
    """stacks/naming.py on its own: importing the `stacks` package would import aws_cdk and
    start a Node.js process, for one string function."""
    path = REPO_ROOT / "stacks" / "naming.py"
    spec = importlib.util.spec_from_file_location("_stack_naming", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report_lines(found: inventory.Inventory, stacks: list[StackArtifact]) -> list[str]:
    """The report of what exists, one line each (without indentation)."""
    lines = ["IAM roles (SageMaker execution roles trust sagemaker.amazonaws.com):"]
    lines += [
        f"  {role.name}  trusts {', '.join(role.trusted_services) or 'no service'}; "
        f"{role.managed_policies} managed {'policy' if role.managed_policies == 1 else 'policies'}"
        for role in sorted(found.roles, key=lambda role: (role.trusted_services, role.name))
    ] or ["  none"]
    lines.append("Buckets:")
    lines += [
        f"  {bucket.name}  encryption {_encryption(bucket)}; versioning {bucket.versioning}"
        for bucket in found.buckets
    ] or ["  none"]
    lines.append("KMS keys:")
    lines += [
        f"  {key.arn}  {key.state}; rotation {'on' if key.rotation else 'off'}"
        for key in found.keys
    ] or ["  none"]
    expected_machines = _count(stacks, "AWS::StepFunctions::StateMachine")
    lines.append(f"State machines, training and batch ({expected_machines} in the templates):")
    machines = sorted(machine.name for machine in found.state_machines)
    lines += [f"  {name}" for name in machines] or [
        "  none yet: the config defines no training definition or batch transform"
    ]
    expected_endpoints = _count(stacks, "AWS::SageMaker::Endpoint")
    lines.append(f"SageMaker endpoints ({expected_endpoints} in the templates):")
    lines += [f"  {endpoint.name}  {endpoint.status}" for endpoint in found.endpoints] or [
        "  none yet: the app has no endpoint in this stage"
    ]
    if found.unreadable:
        lines.append("Not readable with these credentials:")
        lines += [f"  {entry}" for entry in found.unreadable]
    return lines


def not_deployed_lines(stacks: list[StackArtifact], supported_types: frozenset[str]) -> list[str]:
    """The emulator's gaps for these stacks, one line each."""
    lines = [
        f"{skip.resource_type} x{skip.count} ({', '.join(skip.stacks)}): {skip.reason}"
        for skip in inventory.skipped_resources(stacks, supported_types)
    ]
    images = [image for stack in stacks for image in stack.docker_images]
    lines.append(
        f"Docker image assets: {len(images)} in this stage; none can be built here (no Docker "
        "engine), so the Dev config must not use any"
    )
    lines.append(
        "Custom resources (Custom::*): moto never completes them; the Dev config adds none"
    )
    lines.append(
        "Properties moto ignores although the resource exists (bucket versioning, lifecycle, "
        "public access block, logging): see docs/deploy.md"
    )
    return lines


def _encryption(bucket: inventory.Bucket) -> str:
    if bucket.encryption == "aws:kms":
        return f"SSE-KMS ({bucket.kms_key or 'AWS managed key'})"
    if bucket.encryption == "AES256":
        return "SSE-S3"
    return bucket.encryption


def _count(stacks: list[StackArtifact], resource_type: str) -> int:
    return sum(stack.resource_types().count(resource_type) for stack in stacks)


def _print_timings(timings: Timings, out: TextIO) -> None:
    summary = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.phases)
    total = sum(seconds for _, seconds in timings.phases)
    print(f"\nTimings: {summary} (total {total:.1f} s)", file=out)


def _print_keep_running(url: str, pgid: int, out: TextIO) -> None:
    print(f"\nThe emulator keeps running at {url} (process group {pgid}).", file=out)
    print(f"  deploy again: make deploy ARGS='--endpoint-url {url}'", file=out)
    print(f"  destroy Dev:  make destroy ARGS='--endpoint-url {url}'", file=out)
    print(f"  stop it:      kill -- -{pgid}", file=out)


# --- helpers -------------------------------------------------------------------------------


def _environment_of(stacks: list[StackArtifact]) -> tuple[str, str]:
    environments = {(stack.account, stack.region) for stack in stacks}
    if len(environments) != 1:
        raise DeployError(f"the stage's stacks span several environments: {sorted(environments)}")
    return environments.pop()


def _check_reachable(url: str, region: str) -> None:
    try:
        emulator_session(url, region).client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise DeployError(f"no emulator answers at {url}: {error}") from None


def _supported_types_in_process() -> frozenset[str]:
    """moto's CloudFormation types, for an emulator started by an earlier command."""
    from moto.cloudformation.parsing import get_model_map

    return frozenset(get_model_map())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tail(path: Path, count: int = 25) -> str:
    lines = [
        line
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.strip() and not line.startswith("npm warn")
    ]
    return "\n".join(f"    {line}" for line in lines[-count:])


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
