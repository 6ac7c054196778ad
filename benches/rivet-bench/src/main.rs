//! `rivet-bench`: runs every contender against one isolated RivetKit server, prints the figures
//! with their ratios and writes them as JSON.
//!
//! ```text
//! rivet-bench [--out target/bench/results.json] [--quick] [--figures a,b] [--contenders a,b]
//!             [--timeout SECS] [--bundle target/bench/bundle.json]
//!             [--anchor-target-dir DIR] [--count FIGURE=N]... [--rounds N]
//!             [--base-bin PATH] [--idle-gateway]
//! ```
//!
//! `--rounds N` runs every figure N times, the contenders alternating within each round, and
//! reports the median of each metric with its spread (min, max). `--base-bin` adds the
//! contender `rivet-core-base`: another build of `bench-ours` (e.g. of the previous commit),
//! alternated with this one against the same server. `--idle-gateway` measures `idle_memory`
//! against `bench-idle-gateway` (an idle protocol-speaking gateway in its own process)
//! instead of the engine, for N beyond what the local engine opens.
//!
//! Contenders run one after the other, each as its own child process (so CPU time and RSS are
//! per process), killed after `--timeout`. See `BENCHMARKS.md` for what each figure means.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rivet_bench::{Better, Figure};
use rivet_test_support::TestServer;
use serde_json::{json, Map, Value};

/// The workspace root (this crate lives in `benches/rivet-bench`).
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// Contender names, in table order. `floor` is the baseline every ratio is taken against.
const FLOOR: &str = "floor";
const OURS: &str = "rivet-core";
const JS: &str = "js";
const ANCHOR: &str = "rivetkit-client";
const CONTENDERS: [&str; 4] = [FLOOR, OURS, JS, ANCHOR];
/// Another build of `bench-ours` (`--base-bin`), for before/after runs.
const BASE: &str = "rivet-core-base";

/// Command-line options.
struct Options {
    out: PathBuf,
    quick: bool,
    figures: Vec<Figure>,
    contenders: Vec<String>,
    timeout: Duration,
    bundle: Option<PathBuf>,
    anchor_target_dir: PathBuf,
    counts: BTreeMap<&'static str, u64>,
    rounds: usize,
    base_bin: Option<PathBuf>,
    idle_gateway: bool,
}

