//! Scenario files: the public TOML format `cpeers sim` runs, parsed and checked into a
//! [`Scenario`] whose every name is resolved to node indices.
//!
//! Errors name the file, the line and the key (`faults[0].sides`), including errors found after
//! parsing, such as a group that does not exist.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::consensus::Profile;
use crate::toml_doc::{TomlDoc, TomlError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    seed: Option<u64>,
    profile: Option<Spanned<String>>,
    default_delay_ms: Option<u64>,
    max_time_ms: Option<u64>,
    rounds: Option<u32>,
    #[serde(default)]
    nodes: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    submit: Vec<Spanned<RawSubmit>>,
    #[serde(default)]
    faults: Vec<Spanned<RawFault>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    group: Spanned<String>,
    count: Spanned<u32>,
    validator: Option<bool>,
    trusts: Option<Vec<Spanned<String>>>,
    clock_skew_ms: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    between: Spanned<Vec<Spanned<String>>>,
    delay_ms: Option<u64>,
    connected: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubmit {
    at_ms: u64,
    to: Spanned<String>,
    txs: Option<Spanned<Vec<String>>>,
    count: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: Spanned<String>,
    at_ms: u64,
    until_ms: Option<Spanned<u64>>,
    sides: Option<Spanned<Vec<Vec<Spanned<String>>>>>,
    nodes: Option<Spanned<Vec<Spanned<String>>>>,
    behaviour: Option<Spanned<String>>,
    delay_ms: Option<u64>,
    skew_ms: Option<i64>,
}

/// One simulated node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// `group` + index, e.g. `a0`.
    pub name: String,
    /// Its group.
    pub group: String,
    /// Validator (proposes and validates) or observer.
    pub validator: bool,
    /// Indices of the validators it trusts.
    pub unl: Vec<usize>,
    /// Its clock's offset from simulated time.
    pub clock_skew_ms: i64,
}

/// A link override between two groups (either direction; the same group allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// First group.
    pub a: String,
    /// Second group.
    pub b: String,
    /// One-way delay, if overridden.
    pub delay_ms: Option<u64>,
    /// False removes the links.
    pub connected: bool,
}

/// What a submission sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxSource {
    /// These payloads.
    Explicit(Vec<String>),
    /// This many seeded random payloads.
    Random(u32),
}

/// Transactions submitted at a time to some nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitSpec {
    /// Simulated time.
    pub at_ms: u64,
    /// Receiving nodes.
    pub to: Vec<usize>,
    /// Payloads.
    pub txs: TxSource,
}

/// Byzantine behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Signs two different positions (and validations) per seq, each to half its peers.
    Equivocate,
    /// Proposes random, unobtainable transaction sets.
    RandomPosition,
    /// Sends nothing and relays nothing.
    Silent,
    /// Proposes and validates on ledgers that do not exist.
    WrongLedger,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Cut every link between nodes on different sides; unnamed nodes form a side of their own.
    Partition {
        /// Node indices on each side.
        sides: Vec<Vec<usize>>,
    },
    /// Stop nodes; at `until` they restart from what they persisted.
    Crash {
        /// Node indices.
        nodes: Vec<usize>,
    },
    /// Extra one-way delay on every message to or from the nodes.
    Delay {
        /// Node indices.
        nodes: Vec<usize>,
        /// Extra delay.
        delay_ms: u64,
    },
    /// Nodes misbehave.
    Byzantine {
        /// Node indices.
        nodes: Vec<usize>,
        /// How.
        behaviour: Behaviour,
    },
    /// Nodes' clocks move by `skew_ms`.
    ClockSkew {
        /// Node indices.
        nodes: Vec<usize>,
        /// Offset.
        skew_ms: i64,
    },
}

/// A fault and when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    /// What.
    pub kind: FaultKind,
    /// Start time.
    pub at_ms: u64,
    /// End time (healed / restarted / restored), if any.
    pub until_ms: Option<u64>,
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// RNG seed.
    pub seed: u64,
    /// Timing profile.
    pub profile: Profile,
    /// One-way delay between any two connected nodes.
    pub default_delay_ms: u64,
    /// Stop at this simulated time...
    pub max_time_ms: u64,
    /// ...or once every live honest validator fully validated this many ledgers.
    pub rounds: Option<u32>,
    /// Nodes in file order.
    pub nodes: Vec<NodeSpec>,
    /// Group names in file order.
    pub groups: Vec<String>,
    /// Link overrides.
    pub links: Vec<LinkSpec>,
    /// Submissions.
    pub submits: Vec<SubmitSpec>,
    /// Faults.
    pub faults: Vec<FaultSpec>,
}

