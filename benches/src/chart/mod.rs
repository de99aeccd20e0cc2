//! PNG charts: the one place that sets plotters up — the embedded font, the palette, and plotters' errors as
//! ours. `crema bench --plot` (`engine_bench/plot.rs`) and `crema devnet --plot` (crema-node's `devnet/plot.rs`)
//! draw through it.
//!
//! Charts are drawn with plotters' pure-Rust bitmap backend into memory and written by the `png` crate (plotters'
//! own file output would bring in the whole `image` crate, a twentieth of a cold build, for one format); text goes
//! through ab_glyph with an embedded DejaVu Sans (fonts/LICENSE.txt), so drawing needs no system fontconfig or
//! freetype.

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, FontStyle, IntoDrawingArea, RGBColor};

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

/// Draws a chart of `size` (width, height) pixels with `draw` and encodes it as an 8-bit RGB PNG. The caller
/// writes the bytes where they go (the `crema` commands: atomically, as every file they write).
pub fn render_png(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<u8>> {
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the chart")?;
    writer.write_image_data(&rgb).context("encoding the chart")?;
    writer.finish().context("encoding the chart")?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    #[test]
    fn embedded_font_loads() {
        assert!(super::register_font().is_ok());
    }

    #[test]
    fn a_drawn_chart_is_a_png_of_its_size_with_what_was_drawn() {
        let png = super::render_png((30, 20), |root| {
            root.fill(&WHITE).map_err(super::err)?;
            root.draw_pixel((3, 4), &super::RED).map_err(super::err)
        })
        .unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (30, 20, png::ColorType::Rgb));
        let px = |x: usize, y: usize| &buf[(y * 30 + x) * 3..][..3];
        assert_eq!(px(3, 4), [214, 39, 40]);
        assert_eq!(px(0, 0), [255, 255, 255]);
    }

    #[test]
    fn a_drawing_error_is_returned_not_encoded() {
        let e = super::render_png((2, 2), |_| anyhow::bail!("no data")).unwrap_err();
        assert_eq!(e.to_string(), "no data");
    }
}
