//! Stores a fleet of gateways and verifiers share through Redis: replay windows
//! ([`RedisReplayStore`]) and attestation nonces ([`RedisNonceStore`]).
//!
//! Every decision is taken on the Redis server, in one Lua script per call, so two
//! gateways racing on the same envelope (or two verifiers on the same nonce)
//! cannot both accept it; nothing is read, decided in Rust and written back.
//!
//! # Data in Redis
//!
//! - Replay window of device `D` (hex `H`): a string at `{prefix}replay:{H}` of
//!   136 bytes: the highest accepted sequence number `top` (8 bytes, big-endian),
//!   then a 1,024-bit ring (Redis bit order, `SETBIT` offset 64 + `seq mod 1024`)
//!   in which the bit of `seq` says whether `seq` was accepted, for the 1,024
//!   numbers up to `top`. The key has no expiry: forgetting it would let every old
//!   envelope of the device in again. The braces make it a cluster hash tag.
//! - Challenge nonce `N` (hex `H`): a string at `{prefix}nonce:{H}`, the expiry in
//!   Unix seconds (prefixed with `u` once used), with a server-side TTL until that
//!   expiry, so used and expired nonces disappear by themselves.
//!
//! # Durability: what the stores demand of the server
//!
//! Both stores keep their state only in Redis, so they are as durable as the
//! server. On every connection (the first, and each reconnection after a failure)
//! they ask the server how it is configured and refuse it with
//! [`crate::Error::RedisRefused`] (from `open`; on a reconnection the call fails
//! closed and [`RedisReplayStore::last_error`] / [`RedisNonceStore::last_error`]
//! give the same text) when:
//!
//! | check | refusal | store | opt-out |
//! | --- | --- | --- | --- |
//! | `INFO persistence`: `aof_enabled` is not `1` (`appendonly no`) | [`RedisRefusal::NoAppendOnlyFile`] | both | [`RedisOptions::allow_volatile_server`] |
//! | `CONFIG GET appendfsync` is not `always` | [`RedisRefusal::FsyncNotAlways`] | both | [`RedisOptions::allow_relaxed_fsync`] (also off with `allow_volatile_server`) |
//! | `CONFIG GET appendfsync` fails (command disabled or renamed, no ACL permission) | [`RedisRefusal::FsyncUnknown`] | both | as above |
//! | `INFO memory`: `maxmemory_policy` starts with `allkeys-` | [`RedisRefusal::EvictsAnyKey`] | replay store only | [`RedisOptions::allow_volatile_server`] |
//!
//! Why `always`: with `appendfsync everysec` (Redis's default) a power loss of the
//! Redis machine loses up to about a second of acknowledged updates, and even a
//! crash of the Redis process can lose some, because while a background fsync is
//! slow Redis postpones writing its append-only buffer for up to two seconds (seen
//! in this crate's kill-and-restart test on a busy machine: an envelope accepted
//! before the kill was accepted again after the restart). A lost window update lets
//! those envelopes in again; a lost "used" mark lets the same attestation evidence
//! be appraised again. With `no`, the operating system decides when the file is
//! written. `always` costs an fsync per call (see benches/README.md,
//! `redis_fsync_batch`).
//!
//! Why the nonce store needs an append-only file too: a server that only takes
//! snapshots (`save`) restarts from the last snapshot, in which a nonce used since
//! may still be unused, so its evidence would be accepted once more.
//!
//! The settings are read when a connection is made, not on every call: a server
//! reconfigured with `CONFIG SET` while connected is checked at the next
//! reconnection. Not checked: replication (a failover to a replica that had not
//! received the last updates forgets them, whatever the fsync policy), and who
//! else may write to the keys.
//!
//! # Failures
//!
//! While Redis cannot be reached or answers with an error, every check fails
//! closed: the receiver refuses with [`citysec_telemetry::Error::ReplayStore`]
//! and the nonce store refuses challenges and appraisals with
//! [`citysec_attest::Error::NonceStoreUnavailable`]. The Redis error, in
//! words, is kept for the operator ([`RedisReplayStore::last_error`]). The next
//! call reconnects, so the stores recover by themselves when Redis is back. A
//! connection that broke after Redis ran a script but before its answer arrived
//! leaves the numbers recorded and the envelopes refused: lost, never accepted
//! twice.

