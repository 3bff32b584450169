"""Make the README's picture: the demo in headless Chromium after a click on the bar of the 8s.

.venv/bin/python docs/screenshot.py        # writes docs/demo.png
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from symphony_dash import create_app

LAYOUTS = Path(__file__).resolve().parents[1] / "symphony_dash" / "layouts"
PORT = 8765


def main() -> None:
    app = create_app(LAYOUTS)
    threading.Thread(target=lambda: app.run(port=PORT), daemon=True).start()
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1180", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        wait = WebDriverWait(driver, 30)
        for _ in range(50):  # the server thread needs a moment
            try:
                driver.get(f"http://127.0.0.1:{PORT}/digits")
                break
            except WebDriverException:
                time.sleep(0.2)
        wait.until(ec.text_to_be_present_in_element((By.ID, "symphony-count"), "1,797 of 1,797"))
        label = '[id=\'{"index":"label","sub":"graph","type":"symphony-histogram"}\']'
        bars = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{label} .trace.bars")[-1])
        ActionChains(driver).move_to_element(bars.find_elements(By.CSS_SELECTOR, "path")[8]).click().perform()
        wait.until(ec.text_to_be_present_in_element((By.ID, "symphony-count"), "174 of 1,797"))
        ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "h1")).perform()  # no hover label
        time.sleep(2)  # let the figures, thumbnails and grid rows finish drawing
        driver.save_screenshot(str(Path(__file__).with_name("demo.png")))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
