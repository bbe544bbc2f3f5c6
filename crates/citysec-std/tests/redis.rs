//! The Redis stores against a real `redis-server` (issue 9): gateways sharing one
//! Redis accept each envelope once, also from 8 threads at once; a Redis restarted
//! mid-run (append-only file on) lets no replay in; while Redis is down the
//! receiver refuses with a clear error and recovers when it is back; nonces are
//! single use across verifiers and expire; a server that could lose or forget what
//! the stores record (no append-only file, `appendfsync` other than `always` or
//! hidden, `allkeys-*` eviction) is refused with the exact `RedisRefused` reason
//! unless the caller opted out.
//!
//! Each test starts its own `redis-server` (`--appendonly yes --appendfsync always`, in a temporary
//! directory, on loopback ports from 6399 up, `CITYSEC_REDIS_PORT` to move them)
//! and kills it at the end. With `CITYSEC_REDIS_URL` set, the tests that need no
//! restart use that server instead (it must run `appendonly yes`, `appendfsync
//! always`). A test that cannot start or reach a server
//! fails; it never skips. The file is built only with the `redis-tests` feature
//! (`cargo test -p citysec-std --features redis-tests --test redis`), so
//! `cargo test --workspace` needs no `redis-server`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use citysec_attest::{Challenge, Error as AttestError, NonceStore};
use citysec_core::Timestamp;
use citysec_std::OsRandom;
use citysec_std::fleet::{RedisNonceStore, RedisOptions, RedisRefusal, RedisReplayStore};
use citysec_telemetry::{Error, MasterSecret, Receiver, ReceiverConfig, Shared, seal};

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);
static NEXT_PREFIX: AtomicUsize = AtomicUsize::new(0);

/// A `redis-server` child process, killed on drop.
struct Server {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// Settings after the defaults (`--appendonly yes --appendfsync always`),
    /// which they override.
    extra: Vec<String>,
}

impl Server {
    /// Starts a server on the next free port of this test binary.
    fn start(appendonly: bool) -> Self {
        Self::start_with(if appendonly { &[] } else { &["--appendonly", "no"] })
    }

    /// As [`Self::start`] with `extra` settings after the defaults.
    fn start_with(extra: &[&str]) -> Self {
        let base: u16 = std::env::var("CITYSEC_REDIS_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(6399);
        let mut dir = tempfile::tempdir().unwrap();
        for _ in 0..50 {
            let port = base + NEXT_PORT.fetch_add(1, Ordering::SeqCst);
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                continue; // someone else's server
            }
            let mut s = Self {
                child: None,
                port,
                dir,
                extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            };
            if s.spawn() {
                return s;
            }
            dir = s.take_dir();
        }
        panic!("could not start redis-server on any port from {base}");
    }

    fn take_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Spawns the process on `self.port` over `self.dir`; false if it did not come up.
    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--appendonly", "yes"])
            // As the stores require: with `everysec`, Redis may hold
            // acknowledged writes in memory for up to 2 s while an fsync is
            // slow, and a SIGKILL loses them.
            .args(["--appendfsync", "always"])
            .args(["--save", ""])
            .args(["--daemonize", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot run `redis-server` ({e}): install it (apt-get install redis-server) or point \
                 CITYSEC_REDIS_URL at a server; these tests do not skip"
            ),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // exited: the port was taken
            }
            if ping(&self.url()) {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL: a crash, not a clean shutdown).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the process again on the same port over the same directory.
    fn restart(&mut self) {
        self.kill();
        assert!(self.spawn(), "redis-server did not come back on port {}", self.port);
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let Ok(mut con) = client.get_connection_with_timeout(Duration::from_millis(200)) else {
        return false;
    };
    redis::cmd("PING").query::<String>(&mut con).is_ok()
}

/// The server for tests that need no restart: `CITYSEC_REDIS_URL`, or one of
/// their own. Fails loudly when neither works.
fn server() -> (Option<Server>, String) {
    if let Ok(url) = std::env::var("CITYSEC_REDIS_URL") {
        assert!(ping(&url), "CITYSEC_REDIS_URL=`{url}` does not answer PING");
        return (None, url);
    }
    let s = Server::start(true);
    let url = s.url();
    (Some(s), url)
}

/// Options with a prefix of this test alone (several tests may share a server).
fn options(test: &str) -> RedisOptions {
    let n = NEXT_PREFIX.fetch_add(1, Ordering::SeqCst);
    RedisOptions::default().with_prefix(format!("citysec-test:{}:{test}:{n}:", std::process::id()))
}

fn master() -> MasterSecret {
    MasterSecret::new([0x42; 32])
}

fn env(device: &str, seq: u64) -> Vec<u8> {
    let key = master()
        .derive(&citysec_rustcrypto::PROVIDER, device.as_bytes(), 0)
        .unwrap();
    seal(&citysec_rustcrypto::PROVIDER, &key, seq, "t", &[0x5a; 64]).unwrap()
}

fn gateway(url: &str, options: &RedisOptions, window: u32) -> Receiver<Shared<RedisReplayStore>> {
    let store = RedisReplayStore::open_with(url, options.clone()).unwrap();
    Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_window(window),
        Shared(store),
    )
}

