//! The filesystem the import machinery and `uos` work over. `RamFs` is the board's
//! filesystem and the one the harness fills with a scenario's tree.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
}

/// Why a filesystem operation failed, mapped to an errno by `uos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// ENOENT
    NotFound,
    /// EEXIST
    Exists,
    /// ENOTDIR
    NotDir,
    /// EISDIR
    IsDir,
    /// ENOTEMPTY (MicroPython 1.9.4 reports EACCES on some ports; `uos` decides)
    NotEmpty,
    /// EINVAL
    Invalid,
}

/// A filesystem. Paths are `/`-separated; relative paths are taken from the current
/// folder (`getcwd`).
pub trait FileSystem {
    /// What `path` is, if it exists.
    fn stat(&self, path: &str) -> Option<FileKind>;
    /// The bytes of a file.
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;
    /// Creates or replaces a file; its folder must exist.
    fn write(&mut self, path: &str, data: &[u8]) -> Result<(), FsError>;
    /// Names in a folder, sorted.
    fn list(&self, path: &str) -> Result<Vec<String>, FsError>;
    /// Creates a folder; its parent must exist.
    fn mkdir(&mut self, path: &str) -> Result<(), FsError>;
    /// Removes an empty folder.
    fn rmdir(&mut self, path: &str) -> Result<(), FsError>;
    /// Removes a file.
    fn remove(&mut self, path: &str) -> Result<(), FsError>;
    /// Renames a file or folder.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError>;
    /// Changes the current folder.
    fn chdir(&mut self, path: &str) -> Result<(), FsError>;
    /// The current folder, absolute.
    fn getcwd(&self) -> String;
}

/// A filesystem held in memory (not on the GC heap, like flash on a board).
#[derive(Debug, Clone)]
pub struct RamFs {
    /// Absolute normalised path -> entry. The root `/` is implied.
    entries: BTreeMap<String, Entry>,
    cwd: String,
}

#[derive(Debug, Clone)]
enum Entry {
    File(Vec<u8>),
    Dir,
}

impl Default for RamFs {
    fn default() -> Self {
        Self::new()
    }
}

impl RamFs {
    /// An empty filesystem whose current folder is `/`.
    pub fn new() -> Self {
        RamFs {
            entries: BTreeMap::new(),
            cwd: "/".to_string(),
        }
    }

    /// Absolute, normalised form of `path` (`.` and `..` resolved, no trailing `/`).
    pub fn absolute(&self, path: &str) -> String {
        // the parts are appended to one buffer as they come; `..` cuts the last one off
        let mut out = String::with_capacity(self.cwd.len() + path.len() + 1);
        if !path.starts_with('/') {
            push_parts(&mut out, &self.cwd);
        }
        push_parts(&mut out, path);
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    fn kind(&self, abs: &str) -> Option<FileKind> {
        if abs == "/" {
            return Some(FileKind::Dir);
        }
        match self.entries.get(abs) {
            Some(Entry::File(_)) => Some(FileKind::File),
            Some(Entry::Dir) => Some(FileKind::Dir),
            None => None,
        }
    }

    fn parent_is_dir(&self, abs: &str) -> Result<(), FsError> {
        let parent = match abs.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &abs[..i],
        };
        match self.kind(parent) {
            Some(FileKind::Dir) => Ok(()),
            Some(FileKind::File) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    /// Writes a file, creating the folders on its way (for loading a tree).
    pub fn write_all(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let abs = self.absolute(path);
        let mut at = 0;
        while let Some(i) = abs[at + 1..].find('/') {
            let dir = &abs[..at + 1 + i];
            match self.kind(dir) {
                None => {
                    self.entries.insert(dir.to_string(), Entry::Dir);
                }
                Some(FileKind::File) => return Err(FsError::NotDir),
                Some(FileKind::Dir) => {}
            }
            at += 1 + i;
        }
        self.write(&abs, data)
    }
}

fn children<'a>(entries: &'a BTreeMap<String, Entry>, dir: &str) -> impl Iterator<Item = &'a str> {
    let prefix = if dir == "/" {
        "/".to_string()
    } else {
        alloc::format!("{dir}/")
    };
    entries
        .keys()
        .filter(move |k| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(move |k| &k[k.rfind('/').map_or(0, |i| i + 1)..])
}

impl FileSystem for RamFs {
    fn stat(&self, path: &str) -> Option<FileKind> {
        self.kind(&self.absolute(path))
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        match self.entries.get(&self.absolute(path)) {
            Some(Entry::File(d)) => Ok(d.clone()),
            Some(Entry::Dir) => Err(FsError::IsDir),
            None if self.absolute(path) == "/" => Err(FsError::IsDir),
            None => Err(FsError::NotFound),
        }
    }

