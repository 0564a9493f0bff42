//! The pipeline in one place: command line → spec → operation → input → request → transport →
//! output. Each step lives in its own module; this one only wires them and maps the outcome
//! to an exit code.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::time::Duration;

use crate::auth;
use crate::auth::credentials;
use crate::cli::operation;
use crate::cli::{self, Certificates, Delivery, Interaction, Layout, Options, Trace};
use crate::commands::list;
use crate::commands::{self, clap_outcome, print_notes};
use crate::env::term::{self, Terminal};
use crate::env::{places, write_out, Diagnostics, Env};
use crate::error::{did_you_mean, exit, Error, ErrorKind, Result};
use crate::input::{body, params, violation};
use crate::interactive;
use crate::interactive::prompt;
use crate::output::help;
use crate::output::{self, json_fmt, pager, OutputFile, Settings};
use crate::request;
use crate::spec::{self, index, LoadedApi};
use crate::state::profiles::Profiles;
use crate::text::shell_quote;
use crate::transport;
use crate::transport::mock;
use crate::validate;

/// Runs the CLI with `args` (including the program name) and returns the exit code.
pub fn run(args: Vec<OsString>, env: &mut Env<'_>) -> u8 {
    match execute(&args, env) {
        Ok(code) => code,
        Err(error) if error.kind == ErrorKind::BrokenPipe => exit::OK,
        Err(error) => {
            let _ = writeln!(env.stderr, "{error}");
            error.kind.exit_code()
        }
    }
}

fn execute(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    let invocation = cli::prescan(args.get(1..).unwrap_or_default());
    let Some(api_name) = invocation.api.clone() else {
        return root(args, env);
    };
    if let Some(builtin) = commands::registry::find(&api_name) {
        return commands::registry::run(builtin, args, env);
    }
    match api_name.as_str() {
        "help" => return help_command(args, env),
        crate::commands::completion::ENGINE_COMMAND => {
            return commands::completion::complete(args, env)
        }
        _ => {}
    }
    let download_timeout = invocation.timeout.unwrap_or(transport::DEFAULT_TIMEOUT);
    let loaded = spec::load(
        &api_name,
        invocation.definition.as_deref(),
        &places(env)?,
        &|url| transport::fetch_text_within(url, download_timeout),
    )?;
    print_notes(&loaded, env);
    let operation = match &invocation.operation {
        Some(name) => Some(find_operation(&loaded, name)?),
        None => None,
    };
    let mut tree = operation::tree(&loaded.api, operation.as_ref(), &invocation_of(&loaded));
    let matches = match tree.try_get_matches_from_mut(args) {
        Ok(matches) => matches,
        Err(clap_error) => return clap_outcome(clap_error, env),
    };
    let innermost = cli::innermost(&matches);
    if let Err(clap_error) = cli::refuse_contradictions(&mut tree, &matches) {
        return clap_outcome(clap_error, env);
    }
    let options = Options::from_matches(innermost);
    let style = if term::use_colour(
        options.color,
        env.terminal.stdout,
        (env.var)("NO_COLOR").as_deref(),
    ) {
        help::BOLD
    } else {
        help::PLAIN
    };
    let definition = invocation.definition.as_deref();
    match operation {
        None if options.help && options.layout == Layout::Compact => {
            print_json(&help::api_json(&loaded.api), env)
        }
        None if options.help => show_long(&list::operations(&loaded.api, definition), env),
        None if interactive(&options, env) => {
            let name = interactive::pick_operation(&mut terminal_prompter(env), &loaded.api)?;
            let op = find_operation(&loaded, &name)?;
            call(&loaded, &op, &[], &options, env)
        }
        None => write_out(list::operations(&loaded.api, definition).as_bytes(), env),
        Some(op) if options.help && options.layout == Layout::Compact => print_json(
            &help::operation_json(&loaded.api.name, &loaded.document, &op),
            env,
        ),
        Some(op) if options.help => show_long(
            &help::operation_text(&loaded.api.name, definition, &loaded.document, &op, &style),
            env,
        ),
        Some(op) => {
            let positionals = operation::positional_values(&op, innermost);
            call(&loaded, &op, &positionals, &options, env)
        }
    }
}