fn open(r: &mut Receiver<Shared<RedisReplayStore>>, e: &[u8]) -> Result<u64, Error> {
    let mut out = Vec::new();
    let got = r.open(e, None, &mut out).map(|e| e.seq());
    if got.is_err() {
        assert!(out.is_empty(), "a refused envelope left its plaintext");
    }
    got
}

#[test]
fn two_gateways_sharing_one_redis_accept_each_envelope_once() {
    let (_server, url) = server();
    let opts = options("two");
    let mut a = gateway(&url, &opts, 64);
    let mut b = gateway(&url, &opts, 64);
    let envs: Vec<(String, u64, Vec<u8>)> = (0..60u64)
        .flat_map(|s| (0..5).map(move |d| (format!("sensor-{d}"), s)))
        .map(|(d, s)| {
            let e = env(&d, s);
            (d, s, e)
        })
        .collect();
    // One by one, alternating which gateway sees the envelope first.
    for (i, (_, seq, e)) in envs.iter().enumerate().take(150) {
        let (first, second) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
        assert_eq!(open(first, e), Ok(*seq));
        assert_eq!(open(second, e), Err(Error::Replay));
        assert_eq!(open(first, e), Err(Error::Replay));
    }
    // In batches (one pipelined round trip), with a duplicate inside the batch.
    let mut batch: Vec<&[u8]> = envs[150..].iter().map(|(_, _, e)| e.as_slice()).collect();
    batch.push(envs[200].2.as_slice());
    let got = a.open_batch(&batch);
    assert!(got[..150].iter().all(Result::is_ok));
    assert_eq!(got[150].as_ref().unwrap_err(), &Error::Replay);
    let again = b.open_batch(&batch);
    assert!(again.iter().all(|r| r.as_ref().unwrap_err() == &Error::Replay));
    // Old envelopes below the window are refused as such.
    let late = env("sensor-0", 70);
    assert_eq!(open(&mut b, &late), Ok(70));
    assert_eq!(open(&mut a, &envs[0].2), Err(Error::OutsideWindow));
}

