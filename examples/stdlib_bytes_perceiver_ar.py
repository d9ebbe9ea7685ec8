"""Perceiver AR against a causal Transformer on the standard library's bytes.

Both models read UTF-8 bytes of the Python standard library's source
(`keras_perceiver.datasets.load_stdlib_bytes`: the `*.py` files of the
running Python, split by file, nothing downloaded) and learn to predict
the next byte.

- Perceiver AR (`PerceiverCausalLM`): a context of `--context` bytes, the
  last `--latents` of them latents, one causal cross-attend and
  `--layers` causal self-attends.
- The causal Transformer: the same class with every position a latent
  (`num_latents == max_context`), so the cross-attend is a causal
  self-attend and the model is a decoder-only Transformer of
  `--layers` + 1 layers, of the same width. Its context is chosen so
  that one window costs the same FLOPs as the Perceiver AR's
  (`reports.causal_lm_forward_flops`, counted analytically); both train
  the same number of steps of the same batch size, so the training
  compute is equal. The parameters then differ by the position table
  only; the script refuses a configuration where they differ by more
  than 5 %.

Each model trains for at most `--max-minutes` (the Perceiver AR first;
the Transformer then trains as many steps as it did). Half the Perceiver
AR's training windows lose a random part of their prefix to left padding,
so that it learns the positions of short prompts too. Validation: bits per
byte of each model's next-byte predictions on fixed windows of the
held-out files. Generation: the Perceiver AR continues a held-out prompt
greedily with and without its key/value cache (the bytes must be the
same); tokens per second of each, of wall time and of the process's CPU
time, after a warm-up run of the same sizes (which compiles the cached
steps).
Writes `stdlib_bytes_perceiver_ar_metrics.json` to `--output-dir`.

    KERAS_BACKEND=jax python examples/stdlib_bytes_perceiver_ar.py \
        --output-dir benchmarks/training
"""

import json
import math
import pathlib
import platform
import sys
import time

import keras
import numpy as np
from common import parse_args

import keras_perceiver as kp

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
MAX_PARAMETER_GAP = 0.05


def add_arguments(parser):
    parser.add_argument("--context", type=int, default=512)
    parser.add_argument("--latents", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4,
                        help="the Perceiver AR's self-attends")
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--max-minutes", type=float, default=8.0,
                        help="training time limit of each model")
    parser.add_argument("--validation-windows", type=int, default=512)
    parser.add_argument("--prompt-bytes", type=int, default=64)
    parser.add_argument("--generate-bytes", type=int, default=128)


def causal_lm(args, context, num_latents):
    return kp.PerceiverCausalLM(
        max_context=context, num_latents=num_latents,
        latent_dim=args.latent_dim, num_self_attends=args.layers,
        num_self_heads=4, widening_factor=4,
    )


def matched_transformer(args, perceiver_ar):
    """The causal Transformer whose window costs the Perceiver AR's FLOPs."""
    target = kp.reports.causal_lm_forward_flops(perceiver_ar)

    def gap(context):
        model = causal_lm(args, context, context)
        return abs(kp.reports.causal_lm_forward_flops(model) - target)

    context = min(range(2, args.context + 1), key=gap)
    return causal_lm(args, context, context)


def built(model):
    model(np.full((1, model.max_context), 7, "int32"))
    return model


def left_padded(windows, num_latents, rng):
    """Half the windows lose a random part of their prefix to padding."""
    windows = windows.copy()
    prefix = windows.shape[1] - 1 - num_latents
    for row in np.flatnonzero(rng.random(len(windows)) < 0.5):
        windows[row, : rng.integers(0, prefix + 1)] = kp.ByteTokenizer.pad_id
    return windows


def inputs_and_targets(windows, num_latents):
    return windows[:, :-1], windows[:, -num_latents:]


class StepAndTimeLimit(keras.callbacks.Callback):
    """Stops training after `max_steps` steps or `seconds`, whichever
    comes first; counts the steps trained."""

    def __init__(self, max_steps, seconds):
        super().__init__()
        self.max_steps = max_steps
        self.seconds = seconds
        self.steps = 0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        seconds = time.perf_counter() - self.started
        if self.steps >= self.max_steps or seconds > self.seconds:
            self.model.stop_training = True


def train(model, corpus, args, steps, seed, pad=False):
    """Trains on `steps` batches of random windows; returns the steps
    trained and the seconds."""
    windows = kp.datasets.byte_windows(
        corpus["train"], model.max_context + 1, steps * args.batch_size,
        seed=seed)
    if pad:
        windows = left_padded(windows, model.num_latents,
                              np.random.default_rng(seed))
    planned = args.epochs * args.steps_per_epoch
    kp.training.compile_for_causal_lm(
        model, kp.training.warmup_cosine_decay(args.learning_rate, planned))
    limit = StepAndTimeLimit(steps, args.max_minutes * 60)
    x, y = inputs_and_targets(windows, model.num_latents)
    model.fit(x, y, batch_size=args.batch_size, shuffle=False,
              epochs=math.ceil(steps / args.steps_per_epoch),
              steps_per_epoch=min(steps, args.steps_per_epoch),
              callbacks=[limit], verbose=2)
    return limit.steps, time.perf_counter() - limit.started


