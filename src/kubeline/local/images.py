"""Container images mapped to this machine's programs (images are never pulled locally).

A container's command runs with the programs installed here. What an image itself would
have supplied is mapped where Argo's examples rely on it: the image's ENTRYPOINT/CMD when a
container sets no ``command`` (Kubernetes' rule: ``command`` replaces the entrypoint,
``args`` replace CMD), PATH entries the image adds (``/usr/games`` for cowsay in Argo's
``argosay`` images), and ``argosay`` itself, a tiny test program of Argo's that kubeline
provides. When a program is missing here the node's error names the image and the program.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImageDefaults:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    path: tuple[str, ...] = ()  # folders the image adds to PATH
    env: tuple[tuple[str, str], ...] = ()  # the image's ENV (the container's env wins)
    workdir: str = ""  # the image's WORKDIR, where known


_ARGOSAY_PATH = ("/usr/games",)
IMAGES: dict[str, ImageDefaults] = {
    "argoproj/argosay:v1": ImageDefaults(cmd=("cowsay",), path=_ARGOSAY_PATH),
    "argoproj/argosay:v2": ImageDefaults(entrypoint=("argosay",), path=_ARGOSAY_PATH),
    "docker/whalesay": ImageDefaults(cmd=("/bin/bash",), path=_ARGOSAY_PATH),
    "busybox": ImageDefaults(cmd=("sh",), workdir="/"),
    "alpine": ImageDefaults(cmd=("/bin/sh",), workdir="/"),
    "debian": ImageDefaults(cmd=("bash",), workdir="/"),
    "ubuntu": ImageDefaults(cmd=("/bin/bash",), workdir="/"),
    "python": ImageDefaults(cmd=("python3",), workdir="/"),
    # servers Argo's daemon examples run (Debian's nginx-light and influxdb here)
    "nginx": ImageDefaults(cmd=("nginx", "-g", "daemon off;")),
    # the image keeps its database in the container (/var/lib/influxdb); here that is the
    # container's private /tmp, so two runs never share one database
    "influxdb": ImageDefaults(cmd=("influxd",), env=(
        ("INFLUXDB_META_DIR", "/tmp/influxdb/meta"), ("INFLUXDB_DATA_DIR", "/tmp/influxdb/data"),
        ("INFLUXDB_DATA_WAL_DIR", "/tmp/influxdb/wal"))),
    "curlimages/curl": ImageDefaults(entrypoint=("curl",)),
}
"""What the images Argo's examples use supply, by name (a tag matters only where given)."""

_REGISTRIES = ("docker.io/library/", "docker.io/", "quay.io/", "index.docker.io/")


def defaults(image: str) -> ImageDefaults:
    name = image.strip()
    for prefix in _REGISTRIES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name in IMAGES:
        return IMAGES[name]
    bare = name.rsplit("@", 1)[0]
    bare = bare.rsplit(":", 1)[0] if ":" in bare.rsplit("/", 1)[-1] else bare
    return IMAGES.get(bare, ImageDefaults())


def container_argv(container: dict[str, object], image: str) -> list[str]:
    """command + args with the image's ENTRYPOINT/CMD filling what the container leaves out."""
    command = [str(x) for x in (container.get("command") or [])]  # type: ignore[attr-defined]
    args = [str(x) for x in (container.get("args") or [])]  # type: ignore[attr-defined]
    if command:
        return command + args
    image_defaults = defaults(image)
    return [*image_defaults.entrypoint, *(args or image_defaults.cmd)]


def image_path(env_path: str, image: str) -> str:
    """PATH with the folders the image adds appended (as its Dockerfile's ENV PATH does)."""
    extra = [p for p in defaults(image).path if p not in env_path.split(os.pathsep)]
    return os.pathsep.join([env_path, *extra]) if extra else env_path


def find_program(program: str, env_path: str) -> bool:
    """Whether program would start here: a path that is an executable file, or a name PATH
    has."""
    if "/" in program:
        return os.path.isfile(program) and os.access(program, os.X_OK)
    return shutil.which(program, path=env_path) is not None


def missing_program(program: str, image: str) -> str:
    return (
        f"program '{program}' is not installed on this machine (image "
        f"'{image or 'unset'}' is not pulled locally: its commands run with this machine's "
        f"programs); install '{program}' here or change the command"
    )


_NOT_FOUND = re.compile(
    r"(?:^|\s|:\s)(?P<prog>[^\s:'\"]+): (?:command )?not found\s*$"
    r"|can't execute '(?P<prog2>[^']+)': No such file or directory",
    re.MULTILINE,
)


def shell_missing_program(stderr: Path) -> str | None:
    """The program a shell reported as not found (exit code 127), from the end of its
    stderr."""
    try:
        with open(stderr, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    found = list(_NOT_FOUND.finditer(tail))
    if not found:
        return None
    last = found[-1]
    return last.group("prog") or last.group("prog2")


_ARGOSAY = """#!/bin/sh
# argosay, the small program Argo's examples and e2e images run (kubeline's own version):
#   argosay                         print "hello argo"
#   argosay echo [MESSAGE [FILE]]   print MESSAGE, or write it to FILE (folders made)
#   argosay cat FILE | assert_contains FILE TEXT | exit [CODE] | sleep DURATION | sh FILE
set -eu
action="${1:-}"
case "$action" in
  "") echo "hello argo" ;;
  echo)
    if [ "$#" -le 1 ]; then echo "hello argo"
    elif [ "$#" -eq 2 ]; then echo "$2"
    elif [ "$#" -eq 3 ]; then mkdir -p "$(dirname "$3")"; echo "$2" > "$3"
    else exit 1; fi ;;
  cat) cat "$2" ;;
  assert_contains) grep -F -- "$3" "$2" ;;
  exit) exit "${2:-0}" ;;
  sleep) sleep "$2" ;;
  sh) sh "$2" ;;
  *) echo "argosay: unknown action '$action'" >&2; exit 1 ;;
esac
"""


def install_programs(bin_dir: Path) -> None:
    """Write the image programs kubeline provides (argosay) into the run's bin folder."""
    path = bin_dir / "argosay"
    if path.exists() and path.read_text() == _ARGOSAY:
        return
    tmp = bin_dir / ".argosay.tmp"
    tmp.write_text(_ARGOSAY)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def image_env(env: dict[str, str], image: str) -> dict[str, str]:
    """The image's ENV under the container's own env (Kubernetes' precedence)."""
    return {**dict(defaults(image).env), **env}