use core::fmt::{self, Write as _};
use core::time::Duration;
use std::sync::Mutex;

use citysec_attest::NonceStore;
use citysec_attest::evidence::NONCE_LEN_RANGE;
use citysec_attest::nonce::MIN_CHALLENGE_NONCE_LEN;
use citysec_core::Timestamp;
use citysec_telemetry::window::{MAX_WINDOW, ReplayWindow, WINDOW_BYTES};
use citysec_telemetry::{Error as TelemetryError, MAX_SEQ, SharedReplayStore};
use redis::{Connection, RedisError, RedisResult};

/// Length of a window in Redis: `top` and the 1,024-bit ring.
const RING_BYTES: usize = 8 + RING_BITS / 8;
/// Numbers the ring remembers below `top` (and including it).
const RING_BITS: usize = 1024;
/// At most this many items per script call: a call blocks the server while it runs.
const ITEMS_PER_SCRIPT: usize = 512;

/// Checks and records `(device, seq)` pairs. KEYS: one window per item (repeats
/// allowed, taken in order); ARGV[1]: the window size; ARGV[1 + i]: the sequence
/// number of KEYS[i]. Returns per item 1 accepted, 2 replay, 3 below the window.
///
/// Each window is read once (`GET`), worked on in Lua, and written once (`SET`)
/// at the end, so a malformed window refuses the call before anything changed.
/// Bit `slot` of the ring is bit `7 - slot % 8` of byte `slot / 8`, the order of
/// Redis's `SETBIT`.
const REPLAY_SCRIPT: &str = r"
local size = tonumber(ARGV[1])
local function decode(v)
  local n = 0
  for i = 1, 8 do n = n * 256 + string.byte(v, i) end
  return n
end
local function encode(n)
  local t = {}
  for i = 8, 1, -1 do
    t[i] = n % 256
    n = math.floor(n / 256)
  end
  return string.char(unpack(t))
end
local function pos(seq)
  local slot = seq % 1024
  return math.floor(slot / 8) + 1, 2 ^ (7 - slot % 8)
end
local function get(ring, seq)
  local i, m = pos(seq)
  return math.floor(ring[i] / m) % 2 == 1
end
local function set(ring, seq)
  local i, m = pos(seq)
  if math.floor(ring[i] / m) % 2 == 0 then ring[i] = ring[i] + m end
end
local function clear(ring, seq)
  local i, m = pos(seq)
  if math.floor(ring[i] / m) % 2 == 1 then ring[i] = ring[i] - m end
end
local function zeros()
  local t = {}
  for i = 1, 128 do t[i] = 0 end
  return t
