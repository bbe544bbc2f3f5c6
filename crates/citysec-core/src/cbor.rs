//! citysec's one CBOR codec: a strict, allocation-free well-formedness pass, a
//! zero-copy [`Reader`] for fixed layouts, the major-type constants, and the
//! encoder every crate writes with ([`write`](mod@write)).
//!
//! ciborium (under coset) accepts duplicate map keys and silently joins
//! indefinite-length chunks, so every signed or encrypted object passes through
//! [`check_well_formed`] before coset sees it. The pass enforces the citysec profile:
//! definite lengths only, no duplicate map keys at any depth, valid UTF-8 text, no
//! reserved encodings, declared lengths within the bytes present, and the
//! [`Limits`] on size, depth and entries. It allocates nothing, so it runs the same
//! on firmware.
//!
//! # Work and scratch memory
//!
//! The pass is linear in the input, whatever its shape. [`check_counted`] counts its
//! steps (one per head read, per byte of text validated, per byte of key content
//! compared, per slot moved in a sorted key array; a byte string is skipped in one
//! step); on any input of `n` bytes, accepted or refused, it takes at most
//! [`STEPS_PER_BYTE`]` * n + 1` steps (the one for an empty input). Why: every item
//! has its own head byte and every text byte is its own, so reading costs at most
//! `n`. A key of `s` bytes in an ascending map is compared once with its predecessor
//! (two heads and, for equal heads, its content: at most `2 * s` steps). In a map
//! whose keys are not ascending (at most [`UNSORTED_MAP_MAX`] = 32 entries) a key is
//! compared with its predecessor and then binary-searched among at most 31 kept keys
//! (at most 6 comparisons, `12 * s` steps), and up to 31 positions move to make room.
//! An entry is at least two bytes (key and value), so the worst entry, a one-byte
//! key and a one-byte value inserted at the front of a 32-entry map, costs
//! `2 + 12 + 31 = 45` steps for 2 bytes, 22.5 per byte; ascending maps cost at most
//! 3 per byte. Unsorted maps may hold at most [`UNSORTED_ENTRIES_MAX`] = 256
//! entries in one whole message, so beyond a fixed amount of work for those the
//! worst case is an ascending map of long keys that differ only at their ends or a
//! run of one-byte items. The unit tests build these shapes and check the bound.
//!
//! Scratch memory: nothing on the heap. The pass recurses once per container level,
//! at most [`Limits::max_depth`]` + 1` frames (17 at the default depth 16; tags
//! allowed by [`Tags::Allow`] count as levels). A map's frame keeps its key state,
//! `MapKeys`: four words, a flag and 32 key positions, 152 bytes on a 32-bit target
//! (304 on 64-bit), so at the default limits the key state of the deepest path is
//! `17 * 152 = 2,584` bytes on firmware (5,168 on 64-bit), plus the frames' own
//! registers and return addresses. A caller that raises `max_depth` raises this
//! bound with it.
//!
//! [`to_value`] (display and claim values) recurses once per level up to its own
//! limit of 256 levels (ciborium's); every caller in citysec runs this pass first,
//! which bounds the depth to [`Limits::max_depth`].

use crate::{Error, Limits, Result};

mod value;
pub mod write;
pub use value::to_value;

/// Major type 0: an unsigned integer.
pub const MAJOR_UINT: u8 = 0;
/// Major type 1: a negative integer (-1 - argument).
pub const MAJOR_NINT: u8 = 1;
/// Major type 2: a byte string.
pub const MAJOR_BYTES: u8 = 2;
/// Major type 3: a text string (UTF-8).
pub const MAJOR_TEXT: u8 = 3;
/// Major type 4: an array.
pub const MAJOR_ARRAY: u8 = 4;
/// Major type 5: a map.
pub const MAJOR_MAP: u8 = 5;
/// Major type 6: a tag.
pub const MAJOR_TAG: u8 = 6;
/// Major type 7: simple values and floats.
pub const MAJOR_SIMPLE: u8 = 7;

/// Whether the pass accepts CBOR tags inside the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tags {
    /// Any tag rejects with [`Error::UnexpectedTag`] (COSE structures, headers).
    Forbid,
    /// Tags are accepted and count towards the depth (application payloads).
    Allow,
}

