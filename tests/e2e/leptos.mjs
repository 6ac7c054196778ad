// Browser end-to-end test of the Leptos web examples (rivet-leptos) in headless Chromium
// against the real server: the counter updates across two pages; two chat pages exchange
// messages; a wrong token shows the room's rejection; dropping every socket at the fault proxy
// shows `disconnected` then `connected` and the app keeps working; unmounting the counter
// closes its connection (counted on the server with the counter's `connCount`, which includes
// the HTTP call's own ephemeral connection).
//
// Run through scripts/e2e.sh (`bash scripts/e2e.sh leptos`): it builds target/web and starts
// the server + proxy. Screenshots go to $ARTIFACTS (default target/e2e-artifacts).

import {
  action,
  control,
  env,
  messages,
  pageUrl,
  recordStatuses,
  screenshot,
  serveStatic,
  spec,
  statuses,
  unique,
  until,
  waitFor,
} from "./lib.mjs";

// Generous: creating a fresh actor on a busy machine has taken over 15 s.
const connected = (page) => waitFor(page, "#status", (t) => t === "connected", 40000);

async function send(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

await spec("leptos", async ({ browser, step }) => {
  const counterSite = await serveStatic(`${env.webDist}/leptos-counter`);
  const chatSite = await serveStatic(`${env.webDist}/leptos-chat`);
  try {
    // The counter, in two pages: each sees the other's increments through `newCount`.
    const key = unique("leptos-e2e-counter");
    const url = pageUrl(counterSite, { endpoint: env.endpoint, key });
    const a = await browser.newPage();
    const b = await browser.newPage();
    await step("two counter pages connect", async () => {
      await Promise.all([a.goto(url), b.goto(url)]);
      await Promise.all([connected(a), connected(b)]);
      await waitFor(a, "#count", (t) => t === "0");
    });
    await step("an increment in one page shows in the other", async () => {
      await a.click("#increment");
      await waitFor(b, "#count", (t) => t === "1");
      await b.click("#increment5");
      await waitFor(a, "#count", (t) => t === "6");
      await waitFor(b, "#count", (t) => t === "6");
      const server = await action("counter", [key], "getCount");
      if (server !== 6) throw new Error(`server count ${server}, expected 6`);
    });
    await screenshot(a, "leptos-counter-page-a");
    await screenshot(b, "leptos-counter-page-b");
    await b.close();

    // Unmounting the component closes the shared connection (after the 1 s grace period).
    await step("unmounting the counter closes its connection", async () => {
      // The page's WebSocket plus this call's own connection.
      await until("server sees the page", async () => (await action("counter", [key], "connCount")) === 2);
      await a.click("#toggle");
      await waitFor(a, "#unmounted", (t) => t === "unmounted");
      await until("server sees no page", async () => (await action("counter", [key], "connCount")) === 1);
      await screenshot(a, "leptos-counter-unmounted");
      await a.click("#toggle");
      await connected(a);
      await waitFor(a, "#count", (t) => t === "6");
      await until("server sees the page again", async () => (await action("counter", [key], "connCount")) === 2);
    });
    await a.close();

    // Through the fault proxy: every socket dropped, the page reconnects and keeps working.
    if (env.proxyEndpoint && env.control) {
      const faultKey = unique("leptos-e2e-fault");
      const page = await browser.newPage();
      await step("a dropped socket shows disconnected, then connected again", async () => {
        await page.goto(pageUrl(counterSite, { endpoint: env.proxyEndpoint, key: faultKey }));
        await connected(page);
        await recordStatuses(page);
        // Refuse new connections while dropping the live one, so the outage lasts long
        // enough to be seen (an immediate successful reconnect can skip the render).
        await control("refuse/on");
        try {
          await control("drop");
          await waitFor(page, "#status", (t) => t === "disconnected", 20000);
          await screenshot(page, "leptos-counter-disconnected");
        } finally {
          await control("refuse/off");
        }
        await connected(page);
        const seen = await statuses(page);
        const down = seen.indexOf("disconnected");
        if (down < 0 || seen.indexOf("connected", down) < 0) {
          throw new Error(`statuses seen: ${seen.join(" -> ")}`);
        }
        await screenshot(page, "leptos-counter-after-drop");
      });
      await step("the app keeps working after the reconnect", async () => {
        await page.click("#increment");
        await waitFor(page, "#count", (t) => t === "1");
        const server = await action("counter", [faultKey], "getCount");
        if (server !== 1) throw new Error(`server count ${server}, expected 1`);
      });
      await page.close();
    } else {
      console.log("  skip fault proxy steps (RIVET_PROXY_ENDPOINT / RIVET_CONTROL not set)");
    }

    // Chat: two users in one room exchange messages.
    const room = unique("leptos-e2e-room");
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    await step("two chat pages join one room", async () => {
      await alice.goto(pageUrl(chatSite, { endpoint: env.endpoint, room, user: "alice" }));
      await bob.goto(pageUrl(chatSite, { endpoint: env.endpoint, room, user: "bob" }));
      await Promise.all([connected(alice), connected(bob)]);
    });
    await step("messages reach the other page", async () => {
      await send(alice, "hello from alice");
      await until("bob sees alice", async () => (await messages(bob)).includes("alice: hello from alice"));
      await send(bob, "hi alice");
      await until("alice sees bob", async () => {
        const seen = await messages(alice);
        return seen.join("|") === "alice: hello from alice|bob: hi alice";
      });
    });
    await screenshot(alice, "leptos-chat-alice");
    await screenshot(bob, "leptos-chat-bob");

    // A wrong token: the room's onBeforeConnect rejects the params and the page says so.
    const mallory = await browser.newPage();
    await step("a wrong token shows the rejection", async () => {
      await mallory.goto(pageUrl(chatSite, { endpoint: env.endpoint, room, user: "mallory", token: "wrong" }));
      await waitFor(mallory, "#error", (t) => /bad token|unauthorized/.test(t), 20000);
      const status = (await mallory.locator("#status").textContent()).trim();
      if (status === "connected") throw new Error("connected with a wrong token");
    });
    await screenshot(mallory, "leptos-chat-rejected");
    await step("joining again with the right token works", async () => {
      await mallory.fill("#token", "secret");
      await mallory.click("#join-button");
      await connected(mallory);
      await until("history loaded", async () => (await messages(mallory)).length === 2);
      await waitFor(mallory, "#error", (t) => t === "");
    });
    await screenshot(mallory, "leptos-chat-rejoined");
  } finally {
    await counterSite.close();
    await chatSite.close();
  }
});
