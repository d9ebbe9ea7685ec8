"""Bad input to `auto`: one line (exit status 2) on the command line, a
`ValueError` in Python; nothing measured, nothing written.

The command's cases run in the test's process (`run_in_process`, or
`main` itself for `--backend`), refused before any measuring.
"""

import pytest
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import run_in_process

from keras_perceiver.cli import main
from keras_perceiver.performance import choosing, machine, measurement_cache

pytestmark = pytest.mark.backend_independent

TRAIN = ["train", "--dataset", "digits"]


@pytest.fixture(autouse=True)
def nothing_measured(monkeypatch, tmp_path):
    """The cache in tmp_path/cache; measuring fails the test."""
    monkeypatch.setenv(measurement_cache.CACHE_VARIABLE,
                       str(tmp_path / "cache"))

    def no_measuring(*_):
        raise AssertionError("measured bad input")

    monkeypatch.setattr(choosing, "measure", no_measuring)


@pytest.mark.parametrize("arguments, fragments", [
    ([*TRAIN, "--precision", "fp16"], ["--precision", "invalid choice"]),
    ([*TRAIN, "--compile", "maybe"], ["--compile", "invalid choice"]),
    ([*TRAIN, "--precision", "auto", "--auto-budget", "0"],
     ["--auto-budget must be a positive number of seconds, got 0.0"]),
    ([*TRAIN, "--compile", "auto", "--auto-budget", "-5"],
     ["--auto-budget must be a positive", "got -5.0"]),
    ([*TRAIN, "--precision", "auto", "--auto-budget", "nan"],
     ["--auto-budget must be a positive", "got nan"]),
    ([*TRAIN, "--precision", "auto", "--auto-budget", "soon"],
     ["--auto-budget", "invalid float value: 'soon'"]),
    ([*TRAIN, "--mixed-precision", "--precision", "float32"],
     ["--mixed-precision means --precision mixed_bfloat16",
      "conflicts with --precision float32"]),
    ([*TRAIN, "--mixed-precision", "--precision", "auto"],
     ["conflicts with --precision auto"]),
    ([*TRAIN, "--jit-compile", "--compile", "off"],
     ["--jit-compile means --compile on", "conflicts with --compile off"]),
    ([*TRAIN, "--compile", "auto", "--devices", "2"],
     ["auto measures training on one device"]),
    ([*TRAIN, "--precision", "auto", "--epochs", "0"],
     ["--epochs must be a positive integer, got 0"]),
    (["benchmark", "--dataset", "digits", "--auto-budget", "0"],
     ["--auto-budget must be a positive number"]),
    (["benchmark", "--dataset", "digits", "--batch-size", "0"],
     ["--batch-size must be a positive integer"]),
], ids=["unknown_precision", "unknown_compile", "zero_budget",
        "negative_budget", "nan_budget", "budget_not_a_number",
        "mixed_precision_and_float32", "mixed_precision_and_auto",
        "jit_compile_and_off", "auto_on_several_devices",
        "auto_with_bad_epochs", "benchmark_zero_budget",
        "benchmark_zero_batch"])
def test_bad_auto_options_are_one_line(arguments, fragments, tmp_path,
                                       monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a run would write runs/
    with unchanged(tmp_path):
        result = run_in_process(*arguments)
    assert_refused(result, *fragments)


def test_auto_without_an_installed_backend_is_one_line(monkeypatch,
                                                       tmp_path):
    monkeypatch.setattr(machine, "installed_backends", lambda: [])
    with unchanged(tmp_path):
        result = run_in_process(*TRAIN, "--precision", "auto")
    assert_refused(result, "No Keras backend is installed",
                   "pip install keras-perceiver[torch]")


def test_backend_auto_is_for_train_only(capsys, tmp_path):
    # run_in_process refuses --backend; this is refused before any backend
    # is touched.
    with unchanged(tmp_path):
        status = main.main(["--backend", "auto", "evaluate", "model.keras",
                            "--dataset", "digits"])
    assert status == 2
    line, = capsys.readouterr().err.splitlines()
    assert line.startswith("keras-perceiver: error: --backend auto")
    assert "applies to train and not to evaluate" in line


CONFIG = {"class_name": "Perceiver", "config": {}}


@pytest.mark.parametrize("arguments, fragments", [
    ({"budget_s": 0}, ["`budget_s` must be a positive", "budget_s=0"]),
    ({"budget_s": "60"}, ["budget_s='60'"]),
    ({"budget_s": float("inf")}, ["budget_s=inf"]),
    ({"batch_size": 0}, ["`batch_size` must be a positive integer"]),
    ({"precision": "bfloat16"}, ["`precision` must be one of auto, float32, "
                                 "mixed_bfloat16", "precision='bfloat16'"]),
    ({"jit_compile": "yes"}, ["`jit_compile` must be True, False or 'auto'",
                              "jit_compile='yes'"]),
    ({"backend": "theano"}, ["an installed backend", "backend='theano'"]),
], ids=["zero_budget", "budget_a_string", "infinite_budget", "zero_batch",
        "unknown_precision", "unknown_jit_compile", "unknown_backend"])
def test_bad_choose_arguments_raise_value_errors(arguments, fragments,
                                                 tmp_path):
    call = {"batch_size": 4, **arguments}
    with unchanged(tmp_path):
        assert_value_error(
            lambda: choosing.choose(CONFIG, (8, 8, 1), **call), *fragments)
