//! `crema devnet`: brings up a local network of real node processes, drives load through their APIs, applies the
//! fault drills asked for, then computes the summary through the APIs alone and stops every process.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use crema_engine::BackendChoice;
use crema_engine::vid::Vid;

use super::checks::{self, Check};
use super::client::{Client, metric, metric_total};
use super::cluster::{Cluster, ClusterSpec};
use super::load::{Load, LoadSpec};
use super::observe::Observer;
use super::timeline::{Effect, Timeline};
use crate::network_file::NetworkFile;

/// A scheduled fault: at `at` seconds into the load, do `what` to node `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The node.
    pub node: usize,
    /// Seconds after the load starts.
    pub at: u64,
    /// Crash (SIGKILL) or restart.
    pub restart: bool,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// The `crema` binary the nodes run.
    pub exe: PathBuf,
    /// The network.
    pub cluster: ClusterSpec,
    /// Seconds of load.
    pub duration: u64,
    /// The load.
    pub load: LoadSpec,
    /// Crashes and restarts.
    pub faults: Vec<Fault>,
    /// Kill every Cocoa broker this many seconds into the load (`--kill-cdn-at`).
    pub kill_cdn_at: Option<u64>,
    /// Restart them this many seconds into the load (`--restart-cdn-at`).
    pub restart_cdn_at: Option<u64>,
    /// Keep the network's directory here (else a temporary directory, removed at the end).
    pub keep: Option<PathBuf>,
    /// The backend the summary's own checks use (proof verification, recovery).
    pub check_backend: BackendChoice,
    /// The preset the settings came from, if any (a label for the summary).
    pub preset: Option<String>,
}

/// What the run was asked to do, as the summary records it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Settings {
    /// `--preset`, if one was given.
    pub preset: Option<String>,
    /// Largest block payload, bytes.
    pub block_bytes: u64,
    /// Transactions per second offered.
    pub tx_rate: f64,
    /// Bytes per transaction.
    pub tx_bytes: usize,
    /// Namespaces the load is spread over.
    pub namespaces: u64,
    /// Base view timeout, ms.
    pub view_timeout_ms: u64,
    /// Per-message delay in every node's transport, ms.
    pub latency_ms: u64,
    /// Misbehaving nodes: (index, kind).
    pub byzantine: Vec<(usize, String)>,
}

impl Settings {
    fn of(opts: &DevnetOptions) -> Self {
        Settings {
            preset: opts.preset.clone(),
            block_bytes: opts.cluster.max_block_bytes,
            tx_rate: opts.load.rate,
            tx_bytes: opts.load.tx_bytes,
            namespaces: opts.load.namespaces,
            view_timeout_ms: opts.cluster.view_timeout_ms,
            latency_ms: opts.cluster.latency_ms,
            byzantine: opts.cluster.byzantine.clone(),
        }
    }
}

