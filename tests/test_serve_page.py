"""The review page in a real headless Chromium (Debian's, through Playwright; .ci/run installs it):
accept one read with the keyboard, correct another, and find both in labels.txt.

``ANPR_REVIEW_SCREENSHOT=docs/images/review_page.png`` also saves the page as the docs show it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers.serve import crops

from anpr.serve.process import ServerProcess

CHROMIUM = os.environ.get("ANPR_CHROMIUM", "/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"
)


@pytest.mark.slow
def test_accept_correct_and_pick_an_alternative_with_the_keyboard(tmp_path, capsys):
    from anpr.cli.check import main as check

    folder = tmp_path / "reviewed"
    photos = []
    for i, data in enumerate(crops(3, seed=308)):  # the shipped reader misreads the second (UP18HE7995)
        photos.append(tmp_path / f"gate_{i}.png")
        photos[-1].write_bytes(data)
    # every read is queued for review (no confidence reaches 1.01)
    args = ["--review-dir", str(folder), "--min-confidence", "1.01", "--threads", "1"]
    expect = playwright_api.expect
    with ServerProcess("pretrained", args) as server, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 640})
        page.set_default_timeout(15_000)
        failed_requests = []
        page.on("requestfailed", lambda r: failed_requests.append(r.url))
        page.goto(server.url + "/")
        page.wait_for_selector("#status.ready")
        page.keyboard.press("o")  # the file picker opens from the keyboard...
        page.set_input_files("#files", [str(p) for p in photos])  # ...and gets the crops
        expect(page.locator(".item.review")).to_have_count(3)

        first = page.inner_text("#read-text")
        page.keyboard.press("Enter")  # 1: accept the reading
        expect(page.locator(".item.saved")).to_have_count(1)

        page.keyboard.press("e")  # 2: type the text as a person would; Enter saves it
        page.fill("#correction", "up-18 he 7995")
        expect(page.locator("#check")).to_contain_text("UP18HE7995 · fits a plate format")
        page.keyboard.press("Enter")
        expect(page.locator(".item.saved")).to_have_count(2)
        expect(page.locator("#message")).to_contain_text("saved UP18HE7995")
        screenshot = os.environ.get("ANPR_REVIEW_SCREENSHOT")
        if screenshot:
            page.screenshot(path=screenshot)

        third = page.inner_text("#read-text")
        page.keyboard.press("e")  # 3: a text no plate format has is only saved on a second Enter...
        page.fill("#correction", "NOTAPLATE")
        page.keyboard.press("Enter")
        expect(page.locator("#message.warn")).to_contain_text("does not fit")
        page.keyboard.press("Escape")  # ...so leave the field, and pick alternative 1 instead
        page.keyboard.press("1")
        expect(page.locator(".item.saved")).to_have_count(3)
        expect(page.locator("#message")).to_contain_text("nothing left to review")
        browser.close()
        assert not failed_requests

    lines = (folder / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("\t")[1] for line in lines) == sorted([first, "UP18HE7995", third])
    code = check(["--images-dir", str(folder / "images"), "--labels-file", str(folder / "labels.txt"), "--no-cache"])
    assert code == 0, capsys.readouterr()
