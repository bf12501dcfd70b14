"""Push the built archives to the box's mirror registry under each reference's path.

``docker.io/library/busybox:latest`` goes to ``<registry>/library/busybox:latest``,
``ghcr.io/kubeline/runtime:0.1.0`` to ``<registry>/kubeline/runtime:0.1.0``: containerd,
told that the registry mirrors docker.io, ghcr.io, quay.io and registry.k8s.io, asks it for
exactly those paths, and so does anything reading an image's config (Argo's entrypoint
lookup). skopeo copies the OCI manifests and blobs unchanged (--preserve-digests), so the
digests on the registry are the archive's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import Cache
from refs import mirror_path


class PushError(Exception):
    """A push that cannot go on; printed as one line."""


def log(message: str) -> None:
    print(f"push: {message}", file=sys.stderr, flush=True)


def read_index(index: Path) -> dict[Path, list[str]]:
    """archive -> references, from build.sh's index (``<archive><TAB><reference>`` lines)."""
    if not index.exists():
        raise PushError(f"{index} does not exist: run scripts/cluster/images/build.sh first")
    found: dict[Path, list[str]] = {}
    for number, line in enumerate(index.read_text().splitlines(), 1):
        if not line.strip():
            continue
        archive, sep, ref = line.partition("\t")
        if not sep or not ref:
            raise PushError(f"{index}:{number}: expected '<archive><TAB><reference>', "
                            f"got {line!r}")
        found.setdefault(Path(archive), []).append(ref)
    return found


def check_registry(registry: str) -> None:
    """The registry answers the distribution API's version check (``GET /v2/``)."""
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/", timeout=10) as response:
            if response.status != 200:
                raise PushError(f"http://{registry}/v2/ answered {response.status}")
    except (urllib.error.URLError, OSError) as error:
        raise PushError(f"no registry at http://{registry}/v2/ ({error}); start it first "
                        "(scripts/cluster/images/registry.sh prints the binary)") from error


def archive_digests(layout: Path) -> dict[str, str]:
    """reference -> manifest digest, from an extracted archive's index.json."""
    index = json.loads((layout / "index.json").read_text())
    return {entry["annotations"]["org.opencontainers.image.ref.name"]: entry["digest"]
            for entry in index["manifests"]}


def push(registry: str, archives: dict[Path, list[str]]) -> list[tuple[str, str, str]]:
    """Copy every reference; returns (reference, mirror URL, digest) per reference."""
    check_registry(registry)
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise PushError("'skopeo' is not installed: apt-get install skopeo")
    claimed: dict[str, tuple[str, str]] = {}
    pushed = []
    for archive, refs in archives.items():
        if not archive.exists():
            raise PushError(f"{archive} is missing: rerun scripts/cluster/images/build.sh")
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="kubeline-push.") as tmp:
            subprocess.run(["tar", "-xf", str(archive), "-C", tmp], check=True)
            digests = archive_digests(Path(tmp))
            for ref in refs:
                if ref not in digests:
                    raise PushError(f"{archive} has no image named {ref}")
                _, repository, tag = mirror_path(ref)
                target = f"{repository}:{tag}"
                if target in claimed and claimed[target][1] != digests[ref]:
                    raise PushError(f"{ref} and {claimed[target][0]} both map to {target} on "
                                    "the mirror but are different images")
                claimed[target] = (ref, digests[ref])
                command = [skopeo, "copy", "--quiet", "--preserve-digests", "--retry-times", "2",
                           "--dest-tls-verify=false", f"oci:{tmp}:{ref}",
                           f"docker://{registry}/{target}"]
                result = subprocess.run(command, capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    raise PushError(f"pushing {ref} to {registry}/{target} failed: "
                                    f"{result.stderr.strip().splitlines()[-1:]}")
                pushed.append((ref, f"{registry}/{target}", digests[ref]))
        log(f"{archive.name}: {len(refs)} reference(s) in {time.monotonic() - start:.1f}s")
    return pushed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="push.sh", description=__doc__.split("\n")[0])
    parser.add_argument("registry", metavar="HOST:PORT",
                        help="the mirror registry, plain HTTP (for example 10.77.0.1:5000)")
    parser.add_argument("--index", type=Path, default=None,
                        help="build.sh's index (default: the cache's index.tsv)")
    args = parser.parse_args(argv)
    try:
        index = args.index or Cache().root / "index.tsv"
        start = time.monotonic()
        pushed = push(args.registry, read_index(index))
    except (PushError, ValueError) as error:
        print(f"push: error: {error}", file=sys.stderr)
        return 1
    for ref, url, digest in pushed:
        print(f"{ref}\t{url}\t{digest}")
    log(f"{len(pushed)} reference(s) pushed in {time.monotonic() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
