#!/usr/bin/env bash
# Build the CNCF distribution registry (the `registry` binary of the registry:3 image) from
# its Go module at a pinned version, cache it, and print its path.
#
# Why this one: docs/decisions/0013-in-box-registry.md. The cluster runs it inside its
# network namespace as the mirror of docker.io, ghcr.io, quay.io and registry.k8s.io.
#
# Usage:   scripts/cluster/images/registry.sh        # last line of stdout: the binary's path
#          scripts/cluster/images/registry.sh --config STORAGE_DIR ADDR
#              prints a registry config (filesystem storage in STORAGE_DIR, listening on ADDR)
# Env:     KUBELINE_CACHE (default $HOME/.cache/kubeline), GO (default `go` on PATH)
# Result:  ${KUBELINE_CACHE:-$HOME/.cache/kubeline}/registry-v3.1.2/registry
set -euo pipefail

MODULE="github.com/distribution/distribution/v3"
VERSION="v3.1.2"
# From `go mod download -json`: a proxy serving other bytes for this version is refused.
MODULE_SUM="h1:/Bv2YIqqSR00HiO49FT93hovy6r9IlrzwUDsJjCN5qg="

log() { printf 'registry: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ "${1:-}" == "--config" ]]; then
    [[ $# -eq 3 ]] || die "usage: $0 --config STORAGE_DIR ADDR (for example /var/lib/registry 10.77.0.1:5000)"
    # Deletes allowed so a test can clean up; no auth, no TLS: it listens only inside the box.
    cat <<EOF
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
EOF
    exit 0
fi

cache_root="${KUBELINE_CACHE:-${HOME:?HOME is not set; set KUBELINE_CACHE}/.cache/kubeline}"
dest_dir="${cache_root}/registry-${VERSION}"
dest="${dest_dir}/registry"

binary_ok() { [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -q -- "${VERSION}"; }

if binary_ok "$dest"; then
    printf '%s\n' "$dest"
    exit 0
fi

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$go_bin" ]] || die "no Go toolchain found; install Go >= 1.23 or set GO=/path/to/go"

work="$(mktemp -d "${TMPDIR:-/tmp}/kubeline-registry.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
start=$(date +%s)

info="$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod "$go_bin" mod download -json "${MODULE}@${VERSION}")" \
    || die "go mod download ${MODULE}@${VERSION} failed: ${info:-no output} (is the Go module proxy reachable?)"
sum="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
[[ "$sum" == "$MODULE_SUM" ]] || die "module hash mismatch for ${MODULE}@${VERSION}: got ${sum}, pinned ${MODULE_SUM}"

log "building ${MODULE}/cmd/registry@${VERSION}"
# `go install pkg@version` builds with the module's own go.mod and go.sum (checked by the
# checksum database), in module mode outside any workspace.
(
    cd "$work"
    GOWORK=off GOBIN="$work/bin" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" nice -n 10 \
        "$go_bin" install -trimpath \
        -ldflags "-s -w -X ${MODULE}/version.version=${VERSION} -X ${MODULE}/version.mainpkg=${MODULE}" \
        "${MODULE}/cmd/registry@${VERSION}"
) >&2 || die "go install ${MODULE}/cmd/registry@${VERSION} failed (see output above)"

binary_ok "$work/bin/registry" || die "built registry does not report ${VERSION}: $("$work/bin/registry" --version 2>&1 || true)"
mkdir -p "$dest_dir"
tmp_dest="$(mktemp "${dest_dir}/.registry.XXXXXX")"
cp "$work/bin/registry" "$tmp_dest"
chmod 0755 "$tmp_dest"
mv -f "$tmp_dest" "$dest"
log "built in $(( $(date +%s) - start ))s"
printf '%s\n' "$dest"