fn parse_options() -> Result<Options, String> {
    let root = root();
    let mut options = Options {
        out: root.join("target/bench/results.json"),
        quick: false,
        figures: Figure::ALL.to_vec(),
        contenders: CONTENDERS.iter().map(|c| c.to_string()).collect(),
        timeout: Duration::from_secs(240),
        bundle: None,
        anchor_target_dir: std::env::var_os("CARGO_TARGET_DIR")
            .map(|d| PathBuf::from(d).join("anchor-rust"))
            .unwrap_or_else(|| root.join("benches/anchor-rust/target")),
        counts: BTreeMap::new(),
        rounds: 1,
        base_bin: None,
        idle_gateway: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--out" => options.out = PathBuf::from(value("--out")?),
            "--quick" => options.quick = true,
            "--figures" => {
                options.figures = value("--figures")?
                    .split(',')
                    .map(|f| Figure::from_name(f).ok_or_else(|| format!("unknown figure {f}")))
                    .collect::<Result<_, _>>()?;
            }
            "--contenders" => {
                options.contenders = value("--contenders")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(c) = options
                    .contenders
                    .iter()
                    .find(|c| !CONTENDERS.contains(&c.as_str()) && c.as_str() != BASE)
                {
                    return Err(format!("unknown contender {c} (known: {CONTENDERS:?})"));
                }
            }
            "--timeout" => {
                let secs = value("--timeout")?;
                options.timeout = Duration::from_secs(
                    secs.parse()
                        .map_err(|e| format!("bad --timeout {secs}: {e}"))?,
                );
            }
            "--rounds" => {
                let n = value("--rounds")?;
                options.rounds = n
                    .parse::<usize>()
                    .map_err(|e| format!("bad --rounds {n}: {e}"))?
                    .max(1);
            }
            "--base-bin" => options.base_bin = Some(PathBuf::from(value("--base-bin")?)),
            "--idle-gateway" => options.idle_gateway = true,
            "--bundle" => options.bundle = Some(PathBuf::from(value("--bundle")?)),
            "--anchor-target-dir" => {
                options.anchor_target_dir = PathBuf::from(value("--anchor-target-dir")?);
            }
            "--count" => {
                let spec = value("--count")?;
                let (name, n) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--count wants FIGURE=N, got {spec}"))?;
                let figure =
                    Figure::from_name(name).ok_or_else(|| format!("unknown figure {name}"))?;
                let n = n.parse().map_err(|e| format!("bad count in {spec}: {e}"))?;
                options.counts.insert(figure.name(), n);
            }
            "-h" | "--help" => {
                println!(
                    "rivet-bench [--out PATH] [--quick] [--figures a,b] [--contenders a,b] \
                     [--timeout SECS] [--bundle PATH] [--anchor-target-dir DIR] [--count FIGURE=N] \
                     [--rounds N] [--base-bin PATH] [--idle-gateway]\n\
                     figures: {}\ncontenders: {}",
                    Figure::ALL.map(Figure::name).join(","),
                    CONTENDERS.join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if let Some(base) = &options.base_bin {
        if !base.is_file() {
            return Err(format!("--base-bin {}: no such file", base.display()));
        }
        if !options.contenders.iter().any(|c| c == BASE) {
            // Next to rivet-core (after the floor in the default order).
            let at = options.contenders.len().min(2);
            options.contenders.insert(at, BASE.to_string());
        }
    } else if options.contenders.iter().any(|c| c == BASE) {
        return Err(format!("contender {BASE} needs --base-bin PATH"));
    }
    Ok(options)
}

impl Options {
    fn count(&self, figure: Figure) -> u64 {
        if let Some(n) = self.counts.get(figure.name()) {
            return *n;
        }
        let n = figure.default_count();
        if self.quick {
            (n / 10).max(10)
        } else {
            n
        }
    }
}

/// How to start one contender, or why it cannot run.
enum Launcher {
    Ready(Vec<PathBuf>, Vec<String>),
    Unavailable(String),
}

fn main() {
    match run() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("rivet-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let root = root();
    let logs = options.out.parent().unwrap_or(Path::new(".")).join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;

    let mut launchers = BTreeMap::new();
    for name in &options.contenders {
        let launcher = match name.as_str() {
            FLOOR => sibling("bench-floor"),
            OURS => sibling("bench-ours"),
            BASE => match &options.base_bin {
                Some(path) => Launcher::Ready(vec![path.clone()], Vec::new()),
                None => Launcher::Unavailable("needs --base-bin".into()),
            },
            JS => js_launcher(&root),
            ANCHOR => anchor_launcher(&root, &options.anchor_target_dir, &logs),
            _ => Launcher::Unavailable("unknown contender".into()),
        };
        if let Launcher::Unavailable(why) = &launcher {
            eprintln!("[bench] {name}: unavailable: {why}");
        }
        launchers.insert(name.clone(), launcher);
    }

    // Not needed when the only figure runs against the idle gateway.
    let needs_engine = options
        .figures
        .iter()
        .any(|&f| !(f == Figure::IdleMemory && options.idle_gateway));
    let server = if needs_engine {
        eprintln!("[bench] starting an isolated RivetKit server");
        let server = TestServer::start()?;
        eprintln!(
            "[bench] server ready at {} after {:.1} s",
            server.endpoint(),
            server.startup_duration().as_secs_f64()
        );
        Some(server)
    } else {
        None
    };
    let endpoint = server
        .as_ref()
        .map(TestServer::endpoint)
        .unwrap_or_default();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);

    let mut figures: BTreeMap<&'static str, BTreeMap<String, Value>> = BTreeMap::new();
    for &figure in &options.figures {
        let count = options.count(figure);
        // `idle_memory` at large N: against an idle gateway of our own instead of the engine.
        let gateway = if figure == Figure::IdleMemory && options.idle_gateway {
            Some(IdleGateway::start()?)
        } else {
            None
        };
        let endpoint = gateway
            .as_ref()
            .map_or_else(|| endpoint.clone(), |g| g.endpoint.clone());
        let mut rounds: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for round in 0..options.rounds {
            for name in &options.contenders {
                let outcome = match launchers.get(name) {
                    Some(Launcher::Ready(program, prefix)) => {
                        let key = format!(
                            "bench-{}-{}-{stamp:x}-{round}",
                            name,
                            figure.name().replace('_', "-")
                        );
                        let mut args = prefix.clone();
                        args.extend([
                            endpoint.clone(),
                            figure.name().to_string(),
                            count.to_string(),
                            key,
                        ]);
                        let suffix = if options.rounds > 1 {
                            format!("-{round}")
                        } else {
                            String::new()
                        };
                        let log = logs.join(format!("{name}-{}{suffix}.log", figure.name()));
                        run_with_retry(
                            &program[0],
                            &args,
                            &log,
                            &options,
                            (name, figure, count, round),
                            gateway.is_none().then_some(endpoint.as_str()),
                        )
                    }
                    Some(Launcher::Unavailable(why)) => json!({ "ok": false, "error": why }),
                    None => continue,
                };
                rounds.entry(name.clone()).or_default().push(outcome);
            }
        }
        drop(gateway);
        for (name, outcomes) in rounds {
            figures
                .entry(figure.name())
                .or_default()
                .insert(name, merge_rounds(outcomes));
        }
    }
    drop(server);

    let bundle = options
        .bundle
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());

    let report = report(&options, &figures, bundle.as_ref());
    print!("{}", render(&options, &figures, &report, bundle.as_ref()));
    if let Some(dir) = options.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&options.out, text + "\n")
        .map_err(|e| format!("{}: {e}", options.out.display()))?;
    eprintln!("[bench] results written to {}", options.out.display());
    Ok(())
}

/// Runs one contender once; a failed run gets one more try on a settled server: the engine's
/// backlog (see [`settle`]) must not decide which client "fails". `settle_on` is the engine's
/// endpoint (`None` against the idle gateway, which needs no settling).
fn run_with_retry(
    program: &Path,
    args: &[String],
    log: &Path,
    options: &Options,
    (name, figure, count, round): (&str, Figure, u64, usize),
    settle_on: Option<&str>,
) -> Value {
    let mut first_error = None;
    loop {
        if let Some(endpoint) = settle_on {
            settle(endpoint);
        }
        let label = if options.rounds > 1 {
            format!("{} #{}", figure.name(), round + 1)
        } else {
            figure.name().to_string()
        };
        eprint!("[bench] {name:<16} {label:<18} n={count:<6} ");
        let started = Instant::now();
        let mut outcome = run_contender(program, args, log, options.timeout);
        eprintln!(
            "{:>6.1} s  {}",
            started.elapsed().as_secs_f64(),
            summary(&outcome)
        );
        if outcome["ok"] == json!(true) || first_error.is_some() {
            if let (Some(first), Some(fields)) = (first_error, outcome.as_object_mut()) {
                fields.insert("first_attempt_error".into(), first);
            }
            return outcome;
        }
        first_error = Some(outcome["error"].clone());
    }
}

/// One outcome from the outcomes of several rounds: each numeric metric is the median of the
/// successful rounds, with `spread.<metric>` = `[min, max]` and every round kept in `rounds`.
/// A single outcome is returned as is.
fn merge_rounds(mut outcomes: Vec<Value>) -> Value {
    if outcomes.len() == 1 {
        return outcomes.pop().unwrap_or(Value::Null);
    }
    let ok: Vec<&Map<String, Value>> = outcomes
        .iter()
        .filter(|o| o["ok"] == true)
        .filter_map(Value::as_object)
        .collect();
    let Some(first) = ok.first() else {
        let mut merged = outcomes.first().cloned().unwrap_or(Value::Null);
        if let Some(fields) = merged.as_object_mut() {
            fields.insert("rounds".into(), Value::Array(outcomes));
        }
        return merged;
    };
    let mut merged = Map::new();
    let mut spread = Map::new();
    for (key, value) in first.iter() {
        if value.as_f64().is_none() {
            merged.insert(key.clone(), value.clone());
            continue;
        }
        let mut values: Vec<f64> = ok.iter().filter_map(|o| o.get(key)?.as_f64()).collect();
        values.sort_by(f64::total_cmp);
        let median = if values.len() % 2 == 1 {
            values[values.len() / 2]
        } else {
            (values[values.len() / 2 - 1] + values[values.len() / 2]) / 2.0
        };
        merged.insert(key.clone(), json!(median));
        spread.insert(
            key.clone(),
            json!([values.first().copied(), values.last().copied()]),
        );
    }
    merged.insert("ok_rounds".into(), json!(ok.len()));
    merged.insert("spread".into(), Value::Object(spread));
    merged.insert("rounds".into(), Value::Array(outcomes));
    Value::Object(merged)
}

/// `bench-idle-gateway` running as a child process; stopped (stdin closed, then killed by its
/// own handle) when dropped.
struct IdleGateway {
    child: Child,
    endpoint: String,
}

impl IdleGateway {
    fn start() -> Result<IdleGateway, String> {
        use std::io::BufRead;
        let exe = std::env::current_exe().map_err(|e| format!("locating rivet-bench: {e}"))?;
        let path = exe.with_file_name("bench-idle-gateway");
        let mut child = Command::new(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| format!("reading the idle gateway's endpoint: {e}"))?;
        }
        let endpoint = line.trim().to_string();
        if !endpoint.starts_with("http://127.0.0.1:") {
            child.kill().ok();
            child.wait().ok();
            return Err(format!("the idle gateway printed {endpoint:?}"));
        }
        eprintln!("[bench] idle_memory against the idle gateway at {endpoint} (not the engine)");
        Ok(IdleGateway { child, endpoint })
    }
}

