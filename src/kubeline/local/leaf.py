"""Run one container or script template as a local "pod": init containers, then main.

What a pod would do, in order: materialise volumes (configMap files, emptyDir), load input
artifacts into main's private filesystem, run each init container, run main (with the
template's timeout), then -- whatever main's exit code -- capture stdout as the result, read
output parameters (one trailing newline trimmed, default on error) and publish output
artifacts. The process waits on the child's exit, never polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeline.local import images, podcontainers, procs, volumes
from kubeline.local.artifacts import ArtifactError, Repository, default_key
from kubeline.local.forkclient import ForkedStep, ForkServers
from kubeline.local.memo import MemoError, parse_duration_or_seconds
from kubeline.local.nodes import ERROR, FAILED, SUCCEEDED, Outputs
from kubeline.local.sandbox import ContainerFS, Sandbox, clear_link_stubs
from kubeline.local.scope import param_string
from kubeline.local.warmpool import Launch, WarmPool, record_launch

SCRIPT_PATH = "/argo/staging/script"
RESULT_LIMIT = 256 * 1024


class LeafError(Exception):
    """Something a pod's wait/init container would report as an error (node phase Error)."""


@dataclass
class LeafResult:
    phase: str
    message: str
    outputs: Outputs
    log_dir: Path


@dataclass
class LeafContext:
    """What the leaf runner needs from the engine."""

    workflow_name: str
    pod: str
    node_dir: Path
    sandbox: Sandbox
    repo: Repository
    configmaps: dict[str, dict[str, str]]
    workflow_volumes: list[dict[str, Any]]
    base_env: dict[str, str]
    shim_bin: Path
    cwd: str
    include_result: bool
    on_start: Callable[[], None] = lambda: None
    pids: list[int] = field(default_factory=list)
    warm: WarmPool | None = None  # main may be a pre-started process (warmpool.py)
    forks: ForkServers | None = None  # or a step forked by the fork server (forkclient.py)
    warm_key: str = ""
    on_spawn: Callable[[], None] = lambda: None  # main runs: time to warm what comes next
    on_main_started: Callable[[], None] = lambda: None  # main's process exists (daemons)
    shared_volumes: Path | None = None  # run-wide read-only ConfigMap folders (volumes.py)
    image: str = ""  # the main container's image: named when one of its programs is missing
    wf_deadline: float | None = None  # spec.activeDeadlineSeconds, as time.monotonic()
    containers: list[podcontainers.ContainerOutcome] = field(default_factory=list)


def _resolve_secret(name: str, key: str, optional: bool, what: str) -> str | None:
    from kubeline.stores.config import SecretRef, resolve_secret, secret_env_name

    ref = SecretRef(name=name, key=key)
    value = resolve_secret(ref)
    if value is None and not optional:
        raise LeafError(f"{what}: secret {name}/{key} is not set (export {secret_env_name(ref)})")
    return value


def container_env(container: dict[str, Any], ctx: LeafContext) -> dict[str, str]:
    env = dict(ctx.base_env)
    for e in container.get("env") or []:
        name = str(e["name"])
        if "value" in e:
            env[name] = param_string(e["value"])
            continue
        vf = e.get("valueFrom") or {}
        if "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            value = _resolve_secret(
                str(ref["name"]), str(ref["key"]), bool(ref.get("optional")), f"env {name}"
            )
            if value is not None:
                env[name] = value
        elif "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            cm = ctx.configmaps.get(str(ref["name"]))
            if cm is None or str(ref["key"]) not in cm:
                if not ref.get("optional"):
                    raise LeafError(
                        f"env {name}: configmap {ref['name']} key {ref['key']} not found"
                    )
            else:
                env[name] = cm[str(ref["key"])]
        else:
            env[name] = ""
    return env


def _fs_for(container: dict[str, Any], root: Path, vols: dict[str, volumes.Volume]) -> ContainerFS:
    fs = ContainerFS(root=root)
    for m in container.get("volumeMounts") or []:
        vol = vols[str(m["name"])]
        path = str(m["mountPath"]).rstrip("/") or "/"
        fs.binds.append((vol.host, path))
        if vol.shared:
            fs.readonly.add(path)
    return fs


def _volumes(tmpl: dict[str, Any], ctx: LeafContext) -> dict[str, volumes.Volume]:
    try:
        return volumes.plan(tmpl, ctx.node_dir, ctx.workflow_volumes, ctx.configmaps,
                            ctx.shared_volumes)
    except volumes.VolumeError as exc:
        raise LeafError(str(exc)) from exc


