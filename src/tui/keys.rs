//! Every key the dashboard knows, with the text the help overlay shows and searches.

/// One entry of the help overlay.
#[derive(Debug, Clone, Copy)]
pub struct KeyHelp {
    /// Key(s).
    pub keys: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Only in `cpeers demo`.
    pub demo_only: bool,
}

/// The whole keymap, in the order the help overlay lists it.
pub const KEYS: &[KeyHelp] = &[
    KeyHelp {
        keys: "q, Ctrl-c",
        what: "quit (the terminal is restored)",
        demo_only: false,
    },
    KeyHelp {
        keys: "?",
        what: "this help; type to search it",
        demo_only: false,
    },
    KeyHelp {
        keys: "Tab, Shift-Tab",
        what: "next / previous panel",
        demo_only: false,
    },
    KeyHelp {
        keys: "1 .. 6",
        what: "peers, proposals, disputes, phase, ledgers, log",
        demo_only: false,
    },
    KeyHelp {
        keys: "j/k, Up/Down",
        what: "move the selection",
        demo_only: false,
    },
    KeyHelp {
        keys: "g / G",
        what: "first / last row",
        demo_only: false,
    },
    KeyHelp {
        keys: "PgUp / PgDn",
        what: "page up / down",
        demo_only: false,
    },
    KeyHelp {
        keys: "Enter",
        what: "drill in: a peer's conflict set, a dispute's votes and flips",
        demo_only: false,
    },
    KeyHelp {
        keys: "Esc",
        what: "back: close the overlay, clear the filter",
        demo_only: false,
    },
    KeyHelp {
        keys: "/",
        what: "filter the focused panel (Enter keeps it, Esc clears it)",
        demo_only: false,
    },
    KeyHelp {
        keys: "s",
        what: "change the sort of the focused panel",
        demo_only: false,
    },
    KeyHelp {
        keys: "space",
        what: "freeze the display (the node keeps running)",
        demo_only: false,
    },
    KeyHelp {
        keys: "t",
        what: "submit a transaction: type a payload, or *N for N random ones",
        demo_only: false,
    },
    KeyHelp {
        keys: "p",
        what: "compose a proposal from our position: toggle txs, set the close time, send it signed",
        demo_only: false,
    },
    KeyHelp {
        keys: "o",
        what: "on a dispute: pin our vote to the other side; again: release the pin",
        demo_only: false,
    },
    KeyHelp {
        keys: "T",
        what: "next colour theme",
        demo_only: false,
    },
    KeyHelp {
        keys: "mouse",
        what: "click a panel to focus it and a row to select it",
        demo_only: false,
    },
    KeyHelp {
        keys: "K",
        what: "crash / restart the selected peer node",
        demo_only: true,
    },
    KeyHelp {
        keys: "B",
        what: "make the selected peer byzantine (cycles behaviours)",
        demo_only: true,
    },
    KeyHelp {
        keys: "L",
        what: "slow the selected peer's links (holds what it receives)",
        demo_only: true,
    },
    KeyHelp {
        keys: "C",
        what: "skew the selected peer's clock by 20 s",
        demo_only: true,
    },
    KeyHelp {
        keys: "X",
        what: "partition the network in two halves / heal it",
        demo_only: true,
    },
];

/// Help entries matching `query` (case-insensitive substring of keys or text).
pub fn search(query: &str, demo: bool) -> Vec<&'static KeyHelp> {
    let q = query.to_lowercase();
    KEYS.iter()
        .filter(|k| demo || !k.demo_only)
        .filter(|k| {
            q.is_empty() || k.keys.to_lowercase().contains(&q) || k.what.to_lowercase().contains(&q)
        })
        .collect()
}
