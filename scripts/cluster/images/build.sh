#!/usr/bin/env bash
# Build the in-box cluster's images as OCI archives (also `docker load`-able), cached under
# ${KUBELINE_CACHE:-$HOME/.cache/kubeline}/images. See build.py and docs/cluster-images.md.
#
# Usage: scripts/cluster/images/build.sh [pause|runtime|standins|argoexec|workflow-controller ...]
# stdout: one line per image reference, "<archive path><TAB><reference>"; stderr: build times.
set -euo pipefail
python="${PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || { echo "images: error: no $python on PATH; set PYTHON=/path/to/python3" >&2; exit 1; }
exec "$python" "$(dirname "$0")/build.py" "$@"
