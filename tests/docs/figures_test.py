"""Every figure typed into README.md or docs/ is read from its results file.

Tables of results are not typed: the pages include them from the committed
results files (`--8<-- "benchmarks/results/x.md:a:b"`, pymdownx.snippets),
and `test_included_results_exist` checks each inclusion. Figures that stay
typed in prose or in a page's own table are listed in `FIGURES`: (page,
results file, how the page writes the figure from that file). The test
formats the figure from the file and looks for it in the page, so a page
that disagrees with its results file, or with another page quoting the same
file, fails.
"""

import json
import pathlib
import re

import pytest

from benchmarks.auto_choice import projected_seconds

pytestmark = pytest.mark.backend_independent

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAINING = "benchmarks/training/"
PAPER = "benchmarks/paper/results/"


def percent(key, digits=1):
    return lambda data: f"{data[key] * 100:.{digits}f} %"


def thousands(key):
    return lambda data: f"{data[key]:,}"


def main_command(backend, form):
    """A run of `benchmarks/results/main_command.json`, by backend."""
    def read(data):
        run = next(run for run in data["runs"]
                   if run["backend"] == backend and not run["options"])
        return form.format(seconds=round(run["wall_s"]),
                           accuracy=run["test_accuracy"] * 100)
    return read


# `run_all`'s rows by (model, backend, dtype): perceiver-pytorch's in
# float32, and README's headline columns.
PERCEIVER_PYTORCH_FP32 = ("perceiver_pytorch", "torch", "float32")
HEADLINE_COLUMNS = [
    ("keras_perceiver", "tensorflow", "float32"),
    ("keras_perceiver", "jax", "float32"),
    ("keras_perceiver", "torch", "float32"),
    ("perceiver_pytorch", "torch", "float32"),
    ("keras_perceiver", "tensorflow", "mixed_bfloat16"),
    ("keras_perceiver", "torch", "mixed_bfloat16"),
    ("perceiver_pytorch", "torch", "mixed_bfloat16"),
]


def medium_rows(data):
    """A `results.json` of `benchmarks.run_all`: its medium rows by
    (model, backend, dtype)."""
    return {(row["model"], row["backend"], row["dtype"]): row
            for row in data["throughput"] if row["config"] == "medium"}


def machine_row(label):
    """A README headline row (one machine kind) from a `results.json`:
    medium training steps/s per column."""
    def read(data):
        rows = medium_rows(data)
        return "| " + " | ".join([label, *(
            f"{rows[column]['train_steps_per_s']:.2f}"
            for column in HEADLINE_COLUMNS)]) + " |"
    return read


def medium_parameters(model):
    """`results.json`: a model's parameters at medium."""
    def read(data):
        (params,) = {row["params"] for row in data["throughput"]
                     if row["config"] == "medium" and row["model"] == model}
        return f"{params:,}"
    return read


def multimodal(data):
    """`multimodal_results.txt`: image / audio / fused test accuracies."""
    accuracies = [float(value) * 100 for value in
                  re.findall(r"test accuracy (0\.\d+)", data)[-3:]]
    return "{:.1f} / {:.1f} / **{:.1f} %**".format(*accuracies)


def text(quoted):
    """A figure the results file writes as the page does."""
    return lambda data: quoted


def compile_seconds(data, config, model):
    """`torch_compile.json`: a model's warm-up (its compilation) in whole
    seconds."""
    (measured,) = [measurement for measurement in data["measurements"]
                   if measurement["config"] == config]
    return round(measured["warmup_s"][model])


def ours_fp32(backend):
    """The key of our model's medium float32 row on `backend`."""
    return ("keras_perceiver", backend, "float32")


def float32_peak(data):
    """`results.json`: the float32 matmul peak, GFLOP/s."""
    return max(measurement["gflops"]
               for measurement in data["matmul_peak"]["measurements"]
               if measurement["dtype"] == "float32")


def float32_utilisation(data, key):
    """A medium float32 row's share of the float32 matmul peak."""
    row = medium_rows(data)[key]
    return (row["train_step_flops"] / row["train"]["median_s"] / 1e9
            / float32_peak(data))


def run_seconds(data, name):
    """`auto_choice.json`: the wall-clock seconds of the run `name`."""
    (run,) = [run for run in data["runs"] if run["name"] == name]
    return run["wall_s"]


def long_run_projection(data, name):
    """`auto_choice.json`: the fixed choice `name` projected to the long
    run's epochs."""
    (run,) = [run for run in data["runs"] if run["name"] == name]
    return projected_seconds(run, data["long_run"]["epochs"])


