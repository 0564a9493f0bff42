//! `--jsonata`: the one place that touches the JSONata engine (jsonata-core, pinned).
//!
//! The response is parsed straight into the engine's value type and the result is printed by
//! the engine's own writer, so key order and numbers survive exactly. Every evaluation runs
//! with a time limit and a sequence cap, inside `catch_unwind`; and `$formatInteger` of a
//! non-finite number, which would overflow the stack and abort the process in this engine
//! version, is refused before it reaches the engine.
//!
//! The engine checks its time limit between steps only, so one built-in call that builds a
//! huge value (`$pad("", 1e9)`: 13 s, 3 GB) runs past it. Two guards close that: `$pad` is
//! replaced by one that refuses a width over `MAX_STRING`, and [`evaluate_bounded`] runs the
//! evaluation on a thread of its own and gives up on it when the time limit passes, whatever
//! the engine is doing (the command then ends, and the thread with it).

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jsonata_core::evaluator::{CancelToken, Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::parser;
use jsonata_core::value::JValue;

/// Guardrails for one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout_ms: u64,
    pub max_depth: Option<usize>,
    pub max_sequence_length: usize,
    /// The memory the process may hold while the expression runs, in bytes.
    pub max_resident: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_ms: 10_000,
            max_depth: None,
            max_sequence_length: 10_000_000,
            max_resident: MAX_RESIDENT,
        }
    }
}

/// The longest string `$pad` may build, in characters: far beyond any real use, and about
/// 30 MB in the engine.
pub const MAX_STRING: usize = 10_000_000;

/// The memory the process may hold while an expression runs, by default: the engine has no
/// size cap on what `&`, `$join` or `$string` build, so a doubling string reaches gigabytes in
/// a second. Twice the worst case of reading a 16 MB answer (about 1 GB, README "Output").
pub const MAX_RESIDENT: u64 = 2 << 30;

/// How often the memory is looked at while an expression runs.
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// Stack of the evaluation thread: the engine recurses up to 30,000 levels, and the main
/// thread (where it used to run) has 8 MB.
const EVALUATION_STACK: usize = 16 * 1024 * 1024;

