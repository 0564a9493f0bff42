//! The command line as data: the flags every command shares, a first pass that finds the API,
//! operation and `--definition` before any spec is loaded, and [`Options`], the parsed flags
//! with no I/O done yet.

pub mod operation;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

/// Pairs of flags that ask for opposite things: the parser refuses each pair (exit 2, both
/// flags named) rather than let one silently win. Flags that only shape what happens to an
/// answer (`--jsonata`, `-o`, `--timeout`, ...) stay allowed with `--dry-run` and `--mock`:
/// adding `--dry-run` to a working command line shows what that line would send.
pub const CONTRADICTIONS: &[(&str, &str)] = &[
    // Print the request, or answer from the document: one or the other.
    ("dry-run", "mock"),
    // Ask for everything, or never ask.
    ("guided", "no-interactive"),
    // One body: JSON or raw text, or form fields.
    ("data", "form"),
    // Check certificates against extra CAs, or check none.
    ("cacert", "insecure"),
];

/// Flags shared by every command. `global(true)` lets them appear before or after the API
/// and operation names.
pub fn global_args() -> Vec<Arg> {
    shared_args()
        .into_iter()
        .map(|arg| {
            let id = arg.get_id().clone();
            CONTRADICTIONS
                .iter()
                .filter(|(a, _)| id == *a)
                .fold(arg, |arg, (_, b)| arg.conflicts_with(b))
        })
        .collect()
}

fn shared_args() -> Vec<Arg> {
    let text = |id: &'static str| Arg::new(id).global(true).action(ArgAction::Set);
    let many = |id: &'static str| Arg::new(id).global(true).action(ArgAction::Append);
    let switch = |id: &'static str| Arg::new(id).global(true).action(ArgAction::SetTrue);
    vec![
        switch("help")
            .short('h')
            .long("help")
            .help("Show help: of the CLI, an API, or an operation (with --json: as JSON)"),
        switch("mock")
            .long("mock")
            .help("Answer offline with the documented sample response; send nothing"),
        many("param")
            .short('p')
            .long("param")
            .value_name("KEY=VALUE")
            .help("Set a named parameter (repeat a key to build an array)"),
        text("data")
            .short('d')
            .long("data")
            .value_name("JSON|@FILE|@-")
            .help("Request body: JSON text, @file, or @- for stdin"),
        many("form")
            .short('F')
            .long("form")
            .value_name("NAME=VALUE|NAME=@FILE")
            .help("A form field for multipart or urlencoded bodies"),
        many("header")
            .short('H')
            .long("header")
            .value_name("KEY: VALUE")
            .help("Custom request header (repeatable)"),
        text("token")
            .short('t')
            .long("token")
            .value_name("TOKEN")
            .help("Bearer token for authentication [env: EPILOT_TOKEN]"),
        text("profile")
            .long("profile")
            .value_name("NAME")
            .help("Use a named profile"),
        text("server")
            .short('s')
            .long("server")
            .value_name("URL")
            .help("Override server base URL"),
        switch("include")
            .short('i')
            .long("include")
            .help("Include the status line and response headers (on stderr)"),
        switch("json")
            .long("json")
            .help("Output raw JSON on one line (no formatting)"),
        switch("verbose")
            .short('v')
            .long("verbose")
            .help("Show the request (token masked) and response headers on stderr"),
        text("jsonata")
            .long("jsonata")
            .value_name("EXPR")
            .help("JSONata expression to transform the response"),
        text("definition")
            .long("definition")
            .value_name("FILE|URL")
            .help("Use this OpenAPI document (JSON or YAML) instead of the bundled one"),
        switch("guided")
            .long("guided")
            .help("Prompt for all parameters interactively"),
        switch("no-interactive")
            .long("no-interactive")
            .help("Disable interactive prompts"),
        switch("dry-run")
            .long("dry-run")
            .help("Print the request and a curl command; send nothing"),
        text("retries")
            .long("retries")
            .value_name("N")
            .allow_negative_numbers(true)
            .value_parser(parse_retries)
            .help("Retry idempotent requests on connection errors and 429/502/503/504 (default 2; 0 turns it off)"),
        switch("retry-unsafe").long("retry-unsafe").help("Retry POST and PATCH requests too"),
        text("cacert")
            .long("cacert")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Trust the CA certificates in this PEM file instead of the system's"),
        switch("insecure").long("insecure").help("Do not verify TLS certificates (warns)"),
        switch("insecure-http")
            .long("insecure-http")
            .help("Allow sending a token over plain http to a host other than this machine"),
        switch("no-validate")
            .long("no-validate")
            .help("Send even when the input does not match the schemas (warns)"),
        switch("validate-response")
            .long("validate-response")
            .help("Warn where the response departs from its schema"),
        text("output")
            .short('o')
            .long("output")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Write the response body to FILE"),
        text("max-answer-size")
            .long("max-answer-size")
            .value_name("SIZE")
            .value_parser(parse_size)
            .help("Largest answer --jsonata or --validate-response reads into memory (default 16MB)"),
        text("color")
            .long("color")
            .value_name("WHEN")
            .value_parser(["auto", "always", "never"])
            .default_value("auto")
            .help("Colour output: auto, always or never [env: NO_COLOR]"),
        text("timeout")
            .long("timeout")
            .value_name("SECONDS")
            .allow_negative_numbers(true)
            .value_parser(parse_timeout)
            .help("Give up when the whole request takes longer (default 30)"),
    ]
}

