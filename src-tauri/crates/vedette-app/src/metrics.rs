//! Prometheus metrics of the whole history (every machine's work, read
//! from the database): the queue, scans per minute, how long jobs wait and
//! run, scans by how they ended.

use vedette_store::StoreError;

use crate::App;

/// The window the rates and latencies cover.
const WINDOW_MINUTES: i64 = 5;

/// Appends one line.
fn put(out: &mut String, line: std::fmt::Arguments<'_>) {
    out.push_str(&line.to_string());
    out.push('\n');
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(out: &mut String, name: &str, help: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    let sum: f64 = values.iter().sum();
    put(out, format_args!("# HELP {name} {help}"));
    put(out, format_args!("# TYPE {name} summary"));
    for q in [0.5, 0.95, 0.99] {
        put(
            out,
            format_args!("{name}{{quantile=\"{q}\"}} {}", quantile(values, q)),
        );
    }
    put(out, format_args!("{name}_sum {sum}"));
    put(out, format_args!("{name}_count {}", values.len()));
}

impl App {
    /// The metrics in Prometheus' text format.
    pub async fn metrics(&self) -> Result<String, StoreError> {
        let a = self
            .store()
            .activity(chrono::Duration::minutes(WINDOW_MINUTES))
            .await?;
        let mut out = String::new();
        put(
            &mut out,
            format_args!("# HELP vedette_jobs Scan jobs in the shared queue, by state."),
        );
        put(&mut out, format_args!("# TYPE vedette_jobs gauge"));
        for (state, n) in [
            ("queued", a.queue.queued),
            ("running", a.queue.running),
            ("done", a.queue.done),
            ("failed", a.queue.failed),
        ] {
            put(
                &mut out,
                format_args!("vedette_jobs{{state=\"{state}\"}} {n}"),
            );
        }
        put(&mut out, format_args!("# HELP vedette_scans_total Scans in the history, by how they ended (failed, interrupted and cancelled are the failures)."));
        put(&mut out, format_args!("# TYPE vedette_scans_total counter"));
        for (state, n) in &a.scans_by_state {
            put(
                &mut out,
                format_args!("vedette_scans_total{{state=\"{state}\"}} {n}"),
            );
        }
        put(&mut out, format_args!("# HELP vedette_scans_per_minute Scans that ended per minute, over the last {WINDOW_MINUTES} minutes."));
        put(
            &mut out,
            format_args!("# TYPE vedette_scans_per_minute gauge"),
        );
        put(
            &mut out,
            format_args!(
                "vedette_scans_per_minute {}",
                a.scans_ended_recently as f64 / WINDOW_MINUTES as f64
            ),
        );
        let (mut waits, mut runs) = (a.claim_waits, a.job_durations);
        summary(
            &mut out,
            "vedette_job_claim_seconds",
            "From queued to claimed by a worker, jobs of the last 5 minutes.",
            &mut waits,
        );
        summary(
            &mut out,
            "vedette_job_seconds",
            "From claimed to ended, jobs of the last 5 minutes.",
            &mut runs,
        );
        Ok(out)
    }
}
