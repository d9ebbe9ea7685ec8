"""Export formats side by side: size, int8 accuracy and CPU latency.

    python -m benchmarks.export_formats            # digits and MNIST
    python -m benchmarks.export_formats --quick    # tiny, for development

Trains a small Perceiver (`MODEL`) on digits and on MNIST (the local copy
`--mnist-dir`, by default `../shared/data/mnist` from the project's root), exports each with
`kp.export_model` as a SavedModel, ONNX and LiteRT file in float32 and
(ONNX, LiteRT) int8, and measures for Keras predict (`predict_on_batch`)
and each export:

- the file size (a SavedModel: its folder);
- the test accuracy, and its change from Keras', which is the cost of int8
  (float32 exports agree with Keras to 1e-4);
- the latency of one call at batch 1 and 32: median of `REPEATS` timings of
  `STEPS` calls each, after 2 warm-up calls (`benchmarks.timing`). Each
  runtime uses its own default threads, except LiteRT, given every core
  (its default is one thread). The SavedModel and Keras run in this
  process's TensorFlow; onnxruntime and LiteRT need no TensorFlow.

Writes `<output>/export_formats.json` and `.md` with the machine (its
`lscpu` flags included) and the command; `<output>` is
`benchmarks/results`, or `benchmarks/results_quick` with `--quick`. Time it
only on a quiet machine.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = dict(num_latents=32, latent_dim=64, num_blocks=1,
             num_self_attends_per_block=2, num_self_heads=4, num_bands=8)
# (data set, training epochs); --quick: one epoch of QUICK_EXAMPLES.
TRAINING = {"digits": 20, "mnist": 2}
QUICK_EXAMPLES = 256
BATCH_SIZES = (1, 32)
REPEATS, STEPS = 5, 20
QUICK_REPEATS, QUICK_STEPS = 2, 2
# (name, format, quantize, file name) of each export.
EXPORTS = [
    ("SavedModel", "saved_model", None, "saved_model"),
    ("ONNX float32", "onnx", None, "float32.onnx"),
    ("ONNX int8", "onnx", "int8", "int8.onnx"),
    ("LiteRT float32", "litert", None, "float32.tflite"),
    ("LiteRT int8", "litert", "int8", "int8.tflite"),
]


def trained_model(data, epochs, quick):
    import keras_perceiver as kp
    from keras_perceiver import training

    model = kp.Perceiver(num_classes=data.num_classes,
                         class_names=data.class_names, **MODEL)
    training.compile_for_classification(model)
    count = QUICK_EXAMPLES if quick else len(data.x_train)
    model.fit(data.x_train[:count], data.y_train[:count], batch_size=64,
              epochs=1 if quick else epochs, verbose=0)
    return model


def runner(name, path, model):
    """A function of a float32 image batch returning its logits."""
    if name == "Keras predict":
        return model.predict_on_batch
    if name == "SavedModel":
        import tensorflow as tf

        serve = tf.saved_model.load(path).signatures["serving_default"]
        return lambda images: serve(images=tf.constant(images))["logits"
                                                                 ].numpy()
    if name.startswith("ONNX"):
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        return lambda images: session.run(["logits"], {"images": images})[0]
    from ai_edge_litert.interpreter import Interpreter

    run = Interpreter(path, num_threads=os.cpu_count()).get_signature_runner()
    return lambda images: run(images=images)["logits"]


def accuracy(predict, images, labels, batch_size=32):
    logits = [predict(images[start:start + batch_size])
              for start in range(0, len(images), batch_size)]
    import numpy as np

    return float(np.mean(np.concatenate(logits).argmax(-1) == labels))


def latency_ms(name, path, model, images, batch_size, quick):
    from benchmarks.timing import time_steps

    batch = images[:batch_size]
    predict = runner(name, path, model)  # One per batch size: no resizing.
    timing = time_steps(lambda: predict(batch), warmup=2,
                        repeats=QUICK_REPEATS if quick else REPEATS,
                        steps=QUICK_STEPS if quick else STEPS)
    return timing["median_s"] * 1000


def size_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(entry.stat().st_size for entry in Path(path).rglob("*")
               if entry.is_file())


def measure(dataset, epochs, folder, quick, mnist_dir):
    """The rows of one data set: Keras, then each export."""
    import keras_perceiver as kp
    from keras_perceiver import datasets

    data = datasets.load(dataset, data_dir=mnist_dir if dataset == "mnist"
                         else None)
    model = trained_model(data, epochs, quick)
    count = QUICK_EXAMPLES if quick else len(data.x_test)
    images = data.x_test[:count].astype("float32")
    labels = data.y_test[:count]
    paths = {"Keras predict": None}
    for name, format, quantize, file_name in EXPORTS:
        paths[name] = kp.export_model(model, os.path.join(folder, dataset,
                                                          file_name),
                                      format=format, quantize=quantize)
    model_file = os.path.join(folder, dataset, "model.keras")
    model.save(model_file)
    rows = []
    for name, path in paths.items():
        rows.append({
            "data_set": dataset, "format": name,
            "size_bytes": size_bytes(path or model_file),
            "accuracy": accuracy(runner(name, path, model), images, labels),
            **{f"batch_{size}_ms": latency_ms(name, path, model, images,
                                              size, quick)
               for size in BATCH_SIZES},
        })
    keras_accuracy = rows[0]["accuracy"]
    for row in rows:
        row["accuracy_change"] = row["accuracy"] - keras_accuracy
    return rows


def markdown(results):
    from benchmarks.report import machine_summary
    from keras_perceiver.reports.tables import markdown_table

    header = ["data set", "format", "size (KiB)", "accuracy",
              "change", "batch 1 (ms)", "batch 32 (ms)"]
    rows = [[row["data_set"], row["format"],
             f"{row['size_bytes'] / 1024:.0f}", f"{row['accuracy']:.4f}",
             f"{row['accuracy_change']:+.4f}", f"{row['batch_1_ms']:.2f}",
             f"{row['batch_32_ms']:.2f}"] for row in results["rows"]]
    return "\n".join([
        "# Export formats: size, int8 accuracy and CPU latency",
        "",
        f"Written by `{results['command']}` on the "
        f"{results['backend']} backend ({results['examples']}). Keras "
        "predict's size is its `.keras` file; latency is the median of one "
        "call, in milliseconds (see the script's docstring).",
        "",
        markdown_table(header, rows),
        "",
        "## Machine",
        "",
        machine_summary(results),
        "",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_EXAMPLES} examples, one epoch, few "
                        "timings; writes to benchmarks/results_quick")
    parser.add_argument("--mnist-dir",
                        default=os.path.join("..", "shared", "data", "mnist"),
                        help="a folder holding mnist.npz (default: "
                        "../shared/data/mnist, from the project's root)")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    from benchmarks import machine

    output = ROOT / "benchmarks" / ("results_quick" if args.quick
                                    else "results")
    results = {
        "command": " ".join(["python -m benchmarks.export_formats",
                             *(argv if argv is not None else sys.argv[1:])]),
        "backend": keras.config.backend(),
        "examples": (f"{QUICK_EXAMPLES} training and test examples, one "
                     "epoch" if args.quick else "full training and test "
                     "splits, epochs " + ", ".join(
                         f"{name} {epochs}" for name, epochs
                         in TRAINING.items())),
        "quick": args.quick,
        "machine": machine.describe(),
        "lscpu_flags": machine.lscpu_flags(),
        "load_average_before": machine.load_average(),
        "rows": [],
    }
    started = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="export-formats-")
    try:
        for dataset, epochs in TRAINING.items():
            results["rows"] += measure(dataset, epochs, folder, args.quick,
                                       args.mnist_dir)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results["load_average_after"] = machine.load_average()
    results["total_s"] = time.perf_counter() - started
    output.mkdir(parents=True, exist_ok=True)
    (output / "export_formats.json").write_text(json.dumps(results, indent=1))
    (output / "export_formats.md").write_text(markdown(results))
    print(f"Wrote {output / 'export_formats.md'}")


if __name__ == "__main__":
    main()
