//! The dashboard's own state (focus, selections, filters, overlays, theme) and what every key
//! and click does to it. Key handling returns [`Action`]s; it never talks to the node itself.

use std::cell::RefCell;
use std::collections::BTreeMap;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::action::{Action, DemoAction};
use super::theme::Theme;
use super::view;
use crate::consensus::engine::{ComposerSeed, DisputeDetail, PeerDetail};
use crate::consensus::{Command, NodeId, Time, Tx, TxId};
use crate::contract::{Answer, NodeSnapshot};
use crate::store::Store;
use crate::store::rows::Level;

/// The six panels, in key order 1..6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Panel {
    /// 1: validators and connections.
    Peers,
    /// 2: the proposal feed.
    Proposals,
    /// 3: disputed transactions.
    Disputes,
    /// 4: phase progress.
    Phase,
    /// 5: validated ledgers.
    Ledgers,
    /// 6: warnings and errors.
    Log,
}

impl Panel {
    /// In key order.
    pub const ALL: [Panel; 6] = [
        Panel::Peers,
        Panel::Proposals,
        Panel::Disputes,
        Panel::Phase,
        Panel::Ledgers,
        Panel::Log,
    ];

    /// 0-based index.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Title shown on the border.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Peers => "Peers",
            Panel::Proposals => "Proposals",
            Panel::Disputes => "Disputes",
            Panel::Phase => "Phase",
            Panel::Ledgers => "Ledgers",
            Panel::Log => "Log",
        }
    }

    fn next(self) -> Panel {
        Panel::ALL[(self.index() + 1) % 6]
    }

    fn prev(self) -> Panel {
        Panel::ALL[(self.index() + 5) % 6]
    }
}

/// Peers panel sort orders (`s` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSort {
    /// Us, trusted, then by name.
    Name,
    /// Fastest first.
    Latency,
    /// Disagreeing first.
    Agreement,
    /// Most recently heard first.
    LastSeen,
    /// Most refused messages first.
    Rejected,
}

impl PeerSort {
    /// Label for the panel title.
    pub fn label(self) -> &'static str {
        match self {
            PeerSort::Name => "name",
            PeerSort::Latency => "latency",
            PeerSort::Agreement => "agreement",
            PeerSort::LastSeen => "last seen",
            PeerSort::Rejected => "rejected",
        }
    }

    fn next(self) -> PeerSort {
        match self {
            PeerSort::Name => PeerSort::Latency,
            PeerSort::Latency => PeerSort::Agreement,
            PeerSort::Agreement => PeerSort::LastSeen,
            PeerSort::LastSeen => PeerSort::Rejected,
            PeerSort::Rejected => PeerSort::Name,
        }
    }
}

/// Disputes panel sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeSort {
    /// Closest to flipping first.
    Contested,
    /// Most flips first.
    Flips,
    /// By transaction id.
    Id,
}

impl DisputeSort {
    /// Label for the panel title.
    pub fn label(self) -> &'static str {
        match self {
            DisputeSort::Contested => "contested",
            DisputeSort::Flips => "flips",
            DisputeSort::Id => "id",
        }
    }

    fn next(self) -> DisputeSort {
        match self {
            DisputeSort::Contested => DisputeSort::Flips,
            DisputeSort::Flips => DisputeSort::Id,
            DisputeSort::Id => DisputeSort::Contested,
        }
    }
}

/// Selection and scroll position of one panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    /// Selected row.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
}

/// The proposal composer (`p`).
#[derive(Debug, Clone)]
pub struct Composer {
    /// What the node sent (None until it answers).
    pub seed: Option<ComposerSeed>,
    /// Transactions offered: our position first, then candidates.
    pub txs: Vec<Tx>,
    /// Whether each is in the proposal.
    pub included: Vec<bool>,
    /// Cursor row.
    pub cursor: usize,
    /// Close-time adjustment (ms) from our current close time.
    pub close_offset_ms: i64,
}