/// A zero-copy cursor over untrusted CBOR bytes: reads heads and definite strings,
/// refusing indefinite lengths, reserved encodings and lengths beyond the input.
/// Fixed-layout decoders (telemetry envelopes) build on it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The head of a data item: its major type and argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Major type, 0..=7.
    pub major: u8,
    /// The argument: a value, a length or a count.
    pub arg: u64,
    /// Whether this is a floating-point number (major type 7, 2-, 4- or 8-byte form).
    pub float: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    #[must_use]
    #[inline]
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Bytes read so far.
    #[must_use]
    #[inline]
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or(Error::Malformed)?;
        self.pos = self.pos.checked_add(1).ok_or(Error::Malformed)?;
        Ok(b)
    }

    /// The bytes from `start` to the current position.
    ///
    /// # Errors
    /// [`Error::Malformed`] if `start` lies beyond the position.
    #[inline]
    pub fn slice_from(&self, start: usize) -> Result<&'a [u8]> {
        self.bytes.get(start..self.pos).ok_or(Error::Malformed)
    }

    /// Takes the next `len` bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`] if fewer remain.
    #[inline]
    pub fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).ok_or(Error::Malformed)?;
        let s = self.bytes.get(self.pos..end).ok_or(Error::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    /// Reads one head. Indefinite lengths and reserved encodings reject.
    ///
    /// # Errors
    /// [`Error::IndefiniteLength`], [`Error::Malformed`].
    #[inline]
    pub fn head(&mut self) -> Result<Head> {
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.array::<2>()?)),
            26 => u64::from(u32::from_be_bytes(self.array::<4>()?)),
            27 => u64::from_be_bytes(self.array::<8>()?),
            31 => return Err(Error::IndefiniteLength),
            _ => return Err(Error::Malformed),
        };
        if major == MAJOR_SIMPLE && info == 24 && arg < 32 {
            // RFC 8949 3.3: simple values 0..=31 in the one-byte form are not well-formed.
            return Err(Error::Malformed);
        }
        Ok(Head {
            major,
            arg,
            float: major == MAJOR_SIMPLE && (25..=27).contains(&info),
        })
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Takes the content of a definite byte or text string whose head was just read
    /// (text is not checked for UTF-8 here).
    ///
    /// # Errors
    /// [`Error::Malformed`] if the length exceeds the input.
    #[inline]
    pub fn take_string(&mut self, head: Head) -> Result<&'a [u8]> {
        let len = usize::try_from(head.arg).map_err(|_| Error::Malformed)?;
        self.take(len)
    }
}

/// Which encodings of a well-formed item the pass accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    /// Any well-formed encoding under the citysec profile (objects from other
    /// implementations: credentials, COSE structures, keys).
    Any,
    /// RFC 8949 §4.2.1 deterministic encoding in full (formats citysec defines).
    Deterministic,
}

/// Checks that `bytes` is exactly one well-formed CBOR item under the citysec profile.
///
/// Map keys must be integers or strings and distinct by value at every depth. The
/// duplicate check is exact and linear: keys in ascending order (the order of RFC 8949
/// §4.2.1, which for integer and string keys is: major type, then value or length, then
/// content) are compared only with their predecessor; a map whose keys are not in that
/// order may hold at most [`UNSORTED_MAP_MAX`] entries, such maps at most
/// [`UNSORTED_ENTRIES_MAX`] entries in the whole item ([`Error::UnsortedMap`] above
/// either), and an unsorted map's keys are kept sorted in a fixed array on the
/// stack. Nothing is allocated.
///
/// # Errors
/// [`Error::TooLarge`] before anything is read if `bytes` exceeds the size limit;
/// then the first violation found: [`Error::Malformed`], [`Error::IndefiniteLength`],
/// [`Error::DuplicateMapKey`], [`Error::UnsortedMap`], [`Error::TooDeep`],
/// [`Error::TooManyEntries`], [`Error::UnexpectedTag`], or [`Error::TrailingBytes`].
pub fn check_well_formed(bytes: &[u8], limits: &Limits, tags: Tags) -> Result<()> {
    check(bytes, limits, tags, Encoding::Any)
}

