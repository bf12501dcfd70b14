"""Schedules fired by a real ``kubeline serve``: data-change (local, S3 on moto, Azure on
Azurite) and time; plus the recurrence arithmetic and its cron form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from kubeline import Datastore, Workspace
from kubeline.dsl.schedule import Schedule, ScheduleError, ScheduleRecurrence
from kubeline.history.db import History
from kubeline.stores.config import SecretRef, secret_env_name
from tests.server.conftest import Server, make_workspace, publish, wait_for
from tests.servers import AzuriteServer, S3Server

POLL_MINUTES = 0.02  # 1.2 s: kubeline accepts fractions of a minute


def _schedule_json(server: Server, schedule: Schedule) -> dict[str, Any]:
    response = server.get(f"/api/schedules/{schedule.id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _runs(root: Path, schedule: Schedule) -> list[str]:
    with History(root / ".kubeline") as db:
        return [r.id for r in db.list_runs() if r.started_by == f"schedule:{schedule.id}"]


def _burst_then_one_run(server: Server, ws: Workspace, schedule: Schedule,
                        write: Callable[[int], None], files: int = 50) -> dict[str, Any]:
    """Baseline, a burst of writes, then: exactly one run however many files changed."""
    wait_for(lambda: _schedule_json(server, schedule)["last_look"], "the first look")
    for i in range(files):
        write(i)
    fired: dict[str, Any] = wait_for(lambda: _schedule_json(server, schedule)["last_trigger"],
                                     "the schedule to start a run")
    assert fired["run_id"], fired
    assert fired["saw"]["added"] == files
    assert len(fired["saw"]["added_keys"]) == 20
    # later looks see nothing new and start nothing
    seen = _schedule_json(server, schedule)["last_look"]
    wait_for(lambda: _schedule_json(server, schedule)["last_look"] != seen, "another look")
    seen = _schedule_json(server, schedule)["last_look"]
    wait_for(lambda: _schedule_json(server, schedule)["last_look"] != seen, "a third look")
    assert _runs(ws.root, schedule) == [fired["run_id"]]
    after = _schedule_json(server, schedule)
    assert after["last_saw"]["added"] == 0 and after["last_trigger"]["run_id"] == fired["run_id"]
    run = schedule.get_last_pipeline_run()
    assert run is not None and run.id == fired["run_id"]
    run.wait_for_completion(show_output=False, timeout_seconds=120)
    assert run.get_status() == "Finished"
    assert run.get_details()["submittedBy"] == f"schedule:{schedule.id}"
    return fired


def test_local_data_change_starts_one_run_for_fifty_files(
        tmp_path: Path, serve: Callable[..., Server]) -> None:
    ws = make_workspace(tmp_path / "ws")
    pub = publish(ws)
    store = ws.get_default_datastore()
    schedule = Schedule.create(ws, "on-new-data", pub.id, "Watched", datastore=store,
                               path_on_datastore="incoming", polling_interval=POLL_MINUTES,
                               pipeline_parameters={"count": 4})
    server = serve(ws.root)
    folder = ws.root / ".kubeline" / "datastores" / "workspaceblobstore" / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / "elsewhere.txt").write_text("not watched", encoding="utf-8")

    def write(i: int) -> None:
        (folder / f"part-{i:03d}.csv").write_text(f"{i}\n", encoding="utf-8")

    _burst_then_one_run(server, ws, schedule, write)
    listed = server.get("/api/schedules").json()
    assert [s["id"] for s in listed] == [schedule.id]
    assert listed[0]["kind"] == "data" and listed[0]["path_on_datastore"] == "incoming"
    schedule.disable()
    assert Schedule.list(ws) == [] and len(Schedule.list(ws, active_only=False)) == 1


def test_s3_data_change_schedule(tmp_path: Path, s3_server: S3Server,
                                 serve: Callable[..., Server],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace(tmp_path / "ws")
    bucket = s3_server.create_bucket()
    env = {secret_env_name(SecretRef(name="lake-creds", key=key)): value
           for key, value in (("accessKey", s3_server.access_key),
                              ("secretKey", s3_server.secret_key))}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    lake = Datastore.register_s3(ws, "lake", bucket, prefix="team",
                                 endpoint=s3_server.endpoint_url, region=s3_server.region,
                                 insecure=True, credentials_secret="lake-creds")
    ws = Workspace(_root=ws.root)
    pub = publish(ws)
    schedule = Schedule.create(ws, "s3-watch", pub.id, "Watched", datastore=lake,
                               path_on_datastore="landing", polling_interval=POLL_MINUTES)
    server = serve(ws.root, env=env)
    client = s3_server.client()

    def write(i: int) -> None:
        client.put_object(Bucket=bucket, Key=f"team/landing/f{i:03d}.json", Body=b"{}")

    fired = _burst_then_one_run(server, ws, schedule, write)
    assert fired["saw"]["added_keys"][0] == "landing/f000.json"


def test_azure_data_change_schedule(tmp_path: Path, azurite: AzuriteServer,
                                    serve: Callable[..., Server],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace(tmp_path / "ws")
    container = azurite.create_container()
    env = {"BLOBS_CREDENTIALS_ACCOUNTKEY": azurite.account_key}
    monkeypatch.setenv("BLOBS_CREDENTIALS_ACCOUNTKEY", azurite.account_key)
    blobs = Datastore.register_azure_blob_container(
        ws, "blobs", container, azurite.account_name, endpoint=azurite.endpoint_url)
    ws = Workspace(_root=ws.root)
    pub = publish(ws)
    schedule = Schedule.create(ws, "blob-watch", pub.id, "Watched", datastore=blobs,
                               path_on_datastore="drop", polling_interval=POLL_MINUTES)
    server = serve(ws.root, env=env)
    client = azurite.service_client().get_container_client(container)

    def write(i: int) -> None:
        client.upload_blob(f"drop/b{i:03d}.txt", b"x", overwrite=True)

    _burst_then_one_run(server, ws, schedule, write)


def test_time_schedule_fires_and_logs(tmp_path: Path, serve: Callable[..., Server]) -> None:
    ws = make_workspace(tmp_path / "ws")
    pub = publish(ws)
    recurrence = ScheduleRecurrence(frequency="Hour", interval=1)  # no start: fires at once
    schedule = Schedule.create(ws, "hourly", pub.id, "Timed", recurrence=recurrence,
                               pipeline_parameters={"name": "timed"})
    server = serve(ws.root)
    fired = wait_for(lambda: _schedule_json(server, schedule)["last_trigger"], "a fire")
    assert fired["run_id"] and fired["message"] == f"started run {fired['run_id']}"
    run = schedule.get_last_pipeline_run()
    assert run is not None
    run.wait_for_completion(show_output=False, timeout_seconds=120)
    assert run.get_details()["parameters"]["name"] == "timed"
    assert _runs(ws.root, schedule) == [fired["run_id"]]  # the next fire is an hour away
    shown = _schedule_json(server, schedule)
    assert shown["recurrence"]["frequency"] == "Hour"


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def test_recurrence_arithmetic_and_cron() -> None:
    created = _utc(2024, 1, 1, 10, 7)
    every15 = ScheduleRecurrence("Minute", 15, start_time="2024-01-01T10:00:00")
    assert every15.next_after(_utc(2024, 1, 1, 10, 7), created) == _utc(2024, 1, 1, 10, 15)
    assert every15.cron() == "0/15 * * * *"
    daily = ScheduleRecurrence("Day", 1, hours=[9, 17], minutes=[30], time_zone="Europe/Berlin")
    nxt = daily.next_after(_utc(2024, 7, 1, 8, 0), created)  # 10:00 in Berlin (UTC+2)
    assert nxt.astimezone(timezone.utc) == _utc(2024, 7, 1, 15, 30)
    assert daily.cron() == "30 9,17 * * *"
    weekly = ScheduleRecurrence("Week", 1, week_days=["Monday", "Friday"], hours=[6],
                                minutes=[0])
    nxt = weekly.next_after(_utc(2024, 1, 2, 0, 0), created)  # a Tuesday
    assert nxt == _utc(2024, 1, 5, 6, 0)
    assert weekly.cron() == "0 6 * * 1,5"
    monthly = ScheduleRecurrence("Month", 1, start_time="2024-01-31T00:00:00")
    assert monthly.next_after(_utc(2024, 2, 1), created) == _utc(2024, 2, 29)
    cases: list[tuple[Callable[[], object], str]] = [
                       (lambda: ScheduleRecurrence("Yearly", 1), "frequency"),
                       (lambda: ScheduleRecurrence("Hour", 0), "interval"),
                       (lambda: ScheduleRecurrence("Hour", 1, hours=[1]), "hours"),
                       (lambda: ScheduleRecurrence("Day", 1, week_days=["Monday"]), "week_days"),
                       (lambda: ScheduleRecurrence("Day", 1, time_zone="Mars/Base"),
                        "time_zone")]
    for bad, field in cases:
        with pytest.raises(ScheduleError, match=field):
            bad()
    with pytest.raises(ScheduleError, match="cron"):
        ScheduleRecurrence("Week", 2).cron()
