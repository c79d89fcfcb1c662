//! Colour themes: every style the dashboard draws with comes from a [`Theme`], so panels never
//! name a colour and an operator can make the dashboard readable on their terminal.
//!
//! Why themes are files and not code: terminals differ (dark, light, 16 colours, true colour,
//! `NO_COLOR`, projectors), and the person who knows which colours work is the operator, who
//! should not have to recompile. Four themes are built in (embedded with `include_str!`, so the
//! binary works from any directory); a custom `.toml` file may `extends` one of them and override
//! only the styles it cares about.
//!
//! ```toml
//! name = "mine"
//! extends = "light"   # optional, `default` when absent
//! [styles]
//! selected = { fg = "white", bg = "#3465a4", modifiers = ["bold"] }
//! ```
//!
//! A style set in a file replaces the inherited style as a whole (it is not merged field by
//! field), so what the file says is exactly what is drawn. Every mistake (unknown key, style,
//! colour or modifier, bad hex, an index outside 0-255) is reported with file, line and dotted
//! key through [`crate::toml_doc`], including those found after parsing.
//!
//! `mono` uses no colour at all: with `NO_COLOR`, crossterm 0.29 drops colours in a way that
//! also resets the reverse video marking the selection (see `themes/mono.toml`), so under
//! `NO_COLOR` only a theme that never changes colour keeps its modifiers on screen.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use thiserror::Error;
use toml::Spanned;

use crate::toml_doc::{TomlDoc, TomlError};

/// The built-in themes, in the order the `T` key cycles through them.
pub const BUILT_IN: [&str; 4] = ["default", "light", "high-contrast", "mono"];

/// The built-in theme files, embedded so the binary does not depend on its working directory.
const BUILT_IN_FILES: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Every style the dashboard uses. Panels take their styles from here, never from a literal
/// colour, so that a theme (and `NO_COLOR`) governs the whole screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Shown in the footer and used by [`Theme::next_built_in`] to know where the cycle is.
    pub name: String,
    /// Normal text, and the background the whole frame should be painted with first, so themes
    /// that set a background (high-contrast) cover the terminal's own.
    pub base: Style,
    /// Borders of panels without focus.
    pub border: Style,
    /// The border of the panel that receives keys, so the operator knows where they are.
    pub border_focused: Style,
    /// Titles of panels without focus.
    pub title: Style,
    /// The title of the panel with focus.
    pub title_focused: Style,
    /// The top status bar (mode, phase, ledger).
    pub header: Style,
    /// Column headings of tables.
    pub table_header: Style,
    /// The selected row; it is patched over the row's cells, so it should set both `fg` and
    /// `bg` (or use `reversed`) to stay readable over any cell colour.
    pub selected: Style,
    /// Our own node's row, which operators look for first (tmtop #45).
    pub our_row: Style,
    /// Secondary text: units, hashes, stale values.
    pub muted: Style,
    /// A healthy state (in sync, connected, validated).
    pub ok: Style,
    /// A state worth a look (behind, slow, few peers).
    pub warn: Style,
    /// A broken state (wrong ledger, disconnected, stalled).
    pub bad: Style,
    /// Values to pick out of running text (phase, sequence numbers).
    pub accent: Style,
    /// A yes vote on a disputed transaction.
    pub yes: Style,
    /// A no vote on a disputed transaction.
    pub no: Style,
    /// The filled part of progress bars; ratatui's `Gauge` draws it in this `fg`, so a `reversed`
    /// modifier here would hide it.
    pub gauge: Style,
    /// The unfilled part of progress bars.
    pub gauge_empty: Style,
    /// The agreement line in charts.
    pub chart: Style,
    /// Threshold markers such as the 80 % quorum line.
    pub threshold: Style,
    /// Key hints in the help overlay and the footer.
    pub key: Style,
}

