#!/usr/bin/env bash
# Set everything up (system packages for the PDFs, .venv, the package), then run one thing:
#   ./run.sh demo   — generate the demo county and run the weekly flow on its latest week
#   ./run.sh test   — the whole test suite
#   ./run.sh setup  — only set up
set -euo pipefail
cd "$(dirname "$0")"

SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk poppler-utils)
# the test suite also starts a Prefect server on its own PostgreSQL instance (tests/flows/test_prefect_server.py)
[ "${1:-setup}" = test ] && SYSTEM_PACKAGES+=(postgresql)

missing_packages() {
  local p
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "需要 root 权限安装系统软件包: $*" >&2; exit 1; fi
}

setup_system() {
  command -v dpkg-query >/dev/null || { echo "not a Debian system: install ${SYSTEM_PACKAGES[*]} by hand" >&2; return; }
  local missing
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    echo "==> installing system packages: $missing"
    as_root apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

setup_python() {
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    if ! "$python" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv .venv
    fi
  fi
  if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check uv
  fi
  echo "==> installing evalprep into .venv"
  .venv/bin/uv pip install -q --python .venv/bin/python -e '.[test]'
}

setup_system
setup_python

case "${1:-setup}" in
  demo) shift; exec .venv/bin/evalprep demo "$@" ;;
  test) shift; exec .venv/bin/python -m pytest "$@" ;;
  setup) ;;
  *) echo "usage: ./run.sh demo|test|setup" >&2; exit 2 ;;
esac
