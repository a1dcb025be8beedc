//! Memory and CPU of processes, from `/proc` (Linux).

use serde::Serialize;

/// What `/proc/<pid>/status` and `/proc/<pid>/stat` say of one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcessUsage {
    /// Resident set size now, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size, KiB (`VmHWM`).
    pub hwm_kib: u64,
    /// CPU time used so far, user plus system, in clock ticks (100 a
    /// second on Linux).
    pub cpu_ticks: u64,
}

impl ProcessUsage {
    /// The usage of process `pid` (`"self"` for this one), or `None` if it
    /// is gone or `/proc` is not readable.
    pub fn of(pid: &str) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or(0)
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces, hence the
        // last ')'): utime and stime are the 14th and 15th of the line.
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        Some(Self {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
            cpu_ticks: ticks(11) + ticks(12),
        })
    }

    /// The sum over processes (peaks add up to an upper bound of the
    /// joint peak).
    pub fn sum(all: impl IntoIterator<Item = Self>) -> Self {
        all.into_iter().fold(Self::default(), |a, b| Self {
            rss_kib: a.rss_kib + b.rss_kib,
            hwm_kib: a.hwm_kib + b.hwm_kib,
            cpu_ticks: a.cpu_ticks + b.cpu_ticks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let usage = ProcessUsage::of("self").unwrap();
        assert!(usage.rss_kib > 0 && usage.hwm_kib >= usage.rss_kib);
        assert!(ProcessUsage::of("0").is_none());
    }
}
