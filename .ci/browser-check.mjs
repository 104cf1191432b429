// Drives headless Chromium through the dashboard of the `admin` example:
//   node .ci/browser-check.mjs URL PID [SCREENSHOT]
// URL is the dashboard's (token in its #fragment), PID the example's, which
// SIGUSR1 makes its `flaky` child fail. Every check reads the rendered DOM.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.cwd(), process.env.DRIVER_DIR || "target/browser-check", "/"));
const { chromium } = require("playwright-core");

const [url, pid, screenshot] = process.argv.slice(2);
// Headless, in a fresh profile that playwright makes and removes; the flags
// keep Chromium off the network, which this machine's sandbox closes.
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

function fail(message) {
  console.error(`browser check failed: ${message}`);
  process.exitCode = 1;
}

const row = (path) => `tr[data-path="${path}"]`;

const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 820 }, deviceScaleFactor: 1 });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url);

  // The tree as it nests, live, with full access.
  await page.waitForSelector(row("demo/jobs/scheduler"), { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById("conn-text").textContent === "live");
  const access = await page.textContent("#access");
  if (access !== "full access") fail(`the page says "${access}", not full access`);
  const guide = await page.textContent(`${row("demo/jobs/scheduler")} .guide`);
  if (!/[└├]─/.test(guide) || guide.length < 6) fail(`the nested child is not drawn under its supervisor: "${guide}"`);
  if (await page.locator("#token").isVisible()) fail("the token prompt is shown although the URL carried a token");
  if (page.url().includes("token=")) fail("the token stays in the address bar");

  // Make the flaky child fail, and see the page show the failure and the restart.
  const before = Number(await page.getAttribute(row("demo/flaky"), "data-restarts"));
  process.kill(Number(pid), "SIGUSR1");
  await page.waitForFunction(
    () => [...document.querySelectorAll("#events li")].some((li) => li.textContent.includes("poked by SIGUSR1")),
    null, { timeout: 10000 },
  );
  await page.waitForFunction(
    ([sel, n]) => {
      const tr = document.querySelector(sel);
      return tr && Number(tr.dataset.restarts) > n && tr.dataset.state === "running";
    },
    [row("demo/flaky"), before], { timeout: 10000 },
  );
  const restarts = Number(await page.getAttribute(row("demo/flaky"), "data-restarts"));
  const exit = await page.textContent(`${row("demo/flaky")} .last-exit`);
  if (!exit.startsWith("failed: ")) fail(`the flaky child's last exit reads "${exit}"`);
  const total = Number(await page.textContent("#n-restarts"));
  if (total < restarts) fail(`the header counts ${total} restarts, the row ${restarts}`);
  console.log(`flaky: ${before} -> ${restarts} restarts, last exit "${exit}"`);

  // The buttons command the tree: terminate (two clicks), then restart.
  const api = row("demo/api");
  await page.click(`${api} button.cmd-terminate`);
  await page.click(`${api} button.cmd-terminate`);
  await page.waitForSelector(`${api}[data-state="stopped"]`, { timeout: 10000 });
  await page.click(`${api} button.cmd-restart`);
  await page.waitForSelector(`${api}[data-state="running"]`, { timeout: 10000 });
  console.log("api: terminated and restarted from the page");

  if (screenshot) {
    // Let a failure or two land for the picture, and the toast fade.
    await page.waitForTimeout(4000);
    await page.screenshot({ path: screenshot });
    console.log(`screenshot: ${screenshot}`);
  }
  if (errors.length) fail(`the page logged errors: ${errors.join("; ")}`);
} catch (e) {
  fail(e.message + (errors.length ? ` (the page logged: ${errors.join("; ")})` : ""));
} finally {
  await browser.close();
}