/// Lists the style fields once, so the names a file may use, [`Theme::styles`] and the lookup
/// by name cannot drift apart from the struct (a missing field fails to compile in `blank`).
macro_rules! style_fields {
    ($($field:ident),* $(,)?) => {
        /// The style names a theme file may set under `[styles]`, in declaration order.
        pub const STYLE_NAMES: [&str; STYLE_COUNT] = [$(stringify!($field)),*];

        impl Theme {
            /// Every style with its name, for checks over all of them (tests, previews).
            pub fn styles(&self) -> [(&'static str, Style); STYLE_COUNT] {
                [$((stringify!($field), self.$field)),*]
            }

            fn style_mut(&mut self, name: &str) -> Option<&mut Style> {
                match name {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// The root the `default` theme is written over: no style at all.
            fn blank(name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($field: Style::new(),)*
                }
            }
        }
    };
}

/// How many styles a theme has.
pub const STYLE_COUNT: usize = 21;

style_fields!(
    base,
    border,
    border_focused,
    title,
    title_focused,
    header,
    table_header,
    selected,
    our_row,
    muted,
    ok,
    warn,
    bad,
    accent,
    yes,
    no,
    gauge,
    gauge_empty,
    chart,
    threshold,
    key,
);

/// Why a theme could not be loaded.
#[derive(Debug, Error)]
pub enum ThemeError {
    /// The file is not a valid theme; the error names file, line and key.
    #[error(transparent)]
    Toml(#[from] TomlError),
    /// The file could not be read (most often: it does not exist).
    #[error("cannot read theme file {}: {source}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A name that is neither a built-in theme nor looks like a path.
    #[error(
        "unknown theme {name:?}: the built-in themes are {}; a theme file is a path \
         containing '/' or ending in .toml",
        quoted_list(&BUILT_IN)
    )]
    Unknown {
        /// The name as given.
        name: String,
    },
}

impl Default for Theme {
    /// The built-in `default` theme. Its file is checked by the tests, so the blank fallback
    /// exists only to keep this infallible, never to be seen.
    fn default() -> Theme {
        Theme::built_in("default").unwrap_or_else(|| Theme::blank("default"))
    }
}

impl Theme {
    /// A built-in theme by name; `None` for any other name.
    pub fn built_in(name: &str) -> Option<Theme> {
        let (name, text) = built_in_file(name)?;
        Theme::load_built_in(name, text, 0).ok()
    }

    /// A built-in theme name, or a path to a theme file. Anything containing `/` or ending in
    /// `.toml` is a path, so `./default.toml` loads a file even though `default` is built in.
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        if is_path(name_or_path) {
            return Theme::load_file(Path::new(name_or_path));
        }
        match built_in_file(name_or_path) {
            Some((name, text)) => Theme::load_built_in(name, text, 0),
            None => Err(ThemeError::Unknown {
                name: name_or_path.to_string(),
            }),
        }
    }

    /// Reads a theme file. Without a `name` key the theme is named after the file's stem.
    pub fn load_file(path: &Path) -> Result<Theme, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Theme::from_toml(&path.display().to_string(), &text)
    }

    /// A theme from text already in memory; `file` is the name errors and the fallback theme
    /// name use.
    pub fn from_toml(file: &str, text: &str) -> Result<Theme, ThemeError> {
        let doc = TomlDoc::from_text(file, text);
        let stem = Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        Theme::from_doc(&doc, Origin::File { stem: &stem }, 0)
    }

    /// The theme to start with: the `--theme` flag wins, then `NO_COLOR` (`no_color`, see
    /// [`no_color_env`]) selects `mono`, else `default`.
    ///
    /// A flag naming a coloured theme while `NO_COLOR` is set is an explicit request
    /// (no-color.org lets command-line arguments override it), but crossterm still suppresses
    /// colours until the caller also calls `crossterm::style::force_color_output(true)`.
    pub fn choose(flag: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        match flag {
            Some(flag) => Theme::load(flag),
            None if no_color => Theme::load("mono"),
            None => Theme::load("default"),
        }
    }

    /// The built-in theme after this one, wrapping around, for the key that cycles themes. A
    /// theme not named like a built-in (a custom file) continues with `default`.
    pub fn next_built_in(&self) -> Theme {
        let next = BUILT_IN
            .iter()
            .position(|n| *n == self.name)
            .map_or(0, |i| (i + 1) % BUILT_IN.len());
        Theme::built_in(BUILT_IN[next]).unwrap_or_default()
    }

    fn load_built_in(name: &str, text: &str, depth: usize) -> Result<Theme, ThemeError> {
        let doc = TomlDoc::from_text(format!("themes/{name}.toml"), text);
        Theme::from_doc(&doc, Origin::BuiltIn { name }, depth)
    }

    /// `depth` counts the `extends` links followed so far: only built-ins can be extended, so a
    /// cycle can only come from the embedded files, and this turns one into an error instead of
    /// a stack overflow.
    fn from_doc(doc: &TomlDoc, origin: Origin<'_>, depth: usize) -> Result<Theme, ThemeError> {
        let raw: RawTheme = doc.parse()?;
        let mut theme = match (&raw.extends, origin) {
            (None, Origin::BuiltIn { name: "default" }) => Theme::blank("default"),
            (None, _) => Theme::parent("default", depth, doc, None)?,
            (Some(parent), _) => {
                let found = built_in_file(parent.get_ref()).is_some();
                if !found {
                    return Err(key_error(
                        doc,
                        parent.span(),
                        "extends",
                        format!(
                            "unknown theme {:?} (only built-in themes can be extended: {})",
                            parent.get_ref(),
                            quoted_list(&BUILT_IN)
                        ) + &suggestion(parent.get_ref(), &BUILT_IN),
                    )
                    .into());
                }
                Theme::parent(parent.get_ref(), depth, doc, Some(parent.span()))?
            }
        };
        theme.name = match (&raw.name, origin) {
            (_, Origin::BuiltIn { name }) => name.to_string(),
            (Some(name), _) if name.get_ref().trim().is_empty() => {
                return Err(key_error(doc, name.span(), "name", "the name is empty").into());
            }
            (Some(name), _) => name.get_ref().clone(),
            (None, Origin::File { stem }) => stem.to_string(),
        };
        let mut entries = raw.styles.0;
        entries.sort_by_key(|(key, _)| key.span().start);
        for (style_name, table) in entries {
            let name = style_name.get_ref();
            if !STYLE_NAMES.contains(&name.as_str()) {
                return Err(key_error(
                    doc,
                    style_name.span(),
                    &format!("styles.{name}"),
                    format!(
                        "unknown style {name:?} (styles: {})",
                        STYLE_NAMES.join(", ")
                    ) + &suggestion(name, &STYLE_NAMES),
                )
                .into());
            }
            let style = Resolver { doc }.style(name, table)?;
            if let Some(slot) = theme.style_mut(name) {
                *slot = style;
            }
        }
        Ok(theme)
    }

    fn parent(
        name: &str,
        depth: usize,
        doc: &TomlDoc,
        span: Option<Range<usize>>,
    ) -> Result<Theme, ThemeError> {
        let Some((name, text)) = built_in_file(name) else {
            return Err(ThemeError::Unknown {
                name: name.to_string(),
            });
        };
        if depth >= BUILT_IN.len() {
            let message = "the built-in themes extend each other in a cycle";
            return Err(match span {
                Some(span) => key_error(doc, span, "extends", message),
                None => doc.error(message),
            }
            .into());
        }
        Theme::load_built_in(name, text, depth + 1)
    }
}

