//! The checked scenario model. Files are read into the raw serde model (`raw`), validated
//! once (`load`), and handed out as [`Scenario`]; runners never see serde types.

mod model;

pub use model::*;
