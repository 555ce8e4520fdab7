"""CloudFormation's per-stack quotas, checked on the synthesized templates before any deploy.

Every training definition, endpoint and batch transform adds resources to its stage's stacks.
A stack past a quota is refused by CloudFormation only at deploy time, after the stacks before
it have changed; checking the templates at synth stops `cdk synth`, `cdk diff` and `cdk deploy`
first, with what to change. CDK itself refuses a stack of more than 500 resources during synth
(`TooManyResourcesInStack`); `cdk_quota_problems` turns that error into the same message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Quotas of one stack (AWS CloudFormation quotas page). A template above 51,200 bytes is
#: uploaded to S3 by the CDK CLI, where the limit is 1 MB.
MAX_RESOURCES = 500
MAX_OUTPUTS = 200
MAX_PARAMETERS = 200
MAX_TEMPLATE_BYTES = 1_000_000

#: CDK's own resource-count error (aws-cdk-lib core, `@aws-cdk/core:stackResourceLimit`).
CDK_RESOURCE_ERROR = re.compile(
    r"TooManyResourcesInStack: Number of resources in stack '(?P<path>[^']+)': (?P<count>\d+) "
    r"is greater than allowed maximum of (?P<limit>\d+): (?P<types>[^\n]*)"
)

#: The config section whose entries populate a stack, by stack id, for the message.
POPULATED_BY = {
    "Data": "training (register_model)",
    "Training": "training",
    "Serving": "endpoints",
    "Batch": "batch_transforms",
}


@dataclass(frozen=True)
class TemplateSize:
    """How much of the quotas one synthesized stack uses.

    Attributes:
        path: the stack's construct path, e.g. `Dev/Serving`.
        resources: resources in the template.
        outputs: outputs in the template.
        parameters: parameters in the template.
        size_bytes: size of the template file as written.
    """

    path: str
    resources: int
    outputs: int
    parameters: int
    size_bytes: int

    @classmethod
    def of(cls, path: str, template_file: Path) -> TemplateSize:
        """Measure the template `cdk synth` wrote for the stack at `path`."""
        text = template_file.read_text(encoding="utf-8")
        template = json.loads(text)
        return cls(
            path=path,
            resources=len(template.get("Resources", {})),
            outputs=len(template.get("Outputs", {})),
            parameters=len(template.get("Parameters", {})),
            size_bytes=len(text.encode("utf-8")),
        )

    def problems(self) -> list[str]:
        """One line per quota this stack exceeds, naming what to change."""
        stack_id = self.path.rsplit("/", 1)[-1]
        serving = stack_id.startswith("Serving")
        section = POPULATED_BY.get("Serving" if serving else stack_id)
        advice = (
            f"declare fewer `{section}` entries in this stage's config file"
            if section
            else "split the stack"
        )
        if serving:
            advice += ", or put some endpoints in another Serving stack (`stack: serving-2`)"
        checks = (
            ("resources", self.resources, MAX_RESOURCES),
            ("outputs", self.outputs, MAX_OUTPUTS),
            ("parameters", self.parameters, MAX_PARAMETERS),
            ("template bytes", self.size_bytes, MAX_TEMPLATE_BYTES),
        )
        return [
            f"{self.path}: {used:,} {what}, above CloudFormation's quota of {limit:,} per "
            f"stack; {advice}"
            for what, used, limit in checks
            if used > limit
        ]


def quota_problems(sizes: Iterable[TemplateSize]) -> list[str]:
    """Every quota exceeded by any of the stacks, in their order."""
    return [problem for size in sizes for problem in size.problems()]


def cdk_quota_problems(error: str) -> list[str]:
    """The quota message for CDK's `TooManyResourcesInStack` error text, or [] if it is not."""
    match = CDK_RESOURCE_ERROR.search(error)
    if match is None:
        return []
    size = TemplateSize(
        path=match["path"], resources=int(match["count"]), outputs=0, parameters=0, size_bytes=0
    )
    return [f"{problem} (by type: {match['types'].strip()})" for problem in size.problems()]
