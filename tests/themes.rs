//! Colour themes as an operator meets them: the built-ins load and keep their promises (mono has
//! no colour yet every state shows), custom files extend a built-in, every mistake names file,
//! line and key, and the theme chosen at start-up and by the `T` key is the right one.

use std::fs;
use std::path::{Path, PathBuf};

use cpeers::tui::theme::{BUILT_IN, STYLE_NAMES, Theme, ThemeError};
use ratatui::style::{Color, Modifier, Style};

/// Writes `text` to a file of its own, so errors are checked as `load` reports them.
fn write(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("themes");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn load_text(name: &str, text: &str) -> Result<Theme, ThemeError> {
    let path = write(name, text);
    Theme::load(path.to_str().unwrap())
}

fn style(theme: &Theme, name: &str) -> Style {
    theme
        .styles()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap()
}

#[test]
fn every_built_in_loads_by_name_and_from_its_file() {
    for name in BUILT_IN {
        let theme = Theme::load(name).unwrap();
        assert_eq!(theme.name, name);
        assert_eq!(Theme::built_in(name).as_ref(), Some(&theme));
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("themes")
            .join(format!("{name}.toml"));
        assert_eq!(Theme::load_file(&file).unwrap(), theme, "{name}");
    }
    assert_eq!(Theme::built_in("nope"), None);
}

#[test]
fn built_ins_are_all_different() {
    let themes: Vec<Theme> = BUILT_IN.iter().map(|n| Theme::load(n).unwrap()).collect();
    for (i, a) in themes.iter().enumerate() {
        for b in &themes[i + 1..] {
            assert_ne!(a.styles(), b.styles(), "{} and {}", a.name, b.name);
        }
    }
}

#[test]
fn default_is_the_default_theme_and_sets_every_style() {
    let theme = Theme::default();
    assert_eq!(Some(&theme), Theme::built_in("default").as_ref());
    for (name, style) in theme.styles() {
        assert_ne!(style, Style::new(), "default leaves {name} unset");
    }
}

#[test]
fn mono_uses_no_colour_at_all() {
    let mono = Theme::load("mono").unwrap();
    for (name, style) in mono.styles() {
        for colour in [style.fg, style.bg, style.underline_color] {
            assert!(
                matches!(colour, None | Some(Color::Reset)),
                "mono.{name} has colour {colour:?}"
            );
        }
    }
}

#[test]
fn mono_tells_every_state_apart() {
    let m = Theme::load("mono").unwrap();
    assert!(m.selected.add_modifier.contains(Modifier::REVERSED));
    // Gauge paints its filled part as full blocks in the fg colour; reversed would hide them.
    assert!(!m.gauge.add_modifier.contains(Modifier::REVERSED));
    let pairs = [
        ("base", "selected"),
        ("base", "our_row"),
        ("selected", "our_row"),
        ("yes", "no"),
        ("base", "muted"),
        ("border", "border_focused"),
        ("title", "title_focused"),
        ("gauge", "gauge_empty"),
        ("ok", "warn"),
        ("warn", "bad"),
        ("base", "threshold"),
        ("base", "header"),
    ];
    for (a, b) in pairs {
        assert_ne!(style(&m, a), style(&m, b), "mono: {a} looks like {b}");
    }
    // Our row stays recognisable while selected: the selection patches over it.
    assert_ne!(m.selected, m.selected.patch(m.our_row));
}

#[test]
fn light_never_draws_bright_text_on_the_terminal_background() {
    let light = Theme::load("light").unwrap();
    let bright = [
        Color::White,
        Color::Yellow,
        Color::LightYellow,
        Color::LightCyan,
        Color::LightGreen,
        Color::Gray,
        Color::Cyan,
    ];
    for (name, style) in light.styles() {
        if style.bg.is_none() || style.bg == Some(Color::Reset) {
            let fg = style.fg.unwrap_or(Color::Reset);
            assert!(!bright.contains(&fg), "light.{name}: {fg:?} on white");
        }
    }
}

#[test]
fn high_contrast_is_bold_where_it_matters() {
    let hc = Theme::load("high-contrast").unwrap();
    assert_eq!(hc.base, Style::new().fg(Color::White).bg(Color::Black));
    for s in [
        hc.border_focused,
        hc.title_focused,
        hc.selected,
        hc.yes,
        hc.no,
        hc.bad,
    ] {
        assert!(s.add_modifier.contains(Modifier::BOLD), "{s:?}");
    }
}

#[test]
fn a_file_setting_only_base_keeps_everything_else_from_default() {
    let theme = load_text(
        "only-base.toml",
        "name = \"mine\"\n[styles]\nbase = { fg = \"black\", bg = \"reset\" }\n",
    )
    .unwrap();
    let default = Theme::default();
    assert_eq!(theme.name, "mine");
    assert_eq!(theme.base, Style::new().fg(Color::Black).bg(Color::Reset));
    for ((name, got), (_, want)) in theme.styles().iter().zip(default.styles()).skip(1) {
        assert_eq!(*got, want, "{name}");
    }
}

#[test]
fn extends_starts_from_the_named_built_in() {
    let theme = load_text(
        "on-light.toml",
        "extends = \"light\"\n[styles]\nselected = { modifiers = [\"reversed\"] }\n",
    )
    .unwrap();
    let light = Theme::load("light").unwrap();
    // No `name`: the file's stem.
    assert_eq!(theme.name, "on-light");
    assert_eq!(
        theme.selected,
        Style::new().add_modifier(Modifier::REVERSED)
    );
    for ((name, got), (_, want)) in theme.styles().iter().zip(light.styles()) {
        if *name != "selected" {
            assert_eq!(*got, want, "{name}");
        }
    }
}

#[test]
fn a_style_set_in_a_file_replaces_the_inherited_one_whole() {
    assert!(
        Theme::default()
            .border_focused
            .add_modifier
            .contains(Modifier::BOLD)
    );
    let theme = load_text(
        "replace.toml",
        "[styles]\nborder_focused = { fg = \"red\" }\n",
    )
    .unwrap();
    assert_eq!(theme.border_focused, Style::new().fg(Color::Red));
}

#[test]
fn hex_and_indexed_colours_and_all_modifiers() {
    let theme = load_text(
        "formats.toml",
        r##"
[styles]
selected = { fg = 17, bg = "#3465a4" }
our_row = { fg = 0, bg = "#FFFFFF" }
key = { modifiers = ["bold", "dim", "italic", "underlined", "reversed", "crossed_out"] }

[styles.chart]
fg = 255
"##,
    )
    .unwrap();
    assert_eq!(
        theme.selected,
        Style::new()
            .fg(Color::Indexed(17))
            .bg(Color::Rgb(0x34, 0x65, 0xa4))
    );
    assert_eq!(
        theme.our_row,
        Style::new()
            .fg(Color::Indexed(0))
            .bg(Color::Rgb(255, 255, 255))
    );
    assert_eq!(
        theme.key.add_modifier,
        Modifier::BOLD
            | Modifier::DIM
            | Modifier::ITALIC
            | Modifier::UNDERLINED
            | Modifier::REVERSED
            | Modifier::CROSSED_OUT
    );
    assert_eq!(theme.chart, Style::new().fg(Color::Indexed(255)));
}

/// Each mistake: the file text, the line and key the message must name, and words it must
/// contain.
const BAD: &[(&str, &str, usize, &str, &[&str])] = &[
    (
        "unknown-colour",
        "name = \"x\"\n\n[styles]\nbase = { fg = \"black\" }\nborder = { fg = \"gray\" }\n\nselected = { fg = \"white\", bg = \"blu\" }\n",
        7,
        "styles.selected.bg",
        &[
            "unknown colour \"blu\" (named colours: \"black\"",
            "\"#rrggbb\" or 0-255",
            "did you mean \"blue\"?",
        ],
    ),
    (
        "bad-hex",
        "[styles]\nbase = { fg = \"#12345\" }\n",
        2,
        "styles.base.fg",
        &["bad hex colour \"#12345\"", "#rrggbb"],
    ),
    (
        "bad-hex-digit",
        "[styles]\nbase = { bg = \"#12345z\" }\n",
        2,
        "styles.base.bg",
        &["bad hex colour"],
    ),
    (
        "index-too-big",
        "[styles]\n\nmuted = { fg = 256 }\n",
        3,
        "styles.muted.fg",
        &["256", "out of range 0-255"],
    ),
    (
        "index-negative",
        "[styles]\nmuted = { bg = -1 }\n",
        2,
        "styles.muted.bg",
        &["-1", "out of range 0-255"],
    ),
    (
        "colour-of-wrong-type",
        "[styles]\nmuted = { fg = true }\n",
        2,
        "styles.muted.fg",
        &["expected a colour", "found a boolean"],
    ),
    (
        "unknown-modifier",
        "[styles]\nkey = { modifiers = [\"bold\", \"blink\"] }\n",
        2,
        "styles.key.modifiers",
        &["unknown modifier \"blink\"", "\"crossed_out\""],
    ),
    (
        "unknown-modifier-multiline",
        "[styles]\nkey = { modifiers = [\n  \"bold\",\n  \"underline\",\n] }\n",
        4,
        "styles.key.modifiers",
        &[
            "unknown modifier \"underline\"",
            "did you mean \"underlined\"?",
        ],
    ),
    (
        "modifiers-not-a-list",
        "[styles]\nkey = { modifiers = \"bold\" }\n",
        2,
        "styles.key.modifiers",
        &["expected a list of modifiers such as [\"bold\"]"],
    ),
    (
        "unknown-style",
        "[styles]\nbase = {}\nselcted = { modifiers = [\"reversed\"] }\n",
        3,
        "styles.selcted",
        &[
            "unknown style \"selcted\"",
            "our_row",
            "did you mean \"selected\"?",
        ],
    ),
    (
        "unknown-style-table",
        "[styles]\nbase = {}\n\n[styles.footer]\nfg = \"red\"\n",
        4,
        "styles.footer",
        &["unknown style \"footer\""],
    ),
    (
        "unknown-style-key",
        "[styles]\nbase = { fg = \"red\", colour = \"blue\" }\n",
        2,
        "styles.base.colour",
        &["unknown key \"colour\"", "(keys: fg, bg, modifiers)"],
    ),
    (
        "unknown-key-in-style-table",
        "[styles.selected]\nfg = \"black\"\nbackground = \"cyan\"\n",
        3,
        "styles.selected.background",
        &["unknown key \"background\""],
    ),
    (
        "colour-in-style-table",
        "[styles.selected]\nfg = \"black\"\nbg = \"Cyan\"\n",
        3,
        "styles.selected.bg",
        &["unknown colour \"Cyan\"", "did you mean \"cyan\"?"],
    ),
    (
        "unknown-top-level-key",
        "name = \"x\"\ncolours = 3\n",
        2,
        "colours",
        &["unknown field `colours`"],
    ),
    (
        "style-not-a-table",
        "[styles]\nbase = \"red\"\n",
        2,
        "styles.base",
        &["expected a style table"],
    ),
    (
        "unknown-extends",
        "name = \"x\"\nextends = \"solarized\"\n",
        2,
        "extends",
        &[
            "unknown theme \"solarized\"",
            "only built-in themes can be extended",
            "\"mono\"",
        ],
    ),
    (
        "extends-a-file",
        "extends = \"./other.toml\"\n",
        1,
        "extends",
        &["only built-in themes can be extended"],
    ),
    ("empty-name", "\nname = \"  \"\n", 2, "name", &["empty"]),
    (
        "name-of-wrong-type",
        "name = 3\n",
        1,
        "name",
        &["invalid type"],
    ),
];

#[test]
fn every_mistake_names_file_line_and_key() {
    for (case, text, line, key, words) in BAD {
        let path = write(&format!("{case}.toml"), text);
        let err = Theme::load(path.to_str().unwrap()).unwrap_err();
        let ThemeError::Toml(toml) = &err else {
            panic!("{case}: not a TOML error: {err}");
        };
        assert_eq!(toml.line, Some(*line), "{case}: {err}");
        assert_eq!(toml.key.as_deref(), Some(*key), "{case}: {err}");
        let message = err.to_string();
        let prefix = format!("{}:{line}: key `{key}`: ", path.display());
        assert!(message.starts_with(&prefix), "{case}: {message}");
        for word in *words {
            assert!(message.contains(word), "{case}: {message:?} lacks {word:?}");
        }
    }
}

#[test]
fn a_syntax_error_has_file_and_line() {
    let path = write("syntax.toml", "[styles]\nbase = { fg = \"red\" \n");
    let message = Theme::load(path.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:2", path.display())),
        "{message}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/missing.toml");
    let err = Theme::load(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, ThemeError::Io { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("cannot read theme file "), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn a_name_ending_in_toml_is_a_path_not_a_built_in() {
    let err = Theme::load("default.toml").unwrap_err();
    assert!(matches!(err, ThemeError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("default.toml"), "{err}");
}

#[test]
fn an_unknown_name_lists_the_built_ins() {
    let err = Theme::load("solarized").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ThemeError::Unknown { .. }), "{err:?}");
    for name in BUILT_IN {
        assert!(message.contains(&format!("{name:?}")), "{message}");
    }
    assert!(message.contains(".toml"), "{message}");
}

#[test]
fn choose_prefers_the_flag_then_no_color_then_default() {
    let name = |flag: Option<&str>, no_color: bool| Theme::choose(flag, no_color).unwrap().name;
    assert_eq!(name(Some("light"), true), "light");
    assert_eq!(name(Some("light"), false), "light");
    assert_eq!(name(Some("mono"), false), "mono");
    assert_eq!(name(None, true), "mono");
    assert_eq!(name(None, false), "default");
    let file = write("chosen.toml", "name = \"chosen\"\n");
    assert_eq!(name(file.to_str(), true), "chosen");
    assert!(Theme::choose(Some("nope"), true).is_err());
}

#[test]
fn next_built_in_cycles_through_all_four_and_back() {
    let mut theme = Theme::default();
    let mut seen = Vec::new();
    for _ in 0..BUILT_IN.len() {
        theme = theme.next_built_in();
        seen.push(theme.name.clone());
    }
    assert_eq!(seen, ["light", "high-contrast", "mono", "default"]);
    assert_eq!(theme, Theme::default());
}

#[test]
fn a_custom_theme_cycles_to_default() {
    let custom = load_text(
        "custom.toml",
        "name = \"custom\"\n[styles]\nbase = { fg = 7 }\n",
    )
    .unwrap();
    assert_eq!(custom.next_built_in(), Theme::default());
}

#[test]
fn style_names_are_the_struct_fields() {
    let theme = Theme::default();
    let names: Vec<&str> = theme.styles().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, STYLE_NAMES);
    assert_eq!(STYLE_NAMES.len(), 21);
}
