"""Submission to the in-box cluster the AML way: ``python pipeline.py`` with only
kubeline.yaml changed, followed and recorded like a local run; failures, cancel, attach and
every bad-input case as one line. Each test works in a namespace of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.box import Box
from tests.cluster.submitting import (
    history,
    point_at,
    python,
    salted,
    small_pipeline,
    wait_until,
    workflows,
)
from tests.pipelines import example, kubeline

pytestmark = pytest.mark.cluster

# --- the how-to's submission code, unchanged ------------------------------------------------


def test_compare_models_submitted_with_python_runs_on_the_cluster(
        box: Box, cluster_env: dict[str, str], tmp_path: Path, namespace: str) -> None:
    folder = example("compare_models", tmp_path)
    salted(folder)
    done = python(folder / "pipeline.py", cluster_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PipelineRun Status: Finished" in done.stdout
    assert (folder / "out").is_dir() and any((folder / "out").rglob("*"))

    # the run happened on the cluster: one Workflow, Succeeded, in the namespace
    wfs = workflows(box, namespace)
    assert [w["status"]["phase"] for w in wfs] == ["Succeeded"]
    runs = history(folder, cluster_env, "list")
    assert len(runs) == 1
    run = history(folder, cluster_env, "show", runs[0]["id"])
    assert run["id"] == wfs[0]["metadata"]["uid"]
    assert run["workflow"] == wfs[0]["metadata"]["name"]
    assert run["experiment"] == "Compare_Models_Exp" and run["status"] == "Finished"
    assert run["properties"]["backend"] == "cluster"
    assert [e["status"] for e in run["events"]] == ["NotStarted", "Running", "Finished"]
    steps = {s["name"]: s for s in run["steps"]}
    assert set(steps) == {"train.py", "extract.py", "compare.py"}
    assert all(s["status"] == "Finished" and not s["reused"] and s["key"]
               for s in steps.values())
    assert steps["compare.py"]["outputs"]["out_data3"]["location"].startswith("kubeline/outputs/")
    logs = kubeline("runs", "logs", run["id"], "train.py", cwd=folder, env=cluster_env).stdout
    assert logs.strip(), "the step's stdout, fetched from the datastore"

    # a local run against the same datastore reuses the cluster's outputs (a cluster rerun
    # reusing them is test_reuse_on_box's; its record, test_local_outputs_are_reused_...)
    local = python(folder / "pipeline.py", {**cluster_env, "KUBELINE_SUBMIT": "local"})
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
    listed = history(folder, cluster_env, "list")
    here = history(folder, cluster_env, "show", listed[0]["id"])
    assert here["properties"].get("backend") != "cluster"
    assert all(s["reused"] and s["reused_from"]["run_id"] == run["id"] for s in here["steps"])
    assert len(workflows(box, namespace)) == 1  # the local run created none


SUBMIT_BLOCK = """
if __name__ == "__main__":
    from kubeline import Experiment

    run = Experiment(ws, "data_dependency").submit(pipeline)
    run.wait_for_completion(show_output=True)