/// Checks that `bytes` is exactly one item in RFC 8949 §4.2.1 deterministic encoding:
/// everything [`check_well_formed`] checks, and also every head in its shortest form,
/// floating-point values in the shortest form that keeps their value (NaN only as
/// `f9 7e00`), and the keys of every map in strictly ascending bytewise order of their
/// encodings. Formats citysec defines (telemetry envelopes, policy bundles, status
/// lists, evidence, attestation results) use this check: one object, one byte form.
///
/// # Errors
/// As [`check_well_formed`], and [`Error::NotDeterministic`] for a well-formed item in
/// another encoding (a key equal to its predecessor is [`Error::DuplicateMapKey`]).
pub fn check_deterministic(bytes: &[u8], limits: &Limits, tags: Tags) -> Result<()> {
    check(bytes, limits, tags, Encoding::Deterministic)
}

/// Runs [`check_well_formed`] (or, with `deterministic`, [`check_deterministic`]) and
/// counts its work: returns the outcome and the number of steps taken until it.
///
/// A step is one CBOR head read (by the walk or by a key comparison), one byte of
/// text validated as UTF-8, one byte of key content compared, or one slot moved in
/// an unsorted map's sorted key array. Byte strings are skipped in one step whatever
/// their length. The count is what the linear-work tests and benchmarks measure
/// (`tests/linear_work.rs`); see the module docs for the bound.
pub fn check_counted(bytes: &[u8], limits: &Limits, tags: Tags, deterministic: bool) -> (Result<()>, usize) {
    let steps = Steps(core::cell::Cell::new(0));
    let encoding = if deterministic {
        Encoding::Deterministic
    } else {
        Encoding::Any
    };
    let outcome = check_metered(bytes, limits, tags, encoding, &steps);
    (outcome, steps.0.get())
}

fn check(bytes: &[u8], limits: &Limits, tags: Tags, encoding: Encoding) -> Result<()> {
    check_metered(bytes, limits, tags, encoding, &NoMeter)
}

fn check_metered<M: Meter>(bytes: &[u8], limits: &Limits, tags: Tags, encoding: Encoding, meter: &M) -> Result<()> {
    if bytes.len() > limits.max_message_size {
        return Err(Error::TooLarge);
    }
    let mut r = Reader::new(bytes);
    let profile = Profile {
        limits,
        tags,
        encoding,
        meter,
        unsorted: core::cell::Cell::new(0),
    };
    skip_item(&mut r, 0, &profile)?;
    if r.position() != bytes.len() {
        return Err(Error::TrailingBytes);
    }
    Ok(())
}

/// Counts the steps of one run of the pass.
trait Meter {
    /// Adds `steps`.
    fn add(&self, steps: usize);
}

/// The meter of the ordinary checks: counts nothing, and compiles to nothing.
struct NoMeter;

impl Meter for NoMeter {
    #[inline(always)]
    fn add(&self, _steps: usize) {}
}

/// A step counter (saturating).
struct Steps(core::cell::Cell<usize>);

impl Meter for Steps {
    fn add(&self, steps: usize) {
        self.0.set(self.0.get().saturating_add(steps));
    }
}

/// What one run of the pass enforces, and its meter.
struct Profile<'l, M> {
    limits: &'l Limits,
    tags: Tags,
    encoding: Encoding,
    meter: &'l M,
    /// Entries of maps whose keys are not ascending, so far in this message.
    unsorted: core::cell::Cell<usize>,
}

/// The bound on [`check_counted`]'s steps per input byte (see the module docs: the
/// worst entry, one-byte key and value at the front of an unsorted 32-entry map,
/// costs 45 steps for 2 bytes).
pub const STEPS_PER_BYTE: usize = 23;

/// Most entries of a map whose keys are not in ascending order (see
/// [`check_well_formed`]). Maps from other implementations (claims sets, headers,
/// keys) stay far below it; larger maps must be sorted.
pub const UNSORTED_MAP_MAX: usize = 32;

/// Most entries, over one whole message, of maps whose keys are not in ascending
/// order ([`Error::UnsortedMap`] above): objects from other implementations carry a
/// few such maps (headers, a claims set, a key), and the exact duplicate check of
/// an unsorted map costs more per byte than that of an ascending one, so its total
/// is bounded.
pub const UNSORTED_ENTRIES_MAX: usize = 256;

