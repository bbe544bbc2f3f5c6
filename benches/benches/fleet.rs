//! `fleet_open`: envelopes per second through the Redis replay store (issue 9)
//! against the embedded redb store, one gateway, loopback, 64-byte readings.
//!
//! - `redb_batch` / `redis_batch`: 1,000 envelopes from 100 devices per batch
//!   (10 each), `open_batch_parallel` on two threads; redb commits one durable
//!   transaction per batch, Redis runs the check-and-update scripts in one
//!   pipelined round trip.
//! - `redb_batch_spread` / `redis_batch_spread`: 1,000 envelopes from 1,000
//!   devices per batch (one each), the worst case for Redis: every envelope
//!   reads and writes its own window.
//! - `redis_fsync_batch`: the same with the server at `appendfsync always`
//!   (redb fsyncs every commit; Redis's default `everysec` does not).
//! - `redb_single` / `redis_single`: one envelope per `open`, one transaction or
//!   one round trip each.
//!
//! The bench starts its own `redis-server` (`--appendonly yes`, a temporary
//! directory, port `CITYSEC_BENCH_REDIS_PORT` or 6419) and kills it at the end,
//! or uses `CITYSEC_REDIS_URL` (then `redis_fsync_batch` changes that server's
//! `appendfsync` for its run and sets it back).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_precision_loss,
    clippy::std_instead_of_core,
    missing_docs,
    reason = "benchmark code"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use citysec_std::fleet::{RedisOptions, RedisReplayStore};
use citysec_std::telemetry::{RedbReplayStore, open_batch_parallel};
use citysec_telemetry::{DeviceKey, MasterSecret, Opened, Receiver, ReceiverConfig, ReplayGuard, Shared, seal};
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};

const BATCH: usize = 1_000;
const TOPIC: &str = "city/air/no2";

/// A redis-server child, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ping(url: &str) -> bool {
    redis::Client::open(url)
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut con| redis::cmd("PING").query::<String>(&mut con))
        .is_ok()
}

/// `CITYSEC_REDIS_URL`, or a server of our own.
fn redis_server(dir: &std::path::Path) -> (Option<Server>, String) {
    if let Ok(url) = std::env::var("CITYSEC_REDIS_URL") {
        assert!(ping(&url), "CITYSEC_REDIS_URL=`{url}` does not answer");
        return (None, url);
    }
    let port = std::env::var("CITYSEC_BENCH_REDIS_PORT").unwrap_or_else(|_| "6419".to_owned());
    let url = format!("redis://127.0.0.1:{port}");
    assert!(!ping(&url), "something already listens on port {port}");
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "yes",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run redis-server (apt-get install redis-server, or set CITYSEC_REDIS_URL)");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping(&url) {
        assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Some(server), url)
}

/// Sets the server's `appendfsync` and returns the previous setting.
fn set_fsync(url: &str, mode: &str) -> String {
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    let (_, old): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut con)
        .unwrap();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg(mode)
        .query::<()>(&mut con)
        .unwrap();
    old
}

/// Envelopes with fresh sequence numbers on every call: batch `n` holds numbers
/// `n * per_device ..` of every device, interleaved.
struct Feed {
    names: Vec<String>,
    keys: Vec<DeviceKey>,
    next: u64,
    reading: [u8; 64],
}

impl Feed {
    fn new(master: &MasterSecret, kind: &str, devices: usize) -> Self {
        let names: Vec<String> = (0..devices).map(|d| format!("{kind}-{d:04}")).collect();
        let keys = names
            .iter()
            .map(|n| master.derive(&citysec_rustcrypto::PROVIDER, n.as_bytes(), 0).unwrap())
            .collect();
        Self {
            names,
            keys,
            next: 0,
            reading: [0x5a; 64],
        }
    }

    fn batch(&mut self, n: usize) -> Vec<Vec<u8>> {
        let devices = self.keys.len();
        let per_device = n.div_ceil(devices) as u64;
        let base = self.next;
        self.next += per_device;
        (0..n)
            .map(|i| {
                let seq = base + (i / devices) as u64;
                seal(
                    &citysec_rustcrypto::PROVIDER,
                    &self.keys[i % devices],
                    seq,
                    TOPIC,
                    &self.reading,
                )
                .unwrap()
            })
            .collect()
    }
}

fn receiver<S: ReplayGuard>(master: &MasterSecret, store: S, feeds: &[&Feed]) -> Receiver<S> {
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master.clone(),
        ReceiverConfig::default(),
        store,
    );
    for name in feeds.iter().flat_map(|f| &f.names) {
        r.warm(name.as_bytes(), 0).unwrap();
    }
    r
}

/// How a batch is opened: on two threads for a store the receiver owns, in one
/// round trip for a shared one.
type OpenBatch<S> = for<'a> fn(&mut Receiver<S>, &[&'a [u8]]) -> Vec<Opened<'a>>;

