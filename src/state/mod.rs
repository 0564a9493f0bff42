//! The files epilot keeps: where they live, how writers take turns, and the profiles.

pub(crate) mod lock;
pub mod paths;
pub(crate) mod profiles;