/// The longest `--timeout`: a day is more than any request needs, and far inside what
/// `Duration::from_secs_f64` accepts, so no value that parses can panic later.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// The most `--retries`; more only hammers a server that is already struggling.
pub const MAX_RETRIES: u32 = 10;

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= MAX_TIMEOUT_SECS => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds above 0 and at most {MAX_TIMEOUT_SECS} (one day), e.g. --timeout 10"
        )),
    }
}

fn parse_retries(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => Err(format!(
            "`{text}` is not a whole number from 0 to {MAX_RETRIES}, e.g. --retries 3 (0 turns retries off)"
        )),
    }
}

/// The root command with the shared flags and no subcommands.
pub fn root_command() -> Command {
    Command::new("epilot")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A spec-driven command-line client for the epilot APIs")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .args(global_args())
}

/// What the first pass finds: the words that pick the spec and operation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The first word that is not a flag or a flag's value (the API or a built-in command).
    pub api: Option<String>,
    /// The second such word (the operation).
    pub operation: Option<String>,
    pub definition: Option<String>,
    /// `--timeout`, when valid: it bounds the download of a `--definition` URL too.
    pub timeout: Option<std::time::Duration>,
}

/// Scans `args` (without the program name) for the API and operation names and
/// `--definition`, skipping the values of flags that take one. Flags are known from
/// [`global_args`], so the two passes never disagree about which flags take values.
pub fn prescan(args: &[OsString]) -> Invocation {
    let flags = global_args();
    let takes_value_long = |name: &str| {
        flags
            .iter()
            .any(|a| a.get_long() == Some(name) && a.get_action().takes_values())
    };
    let takes_value_short = |c: char| {
        flags
            .iter()
            .any(|a| a.get_short() == Some(c) && a.get_action().takes_values())
    };
    let mut found = Invocation::default();
    let mut words: Vec<String> = Vec::new();
    let mut iter = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        if arg == "--" {
            words.extend(iter.by_ref());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if takes_value_long(name) {
                let value = inline.or_else(|| iter.next());
                match name {
                    "definition" => found.definition = value,
                    // An invalid value is reported by the full parse that follows.
                    "timeout" => {
                        found.timeout = value
                            .and_then(|v| parse_timeout(&v).ok())
                            .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok());
                    }
                    _ => {}
                }
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            // A cluster of short flags: the first that takes a value consumes the rest or the next word.
            for (i, c) in arg.char_indices().skip(1) {
                if takes_value_short(c) {
                    if i + c.len_utf8() == arg.len() {
                        iter.next();
                    }
                    break;
                }
            }
        } else {
            words.push(arg);
        }
    }
    let mut words = words.into_iter();
    found.api = words.next();
    found.operation = words.next();
    found
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// How the request leaves the machine, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Over the network (no flag).
    Send,
    /// `--dry-run`: printed with an equivalent curl command.
    DryRun,
    /// `--mock`: answered offline with the documented sample.
    Mock,
}

