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
UP="${KUBELINE_CLUSTER_UP:-scripts/cluster/up.sh}"        # (tests/cluster/test_ci_script.py
DOWN="${KUBELINE_CLUSTER_DOWN:-scripts/cluster/down.sh}"  #  puts stand-ins here)
export KUBELINE_CLUSTER_SET="${KUBELINE_CLUSTER_SET:-ci}"
[[ "$KUBELINE_CLUSTER_SET" == ci || "$KUBELINE_CLUSTER_SET" == all ]] \
    || { echo "cluster: error: KUBELINE_CLUSTER_SET=$KUBELINE_CLUSTER_SET is neither ci nor all" >&2; exit 2; }

if [[ -f "$STATE/up.ok" ]] && pid_alive kube-apiserver; then
    say "a box is already up ($STATE): testing it as it is and leaving it up"
else
    trap 'bash "$DOWN"' EXIT   # runs on every exit below, failures included
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bash "$UP" || exit $?
fi
# pytest runs as a child we wait for: a signal interrupts `wait` at once (not after the tests),
# the tests are stopped, then the EXIT trap stops the box.
"$PYTHON" -m pytest -q -p no:cacheprovider -m cluster tests/cluster "$@" &
tests=$!
trap 'kill -TERM "$tests" 2>/dev/null; wait "$tests"; exit 130' INT
trap 'kill -TERM "$tests" 2>/dev/null; wait "$tests"; exit 143' TERM
wait "$tests"
