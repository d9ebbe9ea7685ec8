"""Stage 4: gathers what the stages wrote into
`<out>/<gpu-name>-<date>.json` and `.md`; run.sh calls it after every
stage, so that a run stopped early still leaves its results.

    python -m benchmarks.gpu.results --work WORK --out benchmarks/gpu/results

`WORK` holds each stage worker's `<stage>-<name>.json`, and run.sh's
`<stage>-<name>.status` ("ok", or why it failed) and `.log`.
"""

import argparse
import datetime
import json
import re
import subprocess
from pathlib import Path

from benchmarks import machine
from benchmarks.gpu.environment import write_json
from keras_perceiver.reports.tables import format_number, markdown_table

# What every complete run has: stage -> the names of its results.
EXPECTED = {
    "correctness": ("torch", "jax"),
    "kernels": ("torch", "jax"),
    "throughput": ("torch", "jax", "perceiver_pytorch"),
    "large_inputs": ("torch", "jax"),
}
TARGET_SPEEDUP = 1.5
# The dtypes where both backends have fused attention kernels on a GPU
# (float32 has none on JAX, which fuses through cuDNN in 16 bits).
FUSED_DTYPES = ("mixed_bfloat16", "mixed_float16")
LABELS = {"torch": "keras-perceiver, torch (eager)",
          "jax": "keras-perceiver, JAX (XLA)",
          "perceiver_pytorch": "perceiver-pytorch (torch eager)"}
GIB = 2**30


def gpu():
    """The GPU's name, driver and memory from `nvidia-smi`; None without
    one."""
    try:
        line = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True,
            check=True, timeout=30).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None
    name, driver, memory = (part.strip() for part in line.split(","))
    return {"name": name, "driver": driver, "memory": memory}


def gather(work):
    """`{stage: {name: result}}`; a failed or missing one has `error`."""
    work = Path(work)
    stages = {stage: {} for stage in EXPECTED}
    for status_file in sorted(work.glob("*.status")):
        stage, _, name = status_file.stem.partition("-")
        status = status_file.read_text().strip()
        fragment = work / f"{status_file.stem}.json"
        if status == "ok" and not fragment.exists():
            continue  # an intermediate step, such as a correctness half
        result = json.loads(fragment.read_text()) if fragment.exists() else {}
        if status != "ok":
            log = work / f"{status_file.stem}.log"
            tail = log.read_text()[-1500:] if log.exists() else ""
            result["error"] = f"{status}: {tail}"
        stages.setdefault(stage, {})[name] = result
    for stage, names in EXPECTED.items():
        for name in names:
            stages[stage].setdefault(name, {"error": "not run"})
    return stages


def targets(stages):
    """The issue's three targets, each met or missed, in words."""
    lines = []
    throughput = stages["throughput"]
    ours = {name: r["best"]["images_per_s"] for name, r in throughput.items()
            if name != "perceiver_pytorch" and "best" in r}
    theirs = throughput["perceiver_pytorch"].get("best")
    if ours and theirs:
        name = max(ours, key=ours.get)
        ratio = ours[name] / theirs["images_per_s"]
        lines.append(_verdict(
            ratio >= TARGET_SPEEDUP,
            f"ImageNet-config training, mixed bfloat16: {ours[name]:.1f} "
            f"images/s ({LABELS[name]}) = {ratio:.2f}x perceiver-pytorch's "
            f"{theirs['images_per_s']:.1f} (target >= {TARGET_SPEEDUP}x)"))
    else:
        lines.append("- not measured: ImageNet-config training speed")
    unfused = [f"{name} {c['dtype']} {c['case']}"
               for name, r in stages["kernels"].items()
               for c in r.get("cases", [])
               if c["dtype"] in FUSED_DTYPES and c["kernel"] == "math"
               and c["case"] != "cross_chunked"]
    if all("cases" in r for r in stages["kernels"].values()):
        lines.append(_verdict(
            not unfused, "a fused attention kernel in every unchunked case "
            "in bfloat16 and float16"
            + (f"; math in: {', '.join(unfused)}" if unfused else "")))
    else:
        lines.append("- not measured: attention kernels")
    for name, r in stages["large_inputs"].items():
        largest = max(r.get("config", {}).get("input_sizes", [0]))
        fits = any(p["num_inputs"] == largest and "step_s" in p
                   for p in r.get("points", []))
        lines.append(_verdict(fits, f"{name}: a training step over M = "
                              f"{largest:,} inputs fits") if "points" in r
                     else f"- not measured: {name} large inputs")
    return lines


def _verdict(met, text):
    return f"- {'met' if met else 'missed'}: {text}"


