#!/usr/bin/env bash
# Trains the Perceiver on the real data sets in ../shared/data with the
# commands listed in benchmarks/training/README.md, one after the other.
# Each run writes its files to runs/results/<name>/ (metrics.json,
# history.csv, training_curves.png, attention_maps.png, model.keras) and its
# log to runs/results/<name>.log. Run from anywhere after `bash .ci/setup`:
#   bash benchmarks/training/run_all.sh                 # every run
#   bash benchmarks/training/run_all.sh fsdd mnist      # some of them
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=../shared/data
OUT=runs/results
BIN=.venv/bin
mkdir -p "$OUT"

train() {
    local name=$1 backend=$2; shift 2
    echo "=== $name: keras-perceiver --backend $backend train $*"
    "$BIN/keras-perceiver" --backend "$backend" train \
        --output-dir "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1
    tail -n 1 "$OUT/$name.log"
}

run() {
    case $1 in
        digits) train digits jax --dataset digits --epochs 20 ;;
        mnist) train mnist torch --dataset mnist --data-dir "$DATA/mnist" \
            --patch-size 4 --crop-size 24 --mixed-precision --epochs 20 \
            --learning-rate 2e-3 ;;
        fsdd) train fsdd jax --dataset fsdd --data-dir "$DATA/fsdd" \
            --audio-features log_mel --epochs 30 --batch-size 32 \
            --dropout 0.1 ;;
        fsdd_waveform) train fsdd_waveform jax --dataset fsdd \
            --data-dir "$DATA/fsdd" --epochs 30 --schedule constant ;;
        msr_action3d) train msr_action3d jax --dataset msr_action3d \
            --data-dir "$DATA/msr_action3d" --epochs 40 --batch-size 32 \
            --schedule constant ;;
        modelnet40) train modelnet40 jax --dataset modelnet40 \
            --data-dir "$DATA/modelnet40" --epochs 3 --schedule constant ;;
        multimodal)
            echo "=== multimodal: examples/multimodal_mnist_fsdd.py" \
                "--mixed-precision (torch)"
            KERAS_BACKEND=torch "$BIN/python" examples/multimodal_mnist_fsdd.py \
                --mixed-precision > "$OUT/multimodal.log" 2>&1
            tail -n 3 "$OUT/multimodal.log" ;;
        *) echo "unknown run: $1" >&2; exit 2 ;;
    esac
}

for name in "${@:-digits mnist fsdd fsdd_waveform msr_action3d modelnet40 multimodal}"; do
    for one in $name; do run "$one"; done
done