fn parallel<'a>(r: &mut Receiver<RedbReplayStore>, refs: &[&'a [u8]]) -> Vec<Opened<'a>> {
    open_batch_parallel(r, refs, 2)
}

fn one_trip<'a>(r: &mut Receiver<Shared<RedisReplayStore>>, refs: &[&'a [u8]]) -> Vec<Opened<'a>> {
    r.open_batch(refs)
}

fn batch_bench<S: ReplayGuard>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    r: &mut Receiver<S>,
    open: OpenBatch<S>,
    feed: &mut Feed,
) {
    // Every envelope of a fresh batch is accepted (the bench measures acceptance).
    let envs = feed.batch(BATCH);
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    assert!(open(r, &refs).iter().all(Result::is_ok), "{id}");
    g.bench_function(id, |b| {
        b.iter_batched(
            || feed.batch(BATCH),
            |envs| {
                let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
                let got = open(r, &refs);
                debug_assert!(got.iter().all(Result::is_ok));
                got.len()
            },
            BatchSize::SmallInput,
        );
    });
}

fn single_bench<S: ReplayGuard>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, r: &mut Receiver<S>, feed: &mut Feed) {
    let mut out = Vec::new();
    g.bench_function(id, |b| {
        b.iter_batched(
            || feed.batch(1).pop().unwrap(),
            |env| {
                r.open(&env, Some(TOPIC), &mut out).unwrap();
            },
            BatchSize::SmallInput,
        );
    });
}

fn fleet_open(c: &mut Criterion) {
    let master = MasterSecret::new([7; 32]);
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = redis_server(dir.path());
    let prefix = format!("citysec-bench:{}:", std::process::id());
    // The server starts at Redis's default `appendfsync everysec` (the figures
    // without an fsync per call), which the store refuses unless told otherwise;
    // `redis_fsync_batch` switches it to `always` on the open connection.
    let options = RedisOptions::default()
        .with_prefix(prefix.clone())
        .allow_relaxed_fsync();

    let mut redb_feed = Feed::new(&master, "meter", 100);
    let mut redis_feed = Feed::new(&master, "meter", 100);
    let mut redb_spread = Feed::new(&master, "lamp", BATCH);
    let mut redis_spread = Feed::new(&master, "lamp", BATCH);
    let redb_store = RedbReplayStore::open(dir.path().join("replay.redb")).unwrap();
    let mut redb = receiver(&master, redb_store, &[&redb_feed, &redb_spread]);
    let redis_store = RedisReplayStore::open_with(&url, options).unwrap();
    let mut redis = receiver(&master, Shared(redis_store), &[&redis_feed, &redis_spread]);

    let mut g = c.benchmark_group("fleet_open");
    g.sample_size(20);
    g.throughput(Throughput::Elements(BATCH as u64));
    batch_bench(&mut g, "redb_batch", &mut redb, parallel, &mut redb_feed);
    batch_bench(&mut g, "redis_batch", &mut redis, one_trip, &mut redis_feed);
    batch_bench(&mut g, "redb_batch_spread", &mut redb, parallel, &mut redb_spread);
    batch_bench(&mut g, "redis_batch_spread", &mut redis, one_trip, &mut redis_spread);
    let fsync = set_fsync(&url, "always");
    batch_bench(&mut g, "redis_fsync_batch", &mut redis, one_trip, &mut redis_feed);
    set_fsync(&url, &fsync);
    g.throughput(Throughput::Elements(1));
    single_bench(&mut g, "redb_single", &mut redb, &mut redb_feed);
    single_bench(&mut g, "redis_single", &mut redis, &mut redis_feed);
    g.finish();

    // Leave a shared server as it was found.
    if std::env::var("CITYSEC_REDIS_URL").is_ok() {
        let mut con = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut con).unwrap();
        for k in keys {
            redis::cmd("DEL").arg(k).query::<()>(&mut con).unwrap();
        }
    }
}

fn main() {
    let mut c = citysec_benches::criterion();
    fleet_open(&mut c);
    c.final_summary();
    citysec_benches::report(&[
        ("fleet_open", "redis_batch", "redb_batch", 5.0),
        ("fleet_open", "redis_batch_spread", "redb_batch_spread", 5.0),
        ("fleet_open", "redis_fsync_batch", "redb_batch", 5.0),
        ("fleet_open", "redis_single", "redb_single", 5.0),
    ]);
    for (id, n) in [
        ("redb_batch", BATCH),
        ("redis_batch", BATCH),
        ("redb_batch_spread", BATCH),
        ("redis_batch_spread", BATCH),
        ("redis_fsync_batch", BATCH),
        ("redb_single", 1),
        ("redis_single", 1),
    ] {
        if let Some(ns) = citysec_benches::mean_ns("fleet_open", id) {
            println!("  fleet_open/{id}: {:.0} envelopes/s", n as f64 / (ns / 1e9));
        }
    }
}
