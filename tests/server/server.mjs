// Real RivetKit 2.3.19 server used by the rivet-rs integration tests.
//
// Started by `rivet-test-support` (tests/support) as `node server.mjs` with:
//   RIVET_RUN_ENGINE_PORT=P        gateway P, api-peer P+1, metrics P+10 (read by rivetkit)
//   RIVET_RUN_ENGINE_HOST=127.0.0.1
//   RIVETKIT_STORAGE_PATH=<dir>    all engine state under <dir>/.rivetkit/var (read by rivetkit)
//   RIVET_RUN_SERVICES=0           no rivet-services on the fixed port 8642
//   RIVET_TEST_PARENT_PID=<pid>    optional: exit (and take the engine down) when that pid is gone
//
// Process model: rivetkit spawns `rivet-engine` in its own process group, so it does NOT die with
// node. This script therefore owns the engine's lifetime:
//   * SIGTERM / SIGINT  -> drain the registry (bounded), SIGTERM the engine, wait, exit.
//   * SIGUSR2           -> drain the registry (bounded) and exit, LEAVING THE ENGINE RUNNING
//                          (used to simulate "actor runtime down, engine up").
//   * parent pid gone   -> SIGTERM the engine, wait, remove the data dir if
//                          RIVET_TEST_REMOVE_DATA_ON_ORPHAN=1, exit (watchdog, 250 ms poll).
// The engine pid is read from $RIVETKIT_STORAGE_PATH/.rivetkit/var/engine/runtime.json and
// checked against /proc/<pid>/cmdline before any signal is sent (pid-reuse safety).
// Startup: prints "[server.mjs] registry ready" once the envoy registered; exits 1 if it cannot.

import { actor, event, queue, setup, UserError } from "rivetkit";
import { killEngine, removeDataDirIfOrphaned, sleep, watchParent } from "./lifecycle.mjs";

// ---------------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------------

/** JS type name of a value as seen by the actor after decoding. */
function typeName(v) {
	if (v === null) return "null";
	if (Array.isArray(v)) return "array";
	const t = typeof v;
	if (t !== "object") return t;
	const ctor = v.constructor?.name;
	if (!ctor || ctor === "Object") return "object";
	return ctor;
}

function whoAmI(c) {
	return {
		connId: c.conn?.id ?? null,
		params: c.conn?.params ?? null,
		key: c.key,
		name: c.name,
		actorId: c.actorId,
	};
}

const counter = actor({
	state: { count: 0 },
	actions: {
		increment: (c, x) => {
			c.state.count += x;
			c.broadcast("newCount", c.state.count);
			return c.state.count;
		},
		getCount: (c) => c.state.count,
		echo: (_c, ...args) => args,
		types: (_c, ...args) => args.map(typeName),
		slow: async (_c, ms) => {
			await sleep(ms);
			return ms;
		},
		boom: () => {
			throw new UserError("boom happened", {
				code: "boom_code",
				metadata: { a: 1, b: "two" },
			});
		},
		boomPlain: () => {
			throw new UserError("plain user error");
		},
		crash: () => {
			throw new Error("secret internal crash detail");
		},
		sendToMe: (c, msg) => {
			c.conn.send("direct", msg, "second-arg");
			return true;
		},
		multiArgEvent: (c) => {
			c.broadcast("multi", 1, "two", { three: 3 });
			return true;
		},
		broadcast: (c, name, ...args) => {
			c.broadcast(name, ...args);
			return true;
		},
		emitMany: (c, n) => {
			for (let i = 0; i < n; i++) c.broadcast("tick", i);
			return n;
		},
		big: (_c, n) => "x".repeat(n),
		whoAmI: (c) => whoAmI(c),
		disconnectMe: async (c) => {
			await c.conn.disconnect("bye-reason");
			return true;
		},
		// Includes the caller's own connection (an HTTP action is an ephemeral connection).
		connCount: (c) => c.conns.size,
		bigint: () => 2n ** 64n + 5n,
		bytes: () => new Uint8Array([1, 2, 3]),
	},
	onRequest: async (_c, req) => {
		const body = await req.text();
		return new Response(
			JSON.stringify({
				method: req.method,
				url: req.url,
				headers: Object.fromEntries(req.headers.entries()),
				body,
			}),
			{
				status: 200,
				headers: { "content-type": "application/json", "x-from-actor": "yes" },
			},
		);
	},
	onWebSocket: (_c, ws) => {
		ws.addEventListener("message", (ev) => {
			try {
				ws.send(ev.data);
			} catch (err) {
				console.error("raw ws echo failed", err);
			}
		});
		ws.send("hello");
	},
});

const withInput = actor({
	createState: (c, input) => ({ input: input ?? null, key: c.key }),
	actions: {
		getInput: (c) => c.state.input,
		getKey: (c) => c.state.key,
	},
});

const chatRoom = actor({
	state: { history: [] },
	onBeforeConnect: (_c, params) => {
		if (params?.token !== "secret") {
			throw new UserError("bad token", {
				code: "unauthorized",
				metadata: { got: params?.token ?? null },
			});
		}
	},
	createConnState: (_c, params) => ({ user: params?.user ?? null }),
	onConnect: (c, conn) => {
		c.broadcast("joined", conn.state?.user ?? null);
	},
	onDisconnect: (c, conn) => {
		c.broadcast("left", conn.state?.user ?? null);
	},
	actions: {
		sendMessage: (c, text) => {
			const entry = { user: c.conn.state?.user ?? null, text };
			c.state.history.push(entry);
			c.broadcast("message", entry);
			return entry;
		},
		getHistory: (c) => c.state.history,
		connCount: (c) => c.conns.size,
	},
});