#[test]
fn eight_threads_submitting_the_same_10000_envelopes_accept_each_once() {
    let (_server, url) = server();
    let opts = options("eight");
    // 100 devices x 100 numbers: every number stays inside a 1,024 window, so in
    // any order each envelope is either new or a replay, never below the window.
    let envs: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..100u64)
            .flat_map(|s| (0..100).map(move |d| env(&format!("meter-{d}"), s)))
            .collect(),
    );
    let accepted: Arc<Mutex<Vec<usize>>> = Arc::default();
    std::thread::scope(|scope| {
        for t in 0..8usize {
            let (envs, accepted, url, opts) = (Arc::clone(&envs), Arc::clone(&accepted), &url, &opts);
            scope.spawn(move || {
                let mut g = gateway(url, opts, 1024);
                let n = envs.len();
                // Each thread its own order: start and stride differ.
                let stride = [1, 3, 7, 9, 11, 13, 17, 19][t];
                let order: Vec<usize> = (0..n).map(|i| (t * 1250 + i * stride) % n).collect();
                let mut mine = Vec::new();
                if t % 2 == 0 {
                    for i in order {
                        match open(&mut g, &envs[i]) {
                            Ok(_) => mine.push(i),
                            Err(e) => assert_eq!(e, Error::Replay),
                        }
                    }
                } else {
                    for chunk in order.chunks(250) {
                        let batch: Vec<&[u8]> = chunk.iter().map(|i| envs[*i].as_slice()).collect();
                        for (i, r) in chunk.iter().zip(g.open_batch(&batch)) {
                            match r {
                                Ok(_) => mine.push(*i),
                                Err(e) => assert_eq!(e, Error::Replay),
                            }
                        }
                    }
                }
                accepted.lock().unwrap().extend(mine);
            });
        }
    });
    let mut accepted = Arc::try_unwrap(accepted).unwrap().into_inner().unwrap();
    accepted.sort_unstable();
    assert_eq!(
        accepted,
        (0..envs.len()).collect::<Vec<_>>(),
        "each envelope accepted exactly once"
    );
}

#[test]
fn redis_restarted_mid_run_lets_no_replay_in() {
    let mut server = Server::start(true);
    let url = server.url();
    let opts = options("restart").with_timeouts(Duration::from_millis(300), Duration::from_millis(500));
    let devices = ["lamp-1", "lamp-2", "lamp-3"];
    let envs: Vec<Vec<u8>> = (0..200u64)
        .flat_map(|s| devices.iter().map(move |d| env(d, s)))
        .collect();
    let accepted: Mutex<BTreeMap<usize, usize>> = Mutex::default();
    let refused_while_down = AtomicUsize::new(0);
    let halfway = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut g = gateway(&url, &opts, 1024);
            let mut pending: Vec<usize> = (0..envs.len()).collect();
            let deadline = Instant::now() + Duration::from_secs(60);
            while !pending.is_empty() && Instant::now() < deadline {
                let mut still = Vec::new();
                for i in pending {
                    match open(&mut g, &envs[i]) {
                        Ok(_) => {
                            *accepted.lock().unwrap().entry(i).or_default() += 1;
                            halfway.fetch_add(1, Ordering::SeqCst);
                        }
                        // Answer lost when Redis died after recording it: refused, never twice.
                        Err(Error::Replay) => {}
                        Err(e) => {
                            assert_eq!(e, Error::ReplayStore);
                            refused_while_down.fetch_add(1, Ordering::SeqCst);
                            still.push(i);
                        }
                    }
                    std::thread::sleep(Duration::from_micros(500));
                }
                pending = still;
            }
            assert!(pending.is_empty(), "the gateway did not recover after the restart");
        });
        while halfway.load(Ordering::SeqCst) < envs.len() / 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill();
        std::thread::sleep(Duration::from_millis(500));
        server.restart();
        worker.join().unwrap();
    });
    let accepted = accepted.into_inner().unwrap();
    assert!(accepted.values().all(|n| *n == 1), "an envelope was accepted twice");
    assert!(
        refused_while_down.load(Ordering::SeqCst) > 0,
        "nothing was refused while Redis was down"
    );
    assert!(server.dir().join("appendonlydir").exists(), "no append-only file");
    // After the restart, a new gateway (as after a gateway restart too) and the
    // old connection path both refuse every envelope again.
    let mut fresh = gateway(&url, &opts, 1024);
    for e in &envs {
        assert_eq!(open(&mut fresh, e), Err(Error::Replay));
    }
    let batch: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    assert!(
        fresh
            .open_batch(&batch)
            .iter()
            .all(|r| r.as_ref().unwrap_err() == &Error::Replay)
    );
}