fn print_json(value: &serde_json::Value, env: &mut Env<'_>) -> Result<u8> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    write_out(format!("{text}\n").as_bytes(), env)
}

/// Long text through the pager on a terminal; straight to stdout otherwise.
fn show_long(text: &str, env: &mut Env<'_>) -> Result<u8> {
    if env.terminal.stdout {
        if let Some(pager) = pager::command_line((env.var)("PAGER").as_deref()) {
            env.stdout.flush().map_err(crate::error::io_error)?;
            if pager::page(text, &pager) {
                return Ok(exit::OK);
            }
        }
    }
    write_out(text.as_bytes(), env)
}

fn root(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    // No API named: let clap handle --version and flag errors, else show the overview.
    match cli::root_command().try_get_matches_from(args) {
        Err(clap_error) => clap_outcome(clap_error, env),
        Ok(_) => print_root_help(env),
    }
}

/// `epilot help [<command>...]`: the help `<command>... --help` shows, doing nothing else.
/// `-h`/`--help` after `help` ask for the same thing and are dropped (passed on, they would
/// make a second `--help`); `help help` and a bare `help --help` show the help of `help`.
fn help_command(args: &[OsString], env: &mut Env<'_>) -> Result<u8> {
    let rest = args.get(1..).unwrap_or_default();
    let Some(at) = rest.iter().position(|a| a == "help") else {
        return print_root_help(env);
    };
    let is_help_flag = |a: &&OsString| *a == "-h" || *a == "--help";
    let after = &rest[at + 1..];
    let named: Vec<OsString> = after.iter().filter(|a| !is_help_flag(a)).cloned().collect();
    let words: Vec<String> = named
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match words.first().map(String::as_str) {
        Some("help") => return write_out(help_of_help().as_bytes(), env),
        None if after.iter().any(|a| is_help_flag(&a)) => {
            return write_out(help_of_help().as_bytes(), env)
        }
        None => return print_root_help(env),
        Some(_) => {}
    }
    if let Some(help) = commands::registry::help_for(&words) {
        return write_out(help.as_bytes(), env);
    }
    let mut again: Vec<OsString> = args[..=at].to_vec();
    again.extend(named);
    again.push("--help".into());
    execute(&again, env)
}

fn help_of_help() -> String {
    clap::Command::new("help")
        .bin_name("epilot help")
        .about("Show the help of a command, as `<command>... --help` does")
        .override_usage("epilot help [<command>...]")
        .disable_help_flag(true)
        .after_help("Examples:\n  epilot help user getMeV2\n  epilot help definitions pull")
        .render_help()
        .to_string()
}

fn print_root_help(env: &mut Env<'_>) -> Result<u8> {
    let help = cli::root_command()
        .override_usage("epilot <api> [<operation>] [path values...] [flags]")
        .after_help(list::apis(&places(env)?))
        .render_help();
    write!(env.stdout, "{help}").map_err(crate::error::io_error)?;
    Ok(exit::OK)
}

/// `epilot 'api'` and its `--definition`, quoted: the start of every command printed for it.
fn invocation_of(loaded: &LoadedApi) -> String {
    help::invocation(&loaded.api.name, loaded.definition.as_deref())
}

fn find_operation(loaded: &LoadedApi, name: &str) -> Result<spec::Operation> {
    let entry = loaded.api.find(name).ok_or_else(|| {
        let hint = did_you_mean(name, loaded.api.operation_names())
            .map(|h| format!("{h} "))
            .unwrap_or_default();
        Error::usage(format!(
            "the {} API has no operation `{name}`",
            loaded.api.name
        ))
        .with_help(format!(
            "{hint}run `{}` to list its operations",
            invocation_of(loaded)
        ))
    })?;
    index::resolve_operation(&loaded.document, entry)
}

