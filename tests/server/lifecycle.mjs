// Engine-lifetime helpers shared by server.mjs and guard.mjs (no rivetkit import here).
//
// rivetkit spawns `rivet-engine` in its own process group, so it does not die with node. These
// helpers find it through $RIVETKIT_STORAGE_PATH/.rivetkit/var/engine/runtime.json and stop it,
// and watch the test process (RIVET_TEST_PARENT_PID) so that nothing outlives a dead test run.

import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const storage = process.env.RIVETKIT_STORAGE_PATH;

/** Engine pid from runtime.json, or null. */
export function enginePid() {
	if (!storage) return null;
	try {
		const rt = JSON.parse(
			readFileSync(join(storage, ".rivetkit", "var", "engine", "runtime.json"), "utf8"),
		);
		const pid = Number(rt.pid);
		return Number.isInteger(pid) && pid > 1 ? pid : null;
	} catch {
		return null;
	}
}

/** True if `pid` is alive (not a zombie) and its cmdline mentions rivet-engine (pid-reuse guard). */
export function isEngine(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
		if (state === "Z" || state === "X") return false;
		return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("rivet-engine");
	} catch {
		return false;
	}
}

/**
 * Processes (other than this one) whose environment has RIVETKIT_STORAGE_PATH=<our dir>: node
 * runtimes and the engines they spawned (the engine inherits node's environment, and the dir is
 * unique per test server). This also finds an engine that is still starting and has not written
 * runtime.json yet. Returns [{ pid, engine: boolean }].
 */
export function scanDataDirProcesses() {
	if (!storage) return [];
	const needle = `RIVETKIT_STORAGE_PATH=${storage}`;
	const found = [];
	let entries = [];
	try {
		entries = readdirSync("/proc");
	} catch {
		return found;
	}
	for (const name of entries) {
		if (!/^[0-9]+$/.test(name)) continue;
		const pid = Number(name);
		if (pid === process.pid) continue;
		try {
			if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(needle)) continue;
			const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
			if (cmd === "") continue; // zombie
			found.push({ pid, engine: cmd.includes("rivet-engine") });
		} catch {}
	}
	return found;
}

/** Engines of our data dir found by scanning /proc (see scanDataDirProcesses). */
export function scanEngines() {
	return scanDataDirProcesses()
		.filter((p) => p.engine)
		.map((p) => p.pid);
}

/** All live engines of this data dir (runtime.json pid plus /proc scan). */
function ourEngines() {
	const pids = new Set(scanEngines());
	const recorded = enginePid();
	if (recorded !== null) pids.add(recorded);
	return [...pids].filter(isEngine);
}

/**
 * SIGTERM our engine(s), wait up to 5 s, then SIGKILL. No-op if none is running. Scans twice so
 * that an engine being spawned right now (startup race) is caught as well.
 */
export async function killEngine() {
	for (let round = 0; round < 2; round++) {
		const pids = ourEngines();
		for (const pid of pids) {
			try {
				process.kill(pid, "SIGTERM");
			} catch {}
		}
		const deadline = Date.now() + 5000;
		while (Date.now() < deadline && pids.some(isEngine)) await sleep(50);
		for (const pid of pids.filter(isEngine)) {
			try {
				process.kill(pid, "SIGKILL");
			} catch {}
		}
		if (round === 0) await sleep(200);
	}
}

/** Remove the data dir when the test process vanished (RIVET_TEST_REMOVE_DATA_ON_ORPHAN=1). */
export function removeDataDirIfOrphaned() {
	if (storage && process.env.RIVET_TEST_REMOVE_DATA_ON_ORPHAN === "1") {
		try {
			rmSync(storage, { recursive: true, force: true });
		} catch {}
	}
}

/**
 * If RIVET_TEST_PARENT_PID is set, poll it every 250 ms and call `onGone` once it disappears.
 * When the parent spawned us directly, a changed ppid also counts as gone (covers pid reuse and
 * a parent that is a zombie nobody reaps).
 */
export function watchParent(onGone) {
	const parentPid = Number(process.env.RIVET_TEST_PARENT_PID || "");
	if (!Number.isInteger(parentPid) || parentPid <= 1) return;
	const directChild = process.ppid === parentPid;
	const parentAlive = () => {
		if (directChild && process.ppid !== parentPid) return false;
		try {
			process.kill(parentPid, 0);
			return true;
		} catch (err) {
			return err?.code === "EPERM";
		}
	};
	const timer = setInterval(() => {
		if (!parentAlive()) {
			clearInterval(timer);
			console.error(`[rivet-test] parent ${parentPid} is gone; shutting down`);
			onGone();
		}
	}, 250);
	timer.unref();
}