/// Whether a person may be asked for input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// Ask for what is missing, when stdin and stdout are terminals (no flag).
    Auto,
    /// `--no-interactive`: never ask.
    Never,
    /// `--guided`: ask for every value, and confirm a change before sending it.
    Guided,
}

/// How much of the exchange is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    Quiet,
    /// `-i`: the status line and response headers.
    Head,
    /// `-v`: the request too (token masked), and retries and redirects; includes `-i`.
    Exchange,
}

impl Trace {
    pub fn shows_head(self) -> bool {
        self != Trace::Quiet
    }
}

/// How a JSON answer is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Pretty,
    /// `--json`: one compact line.
    Compact,
}

/// Which TLS certificates are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificates {
    /// Those the system trusts (no flag).
    System,
    /// `--cacert FILE`: those too that the CAs in FILE signed.
    AlsoTrust(PathBuf),
    /// `--insecure`: any, unchecked.
    Unchecked,
}

/// The parsed flags, as close to the command line as possible; nothing is read or derived.
/// Flags that exclude each other are one enum, so a contradiction cannot be represented.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub help: bool,
    pub delivery: Delivery,
    pub interaction: Interaction,
    pub trace: Trace,
    pub layout: Layout,
    pub params: Vec<String>,
    pub data: Option<String>,
    pub form: Vec<String>,
    pub headers: Vec<String>,
    pub token: Option<String>,
    pub profile: Option<String>,
    pub server: Option<String>,
    pub jsonata: Option<String>,
    pub definition: Option<String>,
    pub no_validate: bool,
    pub retries: Option<u32>,
    pub retry_unsafe: bool,
    pub certificates: Certificates,
    pub insecure_http: bool,
    pub validate_response: bool,
    pub output: Option<PathBuf>,
    pub color: ColorWhen,
    pub timeout: Option<f64>,
    pub max_answer_size: Option<u64>,
}

impl Options {
    /// The options of matches that passed [`refuse_contradictions`]; of two contradicting
    /// flags (which that refuses) the first listed here would win.
    pub fn from_matches(m: &ArgMatches) -> Options {
        let list = |id: &str| {
            m.get_many::<String>(id)
                .map(|v| v.cloned().collect())
                .unwrap_or_default()
        };
        let text = |id: &str| m.get_one::<String>(id).cloned();
        let flag = |id: &str| m.get_flag(id);
        Options {
            help: flag("help"),
            delivery: match (flag("dry-run"), flag("mock")) {
                (true, _) => Delivery::DryRun,
                (_, true) => Delivery::Mock,
                _ => Delivery::Send,
            },
            interaction: match (flag("guided"), flag("no-interactive")) {
                (true, _) => Interaction::Guided,
                (_, true) => Interaction::Never,
                _ => Interaction::Auto,
            },
            trace: match (flag("verbose"), flag("include")) {
                (true, _) => Trace::Exchange,
                (_, true) => Trace::Head,
                _ => Trace::Quiet,
            },
            layout: if flag("json") {
                Layout::Compact
            } else {
                Layout::Pretty
            },
            params: list("param"),
            data: text("data"),
            form: list("form"),
            headers: list("header"),
            token: text("token"),
            profile: text("profile"),
            server: text("server"),
            jsonata: text("jsonata"),
            definition: text("definition"),
            no_validate: flag("no-validate"),
            retries: m.get_one::<u32>("retries").copied(),
            retry_unsafe: flag("retry-unsafe"),
            certificates: match m.get_one::<PathBuf>("cacert") {
                _ if flag("insecure") => Certificates::Unchecked,
                Some(file) => Certificates::AlsoTrust(file.clone()),
                None => Certificates::System,
            },
            insecure_http: flag("insecure-http"),
            validate_response: flag("validate-response"),
            output: m.get_one::<PathBuf>("output").cloned(),
            color: match m.get_one::<String>("color").map(String::as_str) {
                Some("always") => ColorWhen::Always,
                Some("never") => ColorWhen::Never,
                _ => ColorWhen::Auto,
            },
            timeout: m.get_one::<f64>("timeout").copied(),
            max_answer_size: m.get_one::<u64>("max-answer-size").copied(),
        }
    }
}