/// Whether a person can be asked: stdin and stdout are terminals and `--no-interactive` is
/// not given. Scripts and pipes never wait for input.
fn interactive(options: &Options, env: &Env<'_>) -> bool {
    env.terminal.stdin && env.terminal.stdout && options.interaction != Interaction::Never
}

fn terminal_prompter(env: &Env<'_>) -> prompt::terminal::Terminal {
    // From the first prompt on, Ctrl-C between prompts also ends the run with 130.
    term::exit_on_interrupt();
    prompt::terminal::Terminal::new(env.var)
}

/// Every problem with the input at once, or nothing. Missing path values are never sent
/// (the URL would be half-built), even with --no-validate.
fn check_input(
    loaded: &LoadedApi,
    op: &spec::Operation,
    collected: &params::Collected,
    body: Option<&body::BodyInput>,
    options: &Options,
    env: &mut Env<'_>,
) -> Result<()> {
    let unbuildable = params::unbuildable_path(op, &collected.values);
    let refuse = |problems: &[violation::Violation]| {
        let error = violation::rejection(&op.entry.name, problems);
        if unbuildable.is_empty() {
            return error;
        }
        // --no-validate would not help: the URL itself cannot be built.
        error.with_help(
            "give every path value: without one the URL cannot be built, --no-validate or not",
        )
    };
    if options.no_validate {
        if !unbuildable.is_empty() {
            return Err(refuse(&unbuildable));
        }
        if let Some(body::BodyInput::Raw(bytes)) = body.filter(|_| body::expects_json(op)) {
            body::check_json(bytes)?;
        }
        let _ = writeln!(
            env.stderr,
            "warning: --no-validate: the input was not checked against the schemas"
        );
        return Ok(());
    }
    let mut problems = collected.problems.clone();
    problems.extend(params::missing_required(op, &collected.values));
    problems.extend(params::empty_path_values(op, &collected.values));
    if body.is_none() && op.body.as_ref().is_some_and(|b| b.required) {
        problems.push(violation::Violation::new(
            "body",
            format!(
                "is required: pass it with -d '<json>', -d @file, or on stdin (cat body.json | {} {})",
                invocation_of(loaded), shell_quote(&op.entry.name)
            ),
        ));
    }
    problems.extend(validate::check_request(
        &loaded.document,
        op,
        &collected.values,
        body,
    )?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(refuse(&problems))
    }
}

/// `--validate-response`: where the answer departs from its documented schema, as warnings.
/// It reads the answer whole, up to `cap` bytes (a larger one is not checked), and hands back
/// the body to print.
fn check_response(
    loaded: &LoadedApi,
    op: &spec::Operation,
    response: &transport::Response,
    mut body: Box<dyn Read + Send>,
    cap: u64,
    env: &mut Env<'_>,
) -> Result<Box<dyn Read + Send>> {
    let status = response.status;
    let Some(documented) = op.response_for(status) else {
        let _ = writeln!(
            env.stderr,
            "warning: response: status {status} is not documented for `{}`",
            op.entry.name
        );
        return Ok(body);
    };
    let Some(schema) = &documented.schema else {
        return Ok(body);
    };
    let (held, complete) = output::read_up_to(response, &mut body, cap)?;
    if !complete {
        let _ = writeln!(
            env.stderr,
            "warning: response: not checked, the answer is larger than --max-answer-size ({})",
            output::show_size(cap)
        );
        return Ok(Box::new(io::Cursor::new(held).chain(body)));
    }
    if output::nesting_depth(&held) > output::READ_DEPTH {
        let _ = writeln!(
            env.stderr,
            "warning: response: not checked, {}",
            output::too_deep("--validate-response")
        );
        return Ok(Box::new(io::Cursor::new(held)));
    }
    let Ok(instance) = validate::Instance::parse(&held) else {
        let _ = writeln!(
            env.stderr,
            "warning: response: the body is not JSON, but status {} is documented as JSON",
            documented.status
        );
        return Ok(Box::new(io::Cursor::new(held)));
    };
    match validate::Schema::compile(
        &loaded.document,
        schema,
        validate::Direction::Response,
        "the response",
    ) {
        Ok(compiled) => {
            for violation in compiled.check(&instance, "response") {
                let violation = violation.to_string();
                let _ = writeln!(
                    env.stderr,
                    "warning: {}",
                    crate::text::escape_controls(&violation)
                );
            }
        }
        Err(error) => {
            let _ = writeln!(env.stderr, "warning: {}", error.message);
        }
    }
    Ok(Box::new(io::Cursor::new(held)))
}

