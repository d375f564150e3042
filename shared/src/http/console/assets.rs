//! The console's static files, compiled into the binary.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Every asset: name, media type, bytes.
const ASSETS: [(&str, &str, &str); 4] = [
    (
        "copy.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/console/copy.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../../assets/console/console.css"),
    ),
    (
        "imports.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/console/imports.js"),
    ),
    (
        "md5.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/console/md5.js"),
    ),
];

/// `GET /console/assets/{file}`: cached for an hour (the binary, not the URL, versions them).
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => super::Refusal::not_found().into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_asset_the_templates_name_is_served() {
        let templates = [
            include_str!("../../../templates/console/base.html"),
            include_str!("../../../templates/console/imports.html"),
            include_str!("../../../templates/console/integrations.html"),
            include_str!("../../../templates/console/secret.html"),
        ];
        for t in templates {
            for part in t.split("/console/assets/").skip(1) {
                let name = part.split('"').next().unwrap();
                assert!(
                    super::ASSETS.iter().any(|(n, _, _)| *n == name),
                    "{name} is named by a template but not served"
                );
            }
        }
    }
}