/// The devnet's result, computed through the HTTP API only.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// Nodes.
    pub nodes: usize,
    /// DA committee size.
    pub da_committee: usize,
    /// VID scheme.
    pub scheme: String,
    /// The engine backend the nodes run (as the observed node's status reports it).
    pub backend: String,
    /// The machine: CPU model and cores.
    pub machine: String,
    /// What the run was asked to do.
    pub settings: Settings,
    /// Seconds of load.
    pub duration_s: f64,
    /// Blocks decided (observed at the first node).
    pub blocks: u64,
    /// Blocks with a non-empty payload.
    pub nonempty_blocks: u64,
    /// Payload bytes decided.
    pub payload_bytes: u64,
    /// Decided payload per second over the load, MB/s (10^6 bytes).
    pub throughput_mb_s: f64,
    /// Transactions submitted (accepted by an API) / refused.
    pub submitted: u64,
    /// Submissions the API refused.
    pub refused: u64,
    /// Submitted transactions found decided.
    pub decided_txs: u64,
    /// Submit-to-decide as a client sees it (one poll of precision), seconds.
    pub latency_p50_s: Option<f64>,
    /// 99th percentile of the same.
    pub latency_p99_s: Option<f64>,
    /// Mean time per view at the first node, seconds.
    pub view_time_s: f64,
    /// Views that decided no block (views entered minus blocks decided, first node).
    pub views_failed: u64,
    /// Bytes sent per layer, summed over nodes.
    pub bytes_sent: Vec<(String, f64)>,
    /// Bytes the DA layers (mascarpone + savoiardi) sent per decided payload byte: each leader's egress per block
    /// over the block size, averaged over leaders. O(1) in the number of nodes is the goal.
    pub leader_egress_per_block_byte: Option<f64>,
    /// Retrieval fallbacks taken, summed over nodes.
    pub fallbacks: f64,
    /// Cocoa brokers in the run.
    pub cdn_brokers: usize,
    /// Bytes the DA layers sent through the CDN (one upload per dispersal) and over libp2p, summed over nodes.
    pub da_bytes_by_path: Vec<(String, f64)>,
    /// CDN dispersals resent over libp2p (no DA certificate in time), summed over nodes.
    pub cdn_fallbacks: f64,
    /// Messages that arrived on both paths (second copy dropped), summed over nodes.
    pub duplicates: f64,
    /// Bad messages counted, summed over nodes.
    pub bad_messages: f64,
    /// Equivocations seen, summed over nodes.
    pub equivocations: f64,
    /// Each node's CPU time during the load (and the drain after it) over that time (1.0 = one core busy
    /// throughout), from `/proc`; `None` for a node crashed or restarted during the run.
    pub cpu_share: Vec<Option<f64>>,
    /// Faults applied, with their time.
    pub faults: Vec<String>,
    /// Each fault's effect: mean MB/s and p50 over the [`EFFECT_WINDOW_S`] before and after it.
    pub fault_effects: Vec<Effect>,
    /// Throughput and p50 latency about once a second, with the fault events (what `--plot` draws).
    pub timeline: Timeline,
    /// Every node's decided headers agree.
    pub safety_ok: Check,
    /// Every namespace answer verifies and every decided submission appears once.
    pub namespaces_verified: Check,
    /// With the DA committee stopped, every decided payload was rebuilt from the other nodes' shares.
    pub payloads_recovered: Check,
}

impl Summary {
    /// Whether the run passed: the three flags hold and something was decided.
    pub fn passed(&self) -> bool {
        self.safety_ok.ok && self.namespaces_verified.ok && self.payloads_recovered.ok && self.blocks > 0
    }
}

/// How long the end-of-run checks wait for a lagging node (one restarted late) to catch up.
const CATCH_UP: Duration = Duration::from_secs(15);

/// Seconds before and after a fault over which its effect is measured.
pub const EFFECT_WINDOW_S: f64 = 5.0;

/// Says at the start, not after the run, when the recovery check cannot pass: the nodes outside the DA committee
/// (the only ones left when it runs) hold less than the recovery threshold's weight.
fn warn_if_unrecoverable(vid: &Vid, da_committee: usize) {
    let w = vid.weights();
    let outside: u64 = w.iter().skip(da_committee).map(u64::from).sum();
    let need = vid.threshold().ceil_of(w.total());
    if outside < need {
        eprintln!(
            "devnet: note: the {} node(s) outside the DA committee hold {outside} of the {need} weight units a \
             rebuild needs, so payloads_recovered will be false; use more --nodes or a smaller --da-committee",
            w.nodes().saturating_sub(da_committee)
        );
    }
}

