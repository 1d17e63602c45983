// never compiled; see Cargo.toml
