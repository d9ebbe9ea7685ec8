"""Training and inference throughput of `kp.Perceiver` on one Keras backend.

Run once per backend (the backend is fixed when keras is imported):

    KERAS_BACKEND=jax python -m benchmarks.throughput [--quick]

For every configuration in `configs.THROUGHPUT` and every dtype policy it
times `train_on_batch` (Adam, cross-entropy) and `predict_on_batch` on one
fixed batch that already lives on the backend, and prints one JSON line per
measurement. The train step is compiled: XLA on TensorFlow
(`jit_compile=True`) and JAX; on torch the `--torch-compile` flag asks for
`torch.compile` (`jit_compile=True`), otherwise eager.
"""

import argparse

import keras

import keras_perceiver as kp
from benchmarks import configs
from benchmarks.batch import make_batch
from benchmarks.timing import emit, peak_rss_bytes, time_steps
from keras_perceiver.reports.flops import perceiver_forward_flops, training_step_flops

MODEL_KEYS = (
    "num_classes", "num_latents", "latent_dim", "num_blocks",
    "num_self_attends_per_block", "num_cross_heads", "num_self_heads",
    "num_bands",
)


def build_model(config, jit_compile):
    model = kp.Perceiver(**{key: config[key] for key in MODEL_KEYS})
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def model_and_batch(config, jit_compile):
    """The configuration's model, compiled and built, and its fixed batch
    as backend tensors: `(model, images, labels)`."""
    keras.utils.set_random_seed(0)
    model = build_model(config, jit_compile)
    images, labels = make_batch(config)
    images = keras.ops.convert_to_tensor(images)
    labels = keras.ops.convert_to_tensor(labels)
    model.build(tuple(images.shape))
    return model, images, labels


def measure(name, config, dtype, timing, jit_compile):
    keras.config.set_dtype_policy(dtype)
    model, images, labels = model_and_batch(config, jit_compile)
    train = time_steps(lambda: model.train_on_batch(images, labels), **timing)
    infer = time_steps(lambda: model.predict_on_batch(images), **timing)
    batch = config["batch_size"]
    forward = perceiver_forward_flops(model)
    return {
        "kind": "throughput",
        "model": "keras_perceiver",
        "backend": keras.config.backend(),
        "compiled": _compiled_description(jit_compile),
        "config": name,
        "dtype": dtype,
        "batch_size": batch,
        "params": model.count_params(),
        "forward_flops_per_sample": forward,
        "train_step_flops": training_step_flops(forward, batch),
        "train": train,
        "infer": infer,
        "train_steps_per_s": 1 / train["median_s"],
        "infer_samples_per_s": batch / infer["median_s"],
        "peak_rss_bytes": peak_rss_bytes(),
    }


def _compiled_description(jit_compile):
    backend = keras.config.backend()
    if backend == "tensorflow":
        return "XLA (jit_compile=True)" if jit_compile else "tf.function"
    if backend == "jax":
        return "jax.jit (XLA)"
    return "torch.compile (jit_compile=True)" if jit_compile else "eager"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--torch-compile", action="store_true",
                        help="torch backend: jit_compile=True")
    parser.add_argument("--configs", nargs="*", default=None)
    parser.add_argument("--dtypes", nargs="*", default=list(configs.DTYPES))
    args = parser.parse_args()
    backend = keras.config.backend()
    jit_compile = backend != "torch" or args.torch_compile
    all_configs = configs.throughput_configs(args.quick)
    for name in args.configs or list(all_configs):
        for dtype in args.dtypes:
            try:
                result = measure(name, all_configs[name], dtype,
                                 configs.timing(args.quick), jit_compile)
            except Exception as error:  # Reported, not hidden.
                result = {
                    "kind": "throughput", "model": "keras_perceiver",
                    "backend": backend, "config": name, "dtype": dtype,
                    "compiled": _compiled_description(jit_compile),
                    "error": f"{type(error).__name__}: {error}"[:500],
                }
            emit(result)


if __name__ == "__main__":
    main()
