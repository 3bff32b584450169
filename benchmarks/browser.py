"""Brush to every view redrawn, in a real browser (headless Chromium), over benchmarks/scale.py's eight views.

The app serves the synthetic table; selenium drags a brush across the confidence histogram as a person does, and the
page itself measures, with ``performance.now()``, from the mouse being let go to the last change of the page (a
graph drawn, a grid or a gallery filled) once no callback is pending. Each brush is a new range: nothing is reused.
Run:

    .venv/bin/python benchmarks/browser.py --rows 1000000 > benchmarks/results/browser-1000000.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time

from interaction import synthetic
from scale import VIEWS
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from werkzeug.serving import make_server

from symphony_dash import create_app
from symphony_dash.dataset import Dataset

GRAPH = '[id=\'{"index":"confidence","sub":"graph","type":"symphony-histogram"}\']'
# Installed once: the time the mouse is let go, the last change of the page since (a graph drawn, a grid filled), and
# where the time went: each callback request (sent, answered, bytes), the main thread's long tasks, Plotly's redraws.
PROBE = """
if (!window.__observer) {
    window.__observer = new MutationObserver(() => { window.__drawn += 1; window.__last = performance.now(); });
    window.__observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    document.addEventListener('mouseup', () => {
        window.__released = performance.now(); window.__drawn = 0;
        window.__requests = []; window.__long = []; window.__plotly = 0;
    }, true);
    const send = window.fetch;
    window.fetch = async function (url, options) {
        const sent = performance.now();
        const answer = await send.apply(this, arguments);
        if (String(url).includes('_dash-update-component')) {
            const bytes = Number(answer.headers.get('content-length') || 0);
            window.__requests.push({sent: sent, answered: performance.now(), bytes: bytes});
        }
        return answer;
    };
    new PerformanceObserver(list => list.getEntries().forEach(e => window.__long.push([e.startTime, e.duration])))
        .observe({entryTypes: ['longtask']});
    const react = Plotly.react;
    Plotly.react = function () {  // its synchronous part: the redraw, on the main thread
        const start = performance.now();
        const result = react.apply(this, arguments);
        window.__plotly += performance.now() - start;
        return result;
    };
}
window.__drawn = 0; window.__requests = []; window.__long = []; window.__plotly = 0;
"""
PENDING = """
const callbacks = Object.assign({}, window.store.getState().callbacks);
delete callbacks.stored; delete callbacks.completed;
return [].concat(...Object.values(callbacks)).length;
"""
# Resolves once no callback is pending and the page has not changed for 300 ms: the ms from release to the last change,
# with the callback requests sent since (how many, when the last was answered, bytes) and the main thread's long tasks.
SETTLED = """
const done = arguments[arguments.length - 1];
function pending() {
    const callbacks = Object.assign({}, window.store.getState().callbacks);
    delete callbacks.stored; delete callbacks.completed;
    return [].concat(...Object.values(callbacks)).length;
}
(function poll() {
    const now = performance.now();
    if (pending() === 0 && window.__drawn > 0 && now - window.__last > 300) {
        const t0 = window.__released, requests = window.__requests.filter(r => r.sent >= t0);
        const long = window.__long.filter(([start]) => start >= t0 && start <= window.__last);
        done({
            ms: window.__last - t0,
            requests: requests.length,
            answered_ms: Math.max(0, ...requests.map(r => r.answered - t0)),
            bytes: requests.reduce((sum, r) => sum + r.bytes, 0),
            long_tasks_ms: long.reduce((sum, [, d]) => sum + d, 0),
            longest_task_ms: Math.max(0, ...long.map(([, d]) => d)),
            plotly_react_ms: window.__plotly,
        });
    } else {
        requestAnimationFrame(poll);
    }
})();
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args(argv)

    layout = {"title": "Scale", "data": {"source": "unused"}, "pages": [{"title": "All", "components": VIEWS}]}
    app = create_app([layout], data=Dataset(synthetic(args.rows), name="synthetic"))
    server = make_server("127.0.0.1", args.port, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,2200"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(60)
    try:
        driver.get(f"http://127.0.0.1:{args.port}/")
        deadline = time.monotonic() + 120
        while "instances" not in driver.execute_script(
            "const c = document.getElementById('symphony-count'); return c ? c.textContent : '';"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the page did not load")
            time.sleep(0.5)
        quiet = 0  # every view drawn once: no callback pending for two seconds
        while quiet < 4:
            quiet = quiet + 1 if driver.execute_script(PENDING) == 0 else 0
            time.sleep(0.5)
        times: list[float] = []
        profiles: list[dict[str, float]] = []
        for i in range(args.repeat + 1):
            driver.execute_script(PROBE)
            layer = driver.find_element("css selector", GRAPH + " .nsewdrag")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", layer)
            width = layer.size["width"]
            # Each brush starts outside the last one (a drag inside a selection moves it): left and right halves.
            start, end = (
                (int(width * (0.08 + 0.01 * i)), int(width * 0.45))
                if i % 2 == 0
                else (int(width * 0.55), int(width * (0.95 - 0.01 * i)))
            )
            # selenium 4.2 measures the offset from the element's top-left corner.
            chain = ActionChains(driver, duration=40).move_to_element_with_offset(
                layer, start, layer.size["height"] // 2
            )
            chain.click_and_hold().move_by_offset((end - start) // 2, 0).move_by_offset((end - start) // 2, 0)
            chain.release().perform()
            measured = driver.execute_async_script(SETTLED)
            if i:  # the first brush also loads the code behind the views' first redraw
                times.append(measured["ms"])
                profiles.append(measured)
        print(
            json.dumps(
                {
                    "rows": args.rows,
                    "views": [f"{v['type']} {v['id']}" for v in VIEWS],
                    "brushes": len(times),
                    "median_ms_brush_to_all_redrawn": round(statistics.median(times), 1),
                    "spread_ms": [round(min(times), 1), round(max(times), 1)],
                    # Medians over the brushes: callback requests sent after the release and when the last was
                    # answered, bytes received, the main thread's long tasks (sum, longest) and Plotly.react's time.
                    "profile_median": {k: round(statistics.median(p[k] for p in profiles), 1) for k in profiles[0]},
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "browser": driver.capabilities.get("browserVersion"),
                },
                indent=2,
            )
        )
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
