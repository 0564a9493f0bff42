//! `--jsonata`: the one place that touches the JSONata engine (jsonata-core, pinned).
//!
//! The response is parsed straight into the engine's value type and the result is printed by
//! the engine's own writer, so key order and numbers survive exactly. Every evaluation runs
//! with a time limit and a sequence cap, inside `catch_unwind`; and `$formatInteger` of a
//! non-finite number, which would overflow the stack and abort the process in this engine
//! version, is refused before it reaches the engine.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};

use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use jsonata_core::{parser, Expression};

/// Guardrails for one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout_ms: u64,
    pub max_depth: Option<usize>,
    pub max_sequence_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_ms: 10_000,
            max_depth: None,
            max_sequence_length: 10_000_000,
        }
    }
}

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

/// Evaluates `expression` against `input` (JSON text; `None` for no input) with optional
/// variable bindings.
pub fn evaluate(
    expression: &str,
    input: Option<&str>,
    bindings: &HashMap<String, JValue>,
    limits: Limits,
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
        ..EvaluatorOptions::default()
    };
    let guard_format_integer = expression.contains("formatInteger");

    let result = quietly(|| {
        if bindings.is_empty() && !guard_format_integer {
            Expression::from_ast(ast).evaluate_with_options(&data, options)
        } else {
            let mut context = Context::new();
            for (name, value) in bindings {
                context.bind(name.clone(), value.clone());
            }
            let mut evaluator = Evaluator::with_options(context, options);
            if guard_format_integer {
                evaluator.register_fn_override("formatInteger", finite_format_integer)?;
            }
            evaluator.evaluate(&ast, &data)
        }
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
    let ast = parser::parse(&format!("$formatInteger({})", call_args.join(",")))
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
}
