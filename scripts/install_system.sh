#!/usr/bin/env bash
# Installs the Debian tools the tests use: Graphviz (graph drawings) and Chromium (report
# rendering). Idempotent; skipped with a message when not root. Usage: install_system.sh
set -euo pipefail

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
    echo "install_system: graphviz and chromium are installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_system: not root; skipping. To draw graphs and test the HTML report, run:"
    echo "  sudo apt-get install -y ${need[*]}"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_system: no apt-get here; install ${need[*]} with your package manager"
    exit 0
fi

echo "install_system: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" \
        fonts-dejavu-core >/dev/null; then
    echo "install_system: done"
else
    # Not fatal: the tests that need these tools skip, naming this script.
    echo "install_system: warning: could not install ${need[*]}; graph and report tests will skip"
fi
