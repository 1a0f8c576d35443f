//! How much one scan may take. Every target is untrusted: these bound what
//! an image, an archive, a directory or a registry can make Vedette spend.
//! Each limit has a command-line flag and an environment variable (the
//! README's "Hostile input" table lists them).

use std::time::Duration;

/// The limits of one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Bytes of wanted files (package databases, lock files, summaries of
    /// binaries and jars) a scan may keep in memory, across all its layers.
    pub max_kept_bytes: u64,
    /// Largest single wanted file; a larger one is skipped with a warning.
    pub max_file_bytes: u64,
    /// Most bytes one layer may inflate to (past it: a decompression bomb).
    pub max_layer_bytes: u64,
    /// Most entries in one layer, or files in one directory tree.
    pub max_entries: u64,
    /// Most bytes a gzipped image archive may inflate to (on disk, in
    /// Vedette's private temp dir).
    pub max_archive_bytes: u64,
    /// The whole scan, from resolving the target to recording the result.
    pub timeout: Duration,
    /// One HTTP request for a document (token, manifest, config, catalog or
    /// tag-list page, advisory feed). Layer downloads are bounded by
    /// [`ScanLimits::timeout`] and by the stall timeout instead.
    pub http_timeout: Duration,
}

impl Default for ScanLimits {
    fn default() -> Self {
        Self {
            max_kept_bytes: 512 << 20,
            max_file_bytes: 256 << 20,
            max_layer_bytes: 64 << 30,
            max_entries: 5_000_000,
            max_archive_bytes: 16 << 30,
            timeout: Duration::from_secs(30 * 60),
            http_timeout: Duration::from_secs(10 * 60),
        }
    }
}

/// One limit as users set it: its flag, its environment variable, what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSetting {
    pub flag: &'static str,
    pub env: &'static str,
    pub what: &'static str,
}

impl ScanLimits {
    pub const MEMORY: LimitSetting = LimitSetting {
        flag: "--max-memory",
        env: "VEDETTE_MAX_MEMORY",
        what: "package data kept in memory per scan",
    };
    pub const FILE: LimitSetting = LimitSetting {
        flag: "--max-file-size",
        env: "VEDETTE_MAX_FILE_SIZE",
        what: "size of one package database or lock file",
    };
    pub const LAYER: LimitSetting = LimitSetting {
        flag: "--max-layer-size",
        env: "VEDETTE_MAX_LAYER_SIZE",
        what: "inflated size of one layer",
    };
    pub const ENTRIES: LimitSetting = LimitSetting {
        flag: "--max-entries",
        env: "VEDETTE_MAX_ENTRIES",
        what: "entries in one layer or directory tree",
    };
    pub const ARCHIVE: LimitSetting = LimitSetting {
        flag: "--max-archive-size",
        env: "VEDETTE_MAX_ARCHIVE_SIZE",
        what: "inflated size of a gzipped image archive",
    };
    pub const TIMEOUT: LimitSetting = LimitSetting {
        flag: "--timeout",
        env: "VEDETTE_SCAN_TIMEOUT",
        what: "time one scan may take",
    };
    pub const HTTP_TIMEOUT: LimitSetting = LimitSetting {
        flag: "--http-timeout",
        env: "VEDETTE_HTTP_TIMEOUT",
        what: "time one HTTP request may take",
    };
}

/// `512MiB`, `2G`, `1048576`, `64 KiB`: a byte count (K, M, G, T are
/// powers of 1024, with or without `iB` or `B`).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!("'{s}' is not a size; write it as 512MiB, 2GiB or a number of bytes")
    })?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => {
            return Err(format!(
                "'{s}': unknown unit '{other}'; write the size as 512MiB, 2GiB or a number of bytes"
            ))
        }
    };
    n.checked_mul(1u64 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("'{s}' is not a size above 0 that fits in 64 bits"))
}

/// A byte count as people read it: `512 MiB`, `64 GiB`, `1.5 KiB`, `300 B`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut whole = n;
    while whole >= 1024 && unit + 1 < UNITS.len() {
        whole /= 1024;
        unit += 1;
    }
    if unit == 0 {
        return format!("{n} B");
    }
    let exact = n.is_multiple_of(1u64 << (10 * unit));
    if exact {
        format!("{whole} {}", UNITS[unit])
    } else {
        format!(
            "{:.1} {}",
            n as f64 / (1u64 << (10 * unit)) as f64,
            UNITS[unit]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes(" 64 kb "), Ok(64 << 10));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("12 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_bytes("99999999999T").is_err(), "overflow is refused");
        assert!(parse_bytes("").is_err());
    }

    #[test]
    fn sizes_print_as_people_read_them() {
        assert_eq!(format_bytes(512 << 20), "512 MiB");
        assert_eq!(format_bytes(300), "300 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(64 << 30), "64 GiB");
    }
}
