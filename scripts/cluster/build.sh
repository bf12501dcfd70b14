#!/usr/bin/env bash
# Build the Go binaries of the in-box cluster from the Go module proxy, once, into a cache keyed by version.
#
# Why: the box (docs/cluster.md) runs upstream Kubernetes, etcd and Argo's controller and executor, and
# this machine reaches no release downloads, only the module proxy. Every module is checked against a
# pinned checksum: the wrapper modules' committed go.sum (scripts/cluster/modules/*) for Kubernetes and
# etcd, and scripts/build-argo.sh's pinned module hash for Argo.
#
# Usage:   scripts/cluster/build.sh [COMPONENT...]     (no argument: all of them)
#          COMPONENT: workflow-controller argoexec etcd kube-apiserver kube-controller-manager
#                     kube-scheduler kubelet kubectl
# Output:  one absolute path per line on stdout, in the order asked; each build's time on stderr.
# Env:     KUBELINE_CACHE (default $HOME/.cache/kubeline), GO (default: go on PATH or /usr/local/go/bin/go)
# Cache:   $KUBELINE_CACHE/k8s-v1.34.4/, etcd-v3.6.4/, argo-v4.1.4/ (beside the argo CLI of build-argo.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="v1.34.4"      # staging modules at v0.34.4: scripts/cluster/modules/k8s/go.mod
ETCD_VERSION="v3.6.4"      # the etcd release k8s 1.34.4 is tested with
K8S_COMMANDS="kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl"
ARGO_COMMANDS="workflow-controller argoexec"
ALL="$ARGO_COMMANDS etcd $K8S_COMMANDS"

log() { printf 'cluster/build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The Argo pins live in one place: scripts/build-argo.sh.
argo_pin() { sed -n "s/^$1=\"\(.*\)\"$/\1/p" "$here/../build-argo.sh"; }
ARGO_MODULE="$(argo_pin ARGO_MODULE)"
ARGO_VERSION="$(argo_pin ARGO_VERSION)"
ARGO_MODULE_SUM="$(argo_pin ARGO_MODULE_SUM)"
ARGO_COMMIT="$(argo_pin ARGO_COMMIT)"
ARGO_BUILD_DATE="$(argo_pin ARGO_BUILD_DATE)"
[[ -n "$ARGO_VERSION" && -n "$ARGO_MODULE_SUM" ]] || die "cannot read the Argo pins from scripts/build-argo.sh"

cache_root="${KUBELINE_CACHE:-${HOME:?HOME is not set; set KUBELINE_CACHE}/.cache/kubeline}"

dest_of() {  # dest_of COMPONENT: where its cached binary lives
    case "$1" in
        workflow-controller|argoexec) printf '%s/argo-%s/%s\n' "$cache_root" "$ARGO_VERSION" "$1" ;;
        etcd) printf '%s/etcd-%s/etcd\n' "$cache_root" "$ETCD_VERSION" ;;
        kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubectl)
            printf '%s/k8s-%s/%s\n' "$cache_root" "$K8S_VERSION" "$1" ;;
        *) die "unknown component '$1'; choose from: $ALL" ;;
    esac
}

go_bin=""
find_go() {
    [[ -n "$go_bin" ]] && return 0
    if [[ -n "${GO:-}" ]]; then go_bin="$GO"
    elif command -v go >/dev/null 2>&1; then go_bin="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go
    else die "no Go toolchain found; install Go >= 1.26.5 (https://go.dev/dl/) or set GO=/path/to/go"; fi
    [[ -x "$go_bin" ]] || die "GO=${go_bin} is not an executable file; set GO=/path/to/go"
    local v; v="$("$go_bin" env GOVERSION)"; v="${v#go}"
    local major="${v%%.*}" rest="${v#*.}"; local minor="${rest%%.*}"
    (( major > 1 || (major == 1 && minor >= 26) )) \
        || die "Go $v is too old: Argo $ARGO_VERSION needs Go >= 1.26.5; install a newer Go or set GO=/path/to/go"
}

install_binary() {  # install_binary BUILT DEST: atomic, so a concurrent reader sees all or nothing
    mkdir -p "$(dirname "$2")"
    local tmp; tmp="$(mktemp "$(dirname "$2")/.$(basename "$2").XXXXXX")"
    cp "$1" "$tmp"; chmod 0755 "$tmp"; mv -f "$tmp" "$2"
}

timed_build() {  # timed_build NAME DIR GOBUILD-ARGS...: go build in DIR with nice, time to stderr
    local name="$1" dir="$2"; shift 2
    local start; start=$(date +%s.%N)
    log "building $name (cold builds take minutes on 2 cores)"
    (cd "$dir" && GOWORK=off CGO_ENABLED=0 nice -n 10 "$go_bin" build -trimpath "$@") >&2 \
        || die "go build of $name failed (see output above)"
    log "built $name in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
}

k8s_ldflags() {
    local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
    local flags="-s -w" p
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
        flags+=" -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
    done
    printf '%s' "$flags"
}

package_of() {  # package_of COMPONENT: its main package
    case "$1" in
        workflow-controller|argoexec) echo "./cmd/$1" ;;
        etcd) echo go.etcd.io/etcd/server/v3 ;;
        *) echo "k8s.io/kubernetes/cmd/$1" ;;
    esac
}

