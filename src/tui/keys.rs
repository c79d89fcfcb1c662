//! Every key the dashboard knows, with the text the help overlay shows and searches.

/// One entry of the help overlay.
#[derive(Debug, Clone, Copy)]
pub struct KeyHelp {
    /// Key(s).
    pub keys: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Where the key works.
    pub scope: Scope,
}

/// Where a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    All,
    /// Attached to a running node (not in a replay, which is read-only).
    Live,
    /// Only in `cpeers demo`.
    Demo,
    /// Only in `cpeers replay`.
    Replay,
}

impl Scope {
    /// Whether a key of this scope works in a dashboard of this kind.
    pub fn applies(self, demo: bool, replay: bool) -> bool {
        match self {
            Scope::All => true,
            Scope::Live => !replay,
            Scope::Demo => demo,
            Scope::Replay => replay,
        }
    }

    /// A note for the help overlay.
    pub fn note(self) -> &'static str {
        match self {
            Scope::All | Scope::Live => "",
            Scope::Demo => "  (demo)",
            Scope::Replay => "  (replay)",
        }
    }
}

/// The whole keymap, in the order the help overlay lists it.
pub const KEYS: &[KeyHelp] = &[
    KeyHelp {
        keys: "q, Ctrl-c",
        what: "quit (the terminal is restored)",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "?",
        what: "this help; type to search it",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "Tab, Shift-Tab",
        what: "next / previous panel",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "1 .. 6",
        what: "peers, proposals, disputes, phase, ledgers, log",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "j/k, Up/Down",
        what: "move the selection",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "g / G",
        what: "first / last row",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "PgUp / PgDn",
        what: "page up / down",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "Enter",
        what: "drill in: a peer's conflict set, a dispute's votes and flips",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "Esc",
        what: "back: close the overlay, clear the filter",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "/",
        what: "filter the focused panel (Enter keeps it, Esc clears it)",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "s",
        what: "change the sort of the focused panel",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "space",
        what: "freeze the display (the node keeps running)",
        scope: Scope::Live,
    },
    KeyHelp {
        keys: "t",
        what: "submit a transaction: type a payload, or *N for N random ones",
        scope: Scope::Live,
    },
    KeyHelp {
        keys: "p",
        what: "compose a proposal from our position: toggle txs, set the close time, send it signed",
        scope: Scope::Live,
    },
    KeyHelp {
        keys: "o",
        what: "on a dispute: pin our vote to the other side; again: release the pin",
        scope: Scope::Live,
    },
    KeyHelp {
        keys: "T",
        what: "next colour theme",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "mouse",
        what: "click a panel to focus it and a row to select it",
        scope: Scope::All,
    },
    KeyHelp {
        keys: "K",
        what: "crash / restart the selected peer node",
        scope: Scope::Demo,
    },
    KeyHelp {
        keys: "B",
        what: "make the selected peer byzantine (cycles behaviours)",
        scope: Scope::Demo,
    },
    KeyHelp {
        keys: "L",
        what: "slow the selected peer's links (holds what it receives)",
        scope: Scope::Demo,
    },
    KeyHelp {
        keys: "C",
        what: "skew the selected peer's clock by 20 s",
        scope: Scope::Demo,
    },
    KeyHelp {
        keys: "X",
        what: "partition the network in two halves / heal it",
        scope: Scope::Demo,
    },
    KeyHelp {
        keys: "space",
        what: "play / pause the replay",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "n, .",
        what: "step one event (pauses)",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "c",
        what: "jump to the next phase change",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "f",
        what: "jump to the next dispute created or vote flipped",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "l",
        what: "jump to the next ledger built or validated",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "m",
        what: "jump to where the replay first differs from the recording",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "Left / Right",
        what: "scrub 5 s back / forward (recorded time)",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "[ / ]",
        what: "scrub 1 min back / forward",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "{ / }",
        what: "go to the start / end of the recording",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "- / +",
        what: "slower / faster (x0.25 .. x64)",
        scope: Scope::Replay,
    },
    KeyHelp {
        keys: "click the bar",
        what: "go to that point of the recording",
        scope: Scope::Replay,
    },
];

/// Help entries matching `query` (case-insensitive substring of keys or text).
pub fn search(query: &str, demo: bool, replay: bool) -> Vec<&'static KeyHelp> {
    let q = query.to_lowercase();
    KEYS.iter()
        .filter(|k| k.scope.applies(demo, replay))
        .filter(|k| {
            q.is_empty() || k.keys.to_lowercase().contains(&q) || k.what.to_lowercase().contains(&q)
        })
        .collect()
}