/// What every step of a call reads: the document, the operation and the flags.
struct Call<'a> {
    loaded: &'a LoadedApi,
    op: &'a spec::Operation,
    options: &'a Options,
}

/// One operation call, in named steps: refuse what cannot work, gather and check the input,
/// prepare the request, then print it (`--dry-run`) or send it (or mock it) and present the
/// answer. Everything that can be checked is checked before anything is sent.
fn call(
    loaded: &LoadedApi,
    op: &spec::Operation,
    positionals: &[String],
    options: &Options,
    env: &mut Env<'_>,
) -> Result<u8> {
    let call = Call {
        loaded,
        op,
        options,
    };
    refuse_unanswerable(&call, env)?;
    let places = places(env)?;
    let mut prompter = interactive(options, env).then(|| terminal_prompter(env));
    let (values, body) = gather_input(&call, positionals, &places, prompter.as_mut(), env)?;
    let asker = prompter.as_mut().map(|p| p as &mut dyn prompt::Prompter);
    let (prepared, token) = prepare(&call, &values, body, &places, asker, env)?;
    if options.delivery == Delivery::DryRun {
        output::write_dry_run(env.stdout, &prepared, token.as_ref())
            .map_err(crate::error::io_error)?;
        return Ok(exit::OK);
    }
    if let Some(prompter) = &mut prompter {
        confirm_guided(&call, &prepared, prompter)?;
    }
    let file = answer_file(options)?;
    let mut response = deliver(&call, &prepared, env)?;
    present(loaded, op, &mut response, options, env, file)
}

/// What no input can fix, found before any is asked for: `--guided` without a terminal, and a
/// `--jsonata` expression that does not parse.
fn refuse_unanswerable(call: &Call<'_>, env: &Env<'_>) -> Result<()> {
    let options = call.options;
    if options.interaction == Interaction::Guided && !interactive(options, env) {
        return Err(
            Error::usage("--guided asks at a terminal, but stdin or stdout is not one").with_help(
                format!(
                    "pass the values as flags; `{} {} --help` lists them",
                    invocation_of(call.loaded),
                    shell_quote(&call.op.entry.name)
                ),
            ),
        );
    }
    if let Some(expression) = &options.jsonata {
        output::jsonata::check(expression)
            .map_err(|e| output::jsonata_error(expression, &e, false))?;
    }
    Ok(())
}

/// The parameter values and body from the command line and stdin, filled in at a terminal,
/// and checked: every problem at once, or the input to send.
fn gather_input(
    call: &Call<'_>,
    positionals: &[String],
    places: &crate::state::paths::Places,
    prompter: Option<&mut prompt::terminal::Terminal>,
    env: &mut Env<'_>,
) -> Result<(params::ParamValues, Option<body::BodyInput>)> {
    let (op, options) = (call.op, call.options);
    let mut collected = params::collect(op, positionals, &options.params, options.no_validate)?;
    let mut body = body::collect(
        op,
        options.data.as_deref(),
        &options.form,
        body::Stdin {
            is_terminal: env.terminal.stdin,
            reader: env.stdin,
        },
    )?;
    if let Some(prompter) = prompter {
        let fill = interactive::Fill {
            document: &call.loaded.document,
            api: &call.loaded.api.name,
            op,
            places,
            scope: if options.interaction == Interaction::Guided {
                interactive::Scope::Everything
            } else {
                interactive::Scope::Missing
            },
        };
        interactive::fill_in(prompter, &fill, &mut collected, &mut body)?;
    }
    check_input(call.loaded, op, &collected, body.as_ref(), options, env)?;
    if body.is_some() && op.body.is_none() {
        let _ = writeln!(
            env.stderr,
            "warning: `{}` declares no request body; sending the given one anyway",
            op.entry.name
        );
    }
    Ok((collected.values, body))
}

