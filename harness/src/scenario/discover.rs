//! Finding scenario files and naming them.

use std::path::{Path, PathBuf};

use super::error::ScenarioError;

/// A scenario file found on disk, with the name it is reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file.
    pub file: PathBuf,
    /// Its path relative to the folder it was found in (or to the nearest ancestor folder
    /// called `scenarios`), without `.yaml`, with `/` separators.
    pub name: String,
}

/// Expands paths into scenario files, in the order given. A file is taken as it is; a
/// folder means every `*.yaml` below it, sorted by name. A path that does not exist, or a folder with no
/// scenario, is an error, so a mistyped selection never passes silently.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Found>, ScenarioError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ScenarioError::Missing { file: path.clone() }
            } else {
                ScenarioError::Read {
                    file: path.clone(),
                    source,
                }
            }
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            if files.is_empty() {
                return Err(ScenarioError::Empty { file: path.clone() });
            }
            let mut found: Vec<Found> = files
                .into_iter()
                .map(|file| {
                    let rel = file.strip_prefix(path).unwrap_or(&file).to_path_buf();
                    Found {
                        name: name_of(&rel),
                        file,
                    }
                })
                .collect();
            found.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(found);
        } else {
            out.push(Found {
                name: file_name(path),
                file: path.clone(),
            });
        }
    }
    // A file reached twice (a folder and a file in it both given) runs once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.file.clone()));
    Ok(out)
}

/// Every `*.yaml` file below `dir`. Symbolic links to files are followed; links to
/// folders are not, so a link cycle cannot make the walk endless. Hidden entries (editor
/// back-ups such as `.#x.yaml`) are skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let read_err = |source| ScenarioError::Read {
        file: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(|source| ScenarioError::Read {
            file: path.clone(),
            source,
        })?;
        let is_yaml = path.extension().is_some_and(|e| e == "yaml");
        if kind.is_dir() {
            walk(&path, out)?;
        } else if is_yaml && (kind.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// The name of a file given directly: relative to the nearest ancestor folder called
/// `scenarios`, else the file stem.
fn file_name(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut ancestor = abs.parent();
    while let Some(dir) = ancestor {
        if dir.file_name().is_some_and(|n| n == "scenarios")
            && let Ok(rel) = abs.strip_prefix(dir)
        {
            return name_of(rel);
        }
        ancestor = dir.parent();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A relative path without `.yaml`, joined with `/`.
fn name_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    joined
        .strip_suffix(".yaml")
        .map(str::to_string)
        .unwrap_or(joined)
}
