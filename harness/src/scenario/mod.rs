//! The checked scenario model. Files are read into the raw serde model (`raw`), validated
//! once (`load`), and handed out as [`Scenario`]; runners never see serde types.

mod discover;
mod error;
mod load;
mod model;
mod raw;

pub use discover::{Found, discover};
pub use error::ScenarioError;
pub use load::{load_file, load_str, parse_heap, yaml_options};
pub use model::*;

#[cfg(test)]
pub(crate) mod tests;
