#!/usr/bin/env bash
# Checks and measures keras-perceiver on a GPU, on JAX and torch, in at most
# 8 minutes (benchmarks/gpu/README.md):
#
#     bash benchmarks/gpu/run.sh [--out DIR]      # on the GPU machine
#     bash benchmarks/gpu/run.sh --smoke [--out DIR]   # the same on the CPU,
#                                                 # tiny, for CI
#
# 1. correctness, 2. attention kernels, 3. large inputs and ImageNet-config
# training speed, 4. <DIR>/<gpu-name>-<date>.{json,md} (DIR defaults to
# benchmarks/gpu/results; with --smoke, to a temporary folder), rewritten
# after every stage. Each stage runs each backend in its own Python process
# under its own timeout, and the whole run within the budget. The GPU run
# first installs the wheels of prepare.sh (.whl/) into /tmp/site. Exits 1
# if a stage failed, 2 on bad arguments.
set -uo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/gpu/common.sh

smoke=0
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --out)
            [ $# -ge 2 ] && [ -n "$2" ] || die "--out needs a folder"
            out=$2
            shift ;;
        *) die "unknown argument '$1' (expected --smoke or --out DIR)" ;;
    esac
    shift
done

PYTHON=${PYTHON:-python3}
smoke_flag=()
if [ $smoke = 1 ]; then
    # The timeouts catch hangs here: three times the GPU run's, as the CPU
    # may be shared.
    budget=600
    scale=3
    out=${out:-$(mktemp -d)}
    smoke_flag=(--smoke)
    # The CPU only, one thread per process: the machine may be shared. XLA
    # compiles without LLVM's optimisations and with its older CPU fusion
    # emitters (half the compile time of a training step): --smoke checks
    # that every stage runs, its timings mean nothing. Only XLA's own
    # flags: XLA ignores every flag after one it does not know.
    export JAX_PLATFORMS=cpu OMP_NUM_THREADS=1 CUDA_VISIBLE_DEVICES=""
    export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false --xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false --xla_cpu_parallel_codegen_split_count=1"
else
    budget=480
    scale=1
    out=${out:-benchmarks/gpu/results}
    [ -d "$WHEELS" ] || die "no $WHEELS folder: run 'bash benchmarks/gpu/prepare.sh' first"
    [ "$(cat "$WHEELS/SOURCE_SHA256" 2>/dev/null)" = "$(source_hash)" ] \
        || die "the wheels in $WHEELS were built from other source: run 'bash benchmarks/gpu/prepare.sh' again"
    $PYTHON -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
        || die "installing the wheels of $WHEELS failed"
    export PYTHONPATH=/tmp/site:$PWD
    # Each process may take most of the GPU's memory, not JAX's default 75 %.
    export XLA_PYTHON_CLIENT_MEM_FRACTION=0.9
fi
export PYTHONPATH=${PYTHONPATH:-$PWD} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$out" || die "cannot make the folder $out"
work=$(mktemp -d)
deadline=$budget  # seconds from the start, the install included

# run_step NAME LIMIT_S ENV... -- COMMAND...: runs one step in WORK with a
# timeout (LIMIT_S, or less if less of the budget is left; the command
# finds it in GPU_BENCH_STEP_LIMIT_S) and writes NAME.status ("ok" or why
# not) and NAME.log.
run_step() {
    local name=$1 limit=$2 left=$((deadline - SECONDS))
    shift 2
    local env=()
    while [ "$1" != "--" ]; do env+=("$1"); shift; done
    shift
    if [ $left -lt 5 ]; then
        echo "not run: the ${budget} s budget was spent" >"$work/$name.status"
        return
    fi
    limit=$((limit * scale))
    [ $limit -gt $left ] && limit=$left
    echo "== $name (at most $limit s)"
    env "${env[@]}" GPU_BENCH_STEP_LIMIT_S=$limit \
        timeout --kill-after=10 $limit "$@" \
        >"$work/$name.log" 2>&1
    local rc=$?
    case $rc in
        0) echo ok ;;
        124|137) echo "timed out after $limit s" ;;
        *) echo "exit status $rc" ;;
    esac >"$work/$name.status"
    echo "   $(cat "$work/$name.status")"
    [ $rc = 0 ] || tail -n 20 "$work/$name.log"
}

# together COMMAND...: in the background with --smoke (the stages' steps run
# side by side on the CPU), in turn on the GPU (so that timings are alone).
together() {
    if [ $smoke = 1 ]; then "$@" & else "$@"; fi
}

write_results() {
    KERAS_BACKEND=numpy $PYTHON -m benchmarks.gpu.results --work "$work" \
        --out "$out" --elapsed $SECONDS --budget $budget "${smoke_flag[@]}" \
        || echo "writing the results failed" >"$work/results-writer.status"
}

worker() {  # worker MODULE STAGE-NAME: the module's command line
    echo $PYTHON -m "benchmarks.gpu.$1" --out "$work/$2.json" "${smoke_flag[@]}"
}

# 1. Correctness: the CPU references and the GPU runs at once (the CPU
# halves leave the GPU alone), then the comparisons.
cpu_only=(JAX_PLATFORMS=cpu CUDA_VISIBLE_DEVICES=)
for backend in torch jax; do
    run_step correctness-$backend-cpu 200 KERAS_BACKEND=$backend \
        "${cpu_only[@]}" -- $PYTHON -m benchmarks.gpu.correctness \
        --out "$work/$backend-cpu.npz" "${smoke_flag[@]}" &
    if [ $smoke = 0 ]; then
        run_step correctness-$backend-gpu 200 KERAS_BACKEND=$backend \
            XLA_PYTHON_CLIENT_PREALLOCATE=false -- \
            $PYTHON -m benchmarks.gpu.correctness \
            --out "$work/$backend-gpu.npz" &
    fi
done
wait
# --smoke has no GPU: the CPU run stands in for it.
device=$([ $smoke = 1 ] && echo cpu || echo gpu)
for backend in torch jax; do
    run_step correctness-$backend 60 KERAS_BACKEND=$backend -- \
        $PYTHON -m benchmarks.gpu.correctness --out \
        "$work/correctness-$backend.json" --compare \
        "$work/$backend-cpu.npz" "$work/$backend-$device.npz"
done
write_results

# 2. Attention kernels.
together run_step kernels-torch 40 KERAS_BACKEND=torch -- \
    $(worker kernels kernels-torch)
together run_step kernels-jax 60 KERAS_BACKEND=jax -- \
    $(worker kernels kernels-jax)
wait
# --smoke skips this write and the next (3 CPU-s each): the one after
# stage 1 took every path of a partial write.
[ $smoke = 1 ] || write_results

# 3. Large inputs, then the ImageNet-config training speed (its batch
# search fits the time its step is given).
together run_step large_inputs-torch 50 KERAS_BACKEND=torch -- \
    $(worker large_step large_inputs-torch)
together run_step large_inputs-jax 60 KERAS_BACKEND=jax -- \
    $(worker large_step large_inputs-jax)
wait
[ $smoke = 1 ] || write_results
together run_step throughput-torch 80 KERAS_BACKEND=torch -- \
    $(worker imagenet_throughput throughput-torch)
together run_step throughput-perceiver_pytorch 70 KERAS_BACKEND=torch -- \
    $(worker imagenet_throughput throughput-perceiver_pytorch) --reference
together run_step throughput-jax 100 KERAS_BACKEND=jax -- \
    $(worker imagenet_throughput throughput-jax)
wait

# 4. The results; exit status 1 if a step did not end well.
write_results
! grep -qvx ok "$work"/*.status
status=$?
rm -rf "$work"
exit $status
