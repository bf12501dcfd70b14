"""The in-box cluster's images: valid OCI archives, the entrypoints manifests rely on, a
runtime image that imports kubeline as its own user, stand-ins with the tools Argo's
examples call, and a push to a real registry read back through its HTTP API and with
go-containerregistry (the library Argo's controller looks entrypoints up with)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.cluster.images.conftest import (
    REPO,
    Built,
    Registry,
    build,
    image_in,
    in_rootfs,
    read_archive,
    run_script,
    script_module,
    unpack,
    write_index,
)
from tests.conftest import require_shared

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(3600)]

RUNTIME = "ghcr.io/kubeline/runtime:0.1.0"
ARGO_MODULE_EXAMPLES = "github.com/argoproj/argo-workflows/v4@v4.1.4"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# what the argo images are named (checked by test_argo_images_are_as_argo_ships_them)
ARGO_REFS = {f"quay.io/argoproj/{name}:{tag}" for name in ("argoexec", "workflow-controller")
             for tag in ("v4.1.4", "latest")}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_every_archive_is_an_oci_layout_and_a_docker_archive(base_images: Built) -> None:
    uncompressed: dict[str, str] = {}  # layer digest -> diff_id (stand-ins share one layer)
    for archive in sorted(set(base_images.archives.values())):
        files = read_archive(archive)
        assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
        index = json.loads(files["index.json"])
        assert index["schemaVersion"] == 2
        refs = [e["annotations"]["org.opencontainers.image.ref.name"] for e in index["manifests"]]
        assert sorted(refs) == sorted(r for r, a in base_images.archives.items() if a == archive)
        for entry in index["manifests"]:
            assert entry["annotations"]["io.containerd.image.name"] == \
                entry["annotations"]["org.opencontainers.image.ref.name"]
            raw = files["blobs/" + entry["digest"].replace(":", "/")]
            assert sha256(raw) == entry["digest"] and len(raw) == entry["size"]
            manifest = json.loads(raw)
            assert manifest["mediaType"] == OCI_MANIFEST
            config_raw = files["blobs/" + manifest["config"]["digest"].replace(":", "/")]
            assert sha256(config_raw) == manifest["config"]["digest"]
            config = json.loads(config_raw)
            assert (config["os"], config["architecture"]) == ("linux", "amd64")
            diff_ids = []
            for layer in manifest["layers"]:
                blob = files["blobs/" + layer["digest"].replace(":", "/")]
                if layer["digest"] not in uncompressed:
                    assert sha256(blob) == layer["digest"] and len(blob) == layer["size"]
                    uncompressed[layer["digest"]] = sha256(gzip.decompress(blob))
                diff_ids.append(uncompressed[layer["digest"]])
            assert config["rootfs"]["diff_ids"] == diff_ids
        # docker load reads manifest.json: the same images under the same names
        docker = json.loads(files["manifest.json"])
        assert sorted(t for entry in docker for t in entry["RepoTags"]) == sorted(refs)
        for entry in docker:
            assert entry["Config"] in files and all(p in files for p in entry["Layers"])


def expected_config(ref: str) -> tuple[list[str] | None, list[str] | None]:
    """(Entrypoint, Cmd) each image must carry: manifests give only args for some of them."""
    if ref == RUNTIME:
        return ["python3", "-m", "kubeline.runtime"], None
    if ref.startswith("registry.k8s.io/pause:"):
        return ["/pause"], None
    if ref == "docker.io/argoproj/argosay:v2":
        return ["/argosay"], None
    if ref.startswith("docker.io/library/python:"):
        return None, ["python3"]
    raise KeyError(ref)


@pytest.mark.parametrize("ref", [RUNTIME, "registry.k8s.io/pause:3.10.1",
                                 "docker.io/argoproj/argosay:v2",
                                 "docker.io/library/python:alpine3.23"])
def test_entrypoint_and_cmd(base_images: Built, ref: str) -> None:
    image = image_in(read_archive(base_images.archives[ref]), ref)
    entrypoint, cmd = expected_config(ref)
    assert image.config["config"].get("Entrypoint") == entrypoint
    assert image.config["config"].get("Cmd") == cmd


@pytest.fixture(scope="module")
def runtime_root(base_images: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = read_archive(base_images.archives[RUNTIME])
    return unpack(image_in(files, RUNTIME), tmp_path_factory.mktemp("runtime") / "root")


def test_runtime_image_runs_kubeline_as_its_user(base_images: Built, runtime_root: Path) -> None:
    config = image_in(read_archive(base_images.archives[RUNTIME]), RUNTIME).config["config"]
    assert config["User"] == "65532:65532"
    probe = ("import sys, kubeline, kubeline.runtime, boto3, azure.storage.blob, pydantic;"
             "print(sys.version_info[:2], kubeline.__file__)")
    result = in_rootfs(runtime_root, "python3", "-c", probe, user=config["User"])
    assert result.returncode == 0, result.stderr
    assert "(3, 11) /usr/local/lib/python3.11/dist-packages/kubeline/__init__.py" in result.stdout
    # the console script pip makes, as `pip install kubeline` in the Dockerfile does
    cli = in_rootfs(runtime_root, "kubeline", "--help", user=config["User"])
    assert cli.returncode == 0 and "Usage" in cli.stdout, cli.stderr
    # the image's kubeline is the checkout's
    ours = (REPO / "src/kubeline/runtime/boot.py").read_bytes()
    assert (runtime_root / "usr/local/lib/python3.11/dist-packages/kubeline/runtime/boot.py"
            ).read_bytes() == ours


def test_runtime_image_resolves_azureml_to_kubeline(runtime_root: Path) -> None:
    """Step scripts written for AML import ``azureml``: the image carries kubeline-azureml's
    finder (compat/azureml), so Run.get_context() works in a pod as it does locally."""
    probe = ("from azureml.core import Run; import kubeline.runtime.run as own, azureml;"
             "Run.get_context().log('m', 1); print(Run is own.Run, azureml.__name__)")
    result = in_rootfs(runtime_root, "python3", "-c", probe, user="65532:65532")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "kubeline.azureml"], result.stdout
    doctor = in_rootfs(runtime_root, "python3", "-m", "kubeline_azureml", user="65532:65532")
    assert doctor.returncode == 0 and "azureml -> kubeline (" in doctor.stdout, doctor.stderr


def test_runtime_image_carries_the_inject_bundles(runtime_root: Path) -> None:
    """/opt/kubeline as decision 0005 describes: boot.py, lib/ (kubeline alone) and a
    dependency bundle per Python with compiled wheels for that Python."""
    opt = runtime_root / "opt/kubeline"
    assert (opt / "boot.py").read_bytes() == (REPO / "src/kubeline/runtime/boot.py").read_bytes()
    assert (opt / "lib/kubeline/__init__.py").exists()
    assert not list((opt / "lib").glob("pydantic*"))
    for version in ("3.10", "3.11", "3.12", "3.13"):
        bundle = opt / f"py{version}"
        assert (bundle / "kubeline/__init__.py").exists()
        tag = version.replace(".", "")
        cores = list(bundle.glob(f"pydantic_core/_pydantic_core.cpython-{tag}-*.so"))
        assert cores, f"no pydantic-core built for Python {version} in {bundle}"
        assert (bundle / "boto3").is_dir() and (bundle / "azure/storage/blob").is_dir()
    # the 3.11 bundle works with the image's own interpreter the way boot.py uses it
    result = in_rootfs(runtime_root, "python3", "-I", "-c",
                       "import sys; sys.path.insert(0, '/opt/kubeline/py3.11');"
                       "import pydantic_core, kubeline; print(pydantic_core.__file__)",
                       user="65532:65532")
    assert result.returncode == 0 and "/opt/kubeline/py3.11/" in result.stdout, result.stderr


@pytest.fixture(scope="module")
def standin_root(base_images: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ref = "docker.io/argoproj/argosay:v2"
    files = read_archive(base_images.archives[ref])
    return unpack(image_in(files, ref), tmp_path_factory.mktemp("argosay") / "root")


def test_standins_share_one_layer(base_images: Built) -> None:
    refs = [r for r, a in base_images.archives.items() if a.name == "standins.tar"]
    files = read_archive(base_images.archives[refs[0]])
    first_layers = {image_in(files, ref).manifest["layers"][0]["digest"] for ref in refs}
    assert len(first_layers) == 1


def test_standins_have_the_tools_examples_call(standin_root: Path) -> None:
    script = ("set -e; busybox true; python --version; python3 -c 'import json, sqlite3';"
              " curl --version >/dev/null; jq --version; wget --help 2>&1 | head -1;"
              " cowsay hi >/dev/null; nginx -v; influxd version;"
              " node -e 'console.log(40+2)'; bash -c 'echo $((6*7))';"
              " seq 1 3 | awk '{s+=$1} END {print s}'; base64 --version >/dev/null")
    result = in_rootfs(standin_root, "sh", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Python 3.11" in result.stdout and "\n6\n" in result.stdout
    assert result.stdout.count("42\n") == 2


def test_argosay_behaves_as_documented(standin_root: Path) -> None:
    def say(*args: str) -> subprocess.CompletedProcess[str]:
        return in_rootfs(standin_root, "/argosay", *args)

    assert say().stdout == "hello argo\n"
    assert say("echo").stdout == "hello argo\n"
    assert say("echo", "hi there").stdout == "hi there\n"
    script = ("/argosay echo 'to a file' /tmp/a/b/out && /argosay cat /tmp/a/b/out &&"
              " /argosay assert_contains /tmp/a/b/out file && ! /argosay assert_contains"
              " /tmp/a/b/out nothing")
    both = in_rootfs(standin_root, "sh", "-c", script)
    assert both.returncode == 0, both.stderr
    assert both.stdout == "to a file\nto a file\n"
    assert say("exit", "3").returncode == 3
    assert say("exit").returncode == 0
    assert say("sleep", "0").returncode == 0
    unknown = say("dance")
    assert unknown.returncode == 1 and "unknown command" in unknown.stderr


def example_images() -> set[str]:
    """Every literal image name in Argo's examples (pinned module) and ../shared's."""
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                                check=False).stdout.strip()
    module = Path(gomodcache) / ARGO_MODULE_EXAMPLES / "examples"
    if not module.is_dir():
        subprocess.run(["go", "mod", "download", ARGO_MODULE_EXAMPLES],
                       capture_output=True, check=False, cwd="/tmp")
    assert module.is_dir(), f"{module} is missing (go mod download failed)"
    names = set()
    for folder in (module, require_shared("argo-examples")):
        for path in folder.rglob("*.yaml"):
            for match in re.finditer(r"^\s*-?\s*image:\s*['\"]?([^'\"\s{}#]+)['\"]?\s*$",
                                     path.read_text(errors="replace"), re.MULTILINE):
                names.add(match.group(1))
    return names - {"Placeholder"}


def documented_names() -> tuple[set[str], set[str]]:
    """(provided, not provided) from the tables in docs/cluster-images.md."""
    text = (REPO / "docs/cluster-images.md").read_text()
    provided = set(re.findall(r"^\| `([^`]+)` \| provided", text, re.MULTILINE))
    missing = set(re.findall(r"^\| `([^`]+)` \| not provided", text, re.MULTILINE))
    return provided, missing


def test_every_example_image_is_provided_or_listed_with_why(base_images: Built) -> None:
    qualify = script_module("refs").qualify
    provided, missing = documented_names()
    built = set(base_images.archives) | ARGO_REFS
    for name in sorted(example_images()):
        if name in missing:
            assert qualify(name) not in built, f"{name} is built but documented as missing"
            continue
        assert name in provided, f"{name} (used by an example) is not in docs/cluster-images.md"
        assert qualify(name) in built, f"{name} is documented as provided but not built"
    # and the docs list nothing the build does not make
    for name in provided:
        assert qualify(name) in built, name


def push(registry: Registry, index: Path) -> dict[str, tuple[str, str]]:
    result = run_script("push.sh", registry.host, "--index", str(index), timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    pushed = {}
    for line in result.stdout.splitlines():
        ref, url, digest = line.split("\t")
        pushed[ref] = (url, digest)
    return pushed


def registry_get(url: str, accept: str = OCI_MANIFEST) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read(), dict(answer.headers)


def check_pushed(built: Built, pushed: dict[str, tuple[str, str]]) -> None:
    """Every reference reads back from the registry as the archive holds it, through the
    HTTP API and through go-containerregistry, the library Argo's entrypoint lookup uses."""
    assert set(pushed) == set(built.archives)
    crane = run_script("go-tool.sh", "crane", timeout=1800)
    assert crane.returncode == 0, crane.stderr[-2000:]
    crane_bin = crane.stdout.strip().splitlines()[-1]
    for ref, (url, digest) in pushed.items():
        host, _, path = url.partition("/")
        repository, _, tag = path.rpartition(":")
        expected = image_in(read_archive(built.archives[ref]), ref)
        body, headers = registry_get(f"http://{host}/v2/{repository}/manifests/{tag}")
        assert headers["Docker-Content-Digest"] == digest == sha256(body)
        manifest = json.loads(body)
        assert manifest == expected.manifest
        config, _ = registry_get(f"http://{host}/v2/{repository}/blobs/"
                                 f"{manifest['config']['digest']}", accept="*/*")
        assert json.loads(config) == expected.config
        for layer in manifest["layers"]:
            request = urllib.request.Request(
                f"http://{host}/v2/{repository}/blobs/{layer['digest']}", method="HEAD")
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert int(answer.headers["Content-Length"]) == layer["size"]
        read = subprocess.run([crane_bin, "config", "--insecure", f"{host}/{path}"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert read.returncode == 0, read.stderr
        seen = json.loads(read.stdout)["config"]
        assert (seen.get("Entrypoint"), seen.get("Cmd"), seen.get("User")) == (
            expected.config["config"].get("Entrypoint"), expected.config["config"].get("Cmd"),
            expected.config["config"].get("User"))


def test_push_then_read_every_name_back(base_images: Built, registry: Registry,
                                        tmp_path: Path) -> None:
    pushed = push(registry, write_index(base_images, tmp_path / "index.tsv"))
    check_pushed(base_images, pushed)
    # a second push of unchanged images changes nothing on the registry
    again = push(registry, write_index(base_images, tmp_path / "index2.tsv"))
    assert again == pushed


def test_push_argo_images(argo_images: Built, registry: Registry, tmp_path: Path) -> None:
    check_pushed(argo_images, push(registry, write_index(argo_images, tmp_path / "index.tsv")))


def test_push_without_a_registry_says_so_in_one_line(base_images: Built, tmp_path: Path) -> None:
    from tests.cluster.images.conftest import free_port

    index = write_index(base_images, tmp_path / "index.tsv")
    result = run_script("push.sh", f"127.0.0.1:{free_port()}", "--index", str(index),
                        timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no registry at http://127.0.0.1:" in result.stderr


def test_unknown_image_name_is_one_line(tmp_path: Path) -> None:
    result = run_script("build.sh", "buzybox", timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "unknown image 'buzybox'" in result.stderr


def test_warm_build_reuses_everything(base_images: Built) -> None:
    again = build("pause", "runtime", "standins")
    assert again.archives == base_images.archives
    assert "layer " not in again.stderr and "debootstrap" not in again.stderr, again.stderr
    assert "archive " not in again.stderr, again.stderr


def test_a_changed_checkout_rebuilds_only_the_kubeline_layer(base_images: Built,
                                                             tmp_path: Path) -> None:
    """A copy of the checkout with one source file changed: a new wheel, a new top layer;
    the Debian and dependency layers stay (the same digests), in the same cache."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, checkout / name)
    for name in ("src", "scripts", "compat"):
        shutil.copytree(REPO / name, checkout / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    marker = checkout / "src/kubeline/_image_probe.py"
    marker.write_text(f"CHANGED = {uuid.uuid4().hex!r}\n")  # a wheel no run built before
    # the same archive path is rewritten: read the checkout's image first
    old = image_in(read_archive(base_images.archives[RUNTIME]), RUNTIME)
    result = subprocess.run(["bash", str(checkout / "scripts/cluster/images/build.sh"),
                             "runtime"], capture_output=True, text=True, timeout=3600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "layer runtime-kubeline" in result.stderr
    assert "layer runtime-deps" not in result.stderr and "debootstrap" not in result.stderr
    archive = Path(result.stdout.split("\t")[0])
    new = image_in(read_archive(archive), RUNTIME)
    assert [layer["digest"] for layer in new.manifest["layers"][:2]] == \
        [layer["digest"] for layer in old.manifest["layers"][:2]]
    assert new.manifest["layers"][2]["digest"] != old.manifest["layers"][2]["digest"]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(new.layer(2)))) as tar:
        assert "usr/local/lib/python3.11/dist-packages/kubeline/_image_probe.py" in tar.getnames()
    # put the checkout's own runtime archive back for the other tests and the box
    build("runtime")


def test_argo_images_are_as_argo_ships_them(argo_images: Built,
                                            tmp_path: Path) -> None:
    assert set(argo_images.archives) == ARGO_REFS
    for ref, binary, user in (("quay.io/argoproj/argoexec:v4.1.4", "argoexec", None),
                              ("quay.io/argoproj/workflow-controller:v4.1.4",
                               "workflow-controller", "8737")):
        image = image_in(read_archive(argo_images.archives[ref]), ref)
        config = image.config["config"]
        assert config["Entrypoint"] == [binary] and config.get("User") == user
        root = unpack(image, tmp_path / binary)
        for path in ("etc/ssl/certs/ca-certificates.crt", "etc/mime.types",
                     "etc/nsswitch.conf", "etc/ssh/ssh_known_hosts", "usr/share/zoneinfo/UTC"):
            assert (root / path).exists(), f"{ref} lacks /{path}"
        assert (root / "tmp").stat().st_mode & 0o1777 == 0o1777
        # static binaries: they run in the image with nothing else in it
        version = in_rootfs(root, f"/bin/{binary}", "version", user=f"{user or 0}:{user or 0}")
        assert version.returncode == 0 and "v4.1.4" in version.stdout, version.stderr
    # argoexec's `emissary` copies itself into a shared volume: it must be readable by any uid
    exec_root = tmp_path / "argoexec"
    assert (exec_root / "bin/argoexec").stat().st_mode & 0o005 == 0o005


def test_docker_load_reads_the_runtime_archive(base_images: Built) -> None:
    """`docker load` from the same archive (Debian's docker.io, when installed)."""
    from tests.cluster.images.docker import docker_daemon

    with docker_daemon() as docker:
        loaded = docker("load", "-i", str(base_images.archives[RUNTIME]))
        assert loaded.returncode == 0, loaded.stderr
        assert RUNTIME in loaded.stdout
        inspect = docker("image", "inspect", RUNTIME, "--format",
                         "{{json .Config.Entrypoint}} {{.Config.User}}")
        assert inspect.stdout.strip() == '["python3","-m","kubeline.runtime"] 65532:65532'
