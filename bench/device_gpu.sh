#!/usr/bin/env bash
# Issue 13's GPU measurements as one prepared run for the device machine (JAX and
# PyTorch there, no Keras): about 5-8 minutes on an H100 / H200 at the default sizes.
#
# Here, once (.whl/ is git-ignored):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl keras==3.15.1 namex optree
# then, with the device tool: run(command="bash bench/device_gpu.sh", carry=[".whl"]).
# On a CPU, a smoke run: N=256 NV=256 STEPS="20 40" bash bench/device_gpu.sh
# Every result is one JSON line (device name included) in $OUT/gpu.jsonl.
set -uo pipefail
source bench/device_env.sh
N=${N:-16384}; NV=${NV:-8192}; EPOCHS=${EPOCHS:-2}; STEPS=${STEPS:-"100 1000"}
first=${STEPS%% *}
run() { echo "== $*"; python3 bench/bench_gpu.py --epochs "$EPOCHS" "$@" | tee -a "$OUT/gpu.jsonl"; }
# JAX: equal lengths against Keras fit and the plain cuDNN loop; the batch sweep;
# variable lengths; then the same with skrnn's kernels off (what Keras alone gives).
KERAS_BACKEND=jax run --n "$N" --steps $STEPS --torch-loop
KERAS_BACKEND=jax run --n "$N" --steps "$first" --batch 1024
KERAS_BACKEND=jax run --n "$N" --steps "$first" --batch 1024 --hold off --skip-keras
KERAS_BACKEND=jax run --lengths lognormal --n "$NV" --torch-loop
SKRNN_FUSED_KERNELS=off KERAS_BACKEND=jax run --lengths lognormal --n "$NV" --skip-keras
KERAS_BACKEND=jax run --lengths lognormal --n "$NV" --skip-keras --hold off
# PyTorch backend against the plain loop.
KERAS_BACKEND=torch run --n "$N" --steps "$first" --torch-loop
KERAS_BACKEND=torch run --lengths lognormal --n "$NV" --torch-loop --skip-keras
