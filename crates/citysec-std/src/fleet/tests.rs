#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_telemetry::window::ReplayWindow;

use super::{RING_BYTES, key, ring_to_window, window_to_ring};

fn window(seqs: &[u64], size: u32) -> ReplayWindow {
    let mut w = ReplayWindow::new();
    for s in seqs {
        if w.check(*s, size).is_ok() {
            w.accept(*s, size);
        }
    }
    w
}

#[test]
fn windows_survive_the_ring_form() {
    let cases: [(&[u64], u32); 6] = [
        (&[0], 64),
        (&[5, 3, 1], 64),
        (&[1000, 999, 10, 2000, 1990, 1500], 1024),
        (&[7, 70, 700, 7000, 6999, 6100], 1024),
        (&[(1 << 40) - 1, (1 << 40) - 2, (1 << 40) - 1024], 1024),
        (&[3, 1027, 1026, 4, 5], 1024),
    ];
    for (seqs, size) in cases {
        let w = window(seqs, size);
        let ring = window_to_ring(&w).unwrap().unwrap();
        assert_eq!(ring.len(), RING_BYTES);
        assert_eq!(ring_to_window(&ring).unwrap(), w, "{seqs:?}");
    }
    assert_eq!(window_to_ring(&ReplayWindow::new()).unwrap(), None);
}

#[test]
fn malformed_rings_are_refused() {
    assert!(ring_to_window(&[0; 8]).is_err());
    assert!(ring_to_window(&[0; RING_BYTES + 1]).is_err());
    assert!(ring_to_window(&[]).is_err());
}

#[test]
fn keys_are_hex_with_a_hash_tag() {
    assert_eq!(
        key("citysec:", "replay:", b"\x00\xffa", true),
        "citysec:replay:{00ff61}"
    );
    assert_eq!(key("p/", "nonce:", b"\x01", false), "p/nonce:01");
}