end
local windows, order, out = {}, {}, {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local w = windows[key]
  if not w then
    local v = redis.call('GET', key)
    if not v then
      w = { top = nil, ring = nil, dirty = false }
    elseif string.len(v) ~= 136 then
      return redis.error_reply('citysec: malformed replay window')
    else
      w = { top = decode(v), ring = { string.byte(v, 9, 136) }, dirty = false }
    end
    windows[key] = w
    order[#order + 1] = key
  end
  local seq = tonumber(ARGV[i + 1])
  if w.top == nil then
    w.top, w.ring = seq, zeros()
    set(w.ring, seq)
    w.dirty, out[i] = true, 1
  elseif seq > w.top then
    if seq - w.top >= 1024 then
      w.ring = zeros()
    else
      for s = w.top + 1, seq - 1 do clear(w.ring, s) end
    end
    set(w.ring, seq)
    w.top = seq
    w.dirty, out[i] = true, 1
  elseif w.top - seq >= size then
    out[i] = 3
  elseif get(w.ring, seq) then
    out[i] = 2
  else
    set(w.ring, seq)
    w.dirty, out[i] = true, 1
  end
end
for _, key in ipairs(order) do
  local w = windows[key]
  if w.dirty then
    redis.call('SET', key, encode(w.top) .. string.char(unpack(w.ring)))
  end
end
return out
";

/// Uses a nonce. KEYS[1]: the nonce; ARGV[1]: now (Unix seconds). Returns 1 used
/// now, 0 unknown, 2 used before, 3 expired.
const CONSUME_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if string.sub(v, 1, 1) == 'u' then return 2 end
if tonumber(ARGV[1]) >= tonumber(v) then return 3 end
redis.call('SET', KEYS[1], 'u' .. v, 'KEEPTTL')
return 1
";

/// Why a Redis store refused a server (in [`crate::Error::RedisRefused`]); see
/// the [module docs](self) for the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisRefusal {
    /// The server keeps no append-only file (`appendonly no`): a restart forgets
    /// everything since the last snapshot, if any.
    NoAppendOnlyFile,
    /// The server's `appendfsync` is not `always` (the value it reported, such as
    /// `everysec`): a crash can lose acknowledged updates.
    FsyncNotAlways(String),
    /// The server did not answer `CONFIG GET appendfsync` (the server's error):
    /// its fsync policy is unknown.
    FsyncUnknown(String),
    /// The server may evict any key under memory pressure (the `maxmemory-policy`,
    /// such as `allkeys-lru`): it could forget replay windows.
    EvictsAnyKey(String),
}

impl fmt::Display for RedisRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAppendOnlyFile => f.write_str(
                "it keeps no append-only file (`appendonly no`), so a restart would forget what the store \
                 recorded; set `appendonly yes`",
            ),
            Self::FsyncNotAlways(v) => write!(
                f,
                "it runs `appendfsync {v}`, so a crash can lose acknowledged updates; set `appendfsync always`"
            ),
            Self::FsyncUnknown(e) => write!(
                f,
                "`CONFIG GET appendfsync` failed ({e}), so its fsync policy is unknown; allow the command or \
                 opt out with `allow_relaxed_fsync`"
            ),
            Self::EvictsAnyKey(policy) => write!(
                f,
                "it evicts any key under memory pressure (`maxmemory-policy {policy}`), so it could forget \
                 replay windows; use `noeviction` or a `volatile-*` policy"
            ),
        }
    }
}

/// How the Redis stores connect and what they demand of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisOptions {
    /// Prefix of every key (default `citysec:`); gateways that share windows must
    /// use the same one.
    pub prefix: String,
    /// Longest wait for a connection (default 1 s).
    pub connect_timeout: Duration,
    /// Longest wait for an answer (default 2 s); a call that takes longer fails
    /// closed and the connection is dropped.
    pub io_timeout: Duration,
    /// Refuse a server that would forget on restart or under memory pressure:
    /// append-only file off (both stores), or an `allkeys-*` eviction policy
    /// ([`RedisReplayStore`] only: an evicted nonce is refused as unknown, which
    /// fails closed). Default `true`. When `false`, the fsync check is off too.
    pub require_persistence: bool,
    /// Refuse a server whose `appendfsync` is not `always`, or that does not answer
    /// `CONFIG GET appendfsync`. Default `true`; only checked while
    /// [`Self::require_persistence`] is on.
    pub require_fsync_always: bool,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "citysec:".to_owned(),
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(2),
            require_persistence: true,
            require_fsync_always: true,
        }
    }
}

impl RedisOptions {
    /// These options with another key prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// These options with other timeouts for connecting and for each answer.
    #[must_use]
    pub const fn with_timeouts(mut self, connect: Duration, io: Duration) -> Self {
        self.connect_timeout = connect;
        self.io_timeout = io;
        self
    }

    /// These options accepting a server without an append-only file or with an
    /// `allkeys-*` eviction policy, whatever its `appendfsync`. Only for tests: a
    /// restart of such a server forgets the windows, and every envelope seen
    /// before is accepted again; one that restarts from a snapshot can make used
    /// nonces unused again.
    #[must_use]
    pub const fn allow_volatile_server(mut self) -> Self {
        self.require_persistence = false;
        self
    }