def validation_bits_per_byte(model, corpus, args):
    windows = kp.datasets.byte_windows(
        corpus["validation"], model.max_context + 1,
        args.validation_windows, seed=1)
    x, y = inputs_and_targets(windows, model.num_latents)
    loss = model.evaluate(x, y, batch_size=args.batch_size, verbose=0)
    return kp.training.bits_per_byte(float(loss))


def tokens_per_second(model, prompt, args, use_cache):
    """Greedy generation's bytes and speed, per second of wall time and
    of this process's CPU time (after a warm-up run)."""
    for _ in range(2):  # the first run compiles; the second is timed
        started, cpu_started = time.perf_counter(), time.process_time()
        generated = model.generate(prompt, args.generate_bytes,
                                   use_cache=use_cache)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    return (generated, args.generate_bytes / seconds,
            args.generate_bytes / cpu_seconds)


def machine():
    sys.path.insert(0, str(REPOSITORY))
    from benchmarks import machine as benchmark_machine

    return {**benchmark_machine.describe(),
            "lscpu_flags": benchmark_machine.lscpu_flags()}


def main():
    args = parse_args(__doc__, "", epochs=4, batch_size=16,
                      add_arguments=add_arguments)
    corpus = kp.datasets.load_stdlib_bytes()
    perceiver_ar = built(causal_lm(args, args.context, args.latents))
    transformer = built(matched_transformer(args, perceiver_ar))
    parameters = [perceiver_ar.count_params(), transformer.count_params()]
    if abs(parameters[1] / parameters[0] - 1) > MAX_PARAMETER_GAP:
        raise SystemExit(
            f"The models' parameters differ by more than 5 %: {parameters}; "
            "choose another --context, --latents or --latent-dim")
    planned = args.epochs * args.steps_per_epoch
    ar_steps, ar_seconds = train(perceiver_ar, corpus, args, planned, 0,
                                 pad=True)
    steps, transformer_seconds = train(transformer, corpus, args, ar_steps, 2)
    start = len(corpus["validation"]) // 2
    prompt = bytes(corpus["validation"][start: start + args.prompt_bytes])
    cached, cached_speed, cached_cpu_speed = tokens_per_second(
        perceiver_ar, prompt, args, True)
    uncached, uncached_speed, uncached_cpu_speed = tokens_per_second(
        perceiver_ar, prompt, args, False)
    results = {
        "validation_bits_per_byte_perceiver_ar":
            validation_bits_per_byte(perceiver_ar, corpus, args),
        "validation_bits_per_byte_transformer":
            validation_bits_per_byte(transformer, corpus, args),
        "parameters_perceiver_ar": parameters[0],
        "parameters_transformer": parameters[1],
        "context_perceiver_ar": perceiver_ar.max_context,
        "latents_perceiver_ar": perceiver_ar.num_latents,
        "context_transformer": transformer.max_context,
        "forward_flops_per_window_perceiver_ar":
            kp.reports.causal_lm_forward_flops(perceiver_ar),
        "forward_flops_per_window_transformer":
            kp.reports.causal_lm_forward_flops(transformer),
        "training_steps": steps,
        "planned_steps": planned,
        "batch_size": args.batch_size,
        "training_seconds_perceiver_ar": round(ar_seconds),
        "training_seconds_transformer": round(transformer_seconds),
        "generated_bytes": args.generate_bytes,
        "prompt_bytes": args.prompt_bytes,
        "tokens_per_second_cached": cached_speed,
        "tokens_per_second_uncached": uncached_speed,
        "tokens_per_cpu_second_cached": cached_cpu_speed,
        "tokens_per_cpu_second_uncached": uncached_cpu_speed,
        "cached_equals_uncached": cached == uncached,
        "prompt": prompt.decode("utf-8", errors="replace"),
        "continuation": cached.decode("utf-8", errors="replace"),
        "corpus": {
            "folder": corpus["folder"],
            "python": platform.python_version(),
            "train_files": len(corpus["train_files"]),
            "validation_files": len(corpus["validation_files"]),
            "train_bytes": len(corpus["train"]),
            "validation_bytes": len(corpus["validation"]),
        },
        "backend": keras.config.backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        "machine": machine(),
    }
    print(json.dumps({key: value for key, value in results.items()
                      if key != "machine"}, indent=2))
    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "stdlib_bytes_perceiver_ar_metrics.json").write_text(
        json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
