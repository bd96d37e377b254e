//! The QR code of a session's public link, as downloads: `/j/<token>/qr.svg` and `.png`.
//! Made to be projected: black on white, error correction M, a 4-module quiet zone.
use app::rules::language::Lang;
use app::services::{language_of, ServerContext};
use app::storage::{WayIn, WayInKind};
use app::texts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

const QUIET_ZONE: usize = 4;
const PNG_MODULE_PX: usize = 16;

#[derive(Clone, Copy, Debug)]
pub enum Format {
    Svg,
    Png,
}

fn code(url: &str) -> Result<QrCode, qrcode::types::QrError> {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
}

/// Drawn in module units (`viewBox`), each row's dark modules as runs of one path: a third of
/// the bytes of one square per module, for the phones and projectors that load it on every
/// view of the "Link and QR code" slide. At least 512 pixels wide when saved.
pub fn svg(url: &str) -> Result<String, qrcode::types::QrError> {
    let code = code(url)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = modules + 2 * QUIET_ZONE;
    let pixels = side * 512usize.div_ceil(side);
    let mut path = String::with_capacity(modules * modules * 3);
    for (y, row) in colors.chunks(modules).enumerate() {
        let mut x = 0;
        while x < modules {
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            if run > 0 {
                let _ = write!(path, "M{} {}h{run}v1h-{run}z", x + QUIET_ZONE, y + QUIET_ZONE);
            }
            x += run.max(1);
        }
    }
    Ok(format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         width=\"{pixels}\" height=\"{pixels}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"{path}\"/></svg>"
    ))
}

pub fn png(url: &str) -> Result<Vec<u8>, String> {
    let code = code(url).map_err(|e| e.to_string())?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * PNG_MODULE_PX;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
            for y in my * PNG_MODULE_PX..(my + 1) * PNG_MODULE_PX {
                pixels[y * side + mx * PNG_MODULE_PX..y * side + (mx + 1) * PNG_MODULE_PX].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Answers for the link token's current session only: once a new code is generated, the old
/// QR code is gone with the old link.
pub async fn download(ctx: ServerContext, token: String, format: Format, headers: HeaderMap) -> Response {
    // Negotiated only for a refusal: every phone showing the slide loads the picture.
    let lang = || language_of(&headers, ctx.default_language);
    let session = match ctx.db.find_way_in(WayInKind::Link, &token).await {
        Ok(WayIn::Current(session)) => session,
        Ok(_) => return (StatusCode::NOT_FOUND, texts::plain_qr_gone(lang())).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "QR code lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, texts::failure_internal(lang())).into_response();
        }
    };
    let url = ctx.join_link(&session.link_token);
    // Same URL, same picture, until the link changes: revalidate rather than cache blindly.
    let cache = (header::CACHE_CONTROL, "no-cache");
    match format {
        Format::Svg => match svg(&url) {
            Ok(body) => ([(header::CONTENT_TYPE, "image/svg+xml"), cache], body).into_response(),
            Err(e) => failed(e.to_string(), lang()),
        },
        Format::Png => match png(&url) {
            Ok(body) => ([(header::CONTENT_TYPE, "image/png"), cache], body).into_response(),
            Err(e) => failed(e, lang()),
        },
    }
}

fn failed(error: String, lang: Lang) -> Response {
    tracing::error!(%error, "QR code rendering failed");
    (StatusCode::INTERNAL_SERVER_ERROR, texts::failure_internal(lang)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_is_a_square_greyscale_image_with_a_white_border() {
        let bytes = super::png("http://127.0.0.1:3000/j/0123456789abcdef0123456789abcdef01234567").unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % super::PNG_MODULE_PX, 0);
        assert!(buf[..info.width as usize * super::PNG_MODULE_PX * super::QUIET_ZONE].iter().all(|p| *p == 255));
        assert!(buf.contains(&0));
    }

    /// Version 4 (33 by 33 modules) with base64url tokens, where the 160-bit hex tokens of old
    /// mostly needed version 5 (37 by 37): coarser modules, read from further back in a room.
    #[test]
    fn a_link_fits_a_version_4_qr_code() {
        use qrcode::Version;
        let number = |url: &str| match super::code(url).unwrap().version() {
            Version::Normal(n) => n,
            Version::Micro(_) => unreachable!("links are never micro QR codes"),
        };
        for public_url in ["http://127.0.0.1:3000", "https://ruche.example.org"] {
            for _ in 0..100 {
                let url = format!("{public_url}/j/{}", app::rules::secrets::new_link_token());
                assert!(number(&url) <= 4, "{url}: version {}", number(&url));
            }
        }
    }

    #[test]
    fn svg_is_black_on_white() {
        let svg = super::svg("http://127.0.0.1:3000/j/abc").unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("#000000") && svg.contains("#ffffff"));
    }

    /// The runs of the path, read back, are exactly the code's dark modules, inside the quiet
    /// zone.
    #[test]
    fn svg_draws_every_dark_module_and_nothing_else() {
        let url = "https://ruche.example.org/j/0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
        let code = super::code(url).unwrap();
        let (modules, side) = (code.width(), code.width() + 2 * super::QUIET_ZONE);
        let svg = super::svg(url).unwrap();
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        let width: usize = svg.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        assert!(width >= 512 && width.is_multiple_of(side), "{width}");
        let mut drawn = vec![false; side * side];
        let path = svg.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        for run in path.split('M').filter(|r| !r.is_empty()) {
            let (at, rest) = run.split_once('h').unwrap();
            let (x, y) = at.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let length: usize = rest.split('v').next().unwrap().parse().unwrap();
            assert!(rest.ends_with(&format!("v1h-{length}z")), "{run}");
            for cell in &mut drawn[y * side + x..y * side + x + length] {
                assert!(!*cell, "drawn twice");
                *cell = true;
            }
        }
        for (i, color) in code.to_colors().iter().enumerate() {
            let (x, y) = (i % modules + super::QUIET_ZONE, i / modules + super::QUIET_ZONE);
            assert_eq!(drawn[y * side + x], *color == qrcode::Color::Dark, "module {x},{y}");
        }
        assert_eq!(
            drawn.iter().filter(|d| **d).count(),
            code.to_colors().iter().filter(|c| **c == qrcode::Color::Dark).count()
        );
    }
}
