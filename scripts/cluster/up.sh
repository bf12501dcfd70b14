#!/usr/bin/env bash
# `make cluster-up`: a one-node Kubernetes with Argo Workflows and an S3 store, inside a network
# namespace of its own (docs/cluster.md). Idempotent: what already runs is kept. On failure,
# whatever this run started is torn down (scripts/cluster/down.sh).
#
# Writes .kubeline/cluster/kubeconfig (https://127.0.0.1:$API_PORT) and
# .kubeline/cluster/kubeline.yaml (the box's workspace: S3 datastores, credentials in Secrets).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IMAGES_DIR="${KUBELINE_CLUSTER_IMAGES_DIR:-$CLUSTER_SCRIPTS/images}"
export KUBELINE_CLUSTER_BUILD_SH="${KUBELINE_CLUSTER_BUILD_SH:-$CLUSTER_SCRIPTS/build.sh}"  # the images use our binaries

# --- prerequisites: each missing one stops here with one line naming the fix ------------------
[[ "$(id -u)" == 0 ]] || fail "cluster-up needs root (network namespaces, cgroups, containerd); run it as root, e.g. sudo make cluster-up"
need_pkg() {  # need_pkg FILE PACKAGE
    [[ -e "$1" ]] || command -v "$1" >/dev/null 2>&1 \
        || fail "$1 is missing: apt-get install -y containerd runc containernetworking-plugins iptables iproute2 util-linux openssl (package $2)"
}
need_pkg containerd containerd; need_pkg runc runc; need_pkg /usr/lib/cni/bridge containernetworking-plugins
need_pkg iptables iptables; need_pkg ip iproute2; need_pkg nsenter util-linux; need_pkg openssl openssl
need_pkg python3 python3
[[ -x "$IMAGES_DIR/build.sh" && -x "$IMAGES_DIR/push.sh" ]] \
    || fail "no image scripts in ${IMAGES_DIR#"$REPO"/}/ (build.sh, push.sh); set KUBELINE_CLUSTER_IMAGES_DIR to a folder that has them"

port_taken() { python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(0)
sys.exit(1)
EOF
}
if ! pid_alive portproxy; then
    for p in "$API_PORT" "$S3_PORT"; do
        ! port_taken "$p" || fail "port 127.0.0.1:$p is taken by another process; free it or set KUBELINE_CLUSTER_API_PORT / KUBELINE_CLUSTER_S3_PORT"
    done
fi

mkdir -p "$RUN" "$LOGS" "$PKI" "$CONF" "$CTRD_RUN"
started_here=""
on_exit() {
    local rc=$?
    if (( rc != 0 )) && [[ -n "$started_here" ]]; then
        say "start failed: tearing the half-started cluster down"
        "$CLUSTER_SCRIPTS/down.sh" --quiet || true
    fi
}
trap on_exit EXIT

# --- binaries (built once, cached by version) ----------------------------------------------------
say "checking binaries (first build: ~15 min on 2 cores; cached afterwards)"
built="$("$CLUSTER_SCRIPTS/build.sh" etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)" \
    || exit 1  # build.sh said why in one line
mapfile -t bins <<<"$built"
ETCD="${bins[0]}" APISERVER="${bins[1]}" KCM="${bins[2]}" SCHEDULER="${bins[3]}" KUBELET="${bins[4]}" KUBECTL="${bins[5]}"
mkdir -p "$STATE/bin"; ln -sfn "$KUBECTL" "$STATE/bin/kubectl"

