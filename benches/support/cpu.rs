//! Where a measurement's CPU time went, from `/proc`: the server's, the database's
//! (every `postgres` process), Redis's, and the load generator's own, per request; and
//! how many of the machine's cores were busy, apart from time stolen by the host. On a
//! machine of 2 cores shared by all of them, a ratio below its target is explained by
//! whose CPU a request costs.

use std::path::Path;
use std::time::Instant;

/// Linux counts process and machine times in these (`USER_HZ`), 100 a second on every
/// architecture it runs on today.
const TICKS_PER_SECOND: f64 = 100.0;

/// The processes whose times are counted, in the order shown.
const PARTS: [&str; 4] = ["server", "PostgreSQL", "Redis", "load generator"];

/// CPU times so far (ticks) of the processes in [`PARTS`] and of the machine.
pub struct Sample {
    at: Instant,
    parts: [u64; 4],
    busy: u64,
    stolen: u64,
}

/// The CPU time a measurement took, per request, and the cores it kept busy.
pub struct Usage {
    per_request_us: [f64; 4],
    cores_busy: f64,
    cores_stolen: f64,
}

impl Sample {
    pub fn take(server: u32) -> Self {
        let mut parts = [0; 4];
        parts[0] = process_ticks(format!("/proc/{server}/stat"));
        parts[3] = process_ticks("/proc/self/stat");
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let stat = entry.path().join("stat");
            match std::fs::read_to_string(&stat).as_deref().map(command_name) {
                Ok(Some("postgres")) => parts[1] += process_ticks(&stat),
                Ok(Some("redis-server")) => parts[2] += process_ticks(&stat),
                _ => {}
            }
        }
        let (busy, stolen) = machine_ticks();
        Self {
            at: Instant::now(),
            parts,
            busy,
            stolen,
        }
    }

    /// What was spent between `start` and this sample, over `requests` answered.
    pub fn since(&self, start: &Self, requests: usize) -> Usage {
        let ticks = |now: u64, then: u64| now.saturating_sub(then) as f64;
        let requests = requests.max(1) as f64;
        let per_request_us = std::array::from_fn(|part| {
            ticks(self.parts[part], start.parts[part]) / TICKS_PER_SECOND * 1e6 / requests
        });
        let elapsed = (self.at - start.at).as_secs_f64() * TICKS_PER_SECOND;
        Usage {
            per_request_us,
            cores_busy: ticks(self.busy, start.busy) / elapsed,
            cores_stolen: ticks(self.stolen, start.stolen) / elapsed,
        }
    }
}

impl Usage {
    /// E.g. `server 310, PostgreSQL 120, load generator 90`: the parts of at least 1 µs.
    pub fn per_request(&self) -> String {
        PARTS
            .iter()
            .zip(self.per_request_us)
            .filter(|(_, us)| *us >= 1.0)
            .map(|(part, us)| format!("{part} {us:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// E.g. `1.9 of 2 (0.1 stolen)`.
    pub fn cores(&self) -> String {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        format!(
            "{:.1} of {cores} ({:.1} stolen)",
            self.cores_busy, self.cores_stolen
        )
    }
}

/// The command name in a `/proc/<pid>/stat` line: `1234 (postgres) S ...`.
fn command_name(stat: &str) -> Option<&str> {
    let start = stat.find('(')? + 1;
    let end = stat.rfind(')')?;
    stat.get(start..end)
}

/// User and system time of the process, from the fields after its command name (which
/// may hold spaces): the 12th and 13th.
fn process_ticks(path: impl AsRef<Path>) -> u64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0;
    };
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return 0;
    };
    fields
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|ticks| ticks.parse::<u64>().ok())
        .sum()
}

/// The machine's busy and stolen time, from `/proc/stat`'s `cpu` line: user, nice,
/// system, idle, iowait, irq, softirq, steal.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .map(|line| {
            line.split_whitespace()
                .filter_map(|ticks| ticks.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let field = |index: usize| fields.get(index).copied().unwrap_or(0);
    (
        field(0) + field(1) + field(2) + field(5) + field(6),
        field(7),
    )
}
