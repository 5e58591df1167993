//! Draws a trace directory as SVG and PNG with the library API: load the timeline, build the
//! report (for the bands and markers), draw.
//!
//! ```text
//! cargo run --example render_trace                                   # the bundled fixture trace
//! cargo run --example render_trace -- memtide-20260514-092503 out    # your own, into out/
//! ```

use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::chart::{self, ChartOptions};
use memtide_render::report::Clock;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported")
    });
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&out)?;

    let timeline = Timeline::load(&dir)?;
    let report = report::build(&timeline, &Options::default());
    let clock = Clock::new(jiff::tz::TimeZone::system());
    let opts = ChartOptions::default();

    let (svg, drawn) = chart::svg(&timeline, &report, &opts, &clock)?;
    let svg_path = out.join("memtide-example.svg");
    std::fs::write(&svg_path, svg)?;
    let png_path = out.join("memtide-example.png");
    chart::png(&png_path, &timeline, &report, &opts, &clock)?;

    println!("{}", drawn.title);
    println!(
        "{} process lines, {} system lines, {} shaded intervals, {} markers",
        drawn.process_series.len(),
        drawn.system_series.len(),
        drawn.bands.len(),
        drawn.markers.len()
    );
    println!("wrote {} and {}", svg_path.display(), png_path.display());
    Ok(())
}
