// Per-server guard started by rivet-test-support next to server.mjs, for the whole life of a
// TestServer (its own process group, so signals to node's group do not reach it).
//
// When the test process (RIVET_TEST_PARENT_PID) disappears — SIGKILL, exit without destructors,
// a never-dropped static — it kills every process whose environment has
// RIVETKIT_STORAGE_PATH=<this server's data dir> (node runtimes and the engines they spawned,
// including one that is still starting), removes the data dir if
// RIVET_TEST_REMOVE_DATA_ON_ORPHAN=1, and exits. This covers the windows server.mjs cannot:
// node being restarted, deliberately stopped (runtime-down tests) or crashed.
//
// SIGTERM/SIGINT: exit quietly (the harness stopped the server itself).

import { isEngine, removeDataDirIfOrphaned, scanDataDirProcesses, sleep, watchParent } from "./lifecycle.mjs";

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));

function signalAll(procs, sig) {
	for (const { pid } of procs) {
		try {
			process.kill(pid, sig);
		} catch {}
	}
}

watchParent(async () => {
	for (let round = 0; round < 2; round++) {
		const procs = scanDataDirProcesses();
		// Runtimes die at once (nothing to drain for a dead test); engines get a SIGTERM first.
		signalAll(procs.filter((p) => !p.engine), "SIGKILL");
		const engines = procs.filter((p) => p.engine);
		signalAll(engines, "SIGTERM");
		const deadline = Date.now() + 5000;
		while (Date.now() < deadline && engines.some((p) => isEngine(p.pid))) await sleep(50);
		signalAll(engines.filter((p) => isEngine(p.pid)), "SIGKILL");
		await sleep(200); // catch an engine spawned by a runtime that was mid-startup
	}
	removeDataDirIfOrphaned();
	process.exit(0);
});

// Keep the event loop alive (the watchdog timer is unref'd).
setInterval(() => {}, 1 << 30);