# Already up with these very manifests and scripts: nothing to do.
DAEMONS="etcd kube-apiserver kube-controller-manager kube-scheduler registry registry-tls containerd kubelet s3 portproxy"
fingerprint() {
    cat "$REPO"/manifests/base/*.yaml "$REPO"/manifests/box/*.yaml "$REPO"/manifests/box/argo/*.yaml \
        "$CLUSTER_SCRIPTS"/*.sh "$CLUSTER_SCRIPTS"/portproxy.py | sha256sum | cut -d' ' -f1
}
node_ready() { [[ "$(kc get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; }
all_alive() { local n; for n in $DAEMONS; do pid_alive "$n" || return 1; done; }
if all_alive && [[ "$(cat "$STATE/up.ok" 2>/dev/null)" == "$(fingerprint)" ]] && node_ready; then
    say "cluster already up: $KUBECTL --kubeconfig ${KUBECONFIG_HOST#"$REPO"/} get nodes"
    exit 0
fi
rm -f "$STATE/up.ok"

say "checking images (first build: several minutes; cached afterwards)"
IMAGES="$("$IMAGES_DIR/build.sh" 2>"$LOGS/images-build.log")" \
    || fail "building the images failed; see ${LOGS#"$REPO"/}/images-build.log"
REGISTRY_BIN="$("$IMAGES_DIR/registry.sh" 2>>"$LOGS/images-build.log" | tail -n 1)"
[[ -x "$REGISTRY_BIN" ]] || fail "no registry binary from ${IMAGES_DIR#"$REPO"/}/registry.sh (see ${LOGS#"$REPO"/}/images-build.log)"
MOTO_VENV="$CACHE_ROOT/moto-venv"
if [[ ! -x "$MOTO_VENV/bin/moto_server" ]]; then
    say "installing moto's S3 server into ${MOTO_VENV} (once)"
    { python3 -m venv "$MOTO_VENV" && "$MOTO_VENV/bin/pip" install -q 'moto[server]>=5.1,<6'; } >"$LOGS/moto-install.log" 2>&1 \
        || { rm -rf "$MOTO_VENV"; fail "pip install moto[server] failed; see ${LOGS#"$REPO"/}/moto-install.log (is PyPI reachable?)"; }
fi
started_here=1

# --- network namespace: lo, the node's bridge, the pods' bridge (made by CNI); no uplink --------
if [[ ! -e "$NETNS_PATH" ]]; then
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" link add kl0 type bridge
    ip -n "$NETNS" addr add "$NODE_IP/24" dev kl0
    ip -n "$NETNS" link set kl0 up
    for chain in PREROUTING OUTPUT; do
        "${IN_NS[@]}" iptables -t nat -A "$chain" -d "$SVC_IP/32" -p tcp --dport 443 -j DNAT --to-destination "$NODE_IP:6443"
    done
    say "network namespace $NETNS created (no route out)"
fi

# --- PKI (kept across restarts so kubeconfigs stay valid) -----------------------------------------
if [[ ! -f "$PKI/sa.pub" ]]; then
    (
        cd "$PKI"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=kubeline-box-ca" 2>/dev/null
        cert() {  # cert NAME SUBJECT [SANS]
            openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
            if [[ -n "${3:-}" ]]; then printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
            else printf 'extendedKeyUsage=clientAuth\n' >"$1.ext"; fi
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$1.ext" 2>/dev/null
        }
        cert apiserver "/CN=kube-apiserver" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$SVC_IP"
        cert admin "/O=system:masters/CN=kubeline-admin"
        cert kubelet "/O=system:nodes/CN=system:node:$NODE" "IP:$NODE_IP"
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
        chmod 600 ./*.key
    )
    say "certificates made in ${PKI#"$REPO"/}"
fi
if [[ ! -f "$PKI/registry.crt" ]]; then
    # The registry's TLS side: what Argo's controller reaches when it looks up an image's
    # entrypoint under the public registry names (manifests/box/argo/controller-settings.yaml).
    (
        cd "$PKI"
        openssl req -newkey rsa:2048 -nodes -keyout registry.key -out registry.csr -subj "/CN=kubeline-box-registry" 2>/dev/null
        printf 'subjectAltName=DNS:index.docker.io,DNS:registry-1.docker.io,DNS:docker.io,DNS:ghcr.io,DNS:quay.io,DNS:registry.k8s.io,IP:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" >registry.ext
        openssl x509 -req -in registry.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out registry.crt -days 3650 -extfile registry.ext 2>/dev/null
        chmod 600 registry.key
    )
fi
kubeconfig() {  # kubeconfig FILE SERVER CERT
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: kubeline-box, cluster: {server: "$2", certificate-authority: $PKI/ca.crt}}]
users: [{name: $3, user: {client-certificate: $PKI/$3.crt, client-key: $PKI/$3.key}}]
contexts: [{name: kubeline-box, context: {cluster: kubeline-box, user: $3}}]
current-context: kubeline-box
EOF
}
kubeconfig "$KUBECONFIG_NS" "https://$NODE_IP:6443" admin
kubeconfig "$CONF/kubelet.kubeconfig" "https://$NODE_IP:6443" kubelet

# --- control plane ----------------------------------------------------------------------------
start_daemon etcd "$ETCD" --name box --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster box=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
start_daemon kube-apiserver "$APISERVER" --etcd-servers=http://127.0.0.1:2379 --bind-address="$NODE_IP" \
    --advertise-address="$NODE_IP" --secure-port=6443 --service-cluster-ip-range="$SVC_CIDR" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
    --endpoint-reconciler-type=lease --profiling=false --v=1
wait_until "the API server (/readyz)" 180 kube-apiserver kc get --raw /readyz
# --node-monitor-grace-period: the node is this machine; an API server restart (a test does
# one) or a loaded minute must not mark it NotReady and taint it (pods then Unschedulable)
start_daemon kube-controller-manager "$KCM" --kubeconfig="$KUBECONFIG_NS" \
    --node-monitor-grace-period=5m \
    --authentication-kubeconfig="$KUBECONFIG_NS" --authorization-kubeconfig="$KUBECONFIG_NS" \
    --leader-elect=false --use-service-account-credentials=true --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --bind-address=127.0.0.1 --v=1
start_daemon kube-scheduler "$SCHEDULER" --kubeconfig="$KUBECONFIG_NS" \
    --authentication-kubeconfig="$KUBECONFIG_NS" --authorization-kubeconfig="$KUBECONFIG_NS" \
    --leader-elect=false --bind-address=127.0.0.1 --v=1

# --- registry, containerd (Debian's) with mirrors to it -----------------------------------------
mkdir -p "$STATE/registry" "$CONF/certs.d"
"$IMAGES_DIR/registry.sh" --config "$STATE/registry" "$REGISTRY" >"$CONF/registry.yml"
"$IMAGES_DIR/registry.sh" --config "$STATE/registry" "$NODE_IP:443" "$PKI/registry.crt" "$PKI/registry.key" >"$CONF/registry-tls.yml"
start_daemon registry "$REGISTRY_BIN" serve "$CONF/registry.yml"
start_daemon registry-tls "$REGISTRY_BIN" serve "$CONF/registry-tls.yml"
for upstream in docker.io ghcr.io quay.io registry.k8s.io; do
    mkdir -p "$CONF/certs.d/$upstream"
    cat >"$CONF/certs.d/$upstream/hosts.toml" <<EOF
# $upstream is unreachable from the box; its images come from the box's registry.
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
done
mkdir -p "$CONF/cni"
cat >"$CONF/cni/10-kubeline-box.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "kubeline-box", "plugins": [
  {"type": "bridge", "bridge": "kl-cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$RUN/cni", "ranges": [[{"subnet": "$POD_CIDR"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
cat >"$CONF/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$CTRD_RUN/state"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$CTRD_RUN/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  enable_cdi = false
  # root here lacks CAP_SYS_RESOURCE: lowering oom_score_adj fails inside runc
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONF/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$CONF/certs.d"
EOF
start_daemon containerd containerd --config "$CONF/containerd.toml"
wait_until "the registry on $REGISTRY" 30 registry "${IN_NS[@]}" python3 -c "import urllib.request; urllib.request.urlopen('http://$REGISTRY/v2/', timeout=2)"
# Push when the set of built images changed since the last push into this registry storage.
pushed="$STATE/registry.pushed"
want="$(printf '%s\n' "$IMAGES" | while IFS=$'\t' read -r archive ref; do printf '%s %s %s\n' "$ref" "$archive" "$(stat -c %Y "$archive")"; done)"
if [[ "$(cat "$pushed" 2>/dev/null)" != "$want" ]]; then
    say "pushing images to the box's registry"
    "${IN_NS[@]}" "$IMAGES_DIR/push.sh" "$REGISTRY" >"$LOGS/images-push.log" 2>&1 \
        || fail "pushing images failed; see ${LOGS#"$REPO"/}/images-push.log"
    printf '%s\n' "$want" >"$pushed"
    repushed=1
fi
# Its CRI service answers only once it has recovered the state it kept (kubelet exits on
# "server is not initialized yet" otherwise); it logs this line when done.
wait_until "containerd's CRI service" 120 containerd grep -q 'Start streaming server' "$LOGS/containerd.log"
# containerd keeps its images across boxes ($STATE/containerd) and the kubelet pulls a tag it
# already has only for :latest; forget the tags just pushed, so pods get the new builds.
if [[ -n "${repushed:-}" ]]; then
    printf '%s\n' "$IMAGES" | cut -f2 | xargs -r ctr --address "$CTRD_SOCK" -n k8s.io images rm \
        >/dev/null 2>&1 || true
fi

# --- kubelet (it rewrites some host sysctls while it runs: saved here, restored by cluster-down) ---
[[ -f "$STATE/sysctl.orig" ]] || sysctl $SYSCTLS >"$STATE/sysctl.orig"
echo "nameserver 127.0.0.1" >"$CONF/resolv.conf"
cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CTRD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $PKI/ca.crt}}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
clusterDomain: cluster.local
resolvConf: $CONF/resolv.conf
podLogsDir: $RUN/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "200Mi", nodefs.available: "2%", imagefs.available: "2%"}
maxPods: 60
serializeImagePulls: false
oomScoreAdj: 0
EOF
start_daemon kubelet "$KUBELET" --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --root-dir="$RUN/kubelet" --hostname-override="$NODE" --node-ip="$NODE_IP" --v=1
wait_until "node $NODE to be Ready" 180 kubelet node_ready
say "node $NODE Ready"
# An extended resource, as a device plugin would advertise it (issue 12 point 6).
kc patch node "$NODE" --subresource=status --type=json \
    -p '[{"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": "1"}]' >/dev/null

# --- host access: the API server and the S3 store on 127.0.0.1 only ------------------------------
if ! pid_alive portproxy; then
    setsid python3 "$CLUSTER_SCRIPTS/portproxy.py" "$NETNS_PATH" "$API_PORT=$NODE_IP:6443" "$S3_PORT=$S3_INNER" \
        >"$LOGS/portproxy.log" 2>&1 </dev/null &
    echo $! >"$RUN/portproxy.pid"
fi
wait_until "the host's port proxy (127.0.0.1:$API_PORT, 127.0.0.1:$S3_PORT)" 20 portproxy grep -q ready "$LOGS/portproxy.log"
kubeconfig "$KUBECONFIG_HOST" "https://127.0.0.1:$API_PORT" admin

# --- S3 store ------------------------------------------------------------------------------------
start_daemon s3 "$MOTO_VENV/bin/moto_server" -H "${S3_INNER%:*}" -p "${S3_INNER#*:}"
wait_until "the S3 store on $S3_INNER" 60 s3 "${IN_NS[@]}" python3 -c "import urllib.request; urllib.request.urlopen('http://$S3_INNER/', timeout=2)"

# --- Argo, the kubeline namespace and its Secret ---------------------------------------------------
"$CLUSTER_SCRIPTS/argo.sh"
"$CLUSTER_SCRIPTS/workspace.sh"
started_here=""
fingerprint >"$STATE/up.ok"
say "cluster up: $KUBECTL --kubeconfig ${KUBECONFIG_HOST#"$REPO"/} get nodes; workspace config ${STATE#"$REPO"/}/kubeline.yaml"
