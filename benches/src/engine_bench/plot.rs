//! `--plot F.png`: grouped bars of median time per backend, log scale, one panel per op family
//! (set up through [`crate::chart`]: font, palette).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::report::{CaseResult, Report, Status};
use super::table::duration;
use crate::chart::{self, BLUE as CPU, GREEN as KERNEL, GRID_BOLD, GRID_LIGHT, MUTED, ORANGE as GPU};

const WIDTH: u32 = 1600;
const PANEL_HEIGHT: u32 = 460;
const HEADER: u32 = 150;
const COLUMNS: usize = 2;

/// One bar series: a backend's end-to-end time, or the GPU's kernel-only time.
#[derive(Clone, Copy)]
struct Series {
    label: &'static str,
    backend: &'static str,
    kernel: bool,
    color: RGBColor,
}

const SERIES: [Series; 3] = [
    Series { label: "cpu", backend: "cpu", kernel: false, color: CPU },
    Series { label: "gpu (end to end, with transfers)", backend: "gpu", kernel: false, color: GPU },
    Series { label: "gpu kernel-only (timestamp queries)", backend: "gpu", kernel: true, color: KERNEL },
];

/// The panel title of an op family.
fn family_title(family: &str) -> &str {
    match family {
        "gf16" => "GF(2^16) Reed-Solomon (Leopard)",
        "merkle" => "BLAKE3 Merkle leaves",
        "ntt" => "NTT over Fr (forward)",
        "msm" => "G1 multi-scalar multiplication",
        "sum" => "Point sums (key / signature aggregation)",
        "kzg" => "KZG: EIP-4844 commitment, EIP-7594 cells + proofs",
        "bls" => "BLS certificate verify",
        "vid" => "VID (AvidM, KZG)",
        other => other,
    }
}

/// The bar height of `series` in `case`, or why there is none.
fn value(case: &CaseResult, s: &Series) -> Result<f64, &'static str> {
    let b = case.backends.iter().find(|b| b.backend == s.backend).ok_or("not run")?;
    match b.status {
        // The gpu bar already says n/a or error; the kernel bar beside it stays empty.
        Status::Unavailable | Status::Error if s.kernel => Err(""),
        Status::Unavailable => Err("n/a"),
        Status::Error => Err("ERROR"),
        Status::Ok if s.kernel => match &b.kernel_ns {
            Some(k) if k.median > 0.0 => Ok(k.median),
            Some(_) => Err("no kernel"),
            None => Err("no timestamps"),
        },
        Status::Ok => b.median_ns.ok_or("n/a"),
    }
}