/// Skips one item, checking it; `depth` counts the containers around it.
fn skip_item<M: Meter>(r: &mut Reader<'_>, depth: usize, p: &Profile<'_, M>) -> Result<()> {
    if depth > p.limits.max_depth {
        return Err(Error::TooDeep);
    }
    let head_at = r.position();
    p.meter.add(1);
    let head = r.head()?;
    if p.encoding == Encoding::Deterministic {
        check_shortest(r.bytes.get(head_at..r.position()).ok_or(Error::Malformed)?, head)?;
    }
    match head.major {
        MAJOR_UINT | MAJOR_NINT => Ok(()),
        // false, true, null and floats. `undefined` and unassigned simple values have
        // no place in COSE, and decoders disagree on them (ciborium reads `undefined`
        // as null, so two distinct map keys could decode as one).
        MAJOR_SIMPLE => match head.arg {
            20..=22 => Ok(()),
            _ if head.float => Ok(()),
            _ => Err(Error::Malformed),
        },
        MAJOR_BYTES => r.take_string(head).map(|_| ()),
        MAJOR_TEXT => {
            let s = r.take_string(head)?;
            p.meter.add(s.len());
            core::str::from_utf8(s).map_err(|_| Error::Malformed)?;
            Ok(())
        }
        MAJOR_ARRAY => {
            let count = entry_count(r, head.arg, 1, p.limits)?;
            let inner = depth.checked_add(1).ok_or(Error::TooDeep)?;
            let small_ok = inner <= p.limits.max_depth;
            for _ in 0..count {
                if !(small_ok && skip_small(r, p.meter)) {
                    skip_item(r, inner, p)?;
                }
            }
            Ok(())
        }
        MAJOR_MAP => {
            let count = entry_count(r, head.arg, 2, p.limits)?;
            let inner = depth.checked_add(1).ok_or(Error::TooDeep)?;
            let small_ok = inner <= p.limits.max_depth;
            let mut keys = MapKeys::new(count);
            for _ in 0..count {
                let key_start = r.position();
                // Map keys are integers or strings: keys of other types have no
                // agreed equality, so "no duplicate keys" could not be checked.
                let key_major = r.remaining().first().map(|b| b >> 5);
                if !matches!(key_major, Some(MAJOR_UINT | MAJOR_NINT | MAJOR_BYTES | MAJOR_TEXT)) {
                    return Err(Error::Malformed);
                }
                if !(small_ok && skip_small(r, p.meter)) {
                    skip_item(r, inner, p)?;
                }
                keys.push(r.bytes, key_start, p.encoding, p.meter)?;
                if keys.unsorted_entries() > 0 {
                    let total = p.unsorted.get().saturating_add(keys.take_unsorted_entries());
                    if total > UNSORTED_ENTRIES_MAX {
                        return Err(Error::UnsortedMap);
                    }
                    p.unsorted.set(total);
                }
                if !(small_ok && skip_small(r, p.meter)) {
                    skip_item(r, inner, p)?;
                }
            }
            Ok(())
        }
        MAJOR_TAG => match p.tags {
            Tags::Forbid => Err(Error::UnexpectedTag),
            Tags::Allow => skip_item(r, depth.checked_add(1).ok_or(Error::TooDeep)?, p),
        },
        _ => Err(Error::Malformed),
    }
}

/// Skips the next item if it is one byte long (an integer -24..=23, `false`,
/// `true`, `null`): the common leaf, read without a call. Returns whether it did.
/// One-byte heads are always in shortest form.
#[inline(always)]
fn skip_small<M: Meter>(r: &mut Reader<'_>, meter: &M) -> bool {
    let Some(&b) = r.bytes.get(r.pos) else {
        return false;
    };
    let small = b < 0x18 || (0x20..0x38).contains(&b) || (0xf4..=0xf6).contains(&b);
    if small {
        meter.add(1);
        r.pos = r.pos.saturating_add(1);
    }
    small
}