/// What an expression produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// JSONata's `undefined`: nothing to print.
    Nothing,
    /// A string result, printed raw.
    Text(String),
    /// Any other result, as compact JSON text.
    Json(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonataError {
    /// The JSONata error code (`T2001`, `S0201`, …) when the engine gave one.
    pub code: Option<String>,
    pub message: String,
}

/// Ends the message of every error that is a bound of epilot's, not the expression's fault.
const OVER_LIMIT: &str = "the limit for --jsonata";

impl JsonataError {
    /// Whether the expression went past one of the bounds on evaluation.
    pub fn is_over_limit(&self) -> bool {
        self.message.contains(OVER_LIMIT)
    }
}

/// Evaluates `expression` against the JSON text `input` on a thread of its own, and stops
/// waiting for it once `limits.timeout_ms` has passed, even inside one long built-in call.
pub fn evaluate_bounded(
    expression: &str,
    input: String,
    limits: Limits,
) -> Result<Outcome, JsonataError> {
    let (send, receive) = mpsc::channel();
    let cancel = CancelToken::new();
    let expression_owned = expression.to_string();
    let token = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("jsonata".into())
        .stack_size(EVALUATION_STACK)
        .spawn(move || {
            let outcome = run(
                &expression_owned,
                Some(&input),
                &HashMap::new(),
                limits,
                token,
            );
            let _ = send.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(JsonataError {
            code: None,
            message: format!("cannot start the JSONata evaluation: {e}"),
        });
    }
    let deadline = Instant::now() + Duration::from_millis(limits.timeout_ms);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(left.min(WATCH_EVERY)) {
            Ok(outcome) => return outcome,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(JsonataError {
                    code: None,
                    message: "the JSONata engine stopped without an answer".to_string(),
                })
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let failure = if left.is_zero() {
            too_long(limits)
        } else if resident_bytes().is_some_and(|used| used > limits.max_resident) {
            too_big(limits)
        } else {
            continue;
        };
        // The thread may be inside one built-in call that never looks at the token; it is
        // left behind and ends with the process.
        cancel.cancel();
        return Err(failure);
    }
}

fn shown_time(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn too_big(limits: Limits) -> JsonataError {
    JsonataError {
        code: None,
        message: format!(
            "it made epilot hold more than {} MB of memory, {OVER_LIMIT} (2 GB, or 64 times --max-answer-size when more)",
            limits.max_resident >> 20
        ),
    }
}

/// The memory this process holds, where the system says (Linux); `None` elsewhere, where
/// only the time limit applies.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

fn too_long(limits: Limits) -> JsonataError {
    JsonataError {
        code: None,
        message: format!(
            "it ran longer than {}, {OVER_LIMIT} (10 s, or --timeout when shorter)",
            shown_time(limits.timeout_ms)
        ),
    }
}

/// Evaluates `expression` against `input` (JSON text; `None` for no input) with optional
/// variable bindings, on this thread.
pub fn evaluate(
    expression: &str,
    input: Option<&str>,
    bindings: &HashMap<String, JValue>,
    limits: Limits,
) -> Result<Outcome, JsonataError> {
    run(expression, input, bindings, limits, CancelToken::new())
}

fn run(
    expression: &str,
    input: Option<&str>,
    bindings: &HashMap<String, JValue>,
    limits: Limits,
    cancel: CancelToken,
) -> Result<Outcome, JsonataError> {
    let data = match input {
        Some(text) => JValue::from_json_str(text).map_err(|e| JsonataError {
            code: None,
            message: format!("the response is not JSON, so --jsonata cannot read it: {e}"),
        })?,
        None => JValue::Undefined,
    };
    let ast = parser::parse(expression).map_err(|e| syntax_error(&e))?;
    let options = EvaluatorOptions {
        timeout_ms: Some(limits.timeout_ms),
        max_stack_depth: limits.max_depth,
        max_sequence_length: Some(limits.max_sequence_length),
        cancel: Some(cancel),
    };

    // The guards are always installed: `$eval` can call a function whose name the
    // expression never spells out.
    let result = quietly(|| {
        let mut context = Context::new();
        for (name, value) in bindings {
            context.bind(name.clone(), value.clone());
        }
        let mut evaluator = Evaluator::with_options(context, options);
        evaluator.register_fn_override("formatInteger", finite_format_integer)?;
        evaluator.register_fn_override("pad", bounded_pad)?;
        evaluator.evaluate(&ast, &data)
    });
    let value = match result {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            let message = error.message().to_string();
            return Err(JsonataError {
                code: code_of(&message),
                message,
            });
        }
        Err(panic) => {
            return Err(JsonataError {
                code: None,
                message: format!("the JSONata engine failed on this expression ({panic})"),
            })
        }
    };
    match value {
        JValue::Undefined => Ok(Outcome::Nothing),
        JValue::String(text) => Ok(Outcome::Text(text.to_string())),
        other => other
            .to_json_string()
            .map(Outcome::Json)
            .map_err(|e| JsonataError {
                code: None,
                message: format!("cannot write the result as JSON: {e}"),
            }),
    }
}

/// Parses `expression` without evaluating it, so a syntax error surfaces before the request
/// is sent.
pub fn check(expression: &str) -> Result<(), JsonataError> {
    parser::parse(expression)
        .map(drop)
        .map_err(|e| syntax_error(&e))
}

fn syntax_error(e: &impl std::fmt::Display) -> JsonataError {
    // `to_string` starts with the code ("S0207: ..."); `display_message` may prefix it.
    JsonataError {
        code: code_of(&e.to_string()),
        message: e.to_string(),
    }
}

/// Runs `f`, turning a panic into an error without the default hook's noise on stderr.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal error".to_string())
    })
}

/// `$formatInteger` that refuses infinities and NaN, then defers to the built-in.
fn finite_format_integer(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    if let Some(JValue::Number(n)) = args.first() {
        if !n.is_finite() {
            return Err(EvaluatorError::EvaluationError(
                "D1001: Number out of range: $formatInteger needs a finite number".to_string(),
            ));
        }
    }
    builtin("formatInteger", args)
}

/// `$pad` that refuses a width over [`MAX_STRING`] before the engine allocates it.
fn bounded_pad(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    if let Some(JValue::Number(width)) = args.get(1) {
        if width.abs() > MAX_STRING as f64 {
            return Err(EvaluatorError::EvaluationError(format!(
                "$pad width {width} is over {MAX_STRING} characters, {OVER_LIMIT}"
            )));
        }
    }
    builtin("pad", args)
}

