"""Turns `results.json` into `results.md` and PNG plots.

    python -m benchmarks.report benchmarks/results   # re-render only
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import machine
from keras_perceiver.reports.tables import (format_number, markdown_table,
                                       new_figure, save_figure)

PEAK_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16"}
TARGETS = dict(speedup=2.0, bfloat16=1.5, exponent=1.1, utilisation=0.40)
# The scaling target is judged on the range, M >= 1k.
TARGET_MIN_M = 1024


def _label(result):
    if result["model"] == "perceiver_pytorch":
        return "perceiver-pytorch (torch eager)"
    return f"kp.Perceiver {result['backend']} ({result['compiled']})"


def _ok(results):
    return [r for r in results if "error" not in r and "skipped" not in r]


def utilisation(result, peak):
    """Counted training FLOPs per second as a fraction of the matmul peak."""
    if "train_step_flops" not in result or not peak:
        return None
    gflops = result["train_step_flops"] / result["train"]["median_s"] / 1e9
    return gflops / peak["peak"][PEAK_DTYPE[result["dtype"]]]["gflops"]


def fit_exponent(points):
    """Least-squares slope and intercept of log(time) against log(M)."""
    if len(points) < 2:
        return None, None
    m = np.log([p["num_inputs"] for p in points])
    t = np.log([p["step_s"] for p in points])
    slope, intercept = np.polyfit(m, t, 1)
    return float(slope), float(intercept)


def scaling_summary(scaling):
    summary = {}
    for model in ("perceiver", "transformer"):
        points = [p for p in _ok(scaling) if p["model"] == model]
        slope, intercept = fit_exponent(points)
        upper = points[len(points) // 2:] if len(points) >= 4 else points
        in_range = [p for p in points if p["num_inputs"] >= TARGET_MIN_M]
        summary[model] = {
            "exponent": slope, "intercept": intercept,
            "exponent_upper_half": fit_exponent(upper)[0],
            "exponent_from_1k": fit_exponent(in_range)[0],
            "largest_m": max((p["num_inputs"] for p in points), default=None),
        }
    p, t = summary["perceiver"], summary["transformer"]
    crossover = None
    if None not in (p["exponent"], t["exponent"]) and t["exponent"] != p[
        "exponent"
    ]:
        crossover = math.exp((p["intercept"] - t["intercept"])
                             / (t["exponent"] - p["exponent"]))
    # The measured crossing: the smallest M where the Transformer is slower.
    measured = {pt["num_inputs"]: pt["step_s"] for pt in _ok(scaling)
                if pt["model"] == "perceiver"}
    slower = [pt["num_inputs"] for pt in _ok(scaling)
              if pt["model"] == "transformer"
              and pt["num_inputs"] in measured
              and pt["step_s"] > measured[pt["num_inputs"]]]
    summary["crossover_fit"] = crossover
    summary["crossover_measured"] = min(slower) if slower else None
    return summary


def speedups(throughput):
    """Per config and dtype: the best kp backend against perceiver-pytorch."""
    rows = []
    ok = _ok(throughput)
    for config in sorted({r["config"] for r in ok}):
        for dtype in PEAK_DTYPE:
            ours = [r for r in ok if r["config"] == config
                    and r["dtype"] == dtype
                    and r["model"] == "keras_perceiver"]
            theirs = [r for r in ok if r["config"] == config
                      and r["dtype"] == dtype
                      and r["model"] == "perceiver_pytorch"]
            if not ours or not theirs:
                continue
            best = max(ours, key=lambda r: r["train_steps_per_s"])
            best_infer = max(ours, key=lambda r: r["infer_samples_per_s"])
            rows.append({
                "config": config, "dtype": dtype, "best": _label(best),
                "train_speedup": best["train_steps_per_s"]
                / theirs[0]["train_steps_per_s"],
                "best_infer": _label(best_infer),
                "infer_speedup": best_infer["infer_samples_per_s"]
                / theirs[0]["infer_samples_per_s"],
            })
    return rows


def bfloat16_speedups(throughput):
    rows = []
    ok = _ok(throughput)
    keys = sorted({(r["config"], r["model"], r["backend"], r["compiled"])
                   for r in ok})
    for key in keys:
        pair = {r["dtype"]: r for r in ok
                if (r["config"], r["model"], r["backend"],
                    r["compiled"]) == key}
        if len(pair) == 2:
            rows.append({
                "config": key[0], "label": _label(pair["float32"]),
                "train": pair["mixed_bfloat16"]["train_steps_per_s"]
                / pair["float32"]["train_steps_per_s"],
                "infer": pair["mixed_bfloat16"]["infer_samples_per_s"]
                / pair["float32"]["infer_samples_per_s"],
            })
    return rows


def headline_table(results):
    peak = results.get("matmul_peak")
    rows = []
    for r in sorted(results["throughput"],
                    key=lambda r: (r["config"], r["dtype"], r["model"],
                                   r["backend"], r["compiled"])):
        if "error" in r:
            rows.append([r["config"], r["dtype"], _label(r), "error", "", "",
                         "", ""])
            continue
        rows.append([
            r["config"], r["dtype"], _label(r), f"{r['params']:,}",
            f"{r['train_steps_per_s']:.2f}",
            f"{r['train_steps_per_s'] * r['batch_size']:.1f}",
            f"{r['infer_samples_per_s']:.1f}",
            format_number(utilisation(r, peak), ".0%"),
        ])
    return markdown_table(
        ["config", "dtype", "model / backend", "params", "train steps/s",
         "train samples/s", "inference samples/s",
         "utilisation (train)"], rows)


def compact_table(results, config="medium"):
    """One row per model and backend: both dtypes side by side."""
    peak = results.get("matmul_peak")
    ok = [r for r in _ok(results["throughput"]) if r["config"] == config]
    rows = []
    for label in sorted({_label(r) for r in ok}):
        by_dtype = {r["dtype"]: r for r in ok if _label(r) == label}
        f32, bf16 = by_dtype.get("float32"), by_dtype.get("mixed_bfloat16")
        first = f32 or bf16

        def cell(result, key, spec=".2f"):
            return "–" if result is None else format(result[key], spec)

        rows.append([
            label, f"{first['params']:,}",
            cell(f32, "train_steps_per_s"), cell(bf16, "train_steps_per_s"),
            cell(f32, "infer_samples_per_s", ".1f"),
            cell(bf16, "infer_samples_per_s", ".1f"),
            format_number(utilisation(f32, peak) if f32 else None, ".0%"),
        ])
    return markdown_table(
        ["model / backend", "params", "train steps/s fp32",
         "train steps/s bf16", "infer samples/s fp32",
         "infer samples/s bf16", "fp32 utilisation"], rows)


def _targets(results, scaling_info):
    peak = results.get("matmul_peak")
    lines = []
    speed = speedups(results["throughput"])
    for row in speed:
        met = row["train_speedup"] >= TARGETS["speedup"]
        lines.append(
            f"- {'met' if met else 'missed'}: {row['config']} "
            f"{row['dtype']}: best backend ({row['best']}) trains "
            f"{row['train_speedup']:.2f}x perceiver-pytorch (target >= 2x); "
            f"inference {row['infer_speedup']:.2f}x ({row['best_infer']})")
    for row in bfloat16_speedups(results["throughput"]):
        met = row["train"] >= TARGETS["bfloat16"]
        lines.append(
            f"- {'met' if met else 'missed'}: {row['config']} "
            f"{row['label']}: mixed_bfloat16 trains {row['train']:.2f}x "
            f"float32 (target >= 1.5x), infers {row['infer']:.2f}x")
    exponent = scaling_info["perceiver"]["exponent_from_1k"]
    if exponent is not None:
        lines.append(
            f"- {'met' if exponent <= TARGETS['exponent'] else 'missed'}: "
            f"Perceiver scaling exponent {exponent:.2f} over M = 1k .. "
            f"{scaling_info['perceiver']['largest_m']:,} (target <= 1.1; "
            f"upper half of M: "
            f"{format_number(scaling_info['perceiver']['exponent_upper_half'])})")
    medium = [r for r in _ok(results["throughput"])
              if r["config"] == "medium" and r["model"] == "keras_perceiver"]
    for dtype in PEAK_DTYPE:
        candidates = [r for r in medium if r["dtype"] == dtype]
        if candidates:
            best = max(candidates, key=lambda r: utilisation(r, peak) or 0)
            value = utilisation(best, peak)
            met = value is not None and value >= TARGETS["utilisation"]
            lines.append(
                f"- {'met' if met else 'missed'}: medium {dtype} training "
                f"utilisation {format_number(value, '.0%')} of the {PEAK_DTYPE[dtype]} "
                f"matmul peak ({_label(best)}; target >= 40 %)")
    return "\n".join(lines)


def _scaling_table(scaling):
    by_m = {}
    for p in scaling:
        by_m.setdefault(p["num_inputs"], {})[p["model"]] = p
    rows = []
    for m in sorted(by_m):
        cells = [f"{m:,}"]
        for model in ("perceiver", "transformer"):
            p = by_m[m].get(model)
            if p is None:
                cells += ["", ""]
            elif "skipped" in p:
                cells += ["not run: " + p["skipped"], ""]
            else:
                cells += [f"{p['step_s'] * 1e3:.0f}",
                          f"{p['peak_rss_bytes'] / 2**30:.2f}"]
        rows.append(cells)
    return markdown_table(["M", "Perceiver ms/step", "Perceiver peak RSS GiB",
                   "Transformer ms/step", "Transformer peak RSS GiB"], rows)


def machine_summary(results):
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        f"- CPU: {m['cpu_model']} ({m['architecture']}), {m['cpus']} cores, "
        f"{m['threads_per_core']} thread(s) per core, L2 {m['l2_cache']}, "
        f"L3 {m['l3_cache']}",
        f"- SIMD: {' '.join(m['simd_flags'])}; AMX: "
        f"{'yes' if m['has_amx'] else 'no'}",
        f"- memory: {m['memory_bytes'] / 2**30:.1f} GiB; kernel "
        f"{m['kernel']}",
        f"- versions: {versions}",
        "- load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in results["load_average_before"])
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in results["load_average_after"]),
    ]
    stages = results.get("stages", [])
    if stages:
        lines.append("- 1-minute load average after each stage: " + "; ".join(
            f"{s['stage']} {s['load_average'][0]:.2f}" for s in stages))
    lines.append(f"- total run time: {results['total_s'] / 60:.1f} min"
                 + (" (--quick)" if results.get("quick") else ""))
    if "lscpu_flags" in results:
        lines.append(f"- lscpu flags: {' '.join(results['lscpu_flags'])}")
    return "\n".join(lines)


def _peak_table(peak):
    if not peak:
        return "(not measured)"
    rows = [[m["library"], m["dtype"], m["size"], f"{m['gflops']:.0f}"]
            for m in peak["measurements"]]
    return markdown_table(["library", "dtype", "n (n x n @ n x n)", "GFLOP/s"], rows)


def _failures(results):
    failed = [s for s in results.get("stages", []) if s.get("failure")]
    errors = [r for r in results["throughput"] if "error" in r]
    lines = [f"- {s['stage']}: {s['failure']}" for s in failed]
    lines += [f"- {_label(r)} {r['config']} {r['dtype']}: {r['error']}"
              for r in errors]
    return "\n".join(lines) or "none"


def render(results):
    info = scaling_summary(results["scaling"])
    p, t = info["perceiver"], info["transformer"]
    return "\n\n".join([
        "# Benchmark results",
        "Written by `python -m benchmarks.run_all`"
        + (" --quick" if results["quick"] else "")
        + "; see [../README.md](../README.md) for the method and findings.",
        "## Headline: medium configuration",
        compact_table(results),
        "## Targets", _targets(results, info),
        "## Throughput and utilisation",
        "Median of repeated timings of one fixed batch, warm-up "
        "(compilation) excluded. Utilisation = counted training FLOPs "
        "(3 x forward, `keras_perceiver.reports.flops`) / step time / the matmul "
        "peak of the same dtype below.",
        headline_table(results),
        "![throughput](throughput.png)",
        "## Matrix-multiply peak of this machine",
        _peak_table(results.get("matmul_peak")),
        "## Scaling in the number of inputs M (JAX, float32, training step)",
        f"Fitted exponent of time against M (least squares in log-log), "
        f"Perceiver: {format_number(p['exponent'])} over all points, "
        f"{format_number(p['exponent_from_1k'])} over M >= 1k, "
        f"{format_number(p['exponent_upper_half'])} over the upper half of M; "
        f"Transformer: {format_number(t['exponent'])} over all its points "
        f"(upper half: {format_number(t['exponent_upper_half'])}). "
        f"The fitted lines (all points) cross at M = "
        f"{format_number(info['crossover_fit'], ',.0f')}; the smallest measured M "
        f"where the Transformer is slower: "
        f"{format_number(info['crossover_measured'], ',')}. Peak RSS is the process's "
        "getrusage max RSS (imports included, one fresh process per point).",
        _scaling_table(results["scaling"]),
        "![scaling](scaling.png)",
        "## Machine", machine_summary(results),
        "## Failures", _failures(results),
    ]) + "\n"


def plot(results, output):
    ok = _ok(results["throughput"])
    configs = sorted({r["config"] for r in ok})
    fig = new_figure(6 * max(len(configs), 1), 4.5, "The benchmark plots")
    axes = np.atleast_1d(fig.subplots(1, max(len(configs), 1)))
    for ax, config in zip(axes, configs):
        rows = [r for r in ok if r["config"] == config]
        labels = sorted({_label(r) for r in rows})
        for offset, dtype in enumerate(PEAK_DTYPE):
            values = [next((r["train_steps_per_s"] for r in rows
                            if _label(r) == label and r["dtype"] == dtype), 0)
                      for label in labels]
            ax.barh(np.arange(len(labels)) + 0.4 * offset, values, 0.4,
                    label=dtype)
        ax.set_yticks(np.arange(len(labels)) + 0.2)
        ax.set_yticklabels([label.replace(" (", "\n(") for label in labels],
                           fontsize=7)
        ax.set_xlabel("training steps/s")
        ax.set_title(config)
        ax.legend()
    save_figure(fig, output / "throughput.png")

    info = scaling_summary(results["scaling"])
    fig = new_figure(11, 4.5, "The benchmark plots")
    ax_time, ax_memory = fig.subplots(1, 2)
    for model in ("perceiver", "transformer"):
        points = [p for p in _ok(results["scaling"]) if p["model"] == model]
        if not points:
            continue
        m = np.array([p["num_inputs"] for p in points])
        exponent = info[model]["exponent"]
        line = ax_time.loglog(m, [p["step_s"] for p in points], "o",
                              label=f"{model} (fitted exponent, all "
                              f"points: {format_number(exponent)})")
        if exponent is not None:
            grid = np.geomspace(m.min(), max(m.max(), m.min() * 2), 50)
            ax_time.loglog(grid, np.exp(info[model]["intercept"])
                           * grid**exponent, "--", color=line[0].get_color())
        ax_memory.semilogx(m, [p["peak_rss_bytes"] / 2**30 for p in points],
                           "o-", label=model)
    if info["crossover_fit"]:
        ax_time.axvline(info["crossover_fit"], color="grey", lw=0.8)
    ax_time.set_xlabel("inputs M")
    ax_time.set_ylabel("seconds per training step")
    ax_time.legend()
    ax_memory.set_xlabel("inputs M")
    ax_memory.set_ylabel("peak RSS (GiB)")
    ax_memory.legend()
    save_figure(fig, output / "scaling.png")


def measure_and_write(name, settings, measure, render_results,
                      folder=None):
    """Runs one benchmark and writes `FOLDER/NAME.{json,md}` (`folder`
    defaults to `benchmarks/results`).

    The results are the command line, `settings`, the machine, the load
    average before and after, `measure()` as `measurements` and the total
    seconds; the Markdown is `render_results(results)`, also printed.
    """
    start = time.perf_counter()
    results = {"argv": sys.argv[1:], **settings,
               "load_average_before": machine.load_average(),
               "machine": machine.describe(),
               "lscpu_flags": machine.lscpu_flags()}
    results["measurements"] = measure()
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - start
    folder = Path(folder or Path(__file__).resolve().parent / "results")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2))
    (folder / f"{name}.md").write_text(render_results(results) + "\n")
    print(render_results(results))
    return results


def write(results, output):
    output = Path(output)
    (output / "results.md").write_text(render(results))
    plot(results, output)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results")
    write(json.loads((folder / "results.json").read_text()), folder)