    /// These options accepting a server whose `appendfsync` is not `always`
    /// (`everysec`, Redis's default, or `no`), or that refuses `CONFIG GET`
    /// (managed services often do). The risk, taken knowingly: a crash of the
    /// Redis process or its machine can lose updates the store was told were
    /// written (up to about two seconds of them with `everysec`), and after the
    /// restart the envelopes of those updates are accepted again and the nonces
    /// used in them are usable again. The append-only file and eviction checks
    /// stay on.
    #[must_use]
    pub const fn allow_relaxed_fsync(mut self) -> Self {
        self.require_fsync_always = false;
        self
    }
}

/// One connection to Redis, made again after any failure.
struct Link {
    client: redis::Client,
    /// `host:port` or the socket path, never the password.
    addr: String,
    con: Option<Connection>,
    options: RedisOptions,
    kind: StoreKind,
    scripts: Vec<redis::Script>,
    last_error: Option<String>,
}

/// Which store a [`Link`] serves: what the server is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    /// Replay windows: persistence, fsync and eviction checked.
    Replay,
    /// Nonces: persistence and fsync checked (an evicted nonce fails closed).
    Nonce,
}

/// Why a connection could not be made.
enum ConnectError {
    /// Unreachable, or it failed; in words.
    Failed(String),
    /// Reached, and refused for its configuration.
    Refused(RedisRefusal),
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("addr", &self.addr)
            .field("connected", &self.con.is_some())
            .field("options", &self.options)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

impl Link {
    fn open(url: &str, options: RedisOptions, kind: StoreKind, scripts: &[&str]) -> crate::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| crate::Error::Store(format!("invalid redis url: {e}")))?;
        let addr = client.get_connection_info().addr().to_string();
        let mut link = Self {
            client,
            addr,
            con: None,
            options,
            kind,
            scripts: scripts.iter().map(|s| redis::Script::new(s)).collect(),
            last_error: None,
        };
        let con = link.connect().map_err(|e| match e {
            ConnectError::Failed(msg) => crate::Error::Store(msg),
            ConnectError::Refused(reason) => crate::Error::RedisRefused {
                addr: link.addr.clone(),
                reason,
            },
        })?;
        link.con = Some(con);
        Ok(link)
    }

    /// The open connection, or a new one (timeouts set, server checked, scripts
    /// loaded).
    fn connection(&mut self) -> Result<&mut Connection, String> {
        if self.con.is_none() {
            let con = self.connect().map_err(|e| match e {
                ConnectError::Failed(msg) => msg,
                ConnectError::Refused(reason) => crate::Error::RedisRefused {
                    addr: self.addr.clone(),
                    reason,
                }
                .to_string(),
            })?;
            self.con = Some(con);
        }
        self.con.as_mut().ok_or_else(|| "no connection".to_owned())
    }

    fn connect(&self) -> Result<Connection, ConnectError> {
        let unreachable = |e: RedisError| ConnectError::Failed(format!("redis at `{}` unreachable: {e}", self.addr));
        let mut con = self
            .client
            .get_connection_with_timeout(self.options.connect_timeout)
            .map_err(unreachable)?;
        let io = Some(self.options.io_timeout);
        con.set_read_timeout(io).map_err(unreachable)?;
        con.set_write_timeout(io).map_err(unreachable)?;
        if self.options.require_persistence {
            self.check_server(&mut con)?;
        }
        for script in &self.scripts {
            script
                .load(&mut con)
                .map_err(|e| ConnectError::Failed(format!("redis at `{}` refused a script: {e}", self.addr)))?;
        }
        Ok(con)
    }

    /// Refuses a server that would forget or lose what the store records (the
    /// checks of the module docs, in that order).
    fn check_server(&self, con: &mut Connection) -> Result<(), ConnectError> {
        let (persistence, memory): (String, String) = redis::pipe()
            .cmd("INFO")
            .arg("persistence")
            .cmd("INFO")
            .arg("memory")
            .query(con)
            .map_err(|e| ConnectError::Failed(format!("redis at `{}` unreachable: {e}", self.addr)))?;
        let field = |text: &str, name: &str| -> Option<String> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(|v| v.trim().to_owned()))
        };
        if field(&persistence, "aof_enabled").as_deref() != Some("1") {
            return Err(ConnectError::Refused(RedisRefusal::NoAppendOnlyFile));
        }
        if self.options.require_fsync_always {
            let fsync = config_get(con, "appendfsync").map_err(|e| {
                if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                    ConnectError::Failed(format!("redis at `{}` unreachable: {e}", self.addr))
                } else {
                    ConnectError::Refused(RedisRefusal::FsyncUnknown(e.to_string()))
                }
            })?;
            match fsync {
                Some(v) if v.eq_ignore_ascii_case("always") => {}
                Some(v) => return Err(ConnectError::Refused(RedisRefusal::FsyncNotAlways(v))),
                None => {
                    return Err(ConnectError::Refused(RedisRefusal::FsyncUnknown(
                        "no `appendfsync` in the answer".to_owned(),
                    )));
                }
            }
        }
        if self.kind == StoreKind::Replay
            && let Some(policy) = field(&memory, "maxmemory_policy")
            && policy.starts_with("allkeys-")
        {
            return Err(ConnectError::Refused(RedisRefusal::EvictsAnyKey(policy)));
        }
        Ok(())
    }

    /// Runs `f` on the connection. On failure the connection is dropped; if an old
    /// connection broke (Redis may have restarted since it was made), `f` runs once
    /// more on a new one. The error, in words, is kept in `last_error`.
    fn run<T>(&mut self, mut f: impl FnMut(&mut Connection) -> RedisResult<T>) -> Result<T, String> {
        let reused = self.con.is_some();
        let mut attempt = |link: &mut Self| -> Result<T, (String, bool)> {
            let con = link.connection().map_err(|e| (e, false))?;
            let r = f(con).map_err(|e| {
                let broken = e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal();
                if broken || e.is_timeout() {
                    (format!("redis at `{}` unreachable: {e}", link.addr), broken)
                } else {
                    (format!("redis at `{}` failed: {e}", link.addr), false)
                }
            });
            if r.is_err() {
                link.con = None;
            }
            r
        };
        let r = match attempt(self) {
            Err((_, true)) if reused => attempt(self),
            r => r,
        }
        .map_err(|(e, _)| e);
        match &r {
            Ok(_) => self.last_error = None,
            Err(e) => self.last_error = Some(e.clone()),
        }
        r
    }
}