/// Whether `raw` (one head as read, with `head` its decoding) is in the shortest form
/// RFC 8949 §4.2.1 asks for.
fn check_shortest(raw: &[u8], head: Head) -> Result<()> {
    let width = raw.len().saturating_sub(1);
    let shortest = if head.float {
        match raw.get(1..) {
            Some(&[a, b]) => is_preferred_half(u16::from_be_bytes([a, b])),
            Some(&[a, b, c, d]) => !fits_half(u32::from_be_bytes([a, b, c, d])),
            Some(&[a, b, c, d, e, f, g, h]) => !fits_single(u64::from_be_bytes([a, b, c, d, e, f, g, h])),
            _ => false,
        }
    } else {
        let needed = match head.arg {
            0..=23 => 0,
            24..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xffff_ffff => 4,
            _ => 8,
        };
        width == needed
    };
    if shortest { Ok(()) } else { Err(Error::NotDeterministic) }
}

/// A half-precision value in preferred form: any value, but NaN only as 0x7e00.
fn is_preferred_half(bits: u16) -> bool {
    let nan = bits & 0x7c00 == 0x7c00 && bits & 0x03ff != 0;
    !nan || bits == 0x7e00
}

/// Whether a single-precision value (or a NaN) could be written as a half: then the
/// four-byte form is not the shortest.
fn fits_half(bits: u32) -> bool {
    let exp = (bits >> 23) & 0xff;
    let mant = bits & 0x007f_ffff;
    if exp == 0xff {
        // infinities fit; NaNs have one preferred form, the half 0x7e00
        return true;
    }
    if exp == 0 {
        // zero fits; single subnormals are far below the half range
        return mant == 0;
    }
    // unbiased exponent in -126..=127
    let e = i32::try_from(exp).unwrap_or(0).saturating_sub(127);
    if (-14..=15).contains(&e) {
        // a normal half keeps 10 of the 23 fraction bits
        return mant & 0x1fff == 0;
    }
    if (-24..=-15).contains(&e) {
        // a subnormal half is k * 2^-24 with k < 1024: the significand 1.mant * 2^e
        // must be a multiple of 2^-24, so its lowest (23 - (e + 24)) bits are zero
        let significand = mant | 0x0080_0000;
        let needed_zero_bits = u32::try_from((-1_i32).saturating_sub(e)).unwrap_or(32);
        return needed_zero_bits < 32 && significand.trailing_zeros() >= needed_zero_bits;
    }
    false
}

/// Whether a double-precision value (or a NaN) could be written as a single (or a
/// half): then the eight-byte form is not the shortest.
fn fits_single(bits: u64) -> bool {
    let exp = (bits >> 52) & 0x7ff;
    let mant = bits & 0x000f_ffff_ffff_ffff;
    if exp == 0x7ff {
        return true;
    }
    if exp == 0 {
        return mant == 0;
    }
    let e = i64::try_from(exp).unwrap_or(0).saturating_sub(1023);
    if (-126..=127).contains(&e) {
        // a normal single keeps 23 of the 52 fraction bits
        return mant & 0x1fff_ffff == 0;
    }
    if (-149..=-127).contains(&e) {
        // a subnormal single is k * 2^-149 with k < 2^23
        let significand = mant | 0x0010_0000_0000_0000;
        // 1.mant * 2^e is a multiple of 2^-149 when its lowest 52 - (e + 149) bits are zero
        let needed_zero_bits = u32::try_from((-97_i64).saturating_sub(e)).unwrap_or(64);
        return needed_zero_bits < 64 && significand.trailing_zeros() >= needed_zero_bits;
    }
    false
}

/// The keys of one map as they are read, for the exact duplicate check.
struct MapKeys {
    /// Entries the map declares.
    count: usize,
    /// Keys read so far.
    seen: usize,
    /// Where the previous key starts.
    prev: Option<usize>,
    /// Whether every key so far was greater than its predecessor.
    ascending: bool,
    /// Entries of this map not yet charged to the message's unsorted total.
    uncharged: usize,
    /// The keys so far, sorted, while the map has at most `UNSORTED_MAP_MAX` entries.
    kept: [usize; UNSORTED_MAP_MAX],
}

impl MapKeys {
    const fn new(count: usize) -> Self {
        Self {
            count,
            seen: 0,
            prev: None,
            ascending: true,
            uncharged: 0,
            kept: [0; UNSORTED_MAP_MAX],
        }
    }

