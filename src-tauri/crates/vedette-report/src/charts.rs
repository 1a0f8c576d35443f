//! Trend charts with plotters: open findings by severity per day (lines),
//! new and fixed findings per week (bars), mean time to fix in the caption.
//! SVG for the UI and export; PNG for export (needs a TrueType font on the
//! machine: DejaVu Sans, Debian's fonts-dejavu-core).

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;
use vedette_model::{SeverityCounts, Trends};

const W: u32 = 1000;
const H: u32 = 640;

/// Severity colours: darkest red for critical down to grey for unknown.
const SEVERITIES: [(&str, RGBColor); 5] = [
    ("critical", RGBColor(153, 27, 27)),
    ("high", RGBColor(234, 88, 12)),
    ("medium", RGBColor(202, 138, 4)),
    ("low", RGBColor(37, 99, 235)),
    ("unknown", RGBColor(107, 114, 128)),
];
const NEW: RGBColor = RGBColor(220, 38, 38);
const FIXED: RGBColor = RGBColor(22, 163, 74);

fn count(c: &SeverityCounts, sev: &str) -> i64 {
    match sev {
        "critical" => c.critical,
        "high" => c.high,
        "medium" => c.medium,
        "low" => c.low,
        _ => c.unknown,
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, t: &Trends) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (top, bottom) = root.split_vertically(H * 62 / 100);
    let first = t.daily.first().map(|d| day(&d.day)).unwrap_or_default();
    let last = t.daily.last().map(|d| day(&d.day)).unwrap_or(first);
    let last = if last <= first {
        first.succ_opt().unwrap_or(first)
    } else {
        last
    };
    let ymax = t
        .daily
        .iter()
        .flat_map(|d| SEVERITIES.iter().map(move |(s, _)| count(&d.open, s)))
        .max()
        .unwrap_or(0)
        .max(4);
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!("Open findings by severity, {}", t.scope),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(first..last, 0i64..(ymax + ymax / 8 + 1))
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("day (UTC)")
        .y_desc("open findings")
        .x_labels(8)
        .x_label_formatter(&|d: &NaiveDate| d.format("%b %d").to_string())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for (sev, colour) in SEVERITIES {
        let points: Vec<(NaiveDate, i64)> = t
            .daily
            .iter()
            .map(|d| (day(&d.day), count(&d.open, sev)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(e)?
            .label(sev)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;

    // Weekly new and fixed, side by side.
    let weeks: Vec<NaiveDate> = t.weekly.iter().map(|w| day(&w.week_start)).collect();
    let n = weeks.len().max(1) as i64;
    let wmax = t
        .weekly
        .iter()
        .map(|w| w.new.max(w.fixed))
        .max()
        .unwrap_or(0)
        .max(4);
    let caption = match t.mean_days_to_fix {
        Some(d) => format!(
            "New and fixed per week; mean time to fix {d:.1} days ({} fixed)",
            t.fixed_count
        ),
        None => "New and fixed per week; nothing fixed yet".to_owned(),
    };
    let mut bars = ChartBuilder::on(&bottom)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0i64..(n * 3), 0i64..(wmax + wmax / 8 + 1))
        .map_err(e)?;
    let labels = weeks.clone();
    bars.configure_mesh()
        .disable_x_mesh()
        .x_desc("week starting")
        .y_desc("findings")
        .x_labels(weeks.len().clamp(1, 12) * 3)
        .x_label_formatter(&|x: &i64| {
            if x % 3 == 1 {
                labels
                    .get((x / 3) as usize)
                    .map(|d| d.format("%b %d").to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    bars.draw_series(t.weekly.iter().enumerate().map(|(i, w)| {
        let x = i as i64 * 3;
        Rectangle::new([(x, 0), (x + 1, w.new)], NEW.filled())
    }))
    .map_err(e)?
    .label("new")
    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], NEW.filled()));
    bars.draw_series(t.weekly.iter().enumerate().map(|(i, w)| {
        let x = i as i64 * 3 + 1;
        Rectangle::new([(x, 0), (x + 1, w.fixed)], FIXED.filled())
    }))
    .map_err(e)?
    .label("fixed")
    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], FIXED.filled()));
    bars.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The trend chart as SVG.
pub fn trends_svg(t: &Trends) -> Result<String, String> {
    // Labels are laid out with the font's metrics, even in SVG.
    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
        draw(root, t)?;
    }
    Ok(out)
}

/// The trend chart as a PNG file.
pub fn trends_png(t: &Trends, path: &std::path::Path) -> Result<(), String> {
    register_font()?;
    let root = BitMapBackend::new(path, (W, H)).into_drawing_area();
    draw(root, t)
}

/// DejaVu Sans, compiled in (`fonts/README.md`): labels are laid out and
/// drawn with it whatever fonts the machine has.
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

fn register_font() -> Result<(), String> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the chart's font could not be read".to_owned())
    })
    .clone()
}
