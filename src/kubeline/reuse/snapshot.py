"""Source snapshots: which files a step ships, their content hash, git state, and the archive.

The rules (docs/snapshots.md has the long form):

* ``.amlignore`` at the root of the source directory selects ``.amlignore`` files, otherwise
  ``.gitignore`` files are used; either kind is honoured in every folder, with git's
  precedence (deeper files and later lines win; an excluded folder is not entered).
* ``.git``, ``.kubeline``, ``__pycache__``, ``.env`` and ``.env.*`` are always left out.
* The hash covers each file's relative path, owner exec bit and content sha256, in sorted
  order, so it is the same on every machine and ignores mtimes, owners and other mode bits.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, Literal

from kubeline.exceptions import KubelineError
from kubeline.reuse.fingerprint_cache import FingerprintCache, cache_file_for

ALWAYS_EXCLUDED = frozenset({".git", ".kubeline", "__pycache__", ".env"})
WORKSPACE_FILE = "kubeline.yaml"
CACHE_SUBDIR = Path(".kubeline") / "cache" / "fingerprints"

if TYPE_CHECKING:
    import pathspec


class SnapshotError(KubelineError):
    """A source directory, hash path or snapshot archive cannot be used."""


@dataclass(frozen=True)
class GitInfo:
    """Where the snapshot came from: recorded with the run, never part of the hash."""

    commit: str | None  # None in a repository with no commit yet
    branch: str | None  # None on a detached HEAD
    dirty: bool  # tracked changes or untracked, non-ignored files anywhere in the repository


@dataclass(frozen=True)
class FileEntry:
    """One snapshot file as hashed: the archive writer checks the bytes still match."""

    path: str
    sha256: str
    size: int
    executable: bool


@dataclass(frozen=True)
class Snapshot:
    """A fingerprinted source directory."""

    hash: str
    files: tuple[str, ...]
    size: int
    git: GitInfo | None
    entries: tuple[FileEntry, ...] = ()
    hashed: tuple[FileEntry, ...] = ()  # hash_paths files: in the hash, not in the archive

    def manifest(self) -> dict[str, object]:
        """The file list behind the hash (``kubeline explain-reuse`` diffs two of these)."""
        return {"version": 1, "hash": self.hash,
                "files": {e.path: e.sha256 for e in self.entries},
                "hash_paths": {e.path: e.sha256 for e in self.hashed}}


# ---------------------------------------------------------------- ignore rules and listing

_Rules = tuple[tuple[str, "pathspec.GitIgnoreSpec"], ...]  # (folder prefix, spec), root first


def _always_excluded(name: str) -> bool:
    return name in ALWAYS_EXCLUDED or name.startswith(".env.")


def _ignored(rules: _Rules, rel: str) -> bool:
    """Git's verdict for ``rel`` (folders end in "/"): the last matching pattern wins."""
    verdict = False
    for prefix, spec in rules:
        include = spec.check_file(rel[len(prefix) :]).include
        if include is not None:
            verdict = include
    return verdict


def _read_rules(path: str) -> pathspec.GitIgnoreSpec | None:
    import pathspec  # imported here: the runtime shim extracts archives without it

    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            return pathspec.GitIgnoreSpec.from_lines(fh.read().splitlines())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: cannot read ignore file: {exc}", "fix or remove it") from exc


def _scan(root: Path) -> list[tuple[str, str, os.stat_result]]:
    """(relative posix path, absolute path, stat) of every snapshot file under root, sorted.

    Symlinks to files are followed (their target's bytes are shipped); symlinks to folders,
    broken links, sockets and fifos are skipped.
    """
    if not root.is_dir():
        raise SnapshotError(
            f"source_directory {root}: not a folder", "pass an existing folder to the step"
        )
    ignore_name = ".amlignore" if (root / ".amlignore").is_file() else ".gitignore"
    found: list[tuple[str, str, os.stat_result]] = []

    def visit(folder: str, prefix: str, rules: _Rules) -> None:
        spec = _read_rules(os.path.join(folder, ignore_name))
        if spec is not None:
            rules = (*rules, (prefix, spec))
        with os.scandir(folder) as it:
            entries = list(it)
        for entry in entries:
            if _always_excluded(entry.name):
                continue
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if not _ignored(rules, rel + "/"):
                    visit(entry.path, rel + "/", rules)
            elif entry.is_file() and not _ignored(rules, rel):
                found.append((rel, entry.path, entry.stat()))

    visit(str(root), "", ())
    found.sort(key=lambda item: item[0])
    return found