/// Default one-way link delay.
pub const DEFAULT_DELAY_MS: u64 = 200;
/// Default stop time.
pub const DEFAULT_MAX_TIME_MS: u64 = 600_000;
/// Largest network a scenario may describe.
pub const MAX_NODES: usize = 2000;

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, TomlError> {
        Scenario::parse(&TomlDoc::read(path)?)
    }

    /// Parses and checks a scenario document.
    pub fn parse(doc: &TomlDoc) -> Result<Scenario, TomlError> {
        let raw: RawScenario = doc.parse()?;
        Resolver { doc }.resolve(raw)
    }

    /// Node index by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

struct Resolver<'a> {
    doc: &'a TomlDoc,
}

impl Resolver<'_> {
    fn err(&self, span: Range<usize>, msg: impl Into<String>) -> TomlError {
        self.doc.error_at(span, msg)
    }

    fn resolve(&self, raw: RawScenario) -> Result<Scenario, TomlError> {
        let profile = match &raw.profile {
            None => Profile::Mainnet,
            Some(p) => p
                .get_ref()
                .parse()
                .map_err(|e: String| self.err(p.span(), e))?,
        };
        if raw.nodes.is_empty() {
            return Err(self
                .doc
                .error("a scenario needs at least one [[nodes]] group"));
        }
        // Groups and nodes.
        let mut groups: Vec<String> = Vec::new();
        let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut nodes = Vec::new();
        for g in &raw.nodes {
            let name = g.get_ref().group.get_ref().clone();
            let span = g.get_ref().group.span();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(self.err(
                    span,
                    format!("group name {name:?} must be letters, digits, '_' or '-'"),
                ));
            }
            if name == "all" {
                return Err(self.err(span, "\"all\" is reserved: it names every node"));
            }
            if members.contains_key(&name) {
                return Err(self.err(span, format!("group {name:?} is defined twice")));
            }
            let count = *g.get_ref().count.get_ref() as usize;
            if count == 0 {
                return Err(self.err(g.get_ref().count.span(), "count must be at least 1"));
            }
            if nodes.len() + count > MAX_NODES {
                return Err(self.err(
                    g.get_ref().count.span(),
                    format!("more than {MAX_NODES} nodes in all"),
                ));
            }
            let mut idx = Vec::new();
            for i in 0..count {
                idx.push(nodes.len());
                nodes.push(NodeSpec {
                    name: format!("{name}{i}"),
                    group: name.clone(),
                    validator: g.get_ref().validator.unwrap_or(true),
                    unl: Vec::new(),
                    clock_skew_ms: g.get_ref().clock_skew_ms.unwrap_or(0),
                });
            }
            members.insert(name.clone(), idx);
            groups.push(name);
        }
        for n in &nodes {
            if groups.contains(&n.name) {
                let g = raw
                    .nodes
                    .iter()
                    .find(|g| g.get_ref().group.get_ref() == &n.name);
                let span = g.map(|g| g.get_ref().group.span()).unwrap_or(0..0);
                return Err(self.err(
                    span,
                    format!("group name {:?} is also the name of a node", n.name),
                ));
            }
        }
        let all_validators: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].validator).collect();
        for (gi, g) in raw.nodes.iter().enumerate() {
            let unl = match &g.get_ref().trusts {
                None => all_validators.clone(),
                Some(list) => {
                    let mut unl = Vec::new();
                    let mut seen = std::collections::BTreeSet::new();
                    for t in list {
                        if !seen.insert(t.get_ref().as_str()) {
                            continue;
                        }
                        let Some(m) = members.get(t.get_ref()) else {
                            return Err(self
                                .err(t.span(), format!("trusts unknown group {:?}", t.get_ref())));
                        };
                        unl.extend(m.iter().copied().filter(|&i| nodes[i].validator));
                    }
                    unl.sort_unstable();
                    unl.dedup();
                    unl
                }
            };
            for &i in &members[&groups[gi]] {
                nodes[i].unl = unl.clone();
            }
        }
        // Links.
        let mut links = Vec::new();
        for l in &raw.links {
            let between = &l.get_ref().between;
            if between.get_ref().len() != 2 {
                return Err(self.err(between.span(), "between takes exactly two groups"));
            }
            for g in between.get_ref() {
                if !members.contains_key(g.get_ref()) {
                    return Err(self.err(g.span(), format!("unknown group {:?}", g.get_ref())));
                }
            }
            links.push(LinkSpec {
                a: between.get_ref()[0].get_ref().clone(),
                b: between.get_ref()[1].get_ref().clone(),
                delay_ms: l.get_ref().delay_ms,
                connected: l.get_ref().connected.unwrap_or(true),
            });
        }
        let targets = |s: &Spanned<String>| -> Result<Vec<usize>, TomlError> {
            let name = s.get_ref();
            if name == "all" {
                return Ok((0..nodes.len()).collect());
            }
            if let Some(m) = members.get(name) {
                return Ok(m.clone());
            }
            if let Some(i) = nodes.iter().position(|n| &n.name == name) {
                return Ok(vec![i]);
            }
            Err(self.err(
                s.span(),
                format!("{name:?} is not a node, a group or \"all\""),
            ))
        };
        let target_list = |list: &[Spanned<String>]| -> Result<Vec<usize>, TomlError> {
            // Each name once: a list repeating a big group must not expand it again and again.
            let mut seen = std::collections::BTreeSet::new();
            let mut out = Vec::new();
            for s in list {
                if seen.insert(s.get_ref().as_str()) {
                    out.extend(targets(s)?);
                }
            }
            out.sort_unstable();
            out.dedup();
            Ok(out)
        };
        // Submissions.
        let mut submits = Vec::new();
        for s in &raw.submit {
            let r = s.get_ref();
            let txs = match (&r.txs, &r.count) {
                (Some(t), None) => {
                    if t.get_ref()
                        .iter()
                        .any(|p| p.is_empty() || p.len() > crate::consensus::tx::MAX_TX_BYTES)
                    {
                        return Err(self.err(t.span(), "payloads must be 1 to 1024 bytes"));
                    }
                    TxSource::Explicit(t.get_ref().clone())
                }
                (None, Some(c)) => TxSource::Random(*c.get_ref()),
                _ => {
                    return Err(self.err(
                        s.span(),
                        "a [[submit]] needs exactly one of `txs` or `count`",
                    ));
                }
            };
            submits.push(SubmitSpec {
                at_ms: r.at_ms,
                to: targets(&r.to)?,
                txs,
            });
        }
        // Faults.
        let mut faults = Vec::new();
        for f in &raw.faults {
            let r = f.get_ref();
            if let Some(u) = &r.until_ms
                && *u.get_ref() < r.at_ms
            {
                return Err(self.err(u.span(), "until_ms is before at_ms"));
            }
            let need_nodes = || -> Result<Vec<usize>, TomlError> {
                match &r.nodes {
                    Some(n) if !n.get_ref().is_empty() => target_list(n.get_ref()),
                    Some(n) => Err(self.err(n.span(), "nodes must not be empty")),
                    None => Err(self.err(
                        f.span(),
                        format!("a {} fault needs `nodes`", r.kind.get_ref()),
                    )),
                }
            };
            let kind = match r.kind.get_ref().as_str() {
                "partition" => {
                    let Some(sides) = &r.sides else {
                        return Err(self.err(f.span(), "a partition fault needs `sides`"));
                    };
                    if sides.get_ref().len() < 2 {
                        return Err(self.err(sides.span(), "a partition needs at least two sides"));
                    }
                    let mut resolved = Vec::new();
                    let mut seen = std::collections::BTreeSet::new();
                    for side in sides.get_ref() {
                        let s = target_list(side)?;
                        for &i in &s {
                            if !seen.insert(i) {
                                return Err(self.err(
                                    sides.span(),
                                    format!("node {} is on two sides", nodes[i].name),
                                ));
                            }
                        }
                        resolved.push(s);
                    }
                    FaultKind::Partition { sides: resolved }
                }
                "crash" => FaultKind::Crash {
                    nodes: need_nodes()?,
                },
                "delay" => FaultKind::Delay {
                    nodes: need_nodes()?,
                    delay_ms: r
                        .delay_ms
                        .ok_or_else(|| self.err(f.span(), "a delay fault needs `delay_ms`"))?,
                },
                "byzantine" => {
                    let b = r
                        .behaviour
                        .as_ref()
                        .ok_or_else(|| self.err(f.span(), "a byzantine fault needs `behaviour`"))?;
                    let behaviour = match b.get_ref().as_str() {
                        "equivocate" => Behaviour::Equivocate,
                        "random_position" => Behaviour::RandomPosition,
                        "silent" => Behaviour::Silent,
                        "wrong_ledger" => Behaviour::WrongLedger,
                        other => {
                            return Err(self.err(
                                b.span(),
                                format!("unknown behaviour {other:?} (equivocate, random_position, silent, wrong_ledger)"),
                            ));
                        }
                    };
                    FaultKind::Byzantine {
                        nodes: need_nodes()?,
                        behaviour,
                    }
                }
                "clock_skew" => FaultKind::ClockSkew {
                    nodes: need_nodes()?,
                    skew_ms: r
                        .skew_ms
                        .ok_or_else(|| self.err(f.span(), "a clock_skew fault needs `skew_ms`"))?,
                },
                other => {
                    return Err(self.err(
                        r.kind.span(),
                        format!("unknown fault kind {other:?} (partition, crash, delay, byzantine, clock_skew)"),
                    ));
                }
            };
            faults.push(FaultSpec {
                kind,
                at_ms: r.at_ms,
                until_ms: r.until_ms.as_ref().map(|u| *u.get_ref()),
            });
        }
        Ok(Scenario {
            name: raw.name,
            seed: raw.seed.unwrap_or(1),
            profile,
            default_delay_ms: raw.default_delay_ms.unwrap_or(DEFAULT_DELAY_MS),
            max_time_ms: raw.max_time_ms.unwrap_or(DEFAULT_MAX_TIME_MS),
            rounds: raw.rounds,
            nodes,
            groups,
            links,
            submits,
            faults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, TomlError> {
        Scenario::parse(&TomlDoc::from_text("s.toml", text))
    }

    #[test]
    fn full_format_resolves() {
        let s = parse(
            r#"
name = "x"
seed = 7
profile = "fast"
default_delay_ms = 150
max_time_ms = 1000
rounds = 3
[[nodes]]
group = "a"
count = 3
trusts = ["a"]
[[nodes]]
group = "hub"
count = 1
validator = false
clock_skew_ms = 5
[[links]]
between = ["a", "a"]
connected = false
[[links]]
between = ["a", "hub"]
delay_ms = 50
[[submit]]
at_ms = 0
to = "a0"
txs = ["pay-1"]
[[submit]]
at_ms = 10
to = "all"
count = 2
[[faults]]
kind = "partition"
at_ms = 5
until_ms = 9
sides = [["a0"], ["a1", "hub"]]
[[faults]]
kind = "byzantine"
at_ms = 0
nodes = ["a2"]
behaviour = "equivocate"
"#,
        )
        .unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.profile, Profile::Fast);
        assert_eq!(s.nodes.len(), 4);
        assert_eq!(s.nodes[3].name, "hub0");
        assert!(!s.nodes[3].validator);
        assert_eq!(s.nodes[3].unl, vec![0, 1, 2]);
        assert_eq!(s.submits[1].to, vec![0, 1, 2, 3]);
        assert_eq!(
            s.faults[0].kind,
            FaultKind::Partition {
                sides: vec![vec![0], vec![1, 3]]
            }
        );
    }

    #[test]
    fn semantic_errors_name_line_and_key() {
        let err = parse("name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = 2\ntrusts = [\"b\"]\n")
            .unwrap_err();
        assert_eq!(err.line, Some(5));
        assert_eq!(err.key.as_deref(), Some("nodes[0].trusts"));
        assert!(err.message.contains("unknown group"));

        let err = parse(
            "name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = 2\n[[faults]]\nkind = \"melt\"\nat_ms = 0\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(6));
        assert_eq!(err.key.as_deref(), Some("faults[0].kind"));

        let err = parse("name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("nodes[0].count"));

        let err =
            parse("name = \"x\"\nspeed = 3\n[[nodes]]\ngroup = \"a\"\ncount = 1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(err.key.as_deref(), Some("speed"));
    }
}
