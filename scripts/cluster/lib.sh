# Shared settings and helpers of the in-box cluster scripts (sourced, not run). docs/cluster.md
# explains the layout: everything runs in network namespace $NETNS with no route out; the host
# reaches only the API server and the S3 store, through scripts/cluster/portproxy.py on 127.0.0.1.

CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$CLUSTER_SCRIPTS/../.." && pwd)"
CACHE_ROOT="${KUBELINE_CACHE:-${HOME:?HOME is not set; set KUBELINE_CACHE}/.cache/kubeline}"
STATE="${KUBELINE_CLUSTER_DIR:-$REPO/.kubeline/cluster}"
RUN="$STATE/run"          # pids, etcd data, kubelet and containerd roots: removed by cluster-down
LOGS="$STATE/logs"        # one log per process, kept after cluster-down for post-mortems
PKI="$STATE/pki"          # the cluster's CA and certificates (made once, kept)
CONF="$STATE/conf"        # generated configuration files
KUBECONFIG_HOST="$STATE/kubeconfig"        # for the host: https://127.0.0.1:$API_PORT
KUBECONFIG_NS="$CONF/admin-in-netns.kubeconfig"  # for processes inside the namespace

NETNS=kubeline-box
NETNS_PATH=/run/netns/$NETNS
NODE=kubeline-node
NODE_IP=10.77.0.1          # a port-less bridge inside the namespace holds it (no dummy links here)
POD_CIDR=10.88.0.0/24
SVC_CIDR=10.96.0.0/24
SVC_IP=10.96.0.1           # kubernetes.default: one DNAT rule stands in for kube-proxy
REGISTRY="$NODE_IP:5000"   # containerd's mirror for docker.io, ghcr.io and quay.io
S3_INNER="$NODE_IP:9000"   # what pods and kubeline.yaml use
API_PORT="${KUBELINE_CLUSTER_API_PORT:-16443}"  # host side, 127.0.0.1 only
S3_PORT="${KUBELINE_CLUSTER_S3_PORT:-19000}"    # host side, 127.0.0.1 only
CTRD_RUN=/run/kubeline-box                       # sockets must have short paths
CTRD_SOCK=$CTRD_RUN/containerd.sock
S3_BUCKET=kubeline
SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"

IN_NS=(nsenter "--net=$NETNS_PATH" --)   # not `ip netns exec`: that hides the cgroup mounts

T0="${KUBELINE_CLUSTER_T0:-$(date +%s.%N)}"; export KUBELINE_CLUSTER_T0="$T0"  # one clock for up.sh and its parts
say() { printf 'cluster: [%5.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*" >&2; }
fail() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

pid_alive() {  # pid_alive NAME: its recorded process still runs
    local f="$RUN/$1.pid"
    [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

start_daemon() {  # start_daemon NAME CMD...: in the namespace, in its own session, pid in $RUN/NAME.pid
    local name="$1"; shift
    if pid_alive "$name"; then return 0; fi
    setsid "${IN_NS[@]}" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
    say "started $name (pid $!, log ${LOGS#"$REPO"/}/$name.log)"
}

wait_until() {  # wait_until WHAT SECONDS NAME CMD...: poll CMD; a dead NAME process fails at once
    local what="$1" limit="$2" name="$3"; shift 3
    local deadline=$(( $(date +%s) + limit )) said=""
    until "$@" >/dev/null 2>&1; do
        if [[ -n "$name" ]] && ! pid_alive "$name"; then
            fail "$name exited while waiting for $what; last lines of ${LOGS#"$REPO"/}/$name.log: $(tail -n 3 "$LOGS/$name.log" 2>/dev/null | tr '\n' ' ')"
        fi
        (( $(date +%s) < deadline )) || fail "timed out after ${limit}s waiting for $what (see ${LOGS#"$REPO"/}/)"
        [[ -n "$said" ]] || { say "waiting for $what"; said=1; }
        sleep 0.3
    done
}

kc() { "${IN_NS[@]}" "$KUBECTL" --kubeconfig "$KUBECONFIG_NS" "$@"; }
