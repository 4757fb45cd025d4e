//! `BACKSTOCK_TIMING=1` prints, on stderr, how long each phase of a command took and
//! the process's peak and current memory (for benchmarks; nothing when unset).

use std::time::Instant;

/// The phases of one command, each printed as it ends.
pub struct Phases {
    started: Instant,
    on: bool,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            started: Instant::now(),
            on: std::env::var_os("BACKSTOCK_TIMING").is_some(),
        }
    }

    /// Print that `what` ended now (elapsed since the start, peak and current RSS).
    pub fn done(&self, what: &str) {
        if !self.on {
            return;
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        eprintln!(
            "[{:>8.3?}] {what} (peak {}, now {})",
            self.started.elapsed(),
            field("VmHWM:"),
            field("VmRSS:")
        );
    }
}