/// Draws the chart of `report`: PNG bytes.
pub fn draw(report: &Report) -> anyhow::Result<Vec<u8>> {
    chart::register_font()?;
    let mut families: Vec<&str> = Vec::new();
    for c in &report.cases {
        if !families.contains(&c.family) {
            families.push(c.family);
        }
    }
    // Series shown: those of the backends that ran; kernel-only when any GPU row has it.
    let series: Vec<Series> = SERIES
        .iter()
        .copied()
        .filter(|s| report.settings.backends.contains(&s.backend))
        .filter(|s| !s.kernel || report.cases.iter().any(|c| value(c, s).is_ok()))
        .collect();
    let columns = families.len().clamp(1, COLUMNS);
    let rows = families.len().div_ceil(columns);
    let height = HEADER + rows as u32 * PANEL_HEIGHT;
    let width = if columns == 1 { WIDTH * 3 / 4 } else { WIDTH };
    chart::render_png((width, height), |root| {
        root.fill(&WHITE).map_err(chart::err)?;
        let (header, body) = root.split_vertically(HEADER);
        draw_header(&header, report, &series).map_err(chart::err)?;
        let panels = body.split_evenly((rows, columns));
        for (family, area) in families.iter().zip(&panels) {
            let cases: Vec<&CaseResult> = report.cases.iter().filter(|c| c.family == *family).collect();
            draw_panel(area, family_title(family), &cases, &series).map_err(chart::err)?;
        }
        Ok(())
    })
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

fn draw_header(area: &Area<'_>, report: &Report, series: &[Series]) -> DrawResult {
    let m = &report.machine;
    let title = "crema bench: median time per call, CPU vs GPU (log scale, lower is better)";
    area.draw(&Text::new(title, (20, 12), (chart::FAMILY, 28).into_font().color(&BLACK)))?;
    let dirty = if report.tool.git_dirty == Some(true) { "+dirty" } else { "" };
    let commit =
        report.tool.git_commit.as_deref().map(|c| format!(" @ {}{dirty}", &c[..c.len().min(10)])).unwrap_or_default();
    let machine =
        format!("CPU: {} ({} threads)  |  GPU: {}", m.cpu_model, m.threads, m.gpu_in_use.as_deref().unwrap_or("none"));
    let run = format!(
        "crema {}{} ({} build)  |  {}  |  {} sizes",
        report.tool.version,
        commit,
        report.tool.build,
        report.started_at,
        if report.settings.quick { "quick" } else { "full" }
    );
    for (line, y) in [(machine, 48), (run, 70)] {
        area.draw(&Text::new(line, (20, y), (chart::FAMILY, 16).into_font().color(&MUTED)))?;
    }
    let mut x = 20;
    for s in series {
        area.draw(&Rectangle::new([(x, 106), (x + 18, 124)], s.color.filled()))?;
        let style = (chart::FAMILY, 17).into_font().color(&BLACK);
        area.draw(&Text::new(s.label, (x + 26, 106), style.clone()))?;
        x += 26 + area.estimate_text_size(s.label, &style)?.0 as i32 + 30;
    }
    let notes = [
        "label = median;  n/a = not offered by that backend here",
        "no kernel = the gpu backend ran no kernel (host-side work)",
    ];
    for (note, y) in notes.iter().zip([100, 120]) {
        area.draw(&Text::new(*note, (x, y), (chart::FAMILY, 15).into_font().color(&MUTED)))?;
    }
    Ok(())
}

/// The power of ten at or below `v`.
fn decade_below(v: f64) -> f64 {
    10f64.powf(v.log10().floor())
}

/// The power of ten at or above `v`.
fn decade_above(v: f64) -> f64 {
    10f64.powf(v.log10().ceil())
}

/// An axis label: `duration` without trailing zeros (`10 ms`, not `10.0 ms`).
fn axis_label(ns: f64) -> String {
    let text = duration(ns);
    let (num, unit) = text.split_once(' ').unwrap_or((&text, ""));
    let num = if num.contains('.') { num.trim_end_matches('0').trim_end_matches('.') } else { num };
    format!("{num} {unit}")
}

/// A category's two label lines: what the op is within its panel, then its size. Short, so
/// seven groups fit side by side in one panel.
fn category(case: &CaseResult) -> (String, String) {
    let size = case.size.replace(" -> ", " → ");
    let op = match case.op {
        "msm_g1" => "fresh bases",
        "msm_g1_resident" => return ("resident KZG setup".into(), size.replace(" (KZG setup)", "")),
        "sum_g1" => "G1",
        "sum_g2" => "G2",
        "merkle_leaves" => "leaves",
        "ntt" => "forward",
        "blob_to_kzg_commitment" => "blob commitment",
        "compute_cells_and_kzg_proofs" => "cells + proofs",
        "certificate_verify" => "verify",
        "avidm_verify_share" => "avidm verify",
        "kzg_vid_disperse" => "kzg disperse",
        "kzg_vid_verify_share" => "kzg verify",
        "kzg_vid_recover" => "kzg recover",
        other => return (other.trim_start_matches("gf16_").replace('_', " "), size),
    };
    (op.replace('_', " "), size)
}

fn draw_panel(area: &Area<'_>, title: &str, cases: &[&CaseResult], series: &[Series]) -> DrawResult {
    let area = area.margin(8, 8, 12, 12);
    let values: Vec<f64> = cases.iter().flat_map(|c| series.iter().filter_map(|s| value(c, s).ok())).collect();
    let (lo, hi) = match (values.iter().copied().reduce(f64::min), values.iter().copied().reduce(f64::max)) {
        // Whole decades, with the bottom well below the fastest value so every bar has a
        // visible height and the top well above the slowest to leave room for its label.
        (Some(lo), Some(hi)) => (decade_below(lo / 2.0), decade_above(hi * 3.0)),
        _ => (1e3, 1e9),
    };
    let n = cases.len();
    let x_range = -0.5f64..n as f64 - 0.5;
    let mut chart = ChartBuilder::on(&area)
        .caption(title, (chart::FAMILY, 22))
        .margin(6)
        .x_label_area_size(52)
        .y_label_area_size(86)
        .build_cartesian_2d(x_range, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_desc("median time per call")
        .y_label_formatter(&|v| axis_label(*v))
        .y_label_style((chart::FAMILY, 15))
        .axis_desc_style((chart::FAMILY, 16))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .draw()?;
    let slot = 0.8 / series.len().max(1) as f64;
    let small = (chart::FAMILY, 13).into_font();
    for (i, case) in cases.iter().enumerate() {
        for (j, s) in series.iter().enumerate() {
            let x0 = i as f64 - 0.4 + j as f64 * slot;
            let (x1, mid) = (x0 + slot * 0.92, x0 + slot * 0.46);
            match value(case, s) {
                Ok(v) => {
                    chart.draw_series(std::iter::once(Rectangle::new([(x0, lo), (x1, v)], s.color.filled())))?;
                    let style = small.color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
                    chart.draw_series(std::iter::once(Text::new(duration(v), (mid, v * 1.12), style)))?;
                }
                Err("") => {}
                Err(why) => {
                    let color = if why == "ERROR" { RED } else { MUTED };
                    let style = small.color(&color).pos(Pos::new(HPos::Center, VPos::Bottom));
                    chart.draw_series(std::iter::once(Text::new(why, (mid, lo * 1.25), style)))?;
                }
            }
        }
        // Two-line category label under the axis, centred on the group.
        let (px, py) = chart.backend_coord(&(i as f64, lo));
        let (line1, line2) = category(case);
        let mismatch = case.agree == Some(false);
        let color = if mismatch { RED } else { BLACK };
        let label = if mismatch { format!("{line1} MISMATCH") } else { line1 };
        let top = Pos::new(HPos::Center, VPos::Top);
        let (ox, oy) = area.get_base_pixel();
        let at = |dy: i32| (px - ox, py - oy + dy);
        area.draw(&Text::new(label, at(8), (chart::FAMILY, 15).into_font().color(&color).pos(top)))?;
        area.draw(&Text::new(line2, at(27), (chart::FAMILY, 13).into_font().color(&MUTED).pos(top)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_and_decades() {
        assert_eq!(axis_label(10_000_000.0), "10 ms");
        assert_eq!(axis_label(1_000.0), "1 µs");
        assert_eq!(axis_label(250.0), "250 ns");
        assert_eq!(axis_label(1.5e9), "1.5 s");
        assert_eq!(decade_below(44e6), 1e7);
        assert_eq!(decade_above(44e6), 1e8);
        assert_eq!(decade_above(1e6), 1e6);
    }
}
