//! Decoding hostile bytes costs memory bounded by their length.
//!
//! This needs its own test binary: it counts every allocation through a global allocator,
//! which would otherwise slow down (and be disturbed by) the library's other tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use cpeers::consensus::Tx;
use cpeers::net::wire::{
    self, Gossip, MAX_GOSSIP_BYTES, MAX_RESPONSE_BYTES, MAX_TXS_PER_BATCH, MAX_TXS_PER_RESPONSE,
    Response, WIRE_VERSION,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Counts the bytes live on the current thread while tracking is on, and their peak.
struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = TRACKING.try_with(|on| {
        if on.get() {
            let live = LIVE.get() + delta;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; only the bookkeeping is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The peak of extra memory `f` had live at once.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    LIVE.set(0);
    PEAK.set(0);
    TRACKING.set(true);
    let out = f();
    drop(out);
    TRACKING.set(false);
    PEAK.get().max(0) as usize
}

/// What a decode may cost: a few dozen times its input (a transaction of 1 to 3 payload bytes
/// takes about 70 bytes decoded, and [`MAX_TXS_PER_RESPONSE`] caps how many there are), plus
/// a constant for the buffers serde sizes from a length prefix before the elements arrive.
fn allowed(len: usize) -> usize {
    32 * len + (1 << 20)
}

fn decode_all_peak(b: &[u8]) -> usize {
    let g = peak_of(|| wire::decode_gossip(b));
    let q = peak_of(|| wire::decode_request(b));
    let r = peak_of(|| wire::decode_response(b));
    g.max(q).max(r)
}

#[test]
fn the_worst_small_transactions_stay_within_the_bound() {
    // Many 1-byte transactions: the largest memory per input byte a valid message can have.
    let tiny = |i: usize| Tx::new((i as u32).to_le_bytes()[..1 + i % 3].to_vec()).unwrap();
    let batch =
        wire::encode_gossip(&Gossip::Txs((0..MAX_TXS_PER_BATCH).map(tiny).collect())).unwrap();
    let peak = peak_of(|| wire::decode_gossip(&batch).unwrap());
    assert!(peak <= allowed(batch.len()), "{peak} bytes for a batch");

    let set = wire::encode_response(&Response::TxSet(Some(
        (0..MAX_TXS_PER_RESPONSE).map(tiny).collect(),
    )))
    .unwrap();
    let peak = peak_of(|| wire::decode_response(&set).unwrap());
    assert!(peak <= allowed(set.len()), "{peak} bytes for a set");

    // The same bytes claiming a few more transactions than allowed cost next to nothing.
    let mut over = set.clone();
    over.truncate(3);
    over.extend(postcard_varint(MAX_TXS_PER_RESPONSE + 1));
    over.extend(std::iter::repeat_n(1u8, 2 * MAX_TXS_PER_RESPONSE));
    let peak = peak_of(|| wire::decode_response(&over).unwrap_err());
    assert!(peak < 64 << 10, "{peak} bytes to refuse an over-count");

    // A full-size response of valid 1-byte transactions (8 million of them) would take about
    // 600 MiB decoded; the budget refuses it from its length prefix.
    let n = (MAX_RESPONSE_BYTES - 8) / 2;
    let mut flood = vec![WIRE_VERSION, 0, 1];
    flood.extend(postcard_varint(n));
    for i in 0..n {
        flood.extend([1, i as u8]);
    }
    assert!(flood.len() <= MAX_RESPONSE_BYTES);
    let mut result = None;
    let peak = peak_of(|| result = Some(wire::decode_response(&flood)));
    assert!(
        matches!(result, Some(Err(wire::WireError::TooMany { .. }))),
        "{result:?}"
    );
    assert!(peak < 64 << 10, "{peak} bytes to refuse a flood");
}

#[test]
fn the_largest_inputs_stay_within_the_bound() {
    for len in [MAX_GOSSIP_BYTES, MAX_RESPONSE_BYTES] {
        for fill in [0u8, 1, 0x7f, 0xff] {
            for prefix in [&[0u8][..], &[1], &[2], &[0, 1], &[1, 0xff, 0x01]] {
                let mut b = vec![WIRE_VERSION];
                b.extend_from_slice(prefix);
                b.resize(len, fill);
                let peak = decode_all_peak(&b);
                assert!(
                    peak <= allowed(len),
                    "{peak} bytes for {len} bytes of {fill:#x} after {prefix:?}"
                );
            }
        }
    }
}

fn postcard_varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_cost_memory_bounded_by_their_length(
        body in vec(any::<u8>(), 0..4096),
        prefix in vec(0u8..4, 0..3),
    ) {
        let mut b = vec![WIRE_VERSION];
        b.extend(prefix);
        b.extend(body);
        let peak = decode_all_peak(&b);
        prop_assert!(peak <= allowed(b.len()), "{} bytes", peak);
    }
}
