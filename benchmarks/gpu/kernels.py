"""Stage 2: which attention kernel runs, per dtype, with and without a mask.

    KERAS_BACKEND=torch python -m benchmarks.gpu.kernels --out kernels.json

The ImageNet model's attention layers (`sizes.KERNELS`): self-attention
(8 heads of width 128), cross-attention over the whole input (one head of
width 261), the same with a mask, and cross-attention in chunks (what the
model's default rule picks for 50,176 inputs) each run a forward and a
backward pass in float32, mixed bfloat16 and mixed float16. The kernels
are read from what ran: on torch, the names `torch.profiler` records
(operators such as `aten::_scaled_dot_product_flash_attention` and, on a
GPU, CUDA kernels), filtered to those of attention and softmax; on JAX,
the compiled program's custom calls (`__cudnn$fmha...` is cuDNN's fused
attention) and whether it holds plain XLA `dot`s. Each case is classed
flash, cudnn, efficient (memory-efficient / cutlass FMHA) or math
(explicit matrix products and a softmax).
"""

import re

from benchmarks.gpu import environment, sizes

DTYPES = ("float32", "mixed_bfloat16", "mixed_float16")
CASES = ("self", "cross", "cross_masked", "cross_chunked")
TORCH_NAMES = re.compile(r"attention|attn|fmha|flash|sdpa|softmax|cudnn",
                         re.IGNORECASE)


def classify(names):
    """flash, cudnn, efficient or math, from the kernel names."""
    text = " ".join(names).lower()
    if "cudnn" in text and re.search(r"fmha|sdpa|attention|flash", text):
        return "cudnn"
    if "flash" in text:
        return "flash"
    if re.search(r"efficient|fmha|cutlass", text):
        return "efficient"
    return "math"


def layer_and_inputs(case, dtype, config):
    """The case's `PerceiverAttention` and its `(query, key_value, mask)`."""
    import keras

    from keras_perceiver.layers.perceiver_attention import PerceiverAttention

    batch, latents = config["batch_size"], config["num_latents"]
    width = config["latent_dim"]
    query = keras.random.normal((batch, latents, width), seed=0)
    if case == "self":
        layer = PerceiverAttention(num_heads=config["num_self_heads"],
                                   qk_channels=width, output_channels=width,
                                   dtype=dtype)
        key_value, mask = query, None
    else:
        inputs = config["num_inputs"]
        chunk_size = (config["chunk_size"] if case == "cross_chunked"
                      else inputs)
        layer = PerceiverAttention(qk_channels=config["channels"],
                                   output_channels=width,
                                   input_chunk_size=chunk_size, dtype=dtype)
        key_value = keras.random.normal((batch, inputs, config["channels"]),
                                        seed=1)
        mask = (keras.random.uniform((batch, inputs), seed=2) > 0.3
                if case == "cross_masked" else None)
    layer.build(tuple(query.shape), tuple(key_value.shape))
    return layer, (query, key_value, mask)


def torch_names(layer, query, key_value, mask):
    """What `torch.profiler` records of a forward and backward pass."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    def step():
        output = layer(query, key_value, mask=mask)
        output.float().sum().backward()

    step()  # warm-up, outside the profile
    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as profiler:
        step()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    return sorted({event.key for event in profiler.key_averages()
                   if TORCH_NAMES.search(event.key)})


def jax_names(layer, query, key_value, mask):
    """The custom calls (and plain `dot`s) of the compiled forward and
    backward pass."""
    import jax

    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss(trainable, query, key_value, mask):
        output, _ = layer.stateless_call(trainable, non_trainable, query,
                                         key_value, mask=mask)
        return output.astype("float32").sum()

    text = jax.jit(jax.grad(loss, argnums=(0, 1, 2))).lower(
        trainable, query, key_value, mask).compile().as_text()
    names = set(re.findall(r'custom_call_target="([^"]+)"', text))
    if re.search(r"\bdot\(", text):
        names.add("XLA dot")
    return sorted(names)


def main():
    import keras

    args = environment.parse_args(__doc__)
    config = sizes.for_stage("kernels", args.smoke)
    names_of = torch_names if keras.config.backend() == "torch" else (
        jax_names)
    results = {"environment": environment.describe(), "config": config,
               "cases": []}
    for dtype in DTYPES:
        for case in CASES:
            layer, inputs = layer_and_inputs(case, dtype, config)
            names = names_of(layer, *inputs)
            results["cases"].append({"case": case, "dtype": dtype,
                                     "kernel": classify(names),
                                     "names": names})
            environment.write_json(args.out, results)
            environment.release_memory()


if __name__ == "__main__":
    main()
