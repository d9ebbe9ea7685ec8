"""benchmarks/gpu: the GPU script's smoke run, its refusals, the wheel check.

`bash benchmarks/gpu/run.sh --smoke` runs every stage of the GPU check on
the CPU at tiny sizes, so that the script cannot rot while no GPU runs it.
The script is bash and starts a Python process per stage and backend, so
these tests run it in a subprocess.
"""

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bad_input import unchanged

from benchmarks.gpu import check_wheels

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "gpu" / "results"
BACKENDS = ("torch", "jax")
# The script starts its own processes, each with its own backend, so the
# test process's backend does not matter: JAX's process runs it, not
# torch's, which runs every backend-independent test (tests/conftest.py)
# and would otherwise end last in CI.
pytestmark = pytest.mark.one_backend("jax")


def run_script(*arguments, **env):
    return subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu" / "run.sh"), *arguments],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
        env={**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT),
             **env})


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke run's results JSON (the run must succeed)."""
    out = tmp_path_factory.mktemp("gpu_smoke")
    with unchanged(RESULTS):
        result = run_script("--smoke", "--out", str(out))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    [found] = out.glob("cpu-*.json")
    assert found.with_suffix(".md").exists()
    return json.loads(found.read_text())


@pytest.mark.slow
def test_smoke_run_has_every_stage_without_errors(smoke):
    errors = {(stage, name): result["error"]
              for stage, by_name in smoke["stages"].items()
              for name, result in by_name.items() if "error" in result}
    assert not errors
    assert smoke["smoke"] and smoke["versions"]["keras"]
    assert len(smoke["targets"]) == 4


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_smoke_run_compares_devices_and_chunks(smoke, backend):
    result = smoke["stages"]["correctness"][backend]
    rows = result["comparisons"]
    assert {(r["case"], r["variant"], r["against"]) for r in rows} == {
        (case, variant, "cpu") for case in ("small", "small_masked")
        for variant in ("whole", "chunked")} | {
        (case, "chunked", "whole on the same device")
        for case in ("small", "small_masked")}
    for row in rows:
        assert max(row["logits"], row["loss"], row["update"]) <= 1e-3, row
    assert result["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_smoke_run_names_the_attention_kernels(smoke, backend):
    cases = smoke["stages"]["kernels"][backend]["cases"]
    assert len(cases) == 12  # 4 cases x 3 dtypes
    for case in cases:
        assert case["names"], case
        assert case["kernel"] in ("flash", "cudnn", "efficient", "math")


@pytest.mark.slow
def test_smoke_run_measures_training_speed(smoke):
    throughput = smoke["stages"]["throughput"]
    for backend in BACKENDS:
        best = throughput[backend]["best"]
        assert best["images_per_s"] > 0 and best["params"] > 0
        assert best["peak_memory"]["bytes"] > 0
    reference = throughput["perceiver_pytorch"]
    if importlib.util.find_spec("perceiver_pytorch") is None:
        assert reference["skipped"] == "perceiver-pytorch is not installed"
    else:
        assert reference["best"]["images_per_s"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_smoke_run_measures_large_inputs(smoke, backend):
    result = smoke["stages"]["large_inputs"][backend]
    points = result["points"]
    assert [p["num_inputs"] for p in points] == result["config"][
        "input_sizes"]
    for point in points:
        assert point["step_s"] > 0 and point["peak_memory"]["bytes"] > 0


def one_error_line(result):
    """run.sh's one `run.sh: error:` line (exit status 2)."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("run.sh: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, (
        result.stderr)
    return lines[0]


@pytest.mark.parametrize("arguments, message", [
    (["--fast"], "unknown argument '--fast'"),
    (["--smoke", "--out"], "--out needs a folder"),
])
def test_run_refuses_bad_arguments(arguments, message):
    with unchanged(RESULTS):
        assert message in one_error_line(run_script(*arguments))


def test_run_refuses_a_missing_wheel_folder(tmp_path):
    with unchanged(RESULTS):
        line = one_error_line(run_script(
            GPU_BENCH_WHEELS=str(tmp_path / "none")))
    assert "run 'bash benchmarks/gpu/prepare.sh' first" in line


def test_run_refuses_wheels_built_from_other_source(tmp_path):
    (tmp_path / "SOURCE_SHA256").write_text("0\n")
    with unchanged(RESULTS, tmp_path):
        line = one_error_line(run_script(GPU_BENCH_WHEELS=str(tmp_path)))
    assert "built from other source" in line


def fake_wheel(folder, name, *requirements):
    path = folder / f"{name}-1.0-py3-none-any.whl"
    metadata = "".join(f"Requires-Dist: {r}\n" for r in requirements)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", metadata)
    return path


def test_check_wheels_names_a_missing_requirement(tmp_path):
    fake_wheel(tmp_path, "first", "numpy", "second", "absent-package",
               "absent-extra; extra == 'test'",
               "absent-old; python_version < '3.10'")
    fake_wheel(tmp_path, "second", "torch>=2")
    assert check_wheels.problems(tmp_path) == [
        "first-1.0-py3-none-any.whl needs absent-package: neither a wheel "
        "here nor on the GPU machine"]


def test_check_wheels_accepts_a_complete_set(tmp_path):
    fake_wheel(tmp_path, "first", "numpy", "second")
    fake_wheel(tmp_path, "second")
    assert check_wheels.problems(tmp_path) == []
