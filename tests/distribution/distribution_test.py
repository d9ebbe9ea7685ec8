"""Training on many devices: JAX keras.distribution, TF MirroredStrategy,
torch DistributedDataParallel.

Device counts must be fixed before a framework starts, so the multi-device
checks run in fresh processes: JAX with 4 CPU devices from `XLA_FLAGS`,
TensorFlow with 2 logical CPU devices, torch as 2 gloo processes on
127.0.0.1 started by torchrun. Each engine's tests run under its own
backend and are skipped under the others.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from command_line import SCRIPT, assert_one_line_error, run_in_process
from support import TINY_PERCEIVER, compile_classifier, tiny_perceiver

from keras_perceiver.distribution import (
    DistributedTraining,
    jax_distribution,
    perceiver_layout_map,
    tf_strategy,
)

BACKEND = keras.config.backend()
REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
TESTS = pathlib.Path(__file__).resolve().parents[1]

# Data-parallel training must follow the one-device loss trajectory for the
# same global batch. Only the order of the floating-point sums differs (the
# gradient is a mean over devices of means over shards instead of one
# mean), which moves float32 losses by about 1e-7 per step; this tolerance
# leaves room for that to grow over the steps, and is far below the change
# of the loss from one step to the next (about 1e-2 here).
TRAJECTORY_RTOL = 1e-4
TRAJECTORY_ATOL = 1e-5

# One block of one self-attend, here and in the scripts: the engines are
# under test, and each traces or compiles the model's steps.
TINY_MODEL_OPTIONS = [
    "--num-latents", "8", "--latent-dim", "16", "--num-blocks", "1",
    "--num-self-attends-per-block", "1", "--num-self-heads", "2",
    "--num-bands", "4",
]

SCRIPT_MODEL = dict(TINY_PERCEIVER, num_blocks=1,
                    num_self_attends_per_block=1)

only_jax = pytest.mark.skipif(
    BACKEND != "jax", reason="keras.distribution runs on the JAX backend"
)
only_tensorflow = pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="tf.distribute runs on the TensorFlow backend",
)
only_torch = pytest.mark.skipif(
    BACKEND != "torch",
    reason="DistributedDataParallel runs on the torch backend",
)

# Shared by the scripts below: the tiny model, 64 examples, 4 steps of 16.
SCRIPT_HEADER = f"""
import json, sys
sys.path.insert(0, {str(TESTS)!r})
import keras
import numpy as np
from support import compile_classifier
import keras_perceiver as kp
import keras_perceiver.distribution

TINY = {SCRIPT_MODEL!r}
rng = np.random.default_rng(0)
x = rng.random((64, 8, 8, 1), dtype=np.float32)
y = rng.integers(0, TINY["num_classes"], 64)


def new_model(seed=0, metrics=None, **overrides):
    keras.utils.set_random_seed(seed)
    model = compile_classifier(kp.Perceiver(**{{**TINY, **overrides}}),
                               metrics=metrics)
    model.build(x.shape)
    return model


def step_losses(model, epochs=2, batch_size=16):
    losses = []
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            batch = slice(start, start + batch_size)
            losses.append(float(model.train_on_batch(x[batch], y[batch])))
    return losses
