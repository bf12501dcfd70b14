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

# Debian packages the tests need, installed once with apt (root); elsewhere one line says
# which. The lock timeout lets a concurrent apt (another install on this machine) finish first.
apt_install() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
    echo "install-test-deps: $* installed (apt)"
  else
    echo "install-test-deps: install Debian's $* (as root: apt-get install $*)" >&2
    exit 1
  fi
}

# The web page's browser test (tests/web) drives Debian's Chromium through selenium
# (pip, the test extra): Chromium and its driver come from apt, never a browser download.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi

# KFP's local DockerRunner test (tests/e2e/test_kfp_local_runner.py) starts its own dockerd
# (Debian's docker.io) and loads kubeline's runtime image, built here without a daemon from
# debootstrap (cached by content under ~/.cache/kubeline/images; a warm rebuild takes seconds).
command -v dockerd >/dev/null 2>&1 || apt_install docker.io
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

# Argo's examples (tests/conformance) run `cowsay` from their argosay:v1 image; locally that is
# Debian's cowsay (in /usr/games, which kubeline adds to PATH for that image).
if [[ ! -x /usr/games/cowsay ]] && ! command -v cowsay >/dev/null 2>&1; then
  apt_install cowsay
fi
# Their daemon examples serve with nginx and influxdb (the programs of those images).
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
  apt_install nginx-light
fi
if ! command -v influxd >/dev/null 2>&1; then
  apt_install influxdb
fi

# make test's cluster part (scripts/cluster/ci.sh): the in-box cluster's Debian pieces.
if ! command -v containerd >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 \
    || [[ ! -x /usr/lib/cni/bridge ]]; then
  apt_install containerd runc containernetworking-plugins
fi

bash scripts/cluster/images/build.sh runtime >/dev/null
