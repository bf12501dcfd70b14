"""Source snapshots: ignore rules, hash stability, git info, archives and the digest cache."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from kubeline.exceptions import KubelineError
from kubeline.reuse.fingerprint_cache import cache_file_for
from kubeline.reuse.snapshot import (
    SnapshotError,
    extract_archive,
    fingerprint,
    git_info,
    list_snapshot_files,
    source_revision,
    write_archive,
)

OLD_NS = 1_600_000_000_000_000_000  # 2020: old enough to be cached (not "racily clean")


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Create ``files`` (relative path -> text) under root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fp(root: Path, **kwargs: object) -> str:
    return fingerprint(root, cache_dir=None, **kwargs).hash  # type: ignore[arg-type]


# ---------------------------------------------------------------- ignore rules


def test_no_ignore_file_keeps_everything_but_the_always_excluded(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "train.py": "",
            "data/a.csv": "",
            ".git/HEAD": "",
            ".kubeline/state.db": "",
            "__pycache__/x.pyc": "",
            "pkg/__pycache__/y.pyc": "",
            ".env": "SECRET=1",
            ".env.local": "SECRET=2",
            "pkg/.env": "SECRET=3",
            "pkg/mod.py": "",
            ".envrc": "",  # not .env nor .env.*: kept
        },
    )
    assert list_snapshot_files(tmp_path) == [".envrc", "data/a.csv", "pkg/mod.py", "train.py"]


def test_gitignore_patterns_negation_and_anchoring(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "*.log\n!keep.log\n/top.txt\nbuild/\n!build/inside.txt\n# comment\n",
            "a.log": "",
            "keep.log": "",
            "sub/b.log": "",
            "sub/keep.log": "",
            "top.txt": "",
            "sub/top.txt": "",
            "build/inside.txt": "",  # a negation cannot reach into an excluded folder (git)
            "sub/build/x.txt": "",
            "main.py": "",
        },
    )
    assert list_snapshot_files(tmp_path) == [
        ".gitignore",
        "keep.log",
        "main.py",
        "sub/keep.log",
        "sub/top.txt",
    ]


def test_nested_gitignore_applies_below_its_folder_and_overrides_parents(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "*.dat\n",
            "root.csv": "",
            "root.dat": "",
            "sub/.gitignore": "*.csv\n!wanted.dat\n/local.txt\n",
            "sub/a.csv": "",
            "sub/wanted.dat": "",
            "sub/other.dat": "",
            "sub/local.txt": "",
            "sub/deeper/local.txt": "",
            "sub/deeper/b.csv": "",
        },
    )
    assert list_snapshot_files(tmp_path) == [
        ".gitignore",
        "root.csv",
        "sub/.gitignore",
        "sub/deeper/local.txt",
        "sub/wanted.dat",
    ]


def test_amlignore_wins_over_gitignore_everywhere(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "*.txt\n",
            ".amlignore": "*.log\n",
            "a.txt": "",
            "a.log": "",
            "sub/.gitignore": "*.py\n",
            "sub/.amlignore": "*.csv\n",
            "sub/m.py": "",
            "sub/d.csv": "",
        },
    )
    assert list_snapshot_files(tmp_path) == [
        ".amlignore",
        ".gitignore",
        "a.txt",
        "sub/.amlignore",
        "sub/.gitignore",
        "sub/m.py",
    ]


def test_without_root_amlignore_nested_amlignore_is_not_used(tmp_path: Path) -> None:
    make_tree(tmp_path, {"sub/.amlignore": "*.csv\n", "sub/d.csv": ""})
    assert list_snapshot_files(tmp_path) == ["sub/.amlignore", "sub/d.csv"]


def test_always_excluded_names_cannot_be_reincluded(tmp_path: Path) -> None:
    make_tree(tmp_path, {".gitignore": "!.env\n!.git/\n!__pycache__/\n", ".env": "S=1"})
    make_tree(tmp_path, {".git/config": "", "__pycache__/a.pyc": "", "ok.py": ""})
    assert list_snapshot_files(tmp_path) == [".gitignore", "ok.py"]


def test_symlinked_files_are_followed_and_symlinked_folders_skipped(tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"f.txt": "hello", "d/g.txt": ""})
    src = make_tree(tmp_path / "src", {"main.py": ""})
    (src / "link.txt").symlink_to(outside / "f.txt")
    (src / "linkdir").symlink_to(outside / "d")
    (src / "broken").symlink_to(tmp_path / "nowhere")
    snap = fingerprint(src, cache_dir=None)
    assert snap.files == ("link.txt", "main.py")
    assert snap.size == len("hello")


def test_missing_source_directory_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(KubelineError, match=r"source_directory .*nope: not a folder"):
        list_snapshot_files(tmp_path / "nope")


# ---------------------------------------------------------------- hash stability

TREE = {"train.py": "print(1)\n", "pkg/util.py": "X = 2\n", "data/a.csv": "1,2\n"}


def test_hash_ignores_mtime_mode_creation_order_and_location(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a", TREE)
    base = fp(a)
    os.utime(a / "train.py", ns=(OLD_NS, OLD_NS))
    (a / "pkg/util.py").chmod(0o600)
    (a / "data/a.csv").chmod(0o664)
    assert fp(a) == base
    b = make_tree(tmp_path / "b", dict(reversed(TREE.items())))
    assert fp(b) == base
    c = tmp_path / "elsewhere" / "copy"
    shutil.copytree(a, c)
    assert fp(c) == base


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "train.py").write_text("print(2)\n"),
        lambda root: (root / "train.py").rename(root / "train2.py"),
        lambda root: (root / "pkg").rename(root / "pkg2"),
        lambda root: (root / "train.py").chmod(0o755),
        lambda root: (root / "new.txt").write_text(""),
        lambda root: (root / "data/a.csv").unlink(),
    ],
    ids=["content", "rename", "rename-folder", "exec-bit", "new-file", "delete"],
)
def test_hash_changes_with_content_names_and_exec_bit(tmp_path: Path, change: object) -> None:
    root = make_tree(tmp_path, TREE)
    before = fp(root)
    change(root)  # type: ignore[operator]
    assert fp(root) != before


def test_an_excluded_file_does_not_change_the_hash(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {**TREE, ".gitignore": "*.log\n", "run.log": "a", ".env": "K=1"})
    before = fp(root)
    (root / "run.log").write_text("b" * 100)
    (root / ".env").write_text("K=2")
    (root / "__pycache__").mkdir()
    (root / "__pycache__/x.pyc").write_bytes(b"\0")
    assert fp(root) == before


def test_hash_paths_are_hashed_under_their_own_prefix(tmp_path: Path) -> None:
    root = make_tree(
        tmp_path / "src", {**TREE, ".amlignore": "notebook.ipynb\n", "notebook.ipynb": "1"}
    )
    plain = fp(root)
    with_nb = fp(root, hash_paths=["notebook.ipynb"])
    assert with_nb != plain
    (root / "notebook.ipynb").write_text("2")
    assert fp(root) == plain  # excluded from the snapshot...
    assert fp(root, hash_paths=["notebook.ipynb"]) != with_nb  # ...but hashed when asked
    # a file of the snapshot listed again still adds a distinct entry
    assert fp(root, hash_paths=["train.py"]) != plain


def test_hash_paths_folders_absolute_paths_and_base_dir(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", TREE)
    one = make_tree(tmp_path / "m1" / "conf", {"a.yaml": "x: 1", "b/c.yaml": "y: 2"})
    two = make_tree(tmp_path / "m2" / "conf", {"a.yaml": "x: 1", "b/c.yaml": "y: 2"})
    h1 = fp(root, hash_paths=[one])
    assert h1 == fp(root, hash_paths=[two])  # absolute paths never enter the hash
    assert h1 == fp(root, hash_paths=["conf"], base_dir=tmp_path / "m1")
    (two / "b/c.yaml").write_text("y: 3")
    assert fp(root, hash_paths=[two]) != h1


def test_missing_hash_path_names_the_path(tmp_path: Path) -> None:
    root = make_tree(tmp_path, TREE)
    with pytest.raises(SnapshotError, match=r"hash_paths: missing\.ipynb does not exist"):
        fp(root, hash_paths=["missing.ipynb"])


def test_snapshot_fields(tmp_path: Path) -> None:
    root = make_tree(tmp_path, TREE)
    snap = fingerprint(root, cache_dir=None)
    assert snap.files == ("data/a.csv", "pkg/util.py", "train.py")
    assert snap.size == sum(len(t) for t in TREE.values())
    assert len(snap.hash) == 64 and int(snap.hash, 16) >= 0
    assert snap.git is None
    with pytest.raises(AttributeError):
        snap.hash = "x"  # type: ignore[misc]


# ---------------------------------------------------------------- git


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def test_git_info_in_a_real_repository(tmp_path: Path) -> None:
    repo = make_tree(tmp_path / "repo", {"steps/train.py": "1", ".gitignore": "*.log\n"})
    git(repo, "init", "-q", "-b", "main")
    info = git_info(repo / "steps")
    assert info is not None and info.commit is None and info.branch == "main"
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    snap = fingerprint(repo / "steps", cache_dir=None)
    assert snap.git is not None
    assert snap.git.commit == git(repo, "rev-parse", "HEAD")
    assert snap.git.branch == "main"
    assert snap.git.dirty is False
    (repo / "run.log").write_text("ignored by git")
    assert git_info(repo).dirty is False  # type: ignore[union-attr]
    (repo / "steps/train.py").write_text("2")
    dirty = fingerprint(repo / "steps", cache_dir=None)
    assert dirty.git is not None and dirty.git.dirty is True
    assert dirty.git.commit == snap.git.commit
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    detached = git_info(repo)
    assert detached is not None and detached.branch is None and detached.dirty is False
    assert detached.commit == git(repo, "rev-parse", "HEAD") != snap.git.commit


def test_git_info_is_none_outside_a_repo_or_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = make_tree(tmp_path / "plain", TREE)
    assert git_info(root) is None
    repo = make_tree(tmp_path / "repo", TREE)
    git(repo, "init", "-q")
    assert git_info(repo) is not None
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # a machine with no git installed
    assert git_info(repo) is None
    assert fingerprint(repo, cache_dir=None).git is None


# ---------------------------------------------------------------- archive


def test_archive_is_byte_identical_and_round_trips(tmp_path: Path) -> None:
    src = make_tree(
        tmp_path / "src", {**TREE, ".gitignore": "*.log\n", "x.log": "no", "sp ace/é.txt": "u"}
    )
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o775)
    (src / "deep" / ("d" * 120)).mkdir(parents=True)
    (src / "deep" / ("d" * 120) / "long.txt").write_text("long name")
    snap = fingerprint(src, cache_dir=None)
    write_archive(src, snap, tmp_path / "one.tar.gz")
    copy = tmp_path / "later" / "src"
    shutil.copytree(src, copy)
    os.utime(copy / "train.py", ns=(OLD_NS, OLD_NS))
    snap_copy = fingerprint(copy, cache_dir=None)
    assert snap_copy.hash == snap.hash
    write_archive(copy, snap_copy, tmp_path / "two.tar.gz")
    data = (tmp_path / "one.tar.gz").read_bytes()
    assert data == (tmp_path / "two.tar.gz").read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # gzip header mtime
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == list(snap.files)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert {m.name: m.mode for m in members}["run.sh"] == 0o755
    assert {m.mode for m in members if m.name != "run.sh"} == {0o644}

    out = tmp_path / "out"
    extract_archive(tmp_path / "one.tar.gz", out)
    assert list_snapshot_files(out) == list(snap.files)
    assert fingerprint(out, cache_dir=None).hash == snap.hash
    assert os.access(out / "run.sh", os.X_OK)
    assert not (out / "x.log").exists()


def test_archive_refuses_a_file_changed_since_the_fingerprint(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", TREE)
    snap = fingerprint(src, cache_dir=None)
    (src / "train.py").write_text("print(9)\n")  # same size, other bytes
    dest = tmp_path / "a.tar.gz"
    with pytest.raises(SnapshotError, match=r"train\.py changed since the snapshot"):
        write_archive(src, snap, dest)
    (src / "train.py").write_text("short")
    with pytest.raises(SnapshotError, match="changed since"):
        write_archive(src, snap, dest)
    assert not dest.exists()
    assert list(tmp_path.glob(".a.tar.gz.*")) == []  # no temp file left behind


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    path = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("fine.txt")
        tar.addfile(ok, io.BytesIO(b""))
        member.size = len(data) if member.isreg() else 0
        tar.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return path


@pytest.mark.parametrize(
    "name, kind",
    [
        ("../evil.txt", tarfile.REGTYPE),
        ("a/../../evil.txt", tarfile.REGTYPE),
        ("/tmp/evil.txt", tarfile.REGTYPE),
        ("link", tarfile.SYMTYPE),
        ("hard", tarfile.LNKTYPE),
    ],
)
def test_extract_refuses_traversal_and_links(tmp_path: Path, name: str, kind: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = "/etc/passwd" if kind != tarfile.REGTYPE else ""
    bad = _tar_with(tmp_path, member, b"evil")
    out = tmp_path / "out" / "dest"
    with pytest.raises(SnapshotError, match="refusing to extract"):
        extract_archive(bad, out)
    assert list(out.iterdir()) == []  # checked before anything is written
    assert not (tmp_path / "out" / "evil.txt").exists()


def test_extract_refuses_writing_through_a_symlink_in_dest(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", {"sub/f.txt": "x"})
    snap = fingerprint(src, cache_dir=None)
    write_archive(src, snap, tmp_path / "a.tar.gz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere)
    with pytest.raises(SnapshotError, match="outside"):
        extract_archive(tmp_path / "a.tar.gz", out)
    assert list(elsewhere.iterdir()) == []


def test_extract_of_a_non_archive_is_a_snapshot_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar" * 100))
    with pytest.raises(SnapshotError, match="cannot be extracted"):
        extract_archive(junk, tmp_path / "out")


# ---------------------------------------------------------------- digest cache


def _set_old_mtimes(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_NS, OLD_NS))


def test_cache_trusts_size_mtime_and_inode(tmp_path: Path) -> None:
    """The documented cache rule: same (size, mtime_ns, inode) means same content.

    Rewriting a file in place with same-size bytes and restoring its mtime is therefore NOT
    seen while the cache is used; it is seen without the cache, or when the size changes.
    """
    root = make_tree(tmp_path / "src", TREE)
    _set_old_mtimes(root)
    cache = tmp_path / "cache"
    first = fingerprint(root, cache_dir=cache)
    assert cache_file_for(cache, root).is_file()

    (root / "train.py").write_text("print(7)\n")  # same size, same inode
    os.utime(root / "train.py", ns=(OLD_NS, OLD_NS))
    assert fingerprint(root, cache_dir=cache).hash == first.hash  # cached digest returned
    assert fingerprint(root, cache_dir=None).hash != first.hash  # the real content differs

    (root / "train.py").write_text("print(77)\n")  # size changes
    os.utime(root / "train.py", ns=(OLD_NS, OLD_NS))
    assert fingerprint(root, cache_dir=cache).hash == fingerprint(root, cache_dir=None).hash


def test_cache_sees_a_replaced_file_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", TREE)
    _set_old_mtimes(root)
    cache = tmp_path / "cache"
    first = fingerprint(root, cache_dir=cache)
    new = root / "train.py.new"
    new.write_text("print(5)\n")
    os.utime(new, ns=(OLD_NS, OLD_NS))
    os.replace(new, root / "train.py")  # new inode
    second = fingerprint(root, cache_dir=cache)
    assert second.hash != first.hash
    assert second.hash == fingerprint(root, cache_dir=None).hash


def test_recently_modified_files_are_not_cached(tmp_path: Path) -> None:
    """A file written in the same timestamp tick as the scan could change unseen: not cached."""
    root = make_tree(tmp_path / "src", TREE)
    cache = tmp_path / "cache"
    first = fingerprint(root, cache_dir=cache)
    st = (root / "train.py").stat()
    (root / "train.py").write_text("print(3)\n")
    os.utime(root / "train.py", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint(root, cache_dir=cache).hash != first.hash


def test_cache_file_is_json_and_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", TREE)
    _set_old_mtimes(root)
    cache = tmp_path / "cache"
    good = fingerprint(root, cache_dir=cache).hash
    data = json.loads(cache_file_for(cache, root).read_text())
    assert sorted(data["entries"]) == ["data/a.csv", "pkg/util.py", "train.py"]
    cache_file_for(cache, root).write_text("{not json")
    assert fingerprint(root, cache_dir=cache).hash == good
    assert list(cache.glob(".fp.*")) == []  # temp files are renamed, not left behind


def test_auto_cache_lives_in_the_workspace_state_folder(tmp_path: Path) -> None:
    (tmp_path / "kubeline.yaml").write_text("datastores: {}\n")
    root = make_tree(tmp_path / "steps" / "train", TREE)
    _set_old_mtimes(root)
    fingerprint(root)
    cache_dir = tmp_path / ".kubeline" / "cache" / "fingerprints"
    assert cache_file_for(cache_dir, root).is_file()


def test_auto_cache_is_off_without_a_workspace(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", TREE)
    _set_old_mtimes(root)
    fingerprint(root)
    assert [p for p in tmp_path.rglob("*") if ".kubeline" in p.parts] == []


def test_source_revision_of_a_worktree_whose_git_is_a_file(tmp_path: Path) -> None:
    """A worktree's .git is a file: the no-repository shortcut must still ask git."""
    repo = make_tree(tmp_path / "repo", {"steps/train.py": "1"})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    info = source_revision([tmp_path / "wt" / "steps"])
    assert info is not None and info.commit == git(repo, "rev-parse", "HEAD")
    assert source_revision([make_tree(tmp_path / "plain", {"a.py": "1"})]) is None