    fn write(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        let abs = self.absolute(path);
        if self.kind(&abs) == Some(FileKind::Dir) {
            return Err(FsError::IsDir);
        }
        self.parent_is_dir(&abs)?;
        self.entries.insert(abs, Entry::File(data.to_vec()));
        Ok(())
    }

    fn list(&self, path: &str) -> Result<Vec<String>, FsError> {
        let abs = self.absolute(path);
        match self.kind(&abs) {
            Some(FileKind::Dir) => Ok(children(&self.entries, &abs).map(String::from).collect()),
            Some(FileKind::File) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    fn mkdir(&mut self, path: &str) -> Result<(), FsError> {
        let abs = self.absolute(path);
        if self.kind(&abs).is_some() {
            return Err(FsError::Exists);
        }
        self.parent_is_dir(&abs)?;
        self.entries.insert(abs, Entry::Dir);
        Ok(())
    }

    fn rmdir(&mut self, path: &str) -> Result<(), FsError> {
        let abs = self.absolute(path);
        match self.kind(&abs) {
            Some(FileKind::Dir) if abs == "/" => Err(FsError::Invalid),
            Some(FileKind::Dir) => {
                if children(&self.entries, &abs).next().is_some() {
                    return Err(FsError::NotEmpty);
                }
                if self.cwd == abs || self.cwd.starts_with(&alloc::format!("{abs}/")) {
                    return Err(FsError::Invalid);
                }
                self.entries.remove(&abs);
                Ok(())
            }
            Some(FileKind::File) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    fn remove(&mut self, path: &str) -> Result<(), FsError> {
        let abs = self.absolute(path);
        match self.kind(&abs) {
            Some(FileKind::File) => {
                self.entries.remove(&abs);
                Ok(())
            }
            Some(FileKind::Dir) => Err(FsError::IsDir),
            None => Err(FsError::NotFound),
        }
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        let (from, to) = (self.absolute(from), self.absolute(to));
        if self.kind(&from).is_none() {
            return Err(FsError::NotFound);
        }
        if from == "/" || to.starts_with(&alloc::format!("{from}/")) {
            return Err(FsError::Invalid);
        }
        self.parent_is_dir(&to)?;
        if self.kind(&to) == Some(FileKind::Dir) {
            return Err(FsError::Exists);
        }
        let moved: Vec<String> = self
            .entries
            .keys()
            .filter(|k| **k == from || k.starts_with(&alloc::format!("{from}/")))
            .cloned()
            .collect();
        for old in moved {
            let entry = self.entries.remove(&old).expect("listed above");
            self.entries
                .insert(alloc::format!("{to}{}", &old[from.len()..]), entry);
        }
        Ok(())
    }

    fn chdir(&mut self, path: &str) -> Result<(), FsError> {
        let abs = self.absolute(path);
        match self.kind(&abs) {
            Some(FileKind::Dir) => {
                self.cwd = abs;
                Ok(())
            }
            Some(FileKind::File) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    fn getcwd(&self) -> String {
        self.cwd.clone()
    }
}

/// Appends the parts of `path` to the normalised absolute path `out` (`/a/b` form, empty for
/// the root): empty parts and `.` are skipped, `..` removes the last part.
fn push_parts(out: &mut String, path: &str) {
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_current_folder() {
        let mut fs = RamFs::new();
        fs.write_all("/mpdiff/p/__init__.py", b"x = 1").unwrap();
        fs.chdir("/mpdiff").unwrap();
        assert_eq!(fs.stat("p"), Some(FileKind::Dir));
        assert_eq!(fs.read("p/__init__.py").unwrap(), b"x = 1");
        assert_eq!(fs.list("/").unwrap(), ["mpdiff"]);
        assert_eq!(fs.rmdir("p"), Err(FsError::NotEmpty));
        assert_eq!(fs.rmdir("/mpdiff"), Err(FsError::NotEmpty));
        fs.rename("p", "q").unwrap();
        assert_eq!(fs.stat("q/__init__.py"), Some(FileKind::File));
        assert_eq!(fs.stat("p"), None);
    }
}
