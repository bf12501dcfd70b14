"""The one key function: Go-json encoding, the memoize expression that reproduces it in
Argo's controller, what enters a fingerprint, image identity, and the compute lease."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from kubeline.graph.model import DataRef, Lit, ParamRef, Step, StepInput, StepOutput
from kubeline.graph.stepspec import encode_step
from kubeline.local.nodes import go_json as executor_go_json
from kubeline.local.templating import substitute
from kubeline.reuse.keys import (
    cache_key,
    fingerprint_of,
    go_json,
    image_identity,
    mutable_image,
    static_fingerprint,
)
from kubeline.reuse.memoize import ARGO_KEY_PATTERN, key_expression
from kubeline.runtime import cache
from kubeline.runtime.lease import acquire_or_wait, lock_key
from kubeline.stores.local import LocalStore

TRICKY = ['<a href="x">&amp;</a>', "line\u2028sep\u2029", "tab\tnew\nline", "ünï ☃ 😀",
          "quote ' and \" and \\", "\x01\x1f", ""]


def _step(**kw: object) -> Step:
    base: dict[str, object] = dict(
        id="train", name="train", kind="python_script", image="python:3.11.9-slim",
        script="train.py", command=("python3",),
        arguments=(Lit("--lr"), ParamRef("lr"), Lit("--data"), DataRef("raw"),
                   Lit("--prev"), DataRef("prev")),
        inputs=(StepInput(name="raw", source="datastore", datastore="ws", path="in/a.csv"),
                StepInput(name="prev", source="pipeline_data", datastore="ws", producer="prep")),
        outputs=(StepOutput(name="model", datastore="ws"),),
        source_directory="steps/train", snapshot="ab" * 32)
    base.update(kw)
    return Step(**base)  # type: ignore[arg-type]


def test_go_json_matches_the_executors_go_json() -> None:
    value = {"b": TRICKY, "a": [1, True, None, {"z": "<>", "y": "&"}]}
    assert go_json(value) == executor_go_json(value)
    assert go_json(["<", ">", "&"]) == '["\\u003c","\\u003e","\\u0026"]'


@pytest.mark.parametrize("value", TRICKY)
def test_memoize_expression_computes_the_shims_key(value: str) -> None:
    step = _step()
    fingerprint = static_fingerprint(step)
    scope = {"workflow.parameters.lr": value, "workflow.parameters.kubeline-regenerate-outputs":
             "false", "workflow.parameters.kubeline-content-aware": "false",
             "workflow.uid": "uid-1", "tasks.prep.outputs.parameters.key": "k" * 64}
    expr = key_expression(step, fingerprint)
    memo = substitute(expr, scope, allow_unresolved=False)
    plan = cache.step_key(step, fingerprint, {"lr": value}, {"prep": "k" * 64}, "uid-1", False)
    assert memo == plan.key == plan.lookup
    assert re.match(ARGO_KEY_PATTERN, memo)
    # regenerate (any spelling the shim accepts) and content-aware: the run id as nonce,
    # so the controller never serves a hit the shim would not
    for switch, word in (("kubeline-regenerate-outputs", " True "),
                         ("kubeline-content-aware", "1")):
        fresh = substitute(expr, {**scope, f"workflow.parameters.{switch}": word},
                           allow_unresolved=False)
        assert fresh != memo and re.match(ARGO_KEY_PATTERN, fresh)
    regen = cache.step_key(step, fingerprint, {"lr": value}, {"prep": "k" * 64}, "uid-1", True)
    assert regen.key == substitute(
        expr, {**scope, "workflow.parameters.kubeline-regenerate-outputs": "true"},
        allow_unresolved=False)
    assert regen.lookup is None and regen.alias == plan.key


def test_what_enters_the_fingerprint() -> None:
    base = static_fingerprint(_step())
    same = [_step(id="train-2", name="Train it"), _step(compute_target="gpu-cluster"),
            _step(source_directory="elsewhere/train"), _step(depends_on=("prep",)),
            _step(inputs=(StepInput(name="raw", source="datastore", datastore="ws",
                                    path="in/a.csv"),
                          StepInput(name="prev", source="pipeline_data", datastore="ws",
                                    producer="other-producer")))]
    assert {static_fingerprint(s) for s in same} == {base}
    other = [_step(image="python:3.12"), _step(script="train2.py"), _step(snapshot="cd" * 32),
             _step(arguments=(Lit("--lr"), ParamRef("lr"))), _step(version="2"),
             _step(inputs=(StepInput(name="raw", source="datastore", datastore="ws",
                                     path="in/b.csv"),
                           StepInput(name="prev", source="pipeline_data", datastore="ws",
                                     producer="prep"))),
             _step(outputs=(StepOutput(name="model", datastore="other"),))]
    assert len({static_fingerprint(s) for s in other} | {base}) == len(other) + 1
    # allow_reuse only decides whether a key may be shared
    assert fingerprint_of(encode_step(_step(allow_reuse=False), "")) == base


def test_image_identity_and_mutable_tags() -> None:
    digest = "sha256:" + "1" * 64
    assert image_identity(f"repo/img:v1@{digest}") == f"repo/img@{digest}"
    assert image_identity(f"localhost:5000/img@{digest}") == f"localhost:5000/img@{digest}"
    assert static_fingerprint(_step(image=f"repo/img:v1@{digest}")) == \
        static_fingerprint(_step(image=f"repo/img:v2@{digest}"))
    assert [mutable_image(i) for i in ("python", "python:latest", "localhost:5000/img",
                                       "python:3.11", f"img@{digest}")] == \
        [True, True, True, False, False]


def test_cache_key_is_the_documented_formula() -> None:
    import hashlib

    expected = hashlib.sha256(b'["fp",["1","<x>"],["u1"],""]'.replace(b"<", b"\\u003c")
                              .replace(b">", b"\\u003e")).hexdigest()
    assert cache_key("fp", ["1", "<x>"], ["u1"]) == expected


def test_lease_one_computes_the_other_waits_for_the_record(tmp_path: Path) -> None:
    store = LocalStore("ws", tmp_path)
    key = "f" * 64
    index = f"kubeline/cache/{key}.json"

    def lookup() -> dict[str, object] | None:
        return json.loads(store.get_bytes(index)) if store.exists(index) else None

    lease, hit = acquire_or_wait(store, key, "run-1", "step", lookup)
    assert lease is not None and hit is None
    assert json.loads(store.get_bytes(lock_key(key)))["run_id"] == "run-1"
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(
        acquire_or_wait(store, key, "run-2", "step", lookup)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive(), "the second step waits while the first computes"
    store.put_bytes(index, b'{"run_id": "run-1"}')
    lease.release()
    waiter.join(30)
    assert got == [(None, {"run_id": "run-1"})]
    assert not store.exists(lock_key(key))


def test_stale_lease_is_taken_over_by_exactly_one(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBELINE_LEASE_SECONDS", "1.0")
    store = LocalStore("ws", tmp_path)
    key = "e" * 64
    store.put_bytes(lock_key(key), b'{"run_id": "gone", "host": "another-machine"}')
    results: list[object] = []
    lock = threading.Lock()

    def contend(run: str) -> None:
        lease, _hit = acquire_or_wait(store, key, run, "step", lambda: None)
        if lease is not None:
            lease.start_heartbeat()
        with lock:
            results.append(lease)

    threads = [threading.Thread(target=contend, args=(f"run-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    threads[0].join(10)
    import time

    time.sleep(2.5)
    with lock:
        winners = [r for r in results if r is not None]
    assert len(winners) == 1, "one waiter takes a stale lease over; the others keep waiting"
    owner = json.loads(store.get_bytes(lock_key(key)))
    assert owner["run_id"] == winners[0].owner["run_id"]  # type: ignore[attr-defined]
    for _ in range(3):  # each holder in turn finishes; the next waiter gets the lease
        with lock:
            held = [r for r in results if r is not None]
        held[-1].release()  # type: ignore[attr-defined]
        time.sleep(0.5)
    for t in threads:
        t.join(30)
    assert len(results) == 3
