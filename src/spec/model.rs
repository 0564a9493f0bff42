//! The format-neutral model the rest of the CLI works with: an API, its operations and their
//! parameters and bodies. Loading fills it; command building, input collection and request
//! building only read it.

use serde_json::Value;

/// An API as listed: cheap to build from the whole document, enough to list and pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub servers: Vec<Server>,
    /// Tags in the document's order, then undeclared ones in order of first use.
    pub tags: Vec<String>,
    pub operations: Vec<OperationEntry>,
}

impl Api {
    pub fn find(&self, name: &str) -> Option<&OperationEntry> {
        self.operations.iter().find(|op| op.name == name)
    }

    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().map(|op| op.name.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub url: String,
    pub description: Option<String>,
}

/// One operation as listed; [`crate::spec::index::resolve_operation`] expands it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationEntry {
    /// The command name: the operationId exactly as written, or one made from method and path.
    pub name: String,
    pub method: Method,
    pub path: String,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub deprecated: bool,
    /// JSON pointer of the operation object in the document, for error messages.
    pub pointer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
            Method::Trace => "trace",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }
}

/// An operation with everything needed to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub entry: OperationEntry,
    pub description: Option<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    /// Servers of the operation or path item, else of the document.
    pub servers: Vec<Server>,
    pub auth: Auth,
    /// The documented responses, in document order.
    pub responses: Vec<ResponseSpec>,
}

/// One documented response: its status key (`200`, `2XX`, `default`) and JSON content.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseSpec {
    pub status: String,
    pub description: Option<String>,
    pub content_type: Option<String>,
    /// The schema with its top-level `$ref` resolved.
    pub schema: Option<Value>,
    /// The media type's `example` (or first `examples` value), when the document gives one.
    pub example: Option<Value>,
}

impl Operation {
    /// Path parameters in the order they appear in the URL template: the positional slots.
    pub fn path_params_in_order(&self) -> Vec<&Param> {
        let mut params: Vec<(usize, &Param)> = self
            .params
            .iter()
            .filter(|p| p.location == Location::Path)
            .map(|p| {
                let at = self
                    .entry
                    .path
                    .find(&format!("{{{}}}", p.name))
                    .unwrap_or(usize::MAX);
                (at, p)
            })
            .collect();
        params.sort_by_key(|(at, _)| *at);
        params.into_iter().map(|(_, p)| p).collect()
    }

    /// The first 2xx response, else `default`.
    pub fn success_response(&self) -> Option<&ResponseSpec> {
        self.responses
            .iter()
            .find(|r| r.status.starts_with('2'))
            .or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }

    /// The response documented for `status`: the exact code, then `4XX`-style ranges, then
    /// `default`.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        self.responses
            .iter()
            .find(|r| r.status == exact)
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status.eq_ignore_ascii_case(&range))
            })
            .or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// How the operation authenticates, as far as the CLI acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// A bearer token is expected (`http`/`bearer`, or an `Authorization` API key).
    Bearer,
    /// No security requirement, or only schemes the CLI does not fill in.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
    Simple,
    Label,
    Matrix,
}

/// The JSON type a parameter's text is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    Integer,
    Number,
    Boolean,
}

impl Scalar {
    pub fn as_str(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Integer => "integer",
            Scalar::Number => "number",
            Scalar::Boolean => "boolean",
        }
    }
}

/// The shape of a parameter's value, which decides how it is read and serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar(Scalar),
    Array(Scalar),
    Object,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub description: Option<String>,
    pub deprecated: bool,
    pub style: Style,
    pub explode: bool,
    pub allow_reserved: bool,
    pub shape: Shape,
    /// The parameter's schema with top-level `$ref`s resolved (nested ones stay references).
    pub schema: Option<Value>,
    /// Set when the parameter uses `content` instead of `schema`: its value is sent as JSON.
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub required: bool,
    /// The media type the CLI sends: JSON when offered, else the first one listed.
    pub content_type: String,
    /// Every media type the operation accepts, in document order.
    pub content_types: Vec<String>,
    pub schema: Option<Value>,
    pub description: Option<String>,
}

impl Body {
    pub fn is_json(&self) -> bool {
        is_json_media_type(&self.content_type)
    }

    pub fn is_form(&self) -> bool {
        self.content_type.starts_with("multipart/form-data")
            || self
                .content_type
                .starts_with("application/x-www-form-urlencoded")
    }
}

pub fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}