/// The value of one setting by `CONFIG GET` (`None` if the server has no such
/// setting). The answer is a list of name, value pairs (RESP2) or a map (RESP3).
fn config_get(con: &mut Connection, name: &str) -> RedisResult<Option<String>> {
    let pairs: std::collections::HashMap<String, String> = redis::cmd("CONFIG").arg("GET").arg(name).query(con)?;
    Ok(pairs
        .into_iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case(name).then_some(v)))
}

/// The Redis key of something: `prefix`, `kind`, the id in hex (in braces for a
/// cluster hash tag).
fn key(prefix: &str, kind: &str, id: &[u8], tag: bool) -> String {
    let mut k = String::with_capacity(
        prefix
            .len()
            .saturating_add(kind.len())
            .saturating_add(id.len().saturating_mul(2))
            .saturating_add(2),
    );
    k.push_str(prefix);
    k.push_str(kind);
    if tag {
        k.push('{');
    }
    for b in id {
        let _ = write!(k, "{b:02x}");
    }
    if tag {
        k.push('}');
    }
    k
}

/// Replay windows in Redis, shared by every gateway that uses the same server and
/// prefix: the check and update of a window is one Lua script on the server
/// ([`SharedReplayStore::check_and_update`]; a receiver takes it as
/// `Shared(store)`), so of several gateways that receive the
/// same envelope exactly one accepts it. A batch goes to the server in one
/// round trip (scripts of up to 512 envelopes each, pipelined).
///
/// Durability is the server's: the store refuses a server without an append-only
/// file (`appendonly yes`), with an `appendfsync` other than `always`, or with an
/// `allkeys-*` eviction policy, checked on every (re)connection (see the
/// [module docs](self#durability-what-the-stores-demand-of-the-server) for why and
/// for the opt-outs). What is *not* checked: replication (a failover to a replica
/// that had not received the last updates would accept those envelopes again), and
/// who else may write to the keys.
#[derive(Debug)]
pub struct RedisReplayStore {
    link: Mutex<Link>,
    prefix: String,
    /// SHA-1 of the check-and-update script (loaded on every connection).
    script_sha: String,
}

