#!/usr/bin/env bash
# Set-up and the two jobs of the README, on a fresh machine with only Python 3.10+.
#   bash dev.sh demo   install, build the default index from the bundled corpus, answer a query
#   bash dev.sh test   install, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  # torch first, pinned: this version installs a CPU build from a local wheel; any other
  # torch requirement would pull several GB of CUDA packages.
  if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null; then
    "$PY" -m pip install --quiet "torch==2.13.0"
  fi
  "$PY" -m pip install --quiet -e ".[test,web]"
}

case "${1:-}" in
  demo)
    setup
    shift || true
    policyidx build
    policyidx search "知识产权质押融资 保险" -k 5
    ;;
  test)
    setup
    shift || true
    "$PY" -m pytest -q "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: bash dev.sh demo | test | setup" >&2
    exit 2
    ;;
esac
