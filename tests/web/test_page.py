"""The web page in a real browser: a run started from the page, watched until it finishes
without a reload, its step's logs, metrics and outputs, escaping and download containment.

Real parts only: the run is submitted with Experiment.submit and run by the local executor,
the serve app runs in its own process on a loopback socket, and Debian's Chromium drives
the page through selenium.
"""

from __future__ import annotations

import json
import runpy
import urllib.parse
from pathlib import Path
from typing import Any

from tests.web.conftest import (
    XSS_METRIC,
    XSS_STEP,
    XSS_TAG,
    Server,
    gate_workspace,
    kubeline,
    open_gate,
    start_server,
    stop_server,
)

WAIT = 120.0  # an upper bound for each wait; nothing asserts how long anything takes


def _wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(condition, message=what)


def _css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _one(driver: Any, selector: str) -> Any:
    found = _wait(driver, lambda d: _css(d, selector), f"no element matches {selector}")
    return found[0]


def _text(driver: Any, selector: str) -> str | None:
    """The text of the first match, read in one script call (the page re-renders while it
    polls, so element handles can go stale between two calls)."""
    value = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
        selector)
    return None if value is None else str(value)


def _attr(driver: Any, selector: str, name: str) -> str | None:
    value = driver.execute_script(
        "const e = document.querySelector(arguments[0]); "
        "return e ? e.getAttribute(arguments[1]) : null", selector, name)
    return None if value is None else str(value)


def _wait_text(driver: Any, selector: str, expected: str) -> None:
    _wait(driver, lambda d: expected in (_text(d, selector) or ""),
          f"{selector} never showed {expected!r} (last: {_text(driver, selector)!r})")


def _click(driver: Any, selector: str) -> None:
    """A real click; retried when a re-render replaced the element in between."""
    from selenium.common.exceptions import StaleElementReferenceException

    def attempt(d: Any) -> bool:
        try:
            _css(d, selector)[0].click()
        except (StaleElementReferenceException, IndexError):
            return False
        return True

    _wait(driver, attempt, f"could not click {selector}")


def _no_injection(driver: Any) -> None:
    """No user text became markup: the title is unchanged, the only script is app.js, and
    no element came from a payload."""
    assert "pwned" not in driver.title
    scripts = driver.execute_script(
        "return [...document.scripts].map(s => s.getAttribute('src'))")
    assert scripts == ["/ui/static/app.js"]
    assert not _css(driver, "main script, main [onerror], main i, main u")
    images = driver.execute_script(
        "return [...document.querySelectorAll('main img')].map(i => i.getAttribute('src'))")
    assert all(src.startswith("/ui/api/runs/") for src in images), images


def _first_run(workspace: Path, in_folder: Any) -> Any:
    """A finished run made with Experiment.submit; returns its PipelineRun."""
    from kubeline import Experiment

    in_folder(workspace)
    ns = runpy.run_path(str(workspace / "pipeline.py"), run_name="web_pipeline")
    run = Experiment(ns["ws"], "web-test").submit(
        ns["pipeline"], tags={"team": XSS_TAG}, pipeline_parameters={"label": "<i>one</i>"})
    open_gate(workspace, run.id)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def _check_downloads(server: Server, run_id: str, step_id: str) -> None:
    base = f"/ui/api/runs/{run_id}/steps/{step_id}"
    status, body = server.get(f"{base}/outputs/result?path=sub/more.json")
    assert (status, json.loads(body)) == (200, {"ok": True})
    escapes = ["../../../../../../etc/passwd", "/etc/passwd", "sub/../../result",
               "..", "sub/./more.json", "sub\\more.json", "%2e%2e/x"]
    for path in escapes:
        quoted = urllib.parse.quote(path, safe="")
        for url in (f"{base}/outputs/result?path={quoted}", f"{base}/files?path={quoted}"):
            status, body = server.get(url)
            assert 400 <= status < 500, (url, status, body[:200])
            assert b"root:" not in body
    # a clean path that the completion record does not list is refused too
    assert server.get(f"{base}/outputs/result?path=other.txt")[0] == 404
    assert server.get(f"{base}/outputs/nope?path=result.txt")[0] == 404
    assert server.get(f"/ui/api/runs/{run_id}/steps/nope/outputs/result?path=x")[0] == 404


