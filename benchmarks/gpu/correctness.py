"""Stage 1: the forward pass and a training step on the GPU against the
CPU's float32 result, and chunked against whole attention.

    KERAS_BACKEND=jax python -m benchmarks.gpu.correctness --out gpu.npz
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu python -m benchmarks.gpu.correctness \
        --out cpu.npz
    python -m benchmarks.gpu.correctness --compare cpu.npz gpu.npz \
        --out correctness-jax.json

For every case of `sizes.CORRECTNESS` (the small model on images, the
small model on byte arrays with a mask, the ImageNet model) and every
`input_chunk_size` variant, a worker builds the model, overwrites its
trainable weights with the same seeded values on every device, and saves
the logits of `predict_on_batch`, the loss of one `train_on_batch` (SGD,
learning rate 1, so that the update is the gradient) and the update of
every weight. Float32 throughout; JAX's matrix products at full float32
precision (its GPU default is TF32). `--compare` reports, per case and
variant, the largest relative difference of the GPU's logits, loss and
weight updates from the CPU's (logits: max |a - b| / max |b|; updates: the
largest ||a - b|| / ||b|| over the weights), and of the chunked variant's
from the whole one's on the GPU; each must be at most `TOLERANCE`.
"""

import json

import numpy as np

from benchmarks.gpu import environment, sizes

TOLERANCE = 1e-3


def case_batch(case):
    """The case's inputs (images, or `{"inputs", "mask"}`) and labels."""
    rng = np.random.default_rng(0)
    batch = case["batch_size"]
    labels = rng.integers(0, case["model"]["num_classes"], batch)
    if "image_shape" in case:
        images = rng.uniform(size=(batch,) + case["image_shape"])
        return images.astype("float32"), labels.astype("int32")
    shape = (batch, case["num_inputs"], case["channels"])
    mask = rng.random(shape[:2]) > 0.3
    mask[-1] = False  # an example with nothing to attend to
    inputs = {"inputs": rng.standard_normal(shape).astype("float32"),
              "mask": mask}
    return inputs, labels.astype("int32")


def set_seeded_weights(model):
    """The same trainable weights on every backend and device: normal with
    standard deviation 0.02 for matrices, the initializers' constants for
    vectors (biases, LayerNorm scales)."""
    rng = np.random.default_rng(1)
    for variable in model.trainable_weights:
        if len(variable.shape) >= 2:
            value = rng.standard_normal(tuple(variable.shape)) * 0.02
            variable.assign(value.astype("float32"))


def run_variant(case, chunk_size):
    """`{"logits", "loss", "update/<weight>"...}` for one case and chunk
    size."""
    import keras

    import keras_perceiver as kp

    model = kp.Perceiver(**case["model"], input_chunk_size=chunk_size)
    inputs, labels = case_batch(case)
    model.compile(optimizer=keras.optimizers.SGD(1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    model.build(input_shape(case))
    set_seeded_weights(model)
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    arrays = {"logits": np.asarray(model.predict_on_batch(inputs)),
              "loss": np.asarray(model.train_on_batch(inputs, labels))}
    for index, (weight, old) in enumerate(zip(model.trainable_weights,
                                              before)):
        arrays[f"update/{index}"] = old - keras.ops.convert_to_numpy(weight)
    return arrays


def input_shape(case):
    """The shape (or dict of shapes) the case's model is built for."""
    if "image_shape" in case:
        return (None,) + case["image_shape"]
    return {"inputs": (None, case["num_inputs"], case["channels"]),
            "mask": (None, case["num_inputs"])}


def measure(out, smoke):
    import keras

    if keras.config.backend() == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    keras.config.set_dtype_policy("float32")
    arrays = {"environment": np.array(json.dumps(environment.describe()))}
    for name, case in sizes.for_stage("correctness", smoke).items():
        for variant, chunk_size in case["variants"].items():
            for key, value in run_variant(case, chunk_size).items():
                arrays[f"{name}/{variant}/{key}"] = value
            environment.release_memory()
    np.savez(out, **arrays)


def relative_max(actual, expected):
    return float(np.max(np.abs(actual - expected))
                 / max(np.max(np.abs(expected)), 1e-30))


def differences(arrays, prefix, reference_arrays, reference_prefix):
    """The logits', loss' and updates' relative differences of one run."""
    def values(source, start, name):
        if name != "update":
            return source[start + name]
        keys = sorted(key for key in source
                      if key.startswith(start + "update/"))
        return np.concatenate([source[key].ravel() for key in keys])

    return {name: relative_max(values(arrays, prefix, name),
                               values(reference_arrays, reference_prefix,
                                      name))
            for name in ("logits", "loss", "update")}


def compare(cpu_file, gpu_file):
    cpu, gpu = dict(np.load(cpu_file)), dict(np.load(gpu_file))
    runs = sorted({key.rsplit("/", 2)[0] if "/update/" in key
                   else key.rsplit("/", 1)[0] for key in gpu
                   if key != "environment"})
    rows = []
    for run in runs:
        case, variant = run.split("/")
        rows.append({"case": case, "variant": variant, "against": "cpu",
                     **differences(gpu, run + "/", cpu, run + "/")})
        whole = f"{case}/whole/"
        if variant == "chunked" and whole + "logits" in gpu:
            rows.append({"case": case, "variant": variant,
                         "against": "whole on the same device",
                         **differences(gpu, run + "/", gpu, whole)})
    for row in rows:
        row["passed"] = max(row["logits"], row["loss"],
                            row["update"]) <= TOLERANCE
    return {"tolerance": TOLERANCE,
            "cpu": json.loads(str(cpu["environment"])),
            "gpu": json.loads(str(gpu["environment"])),
            "comparisons": rows,
            "passed": all(row["passed"] for row in rows)}


def main():
    args = environment.parse_args(__doc__, compare=dict(
        nargs=2, metavar=("CPU_FILE", "GPU_FILE"), help="compare them"))
    if args.compare:
        environment.write_json(args.out, compare(*args.compare))
    else:
        measure(args.out, args.smoke)


if __name__ == "__main__":
    main()