#[test]
fn while_redis_is_down_the_gateway_refuses_with_a_clear_error_and_recovers() {
    let mut server = Server::start(true);
    let url = server.url();
    let opts = options("down").with_timeouts(Duration::from_millis(300), Duration::from_millis(500));
    let mut g = gateway(&url, &opts, 64);
    let envs: Vec<Vec<u8>> = (0..20).map(|s| env("valve-7", s)).collect();
    for (s, e) in envs.iter().enumerate().take(10) {
        assert_eq!(open(&mut g, e), Ok(s as u64));
    }
    server.kill();
    // One by one and in batches: refused, with the reason at hand.
    for e in &envs[10..] {
        assert_eq!(open(&mut g, e), Err(Error::ReplayStore));
        let why = g.store().0.last_error().unwrap();
        assert!(why.contains("unreachable") && why.contains(&url[8..]), "{why}");
    }
    assert_eq!(open(&mut g, &envs[3]), Err(Error::ReplayStore));
    let batch: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    assert!(
        g.open_batch(&batch)
            .iter()
            .all(|r| r.as_ref().unwrap_err() == &Error::ReplayStore)
    );
    // A gateway starting now cannot open its store, and says why.
    let err = RedisReplayStore::open_with(&url, opts.clone()).unwrap_err().to_string();
    assert!(err.contains("unreachable"), "{err}");
    server.restart();
    // Back: old envelopes stay refused, the ones refused while down now pass.
    assert_eq!(open(&mut g, &envs[3]), Err(Error::Replay));
    assert!(g.store().0.last_error().is_none());
    for (s, e) in envs.iter().enumerate().skip(10) {
        assert_eq!(open(&mut g, e), Ok(s as u64));
    }
}

/// The Lua window against the Rust `ReplayWindow` (through the memory store used
/// as a shared one, `LocalAsShared`): same verdicts, same windows, for random
/// traffic with reordering, duplicates, small and huge jumps, several sizes.
#[test]
fn the_server_side_window_decides_like_the_rust_window() {
    use citysec_telemetry::{LocalAsShared, MemoryReplayStore, SharedReplayStore};
    let (_server, url) = server();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for size in [1u32, 7, 64, 1000, 1024] {
        let mut redis = RedisReplayStore::open_with(&url, options("model")).unwrap();
        let mut model = LocalAsShared(MemoryReplayStore::new());
        let devices: [&[u8]; 3] = [b"a", b"bb", b"\x00\xff"];
        let mut tops = [0u64; 3];
        for round in 0..300 {
            let n = 1 + rand(40) as usize;
            let items: Vec<(&[u8], u64)> = (0..n)
                .map(|_| {
                    let d = rand(3) as usize;
                    let seq = match rand(10) {
                        0 => tops[d] + 1 + rand(3000),
                        1..=3 => tops[d] + rand(5),
                        _ => tops[d].saturating_sub(rand(u64::from(size) + 40)),
                    };
                    tops[d] = tops[d].max(seq);
                    (devices[d], seq)
                })
                .collect();
            let got = redis.check_and_update(&items, size).unwrap();
            let want = model.check_and_update(&items, size).unwrap();
            assert_eq!(got, want, "size {size}, round {round}, {items:?}");
            // The ring keeps 1,024 numbers whatever the size; the windows agree on
            // every number the size covers.
            for d in devices {
                let (r, m) = (redis.load(d).unwrap(), model.load(d).unwrap());
                assert_eq!(r.map(|w| w.top()), m.map(|w| w.top()), "size {size}, round {round}");
                if let (Some(r), Some(m)) = (r, m) {
                    let top = m.top().unwrap();
                    for seq in top.saturating_sub(1100)..=top + 1 {
                        assert_eq!(
                            r.check(seq, size),
                            m.check(seq, size),
                            "size {size}, round {round}, {seq}"
                        );
                    }
                }
            }
        }
        // save writes the same windows back.
        let windows: Vec<(&[u8], _)> = devices.iter().map(|d| (*d, model.load(d).unwrap().unwrap())).collect();
        redis.save(&windows).unwrap();
        for (d, w) in &windows {
            let r = redis.load(d).unwrap().unwrap();
            let top = w.top().unwrap();
            for seq in top.saturating_sub(1100)..=top + 1 {
                assert_eq!(r.check(seq, size), w.check(seq, size));
            }
        }
    }
}

