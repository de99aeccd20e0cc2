//! A local network of real `crema node` processes on 127.0.0.1: made by `crema init`, started, stopped, killed,
//! restarted and asked over their HTTP APIs. Used by `crema devnet` and by the multi-process tests.
//!
//! Every child is killed when the cluster is dropped (SIGTERM, then SIGKILL after a grace period), so no process
//! outlives its run, also when a test panics.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::client::Client;

/// One node of the cluster.
#[derive(Debug)]
pub struct NodeProc {
    /// Its index.
    pub index: usize,
    /// Its config file.
    pub config: PathBuf,
    /// Its API address.
    pub api: SocketAddr,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
    /// Its `--byzantine` kind, if it misbehaves on purpose.
    pub byzantine: Option<String>,
    child: Option<Child>,
}

/// Settings for `crema init`.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Nodes.
    pub nodes: usize,
    /// DA committee size (the first nodes).
    pub da_committee: usize,
    /// Base view timeout.
    pub view_timeout_ms: u64,
    /// Largest block payload.
    pub max_block_bytes: u64,
    /// VID scheme name.
    pub scheme: String,
    /// Extra environment for every node (e.g. `RUST_LOG`).
    pub env: Vec<(String, String)>,
    /// Nodes that misbehave on purpose: (index, `--byzantine` kind).
    pub byzantine: Vec<(usize, String)>,
    /// The engine backend every node uses (`backend` in node.toml); `None` keeps `crema init`'s `auto`.
    pub backend: Option<String>,
    /// Cocoa brokers (`crema cdn` processes) to start; 0: libp2p only. Several share a Redis server (started
    /// too) for discovery.
    pub cdn_brokers: usize,
    /// `crema cdn --misbehave KIND` for every broker (a drill).
    pub cdn_misbehave: Option<String>,
    /// The latency drill: a delay on every message each node sends (`p2p.latency_ms` in node.toml), ms.
    pub latency_ms: u64,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            nodes: 4,
            da_committee: 3,
            view_timeout_ms: 1000,
            max_block_bytes: 1 << 20,
            scheme: "avidm".into(),
            env: Vec::new(),
            byzantine: Vec::new(),
            backend: None,
            cdn_brokers: 0,
            cdn_misbehave: None,
            latency_ms: 0,
        }
    }
}

/// One Cocoa broker of the cluster.
#[derive(Debug)]
pub struct BrokerProc {
    /// Where nodes connect.
    pub listen: SocketAddr,
    /// Its `/metrics` and `/healthcheck`.
    pub metrics: SocketAddr,
    /// Its log file.
    pub log: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

/// A local network of node processes, with its Cocoa brokers (and their Redis) if any.
#[derive(Debug)]
pub struct Cluster {
    exe: PathBuf,
    dir: PathBuf,
    /// The nodes, by index.
    pub nodes: Vec<NodeProc>,
    /// The brokers, by index.
    pub brokers: Vec<BrokerProc>,
    redis: Option<(u16, Child)>,
    env: Vec<(String, String)>,
}

/// Clusters made by this process so far: each takes a different port block.
static CLUSTERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A block of `count` consecutive free TCP ports on 127.0.0.1 (checked by binding each), below Linux's ephemeral
/// range (32768+) so that no outgoing connection takes one of them between the check and the node's start.
fn free_ports(count: usize) -> anyhow::Result<u16> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let nth = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = u64::from(std::process::id()) ^ u64::from(nanos) ^ nth.wrapping_mul(0x9e37_79b9);
    let span = 32_000 - 20_000 - count as u64;
    for attempt in 0..200u64 {
        let base = 20_000 + (seed.wrapping_mul(2_654_435_761).wrapping_add(attempt * 7919) % span) as u16;
        let all_free = (0..count as u16).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return Ok(base);
        }
    }
    bail!("no block of {count} free ports found on 127.0.0.1 between 20000 and 32000")
}

