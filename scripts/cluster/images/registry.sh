#!/usr/bin/env bash
# The box's mirror registry: the CNCF distribution registry v3, built from its Go module
# (go-tool.sh; why this one: docs/decisions/0014-in-box-registry.md).
#
# Usage:  scripts/cluster/images/registry.sh
#             builds once (cached by version), prints the binary's path (last line of stdout)
#         scripts/cluster/images/registry.sh --config STORAGE_DIR ADDR [CERT KEY]
#             prints a config for `registry serve`: filesystem storage in STORAGE_DIR,
#             listening on ADDR (e.g. 10.77.0.1:5000), with TLS when CERT and KEY are given
set -euo pipefail

if [[ "${1:-}" == "--config" ]]; then
    if [[ $# -ne 3 && $# -ne 5 ]]; then
        echo "registry: error: usage: $0 --config STORAGE_DIR ADDR [CERT KEY]" >&2
        exit 2
    fi
    # No auth: it listens only inside the box. Deletes allowed so tests can clean up.
    cat <<CONFIG
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $2
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $3
CONFIG
    if [[ $# -eq 5 ]]; then
        printf '  tls:\n    certificate: %s\n    key: %s\n' "$4" "$5"
    fi
    exit 0
fi
exec bash "$(dirname "$0")/go-tool.sh" registry