    /// Takes the key starting at `start` (already checked as one item).
    fn push<M: Meter>(&mut self, bytes: &[u8], start: usize, encoding: Encoding, meter: &M) -> Result<()> {
        let keep = self.count <= UNSORTED_MAP_MAX;
        if self.ascending {
            if let Some(prev) = self.prev {
                match cmp_keys(bytes, prev, start, meter)? {
                    core::cmp::Ordering::Less => {}
                    core::cmp::Ordering::Equal => return Err(Error::DuplicateMapKey),
                    core::cmp::Ordering::Greater => {
                        if encoding == Encoding::Deterministic {
                            return Err(Error::NotDeterministic);
                        }
                        if !keep {
                            return Err(Error::UnsortedMap);
                        }
                        self.ascending = false;
                        // the keys before this one now count as unsorted entries
                        self.uncharged = self.seen;
                    }
                }
            }
            self.prev = Some(start);
        }
        if keep {
            // `kept[..seen]` is sorted; find where this key goes.
            let kept = self.kept.get(..self.seen).ok_or(Error::Malformed)?;
            let at = if self.ascending {
                self.seen
            } else {
                let mut lo = 0usize;
                let mut hi = kept.len();
                while lo < hi {
                    let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
                    let probe = *kept.get(mid).ok_or(Error::Malformed)?;
                    match cmp_keys(bytes, probe, start, meter)? {
                        core::cmp::Ordering::Less => lo = mid.saturating_add(1),
                        core::cmp::Ordering::Equal => return Err(Error::DuplicateMapKey),
                        core::cmp::Ordering::Greater => hi = mid,
                    }
                }
                lo
            };
            let end = self.seen.checked_add(1).ok_or(Error::Malformed)?;
            let slots = self.kept.get_mut(at..end).ok_or(Error::Malformed)?;
            meter.add(slots.len().saturating_sub(1));
            slots.rotate_right(1);
            if let Some(slot) = slots.first_mut() {
                *slot = start;
            }
        }
        if !self.ascending {
            self.uncharged = self.uncharged.saturating_add(1);
        }
        self.seen = self.seen.saturating_add(1);
        Ok(())
    }

    /// Entries of this map found unsorted and not yet charged.
    const fn unsorted_entries(&self) -> usize {
        self.uncharged
    }

    /// Takes the uncharged unsorted entries (to charge them to the message).
    const fn take_unsorted_entries(&mut self) -> usize {
        let n = self.uncharged;
        self.uncharged = 0;
        n
    }
}

/// Orders two checked keys (integers or strings) starting at `a` and `b`: by major
/// type, then value or length, then content. For keys in shortest form this is the
/// bytewise order of their encodings (RFC 8949 §4.2.1); keys that compare equal
/// denote the same value whatever their encodings.
fn cmp_keys<M: Meter>(bytes: &[u8], a: usize, b: usize, meter: &M) -> Result<core::cmp::Ordering> {
    cmp_keys_at(Reader { bytes, pos: a }, Reader { bytes, pos: b }, meter)
}

/// As [`cmp_keys`], for keys at the positions of two readers (maybe over different bytes).
fn cmp_keys_at<M: Meter>(mut ra: Reader<'_>, mut rb: Reader<'_>, meter: &M) -> Result<core::cmp::Ordering> {
    meter.add(2);
    // Both heads in one byte (argument below 24): the initial bytes order the
    // keys by major type and argument, and equal string heads mean equal lengths.
    if let (Some(&a0), Some(&b0)) = (ra.bytes.get(ra.pos), rb.bytes.get(rb.pos))
        && a0 & 0x1f < 24
        && b0 & 0x1f < 24
    {
        let order = a0.cmp(&b0);
        if order.is_ne() || !matches!(a0 >> 5, MAJOR_BYTES | MAJOR_TEXT) {
            return Ok(order);
        }
        let len = usize::from(a0 & 0x1f);
        meter.add(len);
        return Ok(short_content(&ra, len)?.cmp(short_content(&rb, len)?));
    }
    let ha = ra.head()?;
    let hb = rb.head()?;
    let order = ha.major.cmp(&hb.major).then(ha.arg.cmp(&hb.arg));
    if order.is_ne() {
        return Ok(order);
    }
    Ok(match ha.major {
        MAJOR_BYTES | MAJOR_TEXT => {
            let sa = ra.take_string(ha)?;
            // Equal heads: both strings have this length.
            meter.add(sa.len());
            sa.cmp(rb.take_string(hb)?)
        }
        _ => order,
    })
}

