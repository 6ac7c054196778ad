// Benchmark contender: the JS client (`rivetkit/client` 2.3.19) in node, default encoding (bare).
//
//   node --expose-gc bench.mjs <endpoint> <figure> <count> <key>
//
// Prints exactly one JSON line: {"figure":…,"ok":true,<metrics>} or {"figure":…,"ok":false,
// "error":…}. Same contract and same measurements as the Rust contenders in
// benches/rivet-bench (see its lib.rs); traffic only to the 127.0.0.1 endpoint given.

import { createClient } from "rivetkit/client";

const IN_FLIGHT = 200;
const EVENTS_DEADLINE_MS = 60_000;

const [endpoint, figure, countArg, key] = process.argv.slice(2);
const n = Number(countArg);

function emit(result) {
	process.stdout.write(`${JSON.stringify({ figure: figure ?? "?", ...result })}\n`);
}

function latency(samples) {
	samples.sort((a, b) => a - b);
	const pick = (p) => samples[Math.min(samples.length, Math.max(1, Math.ceil((p / 100) * samples.length))) - 1];
	return { p50_us: pick(50), p99_us: pick(99), n: samples.length };
}

const now = () => process.hrtime.bigint();
const us = (start) => Number(now() - start) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuUs = () => {
	const u = process.cpuUsage();
	return u.user + u.system;
};
const rss = () => {
	globalThis.gc?.();
	return process.memoryUsage().rss;
};

async function open(handle) {
	const conn = handle.connect();
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error("connection did not open in 60 s")), 60_000);
		conn.onOpen(() => {
			clearTimeout(timer);
			resolve();
		});
	});
	return conn;
}

async function pipeline(conn, total) {
	let started = 0;
	const worker = async () => {
		while (started < total) {
			started++;
			await conn.getCount();
		}
	};
	await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, worker));
}

const figures = {
	async http_latency(handle) {
		for (let i = 0; i < 20; i++) await handle.getCount();
		const samples = [];
		for (let i = 0; i < n; i++) {
			const start = now();
			await handle.getCount();
			samples.push(us(start));
		}
		return latency(samples);
	},

	async conn_latency(handle) {
		const conn = await open(handle);
		for (let i = 0; i < 50; i++) await conn.getCount();
		const samples = [];
		for (let i = 0; i < n; i++) {
			const start = now();
			await conn.getCount();
			samples.push(us(start));
		}
		await conn.dispose();
		return latency(samples);
	},

	async pipelined(handle) {
		const conn = await open(handle);
		await pipeline(conn, 2 * IN_FLIGHT);
		const cpuBefore = cpuUs();
		const start = now();
		await pipeline(conn, n);
		const elapsed = us(start);
		const cpu = cpuUs() - cpuBefore;
		await conn.dispose();
		return { ops_per_s: n / (elapsed / 1e6), cpu_us_per_action: cpu / n };
	},

	async events(handle) {
		const conn = await open(handle);
		let received = 0;
		let target = Infinity;
		let done = () => {};
		conn.on("tick", () => {
			received++;
			if (received === target) done();
		});
		let result;
		for (const [round, count] of [100, n].entries()) {
			received = 0;
			target = count;
			const all = new Promise((resolve, reject) => {
				done = resolve;
				setTimeout(() => reject(new Error(`only ${received} of ${count} events`)), EVENTS_DEADLINE_MS).unref();
			});
			const start = now();
			await conn.emitMany(count);
			if (received < count) await all;
			const elapsed = us(start);
			if (round === 1) result = { events_per_s: count / (elapsed / 1e6) };
		}
		await conn.dispose();
		return result;
	},

	async connect_first(handle) {
		const samples = [];
		for (let i = 0; i < n + 5; i++) {
			const start = now();
			const conn = handle.connect();
			await conn.getCount();
			const elapsed = us(start);
			await conn.dispose();
			if (i >= 5) samples.push(elapsed);
		}
		return latency(samples);
	},

	async idle_memory(handle) {
		const warm = await open(handle);
		await warm.getCount();
		await sleep(500);
		const before = rss();
		// In batches of 100, as the Rust contenders: a burst of thousands of upgrades at once
		// overwhelms the local engine.
		const opened = [];
		while (opened.length < n) {
			const batch = [];
			for (let i = 0; i < Math.min(100, n - opened.length); i++) batch.push(open(handle));
			opened.push(...(await Promise.all(batch)));
		}
		await sleep(1000);
		const after = rss();
		await Promise.all(opened.map((c) => c.dispose()));
		await warm.dispose();
		return {
			rss_bytes_per_conn: Math.max(0, after - before) / n,
			rss_before: before,
			rss_after: after,
		};
	},
};

async function main() {
	if (!endpoint?.startsWith("http://127.0.0.1:") || !figures[figure] || !(n > 0) || !key) {
		throw new Error("usage: bench.mjs <http://127.0.0.1:P> <figure> <count> <key>");
	}
	const client = createClient({ endpoint });
	const handle = client.counter.getOrCreate([key]);
	try {
		return await figures[figure](handle);
	} finally {
		await client.dispose();
	}
}

main().then(
	(metrics) => {
		emit({ ok: true, ...metrics });
		process.exit(0);
	},
	(error) => {
		emit({ ok: false, error: String(error?.stack ?? error).split("\n")[0] });
		process.exit(1);
	},
);