impl RedisReplayStore {
    /// Connects to the server at `url` (`redis://[:password@]host[:port][/db]`,
    /// `redis+unix:///path`) with the default [`RedisOptions`].
    ///
    /// # Errors
    /// [`crate::Error::Store`] if the url is invalid or the server unreachable;
    /// [`crate::Error::RedisRefused`] if the server could lose or forget windows
    /// (no append-only file, `appendfsync` not `always`, `allkeys-*` eviction).
    pub fn open(url: &str) -> crate::Result<Self> {
        Self::open_with(url, RedisOptions::default())
    }

    /// As [`Self::open`], with `options`.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with(url: &str, options: RedisOptions) -> crate::Result<Self> {
        let prefix = options.prefix.clone();
        let link = Link::open(url, options, StoreKind::Replay, &[REPLAY_SCRIPT])?;
        Ok(Self {
            link: Mutex::new(link),
            prefix,
            script_sha: redis::Script::new(REPLAY_SCRIPT).get_hash().to_owned(),
        })
    }

    /// Why the last call failed, in words (`None` after a success): what an
    /// operator needs when the receiver reports
    /// [`citysec_telemetry::Error::ReplayStore`].
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.link.lock().ok().and_then(|l| l.last_error.clone())
    }

    fn key(&self, device: &[u8]) -> String {
        key(&self.prefix, "replay:", device, true)
    }

    fn run<T>(&self, f: impl FnMut(&mut Connection) -> RedisResult<T>) -> citysec_telemetry::Result<T> {
        let mut link = self.link.lock().map_err(|_| TelemetryError::ReplayStore)?;
        link.run(f).map_err(|_| TelemetryError::ReplayStore)
    }
}

impl RedisReplayStore {
    /// Replaces the stored windows (one `MULTI`/`EXEC`). Not needed by a receiver,
    /// which uses [`SharedReplayStore::check_and_update`]; for moving windows between
    /// stores. Racing with gateways that accept envelopes, it can undo their
    /// updates: do not use it on a live fleet.
    ///
    /// # Errors
    /// [`citysec_telemetry::Error::ReplayStore`] if the server refused or could not be reached.
    pub fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (device, window) in updates {
            let key = self.key(device);
            match window_to_ring(window)? {
                Some(ring) => pipe.cmd("SET").arg(key).arg(ring.as_slice()).ignore(),
                None => pipe.cmd("DEL").arg(key).ignore(),
            };
        }
        self.run(|con| pipe.query::<()>(con))
    }
}

impl SharedReplayStore for RedisReplayStore {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        let key = self.key(device);
        let raw: Option<Vec<u8>> = self.run(|con| redis::cmd("GET").arg(&key).query(con))?;
        raw.map(|r| ring_to_window(&r)).transpose()
    }

    fn check_and_update(
        &mut self,
        items: &[(&[u8], u64)],
        window: u32,
    ) -> citysec_telemetry::Result<Vec<citysec_telemetry::Result<()>>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // The script computes in doubles; every valid sequence number fits.
        if items.iter().any(|(_, seq)| *seq > MAX_SEQ) {
            return Err(TelemetryError::ReplayStore);
        }
        let size = window.clamp(1, MAX_WINDOW);
        let prefix = &self.prefix;
        let calls: Vec<redis::Cmd> = items
            .chunks(ITEMS_PER_SCRIPT)
            .map(|chunk| {
                let mut cmd = redis::cmd("EVALSHA");
                cmd.arg(&self.script_sha).arg(chunk.len());
                for (device, _) in chunk {
                    cmd.arg(key(prefix, "replay:", device, true));
                }
                cmd.arg(size);
                for (_, seq) in chunk {
                    cmd.arg(*seq);
                }
                cmd
            })
            .collect();
        let answers: Vec<Vec<i64>> = self.run(|con| {
            let mut pipe = redis::pipe();
            for c in &calls {
                pipe.add_command(c.clone());
            }
            pipe.query(con)
        })?;
        let codes: Vec<i64> = answers.into_iter().flatten().collect();
        if codes.len() != items.len() {
            return Err(TelemetryError::ReplayStore);
        }
        codes
            .into_iter()
            .map(|c| match c {
                1 => Ok(Ok(())),
                2 => Ok(Err(TelemetryError::Replay)),
                3 => Ok(Err(TelemetryError::OutsideWindow)),
                _ => Err(TelemetryError::ReplayStore),
            })
            .collect()
    }
}

