// Browser end-to-end test of the Dioxus web examples (rivet-dioxus) in headless Chromium
// against the real server: the counter connects and counts (checked on the server), two chat
// pages exchange messages, a wrong token shows the rejection, and the status recovers after
// the fault proxy drops every socket. Run through scripts/e2e.sh (it builds target/web and
// starts the server + proxy); by hand: build with `bash scripts/build-web.sh dioxus-counter
// dioxus-chat`, start `rivet-test-server`, export RIVET_ENDPOINT/RIVET_PROXY_ENDPOINT/
// RIVET_CONTROL from its output, then `node tests/e2e/dioxus-web.mjs`.

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

async function send(page, text) {
  await page.fill("#draft", text);
  await page.click("#send");
}

await spec("dioxus-web", async ({ browser, step }) => {
  const counterSite = await serveStatic(`${env.webDist}/dioxus-counter`);
  const chatSite = await serveStatic(`${env.webDist}/dioxus-chat`);
  try {
    // Counter: connects, counts, and the count is the server's.
    const key = unique("dx-web-counter");
    const counter = await browser.newPage();
    await counter.goto(pageUrl(counterSite, { endpoint: env.endpoint, key }));
    await step("counter connects", () => waitFor(counter, "#status", (t) => t === "connected", 30000));
    await step("counter shows 0", () => waitFor(counter, "#count", (t) => t === "0"));
    await counter.click("#increment");
    await counter.click("#increment");
    await step("count 2 from newCount events", () => waitFor(counter, "#count", (t) => t === "2"));
    await step("server count is 2", () => until("getCount = 2", async () => (await action("counter", key, "getCount")) === 2));
    await action("counter", key, "increment", [10]);
    await step("update from another client arrives", () => waitFor(counter, "#count", (t) => t === "12"));
    await screenshot(counter, "dioxus-web-counter");

    // Chat: two pages in one room exchange messages (through the fault proxy when available).
    const chatEndpoint = env.proxyEndpoint || env.endpoint;
    const room = unique("dx-web-room");
    const ada = await browser.newPage();
    const bob = await browser.newPage();
    await ada.goto(pageUrl(chatSite, { endpoint: chatEndpoint, room, user: "ada" }));
    await bob.goto(pageUrl(chatSite, { endpoint: chatEndpoint, room, user: "bob" }));
    await step("both chat pages connect", async () => {
      await waitFor(ada, "#status", (t) => t === "connected", 30000);
      await waitFor(bob, "#status", (t) => t === "connected", 30000);
    });
    await send(ada, "hello from ada");
    await step("bob receives ada's message", () =>
      until("bob sees ada", async () => (await messages(bob)).some((m) => m === "ada: hello from ada")));
    await send(bob, "hi ada");
    await step("ada receives bob's reply", () =>
      until("ada sees bob", async () => (await messages(ada)).some((m) => m === "bob: hi ada")));

    // A late joiner gets the history from getHistory.
    const eve = await browser.newPage();
    await eve.goto(pageUrl(chatSite, { endpoint: chatEndpoint, room, user: "eve" }));
    await step("history loads for a late joiner", () =>
      until("eve sees history", async () => (await messages(eve)).length >= 2, 30000));
    await eve.close();

    // A wrong token is rejected by the actor, and the page says so.
    const mallory = await browser.newPage();
    await mallory.goto(pageUrl(chatSite, { endpoint: env.endpoint, room, user: "mallory", token: "nope" }));
    await step("wrong token shows the rejection", () =>
      waitFor(mallory, "#error", (t) => /rejected|bad token|unauthorized/i.test(t), 30000));
    await screenshot(mallory, "dioxus-web-chat-rejected");
    await mallory.close();

    // The proxy drops every socket: status leaves `connected`, comes back, and chat still works.
    if (env.proxyEndpoint && env.control) {
      await recordStatuses(ada);
      await recordStatuses(bob);
      await control("drop");
      await step("status recovers after the socket is dropped", async () => {
        for (const page of [ada, bob]) {
          await until("a non-connected status was shown", async () =>
            (await statuses(page)).some((s) => s !== "connected"), 15000);
          await waitFor(page, "#status", (t) => t === "connected", 30000);
        }
      });
      await send(ada, "after the drop");
      await step("messages flow after recovery", () =>
        until("bob sees the post-drop message", async () => (await messages(bob)).includes("ada: after the drop")));
    } else {
      console.log("  skip socket drop: RIVET_PROXY_ENDPOINT / RIVET_CONTROL not set (run through scripts/e2e.sh)");
    }
    await screenshot(ada, "dioxus-web-chat-ada");
    await screenshot(bob, "dioxus-web-chat-bob");
  } finally {
    await counterSite.close();
    await chatSite.close();
  }
});