impl Cluster {
    /// Runs `crema init` into `dir` (which must not exist or be empty) with free ports.
    pub fn init(exe: &Path, dir: &Path, spec: &ClusterSpec) -> anyhow::Result<Self> {
        let n = spec.nodes;
        let b = spec.cdn_brokers;
        // One block: p2p ports, API ports, then per broker its listen and metrics ports, then Redis's.
        let p2p = free_ports(2 * n + 2 * b + 1)?;
        let api = p2p + n as u16;
        let broker_port = |j: usize, k: usize| api + n as u16 + (2 * j + k) as u16;
        let redis_port = api + n as u16 + 2 * b as u16;
        let brokers: Vec<BrokerProc> = (0..b)
            .map(|j| {
                let listen = SocketAddr::from(([127, 0, 0, 1], broker_port(j, 0)));
                let metrics = SocketAddr::from(([127, 0, 0, 1], broker_port(j, 1)));
                let mut args = vec!["cdn".to_string(), "--listen".into(), listen.to_string()];
                args.extend(["--stake-table".into(), dir.join("network.toml").display().to_string()]);
                args.extend(["--metrics".into(), metrics.to_string(), "--broker-id".into(), format!("broker-{j}")]);
                if b > 1 {
                    args.extend(["--discovery".into(), format!("redis://127.0.0.1:{redis_port}")]);
                }
                if let Some(m) = &spec.cdn_misbehave {
                    args.extend(["--misbehave".into(), m.clone()]);
                }
                BrokerProc { listen, metrics, log: dir.join(format!("cdn-{j}.log")), args, child: None }
            })
            .collect();
        let cdn_flags: Vec<String> = brokers.iter().flat_map(|b| ["--cdn".to_string(), b.listen.to_string()]).collect();
        let out = Command::new(exe)
            .args(["init", "--nodes", &n.to_string(), "--da-committee", &spec.da_committee.to_string()])
            .args(["--out", &dir.display().to_string(), "--base-port", &p2p.to_string()])
            .args(["--api-base-port", &api.to_string(), "--host", "127.0.0.1"])
            .args(["--view-timeout-ms", &spec.view_timeout_ms.to_string()])
            .args(["--max-block-bytes", &spec.max_block_bytes.to_string(), "--scheme", &spec.scheme])
            .args(&cdn_flags)
            .output()
            .with_context(|| format!("running {} init", exe.display()))?;
        if !out.status.success() {
            bail!(
                "crema init failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for i in 0..n {
            let path = dir.join(format!("node-{i}")).join("node.toml");
            if let Some(b) = &spec.backend {
                set_key(&path, "backend", &format!("{b:?}"))?;
            }
            set_key(&path, "latency_ms", &spec.latency_ms.to_string())?;
        }
        let nodes = (0..n)
            .map(|i| NodeProc {
                index: i,
                config: dir.join(format!("node-{i}")).join("node.toml"),
                api: SocketAddr::from(([127, 0, 0, 1], api + i as u16)),
                log: dir.join(format!("node-{i}.log")),
                byzantine: spec.byzantine.iter().find(|(b, _)| *b == i).map(|(_, k)| k.clone()),
                child: None,
            })
            .collect();
        let redis = match b {
            0 | 1 => None,
            _ => Some((redis_port, start_redis(dir, redis_port)?)),
        };
        Ok(Cluster { exe: exe.to_path_buf(), dir: dir.to_path_buf(), nodes, brokers, redis, env: spec.env.clone() })
    }

    /// [`Cluster::init`], then every broker and node started, each node answering `/healthcheck` within
    /// `timeout`.
    pub fn launch(exe: &Path, dir: &Path, spec: &ClusterSpec, timeout: Duration) -> anyhow::Result<Self> {
        let mut c = Self::init(exe, dir, spec)?;
        c.start_all()?;
        for i in 0..spec.nodes {
            c.wait_healthy(i, timeout)?;
        }
        Ok(c)
    }

    /// The cluster's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts node `i` (appending to its log).
    pub fn start(&mut self, i: usize) -> anyhow::Result<()> {
        let n = &mut self.nodes[i];
        if n.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&n.log)?;
        let child = Command::new(&self.exe)
            .args(["node", "--config", &n.config.display().to_string()])
            .args(n.byzantine.iter().flat_map(|k| ["--byzantine", k.as_str()]))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node {i}"))?;
        n.child = Some(child);
        Ok(())
    }

    /// Starts every broker (waiting until each is healthy), then every node.
    pub fn start_all(&mut self) -> anyhow::Result<()> {
        for j in 0..self.brokers.len() {
            self.start_broker(j)?;
        }
        (0..self.nodes.len()).try_for_each(|i| self.start(i))
    }