/// The keys of one checked map (see [`maps_share_a_key`]), in ascending order.
#[expect(
    clippy::large_enum_variant,
    reason = "kept on the stack on purpose: nothing is allocated"
)]
enum SortedKeys<'a> {
    /// A map of at most [`UNSORTED_MAP_MAX`] entries: its key positions, sorted.
    Small {
        bytes: &'a [u8],
        keys: MapKeys,
        next: usize,
    },
    /// A larger map, whose keys the pass only accepts in ascending order: read in
    /// place, each key checked against its predecessor.
    Large {
        r: Reader<'a>,
        left: u64,
        prev: Option<usize>,
    },
}

impl<'a> SortedKeys<'a> {
    fn new(map: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(map);
        let h = r.head()?;
        if h.major != MAJOR_MAP {
            return Err(Error::Malformed);
        }
        let count = usize::try_from(h.arg).map_err(|_| Error::Malformed)?;
        if count > UNSORTED_MAP_MAX {
            return Ok(Self::Large {
                r,
                left: h.arg,
                prev: None,
            });
        }
        let mut keys = MapKeys::new(count);
        for _ in 0..count {
            let start = r.position();
            skip_checked(&mut r)?;
            keys.push(map, start, Encoding::Any, &NoMeter)?;
            skip_checked(&mut r)?;
        }
        Ok(Self::Small {
            bytes: map,
            keys,
            next: 0,
        })
    }

    /// A reader at the next key, in ascending order.
    fn next_key(&mut self) -> Result<Option<Reader<'a>>> {
        match self {
            Self::Small { bytes, keys, next } => {
                if *next >= keys.seen {
                    return Ok(None);
                }
                let pos = *keys.kept.get(*next).ok_or(Error::Malformed)?;
                *next = next.saturating_add(1);
                Ok(Some(Reader { bytes, pos }))
            }
            Self::Large { r, left, prev } => {
                if *left == 0 {
                    return Ok(None);
                }
                *left = left.saturating_sub(1);
                let at = r.position();
                if let Some(p) = *prev
                    && cmp_keys(r.bytes, p, at, &NoMeter)?.is_ge()
                {
                    return Err(Error::UnsortedMap);
                }
                *prev = Some(at);
                let key = r.clone();
                skip_checked(r)?;
                skip_checked(r)?;
                Ok(Some(key))
            }
        }
    }
}

/// Whether two maps that passed [`check_well_formed`] have a key in common (equal by
/// value, as the duplicate check compares them), in time linear in their bytes: both
/// key sequences are walked once in ascending order and merged.
///
/// # Errors
/// [`Error::Malformed`] if either is not a map; [`Error::UnsortedMap`] if a map
/// of more than [`UNSORTED_MAP_MAX`] entries is not in ascending order (the pass
/// refuses those).
pub(crate) fn maps_share_a_key(a: &[u8], b: &[u8]) -> Result<bool> {
    let mut ka = SortedKeys::new(a)?;
    let mut kb = SortedKeys::new(b)?;
    let mut x = ka.next_key()?;
    let mut y = kb.next_key()?;
    while let (Some(ra), Some(rb)) = (&x, &y) {
        match cmp_keys_at(ra.clone(), rb.clone(), &NoMeter)? {
            core::cmp::Ordering::Less => x = ka.next_key()?,
            core::cmp::Ordering::Greater => y = kb.next_key()?,
            core::cmp::Ordering::Equal => return Ok(true),
        }
    }
    Ok(false)
}

/// The `len` content bytes of the string whose one-byte head is at `r`'s position.
fn short_content<'a>(r: &Reader<'a>, len: usize) -> Result<&'a [u8]> {
    let start = r.pos.checked_add(1).ok_or(Error::Malformed)?;
    let end = start.checked_add(len).ok_or(Error::Malformed)?;
    r.bytes.get(start..end).ok_or(Error::Malformed)
}

