#!/usr/bin/env bash
# Installs the test dependencies that pip cannot: the Azurite blob emulator (npm), into the
# project-local folder .tools/ so nothing global changes. Idempotent and quiet: a second run
# with the pinned version already present does nothing.
set -euo pipefail

AZURITE_VERSION="${AZURITE_VERSION:-3.37.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/node_modules/.bin/azurite-blob"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-test-deps: npm not found; install Node.js 18+ with npm first" >&2
  exit 1
fi

installed=""
if [[ -x "$BIN" && -f "$TOOLS/node_modules/azurite/package.json" ]]; then
  installed="$(node -p "require('$TOOLS/node_modules/azurite/package.json').version")"
fi

if [[ "$installed" != "$AZURITE_VERSION" ]]; then
  mkdir -p "$TOOLS"
  [[ -f "$TOOLS/package.json" ]] || echo '{"name": "kubeline-test-tools", "private": true}' > "$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error --save-exact \
    "azurite@$AZURITE_VERSION" >/dev/null
  echo "install-test-deps: azurite $AZURITE_VERSION installed in .tools/"
fi

# The web page's browser test (tests/web) drives Debian's Chromium through selenium
# (pip, the test extra): Chromium and its driver come from apt, never a browser download.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    echo "install-test-deps: chromium and chromium-driver installed (apt)"
  else
    echo "install-test-deps: install Debian's chromium and chromium-driver (as root: apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
fi

# KFP's local DockerRunner test (tests/e2e/test_kfp_local_runner.py) starts its own dockerd:
# Debian's docker.io. The runtime image it loads is built by scripts/cluster/images/build.sh.
if ! command -v dockerd >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    echo "install-test-deps: docker.io installed (apt)"
  else
    echo "install-test-deps: install Debian's docker.io (as root: apt-get install docker.io)" >&2
    exit 1
  fi
fi

# Argo's examples (tests/conformance) run `cowsay` from their argosay:v1 image; locally that is
# Debian's cowsay (in /usr/games, which kubeline adds to PATH for that image).
if [[ ! -x /usr/games/cowsay ]] && ! command -v cowsay >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cowsay >/dev/null
    echo "install-test-deps: cowsay installed (apt)"
  else
    echo "install-test-deps: install Debian's cowsay (as root: apt-get install cowsay)" >&2
    exit 1
  fi
fi

# The DockerRunner test loads kubeline's runtime image: built here without a daemon from
# debootstrap (cached by content under ~/.cache/kubeline/images; a warm rebuild takes seconds).
if ! command -v debootstrap >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    echo "install-test-deps: debootstrap installed (apt)"
  else
    echo "install-test-deps: install Debian's debootstrap (as root: apt-get install debootstrap)" >&2
    exit 1
  fi
fi
bash scripts/cluster/images/build.sh runtime >/dev/null