/// A modal view over the panels.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// Searchable key help.
    Help {
        /// Search text.
        query: String,
    },
    /// Typing a transaction.
    Submit {
        /// What was typed.
        input: String,
        /// Why the last Enter was refused.
        error: Option<String>,
    },
    /// Composing a proposal.
    Composer(Box<Composer>),
    /// One dispute's votes and flips.
    Dispute {
        /// The transaction.
        tx: TxId,
        /// Latest detail from the node (kept when the round ends).
        detail: Option<Box<DisputeDetail>>,
        /// The node no longer has it: its round ended; `detail` is its final state.
        ended: bool,
        /// Scroll.
        scroll: usize,
    },
    /// One peer's conflict set.
    Peer {
        /// The peer.
        node: NodeId,
        /// Latest detail from the node.
        detail: Option<Box<PeerDetail>>,
        /// Scroll.
        scroll: usize,
    },
    /// Every attached node side by side (`N`).
    Network {
        /// Selected row.
        selected: usize,
    },
}

/// One attached node as the header and the network view show it.
#[derive(Debug, Clone, Default)]
pub struct FleetRow {
    /// Its address (or the recording).
    pub label: String,
    /// Connected now.
    pub connected: bool,
    /// Since when it is not, and why.
    pub down: Option<(Time, String)>,
    /// No admin token: commands are refused.
    pub read_only: bool,
    /// Its latest status (kept, and shown as stale, while disconnected).
    pub snapshot: Option<std::sync::Arc<NodeSnapshot>>,
    /// Frames that could not be read.
    pub bad_frames: u64,
}

/// Where each panel was drawn last (for mouse clicks).
#[derive(Debug, Clone, Default)]
pub struct Areas {
    /// Panel rectangles.
    pub panels: BTreeMap<Panel, Rect>,
    /// The replay bar (replay only).
    pub replay_bar: Option<Rect>,
}

/// The dashboard state.
#[derive(Debug)]
pub struct App {
    /// Focused panel.
    pub focus: Panel,
    /// Selection per panel.
    pub lists: [ListState; 6],
    /// Filter per panel.
    pub filters: [String; 6],
    /// A filter being typed.
    pub editing_filter: Option<String>,
    /// Peers sort.
    pub peer_sort: PeerSort,
    /// Disputes sort.
    pub dispute_sort: DisputeSort,
    /// Display frozen (the node keeps running).
    pub frozen: bool,
    /// The open overlay.
    pub overlay: Option<Overlay>,
    /// Colours.
    pub theme: Theme,
    /// Demo keys enabled.
    pub demo: bool,
    /// Demo state of each node ("crashed", "byzantine: equivocate"...).
    pub demo_notes: BTreeMap<NodeId, String>,
    /// Feedback for the last action.
    pub message: Option<(Level, String)>,
    /// Where panels were drawn.
    pub areas: RefCell<Areas>,
    /// Where playback is (`cpeers replay` only; `None` when attached to a node).
    pub replay: Option<crate::record::playback::PlaybackStatus>,
    /// Every attached node (one for `cpeers node`, `demo` and `replay`).
    pub fleet: Vec<FleetRow>,
    /// Which of them the panels show.
    pub current: usize,
    /// The shown node takes no commands from here (no admin token).
    pub read_only: bool,
    submitted: u64,
}

/// Rows moved by PgUp/PgDn.
const PAGE: usize = 10;

impl App {
    /// A dashboard with `theme`; `demo` enables the trouble-making keys.
    pub fn new(theme: Theme, demo: bool) -> App {
        App {
            focus: Panel::Peers,
            lists: [ListState::default(); 6],
            filters: Default::default(),
            editing_filter: None,
            peer_sort: PeerSort::Name,
            dispute_sort: DisputeSort::Contested,
            frozen: false,
            overlay: None,
            theme,
            demo,
            demo_notes: BTreeMap::new(),
            message: None,
            areas: RefCell::new(Areas::default()),
            replay: None,
            fleet: Vec::new(),
            current: 0,
            read_only: false,
            submitted: 0,
        }
    }

    /// Whether the panels show data from a node that is not connected now.
    pub fn stale(&self) -> bool {
        self.fleet.get(self.current).is_some_and(|r| !r.connected)
    }

    /// Whether the open overlay draws every attached node.
    pub fn overlay_shows_fleet(&self) -> bool {
        matches!(self.overlay, Some(Overlay::Network { .. }))
    }

    /// Says why a key that changes the node does nothing here; true when read-only.
    fn refuse_read_only(&mut self, what: &str) -> bool {
        if !self.read_only {
            return false;
        }
        self.say(
            Level::Warn,
            format!(
                "read-only: {what} needs the node's admin token; attach with --config node.toml or --token-file <data_dir>/admin.token"
            ),
        );
        true
    }

    /// The filter of `panel`.
    pub fn filter(&self, panel: Panel) -> &str {
        &self.filters[panel.index()]
    }

