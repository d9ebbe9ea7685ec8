"""`--backend auto`, `--precision`, `--compile` and `benchmark` on the
command line, from a cache seeded with a table (nothing is measured here:
tests/performance/ measures)."""

import argparse
import json

import pytest
from command_line import ONE_BATCH, TINY_MODEL, run_in_process

from keras_perceiver.cli import auto_options, main
from keras_perceiver.performance import choosing, machine, measurement_cache
from keras_perceiver.performance.candidate import FLOOR, Candidate
from keras_perceiver.performance.measurement import Measurement

DIGITS = ["--dataset", "digits", *TINY_MODEL]
# torch float32 eager is the fastest; TensorFlow with XLA the runner-up.
TABLE = [
    Measurement(FLOOR, 3.0, 0.5, 0.05, steps_timed=20),
    Measurement(Candidate("tensorflow", "float32", True), 9.0, 6.0, 0.04,
                steps_timed=20),
    Measurement(Candidate("torch", "float32", True), note=(
        "not measured: over the budget")),
]


def seed_cache(arguments, rows=TABLE):
    """Writes `rows` as the cached table of `train arguments...`."""
    args = main.build_parser().parse_args(["train", *arguments])
    workload = auto_options.workload_of(args)
    described, versions = machine.describe(), machine.library_versions()
    measurement_cache.write_entry(
        measurement_cache.cache_path(described),
        measurement_cache.cache_key(workload, described, versions),
        {"measured_at": "2026-12-07T12:00:00", "steps_per_epoch": 21,
         "rows": rows})


@pytest.fixture(autouse=True)
def seeded_cache_only(monkeypatch, tmp_path):
    """A cache in tmp_path; measuring fails the test."""
    monkeypatch.setenv(measurement_cache.CACHE_VARIABLE, str(tmp_path))

    def no_measuring(*_):
        raise AssertionError("measured instead of reading the cache")

    monkeypatch.setattr(choosing, "measure", no_measuring)


@pytest.mark.backend_independent
def test_benchmark_prints_the_cached_table():
    seed_cache(DIGITS)
    result = run_in_process("benchmark", *DIGITS, "--epochs", 2)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["backend", "precision", "compile"]
    assert lines[1].split()[:3] + lines[1].split()[-1:] == [
        "torch", "float32", "eager", "<-"]
    assert "over the budget" in lines[3]
    assert ("auto chooses torch, float32, eager (measured 2026-12-07, "
            "cached; predicted 6 s for 42 steps, against 29 s for "
            "tensorflow, float32, XLA)") in result.stdout
    assert "machine: " in result.stdout and "From the cache" in result.stdout


@pytest.mark.slow
@pytest.mark.one_backend("torch")
def test_train_with_auto_runs_the_cached_choice(tmp_path, capsys,
                                                monkeypatch):
    arguments = [*DIGITS, *ONE_BATCH, "--epochs", "1", "--precision",
                 "auto", "--compile", "auto"]
    seed_cache(arguments)
    # What the command sets for itself comes back after the test.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    # run_in_process refuses --backend; the cached choice is this
    # process's backend, so the command does not start again.
    status = main.main(["--backend", "auto", "train", *arguments,
                        "--output-dir", str(tmp_path / "run")])
    output = capsys.readouterr()
    assert status == 0, output.err[-2000:]
    assert output.out.startswith("auto: torch, float32, eager (measured ")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["backend"], metrics["jit_compile"]) == ("torch", False)


@pytest.mark.backend_independent
@pytest.mark.parametrize("options, expected", [
    (["--precision", "mixed_bfloat16", "--compile", "on"], (True, True)),
    (["--mixed-precision", "--jit-compile"], (True, True)),
    (["--mixed-precision", "--precision", "mixed_bfloat16"], (True, False)),
    (["--precision", "float32", "--compile", "off"], (False, False)),
], ids=["new_spellings", "old_spellings", "both_agreeing", "off"])
def test_fixed_precision_and_compile_set_the_run(options, expected):
    args = main.build_parser().parse_args(["train", *DIGITS, *options])
    fixed = auto_options.fixed_values(args)
    assert (args.mixed_precision, args.jit_compile) == expected
    assert auto_options.resolve(args, []) == []  # nothing auto: no choosing
    assert fixed["precision"] == ("mixed_bfloat16" if expected[0]
                                  else "float32")


@pytest.mark.backend_independent
def test_the_resolved_values_replace_auto_for_a_restart():
    args = argparse.Namespace(backend="jax", precision="float32",
                              compile="on")
    argv = ["--backend", "auto", "train", "--precision=auto", "--compile",
            "auto", "--epochs", "auto"]
    assert auto_options.resolved_argv(argv, args) == [
        "--backend", "jax", "train", "--precision=float32", "--compile",
        "on", "--epochs", "auto"]
