"""The sizes of every stage of `benchmarks/gpu/run.sh`: the GPU run and
`--smoke` (the same stages on the CPU, tiny, in CI)."""

from benchmarks import configs

SMALL_MODEL = {key: configs.THROUGHPUT["small"][key] for key in (
    "num_classes", "num_latents", "latent_dim", "num_blocks",
    "num_self_attends_per_block", "num_cross_heads", "num_self_heads",
    "num_bands")}
IMAGENET_MODEL = {key: configs.IMAGENET[key] for key in SMALL_MODEL}
# --smoke's model: one block, as XLA's compilations of its steps are most
# of the smoke run's time.
TINY_MODEL = dict(num_classes=5, num_latents=8, latent_dim=16, num_blocks=1,
                  num_self_attends_per_block=1, num_cross_heads=1,
                  num_self_heads=2, num_bands=2)

# Stage 1. Each case is a model, a batch of images (`image_shape`) or of
# byte arrays with a mask (`num_inputs` x `channels`), and the
# `input_chunk_size` of each variant (None: the model's default rule).
CORRECTNESS = {
    "small": dict(model=SMALL_MODEL, image_shape=(28, 28, 1), batch_size=2,
                  variants={"whole": 784, "chunked": 196}),
    "small_masked": dict(model=SMALL_MODEL, num_inputs=1000, channels=16,
                         batch_size=2,
                         variants={"whole": 1000, "chunked": 256}),
    # The default rule chunks ImageNet's 50,176 inputs (chunks of 4096).
    "imagenet": dict(model=IMAGENET_MODEL, image_shape=(224, 224, 3),
                     batch_size=1, variants={"default": None}),
}
# --smoke leaves out the ImageNet case: the same code as "small", and
# JAX's compilations are most of the smoke run's time. Two blocks, so that
# the comparisons cover the cross-attends that share weights.
SMOKE_CORRECTNESS_MODEL = dict(TINY_MODEL, num_blocks=2)
SMOKE_CORRECTNESS = {
    "small": dict(CORRECTNESS["small"], model=SMOKE_CORRECTNESS_MODEL,
                  image_shape=(6, 6, 1), variants={"whole": 36,
                                                   "chunked": 10}),
    "small_masked": dict(CORRECTNESS["small_masked"],
                         model=SMOKE_CORRECTNESS_MODEL,
                         num_inputs=40, channels=4,
                         variants={"whole": 40, "chunked": 16}),
}

# Stage 2: the attention layers of the ImageNet model. Cross-attention:
# 512 latents of width 1024 over 50,176 inputs of 261 channels, one head
# (as wide as the inputs); self-attention: 8 heads of width 128.
KERNELS = dict(batch_size=2, num_latents=512, latent_dim=1024,
               num_inputs=50176, channels=261, num_self_heads=8,
               chunk_size=4096)
SMOKE_KERNELS = dict(batch_size=1, num_latents=8, latent_dim=16,
                     num_inputs=64, channels=8, num_self_heads=2,
                     chunk_size=16)

# Stage 3: training images/s of the ImageNet model in mixed bfloat16, the
# batch doubled from `start_batch` until it does not fit, reaches
# `max_batch` or the search would pass `time_cap_s`.
THROUGHPUT = dict(config=configs.IMAGENET, dtype="mixed_bfloat16",
                  start_batch=32, max_batch=1024, time_cap_s=100,
                  timing=dict(warmup=2, repeats=3, steps=1))
SMOKE_THROUGHPUT = dict(
    THROUGHPUT, config=dict(configs.IMAGENET, image_shape=(8, 8, 3),
                            **TINY_MODEL),
    start_batch=2, max_batch=4, time_cap_s=60,
    timing=dict(warmup=1, repeats=1, steps=1))

# Stage 3, large inputs: `benchmarks.large_inputs`' medium Perceiver,
# batch 4, 32 channels, chunked cross-attention, at M = 1M and 4M.
LARGE_INPUTS = dict(configs.LARGE_INPUTS, input_sizes=[2**20, 2**22])
SMOKE_LARGE_INPUTS = dict(
    LARGE_INPUTS, input_sizes=[256, 1024], chunk_size=128,
    model={key: TINY_MODEL[key] for key in LARGE_INPUTS["model"]},
    timing=dict(warmup=1, repeats=1, steps=1))

STAGES = {
    "correctness": (CORRECTNESS, SMOKE_CORRECTNESS),
    "kernels": (KERNELS, SMOKE_KERNELS),
    "throughput": (THROUGHPUT, SMOKE_THROUGHPUT),
    "large_inputs": (LARGE_INPUTS, SMOKE_LARGE_INPUTS),
}


def for_stage(stage, smoke):
    """The sizes of `stage`: the GPU run's, or `--smoke`'s."""
    full, tiny = STAGES[stage]
    return tiny if smoke else full