/// Runs the devnet, printing progress to stderr.
pub fn run(opts: &DevnetOptions) -> anyhow::Result<Summary> {
    let tmp = tempfile::tempdir()?;
    let dir = match &opts.keep {
        Some(d) => d.clone(),
        None => tmp.path().join("net"),
    };
    eprintln!("devnet: {} nodes, DA committee {}, in {}", opts.cluster.nodes, opts.cluster.da_committee, dir.display());
    let mut cluster = Cluster::launch(&opts.exe, &dir, &opts.cluster, Duration::from_secs(60))?;
    let network = NetworkFile::read(&dir.join("network.toml"))?;
    let vid = crate::da::savoiardi::network_vid(&network.consensus_config())?;
    warn_if_unrecoverable(&vid, opts.cluster.da_committee);
    eprintln!("devnet: every node answers /healthcheck; load for {} s", opts.duration);
    let n = opts.cluster.nodes;
    let clients: Arc<Mutex<Vec<Option<Client>>>> =
        Arc::new(Mutex::new((0..n).map(|i| Some(cluster.client(i))).collect()));
    let cpu_start: Vec<Option<f64>> = (0..n).map(|i| cluster.cpu_seconds(i)).collect();
    let started = Instant::now();
    let until = started + Duration::from_secs(opts.duration);
    let mut load = Load::start(opts.load.clone(), clients.clone(), until);
    let mut obs = Observer::new(opts.cluster.max_block_bytes as usize);
    let mut faults = opts.faults.clone();
    faults.sort_by_key(|f| f.at);
    let mut applied = Vec::new();
    let (mut kill_cdn, mut restart_cdn) = (opts.kill_cdn_at, opts.restart_cdn_at);
    let mut timeline = Timeline::default();
    for (i, kind) in &opts.cluster.byzantine {
        timeline.event(0.0, format!("node {i} {kind}"));
    }
    let mut last_sample = Instant::now();
    // The observer follows the first node that is not scheduled to crash.
    let watcher = (0..n).find(|i| !opts.faults.iter().any(|f| f.node == *i)).unwrap_or(0);
    // Two extra seconds after the load for its last transactions to be decided.
    let end = until + Duration::from_secs(2);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
        let elapsed = started.elapsed().as_secs();
        while let Some(f) = faults.first().copied().filter(|f| f.at <= elapsed) {
            faults.remove(0);
            let slot = &mut clients.lock().unwrap_or_else(|e| e.into_inner())[f.node];
            let at = started.elapsed().as_secs_f64();
            if f.restart {
                cluster.start(f.node)?;
                cluster.wait_healthy(f.node, Duration::from_secs(30))?;
                *slot = Some(cluster.client(f.node));
            } else {
                *slot = None;
                cluster.kill(f.node);
            }
            let verb = if f.restart { "restarted" } else { "crashed" };
            timeline.event(at, format!("{verb} node {}", f.node));
            let what = format!("{verb} node {} at {} s", f.node, f.at);
            eprintln!("\ndevnet: {what}");
            applied.push(what);
        }
        if let Some(at) = kill_cdn.filter(|&at| at <= elapsed) {
            kill_cdn = None;
            (0..cluster.brokers.len()).for_each(|j| cluster.kill_broker(j));
            timeline.event(started.elapsed().as_secs_f64(), "killed the CDN");
            let what = format!("killed the CDN broker(s) at {at} s");
            eprintln!("\ndevnet: {what}");
            applied.push(what);
        }
        if let Some(at) = restart_cdn.filter(|&at| at <= elapsed && kill_cdn.is_none()) {
            restart_cdn = None;
            (0..cluster.brokers.len()).try_for_each(|j| cluster.start_broker(j))?;
            timeline.event(started.elapsed().as_secs_f64(), "restarted the CDN");
            let what = format!("restarted the CDN broker(s) at {at} s");
            eprintln!("\ndevnet: {what}");
            applied.push(what);
        }
        for i in 0..n {
            let expected_down = clients.lock().unwrap_or_else(|e| e.into_inner())[i].is_none();
            if !expected_down && !cluster.running(i) {
                anyhow::bail!("node {i} exited unexpectedly; its log ends:\n{}", cluster.log_tail(i, 20));
            }
        }
        let submitted = load.submitted.lock().unwrap_or_else(|e| e.into_inner()).clone();
        obs.poll(&cluster.client(watcher), &submitted).context("following the decided blocks")?;
        if last_sample.elapsed() >= Duration::from_secs(1) {
            last_sample = Instant::now();
            let s = obs.sample(started, last_sample);
            timeline.push(s);
            let p50 = s.p50_s.map_or("-".into(), |p| format!("{p:.2} s"));
            eprint!(
                "\r  {:>3} s  height {:>6}  {:>6.2} MB/s  p50 {:>7}  submitted {:>6}  faults {}   ",
                elapsed,
                obs.top(),
                s.mb_s,
                p50,
                submitted.len(),
                applied.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    load.stop();
    eprintln!();
    let submitted = load.submitted.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let refused = *load.refused.lock().unwrap_or_else(|e| e.into_inner());
    obs.poll(&cluster.client(watcher), &submitted)?;
    let duration = started.elapsed().as_secs_f64();
    // Before the checks: their own work (serving namespaces, shares) is not the run's.
    let cpu_end: Vec<Option<f64>> = (0..n).map(|i| cluster.cpu_seconds(i)).collect();

    eprintln!("devnet: checking safety and namespaces through the APIs");
    let backend = opts.check_backend.build().context("building the backend for the checks")?;
    let running: Vec<usize> = (0..n).filter(|&i| cluster.running(i)).collect();
    let live: Vec<(usize, Client)> = running.into_iter().map(|i| (i, cluster.client(i))).collect();
    // A node restarted late in the run may still be catching up: give every running node a bounded while to
    // reach the height the observer saw before their headers are compared.
    let caught_up = Instant::now() + CATCH_UP;
    while Instant::now() < caught_up && live.iter().any(|(_, c)| c.height().map_or(true, |h| h < obs.top())) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = cluster.client(watcher).status()?;
    let safety_ok = checks::safety(&live)?;
    let namespaces_verified = checks::namespaces(&obs, &live, backend.as_ref())?;
    // A node crashed or restarted in the run is a new process: its share is not comparable, so it is left out.
    let cpu_share: Vec<Option<f64>> = (0..n)
        .map(|i| {
            let faulted = opts.faults.iter().any(|f| f.node == i);
            let (Some(a), Some(b)) = (cpu_start[i], cpu_end[i]) else { return None };
            (!faulted).then(|| (b - a) / duration)
        })
        .collect();
    // After the namespace checks: their retrievals (and what they ran into) count too.
    let metrics: Vec<String> = live.iter().map(|(_, c)| c.metrics()).collect::<anyhow::Result<_>>()?;

    let da: Vec<usize> = (0..opts.cluster.da_committee.min(n)).collect();
    eprintln!(
        "devnet: stopping the CDN and the DA committee {da:?}; rebuilding every payload from the other nodes' shares"
    );
    (0..cluster.brokers.len()).for_each(|j| cluster.kill_broker(j));
    for &i in &da {
        cluster.stop(i, Duration::from_secs(5));
    }
    let holders: Vec<(usize, Client)> = live.iter().filter(|(i, _)| !da.contains(i)).cloned().collect();
    let payloads_recovered = if holders.is_empty() {
        Check { ok: false, detail: "every node is on the DA committee: no node left to rebuild from".into() }
    } else {
        checks::recovery(&obs, &holders, &vid, backend.as_ref())?
    };
    cluster.stop_all(Duration::from_secs(5));

    // `+ 0.0`: an empty float sum is -0.0, which would print as "-0".
    let sum = |name: &str, labels: &str| metrics.iter().map(|m| metric(m, name, labels)).sum::<f64>() + 0.0;
    let layers = ["consensus", "mascarpone", "savoiardi", "sync", "service"];
    let bytes_sent: Vec<(String, f64)> = layers
        .iter()
        .map(|l| (l.to_string(), sum("crema_network_bytes_total", &format!("{{layer=\"{l}\",direction=\"sent\"}}"))))
        .collect();
    let payload_bytes: u64 = obs.blocks.iter().map(|b| b.payload_len).sum();
    let da_sent: f64 = bytes_sent.iter().filter(|(l, _)| l == "mascarpone" || l == "savoiardi").map(|(_, b)| b).sum();
    let view = status["view"].as_u64().unwrap_or(0);
    let blocks = obs.top();
    Ok(Summary {
        nodes: n,
        da_committee: opts.cluster.da_committee,
        scheme: opts.cluster.scheme.clone(),
        backend: status["backend"].as_str().unwrap_or("unknown").to_string(),
        machine: machine(),
        settings: Settings::of(opts),
        duration_s: duration,
        blocks,
        nonempty_blocks: obs.blocks.iter().filter(|b| b.payload_len > 0).count() as u64,
        payload_bytes,
        throughput_mb_s: payload_bytes as f64 / 1e6 / duration,
        submitted: submitted.len() as u64,
        refused,
        decided_txs: obs.found.len() as u64,
        latency_p50_s: obs.latency(0.5, None),
        latency_p99_s: obs.latency(0.99, None),
        view_time_s: if view > 0 { duration / view as f64 } else { 0.0 },
        views_failed: view.saturating_sub(blocks),
        bytes_sent,
        leader_egress_per_block_byte: (payload_bytes > 0).then(|| da_sent / payload_bytes as f64),
        fallbacks: sum_all(&metrics, "crema_retrieval_fallbacks_total"),
        cdn_brokers: opts.cluster.cdn_brokers,
        da_bytes_by_path: ["cdn", "p2p"]
            .iter()
            .map(|p| {
                let at = |l: &str| sum("crema_transport_bytes_total", &format!("{{layer=\"{l}\",path=\"{p}\"}}"));
                (p.to_string(), at("mascarpone") + at("savoiardi"))
            })
            .collect(),
        cdn_fallbacks: sum_all(&metrics, "crema_cdn_fallbacks_total"),
        duplicates: sum_all(&metrics, "crema_duplicate_messages_total"),
        bad_messages: sum_all(&metrics, "crema_bad_messages_total"),
        equivocations: sum_all(&metrics, "crema_equivocations_total"),
        cpu_share,
        faults: applied,
        fault_effects: timeline.effects(EFFECT_WINDOW_S),
        timeline,
        safety_ok,
        namespaces_verified,
        payloads_recovered,
    })
}

/// A metric summed over every label set, over every node's exposition.
fn sum_all(metrics: &[String], name: &str) -> f64 {
    metrics.iter().map(|m| metric_total(m, name)).sum::<f64>() + 0.0
}

/// "CPU model, N cores" from /proc/cpuinfo and the OS.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{model}, {cores} cores")
}

/// Prints the summary for a person.
pub fn print(s: &Summary) {
    let flag = |c: &Check| if c.ok { "true " } else { "FALSE" };
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3} s"));
    println!(
        "devnet summary ({} nodes, DA committee {}, {}, {} backend; {})",
        s.nodes, s.da_committee, s.scheme, s.backend, s.machine
    );
    let t = &s.settings;
    let preset = t.preset.as_ref().map_or(String::new(), |p| format!("preset {p}: "));
    println!(
        "  settings            {preset}{:.1} MB blocks, {} tx/s of {} B over {} namespaces, view timeout {} ms, latency {} ms",
        t.block_bytes as f64 / 1e6,
        t.tx_rate,
        t.tx_bytes,
        t.namespaces,
        t.view_timeout_ms,
        t.latency_ms
    );
    println!("  duration            {:.1} s", s.duration_s);
    println!("  blocks decided      {} ({} with transactions)", s.blocks, s.nonempty_blocks);
    println!("  payload decided     {:.2} MB, {:.3} MB/s", s.payload_bytes as f64 / 1e6, s.throughput_mb_s);
    println!("  transactions        {} submitted, {} decided, {} refused", s.submitted, s.decided_txs, s.refused);
    println!("  submit-to-decide    p50 {}  p99 {}", opt(s.latency_p50_s), opt(s.latency_p99_s));
    println!("  view time           {:.3} s mean, {} views without a block", s.view_time_s, s.views_failed);
    let layers: Vec<String> = s.bytes_sent.iter().map(|(l, b)| format!("{l} {:.2} MB", b / 1e6)).collect();
    println!("  bytes sent          {}", layers.join(", "));
    if let Some(e) = s.leader_egress_per_block_byte {
        println!("  DA egress / payload {e:.2} (bytes the DA layers sent per decided payload byte)");
    }
    if s.cdn_brokers > 0 {
        let paths: Vec<String> = s.da_bytes_by_path.iter().map(|(p, b)| format!("{p} {:.2} MB", b / 1e6)).collect();
        println!(
            "  CDN                 {} broker(s); DA bytes by path: {}; {} resent over libp2p; {} duplicates dropped",
            s.cdn_brokers,
            paths.join(", "),
            s.cdn_fallbacks,
            s.duplicates
        );
    }
    println!("  fallbacks {}  bad messages {}  equivocations {}", s.fallbacks, s.bad_messages, s.equivocations);
    let cpu: Vec<String> = s.cpu_share.iter().map(|c| c.map_or("-".into(), |c| format!("{:.0}%", c * 100.0))).collect();
    println!("  CPU per node        {} (of one core, over the run)", cpu.join(" "));
    for f in &s.faults {
        println!("  fault               {f}");
    }
    let num = |v: Option<f64>, unit: &str| v.map_or("-".into(), |v| format!("{v:.2}{unit}"));
    for e in &s.fault_effects {
        println!(
            "  effect              {} at {:.0} s: {} -> {} MB/s, p50 {} -> {} (±{EFFECT_WINDOW_S:.0} s)",
            e.event.what,
            e.event.t_s,
            num(e.mb_s.0, ""),
            num(e.mb_s.1, ""),
            num(e.p50_s.0, " s"),
            num(e.p50_s.1, " s")
        );
    }
    println!("  safety_ok           {}  {}", flag(&s.safety_ok), s.safety_ok.detail);
    println!("  namespaces_verified {}  {}", flag(&s.namespaces_verified), s.namespaces_verified.detail);
    println!("  payloads_recovered  {}  {}", flag(&s.payloads_recovered), s.payloads_recovered.detail);
}
