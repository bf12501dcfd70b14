#!/usr/bin/env bash
# `make test`: the unit suite and the cluster part side by side (docs/decisions/0040).
#
# A pytest session runs one test at a time, so it keeps about one of CI's two cores busy; the
# cluster part (scripts/cluster/ci.sh: cluster-up, the `cluster` tests, cluster-down) mostly
# waits on pods. Side by side they take about as long as the longer of the two instead of
# their sum. The cluster part's output goes to a log that is printed, then followed, once the
# unit suite is done. Exits non-zero if either half failed; Ctrl-C or TERM stops both (ci.sh
# still stops the box).
#
# Job control (`set -m`) keeps both halves' SIGINT as it is: a non-interactive shell's plain
# `&` would start them with SIGINT ignored, and pytest could then not be interrupted into
# tearing its fixtures (servers) down. Each half gets its own process group, so the script
# forwards a Ctrl-C itself: INT to the unit suite, TERM to the cluster part.
#
#   KUBELINE_TEST_CLUSTER=0   the unit suite only (a machine that cannot run the box)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
LOG="${KUBELINE_TEST_CLUSTER_LOG:-.kubeline/test-cluster.log}"
GRACE="${KUBELINE_TEST_INT_GRACE:-30}"   # seconds the unit suite has to stop on SIGINT
CLUSTER_CI="${KUBELINE_TEST_CLUSTER_CI:-scripts/cluster/ci.sh}"   # (tests/test_test_script.py
                                                                  #  puts a stand-in here)
set -m
cluster=""
if [[ "${KUBELINE_TEST_CLUSTER:-1}" != 0 ]]; then
    mkdir -p "$(dirname "$LOG")"
    : > "$LOG"
    bash "$CLUSTER_CI" > "$LOG" 2>&1 < /dev/null &
    cluster=$!
    echo "test: the cluster part runs beside the unit suite (log: $LOG)"
fi

stop() {
    [[ -n "$cluster" ]] && kill -TERM "$cluster" 2>/dev/null
    if [[ -n "${unit:-}" ]]; then
        kill -INT "$unit" 2>/dev/null   # pytest tears its fixtures down ...
        for _ in $(seq "$((GRACE * 10))"); do kill -0 "$unit" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$unit" 2>/dev/null  # ... or, started with SIGINT ignored (nohup), is ended
    fi
    wait
    exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM

"$PYTHON" -m pytest -q -p no:cacheprovider "$@" < /dev/null &
unit=$!
wait "$unit"
unit_rc=$?
unit=""
[[ -z "$cluster" ]] && exit "$unit_rc"

echo "test: the unit suite exited $unit_rc; the cluster part so far, then as it runs:"
tail -n +1 --pid="$cluster" -f "$LOG" &   # waited for with `wait`, which a trap interrupts
wait "$!"
wait "$cluster"
cluster_rc=$?
echo "test: unit suite exit $unit_rc, cluster part exit $cluster_rc"
((unit_rc == 0 && cluster_rc == 0)) || exit $((unit_rc ? unit_rc : cluster_rc))
