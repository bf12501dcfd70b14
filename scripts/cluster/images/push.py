"""Push the built archives to the box's mirror registry under each reference's path.

``docker.io/library/busybox:latest`` goes to ``<registry>/library/busybox:latest``,
``ghcr.io/kubeline/runtime:0.1.0`` to ``<registry>/kubeline/runtime:0.1.0``: containerd,
told that the registry mirrors docker.io, ghcr.io, quay.io and registry.k8s.io, asks it for
exactly those paths, and so does anything reading an image's config.

Why our own client of the registry API (distribution spec: blob HEAD, monolithic upload,
cross-repository mount, manifest PUT) rather than skopeo: manifests and blobs go up byte for
byte as the archive holds them (the registry's digests are the archive's), a layer shared by
twenty stand-ins is sent once and mounted into the other repositories, blobs are read from
the archive without unpacking it, and nothing is written outside the registry (skopeo keeps
a blob cache in /var/lib/containers). Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import Cache
from refs import mirror_path

TIMEOUT = 300


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


class Registry:
    """The distribution API of one registry over plain HTTP (the box's, inside its netns)."""

    def __init__(self, host: str) -> None:
        self.base = f"http://{host}"
        # digest -> a repository that has it, for cross-repository mounts
        self.known: dict[str, str] = {}

    def call(self, method: str, path: str, body: bytes | IO[bytes] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                answer.read()
                return answer.status, dict(answer.headers)
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code == 404:
                return 404, {}
            detail = error.read().decode(errors="replace")[:300]
            raise PushError(f"{method} {url}: {error.code} {detail}") from error
        except (urllib.error.URLError, OSError) as error:
            raise PushError(f"{method} {url}: {error}") from error

    def check(self) -> None:
        """The registry answers the API's version check (``GET /v2/``)."""
        try:
            self.call("GET", "/v2/")
        except PushError as error:
            raise PushError(f"no registry at {self.base}/v2/ ({error.__cause__ or error}); "
                            "start it first (scripts/cluster/images/registry.sh)") from error

    def put_blob(self, repository: str, digest: str, size: int, data: IO[bytes]) -> None:
        """Upload a blob unless the repository has it; mount it if another one has."""
        status, _ = self.call("HEAD", f"/v2/{repository}/blobs/{digest}")
        if status == 200:
            self.known.setdefault(digest, repository)
            return
        start = f"/v2/{repository}/blobs/uploads/"
        source = self.known.get(digest)
        if source is not None:
            query = urllib.parse.urlencode({"mount": digest, "from": source})
            status, headers = self.call("POST", f"{start}?{query}")
            if status == 201:
                return
        else:
            status, headers = self.call("POST", start)
        location = urllib.parse.urljoin(self.base, headers["Location"])
        separator = "&" if "?" in location else "?"
        self.call("PUT", f"{location}{separator}digest={urllib.parse.quote(digest)}", data,
                  {"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        self.known[digest] = repository

    def put_manifest(self, repository: str, tag: str, manifest: bytes, media_type: str) -> str:
        _, headers = self.call("PUT", f"/v2/{repository}/manifests/{tag}", manifest,
                               {"Content-Type": media_type})
        return headers.get("Docker-Content-Digest", "")


def push_archive(registry: Registry, archive: Path, refs: list[str],
                 claimed: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    pushed = []
    with tarfile.open(archive) as tar:
        def blob(digest: str) -> tuple[IO[bytes], int]:
            member = tar.getmember("blobs/" + digest.replace(":", "/"))
            handle = tar.extractfile(member)
            assert handle is not None
            return handle, member.size

        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        entries = {e["annotations"]["org.opencontainers.image.ref.name"]: e
                   for e in index["manifests"]}
        for ref in refs:
            if ref not in entries:
                raise PushError(f"{archive} has no image named {ref}")
            entry = entries[ref]
            _, repository, tag = mirror_path(ref)
            target = f"{repository}:{tag}"
            if target in claimed and claimed[target][1] != entry["digest"]:
                raise PushError(f"{ref} and {claimed[target][0]} both map to {target} on the "
                                "mirror but are different images")
            claimed[target] = (ref, entry["digest"])
            handle, _ = blob(entry["digest"])
            manifest = handle.read()
            if "sha256:" + hashlib.sha256(manifest).hexdigest() != entry["digest"]:
                raise PushError(f"{archive}: the manifest of {ref} does not match its digest")
            described = json.loads(manifest)
            for descriptor in [described["config"], *described["layers"]]:
                data, size = blob(descriptor["digest"])
                registry.put_blob(repository, descriptor["digest"], size, data)
            digest = registry.put_manifest(repository, tag, manifest, entry["mediaType"])
            if digest != entry["digest"]:
                raise PushError(f"{registry.base}/{target} stored {digest}, the archive has "
                                f"{entry['digest']}")
            pushed.append((ref, f"{registry.base.removeprefix('http://')}/{target}", digest))
    return pushed


def push(host: str, archives: dict[Path, list[str]]) -> list[tuple[str, str, str]]:
    """Push every reference; returns (reference, mirror path, manifest digest) for each."""
    registry = Registry(host)
    registry.check()
    claimed: dict[str, tuple[str, str]] = {}
    pushed = []
    for archive, refs in archives.items():
        if not archive.exists():
            raise PushError(f"{archive} is missing: rerun scripts/cluster/images/build.sh")
        start = time.monotonic()
        pushed += push_archive(registry, archive, refs, claimed)
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
