#!/usr/bin/env bash
# Installs kubeline and what its runs and tests need on a fresh Debian machine. Idempotent.
#   scripts/install.sh          kubeline + bubblewrap (enough to run pipelines locally)
#   scripts/install.sh --test   also test extras, Azurite (npm) and Argo's CLI (built from Go)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install: apt-get install ${need_apt[*]}" >&2
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null \
      && apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "install: please install ${need_apt[*]} (kubeline falls back to unsandboxed nodes without bubblewrap)" >&2
  fi
fi

extras="s3,azure,serve"
[[ "${1:-}" == "--test" ]] && extras="s3,azure,serve,test"
"$PY" -m pip install -q --disable-pip-version-check -e ".[${extras}]" 2>&1 | grep -v "^WARNING: Running pip as" || true

if [[ "${1:-}" == "--test" ]]; then
  # the opt-in `import azureml` (compat/azureml): the AML notebook tests run code unchanged
  "$PY" -m pip install -q --disable-pip-version-check ./compat/azureml 2>&1 \
    | grep -v "^WARNING: Running pip as" || true
  bash scripts/install-test-deps.sh
  bash scripts/build-argo.sh >/dev/null
fi
