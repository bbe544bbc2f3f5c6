//! `--store redis://...` against a real `redis-server`: a server whose
//! `appendfsync` is not `always` is refused by `telemetry open` and
//! `attest challenge` with exit 2 and the store's reason; the same server at
//! `always` is used.
//!
//! Built only with the `redis-tests` feature
//! (`cargo test -p citysec-cli --features redis-tests --test redis`); it starts its
//! own `redis-server` (on the PATH) on a loopback port from 6459 up
//! (`CITYSEC_CLI_REDIS_PORT` to move it) and kills it at the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use core::time::Duration;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

mod common;
use common::{citysec, text};

/// A `redis-server` at `appendfsync everysec`, killed on drop.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let base: u16 = std::env::var("CITYSEC_CLI_REDIS_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(6459);
        let dir = tempfile::tempdir().unwrap();
        for port in base..base + 20 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                continue;
            }
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(dir.path())
                .args(["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run `redis-server` ({e}); these tests do not skip"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self { child, port, _dir: dir };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start redis-server on any port from {base}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `CONFIG SET appendfsync mode` through the CLI-independent client.
    fn set_fsync(&self, mode: &str) {
        use std::io::{Read as _, Write as _};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let cmd = format!(
            "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nappendfsync\r\n${}\r\n{mode}\r\n",
            mode.len()
        );
        s.write_all(cmd.as_bytes()).unwrap();
        let mut answer = [0u8; 5];
        s.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"+OK\r\n");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn store_without_appendfsync_always_is_refused_with_exit_2() {
    let server = Server::start();
    let url = server.url();
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    assert_eq!(text(&citysec(&["telemetry", "new-master", "--out", &p("m")])).0, 0);
    std::fs::write(p("r.json"), b"{\"no2\": 38}\n").unwrap();
    let o = citysec(&[
        "telemetry",
        "seal",
        "--master",
        &p("m"),
        "--device",
        "sensor-1",
        "--seq",
        "1",
        "--topic",
        "city/air",
        &p("r.json"),
        &p("e1"),
    ]);
    assert_eq!(text(&o).0, 0, "{}", text(&o).2);
    let reason = format!(
        "redis at `127.0.0.1:{}` refused: it runs `appendfsync everysec`, so a crash can lose acknowledged \
         updates; set `appendfsync always`",
        server.port
    );
    let open = || citysec(&["telemetry", "open", "--master", &p("m"), "--store", &url, &p("e1")]);
    let (code, out, err) = text(&open());
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(err.trim_end(), format!("error: {reason}"));
    let challenge = || citysec(&["attest", "challenge", "--store", &url, "--out", &p("c.cbor")]);
    let (code, out, err) = text(&challenge());
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(err.trim_end(), format!("error: {reason}"));
    assert!(!d.path().join("c.cbor").exists());

    // The same server at `always`: used.
    server.set_fsync("always");
    let (code, _, err) = text(&open());
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = text(&open());
    assert_eq!(code, 1, "the replay is refused: {err}");
    let (code, _, err) = text(&challenge());
    assert_eq!(code, 0, "{err}");
    assert!(d.path().join("c.cbor").exists());
}