def _materialise(vols: dict[str, volumes.Volume], ctx: LeafContext) -> None:
    try:
        volumes.materialise(vols, ctx.configmaps)
    except volumes.VolumeError as exc:
        raise LeafError(str(exc)) from exc


def _argv(command: list[str], ctx: LeafContext) -> list[str]:
    if command and command[0] in procs.PYTHON_NAMES:
        return [sys.executable, *command[1:]]
    return command


def launch_for(
    argv: list[str], fs: ContainerFS, env: dict[str, str], ctx: LeafContext, stdout: Path,
    stderr: Path,
) -> Launch:
    """How one container process is started: sandbox wrapper, program, env, log files."""
    sb = ctx.sandbox
    sb.prepare(fs)
    view: list[tuple[str, str, bool]] = []
    if sb.mode == "bwrap":
        view = sb.view(fs)
        wrapper = sb.wrap_view([], view, ctx.cwd)
    else:
        argv = [sb.rewrite(a, fs) for a in argv]
        wrapper = []
    return Launch(
        wrapper=tuple(wrapper),
        program=tuple(argv),
        env=tuple(sorted(sb.env(env, fs).items())),
        cwd=ctx.cwd,
        stdout=stdout,
        stderr=stderr,
        bwrap=sb.mode == "bwrap",
        view=tuple(view),
    )


async def _spawn(
    argv: list[str],
    fs: ContainerFS,
    env: dict[str, str],
    ctx: LeafContext,
    stdout: Path,
    stderr: Path,
    deadline: float | None,
    main: bool = False,
) -> tuple[int, bool]:
    """Run one container process to completion; returns (exit code, timed out). Main may
    be the node's warm process, if one was started for exactly this launch."""
    sb = ctx.sandbox
    launch = launch_for(argv, fs, env, ctx, stdout, stderr)
    proc: procs.Child | ForkedStep | None = None
    if main and ctx.forks is not None:
        proc = await ctx.forks.take(launch)  # None: a launch the fork server does not take
        if proc is not None:
            record_launch(ctx.node_dir, "forked")
    if proc is None and main and ctx.warm is not None:
        proc = await ctx.warm.claim(ctx.warm_key, launch)
    if proc is None:
        proc = _start(launch, argv, ctx)
    if main:
        ctx.on_spawn()
        ctx.on_main_started()
    tries = 1
    while True:
        code, timed_out = await _wait(proc, ctx, deadline)
        if not (sb.mode == "bwrap" and code == 1 and _bwrap_failed(stderr)):
            return code, timed_out
        if (tries == MOUNT_RACE_TRIES or isinstance(proc, ForkedStep)
                or not _mount_race(stdout, stderr)):
            break
        # bubblewrap stopped before the program ran: starting it again is safe
        await asyncio.sleep(0.05 * tries)
        proc = _start(launch, argv, ctx)
        tries += 1
        if main:
            record_launch(ctx.node_dir, "cold: started again after a bubblewrap mount race")
    why = f" (tried {tries} times: the host's mounts kept changing)" if tries > 1 else ""
    raise LeafError(f"bubblewrap could not start the container{why}: "
                    f"{stderr.read_text().strip()[:300]}")


# A host mount that goes away while bubblewrap copies the host's mounts (shared propagation:
# a kubelet's pod volumes, containerd's rootfs mounts, netns files) fails its setup; the
# program has not run, so the launch is tried again, a few times.
MOUNT_RACE_TRIES = 5


def _start(launch: Launch, argv: list[str], ctx: LeafContext) -> procs.Child:
    clear_link_stubs(launch.view)  # a failed try may have made them too
    try:
        return procs.start(launch.argv, env=dict(launch.env), cwd=ctx.cwd,
                           stdout=launch.stdout, stderr=launch.stderr, bwrap=launch.bwrap)
    except FileNotFoundError as exc:
        raise LeafError(images.missing_program(argv[0], ctx.image)) from exc
    except OSError as exc:
        raise LeafError(f"failed to start {argv[0]}: {exc.strerror or exc}") from exc


