//! Collects what the user gave for one operation: parameter values and the request body.

pub mod body;
pub mod params;
pub mod violation;