const worker = actor({
	state: { processed: 0 },
	queues: { jobs: queue() },
	run: async (c) => {
		for await (const m of c.queue.iter({ completable: true })) {
			c.state.processed += 1;
			await m.complete({ done: m.body });
		}
	},
	actions: {
		processed: (c) => c.state.processed,
	},
});

const sleepy = actor({
	state: { wakes: 0, sleeps: 0 },
	options: { sleepTimeout: 2000 },
	onWake: (c) => {
		c.state.wakes += 1;
	},
	onSleep: (c) => {
		c.state.sleeps += 1;
	},
	actions: {
		stats: (c) => ({ wakes: c.state.wakes, sleeps: c.state.sleeps }),
	},
	// Raw handlers that report the lifecycle counters (skip_ready_wait tests).
	onRequest: (c, req) =>
		new Response(
			JSON.stringify({
				wakes: c.state.wakes,
				sleeps: c.state.sleeps,
				skip: req.headers.get("x-rivet-skip-ready-wait"),
			}),
			{ headers: { "content-type": "application/json" } },
		),
	onWebSocket: (c, ws) => {
		ws.send(JSON.stringify({ wakes: c.state.wakes, sleeps: c.state.sleeps }));
	},
});

// Sleeps after 1 s idle and takes 3 s to do it (its sleep grace period): a request that
// skips the ready wait reaches that stopping instance (skip_ready_wait tests).
const slowSleep = actor({
	state: { wakes: 0, sleeps: 0 },
	options: { sleepTimeout: 1000 },
	onWake: (c) => {
		c.state.wakes += 1;
	},
	onSleep: async (c) => {
		c.state.sleeping = true;
		await sleep(3000);
		c.state.sleeps += 1;
		c.state.sleeping = false;
	},
	actions: {
		stats: (c) => ({ wakes: c.state.wakes, sleeps: c.state.sleeps }),
	},
	onRequest: (c) =>
		new Response(
			JSON.stringify({ wakes: c.state.wakes, sleeps: c.state.sleeps, sleeping: !!c.state.sleeping }),
			{ headers: { "content-type": "application/json" } },
		),
	onWebSocket: (c, ws) => {
		ws.send(
			JSON.stringify({ wakes: c.state.wakes, sleeps: c.state.sleeps, sleeping: !!c.state.sleeping }),
		);
	},
});

const guarded = actor({
	state: {},
	events: {
		secret: event({ canSubscribe: (c) => c.conn?.params?.admin === true }),
		open: event(),
	},
	actions: {
		emitBoth: (c) => {
			c.broadcast("secret", "s");
			c.broadcast("open", "o");
			return true;
		},
	},
});

// Sends every new connection an event of its own from onConnect: it reaches the socket right
// after Init, before the client could subscribe to anything.
const greeter = actor({
	state: { greeted: 0 },
	onConnect: (c, conn) => {
		c.state.greeted += 1;
		conn.send("welcome", `hello #${c.state.greeted}`);
	},
	actions: {
		greeted: (c) => c.state.greeted,
		// Closes the caller's connection (1000): the client reconnects and is greeted again.
		leave: async (c) => {
			await c.conn.disconnect("leaving");
		},
	},
});

const registry = setup({
	use: { counter, withInput, chatRoom, worker, sleepy, guarded, slowSleep, greeter },
	// This script owns SIGTERM/SIGINT so that it can also take the detached engine down.
	shutdown: { disableSignalHandlers: true },
});

// ---------------------------------------------------------------------------------------------
// Process lifetime (see the header comment and lifecycle.mjs)
// ---------------------------------------------------------------------------------------------

async function drainRegistry(ms) {
	await Promise.race([registry.shutdown().catch(() => {}), sleep(ms)]);
}

// One exit sequence; a later request (e.g. the parent dying during a SIGUSR2 drain) can still
// widen it: skip the drain, also stop the engine, also remove the data dir.
let exiting = null;
async function exitWith(code, { drain, engine, orphaned = false }) {
	if (exiting) {
		exiting.engine ||= engine;
		exiting.orphaned ||= orphaned;
		if (!drain) exiting.skipDrain?.();
		return;
	}
	exiting = { engine, orphaned, skipDrain: null };
	if (drain) {
		await Promise.race([
			drainRegistry(2500),
			new Promise((resolve) => {
				exiting.skipDrain = resolve;
			}),
		]);
	}
	if (exiting.engine) await killEngine();
	if (exiting.orphaned) removeDataDirIfOrphaned();
	process.exit(code);
}

process.on("SIGTERM", () => exitWith(0, { drain: true, engine: true }));
process.on("SIGINT", () => exitWith(0, { drain: true, engine: true }));
process.on("SIGUSR2", () => exitWith(0, { drain: true, engine: false }));

watchParent(() => exitWith(0, { drain: false, engine: true, orphaned: true }));

registry.startAndWait().then(
	() => console.log("[server.mjs] registry ready"),
	(err) => {
		console.error("[server.mjs] registry failed to start", err);
		exitWith(1, { drain: false, engine: true });
	},
);