    /// Starts broker `j` (appending to its log) and waits until it answers `/healthcheck`.
    pub fn start_broker(&mut self, j: usize) -> anyhow::Result<()> {
        let b = &mut self.brokers[j];
        if b.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&b.log)?;
        let child = Command::new(&self.exe)
            .args(&b.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting broker {j}"))?;
        b.child = Some(child);
        let client = Client::new(b.metrics);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if client.health().is_ok() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.brokers[j].child.as_mut().map(Child::try_wait) {
                self.brokers[j].child = None;
                let log = std::fs::read_to_string(&self.brokers[j].log).unwrap_or_default();
                bail!("broker {j} exited ({status}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("broker {j} did not become healthy in 20 s")
    }

    /// Kills broker `j` at once (SIGKILL), as a crash.
    pub fn kill_broker(&mut self, j: usize) {
        if let Some(mut child) = self.brokers[j].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A client for broker `j`'s metrics endpoint.
    pub fn broker_client(&self, j: usize) -> Client {
        Client::new(self.brokers[j].metrics)
    }

    /// Whether node `i`'s process is running (reaps it if it exited).
    pub fn running(&mut self, i: usize) -> bool {
        match self.nodes[i].child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(_) => {
                self.nodes[i].child = None;
                false
            }
            None => false,
        }
    }

    /// Stops node `i`: SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, i: usize, grace: Duration) {
        let Some(mut child) = self.nodes[i].child.take() else { return };
        terminate(&child);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops every node: SIGTERM to all at once, then SIGKILL to those still running after `grace`.
    pub fn stop_all(&mut self, grace: Duration) {
        for n in &self.nodes {
            if let Some(c) = &n.child {
                terminate(c);
            }
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && (0..self.nodes.len()).any(|i| self.running(i)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
        for j in 0..self.brokers.len() {
            self.kill_broker(j);
        }
        if let Some((_, mut redis)) = self.redis.take() {
            let _ = redis.kill();
            let _ = redis.wait();
        }
    }

    /// Kills node `i` at once (SIGKILL), as a crash.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A client for node `i`'s API.
    pub fn client(&self, i: usize) -> Client {
        Client::new(self.nodes[i].api)
    }

    /// Waits until node `i` answers `/healthcheck`, or fails with the tail of its log.
    pub fn wait_healthy(&mut self, i: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let client = self.client(i);
        while Instant::now() < deadline {
            if client.health().is_ok() {
                return Ok(());
            }
            if !self.running(i) {
                bail!("node {i} exited:\n{}", self.log_tail(i, 30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("node {i} did not become healthy in {timeout:?}:\n{}", self.log_tail(i, 30))
    }

    /// CPU seconds (user + system) node `i`'s current process has used, from `/proc` (Linux; `None` elsewhere or
    /// when the node is not running).
    pub fn cpu_seconds(&self, i: usize) -> Option<f64> {
        let pid = self.nodes[i].child.as_ref()?.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are
        // fields 14 and 15 of the whole line, i.e. 12 and 13 after it.
        let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: f64 = rest.get(11)?.parse::<f64>().ok()? + rest.get(12)?.parse::<f64>().ok()?;
        // SAFETY: sysconf has no memory effects.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| ticks / hz as f64)
    }

    /// The last `lines` lines of node `i`'s log.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Starts `redis-server` on 127.0.0.1:`port` without persistence (the brokers' discovery), and waits until it
/// accepts connections.
fn start_redis(dir: &Path, port: u16) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join("redis.log"))?;
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting redis-server (several Cocoa brokers need it for discovery; apt-get install redis-server)")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!("redis-server exited ({status}); see {}", dir.join("redis.log").display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    bail!("redis-server did not accept connections on port {port} in 10 s")
}

/// Sets `key = value` in the node.toml at `path`, on the line `crema init` wrote for it (the keys it edits are
/// unique in the file).
fn set_key(path: &Path, key: &str, value: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let prefix = format!("{key} =");
    if !text.lines().any(|l| l.starts_with(&prefix)) {
        bail!("{}: no {key} line to set", path.display());
    }
    let set: Vec<String> =
        text.lines().map(|l| if l.starts_with(&prefix) { format!("{key} = {value}") } else { l.to_string() }).collect();
    Ok(std::fs::write(path, set.join("\n") + "\n")?)
}

/// Sends SIGTERM to a child we spawned.
fn terminate(child: &Child) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else { return };
    // SAFETY: kill(2) with a pid of our own, not yet reaped child and a valid signal number has no memory effects;
    // a failure (the child already exited) is harmless.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_all(Duration::from_secs(3));
    }
}
