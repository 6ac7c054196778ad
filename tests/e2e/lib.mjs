// Shared helpers for the browser end-to-end specs in tests/e2e/*.mjs (run by scripts/e2e.sh).
//
// Framework-neutral: a spec for any web example (Leptos, Dioxus, …) imports what it needs:
//
//   import { env, serveStatic, launchBrowser, screenshot, waitFor, spec, control } from "./lib.mjs";
//
//   await spec("dioxus-web", async ({ browser, step }) => {
//     const site = await serveStatic(`${env.webDist}/dioxus-counter`);
//     const page = await browser.newPage();
//     await page.goto(`${site.url}/?endpoint=${encodeURIComponent(env.endpoint)}`);
//     await step("shows connected", () => waitFor(page, "#status", (t) => t === "connected"));
//     await screenshot(page, "dioxus-counter-connected");
//     await site.close();
//   });
//
// Environment (set by scripts/e2e.sh; every wait below is bounded):
//   RIVET_ENDPOINT        the real server's gateway            (env.endpoint)
//   RIVET_PROXY_ENDPOINT  the same gateway through a TCP proxy  (env.proxyEndpoint)
//   RIVET_CONTROL         the proxy's control endpoint: GET /drop, /refuse/{on,off}, /stats
//   WEB_DIST              built web examples, one directory per crate (target/web)
//   ARTIFACTS             where screenshots go (default target/e2e-artifacts)
//   CHROMIUM              the browser binary (default /usr/bin/chromium)

import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The run's environment, with defaults for running a spec by hand. */
export const env = {
  endpoint: process.env.RIVET_ENDPOINT ?? "http://127.0.0.1:6420",
  proxyEndpoint: process.env.RIVET_PROXY_ENDPOINT ?? "",
  control: process.env.RIVET_CONTROL ?? "",
  webDist: process.env.WEB_DIST ?? join(repoRoot, "target/web"),
  artifacts: process.env.ARTIFACTS ?? join(repoRoot, "target/e2e-artifacts"),
  chromium: process.env.CHROMIUM ?? "/usr/bin/chromium",
};

const mimeTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * Serves the directory `root` on 127.0.0.1 at a port the OS picks. Unknown paths without an
 * extension fall back to index.html (client-side routing).
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function serveStatic(root) {
  const base = resolve(root);
  await stat(join(base, "index.html")); // fail early, with the path, if the build is missing
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      let file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end();
        return;
      }
      let info = await stat(file).catch(() => null);
      if (info?.isDirectory()) {
        file = join(file, "index.html");
        info = await stat(file).catch(() => null);
      }
      if (!info && extname(file) === "") {
        file = join(base, "index.html");
        info = await stat(file).catch(() => null);
      }
      if (!info) {
        res.writeHead(404).end("not found");
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": mimeTypes[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

/**
 * Launches headless Debian Chromium (no downloads, no network beyond loopback) with a fresh
 * profile. `browser.close()` also removes the profile.
 */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "rivet-e2e-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: env.chromium,
    headless: true,
    viewport: { width: 900, height: 700 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

/** Saves a full-page PNG of `page` as `$ARTIFACTS/<name>.png` and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(env.artifacts, { recursive: true });
  const path = join(env.artifacts, `${name.replace(/[^\w.-]+/g, "_")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Waits (at most `timeoutMs`) until the text of the first element matching `selector`
 * satisfies `predicate`; returns that text. The error names the last text seen.
 */
export async function waitFor(page, selector, predicate, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last = "<no element>";
  while (Date.now() < deadline) {
    const text = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 500 })
      .catch(() => null);
    if (text !== null) {
      last = text.trim();
      if (predicate(last)) return last;
    }
    await sleep(100);
  }
  throw new Error(`${selector}: condition not met within ${timeoutMs} ms (last text: ${JSON.stringify(last)})`);
}

/** Polls async `check` every 100 ms until it returns a truthy value (at most `timeoutMs`). */
export async function until(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not true within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ""}`);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Drives the fault proxy of rivet-test-server: `control("drop")`, `control("refuse/on")`, … */
export async function control(path) {
  if (!env.control) throw new Error("RIVET_CONTROL is not set (run through scripts/e2e.sh)");
  const res = await fetch(`${env.control}/${path}`);
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}`);
  return res.text();
}

/**
 * Calls an actor action over HTTP (a stateless call, its own ephemeral connection):
 * `await action("counter", ["k"], "getCount", [])`.
 */
export async function action(name, key, actionName, args = [], endpoint = env.endpoint) {
  const query = new URLSearchParams({
    "rvt-namespace": "default",
    "rvt-method": "getOrCreate",
    "rvt-key": (Array.isArray(key) ? key : [key]).join(","),
    "rvt-runner": "default",
    "rvt-crash-policy": "sleep",
  });
  const url = `${endpoint}/gateway/${encodeURIComponent(name)}/action/${encodeURIComponent(actionName)}?${query}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-rivet-encoding": "json" },
    body: JSON.stringify({ args }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${name}.${actionName}: HTTP ${res.status} ${text}`);
  return JSON.parse(text).output;
}

/**
 * Runs one spec: launches the browser, gives `body` a `step(name, fn)` that logs and times
 * each step, screenshots every open page on failure, closes the browser, and sets a non-zero
 * exit code if anything failed. Pages the spec opens are tracked for the failure screenshots.
 */
export async function spec(name, body) {
  const started = Date.now();
  console.log(`# ${name}`);
  const browser = await launchBrowser();
  const failures = [];
  const step = async (label, fn) => {
    const t0 = Date.now();
    try {
      const value = await fn();
      console.log(`  ok   ${label} (${Date.now() - t0} ms)`);
      return value;
    } catch (err) {
      console.log(`  FAIL ${label}: ${err?.message ?? err}`);
      failures.push(label);
      throw err;
    }
  };
  try {
    await body({ browser, step });
  } catch (err) {
    if (failures.length === 0) {
      console.log(`  FAIL ${name}: ${err?.stack ?? err}`);
      failures.push(name);
    }
    let i = 0;
    for (const page of browser.pages()) {
      await screenshot(page, `${name}-failure-${i++}`).catch(() => {});
    }
  } finally {
    await browser.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length) {
    console.log(`# ${name}: FAILED (${failures.join(", ")}) in ${secs} s`);
    process.exitCode = 1;
  } else {
    console.log(`# ${name}: passed in ${secs} s`);
  }
}

/** A key no earlier run used: `prefix-<time>-<random>`. */
export const unique = (prefix) =>
  `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;

/** The URL of a served example with `params` as its query. */
export const pageUrl = (site, params) => `${site.url}/?${new URLSearchParams(params)}`;

/** Records every text #status shows, so a short-lived state is not missed; read with `statuses`. */
export async function recordStatuses(page) {
  await page.evaluate(() => {
    window.__statuses = [];
    const seen = () => {
      const text = document.querySelector("#status")?.textContent?.trim();
      if (text && window.__statuses.at(-1) !== text) window.__statuses.push(text);
    };
    new MutationObserver(seen).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
    seen();
  });
}

/** Every #status text seen since `recordStatuses`. */
export const statuses = (page) => page.evaluate(() => window.__statuses);

/** The chat examples' message list. */
export const messages = (page) => page.locator("#messages li").allTextContents();
