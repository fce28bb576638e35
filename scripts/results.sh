#!/usr/bin/env bash
# Reruns every row of docs/results.md: each built-in recipe with its defaults, seed 0.
# Usage: bash scripts/results.sh [PYTHON]    (default .venv/bin/python)
# Needs the data sets (bash scripts/install_data.sh PYTHON). Runs one training at a time;
# about 15 minutes in all on 2 idle cores. Models go to runs/results/DATA-MODEL/.
set -euo pipefail
PY="${1:-.venv/bin/python}"
OUT=runs/results
TIMEFORMAT='wall %1R s'

time "$PY" -m chainrule.cli train --data digits --model mlp --seed 0 --no-progress --out "$OUT/digits-mlp"
time "$PY" -m chainrule.cli train --data mnist --model mlp --seed 0 --no-progress --out "$OUT/mnist-mlp"
time "$PY" -m chainrule.cli train --data mnist --model cnn --seed 0 --no-progress --out "$OUT/mnist-cnn"
time "$PY" -m chainrule.cli train --data fashion-mnist --model mlp --seed 0 --no-progress --out "$OUT/fashion-mnist-mlp"
time "$PY" -m chainrule.cli train --data fashion-mnist --model cnn --seed 0 --no-progress --out "$OUT/fashion-mnist-cnn"
time "$PY" -m chainrule.cli train --data mnist1d --model mlp --seed 0 --no-progress --out "$OUT/mnist1d-mlp"
time "$PY" -m chainrule.cli train --data mnist1d --model cnn --seed 0 --no-progress --out "$OUT/mnist1d-cnn"
time "$PY" -m chainrule.cli train --data mnist1d --model gru --seed 0 --no-progress --out "$OUT/mnist1d-gru"
time "$PY" -m chainrule.cli train --data movie-reviews --model bow-mlp --seed 0 --no-progress --out "$OUT/movie-reviews-bow-mlp"
time "$PY" -m chainrule.cli train --data movie-reviews --model text-cnn --seed 0 --no-progress --out "$OUT/movie-reviews-text-cnn"
time "$PY" -m chainrule.cli train --data movie-reviews --model gru --seed 0 --no-progress --out "$OUT/movie-reviews-gru"
time "$PY" -m chainrule.cli train --data movie-reviews --model lstm --seed 0 --no-progress --out "$OUT/movie-reviews-lstm"
