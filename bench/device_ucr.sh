#!/usr/bin/env bash
# Issue 11's ACSF1 recipe on the GPU machine: the published FCN's budget (2,000 epochs
# at batches of 10 on z-normalised series, about 20,000 updates) is over 2 hours a fit on
# one core of the 2-core VM (docs/benchmarks.md), minutes on a GPU.
#
# Here, once (.whl/ and .ucr/ are git-ignored):
#   the wheels as in bench/device_gpu.sh, then
#   python bench/bench_ucr.py ACSF1 --export .ucr
# then, with the device tool: run(command="bash bench/device_ucr.sh", carry=[".whl", ".ucr"]).
# SEEDS=0,1,2 for a mean; CONFIGS=recipe,defaults to time the defaults there too.
# On a CPU, a smoke run: EPOCHS=1 bash bench/device_ucr.sh
set -uo pipefail
source bench/device_env.sh
SEEDS=${SEEDS:-0}; CONFIGS=${CONFIGS:-recipe}; EPOCHS=${EPOCHS:-2000}; PATIENCE=${PATIENCE:-100}
KERAS_BACKEND=${KERAS_BACKEND:-jax} python3 bench/bench_ucr.py ACSF1 --npz .ucr \
    --configs "$CONFIGS" --seeds "$SEEDS" \
    --recipe "{\"epochs\": $EPOCHS, \"n_iter_no_change\": $PATIENCE}" | tee -a "$OUT/ucr.txt"
