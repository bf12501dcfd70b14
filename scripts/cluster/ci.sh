#!/usr/bin/env bash
# `make test`'s cluster part (docs/decisions/0024-cluster-tests-in-ci.md): start the in-box
# cluster, run the CI set of the cluster tests on it, and stop it again whatever happened
# (a failing test, a failing cluster-up, Ctrl-C, a CI runner's TERM). Exits with pytest's code,
# or cluster-up's when the cluster did not start. Extra arguments go to pytest.
#
#   KUBELINE_CLUSTER_SET=ci    (default) every cluster test; of Argo's own examples folder, the
#                              sample tests/cluster/skips.yaml names (argo_module_examples.ci_sample)
#   KUBELINE_CLUSTER_SET=all   every cluster test, all 65 of Argo's module examples (make cluster-test)
#
# A box that was already up when this started (a developer's) is tested and left running.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/cluster/lib.sh
PYTHON="${PYTHON:-python3}"
export KUBELINE_CLUSTER_SET="${KUBELINE_CLUSTER_SET:-ci}"
[[ "$KUBELINE_CLUSTER_SET" == ci || "$KUBELINE_CLUSTER_SET" == all ]] \
    || { echo "cluster: error: KUBELINE_CLUSTER_SET=$KUBELINE_CLUSTER_SET is neither ci nor all" >&2; exit 2; }

if [[ -f "$STATE/up.ok" ]] && pid_alive kube-apiserver; then
    say "a box is already up ($STATE): testing it and leaving it up"
else
    trap 'bash scripts/cluster/down.sh' EXIT   # runs on every exit below, failures included
    trap 'exit 130' INT
    trap 'exit 143' TERM
fi
bash scripts/cluster/up.sh || exit $?
"$PYTHON" -m pytest -q -p no:cacheprovider -m cluster tests/cluster "$@"