/// Calls the engine's own built-in `name` with `args` (up to three), for an override that
/// has checked them.
fn builtin(name: &str, args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let mut context = Context::new();
    let names = ["a", "b", "c"];
    let call_args: Vec<String> = args
        .iter()
        .zip(names)
        .map(|(_, n)| format!("${n}"))
        .collect();
    for (value, name) in args.iter().zip(names) {
        context.bind(name.to_string(), value.clone());
    }
    let ast = parser::parse(&format!("${name}({})", call_args.join(",")))
        .map_err(|e| EvaluatorError::EvaluationError(e.to_string()))?;
    Evaluator::with_context(context).evaluate(&ast, &JValue::Undefined)
}

/// The first JSONata error code (`S0201:`, `T1006:` …) in `message`; the engine puts some
/// behind a prefix such as "Invalid syntax: ".
fn code_of(message: &str) -> Option<String> {
    (0..message.len())
        .filter(|&at| {
            message.is_char_boundary(at) && (at == 0 || message.as_bytes()[at - 1] == b' ')
        })
        .find_map(|at| jsonata_core::evaluator::error_code_prefix(&message[at..]))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str, input: &str) -> Result<Outcome, JsonataError> {
        evaluate(expr, Some(input), &HashMap::new(), Limits::default())
    }

    #[test]
    fn strings_are_raw_and_other_values_json() {
        assert_eq!(
            run("email", r#"{"email":"a@b.c"}"#).unwrap(),
            Outcome::Text("a@b.c".into())
        );
        assert_eq!(
            run("n", r#"{"n": 12}"#).unwrap(),
            Outcome::Json("12".into())
        );
        assert_eq!(run("missing", "{}").unwrap(), Outcome::Nothing);
    }

    #[test]
    fn key_order_and_numbers_survive() {
        let out = run("$", r#"{"z":1,"a":2.5e-10,"m":[1,2]}"#).unwrap();
        assert_eq!(
            out,
            Outcome::Json(r#"{"z":1,"a":2.5e-10,"m":[1,2]}"#.into())
        );
    }

    #[test]
    fn errors_carry_the_engine_code() {
        let err = run("'a' + 1", "{}").unwrap_err();
        assert_eq!(err.code.as_deref(), Some("T2001"));
        let err = run("foo(", "{}").unwrap_err();
        assert!(err.code.is_some(), "{err:?}");
    }

    #[test]
    fn codes_are_found_behind_prefixes() {
        assert_eq!(
            code_of("Invalid syntax: T1006: Attempted to invoke a non-function").as_deref(),
            Some("T1006")
        );
        assert_eq!(code_of("D1001: x").as_deref(), Some("D1001"));
        assert_eq!(code_of("Unclosed comment"), None);
    }

    #[test]
    fn format_integer_of_infinity_fails_cleanly() {
        let err = run("$formatInteger(1/0, 'w')", "{}").unwrap_err();
        assert_eq!(err.code.as_deref(), Some("D1001"));
        assert_eq!(
            run("$formatInteger(42, 'w')", "{}").unwrap(),
            Outcome::Text("forty-two".into())
        );
    }

    #[test]
    fn runaway_expressions_hit_the_limits() {
        let limits = Limits {
            timeout_ms: 200,
            ..Limits::default()
        };
        let err = evaluate(
            "($f := function($x){ $f($x) }; $f(1))",
            Some("{}"),
            &HashMap::new(),
            limits,
        );
        assert!(err.is_err());
    }

    #[test]
    fn a_bounded_evaluation_stops_at_the_memory_limit_where_the_system_tells() {
        if resident_bytes().is_none() {
            return;
        }
        let limits = Limits {
            max_resident: 1,
            ..Limits::default()
        };
        let err =
            evaluate_bounded("$count([1..9000000].($string($)))", "{}".into(), limits).unwrap_err();
        assert!(
            err.message.contains("of memory, the limit for --jsonata"),
            "{err:?}"
        );
        let fine = evaluate_bounded("a", r#"{"a":"b"}"#.into(), Limits::default());
        assert_eq!(fine, Ok(Outcome::Text("b".into())));
    }
}