/// Whether `NO_COLOR` asks for no colour: set and not empty, per no-color.org.
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Where a document came from, which decides its name and whether it is the root of `extends`.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    BuiltIn { name: &'a str },
    File { stem: &'a str },
}

fn built_in_file(name: &str) -> Option<(&'static str, &'static str)> {
    BUILT_IN_FILES.iter().copied().find(|(n, _)| *n == name)
}

fn is_path(name_or_path: &str) -> bool {
    name_or_path.contains('/')
        || name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.ends_with(".toml")
}

/// An error at `span` under the exact dotted `key`: [`TomlDoc::error_at`] finds the line, but
/// from the line alone it can only name the entry (`styles.selected`), not the inline-table field
/// inside it (`styles.selected.bg`).
fn key_error(
    doc: &TomlDoc,
    span: Range<usize>,
    key: &str,
    message: impl Into<String>,
) -> TomlError {
    let mut err = doc.error_at(span, message);
    err.key = Some(key.to_string());
    err
}

/// Checks one style table and everything in it.
struct Resolver<'a> {
    doc: &'a TomlDoc,
}

impl Resolver<'_> {
    fn style(&self, style_name: &str, table: Spanned<StyleTable>) -> Result<Style, TomlError> {
        let mut style = Style::new();
        let mut fields = table.into_inner().0;
        fields.sort_by_key(|(key, _)| key.span().start);
        for (field, value) in fields {
            let path = format!("styles.{style_name}.{}", field.get_ref());
            style = match field.get_ref().as_str() {
                "fg" => style.fg(self.colour(&path, &value)?),
                "bg" => style.bg(self.colour(&path, &value)?),
                "modifiers" => style.add_modifier(self.modifiers(&path, &value)?),
                other => {
                    return Err(key_error(
                        self.doc,
                        field.span(),
                        &path,
                        format!("unknown key {other:?} in a style (keys: fg, bg, modifiers)")
                            + &suggestion(other, &["fg", "bg", "modifiers"]),
                    ));
                }
            };
        }
        Ok(style)
    }

    fn colour(&self, path: &str, value: &Spanned<FieldValue>) -> Result<Color, TomlError> {
        parse_colour(value.get_ref()).map_err(|m| key_error(self.doc, value.span(), path, m))
    }

    fn modifiers(&self, path: &str, value: &Spanned<FieldValue>) -> Result<Modifier, TomlError> {
        let items = match value.get_ref() {
            FieldValue::List(items) => items,
            FieldValue::Text(text) => {
                return Err(key_error(
                    self.doc,
                    value.span(),
                    path,
                    format!("expected a list of modifiers such as [{text:?}], found a string"),
                ));
            }
            other => {
                return Err(key_error(
                    self.doc,
                    value.span(),
                    path,
                    format!(
                        "expected a list of modifiers such as [\"bold\"], found {}",
                        other.kind()
                    ),
                ));
            }
        };
        let mut modifiers = Modifier::empty();
        for item in items {
            modifiers |= parse_modifier(item.get_ref())
                .map_err(|m| key_error(self.doc, item.span(), path, m))?;
        }
        Ok(modifiers)
    }
}

