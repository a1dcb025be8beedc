//! Writing secret-bearing files: owner-only, never over an existing file,
//! never half-written.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use zeroize::Zeroizing;

/// Why a key file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file already exists at the path; keystores are never overwritten.
    #[error("{0} already exists; refusing to overwrite a keystore (move it away first)")]
    AlreadyExists(PathBuf),
    /// The OS refused (missing directory, permissions, full disk, ...).
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

/// Why a raw secret file could not be read. The messages never quote the
/// file's contents.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// The file could not be read.
    #[error("cannot read secret file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file does not hold one hex string (`0x` optional).
    #[error("secret file {0} does not hold a single hex string")]
    NotHex(PathBuf),
}

/// Reads a secret written as hex (`0x` optional, surrounding whitespace
/// ignored). Everything read is wiped when dropped.
pub fn read_secret_hex_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, SecretFileError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|source| SecretFileError::Io { path: path.to_path_buf(), source })?,
    );
    let digits = text.trim();
    let digits = digits.strip_prefix("0x").unwrap_or(digits);
    // hex's own error quotes the offending character: keep it out.
    hex::decode(digits).map(Zeroizing::new).map_err(|_| SecretFileError::NotHex(path.to_path_buf()))
}

/// Writes `contents` to a new file at `path` with mode 0600.
///
/// The bytes go to a temporary file in the same directory (created 0600),
/// are flushed to disk, and the file is then linked into place only if
/// nothing exists at `path`. A crash or a full disk leaves either no file or
/// the complete file at `path`, and an existing file is never replaced.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let io_error = |source| WriteError::Io { path: path.to_path_buf(), source };
    if path.exists() {
        return Err(WriteError::AlreadyExists(path.to_path_buf()));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".chorus-partial-")
        .tempfile_in(directory)
        .map_err(io_error)?;
    restrict_to_owner(temporary.path()).map_err(io_error)?;
    temporary.write_all(contents).map_err(io_error)?;
    temporary.as_file().sync_all().map_err(io_error)?;
    temporary.persist_noclobber(path).map_err(|err| {
        if err.error.kind() == io::ErrorKind::AlreadyExists {
            WriteError::AlreadyExists(path.to_path_buf())
        } else {
            io_error(err.error)
        }
    })?;
    sync_directory(directory).map_err(io_error)
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes the new directory entry durable (POSIX needs an fsync of the
/// directory, not only of the file).
#[cfg(unix)]
fn sync_directory(directory: &Path) -> io::Result<()> {
    std::fs::File::open(directory)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_owner_only_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        write_new_private_file(&path, b"first").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = write_new_private_file(&path, b"second");
        assert!(matches!(again, Err(WriteError::AlreadyExists(_))));
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn secret_hex_errors_do_not_quote_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "0xabcdzz\n").unwrap();
        let message = read_secret_hex_file(&path).unwrap_err().to_string();
        assert!(!message.contains("abcd"), "{message}");
        std::fs::write(&path, " 0x0102\n").unwrap();
        assert_eq!(read_secret_hex_file(&path).unwrap().as_slice(), &[1, 2]);
    }

    #[test]
    fn missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("key.json");
        assert!(matches!(write_new_private_file(&path, b"x"), Err(WriteError::Io { .. })));
    }
}
