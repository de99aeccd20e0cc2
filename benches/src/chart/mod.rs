//! PNG charts: the one place that sets plotters up — the embedded font, the palette, and plotters' errors as
//! ours. `crema bench --plot` (`engine_bench/plot.rs`) and `crema devnet --plot` (crema-node's `devnet/plot.rs`)
//! draw through it.
//!
//! Charts are drawn with plotters' pure-Rust bitmap backend; text goes through ab_glyph with an embedded DejaVu
//! Sans (fonts/LICENSE.txt), so drawing needs no system fontconfig or freetype.

use plotters::prelude::{FontStyle, RGBColor};

/// DejaVu Sans 2.37, unmodified (Bitstream Vera licence, see fonts/LICENSE.txt).
static FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// The font family every chart names.
pub const FAMILY: &str = "sans-serif";

/// First series (the CPU in `crema bench`, throughput in `crema devnet`).
pub const BLUE: RGBColor = RGBColor(31, 119, 180);
/// Second series (the GPU; latency).
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);
/// Third series (GPU kernel-only time).
pub const GREEN: RGBColor = RGBColor(44, 160, 44);
/// Events and failures.
pub const RED: RGBColor = RGBColor(214, 39, 40);
/// Secondary text.
pub const MUTED: RGBColor = RGBColor(110, 110, 110);
/// Light grid lines.
pub const GRID_LIGHT: RGBColor = RGBColor(235, 235, 235);
/// Bold grid lines.
pub const GRID_BOLD: RGBColor = RGBColor(215, 215, 215);

/// Registers the embedded font as [`FAMILY`] (`sans-serif`, also the family criterion's plots ask for: with this
/// crate's font loader built into plotters, criterion finds no system font without it and panics); call before
/// drawing any text.
pub fn register_font() -> anyhow::Result<()> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow::anyhow!("the embedded font could not be loaded"))
}

/// A plotters drawing error as an `anyhow` error (plotters' error types borrow the backend).
pub fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_font_loads() {
        assert!(super::register_font().is_ok());
    }
}