/// Refuses the [`CONTRADICTIONS`] once the matches are merged. clap checks `conflicts_with`
/// within one command level only, so `--dry-run user getMeV2 --mock` (one flag before the
/// API name, one after) reaches here; the error reads like clap's own.
pub fn refuse_contradictions(
    command: &mut Command,
    matches: &ArgMatches,
) -> Result<(), clap::Error> {
    let m = innermost(matches);
    let given = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
    let both = CONTRADICTIONS
        .iter()
        .find(|(a, b)| given(a) && given(b))
        .map(|(a, b)| (shown(a), shown(b)));
    // A value-level contradiction clap cannot express: retry POST too, but retry nothing.
    let both = both.or_else(|| {
        (given("retry-unsafe") && m.get_one::<u32>("retries") == Some(&0))
            .then(|| ("--retry-unsafe".to_string(), "--retries 0".to_string()))
    });
    match both {
        // The innermost command's usage line goes with the error, as with clap's own.
        Some((a, b)) => Err(command_of(command, matches).error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("the argument '{a}' cannot be used with '{b}'"),
        )),
        None => Ok(()),
    }
}

fn command_of<'c>(command: &'c mut Command, m: &ArgMatches) -> &'c mut Command {
    match m.subcommand() {
        Some((name, sub)) if command.find_subcommand(name).is_some() => {
            let inner = command.find_subcommand_mut(name).expect("found above");
            command_of(inner, sub)
        }
        _ => command,
    }
}

/// A shared flag as clap names it in errors: `--data <JSON|@FILE|@->`, `--mock`.
fn shown(id: &str) -> String {
    let args = shared_args();
    let Some(arg) = args.iter().find(|a| a.get_id() == id) else {
        return id.to_string();
    };
    let long = format!("--{}", arg.get_long().unwrap_or(id));
    match arg.get_value_names().and_then(|v| v.first()) {
        Some(value) if arg.get_action().takes_values() => format!("{long} <{value}>"),
        _ => long,
    }
}

/// The matches of the innermost subcommand, where global flags and positionals end up.
pub fn innermost(matches: &ArgMatches) -> &ArgMatches {
    let mut current = matches;
    while let Some((_, sub)) = current.subcommand() {
        current = sub;
    }
    current
}