impl Drop for IdleGateway {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if wait_bounded_ref(&mut self.child, Duration::from_secs(10)).is_err() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

fn wait_bounded_ref(child: &mut Child, limit: Duration) -> Result<(), ()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(())
}

/// Waits (bounded: 180 s) until the server creates and answers a fresh actor again.
///
/// After a flood of pipelined actions the engine's tunnel to the actor runtime stays backed up
/// for tens of seconds and new actors fail with `pegboard.route_resolve_query_timeout`; the
/// next contender must not pay for the previous one.
fn settle(endpoint: &str) {
    let fresh_actor_answers = || {
        let key = rivet_test_support::unique_key("bench-settle");
        rivet_test_support::http::action(
            endpoint,
            rivet_bench::ACTOR,
            &key,
            "getCount",
            &json!([]),
            Duration::from_secs(20),
        )
        .is_ok_and(|r| r.status == 200)
    };
    if fresh_actor_answers() {
        return;
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(180) {
        std::thread::sleep(Duration::from_secs(1));
        if fresh_actor_answers() {
            // It was backed up: give the backlog a few more seconds and check once more.
            std::thread::sleep(Duration::from_secs(5));
            if fresh_actor_answers() {
                eprintln!(
                    "[bench] server settled after {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
        }
    }
    eprintln!("[bench] server still not answering fresh actors after 180 s; going on");
}

/// A contender binary next to this one (same cargo target directory and profile).
fn sibling(name: &str) -> Launcher {
    let Ok(exe) = std::env::current_exe() else {
        return Launcher::Unavailable("cannot locate rivet-bench itself".into());
    };
    let path = exe.with_file_name(name);
    if path.is_file() {
        Launcher::Ready(vec![path], Vec::new())
    } else {
        Launcher::Unavailable(format!(
            "{} not built (cargo build --release -p rivet-bench)",
            path.display()
        ))
    }
}

fn js_launcher(root: &Path) -> Launcher {
    let dir = root.join("benches/js");
    if !dir.join("node_modules/rivetkit").is_dir() {
        return Launcher::Unavailable(
            "benches/js/node_modules missing (npm install --no-save in benches/js)".into(),
        );
    }
    Launcher::Ready(
        vec![PathBuf::from("node")],
        vec![
            "--expose-gc".into(),
            dir.join("bench.mjs").display().to_string(),
        ],
    )
}

/// Builds `benches/anchor-rust` (its own workspace and lockfile) and returns its binary.
fn anchor_launcher(root: &Path, target_dir: &Path, logs: &Path) -> Launcher {
    let manifest = root.join("benches/anchor-rust/Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "[bench] building the official crate: cargo build --release --manifest-path {}",
        manifest.display()
    );
    let log_path = logs.join("anchor-build.log");
    let Ok(log) = File::create(&log_path) else {
        return Launcher::Unavailable(format!("cannot create {}", log_path.display()));
    };
    let Ok(log_err) = log.try_clone() else {
        return Launcher::Unavailable("cannot duplicate the build log handle".into());
    };
    let child = Command::new(cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(log)
        .stderr(log_err)
        .spawn();
    let status = match child {
        Ok(child) => wait_bounded(child, Duration::from_secs(1200)),
        Err(e) => return Launcher::Unavailable(format!("cannot run cargo: {e}")),
    };
    match status {
        Ok(true) => {
            let bin = target_dir.join("release/rivet-bench-anchor-rust");
            if bin.is_file() {
                Launcher::Ready(vec![bin], Vec::new())
            } else {
                Launcher::Unavailable(format!("{} missing after the build", bin.display()))
            }
        }
        Ok(false) => Launcher::Unavailable(format!(
            "rivetkit-client 2.3.31 failed to build: {}",
            tail(&log_path, 3)
        )),
        Err(e) => Launcher::Unavailable(format!("building rivetkit-client: {e}")),
    }
}

/// Waits for `child` at most `limit`; kills it (by its own handle, i.e. its pid) after that.
/// `Ok(success)` when it exited.
fn wait_bounded(mut child: Child, limit: Duration) -> Result<bool, String> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.success()),
            Ok(None) if Instant::now() >= deadline => {
                child.kill().ok();
                child.wait().ok();
                return Err(format!("killed after {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The last `lines` non-empty lines of a file, joined with ` | `.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    kept[kept.len().saturating_sub(lines)..].join(" | ")
}

/// Runs one contender for one figure; its result line, or `{"ok":false,"error":…}`.
fn run_contender(program: &Path, args: &[String], log: &Path, timeout: Duration) -> Value {
    let out_path = log.with_extension("out");
    let (Ok(stdout), Ok(stderr)) = (File::create(&out_path), File::create(log)) else {
        return json!({ "ok": false, "error": format!("cannot create {}", log.display()) });
    };
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => {
            return json!({ "ok": false, "error": format!("cannot start {}: {e}", program.display()) })
        }
    };
    let waited = wait_bounded(child, timeout);
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let line = output
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|v| v.get("figure").is_some());
    match (line, waited) {
        (Some(line), _) => line,
        (None, Err(e)) => json!({ "ok": false, "error": format!("timed out: {e}") }),
        (None, Ok(_)) => json!({
            "ok": false,
            "error": format!("no result line; stderr: {}", tail(log, 3)),
        }),
    }
}

fn summary(outcome: &Value) -> String {
    if outcome["ok"] == true {
        let mut parts = Vec::new();
        if let Some(map) = outcome.as_object() {
            for (k, v) in map {
                if let Some(x) = v.as_f64() {
                    if !matches!(k.as_str(), "n" | "rss_before" | "rss_after" | "ok_rounds") {
                        parts.push(format!("{k}={}", fmt_num(x)));
                    }
                }
            }
        }
        parts.join(" ")
    } else {
        format!("unavailable: {}", outcome["error"].as_str().unwrap_or("?"))
    }
}

fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// One metric of one contender, if it was measured.
fn value_of(
    figures: &BTreeMap<&'static str, BTreeMap<String, Value>>,
    figure: Figure,
    metric: &str,
    contender: &str,
) -> Option<f64> {
    let outcome = figures.get(figure.name())?.get(contender)?;
    if outcome["ok"] != true {
        return None;
    }
    outcome.get(metric)?.as_f64()
}

/// One bundle measurement (`raw` / `gzip` bytes), if it was measured.
fn bundle_size(bundle: Option<&Value>, app: &str, field: &str) -> Option<f64> {
    bundle?.get(app)?.get(field)?.as_f64()
}

/// A target line: its description, the measured ratio, the limit and whether it is met.
struct Target {
    what: &'static str,
    ratio: Option<f64>,
    limit: f64,
    strict: bool,
}

impl Target {
    fn met(&self) -> Option<bool> {
        self.ratio.map(|r| {
            if self.strict {
                r < self.limit
            } else {
                r <= self.limit
            }
        })
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

fn targets(
    figures: &BTreeMap<&'static str, BTreeMap<String, Value>>,
    bundle: Option<&Value>,
) -> Vec<Target> {
    let v = |f, m, c| value_of(figures, f, m, c);
    let cpu = |c| v(Figure::Pipelined, "cpu_us_per_action", c);
    let mem = |c| v(Figure::IdleMemory, "rss_bytes_per_conn", c);
    let gz = |app| bundle_size(bundle, app, "gzip");
    vec![
        Target {
            what: "connection action p50 within 5% of the bare socket (ours/floor)",
            ratio: ratio(
                v(Figure::ConnLatency, "p50_us", OURS),
                v(Figure::ConnLatency, "p50_us", FLOOR),
            ),
            limit: 1.05,
            strict: false,
        },
        Target {
            what: "client CPU per action at most 1/4 of the JS client's (ours/js)",
            ratio: ratio(cpu(OURS), cpu(JS)),
            limit: 0.25,
            strict: false,
        },
        Target {
            what: "client CPU per action below the official Rust crate's (ours/rivetkit-client)",
            ratio: ratio(cpu(OURS), cpu(ANCHOR)),
            limit: 1.0,
            strict: true,
        },
        Target {
            what: "memory per idle connection below the JS client's (ours/js)",
            ratio: ratio(mem(OURS), mem(JS)),
            limit: 1.0,
            strict: true,
        },
        Target {
            what:
                "memory per idle connection below the official Rust crate's (ours/rivetkit-client)",
            ratio: ratio(mem(OURS), mem(ANCHOR)),
            limit: 1.0,
            strict: true,
        },
        Target {
            what: "Leptos counter at most half the React counter, gzipped (leptos/react)",
            ratio: ratio(gz("leptos-counter"), gz("react-counter")),
            limit: 0.5,
            strict: false,
        },
        Target {
            what: "Dioxus counter no larger than the React counter, gzipped (dioxus/react)",
            ratio: ratio(gz("dioxus-counter"), gz("react-counter")),
            limit: 1.0,
            strict: false,
        },
    ]
}

fn report(
    options: &Options,
    figures: &BTreeMap<&'static str, BTreeMap<String, Value>>,
    bundle: Option<&Value>,
) -> Value {
    let mut ratios = Map::new();
    for &figure in &options.figures {
        for &(metric, _, better) in figure.metrics() {
            let ours = value_of(figures, figure, metric, OURS);
            let mut row = Map::new();
            for other in [FLOOR, JS, ANCHOR] {
                row.insert(
                    format!("ours/{other}"),
                    json!(ratio(ours, value_of(figures, figure, metric, other))),
                );
            }
            row.insert(
                "better".into(),
                json!(match better {
                    Better::Lower => "lower",
                    Better::Higher => "higher",
                }),
            );
            ratios.insert(format!("{}.{metric}", figure.name()), Value::Object(row));
        }
    }
    let counts: Map<String, Value> = options
        .figures
        .iter()
        .map(|&f| (f.name().to_string(), json!(options.count(f))))
        .collect();
    let targets: Vec<Value> = targets(figures, bundle)
        .iter()
        .map(|t| json!({ "target": t.what, "ratio": t.ratio, "limit": t.limit, "met": t.met() }))
        .collect();
    json!({
        "meta": {
            "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "quick": options.quick,
            "counts": counts,
            "in_flight": rivet_bench::IN_FLIGHT,
            "contenders": {
                FLOOR: "bare tokio-tungstenite WebSocket, JSON protocol; hand-written keep-alive HTTP/1.1",
                OURS: "rivet-core (this workspace), native, bare encoding",
                JS: "rivetkit/client 2.3.19 in node, bare encoding",
                ANCHOR: "rivetkit-client 2.3.31 from crates.io, native, bare encoding",
            },
        },
        "figures": figures,
        "ratios": ratios,
        "bundle": bundle,
        "targets": targets,
    })
}

fn render(
    options: &Options,
    figures: &BTreeMap<&'static str, BTreeMap<String, Value>>,
    report: &Value,
    bundle: Option<&Value>,
) -> String {
    let mut out = String::new();
    let header = format!(
        "{:<30} {:>10} {:>10} {:>10} {:>15} │ {:>8} {:>8} {:>8}\n",
        "figure", FLOOR, OURS, JS, ANCHOR, "ours/flr", "ours/js", "ours/rkc"
    );
    out.push('\n');
    out.push_str(&header);
    out.push_str(&"─".repeat(header.chars().count().saturating_sub(1)));
    out.push('\n');
    for &figure in &options.figures {
        for &(metric, unit, better) in figure.metrics() {
            let cell = |c: &str| {
                value_of(figures, figure, metric, c)
                    .map(fmt_num)
                    .unwrap_or_else(|| "n/a".into())
            };
            let ratio_cell = |other: &str| {
                report["ratios"][format!("{}.{metric}", figure.name())][format!("ours/{other}")]
                    .as_f64()
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or_else(|| "-".into())
            };
            let arrow = match better {
                Better::Lower => "↓",
                Better::Higher => "↑",
            };
            let label = format!("{}.{} ({unit}{arrow})", figure.name(), metric);
            out.push_str(&format!(
                "{:<30} {:>10} {:>10} {:>10} {:>15} │ {:>8} {:>8} {:>8}\n",
                label,
                cell(FLOOR),
                cell(OURS),
                cell(JS),
                cell(ANCHOR),
                ratio_cell(FLOOR),
                ratio_cell(JS),
                ratio_cell(ANCHOR),
            ));
        }
    }
    out.push_str("(↓ lower is better, ↑ higher is better; ratios are ours / other)\n");
    if options.contenders.iter().any(|c| c == BASE) {
        out.push_str(&format!(
            "\n{:<36} {:>12} {:>12} │ {:>9}\n",
            "figure", BASE, OURS, "ours/base"
        ));
        for &figure in &options.figures {
            for &(metric, unit, _) in figure.metrics() {
                let base = value_of(figures, figure, metric, BASE);
                let ours = value_of(figures, figure, metric, OURS);
                let cell = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "n/a".into());
                out.push_str(&format!(
                    "{:<36} {:>12} {:>12} │ {:>9}\n",
                    format!("{}.{} ({unit})", figure.name(), metric),
                    cell(base),
                    cell(ours),
                    ratio(ours, base)
                        .map(|r| format!("{r:.2}"))
                        .unwrap_or_else(|| "-".into())
                ));
            }
        }
    }
    if options.rounds > 1 {
        out.push_str(&format!(
            "(medians of {} alternating rounds; spreads in the JSON)\n",
            options.rounds
        ));
    }

    let mut missing = Vec::new();
    for (figure, by_contender) in figures {
        for (contender, outcome) in by_contender {
            if outcome["ok"] != true {
                missing.push(format!(
                    "  {contender} {figure}: {}",
                    outcome["error"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    if !missing.is_empty() {
        out.push_str("\nunavailable:\n");
        out.push_str(&missing.join("\n"));
        out.push('\n');
    }

    if let Some(bundle) = bundle.and_then(Value::as_object) {
        out.push_str(&format!(
            "\n{:<16} {:>12} {:>12}  {}\n",
            "bundle", "raw bytes", "gzip bytes", "notes"
        ));
        for (app, entry) in bundle {
            let size = |f: &str| {
                entry[f]
                    .as_f64()
                    .map(|x| format!("{x:.0}"))
                    .unwrap_or_else(|| "n/a".into())
            };
            out.push_str(&format!(
                "{:<16} {:>12} {:>12}  {}\n",
                app,
                size("raw"),
                size("gzip"),
                entry["note"].as_str().unwrap_or("")
            ));
        }
    }

    out.push_str("\ntargets (printed, not asserted):\n");
    for target in targets(figures, bundle) {
        let verdict = match target.met() {
            Some(true) => "met    ",
            Some(false) => "MISSED ",
            None => "n/a    ",
        };
        let ratio = target
            .ratio
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "  {verdict} {ratio:>6} (limit {:.2})  {}\n",
            target.limit, target.what
        ));
    }
    out
}
