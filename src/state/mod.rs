//! The files epilot keeps: where they live, how writers take turns, and the profiles.

pub mod lock;
pub mod paths;
pub mod profiles;
