"""The configurations every benchmark worker reads, full and `--quick`.

Sizes are chosen so that the whole run fits in 20 minutes on a 2-core CPU.
"""

# Perceiver configurations for the throughput comparison. Images go through
# the model's own Fourier features (and perceiver-pytorch's), so both models
# see the same pixels and the same number of position channels.
THROUGHPUT = {
    "small": dict(
        image_shape=(28, 28, 1), num_bands=8, num_classes=10,
        num_latents=64, latent_dim=128, num_blocks=2,
        num_self_attends_per_block=2, num_cross_heads=1, num_self_heads=4,
        batch_size=16,
    ),
    "medium": dict(
        image_shape=(32, 32, 3), num_bands=16, num_classes=10,
        num_latents=128, latent_dim=256, num_blocks=4,
        num_self_attends_per_block=4, num_cross_heads=1, num_self_heads=8,
        batch_size=8,
    ),
}
# The paper's ImageNet model (Table 7: 44.9 M parameters) on 224 x 224 RGB
# images with 64 Fourier bands per axis (261 input channels), for the GPU
# run (benchmarks/gpu); the batch size there is searched.
IMAGENET = dict(
    image_shape=(224, 224, 3), num_bands=64, num_classes=1000,
    num_latents=512, latent_dim=1024, num_blocks=8,
    num_self_attends_per_block=6, num_cross_heads=1, num_self_heads=8,
    batch_size=16,
)
QUICK_THROUGHPUT = {
    "small": dict(THROUGHPUT["small"], num_blocks=1, batch_size=4),
    "medium": dict(
        THROUGHPUT["small"], num_latents=32, latent_dim=64, batch_size=4
    ),
}

# Scaling in the number of inputs M: byte arrays (batch, M, channels) go to
# the Perceiver and to a plain Transformer encoder of the same width.
SCALING = dict(
    # 256 and 512 too, below the 1k..64k range, to show where the two cross.
    input_sizes=[256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
    channels=32, batch_size=1, width=128, num_heads=4, num_classes=10,
    # Perceiver: N latents, B cross-attends, L self-attends per block.
    num_latents=128, num_blocks=2, num_self_attends_per_block=2,
    # Transformer: as many layers as the Perceiver has attention layers.
    num_layers=6,
    # A measurement whose predicted step time exceeds this is not run.
    step_time_limit_s=8.0,
    # Nor one whose predicted attention matrices exceed this many bytes.
    memory_limit_bytes=8 * 2**30,
)
QUICK_SCALING = dict(
    SCALING, input_sizes=[256, 512, 1024, 2048], width=32,
    num_latents=16, num_layers=3, num_blocks=1, step_time_limit_s=1.0,
)

# Large inputs (issue 13): training steps over byte arrays of M x channels
# with the medium Perceiver, batch 4, M from 1k to 1M; each point in its
# own process (benchmarks/large_inputs.py).
LARGE_INPUTS = dict(
    input_sizes=[1024, 4096, 16384, 65536, 262144, 1048576],
    channels=32, batch_size=4,
    # kp.Perceiver's arguments: the medium configuration.
    model=dict(num_classes=10, **{key: THROUGHPUT["medium"][key] for key in (
        "num_latents", "latent_dim", "num_blocks",
        "num_self_attends_per_block", "num_cross_heads", "num_self_heads",
    )}),
    # The chunked runs' input_chunk_size (the default rule's chunk size).
    chunk_size=4096,
    # A point whose step time, predicted from the previous M, exceeds this
    # is not run.
    step_time_limit_s=120.0,
    # And a point that runs longer than this is stopped.
    point_timeout_s=1800,
    timing=dict(warmup=2, repeats=3, steps=1),
)

# Timing: untimed warm-up steps (compilation), then `repeats` timings of
# `steps` steps each; the median over the repeats is reported.
TIMING = dict(warmup=2, repeats=5, steps=1)
QUICK_TIMING = dict(warmup=2, repeats=3, steps=1)

DTYPES = ("float32", "mixed_bfloat16")
KERAS_BACKENDS = ("jax", "tensorflow", "torch")


def throughput_configs(quick):
    return QUICK_THROUGHPUT if quick else THROUGHPUT


def scaling_config(quick):
    return QUICK_SCALING if quick else SCALING


def timing(quick):
    return QUICK_TIMING if quick else TIMING