    /// Selection of `panel`.
    pub fn list(&self, panel: Panel) -> ListState {
        self.lists[panel.index()]
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some((level, text.into()));
    }

    fn move_selection(&mut self, store: &Store, delta: isize, to_end: Option<bool>) {
        let len = view::len(self, store, self.focus);
        let l = &mut self.lists[self.focus.index()];
        if len == 0 {
            *l = ListState::default();
            return;
        }
        l.selected = match to_end {
            Some(false) => 0,
            Some(true) => len - 1,
            None => (l.selected as isize + delta).clamp(0, len as isize - 1) as usize,
        };
    }

    /// Handles one key; returns what the outside world must do.
    pub fn on_key(&mut self, key: KeyEvent, store: &Store, now: Time) -> Vec<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Action::Quit];
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key, store, now);
        }
        if let Some(f) = self.editing_filter.as_mut() {
            match key.code {
                KeyCode::Enter => {
                    let f = self.editing_filter.take().unwrap_or_default();
                    self.filters[self.focus.index()] = f;
                    self.lists[self.focus.index()] = ListState::default();
                }
                KeyCode::Esc => {
                    self.editing_filter = None;
                    self.filters[self.focus.index()].clear();
                }
                KeyCode::Backspace => {
                    f.pop();
                }
                KeyCode::Char(c) => f.push(c),
                _ => {}
            }
            return vec![];
        }
        if self.replay.is_some()
            && let Some(actions) = self.on_replay_key(key)
        {
            return actions;
        }
        match key.code {
            KeyCode::Char('q') => return vec![Action::Quit],
            KeyCode::Char('?') => {
                self.overlay = Some(Overlay::Help {
                    query: String::new(),
                })
            }
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.prev(),
            KeyCode::Char(c @ '1'..='6') => self.focus = Panel::ALL[(c as u8 - b'1') as usize],
            KeyCode::Char('j') | KeyCode::Down => self.move_selection(store, 1, None),
            KeyCode::Char('k') | KeyCode::Up => self.move_selection(store, -1, None),
            KeyCode::Char('g') | KeyCode::Home => self.move_selection(store, 0, Some(false)),
            KeyCode::Char('G') | KeyCode::End => self.move_selection(store, 0, Some(true)),
            KeyCode::PageDown => self.move_selection(store, PAGE as isize, None),
            KeyCode::PageUp => self.move_selection(store, -(PAGE as isize), None),
            KeyCode::Enter => return self.drill_in(store),
            KeyCode::Esc => {
                self.filters[self.focus.index()].clear();
                self.message = None;
            }
            KeyCode::Char('/') => self.editing_filter = Some(String::new()),
            KeyCode::Char('s') => match self.focus {
                Panel::Peers => self.peer_sort = self.peer_sort.next(),
                Panel::Disputes => self.dispute_sort = self.dispute_sort.next(),
                _ => self.say(Level::Info, "only peers and disputes can be sorted"),
            },
            KeyCode::Char(' ') => {
                self.frozen = !self.frozen;
                self.say(
                    Level::Info,
                    if self.frozen {
                        "display frozen (the node keeps running); space to resume"
                    } else {
                        "display live"
                    },
                );
            }
            KeyCode::Char('t') => {
                if self.refuse_read_only("submitting a transaction") {
                    return vec![];
                }
                self.overlay = Some(Overlay::Submit {
                    input: String::new(),
                    error: None,
                })
            }
            KeyCode::Char('n') => {
                if self.fleet.len() > 1 {
                    return vec![Action::NextNode];
                }
                self.say(
                    Level::Info,
                    "one node attached (cpeers attach A B C attaches several)",
                );
            }
            KeyCode::Char('N') => {
                self.overlay = Some(Overlay::Network {
                    selected: self.current,
                })
            }
            KeyCode::Char('p') => {
                if self.refuse_read_only("sending a position") {
                    return vec![];
                }
                self.overlay = Some(Overlay::Composer(Box::new(Composer {
                    seed: None,
                    txs: vec![],
                    included: vec![],
                    cursor: 0,
                    close_offset_ms: 0,
                })));
                return vec![Action::InspectComposer];
            }
            KeyCode::Char('o') => return self.override_vote(store),
            KeyCode::Char('T') => {
                self.theme = self.theme.next_built_in();
                let name = self.theme.name.clone();
                self.say(Level::Info, format!("theme: {name}"));
            }
            KeyCode::Char(c @ ('K' | 'B' | 'L' | 'C' | 'X')) if self.demo => {
                return self.demo_key(c, store);
            }
            _ => {}
        }
        vec![]
    }

    /// Replay keys; `None` for keys that mean the same as when attached to a node.
    fn on_replay_key(&mut self, key: KeyEvent) -> Option<Vec<Action>> {
        use crate::record::playback::{Control, JumpTo};
        let control = match key.code {
            KeyCode::Char(' ') => Control::TogglePlay,
            KeyCode::Char('n' | '.') => Control::Step,
            KeyCode::Char('c') => Control::Jump(JumpTo::PhaseChange),
            KeyCode::Char('f') => Control::Jump(JumpTo::DisputeFlip),
            KeyCode::Char('l') => Control::Jump(JumpTo::Ledger),
            KeyCode::Char('m') => Control::Jump(JumpTo::Mismatch),
            KeyCode::Left => Control::Scrub(-5_000),
            KeyCode::Right => Control::Scrub(5_000),
            KeyCode::Char('[') => Control::Scrub(-60_000),
            KeyCode::Char(']') => Control::Scrub(60_000),
            KeyCode::Char('{') => Control::Seek(0),
            KeyCode::Char('}') => Control::Seek(1000),
            KeyCode::Char('-') => Control::Speed(false),
            KeyCode::Char('+' | '=') => Control::Speed(true),
            KeyCode::Char('t' | 'p' | 'o') => {
                self.say(
                    Level::Warn,
                    "a replay is read-only: it shows what the node did (run a node to act)",
                );
                return Some(vec![]);
            }
            _ => return None,
        };
        Some(vec![Action::Playback(control)])
    }

    fn selected_peer(&self, store: &Store) -> Option<crate::store::rows::PeerRow> {
        let rows = view::peers(self, store);
        rows.get(self.list(Panel::Peers).selected).cloned()
    }

    fn selected_dispute(&self, store: &Store) -> Option<crate::consensus::engine::DisputeInfo> {
        let rows = view::disputes(self, store);
        rows.get(self.list(Panel::Disputes).selected).cloned()
    }

    fn drill_in(&mut self, store: &Store) -> Vec<Action> {
        match self.focus {
            Panel::Peers => match self
                .selected_peer(store)
                .and_then(|p| p.node.filter(|_| !p.us))
            {
                Some(node) => {
                    self.overlay = Some(Overlay::Peer {
                        node,
                        detail: None,
                        scroll: 0,
                    });
                    vec![Action::InspectPeer(node)]
                }
                None => vec![],
            },
            Panel::Proposals => {
                let rows = view::proposals(self, store);
                match rows
                    .get(self.list(Panel::Proposals).selected)
                    .and_then(|p| p.from)
                {
                    Some(node) if Some(node) != store.snapshot().map(|s| s.info.node) => {
                        self.overlay = Some(Overlay::Peer {
                            node,
                            detail: None,
                            scroll: 0,
                        });
                        vec![Action::InspectPeer(node)]
                    }
                    _ => vec![],
                }
            }
            Panel::Disputes => match self.selected_dispute(store) {
                Some(d) => {
                    self.overlay = Some(Overlay::Dispute {
                        tx: d.tx,
                        detail: None,
                        ended: false,
                        scroll: 0,
                    });
                    vec![Action::InspectDispute(d.tx)]
                }
                None => vec![],
            },
            _ => vec![],
        }
    }

    fn override_vote(&mut self, store: &Store) -> Vec<Action> {
        if self.refuse_read_only("pinning a vote") {
            return vec![];
        }
        let d = match &self.overlay {
            Some(Overlay::Dispute { tx, .. }) => store
                .snapshot()
                .and_then(|s| s.info.disputes.iter().find(|d| d.tx == *tx).cloned()),
            _ if self.focus == Panel::Disputes => self.selected_dispute(store),
            _ => {
                self.say(
                    Level::Info,
                    "select a dispute (panel 3) to override our vote",
                );
                return vec![];
            }
        };
        let Some(d) = d else {
            return vec![];
        };
        let vote = if d.pinned { None } else { Some(!d.our_vote) };
        self.say(
            Level::Info,
            match vote {
                Some(true) => format!("pinned our vote on {} to YES", d.tx.short()),
                Some(false) => format!("pinned our vote on {} to NO", d.tx.short()),
                None => format!("released our vote on {}", d.tx.short()),
            },
        );
        vec![Action::Engine(Command::OverrideVote { tx: d.tx, vote })]
    }

    fn demo_key(&mut self, c: char, store: &Store) -> Vec<Action> {
        if c == 'X' {
            return vec![Action::Demo(DemoAction::TogglePartition)];
        }
        let Some(node) = self
            .selected_peer(store)
            .filter(|p| !p.us)
            .and_then(|p| p.node)
        else {
            self.say(
                Level::Info,
                "select another node in the peers panel (1) first",
            );
            return vec![];
        };
        let a = match c {
            'K' => DemoAction::ToggleCrash(node),
            'B' => DemoAction::CycleByzantine(node),
            'L' => DemoAction::ToggleSlow(node),
            _ => DemoAction::ToggleClockSkew(node),
        };
        vec![Action::Demo(a)]
    }

    fn on_overlay_key(&mut self, key: KeyEvent, store: &Store, now: Time) -> Vec<Action> {
        let Some(overlay) = self.overlay.as_mut() else {
            return vec![];
        };
        match overlay {
            Overlay::Help { query } => match key.code {
                KeyCode::Esc => self.overlay = None,
                KeyCode::Backspace => {
                    query.pop();
                }
                KeyCode::Char(c) => query.push(c),
                _ => {}
            },
            Overlay::Submit { input, error } => match key.code {
                KeyCode::Esc => self.overlay = None,
                KeyCode::Backspace => {
                    input.pop();
                }
                KeyCode::Enter => {
                    let typed = input.trim().to_string();
                    match self.parse_submission(&typed, now) {
                        Ok(txs) => {
                            let n = txs.len();
                            self.overlay = None;
                            self.say(Level::Info, format!("submitted {n} transaction(s)"));
                            return vec![Action::Engine(Command::Submit(txs))];
                        }
                        Err(e) => {
                            if let Some(Overlay::Submit { error, .. }) = self.overlay.as_mut() {
                                *error = Some(e);
                            }
                        }
                    }
                }
                KeyCode::Char(c) => {
                    input.push(c);
                    *error = None;
                }
                _ => {}
            },
            Overlay::Composer(c) => match key.code {
                KeyCode::Esc => self.overlay = None,
                KeyCode::Char('j') | KeyCode::Down => {
                    c.cursor = (c.cursor + 1).min(c.txs.len().saturating_sub(1));
                }
                KeyCode::Char('k') | KeyCode::Up => c.cursor = c.cursor.saturating_sub(1),
                KeyCode::Char(' ') => {
                    if let Some(x) = c.included.get_mut(c.cursor) {
                        *x = !*x;
                    }
                }
                KeyCode::Char('+') | KeyCode::Char('=') => c.close_offset_ms += close_step(store),
                KeyCode::Char('-') => c.close_offset_ms -= close_step(store),
                KeyCode::Enter => {
                    let Some(seed) = &c.seed else {
                        return vec![];
                    };
                    if !seed.can_inject {
                        self.say(
                            Level::Warn,
                            "the node only takes a position while proposing in the establish phase; try again during establish",
                        );
                        return vec![];
                    }
                    let txs: Vec<Tx> = c
                        .txs
                        .iter()
                        .zip(&c.included)
                        .filter(|(_, inc)| **inc)
                        .map(|(t, _)| t.clone())
                        .collect();
                    let close_time = Some(seed.close_time.plus(c.close_offset_ms));
                    let n = txs.len();
                    self.overlay = None;
                    self.say(
                        Level::Info,
                        format!("sent our next position: {n} transaction(s), signed with our key"),
                    );
                    return vec![Action::Engine(Command::InjectPosition { txs, close_time })];
                }
                _ => {}
            },
            Overlay::Network { selected } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('N') => self.overlay = None,
                KeyCode::Char('j') | KeyCode::Down => {
                    *selected = (*selected + 1).min(self.fleet.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => *selected = selected.saturating_sub(1),
                KeyCode::Enter => {
                    let i = *selected;
                    self.overlay = None;
                    return vec![Action::ShowNode(i)];
                }
                _ => {}
            },
            Overlay::Dispute { scroll, .. } | Overlay::Peer { scroll, .. } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => self.overlay = None,
                KeyCode::Char('j') | KeyCode::Down => *scroll += 1,
                KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => *scroll += PAGE,
                KeyCode::PageUp => *scroll = scroll.saturating_sub(PAGE),
                KeyCode::Char('g') => *scroll = 0,
                KeyCode::Char('o') => return self.override_vote(store),
                _ => {}
            },
        }
        vec![]
    }

    /// A payload, or `*N` for N random ones.
    fn parse_submission(&mut self, typed: &str, now: Time) -> Result<Vec<Tx>, String> {
        if typed.is_empty() {
            return Err("type a payload, or *N for N random ones".into());
        }
        if let Some(n) = typed.strip_prefix('*') {
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| format!("{typed:?}: after * comes a number"))?;
            if n == 0 || n > 10_000 {
                return Err("between 1 and 10000 random transactions at a time".into());
            }
            let start = self.submitted;
            self.submitted += n as u64;
            return (0..n)
                .map(|i| {
                    let mut x = (start + i as u64)
                        ^ (now.ms() as u64).rotate_left(17)
                        ^ 0x9e37_79b9_7f4a_7c15;
                    x ^= x >> 33;
                    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
                    x ^= x >> 33;
                    Tx::new(format!("random-{x:016x}")).map_err(|e| e.to_string())
                })
                .collect();
        }
        Tx::new(typed.as_bytes().to_vec())
            .map(|t| vec![t])
            .map_err(|e| e.to_string())
    }

    /// Takes the node's answer to an inspection.
    pub fn on_answer(&mut self, answer: Answer) {
        match (self.overlay.as_mut(), answer) {
            (Some(Overlay::Dispute { detail, ended, .. }), Answer::Dispute(d)) => match d {
                Some(d) => *detail = Some(d),
                None => *ended = true,
            },
            (Some(Overlay::Peer { detail, .. }), Answer::Peer(d)) => *detail = d,
            (Some(Overlay::Composer(c)), Answer::Composer(seed)) if c.seed.is_none() => {
                c.txs = seed
                    .ours
                    .iter()
                    .chain(seed.candidates.iter())
                    .cloned()
                    .collect();
                c.included = seed
                    .ours
                    .iter()
                    .map(|_| true)
                    .chain(seed.candidates.iter().map(|_| false))
                    .collect();
                c.seed = Some(*seed);
            }
            _ => {}
        }
    }

    /// What the open overlay wants refreshed periodically.
    pub fn refresh(&self) -> Option<Action> {
        match &self.overlay {
            Some(Overlay::Dispute {
                tx, ended: false, ..
            }) => Some(Action::InspectDispute(*tx)),
            Some(Overlay::Peer { node, .. }) => Some(Action::InspectPeer(*node)),
            _ => None,
        }
    }

    /// Handles a mouse event: a click focuses the panel under it and selects the row; a click
    /// on the replay bar seeks there.
    pub fn on_mouse(&mut self, m: MouseEvent, store: &Store) -> Vec<Action> {
        if self.overlay.is_some() {
            return vec![];
        }
        let MouseEventKind::Down(MouseButton::Left) = m.kind else {
            match m.kind {
                MouseEventKind::ScrollDown => self.move_selection(store, 1, None),
                MouseEventKind::ScrollUp => self.move_selection(store, -1, None),
                _ => {}
            }
            return vec![];
        };
        let at = Position::new(m.column, m.row);
        let bar = self.areas.borrow().replay_bar;
        if let Some(bar) = bar.filter(|b| b.contains(at)) {
            let permille = u32::from(m.column - bar.x) * 1000 / u32::from(bar.width.max(2) - 1);
            return vec![Action::Playback(crate::record::playback::Control::Seek(
                permille,
            ))];
        }
        let hit = self
            .areas
            .borrow()
            .panels
            .iter()
            .find(|(_, r)| r.contains(at))
            .map(|(p, r)| (*p, *r));
        if let Some((panel, rect)) = hit {
            self.focus = panel;
            // Border and table header take two rows (the log has no header).
            let top = rect.y + if panel == Panel::Log { 1 } else { 2 };
            let visible = rect.height.saturating_sub(3) as usize;
            let len = view::len(self, store, panel);
            if len > 0 && m.row >= top {
                let sel = self.lists[panel.index()].selected.min(len - 1);
                let offset = super::frame::offset_for(sel, visible);
                let row = (m.row - top) as usize;
                self.lists[panel.index()].selected = (offset + row).min(len - 1);
            }
        }
        vec![]
    }
}

fn close_step(store: &Store) -> i64 {
    store
        .snapshot()
        .map(|s| s.info.close_resolution_ms)
        .unwrap_or(1000)
        .max(1)
}
