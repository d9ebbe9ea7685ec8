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
    local name=$1; shift
    echo "=== $name: keras-perceiver --backend jax train $*"
    "$BIN/keras-perceiver" --backend jax train --output-dir "$OUT/$name" \
        "$@" > "$OUT/$name.log" 2>&1
    tail -n 1 "$OUT/$name.log"
}

run() {
    case $1 in
        fsdd) train fsdd --dataset fsdd --data-dir "$DATA/fsdd" --epochs 30 ;;
        msr_action3d) train msr_action3d --dataset msr_action3d \
            --data-dir "$DATA/msr_action3d" --epochs 40 --batch-size 32 ;;
        modelnet40) train modelnet40 --dataset modelnet40 \
            --data-dir "$DATA/modelnet40" --epochs 3 ;;
        mnist) train mnist --dataset mnist --data-dir "$DATA/mnist" \
            --epochs 1 ;;
        multimodal)
            echo "=== multimodal: examples/multimodal_mnist_fsdd.py --epochs 5"
            KERAS_BACKEND=jax "$BIN/python" examples/multimodal_mnist_fsdd.py \
                --epochs 5 > "$OUT/multimodal.log" 2>&1
            tail -n 3 "$OUT/multimodal.log" ;;
        *) echo "unknown run: $1" >&2; exit 2 ;;
    esac
}

for name in "${@:-fsdd msr_action3d modelnet40 mnist multimodal}"; do
    for one in $name; do run "$one"; done
done