/// The request as it would be sent: to the address from `--server`, the profile or the
/// document, with the token and profile headers only where they may go.
fn prepare(
    call: &Call<'_>,
    values: &params::ParamValues,
    body: Option<body::BodyInput>,
    places: &crate::state::paths::Places,
    prompter: Option<&mut dyn prompt::Prompter>,
    env: &mut Env<'_>,
) -> Result<(request::PreparedRequest, Option<request::Token>)> {
    let (op, options) = (call.op, call.options);
    let profiles = Profiles::load(places)?;
    let profile_env = (env.var)("EPILOT_PROFILE");
    let profile = profiles.select(options.profile.as_deref(), profile_env.as_deref())?;
    let profile_server = profile.and_then(|(_, p)| p.server.as_deref());
    let (base_url, url) = addresses(call, values, profile_server)?;
    let chosen = chosen_origins(profile_server, options.server.as_deref());
    let mut withheld = Vec::new();
    let to = auth::Destination {
        url: &url,
        chosen: &chosen,
        insecure_http: options.insecure_http,
    };
    let profile_name = profile.map(|(name, _)| name);
    let token = token_for(op, options, env, prompter, profile_name, &to, &mut withheld)?;
    let mut headers = profile_headers(profile, url.origin(), &chosen, &mut withheld)?;
    if !withheld.is_empty() {
        let note = auth::withheld_note(&withheld, url.origin(), &base_url);
        let _ = writeln!(env.stderr, "{note}");
    }
    for typed in &options.headers {
        headers.push(request::parse_header(typed)?);
    }
    let prepared = request::build(request::Plan {
        op,
        values,
        body,
        url: &url,
        token: token.as_ref(),
        headers: &headers,
    })?;
    let expected_token = op.auth == spec::Auth::Bearer && options.delivery != Delivery::Mock;
    if expected_token && prepared.header("authorization").is_none() && withheld.is_empty() {
        let _ = writeln!(
            env.stderr,
            "warning: `{}` expects a bearer token and none was given; run `epilot auth login`, pass --token or set EPILOT_TOKEN",
            op.entry.name
        );
    }
    Ok((prepared, token))
}

/// The base URL and the URL that is sent. A profile's server replaces the document's;
/// `--server` on this line beats both. Who may receive a secret is decided on the URL that
/// is sent, not on the base URL.
fn addresses(
    call: &Call<'_>,
    values: &params::ParamValues,
    profile_server: Option<&str>,
) -> Result<(request::Url, request::Url)> {
    let (loaded, op) = (call.loaded, call.op);
    let server = call.options.server.as_deref().or(profile_server);
    let servers = if op.servers.is_empty() {
        &loaded.api.servers
    } else {
        &op.servers
    };
    let base_url = request::base_url(servers, server, &loaded.origin)?;
    let url = request::url_for(op, values, &base_url)?;
    Ok((base_url, url))
}

/// `--guided`: a request that would be sent is shown and must be confirmed first.
fn confirm_guided(
    call: &Call<'_>,
    prepared: &request::PreparedRequest,
    prompter: &mut prompt::terminal::Terminal,
) -> Result<()> {
    let options = call.options;
    if options.interaction != Interaction::Guided || options.delivery != Delivery::Send {
        return Ok(());
    }
    let mut preview = Vec::new();
    output::write_preview(&mut preview, prepared).map_err(crate::error::io_error)?;
    let preview = String::from_utf8_lossy(&preview);
    interactive::confirm_send(prompter, call.op.entry.method, &preview)
}