"""


def test_local_outputs_are_reused_on_the_cluster(box: Box, cluster_env: dict[str, str],
                                                 tmp_path: Path, namespace: str) -> None:
    folder = example("data_dependency", tmp_path)
    salted(folder)
    with open(folder / "pipeline.py", "a") as handle:  # the how-to's submission code
        handle.write(SUBMIT_BLOCK)
    local = python(folder / "pipeline.py", {**cluster_env, "KUBELINE_SUBMIT": "local"})
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
    first = history(folder, cluster_env, "list")[0]["id"]
    assert not workflows(box, namespace)
    done = python(folder / "pipeline.py", cluster_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [wf] = workflows(box, namespace)
    assert wf["status"]["phase"] == "Succeeded"
    run = history(folder, cluster_env, "show", wf["metadata"]["uid"])
    assert run["steps"] and all(s["reused"] and s["reused_from"]["run_id"] == first
                                for s in run["steps"]), run["steps"]


# --- failures, cancel, attach -------------------------------------------------------------


def test_a_failing_step_reports_exit_code_and_stderr(box: Box, cluster_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    file = small_pipeline(tmp_path / "fail", (
        "import sys, time\nprint('counting', flush=True)\ntime.sleep(8)\n"
        "print('boom: the input is not what count.py expected', file=sys.stderr)\n"
        "sys.exit(3)\n"))
    done = python(file, cluster_env)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "StepRun( count ) Status: Failed (exit code 3)" in done.stdout
    assert "[count] counting" in done.stdout  # streamed from the pod while it ran
    assert "boom: the input is not what count.py expected" in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert "step 'count' failed with exit code 3: boom: the input is not what" in last, last
    run = history(file.parent, cluster_env, "list")[0]
    assert run["status"] == "Failed"


def _run_in_process(folder: Path) -> Any:
    """Experiment.submit from this process (the follower is a child of its own session)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("box_pipeline", folder / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    old = Path.cwd()
    os.chdir(folder)
    try:
        spec.loader.exec_module(module)
        from kubeline import Experiment

        return Experiment(module.ws, "box-submit").submit(module.pipeline)
    finally:
        os.chdir(old)


def test_cancel_mid_step_stops_the_workflow(box: Box, cluster_env: dict[str, str],
                                            tmp_path: Path, namespace: str) -> None:
    file = small_pipeline(tmp_path / "cancel", (
        "import time\nprint('started', flush=True)\ntime.sleep(600)\n"))
    run = _run_in_process(file.parent)
    wait_until(lambda: any(s.get_status() == "Running" for s in run.get_steps()), 300,
              "the step to run")
    run.cancel()
    assert run.get_status() == "Canceled"
    [wf] = workflows(box, namespace)
    assert wf["spec"]["shutdown"] == "Stop"
    wait_until(lambda: all(p.status.phase not in ("Running", "Pending")
                          for p in box.pods_of(workflows(box, namespace)[0])), 120,
              "the step's pod to end")
    done = box.wait_workflow(wf["metadata"]["name"], namespace)
    assert done["status"]["phase"] in ("Failed", "Error")
    assert [s.get_status() for s in run.get_steps()] == ["Canceled"]


def test_attach_records_a_workflow_started_with_kubectl(
        box: Box, cluster_env: dict[str, str], tmp_path: Path, namespace: str) -> None:
    file = small_pipeline(tmp_path / "attach", "print('attached output', flush=True)\n")
    build = tmp_path / "build"
    kubeline("compile", str(file), "-o", str(build), cwd=file.parent, env=cluster_env)
    box.kubectl("apply", "-n", namespace, "-k", str(build))
    [wf] = workflows(box, namespace)
    done = kubeline("runs", "attach", wf["metadata"]["name"], cwd=file.parent, env=cluster_env)
    assert "phase:   Succeeded" in done.stdout
    run = history(file.parent, cluster_env, "show", wf["metadata"]["name"])
    assert run["id"] == wf["metadata"]["uid"] and run["status"] == "Finished"
    assert [s["status"] for s in run["steps"]] == ["Finished"]
    logs = kubeline("runs", "logs", run["id"], "count", cwd=file.parent, env=cluster_env)
    assert "attached output" in logs.stdout
    # attaching again records nothing twice
    kubeline("runs", "attach", wf["metadata"]["name"], cwd=file.parent, env=cluster_env)
    again = history(file.parent, cluster_env, "show", run["id"])
    assert again["events"] == run["events"]
    assert len(history(file.parent, cluster_env, "list")) == 1


# --- bad input: one line each, nothing recorded, nothing created -------------------------


def _submit_line(file: Path, env: dict[str, str], by_python: bool = False) -> str:
    """The error of ``kubeline run pipeline.py`` (the file's submit, to the cluster as
    kubeline.yaml says): exit 2 and one line; with ``by_python``, ``python pipeline.py``
    raises the same error as the same one line (exit 2, no traceback)."""
    done = kubeline("run", file.name, cwd=file.parent, env=env, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kubeline: error: "), done.stderr
    if by_python:
        script = python(file, env, timeout=300)
        assert script.returncode == 2, script.stderr
        assert "Traceback" not in script.stderr, script.stderr
        last = script.stderr.strip().splitlines()[-1]
        assert last.startswith("ClusterError: ")
        assert last.split(": ", 1)[1] == lines[0][len("kubeline: error: "):]
    return lines[0]


def _token_kubeconfig(box: Box, namespace: str, account: str, dest: Path) -> Path:
    from kubernetes import client

    box.core.create_namespaced_service_account(namespace, {"metadata": {"name": account}})
    token = box.core.create_namespaced_service_account_token(
        account, namespace, client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    ).status.token
    doc = yaml.safe_load(box.kubeconfig.read_text())
    doc["users"] = [{"name": account, "user": {"token": token}}]
    doc["contexts"][0]["context"]["user"] = account
    dest.write_text(yaml.safe_dump(doc))
    return dest


def test_each_bad_cluster_setting_is_one_line_and_starts_nothing(
        box: Box, cluster_env: dict[str, str], tmp_path: Path, namespace: str) -> None:
    """No kubeconfig, an API server that does not answer, RBAC forbidding creation, the
    workflow's service account missing, Argo not installed: one workspace, one setting
    wrong at a time (one test: each case is a submission that stops at its check)."""
    config = Path(cluster_env["KUBELINE_CONFIG"])
    file = small_pipeline(tmp_path / "p", "print(1)\n")

    point_at(config, kubeconfig=str(tmp_path / "missing"))
    line = _submit_line(file, cluster_env, by_python=True)  # the script's error, the same
    assert "no kubeconfig" in line and str(tmp_path / "missing") in line
    assert "cluster.kubeconfig" in line

    doc = yaml.safe_load(box.kubeconfig.read_text())
    doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    unreachable = tmp_path / "unreachable-kubeconfig"
    unreachable.write_text(yaml.safe_dump(doc))
    point_at(config, kubeconfig=str(unreachable))
    line = _submit_line(file, cluster_env)
    assert "does not answer" in line and "127.0.0.1:1" in line

    no_rights = _token_kubeconfig(box, namespace, "no-rights", tmp_path / "no-rights")
    point_at(config, kubeconfig=str(no_rights))
    line = _submit_line(file, cluster_env)
    assert "RBAC" in line and "create workflows.argoproj.io" in line
    assert namespace in line

    point_at(config, kubeconfig=str(box.kubeconfig), service_account="nobody-here")
    line = _submit_line(file, cluster_env)
    assert "service account 'nobody-here'" in line and "does not exist" in line

    assert not workflows(box, namespace)
    # nothing recorded (the history is kubeline.yaml's folder's, and was never made)
    assert not (config.parent / ".kubeline" / "history.db").exists() or \
        history(file.parent, cluster_env, "list") == []

    # Argo's CRDs cannot be removed from the shared box; the check reads API discovery,
    # so it is run against a group the box does not serve, through the same code path
    from kubeline.cluster import checks
    from kubeline.cluster.connect import ClusterError, connect
    from kubeline.dsl.workspace import Workspace

    cluster = connect(Workspace.from_config().config.cluster, Path.cwd())
    checks.argo_installed(cluster)  # the box has Argo: no error
    with pytest.raises(ClusterError) as err:
        checks.argo_installed(cluster, group="workflows.example.kubeline.io")
    assert "Argo Workflows is not installed" in str(err.value)


def test_unpullable_image_is_one_line(box: Box, cluster_env: dict[str, str], tmp_path: Path,
                                      namespace: str) -> None:
    file = small_pipeline(tmp_path / "p", "print(1)\n")
    text = file.read_text().replace(
        'allow_reuse=False)',
        'allow_reuse=False, runconfig=rc)').replace(
        "ws = Workspace.from_config()",
        "ws = Workspace.from_config()\nfrom kubeline import RunConfiguration\n"
        "rc = RunConfiguration()\n"
        "rc.environment.docker.base_image = 'docker.io/library/no-such-image:0.0.0'")
    file.write_text(text)
    done = python(file, cluster_env, timeout=600)
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "cannot start" in out and ("ImagePullBackOff" in out or "ErrImagePull" in out), out
    run = history(file.parent, cluster_env, "list")[0]
    assert run["status"] == "Failed" and "ImagePull" in run["message"], run


# --- the API server restarted mid-run -------------------------------------------------------


def restart_api_server(box: Box) -> None:
    """Stop the box's kube-apiserver and start it again with the same command line, in the
    box's network namespace, as scripts/cluster/lib.sh start_daemon does; wait until the
    API answers again."""
    import signal

    from tests.cluster.box import STATE

    pid_file = STATE / "run" / "kube-apiserver.pid"
    pid = int(pid_file.read_text().strip())
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    assert argv and argv[0].endswith("kube-apiserver"), argv
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), 120, "the API server to stop")
    with open(STATE / "logs" / "kube-apiserver.log", "ab") as log:
        started = subprocess.Popen(["nsenter", "--net=/run/netns/kubeline-box", "--", *argv],
                                   stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    pid_file.write_text(f"{started.pid}\n")

    def answers() -> bool:
        try:
            box.core.list_namespace(_request_timeout=5)
        except Exception:
            return False
        return True

    wait_until(answers, 300, "the API server to answer again")


GO = "kubeline.io/test-go"
# The step runs until the test annotates its pod (read through the API with the pod's
# service account): the restart happens while it runs, whatever the machine's load, and
# Argo's own executor finds the API server back when the step ends.
WAIT_FOR_GO = f"""
import json, socket, ssl, time, urllib.request
from kubeline import Run

sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(sa + "/token").read()
namespace = open(sa + "/namespace").read()
url = f"https://10.96.0.1/api/v1/namespaces/{{namespace}}/pods/{{socket.gethostname()}}"
context = ssl.create_default_context(cafile=sa + "/ca.crt")
print("waiting", flush=True)
for _ in range(1200):
    try:
        request = urllib.request.Request(url, headers={{"Authorization": "Bearer " + token}})
        pod = json.load(urllib.request.urlopen(request, context=context, timeout=5))
        if pod["metadata"].get("annotations", {{}}).get("{GO}") == "true":
            break
    except OSError:
        pass
    time.sleep(0.5)
Run.get_context().parent.log("steps_done", 1)
print("done", flush=True)
"""


def test_api_server_restarted_mid_run(box: Box, cluster_env: dict[str, str],
                                      tmp_path: Path, namespace: str) -> None:
    file = small_pipeline(tmp_path / "restart", WAIT_FOR_GO)
    waiter = subprocess.Popen([sys.executable, file.name], cwd=file.parent, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env={**os.environ, **cluster_env})
    try:
        from kubeline.history import History

        state = Path(cluster_env["KUBELINE_CONFIG"]).parent / ".kubeline"

        def step_running() -> bool:
            if not (state / "history.db").exists():
                return False
            with History(state) as db:
                runs = db.list_runs()
                return bool(runs) and any(s.status == "Running"
                                          for s in db.steps(runs[0].id))

        wait_until(step_running, 300, "the step to run")
        restart_api_server(box)
        [wf] = workflows(box, namespace)
        [pod] = box.pods_of(wf)
        box.core.patch_namespaced_pod(pod.metadata.name, namespace,
                                      {"metadata": {"annotations": {GO: "true"}}})
        output, _ = waiter.communicate(timeout=600)
    finally:
        if waiter.poll() is None:
            waiter.kill()
    assert waiter.returncode == 0, output[-3000:]
    [run] = history(file.parent, cluster_env, "list")
    shown = history(file.parent, cluster_env, "show", run["id"])
    assert shown["status"] == "Finished"
    assert [e["status"] for e in shown["events"]] == ["NotStarted", "Running", "Finished"]
    assert shown["metrics"] == {"steps_done": 1}  # not [1, 1]: the step recorded once
    assert [s["status"] for s in shown["steps"]] == ["Finished"]
    logs = kubeline("runs", "logs", run["id"], "count", cwd=file.parent, env=cluster_env)
    assert logs.stdout.count("done") == 1
    [follower] = (state / "submissions").glob("*-follow.log")
    assert "lost the watch of workflow" in follower.read_text()  # and it came back


def test_kubeline_run_cluster_and_local_flags(box: Box, cluster_env: dict[str, str],
                                              tmp_path: Path, namespace: str) -> None:
    file = small_pipeline(tmp_path / "flags", "print('hello from the step', flush=True)\n")
    point_at(Path(cluster_env["KUBELINE_CONFIG"]), submit=False)  # only --cluster sends it there
    done = kubeline("run", file.name, "--cluster", cwd=file.parent, env=cluster_env)
    [wf] = workflows(box, namespace)
    assert f"(workflow {wf['metadata']['name']}, namespace {namespace})" in done.stdout
    assert "phase:   Succeeded" in done.stdout
    assert "count Succeeded" in done.stderr  # the live progress, node by node
    point_at(Path(cluster_env["KUBELINE_CONFIG"]), submit=True)  # and --local keeps it here
    local = kubeline("run", file.name, "--local", cwd=file.parent, env=cluster_env)
    assert "phase:   Succeeded" in local.stdout and "namespace" not in local.stdout
    assert len(workflows(box, namespace)) == 1
    runs = history(file.parent, cluster_env, "list")
    assert [r["properties"].get("backend") for r in runs] == [None, "cluster"]
    logs = kubeline("runs", "logs", runs[1]["id"], cwd=file.parent, env=cluster_env)
    assert "hello from the step" in logs.stdout


def test_unschedulable_pod_is_one_line(box: Box, cluster_env: dict[str, str], tmp_path: Path,
                                       namespace: str) -> None:
    """A compiled manifest whose pods ask for a node no one has, run with
    ``kubeline run wf.yaml --cluster``: the reason at once, the run Failed, no hang."""
    file = small_pipeline(tmp_path / "p", "print(1)\n")
    build = tmp_path / "build"
    kubeline("compile", str(file), "-o", str(build), cwd=file.parent, env=cluster_env)
    [manifest] = [p for p in build.glob("*.yaml") if p.name != "kustomization.yaml"]
    docs = list(yaml.safe_load_all(manifest.read_text()))
    for doc in docs:
        if doc["kind"] == "Workflow":
            doc["spec"]["nodeSelector"] = {"kubeline.io/no-such-pool": "true"}
    manifest.write_text(yaml.safe_dump_all(docs))
    done = kubeline("run", str(manifest), "--cluster", cwd=file.parent, env=cluster_env,
                    check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot start: Unschedulable" in done.stderr, done.stderr
    # a manifest's runs are recorded in ./.kubeline, as local ones are
    run = history(file.parent, cluster_env, "list", "--state-dir",
                  str(file.parent / ".kubeline"))[0]
    assert run["status"] == "Failed" and "Unschedulable" in run["message"]
    [wf] = workflows(box, namespace)
    assert wf["spec"]["shutdown"] == "Stop"


def test_ctrl_c_under_kubeline_run_stops_the_workflow(box: Box, cluster_env: dict[str, str],
                                                      tmp_path: Path, namespace: str) -> None:
    import signal

    file = small_pipeline(tmp_path / "ctrlc", WAIT_FOR_GO)
    runner = subprocess.Popen([sys.executable, "-m", "kubeline.cli", "run", file.name,
                               "--cluster"], cwd=file.parent, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, **cluster_env},
                              # as in a terminal: under `make cluster-ci` the suite runs as a
                              # background job, which starts with SIGINT ignored
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        from kubeline.history import History

        state = Path(cluster_env["KUBELINE_CONFIG"]).parent / ".kubeline"

        def step_running() -> bool:
            if not (state / "history.db").exists():
                return False
            with History(state) as db:
                runs = db.list_runs()
                return bool(runs) and any(s.status == "Running" for s in db.steps(runs[0].id))

        wait_until(step_running, 300, "the step to run")
        runner.send_signal(signal.SIGINT)
        out, err = runner.communicate(timeout=300)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 1, out + err
    assert "stopping workflow" in err and "exit handlers run" in err, err
    [wf] = workflows(box, namespace)
    assert wf["spec"]["shutdown"] == "Stop"
    # the stop reaches the pods through their grace period: wait for it, bounded
    wait_until(lambda: all(p.status.phase not in ("Running", "Pending")
                          for p in box.pods_of(wf)), 180, "the step pods to stop")
    [run] = history(file.parent, cluster_env, "list")
    shown = history(file.parent, cluster_env, "show", run["id"])
    assert shown["status"] == "Canceled" and shown["message"].startswith("canceled by the user")
    assert [s["status"] for s in shown["steps"]] == ["Canceled"]
