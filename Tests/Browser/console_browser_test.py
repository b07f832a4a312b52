#!/usr/bin/env python3
"""The web console in a real headless Chromium, driven by Selenium (run by ConsoleBrowserTests).

Environment: CONSOLE_URL, AGENT_NAME/AGENT_PASSWORD (agent of the demo tenant), VIEWER_NAME/
VIEWER_PASSWORD (viewer of it), ADMIN_NAME/ADMIN_PASSWORD (admin of it), CALLER_NUMBER (the demo call's
caller), CALL_EXTERNAL_ID (the demo call), OTHER_CALL_ID (a call of another tenant), CALLVAULT_BIN and
CALLVAULT_DATA (to run the sweeper), DOWNLOADS (a folder for the browser's downloads), SCREENSHOTS (a
folder for calls.png and call.png, or empty), CALLVAULT_TEST_CHROMIUM, CALLVAULT_TEST_CHROMEDRIVER. Prints one `ok:` line per check; exits 1 at the first failure, saying which.
"""
import os
import re
import subprocess
import sys
import time
import zipfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["CONSOLE_URL"].rstrip("/")
SHOTS = os.environ.get("SCREENSHOTS", "")


def fail(what):
    print(f"FAIL: {what}", flush=True)
    sys.exit(1)


def ok(what):
    print(f"ok: {what}", flush=True)


def browser(downloads=None):
    options = Options()
    options.binary_location = os.environ["CALLVAULT_TEST_CHROMIUM"]
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(argument)
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(os.environ["CALLVAULT_TEST_CHROMEDRIVER"]), options=options)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def sign_in(driver, name, password):
    driver.get(URL + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()


def wait_for(driver, condition, what, seconds=20):
    try:
        return WebDriverWait(driver, seconds).until(lambda d: condition(d))
    except Exception:
        fail(f"{what} (page: {driver.current_url})")


def status(path, session, method="GET", body=None):
    """The HTTP status of a request with this session cookie (Selenium cannot see statuses)."""
    request = urllib.request.Request(URL + path, method=method, data=body,
                                     headers={"Cookie": f"cv_session={session}",
                                              "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def screenshot(driver, name):
    if not SHOTS:
        return
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height + 40, 700), 2400))
    driver.save_screenshot(os.path.join(SHOTS, name))
    driver.set_window_size(1280, 1000)
    ok(f"screenshot {name}")


