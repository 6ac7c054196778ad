// Server rendering and hydration of a Leptos app using the rivet-leptos hooks (tests/ssr-app),
// against the real server:
//   * the server renders the page many times with one shared client: /stats shows no live
//     connection and none ever opened, and the actor sees no connection from the renders;
//   * Chromium hydrates the page: it connects exactly once (the actor's `connCount`), the
//     hydrated button works, and the console shows no hydration warning, error or panic.
//
// Run through scripts/e2e.sh (`bash scripts/e2e.sh ssr`): it builds the app's server
// (SSR_APP_BIN, `--features ssr`) and its browser bundle (SSR_APP_PKG, `--features hydrate`).

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

import { action, env, screenshot, sleep, spec, unique, until, waitFor } from "./lib.mjs";

const bin = process.env.SSR_APP_BIN;
const pkg = process.env.SSR_APP_PKG;
const RENDERS = 50;

/** Starts the SSR app's server; resolves with its base URL and a `stop()`. */
async function startApp() {
  if (!bin || !pkg) throw new Error("SSR_APP_BIN / SSR_APP_PKG not set (run through scripts/e2e.sh)");
  const child = spawn(bin, [pkg, env.endpoint], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("rivet-ssr-app did not start within 30 s")), 30000);
    lines.on("line", (line) => {
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => fail(new Error(`rivet-ssr-app exited with ${code}`)));
  });
  const stop = () =>
    new Promise((ok) => {
      if (child.exitCode !== null) return ok();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.on("exit", () => {
        clearTimeout(timer);
        ok();
      });
      child.stdin.end(); // it runs until its stdin closes
    });
  return { url, stop };
}

const stats = async (app) => (await fetch(`${app.url}/stats`)).json();

await spec("ssr", async ({ browser, step }) => {
  const app = await startApp();
  try {
    const key = unique("ssr-e2e");
    const url = `${app.url}/?${new URLSearchParams({ endpoint: env.endpoint, key })}`;

    await step(`${RENDERS} server renders open nothing`, async () => {
      for (let i = 0; i < RENDERS; i++) {
        const res = await fetch(url);
        const html = await res.text();
        if (res.status !== 200) throw new Error(`render ${i}: HTTP ${res.status}`);
        if (!html.includes('id="status">idle<')) throw new Error(`render ${i} does not show idle: ${html}`);
      }
      const seen = await stats(app);
      if (seen.renders < RENDERS) throw new Error(`only ${seen.renders} renders counted`);
      if (seen.live_connections !== 0 || seen.opened_total !== 0) {
        throw new Error(`the server's client connected: ${JSON.stringify(seen)}`);
      }
      // This call's own ephemeral connection is the actor's only one.
      const conns = await action("counter", [key], "connCount");
      if (conns !== 1) throw new Error(`the actor has ${conns} connections after the renders, expected 1 (this call)`);
    });

    const page = await browser.newPage();
    const console_ = [];
    page.on("console", (msg) => console_.push(`${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => console_.push(`pageerror: ${err.message}`));

    await step("the page hydrates and connects exactly once", async () => {
      await page.goto(url);
      await until("hydrated", () => page.evaluate(() => window.__hydrated === true), 30000);
      await waitFor(page, "#status", (t) => t === "connected", 40000);
      // The page's WebSocket plus this call's own connection, and it stays so.
      await until("the actor sees the page", async () => (await action("counter", [key], "connCount")) === 2);
      await sleep(2000);
      const conns = await action("counter", [key], "connCount");
      if (conns !== 2) throw new Error(`the actor has ${conns} connections, expected 2 (the page once, and this call)`);
    });

    await step("the hydrated button works", async () => {
      await page.click("#increment");
      await waitFor(page, "#count", (t) => t === "1");
    });
    await screenshot(page, "ssr-hydrated");

    await step("no hydration warning, error or panic in the console", async () => {
      const bad = console_.filter((line) =>
        /^(warning|error|pageerror):/.test(line) || /hydrat|mismatch|panicked/i.test(line),
      );
      if (bad.length) throw new Error(`console:\n    ${bad.join("\n    ")}`);
    });

    await step("the server's client still opened nothing", async () => {
      const seen = await stats(app);
      if (seen.live_connections !== 0 || seen.opened_total !== 0) {
        throw new Error(`the server's client connected: ${JSON.stringify(seen)}`);
      }
    });
    await page.close();
  } finally {
    await app.stop();
  }
});