#[test]
fn a_malformed_window_refuses_the_whole_call() {
    use citysec_telemetry::SharedReplayStore;
    let (_server, url) = server();
    let opts = options("malformed");
    let mut store = RedisReplayStore::open_with(&url, opts.clone()).unwrap();
    let mut con = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    redis::cmd("SET")
        .arg(format!("{}replay:{{6262}}", opts.prefix))
        .arg("short")
        .query::<()>(&mut con)
        .unwrap();
    let items: [(&[u8], u64); 2] = [(b"aa", 1), (b"bb", 1)];
    assert_eq!(store.check_and_update(&items, 64), Err(Error::ReplayStore));
    assert!(store.last_error().unwrap().contains("malformed replay window"));
    // Nothing was recorded for the other device either.
    assert_eq!(store.load(b"aa").unwrap(), None);
    assert_eq!(store.check_and_update(&items[..1], 64), Ok(vec![Ok(())]));
}

/// `open`'s refusal: the exact variant and the exact text.
fn refused(got: citysec_std::Result<impl std::fmt::Debug>, server: &Server, want: &RedisRefusal, text: &str) {
    let addr = format!("127.0.0.1:{}", server.port);
    let err = got.unwrap_err();
    assert_eq!(err.to_string(), format!("redis at `{addr}` refused: {text}"));
    match err {
        citysec_std::Error::RedisRefused { addr: a, reason } => {
            assert_eq!(a, addr);
            assert_eq!(&reason, want);
        }
        other => panic!("not RedisRefused: {other:?}"),
    }
}

const NO_AOF: &str = "it keeps no append-only file (`appendonly no`), so a restart would forget what the store \
                      recorded; set `appendonly yes`";

#[test]
fn a_server_that_forgets_is_refused_unless_allowed() {
    let server = Server::start(false);
    let url = server.url();
    refused(
        RedisReplayStore::open_with(&url, options("volatile")),
        &server,
        &RedisRefusal::NoAppendOnlyFile,
        NO_AOF,
    );
    refused(
        RedisNonceStore::open_with(&url, options("volatile")),
        &server,
        &RedisRefusal::NoAppendOnlyFile,
        NO_AOF,
    );
    // Relaxing the fsync check alone does not accept it.
    refused(
        RedisReplayStore::open_with(&url, options("volatile").allow_relaxed_fsync()),
        &server,
        &RedisRefusal::NoAppendOnlyFile,
        NO_AOF,
    );
    assert!(RedisReplayStore::open_with(&url, options("volatile").allow_volatile_server()).is_ok());
    assert!(RedisNonceStore::open_with(&url, options("volatile").allow_volatile_server()).is_ok());
}

#[test]
fn appendfsync_everysec_is_refused_unless_relaxed_fsync_is_allowed() {
    let server = Server::start_with(&["--appendfsync", "everysec"]);
    let url = server.url();
    let everysec = RedisRefusal::FsyncNotAlways("everysec".to_owned());
    let text = "it runs `appendfsync everysec`, so a crash can lose acknowledged updates; set `appendfsync always`";
    refused(
        RedisReplayStore::open_with(&url, options("everysec")),
        &server,
        &everysec,
        text,
    );
    refused(
        RedisNonceStore::open_with(&url, options("everysec")),
        &server,
        &everysec,
        text,
    );
    refused(RedisReplayStore::open(&url), &server, &everysec, text);
    refused(RedisNonceStore::open(&url), &server, &everysec, text);
    // The opt-out: accepted, and the stores work.
    let opts = options("everysec").allow_relaxed_fsync();
    let store = RedisReplayStore::open_with(&url, opts.clone()).unwrap();
    let mut g = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_window(64),
        Shared(store),
    );
    assert_eq!(open(&mut g, &env("pump-1", 5)), Ok(5));
    assert_eq!(open(&mut g, &env("pump-1", 5)), Err(Error::Replay));
    let mut nonces = RedisNonceStore::open_with(&url, opts).unwrap();
    let now = Timestamp::from_unix_seconds(1_767_000_000);
    let c = Challenge::issue(&mut nonces, &mut OsRandom, now, 60).unwrap();
    assert_eq!(nonces.consume(c.nonce(), now), Ok(()));
    // `appendfsync no` is refused the same way.
    let mut con = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("no")
        .query::<()>(&mut con)
        .unwrap();
    refused(
        RedisReplayStore::open_with(&url, options("fsync-no")),
        &server,
        &RedisRefusal::FsyncNotAlways("no".to_owned()),
        "it runs `appendfsync no`, so a crash can lose acknowledged updates; set `appendfsync always`",
    );
}