"""


def run_script(*parts, env=None, launcher=(), timeout=600):
    """Runs a Python script in a fresh process under the current backend."""
    script = "\n".join(textwrap.dedent(part) for part in parts)
    path = pathlib.Path(os.environ.get("TMPDIR", "/tmp"))
    environment = dict(os.environ, KERAS_BACKEND=BACKEND, **(env or {}))
    if launcher:
        code = path / f"kp_distribution_{os.getpid()}.py"
        code.write_text(script)
        command = [sys.executable, *launcher, str(code)]
    else:
        command = [sys.executable, "-c", script]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True,
        timeout=timeout, cwd=REPOSITORY,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The layout map: on every backend, in this process.


def mesh(model_size=2):
    return keras.distribution.DeviceMesh(
        (2, model_size), axis_names=("batch", "model"),
        devices=[f"cpu:{index}" for index in range(2 * model_size)],
    )


def expected_axes(path):
    """What the README promises for each kind of Perceiver weight."""
    if path.endswith("/latents"):
        return (None, "model")
    if "/attention/" in path and "/output/" not in path:
        return (None, "model") if path.endswith("kernel") else ("model",)
    if path.endswith("attention/output/kernel"):
        return ("model", None)
    if path.endswith("mlp/hidden/kernel"):
        return (None, "model")
    if path.endswith("mlp/hidden/bias"):
        return ("model",)
    if path.endswith("mlp/output/kernel"):
        return ("model", None)
    return None  # replicated: norms, output biases, the head


@pytest.mark.backend_independent
def test_layout_map_shards_latents_attention_and_mlp_weights():
    model = tiny_perceiver(weight_sharing="none")
    model.build((None, 8, 8, 1))
    layout_map = perceiver_layout_map(mesh())
    sharded = 0
    for variable in model.weights:
        layout = layout_map[variable.path]
        expected = expected_axes(variable.path)
        if expected is None:
            assert layout is None, variable.path
            continue
        sharded += 1
        assert tuple(layout.axes) == expected, variable.path
        assert len(layout.axes) == len(variable.shape), variable.path
        assert layout.device_mesh is layout_map.device_mesh
    # latents + per cross-attend and self-attention layer: 6 attention
    # weights (q/k/v kernels and biases) + output kernel + 3 MLP weights.
    blocks = TINY_PERCEIVER["num_blocks"]
    layers = blocks * (1 + TINY_PERCEIVER["num_self_attends_per_block"])
    assert sharded == 1 + 10 * layers


@pytest.mark.backend_independent
def test_layout_map_covers_shared_and_adapter_models():
    from keras_perceiver.adapters import SequenceAdapter

    model = tiny_perceiver(input_adapter=SequenceAdapter(num_bands=2))
    model.build((None, 10, 3))
    layout_map = perceiver_layout_map(mesh(), model_axis="model")
    for variable in model.weights:
        layout = layout_map[variable.path]
        axes = None if layout is None else tuple(layout.axes)
        assert axes == expected_axes(variable.path), variable.path


@pytest.mark.backend_independent
def test_layout_map_rejects_bad_arguments():
    with pytest.raises(ValueError, match="device_mesh.*Received"):
        perceiver_layout_map("mesh")
    with pytest.raises(ValueError, match="model_axis.*Received: model_axis"):
        perceiver_layout_map(mesh(), model_axis="tensor")


@pytest.mark.backend_independent
def test_bad_strategies_are_value_errors():
    with pytest.raises(ValueError, match="strategy.*Received: strategy"):
        DistributedTraining(num_devices=1, strategy="pipeline")
    with pytest.raises(ValueError, match="num_devices.*Received"):
        DistributedTraining(num_devices=0)


@pytest.mark.skipif(BACKEND == "jax", reason="checks the non-JAX backends")
def test_model_parallel_needs_jax():
    with pytest.raises(ValueError, match="JAX.*Received: strategy='model'"):
        DistributedTraining(num_devices=1, strategy="model")
    with pytest.raises(ValueError, match="JAX backend.*Received: backend"):
        jax_distribution("data")


@pytest.mark.skipif(
    BACKEND == "tensorflow", reason="checks the other backends"
)
def test_tf_strategy_needs_tensorflow():
    with pytest.raises(ValueError, match="TensorFlow.*Received: backend"):
        tf_strategy(2)


@only_jax
def test_jax_asks_for_xla_flags_when_devices_are_missing():
    count = len(keras.distribution.list_devices())
    with pytest.raises(ValueError, match="xla_force_host_platform_device"):
        jax_distribution("data", num_devices=count + 1)
    with pytest.raises(ValueError, match="model_parallel.*Received"):
        jax_distribution("model", num_devices=count, model_parallel=count + 1)


# JAX: keras.distribution over 4 CPU devices.

def xla_devices(count):
    """The environment for `count` JAX CPU devices, after the XLA flags
    this process was given (CI's compile-speed flags: .ci/test)."""
    flags = os.environ.get("XLA_FLAGS", "")
    device_count = f"--xla_force_host_platform_device_count={count}"
    return {"XLA_FLAGS": f"{flags} {device_count}".strip()}


JAX_ENV = xla_devices(4)


@pytest.fixture(scope="module")
def jax_runs():
    """One process, 4 CPU devices: one device, data- and model-parallel."""
    if BACKEND != "jax":
        pytest.skip("keras.distribution runs on the JAX backend")
    stdout = run_script(SCRIPT_HEADER, """
        one_device = step_losses(new_model())

        distribution = kp.distribution.jax_distribution("data", 4)
        with distribution.scope():
            model = new_model()
            data_parallel = step_losses(model)
        data_devices = len(model.encoder.latents.value.sharding.device_set)

        # 2 replicas x 2 model shards. Cross-attention widths default to the
        # 19 input channels, which 2 does not divide: those stay replicated.
        distribution = kp.distribution.jax_distribution(
            "model", 4, model_parallel=2)
        with distribution.scope():
            model = new_model()
            model_parallel = step_losses(model)
        layout_map = kp.distribution.perceiver_layout_map(
            distribution.device_mesh)
        report = {}
        for variable in model.weights:
            layout = layout_map[variable.path]
            sharding = variable.value.sharding
            report[variable.path.split("/", 1)[1]] = {
                "shape": list(variable.shape),
                "asked": None if layout is None else list(layout.axes),
                "spec": [a if isinstance(a, (str, type(None))) else list(a)
                         for a in sharding.spec],
                "shard": list(sharding.shard_shape(variable.value.shape)),
                "devices": len(sharding.device_set),
            }
        sharded_moments = sum(
            any(axis is not None for axis in v.value.sharding.spec)
            for v in model.optimizer.variables)
        print(json.dumps({
            "one_device": one_device,
            "data_parallel": data_parallel,
            "data_devices": data_devices,
            "model_parallel": model_parallel,
            "report": report,
            "sharded_moments": sharded_moments,
        }))
    """, env=JAX_ENV)
    return last_json_line(stdout)


@pytest.mark.slow
def test_jax_data_parallel_follows_the_one_device_trajectory(jax_runs):
    one_device = jax_runs["one_device"]
    assert jax_runs["data_devices"] == 4
    assert len(one_device) == 8 and np.isfinite(one_device).all()
    np.testing.assert_allclose(
        jax_runs["data_parallel"], one_device,
        rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL,
    )
    assert one_device[-1] < one_device[0]  # it trains


@pytest.mark.slow
def test_jax_model_parallel_shards_weights_as_the_layout_map_says(jax_runs):
    # Model parallelism changes the order of the sums too, nothing else.
    np.testing.assert_allclose(
        jax_runs["model_parallel"], jax_runs["one_device"],
        rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL,
    )
    report = jax_runs["report"]
    sharded = []
    for path, info in report.items():
        assert info["devices"] == 4, path
        asked = info["asked"]
        spec = info["spec"] + [None] * (len(info["shape"]) - len(info["spec"]))
        divisible = asked is not None and all(
            axis is None or size % 2 == 0
            for axis, size in zip(asked, info["shape"])
        )
        if divisible:
            assert spec == asked, path
            expected_shard = [
                size // 2 if axis else size
                for axis, size in zip(asked, info["shape"])
            ]
            assert info["shard"] == expected_shard, path
            sharded.append(path)
        else:
            assert all(axis is None for axis in spec), path
            assert info["shard"] == info["shape"], path
    # (A Perceiver holds these layers in its encoder.)
    for path in (
        "latents",
        "latent_transformer_0/self_attention_0/attention/query/kernel",
        "latent_transformer_0/self_attention_0/attention/value/bias",
        "latent_transformer_0/self_attention_0/attention/output/kernel",
        "latent_transformer_0/self_attention_0/mlp/hidden/kernel",
        "latent_transformer_0/self_attention_0/mlp/output/kernel",
        "cross_attention_0/mlp/hidden/kernel",
        "cross_attention_0/mlp/output/kernel",
    ):
        assert f"encoder/{path}" in sharded, path
    # The 19-wide cross-attention projections stay replicated.
    key = "encoder/cross_attention_0/attention/key/kernel"
    assert key not in sharded and report[key]["shard"] == [19, 19]
    # Adam's two moments per weight follow their weights' layouts.
    assert jax_runs["sharded_moments"] == 2 * len(sharded)


# TensorFlow: MirroredStrategy over 2 logical CPU devices.


@pytest.mark.slow
@only_tensorflow
def test_tf_mirrored_strategy_follows_the_one_device_trajectory():
    stdout = run_script("""
        import keras_perceiver.distribution as kpd
        # Before TensorFlow runs anything: split the CPU in two.
        strategy = kpd.tf_strategy(2)
    """, SCRIPT_HEADER, """
        one_device = step_losses(new_model())
        with strategy.scope():
            model = new_model()
        two_devices = step_losses(model)
        replicas = strategy.num_replicas_in_sync
        mirrored = type(model.encoder.latents.value).__name__
        print(json.dumps([one_device, two_devices, replicas, mirrored]))
    """)
    one_device, two_devices, replicas, mirrored = last_json_line(stdout)
    assert replicas == 2
    assert "Mirrored" in mirrored
    np.testing.assert_allclose(
        two_devices, one_device, rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL
    )


# PyTorch: DistributedDataParallel, 2 gloo processes on 127.0.0.1.


@pytest.mark.slow
@only_torch
def test_torch_ddp_follows_the_one_process_trajectory(tmp_path):
    metrics = ('["accuracy", keras.metrics.SparseTopKCategoricalAccuracy('
               'k=2, name="top_2")]')  # also compiled in the reference below
    launcher = (
        "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}",
    )
    env = {"OMP_NUM_THREADS": "1"}
    if pathlib.Path("/sys/class/net/lo").exists():
        env["GLOO_SOCKET_IFNAME"] = "lo"
    run_script(SCRIPT_HEADER, f"""
        import torch.distributed as dist
        training = kp.distribution.DistributedTraining(num_devices=2)
        assert dist.get_backend() == "gloo"
        # Different initial weights per process: DDP must copy rank 0's.
        model = new_model(seed=training.rank, metrics={metrics})
        history = training.fit(model, x, y, batch_size=16, epochs=2,
                               shuffle=False, verbose=0,
                               validation_data=(x[:24], y[:24]))
        weights = [float(keras.ops.sum(w.value)) for w in model.weights]
        out = {str(tmp_path)!r} + f"/rank{{training.rank}}.json"
        with open(out, "w") as file:
            json.dump([history.history, weights, training.num_devices], file)
        training.finish()
    """, env=env, launcher=launcher)
    runs = [json.loads((tmp_path / f"rank{rank}.json").read_text())
            for rank in (0, 1)]
    (history, weights, devices), (other_history, other_weights, _) = runs
    assert devices == 2
    assert history == other_history
    np.testing.assert_allclose(weights, other_weights, rtol=1e-6, atol=1e-6)

    # The same global batches in one process: keras' own fit.
    rng = np.random.default_rng(0)
    x = rng.random((64, 8, 8, 1), dtype=np.float32)
    y = rng.integers(0, SCRIPT_MODEL["num_classes"], 64)
    keras.utils.set_random_seed(0)
    model = compile_classifier(tiny_perceiver(**SCRIPT_MODEL), metrics=[
        "accuracy",
        keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top_2")])
    model.build(x.shape)
    reference = model.fit(x, y, batch_size=16, epochs=2, shuffle=False,
                          verbose=0, validation_data=(x[:24], y[:24]))
    # The loss and every compiled metric, of training and validation, as
    # keras' fit reports them.
    assert sorted(history) == sorted(reference.history)
    for name in reference.history:
        np.testing.assert_allclose(
            history[name], reference.history[name],
            rtol=TRAJECTORY_RTOL, atol=TRAJECTORY_ATOL, err_msg=name,
        )


# The command line, on each backend, started as README's command runs the
# `keras-perceiver` script: `--backend` chooses, KERAS_BACKEND unset (Keras's
# default would be TensorFlow).

# TensorFlow's C++ logging ("I0000 00:00:... port.cc:153] oneDNN ...") and
# its start-up notices.
TENSORFLOW_LOG_LINE = re.compile(
    r"^[IWEF]\d{4} |tensorflow/|TensorFlow binary|oneDNN|TF_ENABLE_ONEDNN"
)


def cli(*arguments, env=None):
    """`keras-perceiver --backend BACKEND ARGUMENTS` in a new process."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL",
                                  "TF_ENABLE_ONEDNN_OPTS")}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, "--backend", BACKEND, *arguments],
        capture_output=True, text=True, timeout=600, cwd=REPOSITORY,
        env={**environment, **(env or {})},
    )


@pytest.mark.slow
def test_train_on_two_devices_from_the_command_line(tmp_path):
    env = xla_devices(2)
    if BACKEND == "torch":
        env = {"OMP_NUM_THREADS": "1"}
        if pathlib.Path("/sys/class/net/lo").exists():
            env["GLOO_SOCKET_IFNAME"] = "lo"
    # Global batches of 180: 8 training steps instead of 64's 21. (The 359
    # test examples as one odd batch, --batch-size 2048, fail in
    # MirroredStrategy's evaluate; 180 then 179 pass, as 64s then 39 do.)
    result = cli("train", "--dataset", "digits", "--epochs", "1",
                 "--devices", "2", "--batch-size", "180",
                 "--output-dir", str(tmp_path), *TINY_MODEL_OPTIONS, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["backend"] == BACKEND
    assert metrics["devices"] == 2 and metrics["distribution"] == "data"
    assert np.isfinite(metrics["test_loss"])
    for name in ("model.keras", "history.csv", "attention_maps.png"):
        assert (tmp_path / name).is_file(), name
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert len(rows) == 2  # header and one epoch, written once (rank 0)
    assert "on 2 devices (data parallel)" in result.stdout
    if BACKEND != "tensorflow":
        # Training off TensorFlow prints none of TensorFlow's log lines.
        log_lines = [line for line in result.stderr.splitlines()
                     if TENSORFLOW_LOG_LINE.search(line)]
        assert not log_lines, log_lines


def bad_combinations():
    combinations = [
        pytest.param(["--devices", "0"], {}, "--devices must be a positive",
                     marks=pytest.mark.backend_independent),
    ]
    if BACKEND == "jax":
        combinations += [
            (["--devices", "64"], {}, "XLA_FLAGS=--xla_force_host_platform"),
            (["--devices", "2", "--batch-size", "3"],
             xla_devices(2),
             "--batch-size must be a multiple of the 2"),
        ]
    else:
        # The same check on TensorFlow and torch.
        combinations.append(pytest.param(
            ["--devices", "2", "--distribution", "model"], {},
            "--distribution model needs the JAX backend",
            marks=pytest.mark.backend_independent,
        ))
    return combinations


@pytest.mark.parametrize("arguments, env, message", bad_combinations())
def test_bad_device_options_are_one_line_errors(arguments, env, message):
    # A new process only where the device count is the point (XLA_FLAGS).
    arguments = ["train", "--dataset", "digits", *arguments]
    result = (cli(*arguments, env=env) if env
              else run_in_process(*arguments))
    assert_one_line_error(result, message)