def _rows(stages, stage, row):
    return [cells for name, result in stages[stage].items()
            for cells in row(name, result)]


def _correctness_rows(name, result):
    return [[name, c["case"], c["variant"], c["against"],
             f"{c['logits']:.1e}", f"{c['loss']:.1e}", f"{c['update']:.1e}",
             "yes" if c["passed"] else "NO"]
            for c in result.get("comparisons", [])]


def _kernel_rows(name, result):
    return [[name, c["dtype"], c["case"], c["kernel"],
             "<br>".join(f"`{n}`" for n in c["names"][:6])]
            for c in result.get("cases", [])]


def _throughput_rows(name, result):
    best = result.get("best")
    if best is None:
        return [[LABELS[name], "–", "–", "–", "–", result.get("skipped")
                 or result.get("stopped", "")]]
    return [[LABELS[name], f"{best['params']:,}", str(best["batch_size"]),
             f"{best['images_per_s']:.1f}",
             f"{best['peak_memory']['bytes'] / GIB:.1f}",
             result.get("stopped", "stopped early")]]


def _large_input_rows(name, result):
    return [[name, f"{p['num_inputs']:,}",
             "does not fit" if "oom" in p else f"{p['step_s']:.2f}",
             "–" if "oom" in p else f"{p['peak_memory']['bytes'] / GIB:.2f}",
             "–" if "oom" in p else f"{p['input_bytes'] / GIB:.2f}"]
            for p in result.get("points", [])]


def render(results):
    stages = results["stages"]
    device = results["gpu"] or {"name": "no GPU (CPU)", "driver": "–",
                                "memory": "–"}
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items())
    failures = [f"- {stage} {name}: {r['error'][:300]}".replace("\n", " ")
                for stage, by_name in stages.items()
                for name, r in by_name.items() if "error" in r]
    return "\n\n".join([
        "# GPU check and measurements"
        + (" (--smoke: tiny sizes on the CPU)" if results["smoke"] else ""),
        f"Written by `bash benchmarks/gpu/run.sh` on {results['date']}: "
        f"{device['name']}, driver {device['driver']}, {device['memory']}; "
        f"{versions}. {results['elapsed_s']:.0f} s of the "
        f"{results['budget_s']} s budget.",
        "## Targets", "\n".join(targets(stages)),
        "## 1. Correctness: float32, relative differences (max |a - b| / "
        "max |b|; tolerance 1e-3)",
        markdown_table(["backend", "case", "variant", "against", "logits",
                        "loss", "weight update", "passed"],
                       _rows(stages, "correctness", _correctness_rows)),
        "## 2. Attention kernels (forward and backward)",
        markdown_table(["backend", "dtype", "case", "kernel", "names"],
                       _rows(stages, "kernels", _kernel_rows)),
        "## 3. ImageNet-config training, mixed bfloat16, largest batch that "
        "fits",
        markdown_table(["model", "params", "batch", "images/s",
                        "peak memory GiB", "search stopped"],
                       _rows(stages, "throughput", _throughput_rows)),
        "## 3. Large inputs: one training step, chunked cross-attention",
        markdown_table(["backend", "M", "s/step", "peak memory GiB",
                        "byte array GiB"],
                       _rows(stages, "large_inputs", _large_input_rows)),
        "## Failures", "\n".join(failures) or "none",
    ]) + "\n"


def collect(work, smoke, elapsed_s, budget_s):
    stages = gather(work)
    environments = [r["environment"] for by_name in stages.values()
                    for r in by_name.values() if "environment" in r]
    versions = {"python": None, "keras": None, "keras_perceiver": None,
                "torch": None, "cuda": None, "cudnn": None, "jax": None,
                "jaxlib": None}
    for found in environments:
        versions.update({k: v for k, v in found.items()
                         if k in versions and v is not None})
    return {"smoke": smoke,
            "date": datetime.date.today().isoformat(),
            "elapsed_s": elapsed_s, "budget_s": budget_s,
            "gpu": gpu(), "machine": machine.describe(),
            "versions": {k: v for k, v in versions.items() if v is not None},
            "stages": stages, "targets": targets(stages)}


def file_stem(results):
    name = results["gpu"]["name"] if results["gpu"] else "cpu"
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + "-" + (
        results["date"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--elapsed", type=float, required=True)
    parser.add_argument("--budget", type=int, required=True)
    args = parser.parse_args()
    results = collect(args.work, args.smoke, args.elapsed, args.budget)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / file_stem(results)
    write_json(stem.with_suffix(".json"), results)
    stem.with_suffix(".md").write_text(render(results))
    print(f"results: {stem}.json, .md")


if __name__ == "__main__":
    main()
