//! The process's counters, served at `/metrics` in Prometheus's text format: commands
//! handled by type and outcome, version conflicts and retries, messages and e-mail sent,
//! read-model updates applied, HTTP request latency, and the units of work each SQLite
//! commit holds and how long its writer is busy. Plain atomics: counting costs a few
//! nanoseconds and needs no registry.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::domain::commands::Command;

/// How a command ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Done,
    /// Refused: bad input, an unknown SKU or batch, a line not allocated.
    Refused,
    /// Storage failed, or conflicts outlasted the retries.
    Failed,
}

const COMMANDS: [&str; 4] = [
    "create_batch",
    "allocate",
    "deallocate",
    "change_batch_quantity",
];
const OUTCOMES: [&str; 3] = ["done", "refused", "failed"];

/// Upper bounds of the request latency buckets, in microseconds.
const LATENCY_BUCKETS: [u64; 12] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000,
];

/// Upper bounds of the buckets of units of work per commit: a group holds at most 64.
const GROUP_BUCKETS: [u64; 7] = [1, 2, 4, 8, 16, 32, 64];

/// Observations, counted in whole units (microseconds, units of work), per bucket of
/// `N` upper bounds and above the last, and their sum.
struct Histogram<const N: usize> {
    bounds: [u64; N],
    /// Whole units per unit shown: a million microseconds to the second.
    per_unit: f64,
    counts: [AtomicU64; N],
    above: AtomicU64,
    sum: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    const fn new(bounds: [u64; N], per_unit: f64) -> Self {
        Self {
            bounds,
            per_unit,
            counts: [ZERO; N],
            above: ZERO,
            sum: ZERO,
        }
    }

    fn observe(&self, value: u64) {
        let bucket = self.bounds.iter().position(|bound| value <= *bound);
        bucket
            .map_or(&self.above, |bucket| &self.counts[bucket])
            .fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// The series of `name`, bounds and sum in the unit shown.
    fn render(&self, out: &mut String, name: &str) {
        let shown = |whole: u64| whole as f64 / self.per_unit;
        let mut cumulative = 0;
        for (bound, counter) in self.bounds.iter().zip(&self.counts) {
            cumulative += counter.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{}\"}} {cumulative}",
                shown(*bound)
            );
        }
        cumulative += self.above.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {}\n{name}_count {cumulative}",
            shown(self.sum.load(Ordering::Relaxed))
        );
    }
}

/// Messages and e-mail sent, read-model updates applied.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    RedisMessage,
    Mail,
    ReadModelUpdate,
}

struct Counters {
    commands: [[AtomicU64; 3]; 4],
    conflicts: AtomicU64,
    deliveries: [AtomicU64; 3],
    /// Request latency, summed in microseconds.
    latency: Histogram<{ LATENCY_BUCKETS.len() }>,
    /// Units of work per SQLite commit.
    group_units: Histogram<{ GROUP_BUCKETS.len() }>,
    /// Time SQLite's writer was held, in nanoseconds.
    writer_busy: AtomicU64,
    /// Checkpoints that took the writer's turn, and the time they held it (nanoseconds).
    checkpoint_turns: AtomicU64,
    checkpoint_turn_time: AtomicU64,
}

// Templates for the arrays below: each use is a new counter.
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);
#[allow(clippy::declare_interior_mutable_const)]
const OUTCOME_ZEROS: [AtomicU64; 3] = [ZERO; 3];

static COUNTERS: Counters = Counters {
    commands: [OUTCOME_ZEROS; 4],
    conflicts: ZERO,
    deliveries: [ZERO; 3],
    latency: Histogram::new(LATENCY_BUCKETS, 1e6),
    group_units: Histogram::new(GROUP_BUCKETS, 1.0),
    writer_busy: ZERO,
    checkpoint_turns: ZERO,
    checkpoint_turn_time: ZERO,
};

fn command_index(command: &Command) -> usize {
    match command {
        Command::CreateBatch(_) => 0,
        Command::Allocate(_) => 1,
        Command::Deallocate(_) => 2,
        Command::ChangeBatchQuantity(_) => 3,
    }
}

pub fn command_handled(command: &Command, outcome: Outcome) {
    COUNTERS.commands[command_index(command)][outcome as usize].fetch_add(1, Ordering::Relaxed);
}

/// Another writer changed the product first: the command is tried again (or, after the
/// last attempt, fails).
pub fn version_conflict() {
    COUNTERS.conflicts.fetch_add(1, Ordering::Relaxed);
}

pub fn delivered(what: Delivery, count: usize) {
    COUNTERS.deliveries[what as usize].fetch_add(count as u64, Ordering::Relaxed);
}

pub fn request_took(elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    COUNTERS.latency.observe(micros);
}

/// SQLite's writer committed `units` units of work at once.
pub fn group_committed(units: usize) {
    COUNTERS.group_units.observe(units as u64);
}

/// SQLite's writer was held for `time`. Its share of the wall clock is how busy the
/// writer is: under load, the rest is time it stood idle between holders.
pub fn writer_held(time: Duration) {
    COUNTERS
        .writer_busy
        .fetch_add(nanos(time), Ordering::Relaxed);
}

