//! The stdout text: the machine line, one table row per case and backend (columns sized to
//! their contents), what the numbers mean, and the tally.

use super::report::{BackendResult, CaseResult, Report, Status};

/// What `crema bench` prints on stdout for `r`.
pub fn report_text(r: &Report) -> String {
    let m = &r.machine;
    let mut out = format!(
        "crema bench {} ({} build) on {}, {} threads{}; {}\n",
        r.tool.version,
        r.tool.build,
        m.cpu_model,
        m.threads,
        m.gpu_in_use.as_ref().map(|g| format!(", GPU {g}")).unwrap_or_default(),
        if r.settings.quick { "quick sizes" } else { "full sizes" }
    );
    let rows: Vec<Row> = r.cases.iter().flat_map(case_rows).collect();
    out += &render(&rows);
    for note in &r.method {
        out += &format!("  {note}\n");
    }
    // What each op's median covers: the engine call, and anything beyond it (VID: the shares'
    // wire encoding, which `cargo bench --bench vid` leaves out).
    let mut listed: Vec<&str> = Vec::new();
    for c in &r.cases {
        if !listed.contains(&c.op) {
            listed.push(c.op);
            out += &format!("  {}: {}\n", c.op, c.timed);
        }
    }
    for c in r.cases.iter().filter(|c| c.agree == Some(false)) {
        out += &format!("MISMATCH: {} {}: {}\n", c.op, c.size, c.check);
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    out += &format!(
        "{} in {:.1} s; {}, {}\n",
        plural(r.cases.len(), "case"),
        r.elapsed_s,
        plural(r.mismatches, "mismatch").replace("mismatchs", "mismatches"),
        plural(r.errors, "error")
    );
    out
}

/// The column headers.
const HEADERS: [&str; 10] =
    ["op", "size", "backend", "runs", "median", "spread", "kernel-only", "throughput", "gpu/cpu", "output"];

/// Columns whose cells are right-aligned (numbers).
const RIGHT: [bool; 10] = [false, false, false, true, true, true, true, true, true, false];

/// `ns` with three significant digits in the largest unit that keeps it at or above 1.
pub fn duration(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(v))
}

/// Three significant digits (no exponent for the values a table shows).
fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A rate in SI units: `3.21 GB/s` for bytes, `12.5 M points/s` for items.
pub fn rate(per_s: f64, unit: &str) -> String {
    let (v, prefix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(scale, _)| per_s >= *scale)
        .map_or((per_s, ""), |(scale, p)| (per_s / scale, p));
    let unit = match (unit, prefix) {
        ("bytes", _) => format!("{prefix}B/s"),
        (_, "") => format!("{unit}/s"),
        _ => format!("{prefix} {unit}/s"),
    };
    format!("{} {unit}", sig3(v))
}

/// A time ratio, e.g. `12.3x` or `0.42x`.
pub fn ratio(r: f64) -> String {
    format!("{}x", sig3(r))
}

/// The reason in a table cell: its first clause, so a row stays on one line (JSON keeps all).
pub fn short_reason(reason: &str) -> String {
    let first = match reason.find(" (") {
        Some(i) if i >= 10 => &reason[..i],
        _ => reason,
    };
    if first.chars().count() > 70 { format!("{}…", first.chars().take(69).collect::<String>()) } else { first.into() }
}

/// One table row: every column, or the first three and a note spanning the rest.
#[derive(Debug, Clone, PartialEq)]
enum Row {
    /// A measured row.
    Cells(Vec<String>),
    /// op, size, backend, then a note (`n/a (…)`, `ERROR: …`).
    Note([String; 3], String),
}

/// The rows for one case.
fn case_rows(case: &CaseResult) -> Vec<Row> {
    let mismatch = case.agree == Some(false);
    case.backends.iter().map(|b| backend_row(case, b, mismatch)).collect()
}

fn backend_row(case: &CaseResult, b: &BackendResult, mismatch: bool) -> Row {
    let head = [case.op.to_string(), case.size.clone(), b.backend.to_string()];
    match b.status {
        Status::Unavailable => {
            return Row::Note(head, format!("n/a ({})", short_reason(b.reason.as_deref().unwrap_or("unavailable"))));
        }
        Status::Error => return Row::Note(head, format!("ERROR: {}", b.reason.as_deref().unwrap_or("unknown"))),
        Status::Ok => {}
    }
    let wall = b.wall_ns.expect("a measured row has statistics");
    let kernel = match (&b.kernel_ns, b.backend) {
        (Some(k), _) if k.max == 0.0 => "none ran".to_string(),
        (Some(k), _) => duration(k.median),
        (None, "gpu") => "no timestamps".to_string(),
        (None, _) => "-".to_string(),
    };
    let hash = b.output_blake3.as_deref().map(|h| h[..8.min(h.len())].to_string()).unwrap_or_default();
    let [op, size, backend] = head;
    Row::Cells(vec![
        op,
        size,
        backend,
        wall.runs.to_string(),
        duration(wall.median),
        format!("±{:.1}%", wall.mad_percent()),
        kernel,
        b.throughput_per_s.map(|r| rate(r, case.work_unit)).unwrap_or_else(|| "-".into()),
        b.ratio_to_cpu.map(ratio).unwrap_or_else(|| if b.backend == "cpu" { String::new() } else { "-".into() }),
        if mismatch { format!("{hash} MISMATCH") } else { hash },
    ])
}