/// A window as stored in Redis, as a [`ReplayWindow`].
fn ring_to_window(raw: &[u8]) -> citysec_telemetry::Result<ReplayWindow> {
    let (head, ring) = raw.split_at_checked(8).ok_or(TelemetryError::ReplayStore)?;
    if raw.len() != RING_BYTES {
        return Err(TelemetryError::ReplayStore);
    }
    let top = u64::from_be_bytes(head.try_into().map_err(|_| TelemetryError::ReplayStore)?);
    let mut words = [0u64; (MAX_WINDOW as usize) / 64];
    for back in 0..u64::from(MAX_WINDOW).min(top.saturating_add(1)) {
        let seq = top.saturating_sub(back);
        if ring_bit(ring, seq) {
            set_word_bit(&mut words, back);
        }
    }
    let mut bytes = [0u8; WINDOW_BYTES];
    let (flag, rest) = bytes.split_at_mut(1);
    let (top_bytes, word_bytes) = rest.split_at_mut(8);
    flag.fill(1);
    top_bytes.copy_from_slice(&top.to_be_bytes());
    for (chunk, w) in word_bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    ReplayWindow::from_bytes(&bytes).map_err(|_| TelemetryError::ReplayStore)
}

/// A [`ReplayWindow`] as stored in Redis (`None` for an empty window).
fn window_to_ring(w: &ReplayWindow) -> citysec_telemetry::Result<Option<[u8; RING_BYTES]>> {
    let Some(top) = w.top() else { return Ok(None) };
    let bytes = w.to_bytes();
    let words = bytes.get(9..).ok_or(TelemetryError::ReplayStore)?;
    let mut out = [0u8; RING_BYTES];
    let (head, ring) = out.split_at_mut(8);
    head.copy_from_slice(&top.to_be_bytes());
    for (word_index, chunk) in (0u64..).zip(words.chunks_exact(8)) {
        let word = u64::from_be_bytes(chunk.try_into().map_err(|_| TelemetryError::ReplayStore)?);
        for bit in 0..64u64 {
            if word & (1u64 << bit) == 0 {
                continue;
            }
            let back = word_index.saturating_mul(64).saturating_add(bit);
            if let Some(seq) = top.checked_sub(back) {
                set_ring_bit(ring, seq);
            }
        }
    }
    Ok(Some(out))
}

/// Byte and mask of `seq`'s bit in the ring (Redis bit order: most significant first).
fn ring_pos(seq: u64) -> (usize, u8) {
    let slot = seq.rem_euclid(RING_BITS as u64);
    let byte = usize::try_from(slot / 8).unwrap_or(usize::MAX);
    let shift = u32::try_from(slot.rem_euclid(8)).unwrap_or(0);
    (byte, 0x80u8.wrapping_shr(shift))
}

fn ring_bit(ring: &[u8], seq: u64) -> bool {
    let (byte, mask) = ring_pos(seq);
    ring.get(byte).is_some_and(|b| b & mask != 0)
}

fn set_ring_bit(ring: &mut [u8], seq: u64) {
    let (byte, mask) = ring_pos(seq);
    if let Some(b) = ring.get_mut(byte) {
        *b |= mask;
    }
}

