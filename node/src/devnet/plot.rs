//! `crema devnet --plot F.png`: decided throughput and median submit-to-decide latency over the run, one panel
//! each, with the fault events as dashed vertical lines, and the run's settings and result in the header. Drawn
//! through [`crema_benches::chart`] (font, palette), as `crema bench --plot` is.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crema_benches::chart::{self, BLUE, FAMILY, GRID_BOLD, GRID_LIGHT, MUTED, ORANGE, RED};

use super::run::Summary;
use super::timeline::{Event, Sample};

const WIDTH: u32 = 1400;
const HEADER: u32 = 110;
const PANEL: u32 = 380;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws the summary's time series: PNG bytes.
pub fn draw(s: &Summary) -> anyhow::Result<Vec<u8>> {
    chart::register_font()?;
    chart::render_png((WIDTH, HEADER + 2 * PANEL), |root| draw_on(root, s))
}

fn draw_on(root: &Area<'_>, s: &Summary) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(chart::err)?;
    let (header, body) = root.split_vertically(HEADER);
    let (top, bottom) = body.split_vertically(PANEL);
    draw_header(&header, s)?;
    let span = s.duration_s.max(s.timeline.samples.last().map_or(1.0, |x| x.t_s)).max(1.0);
    let events = &s.timeline.events;
    let mb_s: Vec<(f64, f64)> = s.timeline.samples.iter().map(|x| (x.t_s, x.mb_s)).collect();
    let title = format!("payload decided, MB/s (trailing 5 s); whole run {:.3} MB/s", s.throughput_mb_s);
    draw_panel(&top, &title, "MB/s", span, &[mb_s], BLUE, events)?;
    let title = match (s.latency_p50_s, s.latency_p99_s) {
        (Some(p50), Some(p99)) => {
            format!("submit-to-decide p50, s (trailing 5 s); whole run p50 {p50:.2} s, p99 {p99:.2} s")
        }
        _ => "submit-to-decide p50, s (trailing 5 s); no transaction decided".into(),
    };
    draw_panel(&bottom, &title, "seconds", span, &segments(&s.timeline.samples), ORANGE, events)
}

/// The p50 series split where a sample has none (no transaction decided in its window): one line per run.
fn segments(samples: &[Sample]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for x in samples {
        match (x.p50_s, out.last_mut()) {
            (Some(p), Some(line)) => line.push((x.t_s, p)),
            (None, Some(line)) if !line.is_empty() => out.push(Vec::new()),
            _ => {}
        }
    }
    out.retain(|l| !l.is_empty());
    out
}

fn draw_header(area: &Area<'_>, s: &Summary) -> anyhow::Result<()> {
    let t = &s.settings;
    let preset = t.preset.as_ref().map_or(String::new(), |p| format!(" (preset {p})"));
    let title = format!(
        "crema devnet{preset}: {} nodes, DA committee {}, {}, {} backend",
        s.nodes, s.da_committee, s.scheme, s.backend
    );
    let draw = |text: String, y: i32, size: u32, color: &RGBColor| {
        area.draw(&Text::new(text, (20, y), (FAMILY, size).into_font().color(color))).map_err(chart::err)
    };
    draw(title, 10, 26, &BLACK)?;
    let settings = format!(
        "{:.1} MB blocks  |  {} tx/s of {} B over {} namespaces  |  view timeout {} ms  |  latency {} ms per message  |  {:.0} s",
        t.block_bytes as f64 / 1e6,
        t.tx_rate,
        t.tx_bytes,
        t.namespaces,
        t.view_timeout_ms,
        t.latency_ms,
        s.duration_s
    );
    draw(settings, 44, 16, &MUTED)?;
    let flag = |name: &str, ok: bool| format!("{name} {}", if ok { "true" } else { "FALSE" });
    let result = format!(
        "{}  |  {} blocks, {} transactions decided  |  {}, {}, {}",
        s.machine,
        s.blocks,
        s.decided_txs,
        flag("safety_ok", s.safety_ok.ok),
        flag("namespaces_verified", s.namespaces_verified.ok),
        flag("payloads_recovered", s.payloads_recovered.ok)
    );
    draw(result, 68, 16, if s.passed() { &MUTED } else { &RED })?;
    Ok(())
}

fn draw_panel(
    area: &Area<'_>,
    title: &str,
    y_desc: &str,
    span: f64,
    lines: &[Vec<(f64, f64)>],
    color: RGBColor,
    events: &[Event],
) -> anyhow::Result<()> {
    let area = area.margin(6, 6, 12, 24);
    let top = lines.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.15 } else { 1.0 };
    let mut c = ChartBuilder::on(&area)
        .caption(title, (FAMILY, 20))
        .margin(6)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..span, 0.0..y_max)
        .map_err(chart::err)?;
    c.configure_mesh()
        .x_desc("seconds into the load")
        .y_desc(y_desc)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .draw()
        .map_err(chart::err)?;
    for line in lines {
        c.draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(2))).map_err(chart::err)?;
        c.draw_series(line.iter().map(|p| Circle::new(*p, 2, color.filled()))).map_err(chart::err)?;
    }
    let label = (FAMILY, 13).into_font().color(&RED).pos(Pos::new(HPos::Left, VPos::Top));
    for (k, e) in events.iter().enumerate() {
        let x = e.t_s.clamp(0.0, span);
        let dashes = DashedPathElement::new(vec![(x, 0.0), (x, y_max)], 6, 4, RED.stroke_width(1));
        c.draw_series(std::iter::once(dashes)).map_err(chart::err)?;
        // Labels step down so events close in time stay readable.
        let y = y_max * (0.97 - 0.07 * (k % 4) as f64);
        c.draw_series(std::iter::once(Text::new(format!(" {}", e.what), (x, y), label.clone()))).map_err(chart::err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lines_break_where_no_transaction_was_decided() {
        let s = |t: f64, p: Option<f64>| Sample { t_s: t, mb_s: 1.0, p50_s: p };
        let lines = segments(&[s(1.0, None), s(2.0, Some(0.5)), s(3.0, Some(0.6)), s(4.0, None), s(5.0, Some(0.7))]);
        assert_eq!(lines, vec![vec![(2.0, 0.5), (3.0, 0.6)], vec![(5.0, 0.7)]]);
        assert!(segments(&[s(1.0, None)]).is_empty());
    }
}
