#!/usr/bin/env bash
# Push every image build.sh made to the box's mirror registry, each under its reference's
# path (docker.io/library/busybox:latest -> HOST:PORT/library/busybox:latest). See push.py.
#
# Usage:  scripts/cluster/images/push.sh HOST:PORT [--index FILE]
# stdout: "<reference><TAB><registry path><TAB><manifest digest>" per reference.
set -euo pipefail
python="${PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || { echo "push: error: no $python on PATH; set PYTHON=/path/to/python3" >&2; exit 1; }
exec "$python" "$(dirname "$0")/push.py" "$@"