/// A checkpoint held SQLite's writer for `time` to finish copying the log: part of
/// the writer's busy time, which every write waits behind.
pub fn checkpoint_turn(time: Duration) {
    COUNTERS.checkpoint_turns.fetch_add(1, Ordering::Relaxed);
    COUNTERS
        .checkpoint_turn_time
        .fetch_add(nanos(time), Ordering::Relaxed);
}

fn nanos(time: Duration) -> u64 {
    u64::try_from(time.as_nanos()).unwrap_or(u64::MAX)
}

/// Everything counted so far, and `backlog` (rows waiting in each outbox table), in
/// Prometheus's text format.
pub fn render(backlog: &[(&str, i64)]) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        "desk_commands_total",
        "counter",
        "Commands handled, by type and outcome.",
    );
    family(
        "desk_version_conflicts_total",
        "counter",
        "Commands that met a concurrent change to their product and were retried or failed.",
    );
    family(
        "desk_deliveries_total",
        "counter",
        "Outbox entries delivered: Redis messages, e-mail, read-model updates.",
    );
    family(
        "desk_outbox_backlog",
        "gauge",
        "Outbox entries not delivered yet.",
    );
    family(
        "desk_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request.",
    );
    family(
        "desk_sqlite_commit_units",
        "histogram",
        "Units of work written by each commit of SQLite's writer.",
    );
    family(
        "desk_sqlite_writer_busy_seconds_total",
        "counter",
        "Time SQLite's writer was held: by units of work, other writers and checkpoints.",
    );
    family(
        "desk_sqlite_checkpoint_turns_total",
        "counter",
        "Checkpoints that held SQLite's writer to finish copying its log.",
    );
    family(
        "desk_sqlite_checkpoint_turn_seconds_total",
        "counter",
        "Time checkpoints held SQLite's writer.",
    );
    for (command, outcomes) in COMMANDS.iter().zip(&COUNTERS.commands) {
        for (outcome, counter) in OUTCOMES.iter().zip(outcomes) {
            let _ = writeln!(
                out,
                "desk_commands_total{{command=\"{command}\",outcome=\"{outcome}\"}} {}",
                load(counter)
            );
        }
    }
    let _ = writeln!(
        out,
        "desk_version_conflicts_total {}",
        load(&COUNTERS.conflicts)
    );
    for (kind, counter) in ["redis_message", "mail", "read_model_update"]
        .iter()
        .zip(&COUNTERS.deliveries)
    {
        let _ = writeln!(
            out,
            "desk_deliveries_total{{kind=\"{kind}\"}} {}",
            load(counter)
        );
    }
    for (table, rows) in backlog {
        let _ = writeln!(out, "desk_outbox_backlog{{table=\"{table}\"}} {rows}");
    }
    COUNTERS
        .latency
        .render(&mut out, "desk_http_request_duration_seconds");
    COUNTERS
        .group_units
        .render(&mut out, "desk_sqlite_commit_units");
    let _ = writeln!(
        out,
        "desk_sqlite_writer_busy_seconds_total {}",
        load(&COUNTERS.writer_busy) as f64 / 1e9
    );
    let _ = writeln!(
        out,
        "desk_sqlite_checkpoint_turns_total {}",
        load(&COUNTERS.checkpoint_turns)
    );
    let _ = writeln!(
        out,
        "desk_sqlite_checkpoint_turn_seconds_total {}",
        load(&COUNTERS.checkpoint_turn_time) as f64 / 1e9
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_into_cumulative_buckets() {
        let before = render(&[]);
        let count = |text: &str, series: &str| -> u64 {
            text.lines()
                .find_map(|line| line.strip_prefix(series))
                .and_then(|value| value.trim().parse().ok())
                .unwrap()
        };
        request_took(Duration::from_micros(700));
        request_took(Duration::from_secs(10));
        let after = render(&[("outbox", 3)]);
        let grew = |series: &str| count(&after, series) - count(&before, series);
        // Counters are process-wide: other tests may count too, so compare at least.
        assert!(grew("desk_http_request_duration_seconds_bucket{le=\"0.001\"}") >= 1);
        assert!(grew("desk_http_request_duration_seconds_bucket{le=\"+Inf\"}") >= 2);
        assert!(after.contains("desk_outbox_backlog{table=\"outbox\"} 3"));
        // Counted in microseconds, shown in seconds.
        let bounds: Vec<&str> = after
            .lines()
            .filter_map(|line| line.strip_prefix("desk_http_request_duration_seconds_bucket{le=\""))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(
            bounds,
            [
                "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                "0.5", "1", "2.5", "+Inf"
            ]
        );
    }

    #[test]
    fn a_histogram_counts_each_value_in_the_first_bucket_that_holds_it() {
        let histogram = Histogram::new(GROUP_BUCKETS, 1.0);
        for units in [1, 3, 4, 64] {
            histogram.observe(units);
        }
        let mut out = String::new();
        histogram.render(&mut out, "units");
        for series in [
            "units_bucket{le=\"1\"} 1",
            "units_bucket{le=\"2\"} 1",
            "units_bucket{le=\"4\"} 3",
            "units_bucket{le=\"32\"} 3",
            "units_bucket{le=\"64\"} 4",
            "units_bucket{le=\"+Inf\"} 4",
            "units_sum 72",
            "units_count 4",
        ] {
            assert!(out.lines().any(|line| line == series), "{series} in\n{out}");
        }
    }
}
