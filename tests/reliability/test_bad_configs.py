"""Bad environment files stop `cdk synth` with one located message: no traceback, no assembly.

Each case copies config/ to a temporary folder, changes one thing in one file and runs the app
as `cdk synth -c config_dir=<copy>` runs it (see conftest.py: cdk.json's app command, in its own
process, with the environment the pinned CLI gives it). A few cases also go through the real
`npx cdk synth`. Every case must end with exit status 2, print exactly
`Configuration error:\\n<message>\\n` on stderr and nothing on stdout, and leave the output folder
empty, so that no template or manifest exists for a deploy to pick up.

Messages are exact. In them `{file}` is the changed file's path; `{line}` the number of the first
line containing `at` from the change onwards; `{text}` the rest of that line after `at`; `{byte}`
the offset of `at` in the written file; `{column}` the column of `at` in its line; `{before}` the
number of the nearest line containing `before` above the `at` line (above the change when there
is no `at`); `{after}` the number of the first line containing `after` below the `at` line.
Computing them from the committed files keeps the cases valid when someone edits those files
elsewhere.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from config import ENVIRONMENTS, ConfigError, StageConfig, load_stage_config
from tests.config.mutations import Mutation, mutate
from tests.conftest import REPO_ROOT, cdk_cli, meaningful_lines

from .conftest import AppRunner

CONFIG = REPO_ROOT / "config"
ENVIRONMENT_FILES = ("dev.yaml", "prod.yaml")
EXIT_CONFIGURATION_ERROR = 2  # app.py's status for a configuration error
APP_COMMAND = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))["app"]

P2_MESSAGE = (
    "ml.p2.xlarge (NVIDIA K80) cannot be used: CUDA 12 removed the K80 (sm_37) and current "
    "PyTorch and TensorFlow containers refuse it. Use a supported GPU family: ml.g4dn, ml.g5, "
    "ml.g6, ml.p4d or ml.p5"
)
TRAINING_FAMILIES = (
    "ml.c4, ml.c5, ml.c5n, ml.c6i, ml.c7i, ml.c7i-flex, ml.c8i, ml.c8i-flex, ml.g4dn, ml.g5, "
    "ml.g6, ml.g6e, ml.g7, ml.g7e, ml.m4, ml.m5, ml.m6i, ml.m7i, ml.m7i-flex, ml.m8i, "
    "ml.m8i-flex, ml.p2, ml.p3, ml.p3dn, ml.p4d, ml.p4de, ml.p5, ml.p5e, ml.p5en, ml.p6-b200, "
    "ml.p6-b300, ml.p6e-gb200, ml.r5, ml.r5d, ml.r6i, ml.r7i, ml.r8i, ml.r8i-flex, ml.t3, "
    "ml.trn1, ml.trn1n, ml.trn2"
)
#: The top-level settings of an environment file, as an unknown key's message lists them.
TOP_LEVEL_SETTINGS = ", ".join(StageConfig.model_fields)
#: Nine lines of YAML whose aliases expand to 10**8 list items (a "billion laughs" file).
ALIAS_BOMB = "laughs:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]\n" for level in range(1, 8)
)


@dataclass(frozen=True)
class BadConfig:
    """One change to one committed environment file, and the message synth must give."""

    id: str
    file: str
    old: str
    """Text of the committed file to replace; it must occur exactly once."""
    new: str | None
    """Its replacement; None removes the whole file."""
    message: str
    at: str = ""
    before: str = ""
    after: str = ""
    encoding: str = "utf-8"
    """How the changed file is written (latin-1 makes a file that is not UTF-8)."""
    timeout: float = 120

    def apply(self, config_dir: Path) -> Path:
        """Copy the committed files into `config_dir` with this change; return the changed file."""
        config_dir.mkdir()
        for name in ENVIRONMENT_FILES:
            shutil.copy(CONFIG / name, config_dir / name)
        path = config_dir / self.file
        if self.new is None:
            path.unlink()
            return path
        text = path.read_text(encoding="utf-8")
        assert text.count(self.old) == 1, (
            f"{self.id}: {self.old!r} is not once in config/{self.file}"
        )
        path.write_text(text.replace(self.old, self.new), encoding=self.encoding)
        return path

    def expected(self, path: Path) -> str:
        """The message with the placeholders filled in (see the module's docstring)."""
        message = self.message.replace("{file}", str(path))
        if self.new is None:
            return message
        original = (CONFIG / self.file).read_text(encoding="utf-8")
        changed = original.replace(self.old, self.new)
        start = original.index(self.old)
        at = changed.index(self.at, start) if self.at else start
        end_of_line = changed.find("\n", at)
        values = {
            "{line}": str(_line(changed, at)),
            "{text}": changed[at + len(self.at) : end_of_line].strip(),
            "{byte}": str(len(changed[:at].encode(self.encoding))),
            "{column}": str(at - changed.rfind("\n", 0, at)),
        }
        if self.before:
            values["{before}"] = str(_line(changed, changed.rindex(self.before, 0, at)))
        if self.after:
            values["{after}"] = str(_line(changed, changed.index(self.after, end_of_line)))
        for placeholder, value in values.items():
            message = message.replace(placeholder, value)
        return message


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


CASES = [
    # YAML itself: every syntax error names the line; nothing executes or hangs.
    BadConfig(
        "yaml-tab-indentation",
        "dev.yaml",
        "  project: sagemaker-iac",
        "\tproject: sagemaker-iac",
        "{file}:{line}: YAML syntax error: a tab character: YAML indents with spaces only (the "
        "parser said: found character '\\t' that cannot start any token)",
        at="\tproject",
    ),
    BadConfig(
        "yaml-unclosed-bracket",
        "dev.yaml",
        "region: us-east-1\n",
        "region: [us-east-1\n",
        "{file}:{line}: YAML syntax error: the '[' opened here is not closed with ']' (the parser "
        "said: expected ',' or ']', but got ':')",
        at="region: [",  # not where the parser noticed, two lines down
    ),
    BadConfig(
        "yaml-unclosed-double-quote-far-from-the-next",
        "dev.yaml",
        'account: "123456789012"',
        'account: "123456789012',
        '{file}:{line}: YAML syntax error: the " opened here is not closed on this line, so the '
        'value runs on to the next " (line {after}); close the quote',
        at="account:",
        after='"',
    ),
    BadConfig(
        "yaml-key-without-colon",
        "dev.yaml",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge',
        'version: "2.10.0"\n    code: script\n    instance_type ml.m5.xlarge',
        "{file}:{line}: YAML syntax error: this key has no ':' after it; write it as `key: value` "
        "(the parser said: could not find expected ':')",
        at="instance_type ml",
    ),
    BadConfig(
        "yaml-unquoted-template-placeholder",
        "dev.yaml",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge',
        'version: "2.10.0"\n    code: script\n    instance_type: {{ instance_type }}',
        "{file}:{line}: training.churn-pytorch.instance_type: YAML reads '{{' as a mapping inside "
        'a mapping: quote a template placeholder, e.g. "{{ value }}"',
        at="instance_type: {{",
    ),
    BadConfig(
        "yaml-unclosed-quote",
        "dev.yaml",
        "region: us-east-1\n",
        "region: 'us-east-1\n",
        "{file}:{line}: YAML syntax error: found unexpected end of stream (while scanning a quoted "
        "scalar that starts here)",
        at="region: 'us-east-1",
    ),
    BadConfig(
        "yaml-second-document",
        "dev.yaml",
        "region: us-east-1\n",
        "region: us-east-1\n---\n",
        "{file}:{line}: YAML syntax error: expected a single document in the stream, but found "
        "another document",
        at="---",
    ),
    BadConfig(
        "yaml-python-object-tag",
        "dev.yaml",
        "region: us-east-1\n",
        "region: !!python/object/apply:os.system [echo unsafe]\n",
        "{file}:{line}: YAML syntax error: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
        at="region:",
    ),
    BadConfig(
        "yaml-control-character",
        "dev.yaml",
        "region: us-east-1\n",
        "region: us-east-1  # \x07\n",
        "{file}:{line}: YAML syntax error: unacceptable character #x0007 (column 22): control "
        "characters are not allowed; remove it",
        at="region: us-east-1  #",
    ),
    BadConfig(
        "file-not-utf8",
        "dev.yaml",
        "region: us-east-1\n",
        "region: us-east-1  # Z\u00fcrich\n",
        "{file}:{line}: not UTF-8 text: byte 0xfc at column {column} (the file was saved in "
        "another encoding, such as Latin-1 or Windows-1252); save it as UTF-8",
        at="\u00fc",
        encoding="latin-1",
    ),
    BadConfig(
        "yaml-alias-expansion",
        "dev.yaml",
        "\nproduction: false\n",
        "\nproduction: false\n" + ALIAS_BOMB,
        "{file}:{line}: laughs: unknown setting 'laughs'; did you mean 'tags'?",
        at="laughs:",
        timeout=60,  # before aliases were walked once, this file took hours and gigabytes
    ),
    BadConfig(
        "prod-file-missing",
        "prod.yaml",
        "",
        None,
        "{file}: file not found",
    ),
    # Shape: unknown keys, types, required settings, patterns, ranges.
    BadConfig(
        "unknown-top-level-key",
        "dev.yaml",
        "\nproduction: false\n",
        "\nproduction: false\nencryption: true\n",
        "{file}:{line}: encryption: unknown setting 'encryption'; allowed here: "
        f"{TOP_LEVEL_SETTINGS}",
        at="encryption:",
    ),
    BadConfig(
        "misspelled-top-level-key",
        "dev.yaml",
        "termination_protection: false",
        "termination_protecton: false",
        "{file}:{line}: termination_protecton: unknown setting 'termination_protecton'; did you "
        "mean 'termination_protection'?",
        at="termination_protecton:",
    ),
    BadConfig(
        "wrong-type-text-for-number",
        "dev.yaml",
        "memory_size_mb: 2048\n      max_concurrency: 5",
        'memory_size_mb: 2048\n      max_concurrency: "five"',
        "{file}:{line}: endpoints.churn-pytorch.serverless.max_concurrency: Input should be a "
        "valid integer (got 'five')",
        at="max_concurrency:",
    ),
    BadConfig(
        "wrong-type-text-for-boolean",
        "dev.yaml",
        "production: false",
        'production: "no"',
        "{file}:{line}: production: Input should be a valid boolean (got 'no')",
        at="production:",
    ),
    BadConfig(
        "missing-account",
        "dev.yaml",
        'account: "123456789012"\n',
        "",
        "{file}: account: required setting is missing",
    ),
    BadConfig(
        "missing-region",
        "dev.yaml",
        "region: us-east-1\n",
        "",
        "{file}: region: required setting is missing",
    ),
    BadConfig(
        "account-eleven-digits",
        "dev.yaml",
        'account: "123456789012"',
        'account: "12345678901"',
        "{file}:{line}: account: must be a 12-digit AWS account id, quoted so YAML keeps it a "
        "string; got '12345678901'",
        at="account:",
    ),
    BadConfig(
        "account-unquoted",
        "dev.yaml",
        'account: "123456789012"',
        "account: 123456789012",
        '{file}:{line}: account: must be text: quote it, e.g. "123456789012" (got 123456789012)',
        at="account:",
    ),
    BadConfig(
        "data-capture-over-100-percent",
        "dev.yaml",
        "data_capture_percent: 100",
        "data_capture_percent: 101",
        "{file}:{line}: endpoints.churn-xgboost.data_capture_percent: Input should be less than "
        "or equal to 100 (got 101)",
        at="data_capture_percent:",
    ),
    BadConfig(
        "framework-not-allowed",
        "dev.yaml",
        "    framework: pytorch\n    version",
        "    framework: jax\n    version",
        "{file}:{line}: training.churn-pytorch.framework: Input should be 'pytorch' or "
        "'tensorflow' (got 'jax')",
        at="framework:",
    ),
    BadConfig(
        "schedule-not-an-expression",
        "dev.yaml",
        "        content_type: text/csv\n    register_model: true\n",
        "        content_type: text/csv\n    register_model: true\n    schedule: every monday\n",
        "{file}:{line}: training.churn-xgboost.schedule: must be an EventBridge schedule, "
        "rate(...) or cron(...), e.g. rate(1 day), rate(12 hours), cron(0 3 ? * MON *) (got "
        "'every monday')",
        at="schedule:",
    ),
    # Training definitions against the algorithm catalog and the SDK.
    BadConfig(
        "unknown-algorithm",
        "dev.yaml",
        '    algorithm: xgboost\n    version: "1.7-1"',
        '    algorithm: xgbost\n    version: "1.7-1"',
        "{file}:{line}: training.churn-xgboost.algorithm: unknown built-in algorithm 'xgbost'; "
        "did you mean 'xgboost'?",
        at="algorithm:",
    ),
    BadConfig(
        "misspelled-hyperparameter",
        "dev.yaml",
        "num_round: 50",
        "num_rounds: 50",
        "{file}:{line}: training.churn-xgboost.hyperparameters.num_rounds: xgboost has no "
        "hyperparameter 'num_rounds'; did you mean 'num_round'?",
        at="num_rounds:",
    ),
    BadConfig(
        "missing-required-hyperparameter",
        "dev.yaml",
        "      predictor_type: binary_classifier\n",
        "",
        "{file}:{before}: training.churn-linear-learner.hyperparameters.predictor_type: "
        "linear-learner requires hyperparameter 'predictor_type' (one of 'binary_classifier', "
        "'multiclass_classifier', 'regressor')",
        before="hyperparameters:",
    ),
    BadConfig(
        "hyperparameter-out-of-range",
        "dev.yaml",
        "eta: 0.2",
        "eta: 1.5",
        "{file}:{line}: training.churn-xgboost.hyperparameters.eta: xgboost hyperparameter 'eta' "
        "must be a number in [0, 1]; got 1.5",
        at="eta:",
    ),
    BadConfig(
        "p2-for-pytorch-in-dev",
        "dev.yaml",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge',
        'version: "2.10.0"\n    code: script\n    instance_type: ml.p2.xlarge',
        f"{{file}}:{{line}}: training.churn-pytorch.instance_type: {P2_MESSAGE}",
        at="instance_type:",
    ),
    BadConfig(
        "p2-for-pytorch-in-prod",
        "prod.yaml",
        'version: "2.10.0"\n    code: image\n    instance_type: ml.g5.xlarge',
        'version: "2.10.0"\n    code: image\n    instance_type: ml.p2.xlarge',
        f"{{file}}:{{line}}: training.churn-pytorch.instance_type: {P2_MESSAGE}",
        at="instance_type:",
    ),
    BadConfig(
        "instance-type-does-not-exist",
        "dev.yaml",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge',
        'version: "2.10.0"\n    code: script\n    instance_type: ml.z9.large',
        "{file}:{line}: training.churn-pytorch.instance_type: ml.z9.large is not a SageMaker "
        "training instance type; valid names are ml.<family>.<size> with one of the families "
        f"{TRAINING_FAMILIES}",
        at="instance_type:",
    ),
    BadConfig(
        "training-instance-count-zero",
        "dev.yaml",
        "    hyperparameters:\n      feature_dim: 4",
        "    instance_count: 0\n    hyperparameters:\n      feature_dim: 4",
        "{file}:{line}: training.traffic-anomalies.instance_count: Input should be greater than "
        "or equal to 1 (got 0)",
        at="instance_count:",
    ),
    BadConfig(
        "spot-wait-below-runtime",
        "dev.yaml",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge\n'
        "    max_runtime_minutes: 30\n    spot:\n      max_wait_minutes: 60",
        'version: "2.10.0"\n    code: script\n    instance_type: ml.m5.xlarge\n'
        "    max_runtime_minutes: 30\n    spot:\n      max_wait_minutes: 20",
        "{file}:{line}: training.churn-pytorch.spot.max_wait_minutes: must be at least "
        "max_runtime_minutes (30)",
        at="max_wait_minutes:",
    ),
    # Duplicate names: YAML would silently keep the last one; the loader refuses them.
    BadConfig(
        "duplicate-training-name",
        "dev.yaml",
        "  churn-xgboost:\n    algorithm: xgboost",
        "  churn-linear-learner:\n    algorithm: xgboost",
        "{file}:{line}: training.churn-linear-learner: duplicate key (first written on line "
        "{before}); each key may appear once",
        at="churn-linear-learner:",
        before="churn-linear-learner:",
    ),
    BadConfig(
        "duplicate-endpoint-name",
        "dev.yaml",
        "  churn-pytorch:\n    model:",
        "  churn-xgboost:\n    model:",
        "{file}:{line}: endpoints.churn-xgboost: duplicate key (first written on line {before}); "
        "each key may appear once",
        at="churn-xgboost:",
        before="churn-xgboost:",
    ),
    BadConfig(
        "duplicate-top-level-key",
        "dev.yaml",
        "\nregion: us-east-1\n",
        "\nregion: us-east-1\nregion: eu-west-1\n",
        "{file}:{line}: region: duplicate key (first written on line {before}); each key may "
        "appear once",
        at="region: eu-west-1",
        before="region: us-east-1",
    ),
    BadConfig(
        "misspelled-required-key",
        "dev.yaml",
        "      max_wait_minutes: 60\n    hyperparameters:\n      predictor_type",
        "      max_wait_minute: 60\n    hyperparameters:\n      predictor_type",
        "{file}:{line}: training.churn-linear-learner.spot.max_wait_minute: unknown setting "
        "'max_wait_minute'; did you mean 'max_wait_minutes'?",
        at="max_wait_minute:",
    ),
    BadConfig(
        "name-with-trailing-hyphen",
        "dev.yaml",
        "  churn-xgboost:\n    algorithm: xgboost",
        "  churn-xgboost-:\n    algorithm: xgboost",
        "{file}:{line}: training.churn-xgboost-: this name must be lower-case letters, digits and "
        "'-', starting with a letter and ending with a letter or digit, at most 23 characters: "
        "it prefixes job, model and model package group names; got 'churn-xgboost-'",
        at="churn-xgboost-:",
    ),
    BadConfig(
        "schedule-five-field-unix-cron",
        "prod.yaml",
        "schedule: cron(0 3 ? * MON *)",
        "schedule: cron(0 3 * * 1)",
        "{file}:{line}: training.churn-xgboost.schedule: an EventBridge cron has six fields "
        "(minutes hours day-of-month month day-of-week year), got 5 in 'cron(0 3 * * 1)'; as "
        "EventBridge writes it: cron(0 3 ? * MON *) (days of the week are 1-7 from Sunday, or "
        "SUN-SAT)",
        at="schedule:",
    ),
    BadConfig(
        "schedule-both-days-given",
        "prod.yaml",
        "schedule: cron(0 3 ? * MON *)",
        "schedule: cron(0 3 * * MON *)",
        "{file}:{line}: training.churn-xgboost.schedule: exactly one of day-of-month (3rd field) "
        "and day-of-week (5th field) must be '?', e.g. cron(0 3 ? * MON *) or cron(0 3 1 * ? *) "
        "(got 'cron(0 3 * * MON *)')",
        at="schedule:",
    ),
    BadConfig(
        "schedule-rate-plural",
        "prod.yaml",
        "schedule: cron(0 3 ? * MON *)",
        "schedule: rate(1 days)",
        "{file}:{line}: training.churn-xgboost.schedule: EventBridge wants rate(1 day) (got "
        "'rate(1 days)')",
        at="schedule:",
    ),
    BadConfig(
        "spot-wait-without-checkpoints-in-minutes",
        "dev.yaml",
        "    max_runtime_minutes: 30\n    hyperparameters:\n      feature_dim: 4",
        "    max_runtime_minutes: 30\n    spot:\n      max_wait_minutes: 90\n    hyperparameters:"
        "\n      feature_dim: 4",
        "{file}:{line}: training.traffic-anomalies.spot.max_wait_minutes: random-cut-forest does "
        "not checkpoint, so managed spot training allows a maximum wait of 60 minutes; got 90",
        at="max_wait_minutes: 90",
    ),
    BadConfig(
        "tag-key-reserved-by-aws",
        "dev.yaml",
        "  project: sagemaker-iac",
        "  aws:project: sagemaker-iac",
        "{file}:{line}: tags.aws:project: this name is reserved: tag keys starting with 'aws:' "
        "belong to AWS; choose another prefix",
        at="aws:project",
    ),
    BadConfig(
        "prod-file-not-a-production-stage",
        "prod.yaml",
        "\nproduction: true",
        "\nproduction: false",
        "{file}:{line}: production: this file is deployed as the Prod stage, which must set "
        "production: true (termination protection, RETAIN, no auto-delete)",
        at="production: false",
    ),
    # Endpoints.
    BadConfig(
        "canary-larger-than-sagemaker-allows",
        "prod.yaml",
        "model_latency_ms: 300\n    deployment:\n      traffic_shifting: canary\n      percent: 10",
        "model_latency_ms: 300\n    deployment:\n      traffic_shifting: canary\n      percent: 60",
        "{file}:{line}: endpoints.churn-xgboost.deployment.percent: a canary percent must be 1 to "
        "50 (got 60)",
        at="percent:",
    ),
    BadConfig(
        "model-package-from-another-region",
        "prod.yaml",
        "sagemaker:us-east-1:210987654321:model-package/Prod-Data-churn-xgboost/3\n    instance_",
        "sagemaker:eu-west-1:210987654321:model-package/Prod-Data-churn-xgboost/3\n    instance_",
        "{file}:{line}: endpoints.churn-xgboost.model.model_package_arn: the model package is in "
        "eu-west-1 but this model is in us-east-1: SageMaker serves a model package only in its "
        "own region; register the model in us-east-1",
        at="sagemaker:eu-west-1",
    ),
    BadConfig(
        "builtin-image-on-graviton",
        "dev.yaml",
        "    instance_type: ml.m5.large\n    instance_count: 1\n    data",
        "    instance_type: ml.c7g.large\n    instance_count: 1\n    data",
        "{file}:{line}: endpoints.churn-xgboost.instance_type: the xgboost image is x86_64 and "
        "cannot run on ml.c7g.large (Graviton, arm64); choose an x86 instance such as "
        "ml.m5.large",
        at="instance_type: ml.c7g",
    ),
    BadConfig(
        "monitoring-instance-type-does-not-exist",
        "dev.yaml",
        "    monitoring:\n      instance_type: ml.m5.large",
        "    monitoring:\n      instance_type: ml.m5.huge",
        "{file}:{line}: endpoints.churn-xgboost.monitoring.instance_type: ml.m5.huge is not a "
        "SageMaker processing instance type; ml.m5 sizes are large, xlarge, 2xlarge, 4xlarge, "
        "12xlarge, 24xlarge",
        at="instance_type: ml.m5.huge",
    ),
    BadConfig(
        "monitoring-alarm-metric-not-published",
        "dev.yaml",
        "          metric: auc",
        "          metric: aucc",
        "{file}:{line}: endpoints.churn-xgboost.monitoring.model_quality.alarm.metric: metric "
        "must be one of accuracy, auc, f0_5, f1, f2, false_negative_rate, false_positive_rate, "
        "precision, recall, true_negative_rate, true_positive_rate for BinaryClassification "
        "(got 'aucc')",
        at="metric:",
    ),
    BadConfig(
        "artifact-not-an-s3-uri",
        "dev.yaml",
        "  # The artifact a `make train NAME=churn-xgboost` run printed (key in the artifacts "
        "bucket).\n      artifact: models/churn-xgboost/",
        "  # The artifact a `make train NAME=churn-xgboost` run printed (key in the artifacts "
        "bucket).\n      artifact: s3:/churn-models/churn-xgboost/",
        "{file}:{line}: endpoints.churn-xgboost.model.artifact: must be s3://bucket/key.tar.gz, "
        "or a key in the stage's artifacts bucket (models/<definition>/<job>/output/model.tar.gz);"
        " got '{text}'",
        at="artifact: ",
    ),
    BadConfig(
        "autoscaling-min-above-max",
        "prod.yaml",
        "min_instances: 2\n      max_instances: 6",
        "min_instances: 8\n      max_instances: 6",
        "{file}:{line}: endpoints.churn-xgboost.autoscaling.min_instances: must not exceed "
        "max_instances (6)",
        at="min_instances:",
    ),
    BadConfig(
        "endpoint-instance-count-zero",
        "prod.yaml",
        "instance_count: 2\n    autoscaling:\n      min_instances: 2\n      max_instances: 6",
        "instance_count: 0\n    autoscaling:\n      min_instances: 2\n      max_instances: 6",
        "{file}:{line}: endpoints.churn-xgboost.instance_count: Input should be greater than or "
        "equal to 1 (got 0)",
        at="instance_count:",
    ),
    BadConfig(
        "serverless-with-instance-type",
        "dev.yaml",
        "    serverless:\n      memory_size_mb: 2048\n",
        "    instance_type: ml.m5.large\n    serverless:\n      memory_size_mb: 2048\n",
        "{file}:{line}: endpoints.churn-pytorch.serverless: cannot be combined with "
        "instance_type: serverless endpoints have no instances to choose or scale, no data "
        "capture (so nothing to monitor) and no deployment guardrails",
        at="serverless:",
    ),
    # Production keeps its data.
    BadConfig(
        "prod-without-termination-protection",
        "prod.yaml",
        "termination_protection: true",
        "termination_protection: false",
        "{file}:{line}: termination_protection: a production stage must set it to true",
        at="termination_protection:",
    ),
    BadConfig(
        "prod-removal-policy-destroy",
        "prod.yaml",
        "removal_policy: retain",
        "removal_policy: destroy",
        "{file}:{line}: removal_policy: a production stage must use 'retain'",
        at="removal_policy:",
    ),
    BadConfig(
        "prod-auto-delete-objects",
        "prod.yaml",
        "auto_delete_objects: false",
        "auto_delete_objects: true",
        "{file}:{line}: auto_delete_objects: a production stage must leave it false",
        at="auto_delete_objects:",
    ),
]
CASES_BY_ID = {case.id: case for case in CASES}
#: Through the real `npx cdk synth` too: one YAML, one catalog and one production rule.
CLI_CASES = (
    "yaml-tab-indentation",
    "p2-for-pytorch-in-prod",
    "prod-without-termination-protection",
)


def test_the_table_covers_enough_distinct_inputs() -> None:
    assert len(CASES) >= 30
    assert len(CASES_BY_ID) == len(CASES), "case ids must be unique"
    assert {case.file for case in CASES} == set(ENVIRONMENT_FILES)


@pytest.mark.parametrize("case", CASES, ids=list(CASES_BY_ID))
def test_bad_config_stops_synth_with_one_located_message(
    case: BadConfig, cli_app_environment: AppRunner, tmp_path: Path
) -> None:
    path = case.apply(tmp_path / "config")
    outdir = tmp_path / "cdk.out"

    result = cli_app_environment.synth(path.parent, outdir, timeout=case.timeout)

    assert result.returncode == EXIT_CONFIGURATION_ERROR, result.stderr[-3000:]
    assert result.stdout == ""
    assert result.stderr == f"Configuration error:\n{case.expected(path)}\n"
    assert sorted(outdir.rglob("*")) == [], "synth left files a deploy could pick up"


@pytest.mark.parametrize("case", [CASES_BY_ID[name] for name in CLI_CASES], ids=CLI_CASES)
def test_bad_config_through_the_cdk_cli(case: BadConfig, tmp_path: Path) -> None:
    path = case.apply(tmp_path / "config")
    outdir = tmp_path / "cdk.out"

    result = cdk_cli("synth", "--quiet", "-c", f"config_dir={path.parent}", "--output", str(outdir))

    assert result.returncode != 0
    assert meaningful_lines(result.stdout) == []
    assert meaningful_lines(result.stderr) == [
        "Configuration error:",
        case.expected(path),
        f"{APP_COMMAND}: Subprocess exited with error {EXIT_CONFIGURATION_ERROR}",
    ]
    assert not [p for p in outdir.rglob("*") if p.is_file()], "synth left files in the output"


#: Generated mistakes (tests/config/test_mutations.py tries thousands in-process) through the
#: app as `cdk synth` runs it: the app prints exactly what the loader says, nothing else.
APP_MUTATIONS = {
    "misspelled-section": ("dev", Mutation("rename-key", 40, 2)),
    "mapping-for-a-value": ("prod", Mutation("change-type", 60, 13)),
    "unclosed-quote": ("dev", Mutation("break-yaml", 100, 2)),
    "deleted-block": ("dev", Mutation("delete-block", 70, 0)),
    "duplicated-key": ("prod", Mutation("duplicate", 30, 0)),
}


@pytest.mark.parametrize(
    ("name", "mutation"), list(APP_MUTATIONS.values()), ids=list(APP_MUTATIONS)
)
def test_generated_mistake_through_the_app(
    name: str, mutation: Mutation, cli_app_environment: AppRunner, tmp_path: Path
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for file in ENVIRONMENT_FILES:
        shutil.copy(CONFIG / file, config_dir / file)
    path = config_dir / f"{name}.yaml"
    changed = mutate(path.read_text(encoding="utf-8"), mutation)
    assert isinstance(changed, str)
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_stage_config(path, stage_id=ENVIRONMENTS[name])
    outdir = tmp_path / "cdk.out"

    result = cli_app_environment.synth(config_dir, outdir)

    assert result.returncode == EXIT_CONFIGURATION_ERROR, result.stderr[-3000:]
    assert result.stdout == ""
    assert result.stderr == f"Configuration error:\n{raised.value}\n"
    assert "\n" not in str(raised.value)
    assert sorted(outdir.rglob("*")) == [], "synth left files a deploy could pick up"