/// Validates a declared entry count against the limit and the bytes left
/// (each item takes at least one byte), before any looping.
fn entry_count(r: &Reader<'_>, arg: u64, items_per_entry: usize, limits: &Limits) -> Result<usize> {
    let count = usize::try_from(arg).map_err(|_| Error::TooManyEntries)?;
    if count > limits.max_entries {
        return Err(Error::TooManyEntries);
    }
    let min_bytes = count.checked_mul(items_per_entry).ok_or(Error::Malformed)?;
    if min_bytes > r.remaining().len() {
        return Err(Error::Malformed);
    }
    Ok(count)
}

/// Skips one item that an earlier pass already checked, without recursion.
pub(crate) fn skip_checked(r: &mut Reader<'_>) -> Result<()> {
    let head = r.head()?;
    skip_after_head(r, head)
}

/// Skips the rest of the item whose head `head` was just read (its string, or
/// its items and theirs), without recursion.
pub(crate) fn skip_after_head(r: &mut Reader<'_>, head: Head) -> Result<()> {
    let mut head = head;
    let mut pending: u64 = 0;
    loop {
        let more = match head.major {
            MAJOR_BYTES | MAJOR_TEXT => {
                r.take_string(head)?;
                0
            }
            MAJOR_ARRAY => head.arg,
            MAJOR_MAP => head.arg.checked_mul(2).ok_or(Error::Malformed)?,
            MAJOR_TAG => 1,
            _ => 0,
        };
        pending = pending.checked_add(more).ok_or(Error::Malformed)?;
        if pending == 0 {
            return Ok(());
        }
        pending = pending.checked_sub(1).ok_or(Error::Malformed)?;
        head = r.head()?;
    }
}

/// Splits leading tags off `bytes`: returns the tag numbers (at most two are read)
/// and the rest.
pub(crate) fn strip_tags(bytes: &[u8]) -> Result<(TagPrefix, &[u8])> {
    let mut tags = TagPrefix::default();
    let mut r = Reader::new(bytes);
    loop {
        let before = r.position();
        let Some(&first) = r.bytes.get(before) else {
            return Err(Error::Malformed);
        };
        if first >> 5 != MAJOR_TAG {
            break;
        }
        let head = r.head()?;
        if !tags.push(head.arg) {
            return Err(Error::WrongTag);
        }
    }
    Ok((tags, r.remaining()))
}

/// Up to two leading tag numbers, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TagPrefix {
    tags: [u64; 2],
    len: u8,
}

impl TagPrefix {
    fn push(&mut self, tag: u64) -> bool {
        match self.len {
            0 => {
                self.tags[0] = tag;
                self.len = 1;
                true
            }
            1 => {
                self.tags[1] = tag;
                self.len = 2;
                true
            }
            _ => false,
        }
    }

    /// The tags read, outermost first.
    pub(crate) fn as_slice(&self) -> &[u64] {
        self.tags.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Appends a CBOR head (major type and argument) in preferred (shortest) form.
#[cfg(test)]
pub(crate) fn write_head(out: &mut alloc::vec::Vec<u8>, major: u8, arg: u64) {
    let Ok(()) = write::head(out, major, arg);
}

/// Builds a COSE Sig_structure or Enc_structure directly from the wire bytes of the
/// protected header, without re-encoding it.
///
/// `context` is "Signature1" or "Encrypt0"; `payload` is appended for signatures only.
pub(crate) fn to_be_processed(
    context: &str,
    protected: &[u8],
    external_aad: &[u8],
    payload: Option<&[u8]>,
) -> alloc::vec::Vec<u8> {
    let cap = context
        .len()
        .saturating_add(protected.len())
        .saturating_add(external_aad.len())
        .saturating_add(payload.map_or(0, <[u8]>::len))
        .saturating_add(24);
    let mut out = write::VecEncoder(alloc::vec::Vec::with_capacity(cap));
    out.array(if payload.is_some() { 4 } else { 3 });
    out.text(context);
    out.bytes(protected);
    out.bytes(external_aad);
    if let Some(p) = payload {
        out.bytes(p);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests;