fn set_word_bit(words: &mut [u64], back: u64) {
    let word = usize::try_from(back / 64).unwrap_or(usize::MAX);
    if let Some(w) = words.get_mut(word) {
        *w |= 1u64.wrapping_shl(u32::try_from(back.rem_euclid(64)).unwrap_or(0));
    }
}

/// Attestation nonces in Redis, shared by every verifier that uses the same server
/// and prefix: a challenge is `SET ... NX EX` with the nonce's lifetime as the
/// server-side TTL, and using a nonce is one Lua script (known, not used, not
/// expired, then marked used), so of two verifiers given the same evidence only
/// one accepts it. Used nonces stay until they expire, so a replay is reported as
/// such ([`citysec_attest::Error::NonceReplayed`]).
///
/// While Redis cannot be reached or fails, challenges and appraisals are refused
/// with [`citysec_attest::Error::NonceStoreUnavailable`]; [`Self::last_error`]
/// says why. Expiry is judged by the `now` the caller passes; the TTL only removes
/// the key. Like the replay store it refuses a server without an append-only file
/// or with an `appendfsync` other than `always` (not one that evicts: an evicted
/// nonce is refused as unknown); see the
/// [module docs](self#durability-what-the-stores-demand-of-the-server).
#[derive(Debug)]
pub struct RedisNonceStore {
    link: Link,
    prefix: String,
    consume_script: redis::Script,
}

impl RedisNonceStore {
    /// Connects to the server at `url` with the default [`RedisOptions`].
    ///
    /// # Errors
    /// [`crate::Error::Store`] if the url is invalid or the server unreachable;
    /// [`crate::Error::RedisRefused`] if the server could lose nonces or their use
    /// (no append-only file, `appendfsync` not `always`).
    pub fn open(url: &str) -> crate::Result<Self> {
        Self::open_with(url, RedisOptions::default())
    }

    /// As [`Self::open`], with `options`.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with(url: &str, options: RedisOptions) -> crate::Result<Self> {
        let prefix = options.prefix.clone();
        let link = Link::open(url, options, StoreKind::Nonce, &[CONSUME_SCRIPT])?;
        Ok(Self {
            link,
            prefix,
            consume_script: redis::Script::new(CONSUME_SCRIPT),
        })
    }

    /// Why the last call failed, in words (`None` after a success).
    #[must_use]
    pub fn last_error(&self) -> Option<&str> {
        self.link.last_error.as_deref()
    }

    fn key(&self, nonce: &[u8]) -> String {
        key(&self.prefix, "nonce:", nonce, false)
    }
}

impl NonceStore for RedisNonceStore {
    fn insert(&mut self, nonce: &[u8], expires: Timestamp, now: Timestamp) -> citysec_attest::Result<()> {
        if nonce.len() < MIN_CHALLENGE_NONCE_LEN || !NONCE_LEN_RANGE.contains(&nonce.len()) {
            return Err(citysec_attest::Error::InvalidNonce);
        }
        let key = self.key(nonce);
        let ttl = expires.as_unix_seconds().saturating_sub(now.as_unix_seconds()).max(1);
        let expires = expires.as_unix_seconds();
        let set: Option<String> = self
            .link
            .run(|con| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(expires)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl)
                    .query(con)
            })
            .map_err(|_| citysec_attest::Error::NonceStoreUnavailable)?;
        match set {
            Some(_) => Ok(()),
            None => Err(citysec_attest::Error::InvalidNonce),
        }
    }

    fn consume(&mut self, nonce: &[u8], now: Timestamp) -> citysec_attest::Result<()> {
        let key = self.key(nonce);
        let now = now.as_unix_seconds();
        let code: i64 = self
            .link
            .run(|con| self.consume_script.key(&key).arg(now).invoke(con))
            .map_err(|_| citysec_attest::Error::NonceStoreUnavailable)?;
        match code {
            1 => Ok(()),
            2 => Err(citysec_attest::Error::NonceReplayed),
            3 => Err(citysec_attest::Error::NonceExpired),
            _ => Err(citysec_attest::Error::UnknownNonce),
        }
    }
}

#[cfg(test)]
mod tests;