/// The answer: from the network, or with `--mock` from the document.
fn deliver(
    call: &Call<'_>,
    prepared: &request::PreparedRequest,
    env: &mut Env<'_>,
) -> Result<transport::Response> {
    let options = call.options;
    let verbose = options.trace == Trace::Exchange;
    if verbose {
        // Stderr never decides the outcome: the request goes out whoever reads the trace.
        let _ = output::write_request_trace(env.stderr, prepared);
    }
    if options.delivery == Delivery::Mock {
        let document = &call.loaded.document;
        return Ok(mock::response(document, call.op, &mut *env.stderr));
    }
    let settings = transport_settings(options, env);
    // Ctrl-C while waiting: exit 130, nothing half-received printed, nothing flushed.
    term::exit_on_interrupt();
    let stderr = &mut *env.stderr;
    transport::send(prepared, &settings, &mut |event| {
        if verbose {
            write_transport_event(stderr, event);
        }
    })
}

/// Where the answer will go, made sure of before anything is sent: the `-o` file (created
/// beside FILE, see [`OutputFile`]), or stdout, which must not have been closed.
fn answer_file(options: &Options) -> Result<Option<OutputFile>> {
    match output_path(options) {
        Some(path) => {
            // From before the temporary file exists, so no signal can leave it behind.
            term::exit_on_interrupt();
            OutputFile::create(path).map(Some)
        }
        None if term::stdout_was_closed() => {
            Err(Error::usage("cannot write output: stdout is closed")
                .with_help("nothing was sent; give the answer a place (`> FILE` or -o FILE)"))
        }
        None => Ok(None),
    }
}

/// The `-o` path; `-o -` is stdout, as for curl.
fn output_path(options: &Options) -> Option<&std::path::Path> {
    options
        .output
        .as_deref()
        .filter(|path| path.as_os_str() != "-")
}

/// The servers the user chose for secrets not typed on this line: the selected profile's
/// server and a `--server` on this command line (never the document's).
fn chosen_origins(
    profile_server: Option<&str>,
    server_flag: Option<&str>,
) -> Vec<request::url::Origin> {
    [profile_server, server_flag]
        .into_iter()
        .flatten()
        .filter_map(|server| request::Url::parse(server).ok())
        .map(|url| url.origin().clone())
        .collect()
}

/// The selected profile's organisation and headers, for a destination that may receive them;
/// otherwise named in `withheld`. The headers are secrets whatever their names, so they are
/// masked wherever the request is shown; the organisation id is not one.
fn profile_headers(
    profile: Option<(&str, &crate::state::profiles::Profile)>,
    origin: &request::url::Origin,
    chosen: &[request::url::Origin],
    withheld: &mut Vec<String>,
) -> Result<Vec<request::Header>> {
    let Some((name, profile)) = profile else {
        return Ok(Vec::new());
    };
    if profile.request_headers().is_empty() {
        return Ok(Vec::new());
    }
    if !auth::may_receive_ambient(origin, chosen) {
        withheld.push(profile.describe_headers(name));
        return Ok(Vec::new());
    }
    let organisation = profile.org_header().map(|h| request::parse_header(&h));
    let secrets = profile
        .headers
        .iter()
        .map(|h| request::parse_header(h).map(request::Header::into_masked));
    organisation.into_iter().chain(secrets).collect()
}