def on_pages(pages, results, *reads):
    """`FIGURES` entries: each figure `reads` formats from `results`, on
    each of `pages`."""
    return [(page, results, read) for page in pages for read in reads]


def saving(ratio_pattern, form):
    """A saving (1 - ratio) of a ratio in a results file's text."""
    def read(data):
        ratios = re.search(ratio_pattern, data)
        return form.format(*(round((1 - float(r)) * 100) for r in ratios.groups()))
    return read


LARGE_INPUTS_TORCH_1M = (r"torch M = 1,048,576: ([\d.]+)x the step time, "
                         r"([\d.]+)x the peak RSS")

FIGURES = [
    # README's benchmark headline.
    ("README.md", "benchmarks/results/results.json",
     machine_row("AMD EPYC Zen 4, AVX512_BF16 (2026-12-02)")),
    ("README.md", "benchmarks/results/intel-xeon-amx/results.json",
     machine_row("Intel Xeon, AMX (2026-12-07)")),
    *[("README.md", results, medium_parameters(model))
      for results in ["benchmarks/results/results.json",
                      "benchmarks/results/intel-xeon-amx/results.json"]
      for model in ["keras_perceiver", "perceiver_pytorch"]],
    ("docs/index.md", TRAINING + "mnist_metrics.json",
     percent("test_accuracy", 2)),
    # Training: results on real data.
    ("docs/guides/training.md", "benchmarks/results/main_command.json",
     main_command("jax", "| 20 | {accuracy:.1f} % |")),
    ("docs/guides/training.md", "benchmarks/results/main_command.json",
     main_command("jax", "| {seconds} s |")),
    ("docs/guides/training.md", TRAINING + "digits_metrics.json",
     thousands("parameters")),
    ("docs/guides/training.md", TRAINING + "mnist_metrics.json",
     percent("test_accuracy", 2)),
    ("docs/guides/training.md", TRAINING + "mnist_metrics.json",
     thousands("parameters")),
    ("docs/guides/training.md", TRAINING + "fsdd_metrics.json",
     percent("test_accuracy")),
    ("docs/guides/training.md", TRAINING + "fsdd_metrics.json",
     lambda data: f"{data['training_seconds_this_run'] / 60:.1f} min"),
    ("docs/guides/training.md", TRAINING + "fsdd_waveform_metrics.json",
     percent("test_accuracy")),
    ("docs/guides/training.md", TRAINING + "fsdd_waveform_metrics.json",
     thousands("parameters")),
    ("docs/guides/training.md", TRAINING + "modelnet40_metrics.json",
     percent("test_accuracy")),
    ("docs/guides/training.md", TRAINING + "modelnet40_metrics.json",
     thousands("parameters")),
    ("docs/guides/training.md", TRAINING + "msr_action3d_metrics.json",
     percent("test_accuracy")),
    ("docs/guides/training.md", TRAINING + "msr_action3d_metrics.json",
     thousands("parameters")),
    ("docs/guides/training.md", TRAINING + "multimodal_results.txt",
     multimodal),
    ("docs/guides/training.md", TRAINING + "multimodal_results.txt",
     text("350,462")),
    ("docs/guides/training.md", PAPER + "point_clouds.md", text("84.0 %")),
    # Perceiver IO: the denoising example.
    *on_pages(
        ["docs/guides/perceiver-io.md"],
        TRAINING + "mnist_denoising_metrics.json",
        lambda data: f"**{data['test_psnr_noisy_db']:.1f} dB**",
        lambda data: f"**{data['test_psnr_denoised_db']:.1f} dB**",
        lambda data: f"MSE {data['test_mse_denoised']:.3f}",
        lambda data: f"{data['parameters']:,} parameters",
        lambda data: f"{data['training_seconds']:,} s of training"),
    # Optical flow: the CIFAR-10 example.
    *on_pages(
        ["docs/guides/perceiver-io.md", "README.md"],
        TRAINING + "cifar10_affine_flow_metrics.json",
        lambda data: f"{data['test_epe_perceiver_io']:.2f} pixels",
        lambda data: f"{data['test_epe_zero_flow']:.2f}",
        lambda data: f"{data['test_epe_farneback']:.2f}"),
    ("docs/guides/perceiver-io.md",
     TRAINING + "cifar10_affine_flow_metrics.json",
     lambda data: f"{data['training_seconds']} s of training"),
    ("docs/guides/perceiver-io.md",
     TRAINING + "cifar10_affine_flow_metrics.json",
     lambda data: f"{data['parameters']:,}-parameter"),
    ("README.md", TRAINING + "cifar10_affine_flow_metrics.json",
     lambda data: f"in {round(data['training_seconds'] / 60)} minutes"),
    # Multimodal autoencoding: the audio-visual digits example.
    *on_pages(
        ["docs/guides/perceiver-io.md", "README.md"],
        TRAINING + "mnist_fsdd_multimodal_autoencoding_metrics.json",
        lambda data: f"{data['test_label_accuracy'] * 100:.1f} %",
        lambda data: f"{data['test_video_psnr_db']:.2f} dB",
        lambda data: f"{data['test_video_psnr_db_mean_frame']:.2f} dB",
        lambda data: f"{data['test_audio_psnr_db']:.2f} dB",
        lambda data: f"{data['test_audio_psnr_db_silence']:.2f} dB"),
    *on_pages(
        ["docs/guides/perceiver-io.md"],
        TRAINING + "mnist_fsdd_multimodal_autoencoding_metrics.json",
        lambda data: f"{data['training_seconds']} s of training",
        lambda data: f"{data['parameters']:,} parameters",
        lambda data: (f"(majority class "
                      f"{data['test_label_accuracy_majority_class'] * 100:.1f} %)")),
    # Perceiver AR: the standard library's bytes.
    *on_pages(
        ["docs/guides/perceiver-ar.md", "README.md"],
        TRAINING + "stdlib_bytes_perceiver_ar_metrics.json",
        lambda data: f"{data['validation_bits_per_byte_perceiver_ar']:.2f} bits per byte",
        lambda data: f"against {data['validation_bits_per_byte_transformer']:.2f} for",
        lambda data: f"{data['tokens_per_second_cached']:.1f} bytes/s with the cache",
        lambda data: f"{data['tokens_per_second_uncached']:.1f} without"),
    *on_pages(
        ["docs/guides/perceiver-ar.md"],
        TRAINING + "stdlib_bytes_perceiver_ar_metrics.json",
        lambda data: (f"{data['parameters_perceiver_ar']:,} and "
                      f"{data['parameters_transformer']:,} parameters"),
        lambda data: f"{data['training_seconds_perceiver_ar']} s",
        lambda data: f"{data['training_steps']} steps of batch {data['batch_size']}"),
    # Compiled torch steps: the whole step against the repeated blocks.
    ("README.md", "benchmarks/results/torch_compile.json",
     lambda data: (
         "the medium model in "
         f"{compile_seconds(data, 'medium', 'blocks_compiled')} s, "
         f"not {compile_seconds(data, 'medium', 'compiled')} s")),
    *on_pages(
        ["docs/benchmarks.md", "docs/guides/backends-and-precision.md"],
        "benchmarks/results/torch_compile.json",
        lambda data: f"{compile_seconds(data, 'medium', 'compiled')} s",
        lambda data: f"{compile_seconds(data, 'small', 'compiled')} s",
        lambda data: f"{compile_seconds(data, 'medium', 'blocks_compiled')} s",
        lambda data: f"{compile_seconds(data, 'small', 'blocks_compiled')} s"),
    *[("docs/benchmarks.md",
       "benchmarks/results/intel-xeon-amx/torch_compile.json", read)
      for read in [
          lambda data: f"{compile_seconds(data, 'medium', 'compiled')} s",
          lambda data: (f"blocks in "
                        f"{compile_seconds(data, 'medium', 'blocks_compiled')}"
                        " s")]],
    *[("docs/benchmarks.md",
       "benchmarks/results/intel-xeon-amx/torch_compile.md", text(quoted))
      for quoted in ["1.47x", "1.13x"]],
    ("docs/benchmarks.md",
     "benchmarks/results/intel-xeon-amx/auto_choice.json",
     lambda data: "({:.0f} s; {:.0f} s from the warm cache, {:.0f} s".format(
         *(run_seconds(data, name) for name in [
             "torch, mixed_bfloat16, eager", "auto, warm cache",
             "auto, empty cache"]))),
    *on_pages(
        ["docs/benchmarks.md"],
        "benchmarks/results/intel-xeon-amx/auto_choice.json",
        lambda data: f"ran 700 epochs in {data['long_run']['wall_s']:.0f} s",
        lambda data: "projection ({:.0f} s)".format(long_run_projection(
            data, "torch, mixed_bfloat16, eager")),
        lambda data: "projected at\n{:.0f} s".format(long_run_projection(
            data, "torch, mixed_bfloat16, torch.compile"))),
    # Millions of inputs.
    *[("docs/guides/large-inputs.md", "benchmarks/results/large_inputs.md",
       text(quoted)) for quoted in
      ["37.92 s", "1.15 GiB", "1.24 GiB", "19.27 GiB", "16.61 GiB"]],
    ("docs/guides/large-inputs.md", "benchmarks/results/large_inputs.md",
     saving(LARGE_INPUTS_TORCH_1M,
            "saved {} % of the step time and {} %")),
    # Attention maps of large inputs, streamed.
    *[("docs/guides/large-inputs.md", "benchmarks/results/attention_maps.md",
       text(quoted)) for quoted in
      ["182", "1,240", "488", "0.55", "2.12", "1.0 min"]],
    *[("README.md", "benchmarks/results/attention_maps.md", text(quoted))
      for quoted in ["182", "0.55"]],
    *[("docs/benchmarks.md", "benchmarks/results/intel-xeon-amx/results.md",
       text(quoted)) for quoted in ["371", "1.04x", "0.84x"]],
    *on_pages(
        ["docs/benchmarks.md"],
        "benchmarks/results/intel-xeon-amx/results.json",
        lambda data: "{:.2f}x our FLOPs".format(
            medium_rows(data)[PERCEIVER_PYTORCH_FP32]["train_step_flops"]
            / medium_rows(data)[ours_fp32("tensorflow")]["train_step_flops"]),
        lambda data: (
            "{:.0f} % of the float32 peak, our best at {:.0f} %").format(
            100 * float32_utilisation(data, PERCEIVER_PYTORCH_FP32),
            100 * max(float32_utilisation(data, ours_fp32(backend))
                      for backend in ["tensorflow", "jax", "torch"])),
        lambda data: "our step at {:.0f} % of the peak".format(
            100 * 2 * medium_rows(data)[PERCEIVER_PYTORCH_FP32][
                "train_steps_per_s"]
            * medium_rows(data)[ours_fp32("tensorflow")]["train_step_flops"]
            / 1e9 / float32_peak(data))),
    ("docs/benchmarks.md", "benchmarks/results/results.md", text("164")),
    # Benchmarks: the prose around the included tables.
    *[("docs/benchmarks.md", "benchmarks/results/results.md", text(quoted))
      for quoted in ["2.06x", "1.16x", "2.30x"]],
    ("docs/benchmarks.md", "benchmarks/results/results.md",
     lambda data: "M^" + re.search(r"scaling exponent ([\d.]+)", data).group(1)),
    # The paper's findings: the prose around the included tables.
    ("docs/findings.md", TRAINING + "fsdd_metrics.json",
     percent("test_accuracy")),
    ("docs/findings.md", TRAINING + "fsdd_metrics.json",
     thousands("parameters")),
    *[("docs/findings.md", PAPER + name + ".md", text(quoted))
      for name, quoted in [
          ("weight_sharing", "57.8 %"), ("weight_sharing", "54.8 %"),
          ("raw_audio", "98.0 %"), ("hyperparameter_search", "94.4 %"),
          ("hyperparameter_search", "90.7 %"),
          ("hyperparameter_search", "89.3 %"),
          ("hyperparameter_search", "83.0 %"),
          ("hyperparameter_search", "91.1 %"), ("point_clouds", "83.2 %")]],
]