def agent_checks():
    driver = browser()
    try:
        sign_in(driver, os.environ["AGENT_NAME"], os.environ["AGENT_PASSWORD"])
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.calls"), "the calls list after sign-in")
        ok("agent signed in; calls list shown")
        external = os.environ["CALL_EXTERNAL_ID"]
        link = wait_for(driver, lambda d: d.find_elements(By.LINK_TEXT, external), f"call {external} in the list")[0]
        if "CA-other" in driver.page_source:
            fail("another tenant's call is listed")
        ok(f"call {external} found; no other tenant's call listed")
        # Filters: consent outcome 'granted' keeps the call, 'denied' hides it.
        driver.get(URL + "/calls?consent=denied")
        if driver.find_elements(By.LINK_TEXT, external):
            fail("the consent filter 'denied' still lists a call with consent granted")
        driver.get(URL + "/calls?consent=granted")
        link = wait_for(driver, lambda d: d.find_elements(By.LINK_TEXT, external), "the call under consent=granted")[0]
        ok("consent filter works")
        screenshot(driver, "calls.png")
        link.click()
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "svg.timeline"), "the consent timeline picture")
        events = driver.find_element(By.CSS_SELECTOR, "table.events").text
        for expected in ("call started", "consent: consent", "caller recording started", "bot recording started", "call ended"):
            if expected not in events:
                fail(f"timeline table lacks '{expected}': {events}")
        markers = driver.find_elements(By.CSS_SELECTOR, "svg.timeline g.event")
        if not markers:
            fail("no consent event marker in the timeline picture")
        ok(f"consent timeline shown ({len(markers)} event marker(s))")
        # Level bands and segment ticks per track, styled by the stylesheet (no inline style under the CSP).
        for track in ("caller", "bot"):
            bands = driver.find_elements(By.CSS_SELECTOR, f"svg.timeline g.levels[data-track={track}] rect.level")
            ticks = driver.find_elements(By.CSS_SELECTOR, f"svg.timeline g.segments[data-track={track}] line.segment")
            if not bands or not ticks:
                fail(f"the {track} lane has {len(bands)} level band(s) and {len(ticks)} segment tick(s)")
            if not any(float(band.get_attribute("height")) > 0 for band in bands):
                fail(f"every {track} level band is flat")
            fill = driver.execute_script("return getComputedStyle(arguments[0]).fill", bands[0])
            if fill not in ("rgb(27, 94, 32)", "#1b5e20"):
                fail(f"the {track} level bands are not styled by the stylesheet: fill {fill}")
            ok(f"{track} lane: {len(bands)} level band(s), {len(ticks)} segment tick(s)")
        summary = driver.find_element(By.CSS_SELECTOR, "ul.levels").text
        if "loudest" not in summary:
            fail(f"the levels summary says no level: {summary}")
        lines = driver.find_elements(By.CSS_SELECTOR, "ol.transcript li")
        speakers = {line.find_element(By.CSS_SELECTOR, ".speaker").text.lower() for line in lines}
        if not lines or not speakers:
            fail("no transcript lines")
        ok(f"transcript shown: {len(lines)} line(s), speakers {sorted(speakers)}")
        call_url = driver.current_url
        call_id = call_url.rstrip("/").split("/")[-1].split("#")[0]
        # Playback: a reason, then the audio element gets WAV bytes from a same-origin URL.
        driver.find_element(By.ID, "reason").send_keys("customer complaint 4711")
        driver.find_element(By.CSS_SELECTOR, "form.play button").click()
        audio = wait_for(driver, lambda d: d.find_elements(By.TAG_NAME, "audio"), "the audio element after Play")[0]
        src = audio.get_attribute("src")
        if not src.startswith(URL + "/calls/") or "?" in src:
            fail(f"the audio source is not a same-origin URL without a query: {src}")
        wait_for(driver, lambda d: d.execute_script("return document.querySelector('audio').readyState >= 1"),
                 "the audio element to load its metadata")
        duration = driver.execute_script("return document.querySelector('audio').duration")
        head = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(document.querySelector('audio').src).then(r => r.arrayBuffer().then(b => {
                const bytes = new Uint8Array(b);
                done({status: r.status, type: r.headers.get('content-type'), cache: r.headers.get('cache-control'),
                      magic: String.fromCharCode(...bytes.slice(0, 4)) + String.fromCharCode(...bytes.slice(8, 12)),
                      channels: bytes[22], length: bytes.length});
            })).catch(e => done({error: String(e)}));
        """)
        if head.get("magic") != "RIFFWAVE" or head.get("channels") != 2 or head.get("type") != "audio/wav":
            fail(f"the audio URL did not give stereo WAV bytes: {head}")
        if head.get("cache") != "no-store":
            fail(f"audio served without Cache-Control: no-store: {head}")
        ok(f"audio element loaded stereo WAV ({head['length']} bytes, {duration:.1f} s), no-store")
        # The transcript follows the audio (the console's script): a line's time is a button; Enter on it
        # seeks the audio there, and the line whose span holds the audio's time is highlighted.
        seeks = driver.find_elements(By.CSS_SELECTOR, "ol.transcript li button.seek")
        if not seeks:
            fail("no seek buttons on the transcript with playback granted")
        target = seeks[len(seeks) // 2]
        start_ms = int(target.find_element(By.XPATH, "./..").get_attribute("data-start-ms"))
        target.send_keys(Keys.ENTER)
        followed = wait_for(driver, lambda d: d.execute_script("""
            const audio = document.querySelector('audio.call-audio');
            const line = document.querySelector('ol.transcript li.playing');
            if (!line) { return false; }
            audio.pause();
            const ms = audio.currentTime * 1000;
            return ms >= Number(line.dataset.startMs) && ms < Number(line.dataset.endMs)
                && line.getAttribute('aria-current') === 'true' ? ms : false;
        """), "the transcript line at the audio's time to be highlighted after Enter on a line's time")
        if followed < start_ms:
            fail(f"Enter on the line at {start_ms} ms left the audio at {followed} ms")
        ok(f"transcript follows the audio: Enter on a line's time seeked to {followed:.0f} ms and highlighted it")
        screenshot(driver, "call.png")
        session = driver.get_cookie("cv_session")["value"]
        # The audit log shows the playback with the operator; verify the chain.
        driver.get(URL + "/audit")
        audit = driver.find_element(By.CSS_SELECTOR, "table.audit").text
        if "recording.decrypted" not in audit or f"console:{os.environ['AGENT_NAME']}" not in audit \
                or "customer complaint 4711" not in audit:
            fail("no recording.decrypted entry with the operator and the reason in the audit log")
        ok("playback audited with the operator and the reason")
        driver.find_element(By.CSS_SELECTOR, "form.verify button").click()
        head_hash = wait_for(driver, lambda d: d.find_elements(By.ID, "head-hash"), "the head hash after Verify chain")[0].text
        if not re.fullmatch(r"[0-9a-f]{64}", head_hash):
            fail(f"head hash is not 64 hex digits: {head_hash}")
        ok(f"audit chain verified, head {head_hash[:16]}…")
        # The transcription queue lists the call's job, done (its transcript is on the call page).
        driver.get(URL + "/jobs")
        rows = [row for row in driver.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr")
                if row.find_elements(By.CSS_SELECTOR, f"a[href='/calls/{call_id}']")]
        if not rows or "done" not in rows[0].text:
            fail(f"the jobs page does not list the call's job as done: {[row.text for row in rows]}")
        ok("jobs page lists the call's transcription job (done)")
        # URL tampering: another tenant's call is 404, exactly like a missing one.
        other = os.environ["OTHER_CALL_ID"]
        driver.get(URL + f"/calls/{other}")
        if "Not found" not in driver.find_element(By.TAG_NAME, "h1").text:
            fail("another tenant's call page did not say Not found")
        code, _ = status(f"/calls/{other}", session)
        if code != 404:
            fail(f"another tenant's call answered {code}, not 404")
        code, _ = status(f"/calls/{other}/audio.wav", session)
        if code != 404:
            fail(f"another tenant's audio answered {code}, not 404")
        ok("another tenant's call and audio: 404")
        # CSRF: the same POST without the form's token is refused.
        code, _ = status("/audit/verify", session, method="POST", body=b"")
        if code != 403:
            fail(f"POST without a CSRF token answered {code}, not 403")
        code, _ = status(f"/calls/{call_id}/play", session, method="POST", body=b"reason=x")
        if code != 403:
            fail(f"play without a CSRF token answered {code}, not 403")
        ok("POSTs without the CSRF token: 403")
        code, headers = status(f"/calls/{call_id}", session)
        policy = headers.get("Content-Security-Policy", headers.get("content-security-policy", ""))
        if code != 200 or "default-src 'self'" not in policy:
            fail(f"call page without the strict CSP: {code} {policy}")
        ok("call page has a strict CSP")
        return call_id
    finally:
        driver.quit()


def viewer_checks(call_id):
    driver = browser()
    try:
        sign_in(driver, os.environ["VIEWER_NAME"], os.environ["VIEWER_PASSWORD"])
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.calls"), "the viewer's calls list")
        driver.get(URL + f"/calls/{call_id}")
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "svg.timeline"), "the viewer's call page")
        if not driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.level"):
            fail("a viewer sees no level bands")
        if driver.find_elements(By.ID, "reason") or driver.find_elements(By.TAG_NAME, "audio"):
            fail("a viewer sees the play form or an audio element")
        if "Viewers may not play" not in driver.page_source:
            fail("the viewer is not told why there is no playback")
        session = driver.get_cookie("cv_session")["value"]
        token = driver.execute_script("return document.querySelector('input[name=csrf]').value")
        code, _ = status(f"/calls/{call_id}/play", session, method="POST", body=f"csrf={token}&reason=curious".encode())
        if code != 403:
            fail(f"a viewer's play POST (with a valid CSRF token) answered {code}, not 403")
        ok("viewer cannot play (no form; POST refused 403)")
    finally:
        driver.quit()


def throttle_checks():
    driver = browser()
    try:
        name = os.environ["VIEWER_NAME"]
        for attempt in range(5):
            sign_in(driver, name, "not the password")
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"), "the wrong-password message")
        sign_in(driver, name, os.environ["VIEWER_PASSWORD"])
        message = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"), "the throttle message")[0].text
        if "Too many wrong passwords" not in message:
            fail(f"after 5 wrong passwords the right one was not throttled: {message}")
        ok("wrong passwords throttled (the right one refused after 5 wrong)")
    finally:
        driver.quit()


def admin_checks(call_id):
    """An admin finds the caller by number, downloads the subject export, erases with the code shown, and
    after a sweep sees the call's recordings shredded; the audit chain still verifies."""
    downloads = os.environ["DOWNLOADS"]
    os.makedirs(downloads, exist_ok=True)
    number = os.environ["CALLER_NUMBER"]
    driver = browser(downloads)
    try:
        sign_in(driver, os.environ["ADMIN_NAME"], os.environ["ADMIN_PASSWORD"])
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.calls"), "the admin's calls list")
        driver.get(URL + "/subjects")
        driver.find_element(By.ID, "s-phone").send_keys(number)
        driver.find_element(By.CSS_SELECTOR, "form.subject button").click()
        found = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.subject-calls"), "the lookup's findings")[0]
        if call_id not in found.text:
            fail(f"the lookup does not list the demo call: {found.text}")
        if number in driver.page_source or number.lstrip("+") in driver.page_source:
            fail("the caller's number is shown on the findings page")
        ok("subject lookup lists the call, without the number")
        driver.find_element(By.XPATH, "//button[normalize-space()='Download the export']").click()
        deadline = time.time() + 60
        zips = []
        while time.time() < deadline:
            zips = [name for name in os.listdir(downloads) if name.endswith(".zip")]
            if zips:
                break
            time.sleep(0.2)
        if not zips:
            fail(f"no export ZIP downloaded (downloads: {os.listdir(downloads)})")
        with zipfile.ZipFile(os.path.join(downloads, zips[0])) as archive:
            names = archive.namelist()
        if not any(name.startswith(f"calls/{call_id}/") and name.endswith(".wav") for name in names):
            fail(f"the export ZIP holds no audio of the call: {names}")
        ok(f"subject export downloaded ({len(names)} entries, the call's audio among them)")
        driver.find_element(By.XPATH, "//button[normalize-space()='Erase…']").click()
        code = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "strong.code"), "the erasure's code")[0].text
        driver.find_element(By.ID, "e-code").send_keys("WRONG-CODE")
        driver.find_element(By.XPATH, "//button[normalize-space()='Erase now']").click()
        wait_for(driver, lambda d: "The code does not match" in d.page_source, "a wrong code refused")
        code = driver.find_element(By.CSS_SELECTOR, "strong.code").text
        driver.find_element(By.ID, "e-code").send_keys(code)
        driver.find_element(By.XPATH, "//button[normalize-space()='Erase now']").click()
        wait_for(driver, lambda d: "Erasure done" in d.page_source, "the erasure's receipt")
        ok("erasure refused a wrong code, then done with the code shown")
        sweep = subprocess.run([os.environ["CALLVAULT_BIN"], "sweep", "--once", "--data", os.environ["CALLVAULT_DATA"]],
                               capture_output=True, text=True, timeout=120)
        if sweep.returncode != 0:
            fail(f"the sweep failed: {sweep.stderr[-500:]}")
        driver.get(URL + f"/calls/{call_id}")
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "svg.timeline"), "the call page after the sweep")
        shredded = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.recorded.shredded")
        if len(shredded) < 2:
            fail(f"after the sweep {len(shredded)} of the call's recordings are drawn shredded")
        if driver.find_elements(By.TAG_NAME, "audio"):
            fail("a shredded call offers audio")
        ok("after the sweep the call's recordings are shredded")
        driver.get(URL + "/audit")
        driver.find_element(By.XPATH, "//button[normalize-space()='Verify chain']").click()
        result = wait_for(driver, lambda d: d.find_elements(By.ID, "verification"), "the chain's verification")[0].text
        if not result.startswith("Chain intact"):
            fail(f"the audit chain does not verify after the erasure: {result}")
        ok("audit chain verified after the erasure")
    finally:
        driver.quit()


if __name__ == "__main__":
    call = agent_checks()
    viewer_checks(call)
    throttle_checks()
    admin_checks(call)
    print("all console browser checks passed", flush=True)