/// Renders rows under the headers, columns padded to their widest cell.
fn render(rows: &[Row]) -> String {
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        let cells: Vec<&String> = match row {
            Row::Cells(c) => c.iter().collect(),
            Row::Note(head, _) => head.iter().collect(), // a note spans the rest and sets no width
        };
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    let pad = |i: usize, s: &str| {
        let fill = " ".repeat(widths[i].saturating_sub(s.chars().count()));
        if RIGHT[i] { format!("{fill}{s}") } else { format!("{s}{fill}") }
    };
    let line = |cells: Vec<String>| cells.join("  ").trim_end().to_string();
    let mut out = vec![line(HEADERS.iter().enumerate().map(|(i, h)| pad(i, h)).collect())];
    out.push("-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    for row in rows {
        out.push(match row {
            Row::Cells(c) => line(c.iter().enumerate().map(|(i, s)| pad(i, s)).collect()),
            Row::Note(head, note) => {
                let mut cells: Vec<String> = head.iter().enumerate().map(|(i, s)| pad(i, s)).collect();
                cells.push(note.clone());
                line(cells)
            }
        });
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::super::stats::Summary;
    use super::*;

    #[test]
    fn durations_pick_units_and_three_digits() {
        assert_eq!(duration(950.0), "950 ns");
        assert_eq!(duration(1_234.0), "1.23 µs");
        assert_eq!(duration(45_600.0), "45.6 µs");
        assert_eq!(duration(7_500_000.0), "7.50 ms");
        assert_eq!(duration(123_400_000.0), "123 ms");
        assert_eq!(duration(2.5e9), "2.50 s");
    }

    #[test]
    fn rates_and_ratios() {
        assert_eq!(rate(3.21e9, "bytes"), "3.21 GB/s");
        assert_eq!(rate(512.0, "bytes"), "512 B/s");
        assert_eq!(rate(1.25e7, "points"), "12.5 M points/s");
        assert_eq!(rate(900.0, "signers"), "900 signers/s");
        assert_eq!(ratio(12.34), "12.3x");
        assert_eq!(ratio(0.4212), "0.42x");
    }

    #[test]
    fn reasons_are_shortened_to_the_first_clause() {
        assert_eq!(
            short_reason(r#"ntt is not ported to the GPU yet (ported: ["merkle_leaves"])"#),
            "ntt is not ported to the GPU yet"
        );
        assert_eq!(short_reason("x (y)"), "x (y)"); // too short a clause to cut
        assert_eq!(short_reason(&"a".repeat(100)).chars().count(), 70);
    }

    fn case(backends: Vec<BackendResult>, agree: Option<bool>) -> CaseResult {
        CaseResult {
            family: "ntt",
            op: "ntt",
            size: "2^12".into(),
            work_amount: 4096,
            work_unit: "elements",
            timed: "",
            setup_ms: 0.0,
            backends,
            agree,
            check: String::new(),
        }
    }

    fn measured(backend: &'static str, median: f64, kernel: Option<Summary>, ratio: Option<f64>) -> BackendResult {
        BackendResult {
            backend,
            status: Status::Ok,
            reason: None,
            output_blake3: Some("0123456789abcdef".into()),
            warmup_ns: Some(1),
            median_ns: Some(median),
            wall_ns: Summary::of(&[median * 0.9, median, median * 1.1]),
            kernel_ns: kernel,
            throughput_per_s: Some(4096.0 / (median / 1e9)),
            ratio_to_cpu: ratio,
            samples: Vec::new(),
        }
    }

    #[test]
    fn table_aligns_columns_and_spans_notes() {
        let cpu = measured("cpu", 1_000_000.0, None, None);
        let gpu = measured("gpu", 4_000_000.0, Summary::of(&[2e6, 2e6, 2e6]), Some(4.0));
        let na =
            BackendResult::without("gpu", Status::Unavailable, "ntt is not ported to the GPU yet (ported: [])".into());
        let mut rows = case_rows(&case(vec![cpu, gpu], Some(true)));
        rows.extend(case_rows(&case(vec![na], None)));
        let text = render(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + 3, "header, rule, three rows");
        assert!(lines[0].starts_with("op  ") && lines[0].contains("kernel-only") && lines[0].ends_with("output"));
        // Every measured column starts where its header does.
        let col = |line: &str, needle: &str| line.find(needle).unwrap();
        assert_eq!(col(lines[2], "cpu"), col(lines[0], "backend"));
        assert_eq!(col(lines[3], "gpu"), col(lines[0], "backend"));
        assert!(lines[2].contains("1.00 ms") && lines[2].contains("4.10 M elements/s"));
        assert!(lines[3].contains("4.00 ms") && lines[3].contains("2.00 ms") && lines[3].contains("4.00x"));
        // Right-aligned numbers end together.
        assert_eq!(lines[2].find("1.00 ms").unwrap() + 7, lines[3].find("4.00 ms").unwrap() + 7);
        assert!(lines[4].ends_with("n/a (ntt is not ported to the GPU yet)"), "{}", lines[4]);
        assert!(!text.contains("MISMATCH"));
    }

    #[test]
    fn mismatch_is_loud_in_the_row() {
        let rows = case_rows(&case(
            vec![measured("cpu", 1e6, None, None), measured("gpu", 1e6, Summary::of(&[0.0]), Some(1.0))],
            Some(false),
        ));
        let text = render(&rows);
        assert_eq!(text.matches("MISMATCH").count(), 2);
        assert!(text.contains("none ran"), "a zero kernel time means no kernel ran: {text}");
    }
}
