#!/usr/bin/env bash
# Print the shell settings that point kubectl and kubeline at the box:
#   eval "$(scripts/cluster/env.sh)"
# The S3 credentials are read from Secret kubeline-s3 each time (they are never stored in a file).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -f "$KUBECONFIG_HOST" ]] || fail "the box is not up (no ${KUBECONFIG_HOST#"$REPO"/}); run make cluster-up"
KUBECTL="$STATE/bin/kubectl"
secret() {
    "$KUBECTL" --kubeconfig "$KUBECONFIG_HOST" -n kubeline get secret kubeline-s3 -o "jsonpath={.data.$1}" | base64 -d
}
access="$(secret accessKey)" || fail "cannot read Secret kubeline/kubeline-s3; is the box up? (make cluster-up)"
printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_HOST"
printf 'export KUBELINE_CONFIG=%q\n' "$STATE/kubeline.yaml"
printf 'export KUBELINE_S3_ENDPOINT_OVERRIDE=%q\n' "http://127.0.0.1:$S3_PORT"
printf 'export KUBELINE_S3_ACCESSKEY=%q\n' "$access"
printf 'export KUBELINE_S3_SECRETKEY=%q\n' "$(secret secretKey)"
printf 'export PATH=%q:"$PATH"\n' "$STATE/bin"
