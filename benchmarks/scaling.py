"""One point of the input-size scaling: a training step over M inputs.

    KERAS_BACKEND=jax python -m benchmarks.scaling --model perceiver \
        --inputs 4096

Trains `kp.Perceiver` or the plain Transformer of `benchmarks.transformer`
on a batch of byte arrays `(batch, M, channels)` and prints the median time
per training step and the process's peak resident memory (`getrusage`
max RSS: native buffers included, which `tracemalloc` would miss). Run each
point in a fresh process so that the peak belongs to that point alone; the
RSS after imports and before building the model is reported too.
"""

import argparse

import keras
import numpy as np

import keras_perceiver as kp
from benchmarks import configs
from benchmarks.timing import emit, peak_rss_bytes, time_steps
from benchmarks.transformer import transformer_classifier

SCALING_TIMING = dict(warmup=2, repeats=3, steps=1)


def build(model_name, config):
    if model_name == "perceiver":
        return kp.Perceiver(
            num_classes=config["num_classes"],
            num_latents=config["num_latents"],
            latent_dim=config["width"],
            num_blocks=config["num_blocks"],
            num_self_attends_per_block=config["num_self_attends_per_block"],
            num_cross_heads=1,
            num_self_heads=config["num_heads"],
        )
    return transformer_classifier(
        config["channels"], config["num_classes"], config["width"],
        config["num_layers"],
        config["num_heads"],
    )


def measure(model_name, num_inputs, config):
    baseline_rss = peak_rss_bytes()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    shape = (config["batch_size"], num_inputs, config["channels"])
    inputs = keras.ops.convert_to_tensor(
        rng.normal(size=shape).astype("float32"))
    labels = keras.ops.convert_to_tensor(
        rng.integers(0, config["num_classes"], shape[0]).astype("int32"))
    model = build(model_name, config)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=keras.config.backend() != "torch",
    )
    train = time_steps(lambda: model.train_on_batch(inputs, labels),
                       **SCALING_TIMING)
    return {
        "kind": "scaling",
        "model": model_name,
        "backend": keras.config.backend(),
        "num_inputs": num_inputs,
        "params": model.count_params(),
        "train": train,
        "step_s": train["median_s"],
        "baseline_rss_bytes": baseline_rss,
        "peak_rss_bytes": peak_rss_bytes(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=("perceiver", "transformer"),
                        required=True)
    parser.add_argument("--inputs", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    emit(measure(args.model, args.inputs, configs.scaling_config(args.quick)))


if __name__ == "__main__":
    main()
