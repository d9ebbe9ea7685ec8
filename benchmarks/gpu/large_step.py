"""Stage 3, large inputs: one training step over M = 1M and 4M inputs, with
its peak GPU memory.

    KERAS_BACKEND=jax python -m benchmarks.gpu.large_step \
        --out large_inputs-jax.json

`benchmarks/large_inputs.py`' chunked point (the medium Perceiver, batch
4, 32 channels, float32, Adam, `input_chunk_size=4096`) on the GPU: the
byte array is put on the device once, then the training step is timed.
The peak is `torch.cuda.max_memory_allocated` (reset before each M) or
JAX's `peak_bytes_in_use` (which cannot be reset: M grows, so each peak
is that M's); on the CPU, the process's peak resident memory. A size that
does not fit is recorded as such, and the larger ones are not run.
"""

import numpy as np

from benchmarks import large_inputs
from benchmarks.gpu import environment, sizes
from benchmarks.timing import time_steps


def measure(num_inputs, config):
    import keras

    shape = (config["batch_size"], num_inputs, config["channels"])
    environment.reset_peak_memory()
    inputs = keras.ops.convert_to_tensor(large_inputs.byte_array(shape))
    labels = np.arange(shape[0], dtype="int32") % config["model"][
        "num_classes"]
    model = large_inputs.compiled_keras_perceiver("chunked", num_inputs,
                                                  config)
    train = time_steps(lambda: model.train_on_batch(inputs, labels),
                       **config["timing"])
    return {"num_inputs": num_inputs, "input_bytes": 4 * int(np.prod(shape)),
            "chunk_size": config["chunk_size"], "train": train,
            "step_s": train["median_s"],
            "peak_memory": environment.peak_memory()}


def main():
    args = environment.parse_args(__doc__)
    config = sizes.for_stage("large_inputs", args.smoke)
    results = {"environment": environment.describe(), "config": config,
               "points": []}
    for num_inputs in sorted(config["input_sizes"]):
        try:
            results["points"].append(measure(num_inputs, config))
        except Exception as error:  # Only running out of memory is a result.
            if not environment.is_out_of_memory(error):
                raise
            results["points"].append({"num_inputs": num_inputs,
                                      "oom": str(error)[:300]})
            break
        finally:
            environment.release_memory()
            environment.write_json(args.out, results)


if __name__ == "__main__":
    main()