#[test]
fn a_server_relaxed_while_connected_is_refused_at_the_reconnection() {
    let server = Server::start(true);
    let url = server.url();
    let opts = options("relaxed-later");
    let mut g = gateway(&url, &opts, 64);
    let mut v = RedisNonceStore::open_with(&url, opts.clone()).unwrap();
    let now = Timestamp::from_unix_seconds(1_767_000_000);
    let c = Challenge::issue(&mut v, &mut OsRandom, now, 60).unwrap();
    assert_eq!(open(&mut g, &env("gate-2", 1)), Ok(1));
    let mut admin = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let set = |con: &mut redis::Connection, mode: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("appendfsync")
            .arg(mode)
            .query::<()>(con)
            .unwrap();
    };
    set(&mut admin, "everysec");
    // Drop every other connection: the stores reconnect, check and refuse.
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query::<i64>(&mut admin)
        .unwrap();
    let want = format!(
        "redis at `127.0.0.1:{}` refused: it runs `appendfsync everysec`, so a crash can lose acknowledged \
         updates; set `appendfsync always`",
        server.port
    );
    assert_eq!(open(&mut g, &env("gate-2", 2)), Err(Error::ReplayStore));
    assert_eq!(g.store().0.last_error().as_deref(), Some(want.as_str()));
    assert_eq!(v.consume(c.nonce(), now), Err(AttestError::NonceStoreUnavailable));
    assert_eq!(v.last_error(), Some(want.as_str()));
    // Set back: both recover, and nothing was recorded while refused.
    set(&mut admin, "always");
    assert_eq!(open(&mut g, &env("gate-2", 2)), Ok(2));
    assert_eq!(v.consume(c.nonce(), now), Ok(()));
}

#[test]
fn a_server_that_hides_its_fsync_policy_is_refused_unless_relaxed_fsync_is_allowed() {
    // CONFIG disabled, as managed services often do.
    let server = Server::start_with(&["--rename-command", "CONFIG", ""]);
    let url = server.url();
    for err in [
        RedisReplayStore::open_with(&url, options("no-config")).unwrap_err(),
        RedisNonceStore::open_with(&url, options("no-config")).unwrap_err(),
    ] {
        match &err {
            citysec_std::Error::RedisRefused {
                reason: RedisRefusal::FsyncUnknown(why),
                ..
            } => assert!(why.contains("unknown command"), "{why}"),
            other => panic!("not FsyncUnknown: {other:?}"),
        }
        assert!(
            err.to_string().contains("`CONFIG GET appendfsync` failed (")
                && err.to_string().ends_with(
                    "), so its fsync policy is unknown; allow the command or opt out with `allow_relaxed_fsync`"
                ),
            "{err}"
        );
    }
    let opts = options("no-config").allow_relaxed_fsync();
    assert!(RedisReplayStore::open_with(&url, opts.clone()).is_ok());
    assert!(RedisNonceStore::open_with(&url, opts).is_ok());
}

#[test]
fn a_server_that_evicts_any_key_is_refused_by_the_replay_store_only() {
    let server = Server::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let url = server.url();
    refused(
        RedisReplayStore::open_with(&url, options("evict")),
        &server,
        &RedisRefusal::EvictsAnyKey("allkeys-lru".to_owned()),
        "it evicts any key under memory pressure (`maxmemory-policy allkeys-lru`), so it could forget replay \
         windows; use `noeviction` or a `volatile-*` policy",
    );
    // An evicted nonce is refused as unknown: fails closed.
    assert!(RedisNonceStore::open_with(&url, options("evict")).is_ok());
    assert!(RedisReplayStore::open_with(&url, options("evict").allow_volatile_server()).is_ok());
}