/// The token this request carries, if any: resolved by precedence (with a masked prompt as the
/// last resort on a terminal), refused when expired, withheld (and named in `withheld`) from an
/// origin the user did not choose.
fn token_for(
    op: &spec::Operation,
    options: &Options,
    env: &mut Env<'_>,
    prompter: Option<&mut dyn prompt::Prompter>,
    profile: Option<&str>,
    to: &auth::Destination<'_>,
    withheld: &mut Vec<String>,
) -> Result<Option<request::Token>> {
    let store_settings = credentials::Settings::from_env(env.var)?;
    // Reading falls back to the file store silently; storing a token says where it went.
    let resolved = auth::resolve(
        options.token.as_deref(),
        (env.var)("EPILOT_TOKEN").as_deref(),
        profile,
        &mut || credentials::open(&places(env)?, store_settings, &mut |_| {}),
    )?;
    let prompter = prompter.filter(|_| options.delivery == Delivery::Send);
    let resolved = match (resolved, prompter) {
        (None, Some(prompter)) if op.auth == spec::Auth::Bearer => {
            let question = prompt::Ask::new(format!(
                "Token for `{}` (not saved; `epilot auth login` keeps one):",
                op.entry.name
            ));
            Some(prompter.secret(&question)?)
                .filter(|typed| !typed.is_empty())
                .map(|typed| {
                    let token = request::Token {
                        value: crate::request::secret::Secret::from(typed),
                        explicit: false,
                    };
                    (token, auth::Source::Prompt)
                })
        }
        (other, _) => other,
    };
    let Some((token, source)) = resolved else {
        return Ok(None);
    };
    if op.auth != spec::Auth::Bearer && !token.explicit {
        return Ok(None);
    }
    auth::check_not_expired(&token, &source)?;
    match auth::destination(to, &source)? {
        auth::Decision::Send => Ok(Some(token)),
        auth::Decision::Withhold(what) => {
            withheld.push(what);
            Ok(None)
        }
    }
}