def list_snapshot_files(source_dir: Path) -> list[str]:
    """Sorted POSIX relative paths of the files that belong to the snapshot."""
    return [rel for rel, _, _ in _scan(Path(source_dir))]


# ---------------------------------------------------------------- fingerprint


def find_workspace_dir(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding kubeline.yaml."""
    for folder in (start.absolute(), *start.absolute().parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    return None


def _manifest_line(*fields: object) -> bytes:
    return (json.dumps(list(fields), ensure_ascii=True) + "\n").encode("ascii")


def _hash_path_lines(
    source_dir: Path, hash_paths: Sequence[str | Path], base_dir: Path, cache: FingerprintCache
) -> tuple[list[bytes], list[FileEntry]]:
    """Manifest lines for hash_paths under their own "hash_path" kind and per-entry label."""
    lines: list[bytes] = []
    entries: list[FileEntry] = []
    for index, raw in enumerate(hash_paths):
        given = Path(raw)
        target = given if given.is_absolute() else base_dir / given
        if not target.exists():
            raise SnapshotError(
                f"hash_paths: {raw} does not exist (looked for {target})",
                "give a file or folder relative to the source directory, or an absolute path",
            )
        try:  # a label that is the same on every machine: never an absolute path
            label = target.absolute().relative_to(source_dir.absolute()).as_posix()
        except ValueError:
            label = target.name
        if target.is_dir():
            members = [(f"{label}/{rel}", abs_, st) for rel, abs_, st in _scan(target)]
        else:
            members = [(label, str(target), target.stat())]
        for name, abs_path, st in members:
            sha = cache.digest(os.path.abspath(abs_path), abs_path, st)
            lines.append(_manifest_line("hash_path", index, name, _is_exec(st), sha))
            entries.append(FileEntry(name, sha, st.st_size, _is_exec(st)))
    return lines, entries


def _is_exec(st: os.stat_result) -> bool:
    return bool(st.st_mode & stat.S_IXUSR)


def fingerprint(
    source_dir: Path,
    hash_paths: Sequence[str | Path] = (),
    base_dir: Path | None = None,
    cache_dir: Path | Literal["auto"] | None = "auto",
    with_git: bool = True,
) -> Snapshot:
    """Hash the snapshot of ``source_dir`` plus ``hash_paths``; record git state beside it.

    Relative hash_paths are resolved against ``base_dir`` (default: source_dir).
    ``cache_dir="auto"`` keeps the digest cache in ``<workspace>/.kubeline/cache/fingerprints``
    when a kubeline.yaml is found at or above source_dir; ``None`` disables the cache.
    """
    source_dir = Path(source_dir)
    files = _scan(source_dir)
    if cache_dir == "auto":
        workspace = find_workspace_dir(source_dir)
        cache_dir = workspace / CACHE_SUBDIR if workspace is not None else None
    cache = FingerprintCache(
        cache_file_for(cache_dir, source_dir) if cache_dir is not None else None
    )
    manifest = hashlib.sha256(_manifest_line("kubeline-snapshot", 1))
    entries = []
    for rel, abs_path, st in files:
        entry = FileEntry(rel, cache.digest(rel, abs_path, st), st.st_size, _is_exec(st))
        entries.append(entry)
        manifest.update(_manifest_line("file", rel, entry.executable, entry.sha256))
    hashed_extra, hashed = _hash_path_lines(source_dir, hash_paths, Path(base_dir or source_dir),
                                            cache)
    for line in hashed_extra:
        manifest.update(line)
    cache.save()
    return Snapshot(
        hash=manifest.hexdigest(),
        files=tuple(e.path for e in entries),
        size=sum(e.size for e in entries),
        git=git_info(source_dir) if with_git else None,
        entries=tuple(entries),
        hashed=tuple(hashed),
    )


# ---------------------------------------------------------------- git


def _git(folder: Path, *args: str) -> str | None:
    """stdout of ``git -C folder args``, or None when git fails or is not installed."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info(folder: Path) -> GitInfo | None:
    """Commit, branch and dirty state of the repository holding ``folder``; None outside one."""
    if _git(folder, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    status = _git(folder, "status", "--porcelain")
    return GitInfo(
        commit=_git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") or None,
        branch=_git(folder, "symbolic-ref", "--short", "--quiet", "HEAD") or None,
        dirty=bool(status),
    )


def _maybe_in_git(folder: Path) -> bool:
    """False only when git would surely say "not a repository": no ``.git`` (a folder, or
    the file of a worktree or submodule) in the folder or above, and no GIT_DIR. Saves
    starting git for every compile outside a repository."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    here = folder.resolve()
    return any((place / ".git").exists() for place in (here, *here.parents))


def source_revision(folders: Sequence[Path]) -> GitInfo | None:
    """The last commit that touched any of the folders, and whether they have local changes.

    Unlike HEAD, this stays put when unrelated files (such as compiled manifests kept in the
    same repository) are committed, so compiled output does not chase its own commits.
    """
    if not folders or not _maybe_in_git(folders[0]):
        return None
    if _git(folders[0], "rev-parse", "--is-inside-work-tree") != "true":
        return None
    top = _git(folders[0], "rev-parse", "--show-toplevel")
    if top is None:
        return None
    rels = sorted({os.path.relpath(f.resolve(), top) for f in folders})
    commit = _git(Path(top), "log", "-1", "--format=%H", "--", *rels)
    status = _git(Path(top), "status", "--porcelain", "--", *rels)
    branch = _git(Path(top), "symbolic-ref", "--short", "--quiet", "HEAD")
    return GitInfo(commit=commit or None, branch=branch or None, dirty=bool(status))


# ---------------------------------------------------------------- archive


class _HashingReader:
    """Feeds tarfile while hashing, so the archive is proven to hold the fingerprinted bytes."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.sha.update(data)
        return data


def write_archive(source_dir: Path, snapshot: Snapshot, dest: Path) -> None:
    """Write a byte-for-byte reproducible tar.gz of exactly the snapshot files.

    Raises SnapshotError when a file changed since ``fingerprint`` (the archive would not
    match the hash). Written to a temp file beside ``dest``, then renamed.
    """
    if len(snapshot.entries) != len(snapshot.files):
        raise SnapshotError("snapshot has no file entries", "build it with fingerprint()")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for entry in snapshot.entries:
                _add_file(tar, Path(source_dir), entry)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _add_file(tar: tarfile.TarFile, source_dir: Path, entry: FileEntry) -> None:
    info = tarfile.TarInfo(entry.path)
    info.size, info.mtime, info.uid, info.gid, info.uname, info.gname = (
        entry.size, 0, 0, 0, "", "",
    )  # fmt: skip
    info.mode = 0o755 if entry.executable else 0o644
    changed = SnapshotError(
        f"source file {source_dir / entry.path} changed since the snapshot was fingerprinted",
        "fingerprint again before writing the archive",
    )
    try:
        with open(source_dir / entry.path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size != entry.size:
                raise changed
            reader = _HashingReader(fh)
            tar.addfile(info, reader)
    except FileNotFoundError as exc:
        raise changed from exc
    except OSError as exc:  # tarfile's "unexpected end of data" when a file shrank
        raise changed from exc
    if reader.sha.hexdigest() != entry.sha256:
        raise changed


def extract_archive(archive: Path, dest: Path) -> None:
    """Unpack a snapshot archive into ``dest``; refuses anything that would land outside it.

    Only regular files and folders are accepted: links, devices, absolute names and ".."
    are refused before anything is written.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(archive, member)
            for member in members:
                target = _target_inside(archive, root, member)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _target_inside(archive, root, member)  # again, now that the parents exist
                src = tar.extractfile(member)
                assert src is not None  # regular file, checked above
                with src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.chmod(target, 0o755 if member.mode & stat.S_IXUSR else 0o644)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SnapshotError(f"archive {archive}: cannot be extracted: {exc}") from exc


def _target_inside(archive: Path, root: Path, member: tarfile.TarInfo) -> Path:
    """Where ``member`` goes; refused if a symlink already in ``root`` leads elsewhere."""
    target = root.joinpath(*PurePosixPath(member.name).parts)
    if target.is_symlink() or not target.resolve().is_relative_to(root):
        raise SnapshotError(
            f"archive {archive}: {member.name} would be written outside {root}",
            "refusing to extract; extract into an empty folder",
        )
    return target


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    parts = PurePosixPath(member.name).parts
    if not parts or member.name.startswith("/") or ".." in parts:
        raise SnapshotError(
            f"archive {archive}: member {member.name!r} escapes the destination",
            "refusing to extract; snapshot archives hold relative paths only",
        )
    if not (member.isreg() or member.isdir()):
        raise SnapshotError(
            f"archive {archive}: member {member.name!r} is a link or special file",
            "refusing to extract; snapshot archives hold regular files only",
        )