go_build_many() {  # go_build_many DIR LDFLAGS MODFLAG COMPONENT...: one go build for them all
    # Several main packages in one `go build -o DIR/`: one action graph shares every compile
    # and keeps both cores busy while a binary links (vs one go build, one link tail per binary).
    local dir="$1" ldflags="$2" modflag="$3"; shift 3
    local out c pkgs=(); out="$(mktemp -d "${TMPDIR:-/tmp}/kubeline-cluster-out.XXXXXX")"
    for c in "$@"; do pkgs+=("$(package_of "$c")"); done
    if (( $# == 1 )); then
        timed_build "$1" "$dir" "$modflag" -buildvcs=false -ldflags "$ldflags" -o "$out/$1" "${pkgs[@]}"
    else
        timed_build "$*" "$dir" "$modflag" -buildvcs=false -ldflags "$ldflags" -o "$out/" "${pkgs[@]}"
    fi
    for c in "$@"; do install_binary "$out/$c" "$(dest_of "$c")"; done
    rm -rf "$out"
}

build_wrapped() {  # build_wrapped MODULE_DIR LDFLAGS COMPONENT...: -mod=readonly checks every module against go.sum
    local module="$1" ldflags="$2"; shift 2
    local work; work="$(mktemp -d "${TMPDIR:-/tmp}/kubeline-cluster-build.XXXXXX")"
    cp "$module"/go.mod "$module"/go.sum "$module"/tools.go "$work/"
    go_build_many "$work" "$ldflags" -mod=readonly "$@"
    rm -rf "$work"
}

argo_source=""
prepare_argo() {  # a private copy of the pinned, hash-checked module with the symlink module zips drop restored
    [[ -n "$argo_source" ]] && return 0
    local work info dir sum
    work="$(mktemp -d "${TMPDIR:-/tmp}/kubeline-argo-src.XXXXXX")"
    info="$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod "$go_bin" mod download -json "${ARGO_MODULE}@${ARGO_VERSION}")" \
        || die "go mod download ${ARGO_MODULE}@${ARGO_VERSION} failed (is the Go module proxy reachable?)"
    dir="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
    sum="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
    [[ "$sum" == "$ARGO_MODULE_SUM" ]] \
        || die "module hash mismatch for ${ARGO_MODULE}@${ARGO_VERSION}: got ${sum}, pinned ${ARGO_MODULE_SUM}"
    cp -R "$dir" "$work/src"; chmod -R u+w "$work/src"
    # Upstream, signal_linux.go is a symlink to signal_darwin.go; module zips drop symlinks, and without it
    # argoexec fails with "undefined: Setpgid".
    local os="$work/src/workflow/executor/osspecific"
    [[ -f "$os/signal_linux.go" ]] || cp "$os/signal_darwin.go" "$os/signal_linux.go"
    argo_source="$work/src"
}

argo_ldflags() {
    local p="$ARGO_MODULE"
    printf '%s' "-s -w -X $p.version=$ARGO_VERSION -X $p.buildDate=$ARGO_BUILD_DATE -X $p.gitCommit=$ARGO_COMMIT -X $p.gitTag=$ARGO_VERSION -X $p.gitTreeState=clean"
}

group_of() {  # the module a component is built from: components of one group build together
    case "$1" in
        workflow-controller|argoexec) echo argo ;;
        etcd) echo etcd ;;
        *) echo k8s ;;
    esac
}

build_group() {  # build_group GROUP COMPONENT...: those not cached yet, in one go build
    local group="$1"; shift
    local missing=() c
    for c in "$@"; do [[ -x "$(dest_of "$c")" ]] || missing+=("$c"); done
    (( ${#missing[@]} )) || return 0
    find_go
    mkdir -p "$cache_root"
    # One builder per module at a time; a second caller waits, then finds the binaries cached.
    exec {lock}>"$cache_root/.build-$group.lock"
    flock "$lock"
    local todo=()
    for c in "${missing[@]}"; do [[ -x "$(dest_of "$c")" ]] || todo+=("$c"); done
    if (( ${#todo[@]} )); then
        case "$group" in
            argo)
                prepare_argo
                # The module's own go.sum pins every dependency; -mod=mod only fills lines for the build list.
                go_build_many "$argo_source" "$(argo_ldflags)" -mod=mod "${todo[@]}" ;;
            etcd) build_wrapped "$here/modules/etcd" "-s -w" "${todo[@]}" ;;
            k8s) build_wrapped "$here/modules/k8s" "$(k8s_ldflags)" "${todo[@]}" ;;
        esac
    fi
    flock -u "$lock"; exec {lock}>&-
}

cleanup() { [[ -n "$argo_source" ]] && { chmod -R u+w "$(dirname "$argo_source")" 2>/dev/null; rm -rf "$(dirname "$argo_source")"; }; return 0; }
trap cleanup EXIT

components=("$@")
[[ ${#components[@]} -gt 0 ]] || read -r -a components <<<"$ALL"
for c in "${components[@]}"; do dest_of "$c" >/dev/null; done   # refuse a misspelt name before building anything
for group in k8s etcd argo; do
    members=()
    for c in "${components[@]}"; do [[ "$(group_of "$c")" == "$group" ]] && members+=("$c"); done
    (( ${#members[@]} )) && build_group "$group" "${members[@]}"
done
for c in "${components[@]}"; do dest_of "$c"; done
