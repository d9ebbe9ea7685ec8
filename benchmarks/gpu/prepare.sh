#!/usr/bin/env bash
# Gathers the wheels the GPU machine lacks into .whl/ (git-ignored): keras
# and the two of its requirements the machine's image does not hold (namex,
# optree), perceiver-pytorch (the reference), and this package built from
# the working tree. Run here, where PyPI is reachable, before each GPU run:
#
#     bash benchmarks/gpu/prepare.sh
#
# run.sh refuses the wheels if the package's source changed since.
set -euo pipefail
cd "$(dirname "$0")/../.."
. benchmarks/gpu/common.sh

# Keras as the tests here run it; the rest as the benchmarks here ran it.
PINNED=(keras==3.15.1 namex==0.1.0 optree==0.20.0 perceiver-pytorch==0.11.0)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64
           manylinux2014_x86_64 manylinux1_x86_64)

rm -rf "$WHEELS"
mkdir -p "$WHEELS"
python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp \
    "${PLATFORMS[@]/#/--platform=}" -d "$WHEELS" "${PINNED[@]}"
python3 -m pip wheel -q --no-deps -w "$WHEELS" .
python3 -m benchmarks.gpu.check_wheels "$WHEELS"
source_hash >"$WHEELS/SOURCE_SHA256"
ls "$WHEELS"