def _served(tmp_path: Path, in_folder: Any, driver: Any, check: Any) -> None:
    """Run ``check(driver, server, workspace, first_run)`` against a fresh workspace with one
    finished run and ``kubeline serve``; on failure keep a screenshot and the server log."""
    workspace = gate_workspace(tmp_path / "ws")
    first = _first_run(workspace, in_folder)
    server = start_server(workspace, tmp_path / "server.log")
    try:
        check(driver, server, workspace, first)
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        print(f"page at failure: {driver.current_url}, screenshot {tmp_path / 'failure.png'}")
        print(server.log.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop_server(server)


def test_run_a_published_pipeline_from_the_page(tmp_path: Path, in_folder: Any,
                                                chromium: Any) -> None:
    """Publish, paste a token, press Run; watch the run finish and inspect its step."""
    def check(driver: Any, server: Server, workspace: Path, first: Any) -> None:
        from kubeline.dsl.schedule import Schedule, ScheduleRecurrence

        published = first.publish_pipeline(name="Web_Pipeline",
                                           description=f"words {XSS_TAG}", version="1.0")
        Schedule.create(first.experiment.workspace, name="weekly", pipeline_id=published.id,
                        experiment_name="web-scheduled", description=XSS_TAG,
                        recurrence=ScheduleRecurrence(frequency="Week", interval=1,
                                                      start_time="2099-01-01T00:00:00"))
        token = kubeline("token", "create", "web", cwd=workspace).strip()
        second = _start_from_published(driver, server, published.id, token, tmp_path)
        _wait_text(driver, '[data-test="started-by"]', f"rest:{published.id}")
        _watch_and_inspect(driver, server, workspace, first.id, second, tmp_path)
        _check_schedules(driver, server, published.id)
        _full_page_screenshot(driver, tmp_path / "schedules.png")

    _served(tmp_path, in_folder, chromium, check)


def test_rerun_from_the_page(tmp_path: Path, in_folder: Any, chromium: Any) -> None:
    """The run page's rerun runs the stored pipeline again, with new parameter values."""
    def check(driver: Any, server: Server, workspace: Path, first: Any) -> None:
        driver.get(server.url + "/ui/#/runs")
        row = f'tr[data-run="{first.id}"]'
        _wait_text(driver, f"{row} [data-status]", "Finished")
        row_text = _text(driver, row) or ""
        assert XSS_TAG in row_text and "<i>one</i>" in row_text
        _no_injection(driver)
        _click(driver, f"{row} a")
        _click(driver, ".rerun summary")
        field = _css(driver, 'input[data-param="label"]')[0]
        assert field.get_attribute("value") == "<i>one</i>"
        field.clear()
        field.send_keys("<u>two</u>")
        _click(driver, '[data-test="rerun"]')
        _wait(driver, lambda d: first.id not in d.current_url and "#/run/" in d.current_url,
              "the page did not open the new run")
        second = urllib.parse.unquote(driver.current_url.split("#/run/", 1)[1].split("/")[0])
        _wait_text(driver, '[data-test="started-by"]', f"web page: rerun of {first.id}")
        gate_id = _step_id(server, second, XSS_STEP)
        _wait(driver, lambda d: _attr(d, f'svg a.node[data-step="{gate_id}"]', "data-status")
              == "Running", "the gate step never showed Running")
        open_gate(workspace, second)
        _wait_text(driver, "h1 [data-status]", "Finished")
        _click(driver, f'svg a.node[data-step="{gate_id}"]')
        _wait_text(driver, '[data-test="log-stdout"]', "<u>two</u>")
        _no_injection(driver)

    _served(tmp_path, in_folder, chromium, check)


def _start_from_published(driver: Any, server: Server, published_id: str, token: str,
                          shots: Path) -> str:
    """The published page shows the endpoint and curl; a wrong token is refused with the
    hint; the right one starts a run and the page opens it. Returns the new run's id."""
    driver.get(server.url + "/ui/#/published")
    card = f'[data-published="{published_id}"]'
    _wait_text(driver, f'{card} [data-test="endpoint"]', f"/pipelines/{published_id}")
    assert _text(driver, f'{card} [data-test="endpoint"]') == \
        f"{server.url}/pipelines/{published_id}"
    curl = _text(driver, f'{card} [data-test="curl"]') or ""
    assert f"curl -X POST '{server.url}/pipelines/{published_id}'" in curl
    assert "Authorization: Bearer $KUBELINE_TOKEN" in curl and '"label":"first"' in curl
    assert f"words {XSS_TAG}" in (_text(driver, card) or "")
    _no_injection(driver)

    token_field = _css(driver, f'{card} [data-test="token"]')[0]
    token_field.send_keys("not-a-token")
    _click(driver, f'{card} [data-test="run"]')
    _wait_text(driver, f'{card} [data-test="run-result"]', "kubeline token create")
    assert "#/published" in driver.current_url
    _full_page_screenshot(driver, shots / "published.png")
    token_field.clear()
    token_field.send_keys(token)
    _click(driver, f'{card} [data-test="run"]')
    _wait(driver, lambda d: "#/run/" in d.current_url, "the page did not open the new run")
    return urllib.parse.unquote(driver.current_url.split("#/run/", 1)[1].split("/")[0])


def _check_schedules(driver: Any, server: Server, published_id: str) -> None:
    driver.get(server.url + "/ui/#/schedules")
    table = '[data-test="schedules"]'
    _wait_text(driver, table, "weekly")
    text = _text(driver, table) or ""
    assert published_id in text and "every 1 Week" in text and "never" in text
    _no_injection(driver)


def _watch_and_inspect(driver: Any, server: Server, workspace: Path, first: str, second: str,
                       tmp_path: Path) -> None:
    """On the new run's page: Running, then Finished without a reload; then the gate
    step's logs, metrics and outputs."""
    driver.execute_script("window.__sameDocument = 'yes'")
    gate_id = _step_id(server, second, XSS_STEP)
    gate_node = f'svg a.node[data-step="{gate_id}"]'
    _wait(driver, lambda d: _attr(d, gate_node, "data-status") == "Running",
          "the gate step never showed Running")
    assert _text(driver, "h1 [data-status]") == "Running"
    _full_page_screenshot(driver, tmp_path / "run-running.png")

    open_gate(workspace, second)
    _wait_text(driver, "h1 [data-status]", "Finished")
    assert driver.execute_script("return window.__sameDocument") == "yes"  # no reload
    nodes = driver.execute_script(
        "return [...document.querySelectorAll('svg a.node')].map(n => [n.dataset.step, "
        "n.dataset.status, n.dataset.reused, n.getAttribute('class')])")
    assert {n[0] for n in nodes} == {"prep", gate_id, "after"}
    assert all(n[1] == "Finished" for n in nodes), nodes
    # prep was reused from the first run: marked on the graph and in the steps table
    assert [n[0] for n in nodes if n[2] == "true"] == ["prep"]
    assert all(("reused" in n[3]) == (n[0] == "prep") for n in nodes), nodes
    steps_text = _text(driver, '[data-test="steps"]') or ""
    assert XSS_STEP in steps_text and f"reused from {first[:8]}" in steps_text
    edges = driver.execute_script("return document.querySelectorAll('svg path.edge').length")
    assert edges == 2
    _no_injection(driver)

    # open the gate step's logs from the graph
    _click(driver, gate_node)
    _wait_text(driver, '[data-test="log-stdout"]',
               "hello <script>document.title='pwned-stdout'</script> first")
    assert _text(driver, '[data-test="step-name"]') == XSS_STEP
    _click(driver, '[data-tab="stderr"]')
    _wait_text(driver, '[data-test="log-stderr"]', "a warning <b>bold</b> on stderr")
    assert not _css(driver, '[data-test="log-stderr"] b')
    _no_injection(driver)

    # metrics: a table of values and plots of the logged lists and rows
    _click(driver, '[data-tab="metrics"]')
    _wait_text(driver, '[data-test="scalars"]', XSS_METRIC)
    assert "0.93" in (_text(driver, '[data-test="scalars"]') or "")
    plots = driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('.metric[data-metric]')]"
        ".map(m => [m.dataset.metric, m.querySelectorAll('svg.plot').length]))")
    assert plots == {"loss": 1, "per_class": 1, "curve": 1, "confusion": 1}
    dots = driver.execute_script(
        "return document.querySelectorAll('.metric[data-metric=\"curve\"] circle').length")
    assert dots == 5
    # the logged image is shown, decoded by the browser (served inline as image/png)
    _wait(driver, lambda d: d.execute_script(
        "const i = document.querySelector('[data-image=\"images/chart.png\"] img');"
        "return !!i && i.complete && i.naturalWidth === 40"), "the logged image is not shown")
    _no_injection(driver)

    # outputs: links for every file of the committed output, and they download
    _click(driver, '[data-tab="outputs"]')
    _wait(driver, lambda d: _css(d, '[data-output="result"] a[data-path]'), "no output links")
    links = driver.execute_script(
        "return [...document.querySelectorAll('[data-output=\"result\"] a[data-path]')]"
        ".map(a => [a.dataset.path, a.href])")
    assert sorted(p for p, _ in links) == ["result.txt", "sub/more.json"]
    href = next(h for p, h in links if p == "result.txt")
    assert server.get(href[len(server.url):]) == (200, b"result of first\n")
    uploaded = driver.execute_script(
        "return [...document.querySelectorAll('ul.uploaded a[data-path]')]"
        ".map(a => [a.dataset.path, a.href])")
    assert sorted(p for p, _ in uploaded) == ["images/chart.png", "notes/report.txt"]
    href = next(h for p, h in uploaded if p == "notes/report.txt")
    assert server.get(href[len(server.url):]) == (200, b"report of first\n")
    _check_downloads(server, second, gate_id)

    driver.get(server.url + f"/ui/#/run/{second}/step/{gate_id}/metrics")
    _wait(driver, lambda d: _css(d, ".metric svg.plot"), "no plots")
    _full_page_screenshot(driver, tmp_path / "run-metrics.png")
    driver.get(server.url + f"/ui/#/run/{second}/step/{gate_id}/stdout")
    _wait_text(driver, '[data-test="log-stdout"]', "hello")
    _full_page_screenshot(driver, tmp_path / "run-stdout.png")
    assert (tmp_path / "run-metrics.png").stat().st_size > 0


def _full_page_screenshot(driver: Any, path: Path) -> None:
    """The whole page, not just the window: grow the window to the document's height."""
    size = driver.get_window_size()
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(size["width"], max(size["height"], height + 140))
    driver.save_screenshot(str(path))
    driver.set_window_size(size["width"], size["height"])


def _step_id(server: Server, run_id: str, name: str) -> str:
    status, body = server.get(f"/ui/api/runs/{run_id}")
    assert status == 200, body
    ids = [s["id"] for s in json.loads(body)["steps"] if s["name"] == name]
    assert len(ids) == 1, ids
    return str(ids[0])
