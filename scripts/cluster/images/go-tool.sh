#!/usr/bin/env bash
# Build a Go tool at a pinned module version from the Go module proxy, cache it by version,
# print its path (last line of stdout) and the build time (stderr).
#
#   registry  the CNCF distribution registry (the registry:3 image's binary; the box's mirror)
#   crane     go-containerregistry's CLI, at the version Argo v4.1.4 pins: the library Argo's
#             controller uses to look up an image's entrypoint (tests use it to read images
#             back the way Argo does)
#
# Usage: scripts/cluster/images/go-tool.sh registry|crane
# Env:   KUBELINE_CACHE (default $HOME/.cache/kubeline), GO (default `go` on PATH)
set -euo pipefail

log() { printf 'go-tool: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

tool="${1:-}"
case "$tool" in
    registry)
        module=github.com/distribution/distribution/v3; version=v3.1.2
        # from `go mod download -json`: a proxy serving other bytes for this version is refused
        module_sum="h1:/Bv2YIqqSR00HiO49FT93hovy6r9IlrzwUDsJjCN5qg="
        package=cmd/registry
        ldflags="-X ${module}/version.version=${version} -X ${module}/version.mainpkg=${module}"
        version_check=(--version) ;;
    crane)
        module=github.com/google/go-containerregistry; version=v0.21.7
        module_sum="h1:/vPFuVXDjtFREsVArW+0h1CIl5urnOhzei4X2DMW9IU="
        package=cmd/crane
        ldflags="-X ${module}/cmd/crane/cmd.Version=${version}"
        version_check=(version) ;;
    *) die "usage: $0 registry|crane" ;;
esac

cache_root="${KUBELINE_CACHE:-${HOME:?HOME is not set; set KUBELINE_CACHE}/.cache/kubeline}"
dest_dir="${cache_root}/${tool}-${version}"
dest="${dest_dir}/${tool}"

binary_ok() { [[ -x "$1" ]] && "$1" "${version_check[@]}" 2>/dev/null | grep -q -- "${version}"; }

if binary_ok "$dest"; then
    printf '%s\n' "$dest"
    exit 0
fi

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$go_bin" ]] || die "no Go toolchain found; install Go >= 1.24 or set GO=/path/to/go"

work="$(mktemp -d "${TMPDIR:-/tmp}/kubeline-${tool}.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
start=$(date +%s)

info="$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod "$go_bin" mod download -json "${module}@${version}")" \
    || die "go mod download ${module}@${version} failed: ${info:-no output} (is the Go module proxy reachable?)"
sum="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
[[ "$sum" == "$module_sum" ]] || die "module hash mismatch for ${module}@${version}: got ${sum}, pinned ${module_sum}"

log "building ${module}/${package}@${version}"
# `go install pkg@version` builds with the module's own go.mod and go.sum (dependencies
# checked against the checksum database), outside any workspace.
(
    cd "$work"
    GOWORK=off GOBIN="$work/bin" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" nice -n 10 \
        "$go_bin" install -trimpath -ldflags "-s -w ${ldflags}" "${module}/${package}@${version}"
) >&2 || die "go install ${module}/${package}@${version} failed (see output above)"

built="$work/bin/$(basename "$package")"
binary_ok "$built" || die "built ${tool} does not report ${version}: $("$built" "${version_check[@]}" 2>&1 || true)"
mkdir -p "$dest_dir"
tmp_dest="$(mktemp "${dest_dir}/.${tool}.XXXXXX")"
cp "$built" "$tmp_dest"
chmod 0755 "$tmp_dest"
mv -f "$tmp_dest" "$dest"
log "built ${tool} ${version} in $(( $(date +%s) - start ))s"
printf '%s\n' "$dest"
