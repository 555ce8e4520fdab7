"""app.py fails synth on any unacknowledged cdk-nag finding, also under the cdk CLI."""

from __future__ import annotations

import json
from pathlib import Path

from app import unacknowledged_findings


def test_every_violating_construct_is_listed(tmp_path: Path) -> None:
    report = tmp_path / "validation-report.json"
    report.write_text(
        json.dumps(
            {
                "pluginReports": [
                    {
                        "pluginName": "HIPAA.Security",
                        "violations": [
                            {
                                "ruleName": "HIPAA.Security-S3DefaultEncryptionKMS",
                                "violatingConstructs": [
                                    {"constructPath": "Dev/Data/Buckets/Data/Resource"},
                                    {"constructPath": "Prod/Data/Buckets/Data/Resource"},
                                ],
                            }
                        ],
                    }
                ]
            }
        )
    )
    assert unacknowledged_findings(report) == [
        "HIPAA.Security-S3DefaultEncryptionKMS at Dev/Data/Buckets/Data/Resource",
        "HIPAA.Security-S3DefaultEncryptionKMS at Prod/Data/Buckets/Data/Resource",
    ]


def test_a_clean_or_missing_report_has_no_findings(tmp_path: Path) -> None:
    report = tmp_path / "validation-report.json"
    assert unacknowledged_findings(report) == []
    report.write_text(json.dumps({"pluginReports": []}))
    assert unacknowledged_findings(report) == []