#[test]
fn nonces_are_single_use_across_verifiers_and_expire() {
    let (_server, url) = server();
    let opts = options("nonce");
    let mut a = RedisNonceStore::open_with(&url, opts.clone()).unwrap();
    let mut b = RedisNonceStore::open_with(&url, opts.clone()).unwrap();
    let now = Timestamp::from_unix_seconds(1_767_000_000);
    // Issued on one verifier, used on the other, then refused on both.
    let c = Challenge::issue(&mut a, &mut OsRandom, now, 60).unwrap();
    assert_eq!(b.consume(c.nonce(), now.saturating_add(5)), Ok(()));
    assert_eq!(
        a.consume(c.nonce(), now.saturating_add(6)),
        Err(AttestError::NonceReplayed)
    );
    assert_eq!(
        b.consume(c.nonce(), now.saturating_add(6)),
        Err(AttestError::NonceReplayed)
    );
    // Expired, never issued, issued twice, too short.
    let c = Challenge::issue(&mut b, &mut OsRandom, now, 60).unwrap();
    assert_eq!(
        a.consume(c.nonce(), now.saturating_add(60)),
        Err(AttestError::NonceExpired)
    );
    assert_eq!(a.consume(&[7; 32], now), Err(AttestError::UnknownNonce));
    assert_eq!(a.insert(c.nonce(), c.expires(), now), Err(AttestError::InvalidNonce));
    assert_eq!(a.insert(&[1; 8], c.expires(), now), Err(AttestError::InvalidNonce));
    // The server forgets a nonce at its expiry by itself (TTL).
    let real_now = citysec_core::Clock::now(&citysec_std::SystemClock).unwrap();
    let c = Challenge::issue(&mut a, &mut OsRandom, real_now, 1).unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}nonce:*", opts.prefix))
        .query(&mut con)
        .unwrap();
    let ttls: Vec<i64> = keys
        .iter()
        .map(|k| redis::cmd("TTL").arg(k).query(&mut con).unwrap())
        .collect();
    assert!(ttls.iter().all(|t| (1..=60).contains(t)), "{ttls:?}");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(b.consume(c.nonce(), real_now), Err(AttestError::UnknownNonce));
}

#[test]
fn eight_verifiers_racing_on_one_nonce_accept_it_once() {
    let (_server, url) = server();
    let opts = options("nonce-race");
    let now = Timestamp::from_unix_seconds(1_767_000_000);
    for _ in 0..20 {
        let mut issuer = RedisNonceStore::open_with(&url, opts.clone()).unwrap();
        let c = Challenge::issue(&mut issuer, &mut OsRandom, now, 60).unwrap();
        let wins = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let mut v = RedisNonceStore::open_with(&url, opts.clone()).unwrap();
                    match v.consume(c.nonce(), now) {
                        Ok(()) => {
                            wins.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!(e, AttestError::NonceReplayed),
                    }
                });
            }
        });
        assert_eq!(wins.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn while_redis_is_down_nonces_are_refused_and_recover() {
    let mut server = Server::start(true);
    let url = server.url();
    let opts = options("nonce-down").with_timeouts(Duration::from_millis(300), Duration::from_millis(500));
    let mut v = RedisNonceStore::open_with(&url, opts).unwrap();
    let now = Timestamp::from_unix_seconds(1_767_000_000);
    let c = Challenge::issue(&mut v, &mut OsRandom, now, 60).unwrap();
    server.kill();
    assert_eq!(v.consume(c.nonce(), now), Err(AttestError::NonceStoreUnavailable));
    assert!(v.last_error().unwrap().contains("unreachable"));
    assert_eq!(
        Challenge::issue(&mut v, &mut OsRandom, now, 60).unwrap_err(),
        AttestError::NonceStoreUnavailable
    );
    server.restart();
    // The append-only file kept the nonce: it is still good, once.
    assert_eq!(v.consume(c.nonce(), now), Ok(()));
    assert_eq!(v.consume(c.nonce(), now), Err(AttestError::NonceReplayed));
    assert!(v.last_error().is_none());
}
