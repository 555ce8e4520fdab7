"""The failure file carries the reason; metric lines have one stable format."""

from __future__ import annotations

from pathlib import Path

import pytest
from sagemaker_contract.errors import ContractError
from sagemaker_contract.failure import run_reporting_failures
from sagemaker_contract.metrics import format_metrics, report_epoch


def test_a_user_error_is_written_as_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def main() -> None:
        raise ContractError("train.csv: row 3, column 2: 'x' is not a number")

    assert run_reporting_failures(main, {"SM_OUTPUT_DIR": str(tmp_path)}) == 1
    failure = (tmp_path / "failure").read_text()
    assert failure == "train.csv: row 3, column 2: 'x' is not a number\n"
    assert capsys.readouterr().err.endswith(failure)


def test_an_unexpected_error_leads_with_type_and_message_then_the_traceback(tmp_path: Path) -> None:
    def main() -> None:
        raise KeyError("weights")

    assert run_reporting_failures(main, {"SAGEMAKER_BASE_DIR": str(tmp_path)}) == 1
    first, _, rest = (tmp_path / "output" / "failure").read_text().partition("\n")
    assert first == "unexpected error: KeyError: 'weights'"
    assert "Traceback (most recent call last)" in rest


class ResourceExhaustedError(Exception):
    """Named as TensorFlow's error of every failed allocation (tensorflow is not imported here)."""


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (MemoryError(), "(MemoryError: )"),
        (
            RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8"),
            "(RuntimeError: DefaultCPUAllocator: can't allocate memory: you tried to allocate 8)",
        ),
        (
            ResourceExhaustedError("OOM when allocating tensor\n with shape[8,10]"),
            "(ResourceExhaustedError: OOM when allocating tensor with shape[8,10])",
        ),
    ],
    ids=["python", "pytorch-cpu", "tensorflow"],
)
def test_running_out_of_memory_says_what_to_change_then_the_detail(
    tmp_path: Path, error: Exception, detail: str
) -> None:
    def main() -> None:
        raise error

    assert run_reporting_failures(main, {"SM_OUTPUT_DIR": str(tmp_path)}) == 1
    first, _, rest = (tmp_path / "failure").read_text().partition("\n")
    assert first == (
        "out of memory: lower hidden_sizes or batch_size, or choose an instance type with more "
        f"memory {detail}"
    )
    assert "Traceback (most recent call last)" in rest


def test_other_runtime_errors_stay_unexpected(tmp_path: Path) -> None:
    def main() -> None:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    assert run_reporting_failures(main, {"SM_OUTPUT_DIR": str(tmp_path)}) == 1
    first = (tmp_path / "failure").read_text().splitlines()[0]
    assert first == "unexpected error: RuntimeError: mat1 and mat2 shapes cannot be multiplied"


def test_success_clears_a_stale_failure_file(tmp_path: Path) -> None:
    (tmp_path / "failure").write_text("from an earlier run")
    assert run_reporting_failures(lambda: None, {"SM_OUTPUT_DIR": str(tmp_path)}) == 0
    assert not (tmp_path / "failure").exists()


def test_metric_line_format() -> None:
    line = format_metrics(3, {"validation_loss": 0.25, "train_loss": 1.5e-7, "train_accuracy": 1.0})
    assert line == "metric epoch=3 train_loss=1.5e-07 train_accuracy=1 validation_loss=0.25"
    with pytest.raises(ValueError, match=r"not a declared metric: \['loss'\]"):
        format_metrics(1, {"loss": 1.0})


def test_a_diverged_loss_fails_the_job_after_printing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ContractError) as error:
        report_epoch(2, {"train_loss": float("nan")}, learning_rate=10.0)
    assert str(error.value) == (
        "training diverged: train_loss is nan at epoch 2; lower learning_rate (now 10) or check "
        "the data for extreme values"
    )
    assert capsys.readouterr().out == "metric epoch=2 train_loss=nan\n"