def read_results(path):
    content = (ROOT / path).read_text()
    return json.loads(content) if path.endswith(".json") else content


@pytest.mark.parametrize(
    "page, path, read", FIGURES,
    ids=[f"{page}:{path}:{index}"
         for index, (page, path, _) in enumerate(FIGURES)])
def test_typed_figure_matches_its_results_file(page, path, read):
    figure = read(read_results(path))
    if read.__qualname__.startswith("text"):
        assert figure in read_results(path), f"{figure!r} is not in {path}"
    page_text = (ROOT / page).read_text()
    assert figure in page_text, (
        f"{page} should quote {figure!r} from {path}")


INCLUSION = re.compile(r'^--8<-- "([^":]+):(\d+):(\d+)"$', re.M)


def inclusions():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [(str(page.relative_to(ROOT)), *match.groups())
            for page in pages
            for match in INCLUSION.finditer(page.read_text())]


@pytest.mark.parametrize("page, path, first, last", inclusions())
def test_included_results_exist(page, path, first, last):
    """Each included range exists, starts with content and is a whole part
    of the file (a table ends before the line after it)."""
    lines = (ROOT / path).read_text().split("\n")
    first, last = int(first), int(last)
    assert 1 <= first <= last <= len(lines), (page, path, first, last)
    assert lines[first - 1].strip(), f"{path}:{first} is empty"
    if last < len(lines):
        assert not lines[last].startswith("|"), f"{path}:{last} cuts a table"
    assert not any(line.startswith("## Targets")
                   for line in lines[first - 1:last])


def test_pages_include_only_with_line_ranges():
    """A whole-file inclusion would bring the file's own title along."""
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for line in page.read_text().split("\n"):
            if line.startswith("--8<--"):
                assert INCLUSION.match(line), f"{page}: {line}"