async def _wait(proc: procs.Child | ForkedStep, ctx: LeafContext, deadline: float | None
                ) -> tuple[int, bool]:
    """The exit code (128+signal for a signal) and whether the deadline ended it."""
    ctx.pids.append(proc.pid)
    timed_out = False
    try:
        if deadline is None:
            code = await proc.wait()
        else:
            try:
                code = await asyncio.wait_for(proc.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                timed_out = True
                _kill(proc)
                code = await proc.wait()
    except asyncio.CancelledError:
        _kill(proc)
        with contextlib.suppress(Exception):
            await proc.wait()
        raise
    finally:
        ctx.pids.remove(proc.pid)
    if code < 0:
        code = 128 - code
    return code, timed_out


def _kill(proc: procs.Child | ForkedStep) -> None:
    """A forked step's pid lives in the fork server's namespace: the server kills it."""
    if isinstance(proc, ForkedStep):
        proc.kill()
    else:
        procs.kill(proc.pid)


def _bwrap_failed(stderr: Path) -> bool:
    try:
        head = stderr.read_bytes()[:200]
    except OSError:
        return False
    return head.startswith(b"bwrap:")


_RACE_SETUPS = (b"Can't bind mount", b"Unable to apply mount flags", b"Can't mount")


def _mount_race(stdout: Path, stderr: Path) -> bool:
    """bubblewrap's own setup error for a host mount that vanished under it (EINVAL or
    ENOENT): one line of stderr, nothing on stdout (the program never ran)."""
    try:
        text = stderr.read_bytes()
        printed = stdout != stderr and stdout.stat().st_size > 0
    except OSError:
        return False
    lines = text.strip().splitlines()
    return (not printed and len(lines) == 1 and lines[0].startswith(b"bwrap: ")
            and any(s in lines[0] for s in _RACE_SETUPS)
            and (b"Invalid argument" in lines[0] or b"No such file or directory" in lines[0]))


STEP_DEADLINE = "Step exceeded its deadline"  # Argo's message at the workflow's deadline
POD_DEADLINE = "Pod was active on the node longer than the specified deadline"


def _timeout_message(ctx: LeafContext) -> str:
    """Which deadline ended the pod: the workflow's (Argo's controller) or the pod's own."""
    if ctx.wf_deadline is not None and time.monotonic() >= ctx.wf_deadline:
        return STEP_DEADLINE
    return POD_DEADLINE


def _deadline(tmpl: dict[str, Any], wf_deadline: float | None = None) -> float | None:
    limits: list[float] = []
    try:
        if tmpl.get("timeout") not in (None, ""):
            limits.append(parse_duration_or_seconds(tmpl["timeout"]))
        if tmpl.get("activeDeadlineSeconds") not in (None, ""):
            limits.append(float(str(tmpl["activeDeadlineSeconds"])))
    except (MemoError, ValueError) as exc:
        raise LeafError(f"invalid timeout: {exc}") from exc
    own = time.monotonic() + min(limits) if limits else None
    if wf_deadline is None:
        return own
    return wf_deadline if own is None else min(own, wf_deadline)


def _main_container(tmpl: dict[str, Any]) -> dict[str, Any]:
    """The container whose view holds the pod's inputs and outputs (a containerSet's
    ``main``)."""
    if "containerSet" in tmpl:
        return podcontainers.main_of_set(podcontainers.set_containers(tmpl))
    main: dict[str, Any] = tmpl.get("container") or tmpl.get("script") or {}
    return main


def _main_fs(tmpl: dict[str, Any], ctx: LeafContext, vols: dict[str, volumes.Volume]
             ) -> ContainerFS:
    """Main's private filesystem: its volume mounts and the paths the pod owns."""
    main = _main_container(tmpl)
    fs = _fs_for(main, ctx.node_dir / "main", vols)
    inputs = tmpl.get("inputs") or {}
    outs = tmpl.get("outputs") or {}
    for art in inputs.get("artifacts") or []:
        if art.get("path"):
            fs.owned.append(str(art["path"]))
    for p in outs.get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            fs.owned.append(str(path))
    for a in outs.get("artifacts") or []:
        if a.get("path"):
            fs.owned.append(str(a["path"]))
    return fs


def _main_command(
    tmpl: dict[str, Any], ctx: LeafContext, fs: ContainerFS
) -> tuple[list[str], dict[str, str]]:
    """Main's argv (python names mapped) and environment; a script template's file is bound
    at Argo's path in fs (bwrap) or named by its host path."""
    main = tmpl.get("container") or tmpl.get("script") or {}
    image = str(main.get("image") or "")
    if "script" in tmpl:
        command = [str(x) for x in (main.get("command") or [])]
        args = [str(x) for x in (main.get("args") or [])]
        script = ctx.node_dir / "script"
        if ctx.sandbox.mode == "bwrap":
            fs.binds.append((script, SCRIPT_PATH))
            args = [SCRIPT_PATH, *args]
        else:
            args = [str(script), *args]
        argv = command + args
    else:
        argv = images.container_argv(main, image)
    if not argv:
        raise LeafError(
            f"the container has no command and image '{image}' has no known entrypoint "
            "(images are not run locally; set command)"
        )
    env = images.image_env(container_env(main, ctx), image)
    env["PATH"] = _node_path(env, ctx, image)
    _check_program(argv[0], env["PATH"], image)
    return _argv(argv, ctx), env


def _node_path(env: dict[str, str], ctx: LeafContext, image: str) -> str:
    """The shim folder (python, argosay) first, then PATH with what the image adds."""
    return images.image_path(f"{ctx.shim_bin}{os.pathsep}{env.get('PATH', os.defpath)}", image)


def _check_program(program: str, path: str, image: str) -> None:
    """A program named without a folder must be installed here; say which, for which image."""
    if "/" not in program and program not in procs.PYTHON_NAMES and \
            not images.find_program(program, path):
        raise LeafError(images.missing_program(program, image))


def _main_logs(ctx: LeafContext) -> tuple[Path, Path]:
    return ctx.node_dir / "main.stdout", ctx.node_dir / "main.stderr"


def _apply_image(tmpl: dict[str, Any], ctx: LeafContext) -> None:
    """The main container's image (named when one of its programs is missing). Nodes run in
    the folder kubeline run started in, so that local files stay reachable; but a node whose
    outputs are entries of its image's working folder (``/result.txt`` written as
    ``result.txt`` in an image whose WORKDIR is ``/``) runs there, as in its image, when
    bubblewrap gives it a private root to write in (decision 0023)."""
    main = _main_container(tmpl)
    ctx.image = str(main.get("image") or "")
    if ctx.sandbox.mode != "bwrap":
        return
    workdir = str(main.get("workingDir") or images.defaults(ctx.image).workdir)
    if workdir and any(_entry_of(path, workdir) for path in _output_paths(tmpl)):
        ctx.cwd = workdir


def _output_paths(tmpl: dict[str, Any]) -> list[str]:
    outs = tmpl.get("outputs") or {}
    paths = [str((p.get("valueFrom") or {}).get("path") or "") for p in
             outs.get("parameters") or []]
    paths += [str(a.get("path") or "") for a in outs.get("artifacts") or []]
    return [p for p in paths if p]


def _entry_of(path: str, folder: str) -> bool:
    """``path`` is an entry directly inside ``folder`` (both absolute container paths)."""
    parent = os.path.dirname(path.rstrip("/")) or "/"
    return parent == (folder.rstrip("/") or "/")


def predict_main(tmpl: dict[str, Any], ctx: LeafContext) -> Launch:
    """Main's launch for a template whose node has not started: prepares the node folder's
    mount points and empty script file (bwrap binds them at start), nothing else. Raises
    LeafError where the real run would fail."""
    _apply_image(tmpl, ctx)
    vols = _volumes(tmpl, ctx)
    _materialise({k: v for k, v in vols.items() if v.shared}, ctx)  # bound with their files
    fs = _main_fs(tmpl, ctx, vols)
    argv, env = _main_command(tmpl, ctx, fs)
    if "script" in tmpl:
        (ctx.node_dir / "script").touch()
    stdout, stderr = _main_logs(ctx)
    return launch_for(argv, fs, env, ctx, stdout, stderr)


async def run_leaf(tmpl: dict[str, Any], ctx: LeafContext) -> LeafResult:
    """Execute a processed container/script template; never raises for node-level failures."""
    logs = ctx.node_dir
    outputs = Outputs()
    _apply_image(tmpl, ctx)
    try:
        return await _run(tmpl, ctx, outputs)
    except (LeafError, ArtifactError, OSError) as exc:
        return LeafResult(ERROR, str(exc), outputs, logs)
    except Exception as exc:  # a driver error (e.g. DatastoreError) errors the node, like Argo
        from kubeline.exceptions import KubelineError

        if isinstance(exc, KubelineError):
            return LeafResult(ERROR, str(exc), outputs, logs)
        raise


async def _run(tmpl: dict[str, Any], ctx: LeafContext, outputs: Outputs) -> LeafResult:
    node_dir = ctx.node_dir
    main = dict(_main_container(tmpl))
    is_script = "script" in tmpl
    deadline = _deadline(tmpl, ctx.wf_deadline)
    if ctx.wf_deadline is not None and time.monotonic() >= ctx.wf_deadline:
        return LeafResult(FAILED, STEP_DEADLINE, outputs, node_dir)
    vols = _volumes(tmpl, ctx)
    _materialise(vols, ctx)
    main_fs = _main_fs(tmpl, ctx, vols)
    inputs = tmpl.get("inputs") or {}
    # Output paths (artifacts, parameters' valueFrom.path) and their parents are not created:
    # in a pod they exist only if something mounts them (input artifacts, volumes).
    for art in inputs.get("artifacts") or []:
        if not art.get("path"):
            continue
        if not (art.get("raw") or art.get("s3") or art.get("azure")):
            if art.get("optional"):
                continue
            raise LeafError(f"required artifact '{art['name']}' not supplied")
        ctx.repo.load(art, main_fs.host_path(str(art["path"])))
    ctx.on_start()
    for i, init in enumerate(tmpl.get("initContainers") or []):
        if init.get("mirrorVolumeMounts"):  # Argo gives it main's volume mounts too
            init = {**init, "volumeMounts": [*(init.get("volumeMounts") or []),
                                             *(main.get("volumeMounts") or [])]}
        fs = _fs_for(init, node_dir / f"init-{i}", vols)
        init_image = str(init.get("image") or "")
        command = images.container_argv(init, init_image)
        if not command:
            raise LeafError(f"initContainers[{i}] has no command (images are not run locally)")
        init_env = container_env(init, ctx)
        init_env["PATH"] = images.image_path(init_env.get("PATH", os.defpath), init_image)
        _check_program(command[0], init_env["PATH"], init_image)
        code, timed_out = await _spawn(
            _argv(command, ctx),
            fs,
            init_env,
            ctx,
            node_dir / f"init-{i}.stdout",
            node_dir / f"init-{i}.stderr",
            deadline,
        )
        if timed_out:
            return LeafResult(FAILED, _timeout_message(ctx), outputs, node_dir)
        if code != 0:
            name = init.get("name") or f"init-{i}"
            return LeafResult(
                FAILED, f"init container {name} failed: Error (exit code {code})", outputs, node_dir
            )
    if is_script:
        script = node_dir / "script"
        script.write_text(str(main.get("source", "")))
        os.chmod(script, 0o755)
        if ctx.sandbox.mode != "bwrap":
            script.write_text(ctx.sandbox.rewrite(str(main.get("source", "")), main_fs))
    sidecars = podcontainers.Sidecars()
    try:
        sidecars.start(_prepare_sidecars(tmpl, ctx, vols, main), _spawner(ctx))
        if "containerSet" in tmpl:
            done = await _run_container_set(tmpl, ctx, vols, main_fs, deadline)
            ctx.containers = done.containers
            outputs.exit_code = str(done.exit_code) if done.exit_code is not None else None
            phase, message = done.phase, done.message
            if done.timed_out:
                phase, message = FAILED, _timeout_message(ctx)
            if ctx.include_result:
                outputs.result = _result(done.main.stdout)
            problems = _collect_outputs(tmpl, main_fs, ctx, outputs)
            if problems and phase == SUCCEEDED:
                phase, message = ERROR, problems[0]
            return LeafResult(phase, message, outputs, node_dir)
        argv, env = _main_command(tmpl, ctx, main_fs)
        stdout, stderr = _main_logs(ctx)
        code, timed_out = await _spawn(argv, main_fs, env, ctx, stdout, stderr, deadline,
                                       main=True)
    finally:
        await sidecars.stop()  # Argo kills sidecars once main has ended
    outputs.exit_code = str(code)
    if timed_out:
        phase, message = FAILED, _timeout_message(ctx)
    elif code == 0:
        phase, message = SUCCEEDED, ""
    else:
        phase, message = FAILED, f"Error (exit code {code})"
        missing = images.shell_missing_program(stderr) if code == 127 else None
        if missing:
            message += ": " + images.missing_program(missing, ctx.image)
    if ctx.include_result:
        outputs.result = _result(stdout)
    problems = _collect_outputs(tmpl, main_fs, ctx, outputs)
    if problems and phase == SUCCEEDED:
        phase, message = ERROR, problems[0]
    return LeafResult(phase, message, outputs, node_dir)


def _spawner(ctx: LeafContext) -> podcontainers.Spawn:
    async def spawn(argv: list[str], fs: ContainerFS, env: dict[str, str], stdout: Path,
                    stderr: Path, deadline: float | None) -> tuple[int, bool]:
        return await _spawn(argv, fs, env, ctx, stdout, stderr, deadline)
    return spawn


def _prepare(container: dict[str, Any], name: str, fs: ContainerFS, ctx: LeafContext,
             what: str) -> podcontainers.Prepared:
    """argv, environment and log files of a pod's container other than a plain main."""
    try:
        argv = podcontainers.argv_of(container, what)
    except podcontainers.PodContainerError as exc:
        raise LeafError(str(exc)) from exc
    image = str(container.get("image") or "")
    env = images.image_env(container_env(container, ctx), image)
    env["ARGO_CONTAINER_NAME"] = name
    env["PATH"] = _node_path(env, ctx, image)
    _check_program(argv[0], env["PATH"], image)
    stdout, stderr = podcontainers.log_paths(ctx.node_dir, name)
    return podcontainers.Prepared(name, _argv(argv, ctx), env, fs, stdout, stderr)


def _prepare_sidecars(tmpl: dict[str, Any], ctx: LeafContext, vols: dict[str, volumes.Volume],
                      main: dict[str, Any]) -> list[podcontainers.Prepared]:
    out = []
    for i, sc in enumerate(tmpl.get("sidecars") or []):
        sc = podcontainers.with_mirrored_mounts(sc, main)
        name = str(sc.get("name") or f"sidecar-{i}")
        fs = _fs_for(sc, ctx.node_dir / f"sidecar-{name}", vols)
        out.append(_prepare(sc, name, fs, ctx, f"sidecars[{i}] ({name})"))
    return out


async def _run_container_set(tmpl: dict[str, Any], ctx: LeafContext,
                             vols: dict[str, volumes.Volume], main_fs: ContainerFS,
                             deadline: float | None) -> podcontainers.SetResult:
    containers = podcontainers.set_containers(tmpl)
    main = podcontainers.main_of_set(containers)
    try:
        podcontainers.check_dependencies(containers)
    except podcontainers.PodContainerError as exc:
        raise LeafError(str(exc)) from exc
    prepared = []
    for i, c in enumerate(containers):
        name = str(c.get("name") or f"container-{i}")
        fs = main_fs if c is main else _fs_for(c, ctx.node_dir / f"container-{name}", vols)
        prepared.append(_prepare(c, name, fs, ctx, f"containerSet.containers[{i}] ({name})"))
    main_prepared = prepared[containers.index(main)]
    ctx.on_spawn()
    return await podcontainers.run_set(prepared, containers, main_prepared, _spawner(ctx),
                                       deadline)


def _result(stdout: Path) -> str:
    size = stdout.stat().st_size
    with open(stdout, "rb") as f:
        if size > RESULT_LIMIT:
            f.seek(size - RESULT_LIMIT)
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\n") else text


def _collect_outputs(
    tmpl: dict[str, Any], fs: ContainerFS, ctx: LeafContext, outputs: Outputs
) -> list[str]:
    problems: list[str] = []
    outs = tmpl.get("outputs") or {}
    for p in outs.get("parameters") or []:
        vf = p.get("valueFrom") or {}
        entry: dict[str, Any] = {"name": p["name"]}
        if "path" in vf:
            try:
                text = fs.host_path(str(vf["path"])).read_text()
                entry["value"] = text[:-1] if text.endswith("\n") else text
            except (OSError, UnicodeDecodeError) as exc:
                if "default" in vf:
                    entry["value"] = param_string(vf["default"])
                else:
                    problems.append(
                        f"open {vf['path']}: {exc.strerror or exc}"
                        if isinstance(exc, OSError)
                        else str(exc)
                    )
                    continue
        elif "value" in p:
            entry["value"] = param_string(p["value"])
        elif "default" in vf:
            entry["value"] = param_string(vf["default"])
        if vf:
            entry["valueFrom"] = vf
        if p.get("globalName"):
            entry["globalName"] = p["globalName"]
        outputs.parameters.append(entry)
    for a in outs.get("artifacts") or []:
        path = str(a.get("path", ""))
        src = fs.host_path(path)
        if not src.exists():
            if a.get("optional"):
                continue
            problems.append(f"output artifact '{a['name']}': path {path} does not exist")
            continue
        try:
            key = default_key(ctx.workflow_name, ctx.pod, a, path)
            outputs.artifacts.append(ctx.repo.save(a, src, key, ctx.node_dir / "work"))
        except ArtifactError as exc:
            problems.append(str(exc))
    return problems