/// Colour names as ratatui spells them, in snake_case.
const COLOURS: [(&str, Color); 17] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark_gray", Color::DarkGray),
    ("light_red", Color::LightRed),
    ("light_green", Color::LightGreen),
    ("light_yellow", Color::LightYellow),
    ("light_blue", Color::LightBlue),
    ("light_magenta", Color::LightMagenta),
    ("light_cyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

const MODIFIERS: [(&str, Modifier); 6] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

fn parse_colour(value: &FieldValue) -> Result<Color, String> {
    match value {
        FieldValue::Text(text) => {
            if let Some((_, colour)) = COLOURS.iter().find(|(n, _)| n == text) {
                return Ok(*colour);
            }
            if let Some(hex) = text.strip_prefix('#') {
                return parse_hex(hex).ok_or_else(|| {
                    format!("bad hex colour {text:?}: expected \"#rrggbb\", six hex digits")
                });
            }
            let names: Vec<&str> = COLOURS.iter().map(|(n, _)| *n).collect();
            Err(format!(
                "unknown colour {text:?} (named colours: {}, \"#rrggbb\" or 0-255)",
                quoted_list(&names)
            ) + &suggestion(text, &names))
        }
        FieldValue::Integer(index) => u8::try_from(*index)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {index} is out of range 0-255")),
        other => Err(format!(
            "expected a colour (a name, \"#rrggbb\" or 0-255), found {}",
            other.kind()
        )),
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

fn parse_modifier(value: &FieldValue) -> Result<Modifier, String> {
    let names: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
    match value {
        FieldValue::Text(text) => MODIFIERS
            .iter()
            .find(|(n, _)| n == text)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                format!(
                    "unknown modifier {text:?} (modifiers: {})",
                    quoted_list(&names)
                ) + &suggestion(text, &names)
            }),
        other => Err(format!(
            "expected a modifier name ({}), found {}",
            quoted_list(&names),
            other.kind()
        )),
    }
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `; did you mean "x"?` for the closest known name, or nothing. Case, `-`, `_`, spaces and the
/// British "grey" are ignored, then up to two typos are forgiven, which catches `Dark-Grey`,
/// `blu` and `underline` without suggesting unrelated names.
fn suggestion(given: &str, known: &[&str]) -> String {
    fn normal(s: &str) -> String {
        s.to_ascii_lowercase()
            .replace("grey", "gray")
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .collect()
    }
    let given = normal(given);
    known
        .iter()
        .map(|k| (edit_distance(&given, &normal(k)), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("; did you mean {k:?}?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A theme file as written. Styles are kept as spanned entries rather than a struct with
/// `deny_unknown_fields`, so an unknown style or field is reported at its own line with its
/// exact key and a list of what is allowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    name: Option<Spanned<String>>,
    extends: Option<Spanned<String>>,
    #[serde(default)]
    styles: StylesTable,
}

/// `[styles]`: style name -> style table.
#[derive(Debug, Default)]
struct StylesTable(Vec<(Spanned<String>, Spanned<StyleTable>)>);

/// One style: field name (`fg`, `bg`, `modifiers`, or a mistake) -> value.
#[derive(Debug)]
struct StyleTable(Vec<(Spanned<String>, Spanned<FieldValue>)>);

impl<'de> Deserialize<'de> for StylesTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        entries(d, "a table of styles such as [styles]").map(StylesTable)
    }
}

impl<'de> Deserialize<'de> for StyleTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        entries(
            d,
            "a style table such as { fg = \"red\", modifiers = [\"bold\"] }",
        )
        .map(StyleTable)
    }
}

/// Reads a table as (spanned key, value) pairs, keeping every key, known or not.
fn entries<'de, D, V>(d: D, expecting: &'static str) -> Result<Vec<(Spanned<String>, V)>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct EntriesVisitor<V> {
        expecting: &'static str,
        value: std::marker::PhantomData<V>,
    }
    impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
        type Value = Vec<(Spanned<String>, V)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<Spanned<String>>()? {
                out.push((key, map.next_value()?));
            }
            Ok(out)
        }
    }
    d.deserialize_map(EntriesVisitor {
        expecting,
        value: std::marker::PhantomData,
    })
}