/// A size as `--max-answer-size` takes it: `100MB`, `1.5GB`, `64KiB`, `1000` (bytes).
/// K, M, G are powers of 1000; KiB, MiB, GiB powers of 1024.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => u64::MAX,
    };
    let value = number.parse::<f64>().ok().map(|n| n * factor as f64);
    match value {
        Some(bytes) if factor != u64::MAX && bytes >= 1.0 && bytes < u64::MAX as f64 => {
            Ok(bytes as u64)
        }
        _ => Err(format!(
            "`{text}` is not a size: write a number of bytes with an optional unit, e.g. 500MB, 2GB or 64KiB"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `line` parsed as `epilot api op ...` would be, contradictions refused.
    fn options(line: &str) -> Result<Options, clap::Error> {
        let mut command = root_command()
            .subcommand(Command::new("api").subcommand(Command::new("op").arg(Arg::new("id"))));
        let words = std::iter::once("epilot").chain(line.split_whitespace());
        let matches = command.try_get_matches_from_mut(words)?;
        refuse_contradictions(&mut command, &matches)?;
        Ok(Options::from_matches(innermost(&matches)))
    }

    #[test]
    fn mode_flags_become_one_value_each() {
        let plain = options("api op 1").unwrap();
        assert_eq!(
            (plain.delivery, plain.interaction, plain.trace, plain.layout),
            (
                Delivery::Send,
                Interaction::Auto,
                Trace::Quiet,
                Layout::Pretty
            )
        );
        let given = options("-v api -i op --json --mock --no-interactive").unwrap();
        assert_eq!(
            (given.delivery, given.interaction, given.trace, given.layout),
            (
                Delivery::Mock,
                Interaction::Never,
                Trace::Exchange,
                Layout::Compact
            )
        );
        assert_eq!(plain.certificates, Certificates::System);
        let tls = options("api op --cacert ca.pem").unwrap();
        assert_eq!(tls.certificates, Certificates::AlsoTrust("ca.pem".into()));
        let tls = options("--insecure api op").unwrap();
        assert_eq!(tls.certificates, Certificates::Unchecked);
        let given = options("api op --dry-run --guided -i").unwrap();
        assert_eq!(
            (given.delivery, given.interaction, given.trace),
            (Delivery::DryRun, Interaction::Guided, Trace::Head)
        );
    }

    #[test]
    fn contradictions_are_refused_at_one_level_and_across_levels() {
        for line in [
            "api op --dry-run --mock",
            "--dry-run api op --mock",
            "--guided api --no-interactive op",
            "-d {} api op -F a=b",
            "api op --cacert ca.pem --insecure",
            "--retries 0 api op --retry-unsafe",
        ] {
            let error = options(line).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{line}"
            );
            assert!(error.to_string().contains("cannot be used with"), "{line}");
        }
        assert!(options("--retries 1 api op --retry-unsafe").is_ok());
        assert!(options("api op --insecure --insecure-http").is_ok());
    }

    #[test]
    fn sizes_read_with_units() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5gb"), Ok(1_500_000_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2 M"), Ok(2_000_000));
        for bad in ["", "MB", "0", "-5", "5 parsecs", "1e99GB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    fn scan(line: &str) -> Invocation {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        prescan(&args)
    }

    #[test]
    fn finds_api_and_operation_around_flags() {
        let found = scan("-p id=1 user --jsonata email getUserV2 123");
        assert_eq!(found.api.as_deref(), Some("user"));
        assert_eq!(found.operation.as_deref(), Some("getUserV2"));
    }

    #[test]
    fn finds_definition_in_both_spellings() {
        assert_eq!(
            scan("pets listPets --definition ./p.yaml")
                .definition
                .as_deref(),
            Some("./p.yaml")
        );
        assert_eq!(
            scan("--definition=x.json pets").definition.as_deref(),
            Some("x.json")
        );
        assert_eq!(
            scan("--definition=x.json pets").api.as_deref(),
            Some("pets")
        );
    }

    #[test]
    fn finds_a_valid_timeout_for_the_definition_download() {
        let found = scan("pets list --timeout 2.5 --definition http://x/p.yaml");
        assert_eq!(found.timeout, Some(std::time::Duration::from_millis(2500)));
        assert_eq!(scan("--timeout=0 pets").timeout, None);
    }

    #[test]
    fn short_flag_values_are_skipped_attached_or_not() {
        let found = scan("-vH X:1 user -pid=3 getUser");
        assert_eq!(found.api.as_deref(), Some("user"));
        assert_eq!(found.operation.as_deref(), Some("getUser"));
    }

    #[test]
    fn every_flag_of_the_reference_exists() {
        let cmd = root_command();
        for long in [
            "param",
            "data",
            "header",
            "token",
            "profile",
            "server",
            "include",
            "json",
            "verbose",
            "jsonata",
            "definition",
            "guided",
            "no-interactive",
        ] {
            assert!(
                cmd.get_arguments().any(|a| a.get_long() == Some(long)),
                "--{long}"
            );
        }
        for short in ['p', 'd', 'H', 't', 's', 'i', 'v'] {
            assert!(
                cmd.get_arguments().any(|a| a.get_short() == Some(short)),
                "-{short}"
            );
        }
    }

    #[test]
    fn numeric_flags_refuse_what_cannot_be_used() {
        assert_eq!(parse_timeout("2.5"), Ok(2.5));
        assert_eq!(parse_timeout("86400"), Ok(MAX_TIMEOUT_SECS));
        for bad in [
            "1e20", "nan", "NaN", "inf", "-inf", "-1", "0", "-0", "", "10s",
        ] {
            let message = parse_timeout(bad).unwrap_err();
            assert!(message.contains("at most 86400"), "{bad}: {message}");
        }
        assert_eq!(parse_retries("0"), Ok(0));
        assert_eq!(parse_retries("10"), Ok(MAX_RETRIES));
        for bad in ["99999999999999999999", "11", "-1", "1.5", "x"] {
            let message = parse_retries(bad).unwrap_err();
            assert!(message.contains("from 0 to 10"), "{bad}: {message}");
        }
    }
}