/// What `--retries`, `--retry-unsafe`, `--cacert`, `--insecure` and `--timeout` ask for.
fn transport_settings(options: &Options, env: &mut Env<'_>) -> transport::Settings {
    let insecure = options.certificates == Certificates::Unchecked;
    if insecure {
        let _ = writeln!(env.stderr, "warning: --insecure: TLS certificates are not checked; anyone on the way can read and change this exchange");
    }
    transport::Settings {
        timeout: options
            .timeout
            .map(|seconds| Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
            .unwrap_or(transport::DEFAULT_TIMEOUT),
        retries: options.retries.unwrap_or(transport::DEFAULT_RETRIES),
        retry_unsafe: options.retry_unsafe,
        cacert: match &options.certificates {
            Certificates::AlsoTrust(file) => Some(file.clone()),
            _ => None,
        },
        insecure,
        insecure_http: options.insecure_http,
        proxies: transport::proxy::ProxyEnv::from_vars(env.var),
    }
}

/// `-v`: a retry or a redirect, and what changed on the way. Every line can carry a server's
/// text (a `Location`, a reason, header names), so its control characters are shown escaped.
fn write_transport_event(stderr: &mut dyn Write, event: &transport::Event) {
    let line = |stderr: &mut dyn Write, text: String| {
        let _ = writeln!(stderr, "* {}", crate::text::escape_controls(&text));
    };
    match event {
        transport::Event::Retry(retry) => line(
            stderr,
            format!(
                "attempt {} failed ({}); retrying in {:.1}s",
                retry.attempt,
                retry.reason,
                retry.wait.as_secs_f64()
            ),
        ),
        transport::Event::Redirect { status, to, notes } => {
            line(stderr, format!("{status}: following the redirect to {to}"));
            for note in notes {
                line(stderr, note.clone());
            }
        }
    }
}

/// Shows the answer: head for -i/-v, the body (streamed; only --jsonata and
/// --validate-response read it whole, up to --max-answer-size), and the exit code by status.
/// The `-o` file is put in place only once the whole answer is written.
fn present(
    loaded: &LoadedApi,
    op: &spec::Operation,
    response: &mut transport::Response,
    options: &Options,
    env: &mut Env<'_>,
    file: Option<OutputFile>,
) -> Result<u8> {
    if options.trace.shows_head() {
        let _ = output::write_response_head(env.stderr, response);
    }
    let cap = options
        .max_answer_size
        .unwrap_or(output::DEFAULT_MAX_ANSWER_SIZE);
    let mut body = std::mem::replace(&mut response.body, Box::new(io::empty()));
    if options.validate_response {
        body = check_response(loaded, op, response, body, cap, env)?;
    }
    let failed = response.status >= 400;
    // An error answer never replaces a good -o FILE (a cron job keeps its last good data on a
    // 503): dropped, the temporary file goes, and the answer goes to stdout as without -o.
    let (file, left_alone) = match file {
        Some(file) if failed => {
            drop(file);
            (None, output_path(options))
        }
        file => (file, None),
    };
    // An error answer streams like any other; its first bytes are kept for the summary line.
    let mut body = output::KeepPrefix::new(body, if failed { output::SUMMARY_PREFIX } else { 0 });
    let settings = Settings {
        layout: match options.layout {
            Layout::Compact => json_fmt::Layout::Compact,
            Layout::Pretty => json_fmt::Layout::Pretty,
        },
        colour: term::use_colour(
            options.color,
            env.terminal.stdout,
            (env.var)("NO_COLOR").as_deref(),
        ),
        jsonata: options.jsonata.clone(),
        output_file: file.as_ref().and(output_path(options)).map(Into::into),
        stdout_is_terminal: env.terminal.stdout,
        max_answer_size: cap,
        jsonata_time_limit: options
            .timeout
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .map_or(output::JSONATA_TIME_LIMIT, |t| {
                t.min(output::JSONATA_TIME_LIMIT)
            }),
    };
    let written = match file {
        Some(mut file) => output::write_body(&mut file, env.stderr, response, &mut body, &settings)
            .and_then(|()| file.commit()),
        None => output::write_body(env.stdout, env.stderr, response, &mut body, &settings)
            .and_then(|()| env.stdout.flush().map_err(crate::error::io_error)),
    };
    if !failed {
        written?;
        return Ok(exit::OK);
    }
    // A reader that went away does not turn an HTTP error into a success; nor does a closed
    // stdout that only stood in for the -o FILE left alone (the status decides the code).
    match written {
        Err(error) if error.kind == ErrorKind::BrokenPipe => {}
        Err(error) if left_alone.is_some() && error.kind == ErrorKind::Usage => {}
        Err(error) => return Err(error),
        Ok(()) => {}
    }
    if let Some(path) = left_alone {
        let _ = writeln!(
            env.stderr,
            "note: {} was left as it was; the error answer went to stdout",
            crate::text::escape_controls(&path.display().to_string())
        );
    }
    let summary = output::status_summary(response, &body.kept);
    let summary = crate::text::escape_controls(&summary);
    let _ = writeln!(env.stderr, "error: {summary}");
    Ok(exit::HTTP_ERROR)
}

/// Runs with the real process surroundings.
pub fn main() -> u8 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let stdin = io::stdin();
    let mut out: Box<dyn Write> = if term::stdout_was_closed() {
        Box::new(output::ClosedStdout)
    } else {
        Box::new(io::BufWriter::new(stdout.lock()))
    };
    // Not locked for the whole run: the Ctrl-C handler writes to stderr from another thread.
    let mut err = Diagnostics::new(stderr);
    let mut input = stdin.lock();
    let var = |name: &str| std::env::var(name).ok();
    let mut env = Env {
        stdout: &mut out,
        stderr: &mut err,
        stdin: &mut input,
        terminal: Terminal::detect(),
        var: &var,
    };
    let code = run(std::env::args_os().collect(), &mut env);
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe && code == exit::OK => {
            let _ = writeln!(io::stderr(), "error: cannot write output: {e}");
            ErrorKind::Usage.exit_code()
        }
        _ => code,
    }
}