/// Any value a style field could hold, so a wrong type is reported by the checks (with the exact
/// key) instead of as a serde type error located only by line.
#[derive(Debug)]
enum FieldValue {
    Text(String),
    Integer(i64),
    List(Vec<Spanned<FieldValue>>),
    Other(&'static str),
}

impl FieldValue {
    fn kind(&self) -> &'static str {
        match self {
            FieldValue::Text(_) => "a string",
            FieldValue::Integer(_) => "an integer",
            FieldValue::List(_) => "a list",
            FieldValue::Other(kind) => kind,
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = FieldValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a colour or a list of modifiers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FieldValue, E> {
                Ok(FieldValue::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldValue, E> {
                Ok(FieldValue::Integer(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<FieldValue, E> {
                Ok(FieldValue::Other("a float"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<FieldValue, E> {
                Ok(FieldValue::Other("a boolean"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<FieldValue>>()? {
                    items.push(item);
                }
                Ok(FieldValue::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(FieldValue::Other("a table"))
            }
        }
        d.deserialize_any(FieldVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.to_string())
    }

    #[test]
    fn style_names_match_the_struct() {
        let theme = Theme::blank("x");
        let names: Vec<&str> = theme.styles().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, STYLE_NAMES);
        for name in STYLE_NAMES {
            assert!(Theme::blank("x").style_mut(name).is_some(), "{name}");
        }
    }

    #[test]
    fn every_built_in_sets_every_style_itself() {
        // So a built-in never changes because `default` did, and a new style cannot be added
        // without each theme (mono above all) choosing its value.
        for (name, text) in BUILT_IN_FILES {
            let raw: RawTheme = TomlDoc::from_text(name, text).parse().unwrap();
            let mut set: Vec<String> = raw
                .styles
                .0
                .iter()
                .map(|(k, _)| k.get_ref().clone())
                .collect();
            set.sort();
            let mut all: Vec<String> = STYLE_NAMES.iter().map(|s| s.to_string()).collect();
            all.sort();
            assert_eq!(set, all, "{name}");
        }
    }

    #[test]
    fn built_in_files_are_in_cycle_order_and_named_like_their_file() {
        let names: Vec<&str> = BUILT_IN_FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, BUILT_IN);
        for (name, text) in BUILT_IN_FILES {
            let raw: RawTheme = TomlDoc::from_text(name, text).parse().unwrap();
            assert_eq!(raw.name.map(|n| n.into_inner()).as_deref(), Some(name));
        }
    }

    #[test]
    fn colours_by_name_hex_and_index() {
        assert_eq!(parse_colour(&text("dark_gray")), Ok(Color::DarkGray));
        assert_eq!(parse_colour(&text("reset")), Ok(Color::Reset));
        assert_eq!(
            parse_colour(&text("#3465A4")),
            Ok(Color::Rgb(0x34, 0x65, 0xa4))
        );
        assert_eq!(parse_colour(&FieldValue::Integer(0)), Ok(Color::Indexed(0)));
        assert_eq!(
            parse_colour(&FieldValue::Integer(255)),
            Ok(Color::Indexed(255))
        );
    }

    #[test]
    fn bad_colours_say_what_is_allowed() {
        let err = parse_colour(&text("blu")).unwrap_err();
        assert!(
            err.starts_with("unknown colour \"blu\" (named colours: \"black\""),
            "{err}"
        );
        assert!(err.contains("\"#rrggbb\" or 0-255"), "{err}");
        assert!(err.ends_with("did you mean \"blue\"?"), "{err}");
        for bad in ["#12345", "#1234567", "#12345g", "#", "#+12345"] {
            let err = parse_colour(&text(bad)).unwrap_err();
            assert!(err.starts_with("bad hex colour"), "{bad}: {err}");
        }
        for bad in [256, -1, i64::MAX] {
            let err = parse_colour(&FieldValue::Integer(bad)).unwrap_err();
            assert!(err.contains("out of range 0-255"), "{bad}: {err}");
        }
        let err = parse_colour(&FieldValue::Other("a boolean")).unwrap_err();
        assert!(err.ends_with("found a boolean"), "{err}");
    }

    #[test]
    fn suggestions_forgive_spelling_but_not_nonsense() {
        let colours: Vec<&str> = COLOURS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            suggestion("Dark-Grey", &colours),
            "; did you mean \"dark_gray\"?"
        );
        assert_eq!(
            suggestion("lightblue", &colours),
            "; did you mean \"light_blue\"?"
        );
        assert_eq!(suggestion("purple", &colours), "");
        assert_eq!(
            suggestion("underline", &["bold", "underlined"]),
            "; did you mean \"underlined\"?"
        );
        assert_eq!(suggestion("x", &["fg", "bg"]), "");
    }

    #[test]
    fn modifiers_by_name() {
        assert_eq!(
            parse_modifier(&text("crossed_out")),
            Ok(Modifier::CROSSED_OUT)
        );
        let err = parse_modifier(&text("blink")).unwrap_err();
        assert!(
            err.starts_with("unknown modifier \"blink\" (modifiers: \"bold\""),
            "{err}"
        );
        let err = parse_modifier(&FieldValue::Integer(1)).unwrap_err();
        assert!(err.ends_with("found an integer"), "{err}");
    }

    #[test]
    fn an_extends_cycle_is_an_error_not_a_stack_overflow() {
        let doc = TomlDoc::from_text("themes/x.toml", "name = \"x\"\nextends = \"light\"\n");
        let origin = Origin::BuiltIn { name: "x" };
        let err = Theme::from_doc(&doc, origin, BUILT_IN.len()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("themes/x.toml:2: key `extends`: "),
            "{err}"
        );
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn paths_are_told_from_names() {
        assert!(is_path("./mine.toml"));
        assert!(is_path("themes/x"));
        assert!(is_path("mine.toml"));
        assert!(!is_path("high-contrast"));
    }
}
