#!/usr/bin/env bash
# Installs the Debian tools the tests use: Graphviz (graph drawings) and Chromium (report
# rendering). Idempotent; skipped with a message when not root. Usage: install_system.sh
set -euo pipefail
