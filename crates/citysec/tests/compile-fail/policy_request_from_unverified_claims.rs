// A policy request is built from a verified credential only: claims that no
// verifier checked do not fit.
use citysec::credential::Claims;
use citysec::door::{Door, LocalTime, RequestFacts};
use citysec::policy::Weekday;

fn main() {
    let mut claims = Claims::new();
    claims.roles = vec!["admin".into()];
    let door = Door::new("lobby-east", "lobby", vec![1u8; 7]);
    let time = LocalTime::new(Weekday::Mon, 600).unwrap();
    let _facts = RequestFacts::new(&door, &claims, None, time, 0);
}
