#!/usr/bin/env bash
# `make cluster-down`: stop every process of the box (by the pids cluster-up recorded, and the
# container shims of the box's own containerd), unmount what they mounted, remove their cgroups,
# delete the network namespace (its links and iptables rules go with it) and restore the host
# sysctls kubelet changed. Safe to run twice or on a half-started cluster. Kept: certificates,
# the registry's storage and the logs under .kubeline/cluster/ (and the build cache).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
quiet=""; [[ "${1:-}" == --quiet ]] && quiet=1
note() { [[ -n "$quiet" ]] || say "$@"; }
[[ "$(id -u)" == 0 ]] || fail "cluster-down needs root; run it as root, e.g. sudo make cluster-down"

stop() {  # stop NAME: TERM, then KILL after 10 s
    local f="$RUN/$1.pid" pid
    [[ -f "$f" ]] || return 0
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
        note "stopped $1 (pid $pid)"
    fi
    rm -f "$f"
}

shim_pids() {  # the runc shims of the box's containerd: their command line names its socket
    local d
    for d in /proc/[0-9]*; do
        { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q "^[^ ]*containerd-shim[^ ]* .*-address $CTRD_SOCK " \
            && echo "${d#/proc/}"
    done
}

stop portproxy
stop kubelet
if [[ -S "$CTRD_SOCK" ]] && pid_alive containerd; then
    ctr=("${IN_NS[@]}" ctr --address "$CTRD_SOCK" -n k8s.io)
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
    for _ in $(seq 20); do [[ -z "$("${ctr[@]}" tasks ls -q 2>/dev/null | head -n 1)" ]] && break; sleep 0.25; done
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$t" >/dev/null 2>&1; done
fi
for name in containerd registry registry-tls s3 kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop "$name"
done
for pid in $(shim_pids); do kill -9 "$pid" 2>/dev/null && note "killed container shim $pid"; done

# Mounts: pod volumes, overlay root filesystems, shm, and the pods' network namespaces.
for _ in 1 2 3; do
    mapfile -t mounts < <(awk -v a="$RUN" -v b="$CTRD_RUN" -v c="$STATE/containerd" '$2 ~ "^("a"|"b"|"c")(/|$)" || $2 ~ "^/run/netns/cni-" {print $2}' /proc/mounts | sort -r)
    (( ${#mounts[@]} )) || break
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done
for f in /run/netns/cni-*; do [[ -e "$f" ]] && rm -f "$f"; done

# Cgroups kubelet made (cgroupfs driver: /kubepods under each v1 controller, or in the v2 tree).
for ctl in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d "$ctl/kubepods" ]] && find "$ctl/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done

if [[ -e "$NETNS_PATH" ]]; then
    ip netns del "$NETNS" && note "network namespace $NETNS deleted"
fi
# `ip netns add` made /run/netns a mount of itself; undo it when nothing else is in there.
if [[ -d /run/netns && -z "$(ls -A /run/netns 2>/dev/null)" ]] && grep -q ' /run/netns ' /proc/mounts; then
    umount /run/netns 2>/dev/null && rmdir /run/netns 2>/dev/null
fi
if [[ -f "$STATE/sysctl.orig" ]]; then
    sed 's/ = /=/' "$STATE/sysctl.orig" | while read -r kv; do sysctl -q -w "$kv"; done && rm -f "$STATE/sysctl.orig"
    note "host sysctls restored"
fi
rm -rf "$RUN" "$CTRD_RUN" "$STATE/up.ok"
note "cluster down"
