//! `muster import FILE`: the whole file-import flow in one command — checksum, presign,
//! upload with the signed headers, start, follow, then the report and the row errors. With
//! `--dry-run` the same flow previews the import: what it would create, update and delete,
//! and whether it would apply, with nothing written.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::bearer::Authorized;
use crate::output::print;

/// Options of `muster import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The member file (.csv or .xlsx).
    file: PathBuf,
    /// upsert, mirror or delete.
    #[arg(long)]
    mode: String,
    /// Base URL of the muster API (such as https://abc.execute-api.eu-west-1.amazonaws.com).
    #[arg(long, env = "MUSTER_URL")]
    url: String,
    /// OAuth client id (scope imports).
    #[arg(long, env = "MUSTER_CLIENT_ID")]
    client_id: String,
    /// OAuth client secret.
    #[arg(long, env = "MUSTER_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// The acting administrator's user id.
    #[arg(long, env = "MUSTER_USER_ID")]
    user_id: String,
    /// Let a MIRROR delete more than the threshold of members in scope.
    #[arg(long)]
    allow_mass_delete: bool,
    /// The share of members in scope a MIRROR may delete (0 to 1; default 0.2).
    #[arg(long)]
    max_delete_ratio: Option<f64>,
    /// Makes a repeated command return the same job instead of starting another.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Only preview: check the file and print what the import would create, update and
    /// delete, and whether it would apply (exit 0) or be refused (exit 1); nothing is written.
    #[arg(long)]
    dry_run: bool,
    /// Give up waiting after this many seconds (the job goes on).
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn content_type(file: &std::path::Path) -> anyhow::Result<&'static str> {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => Ok(muster::import::CSV),
        Some("xlsx") => Ok(muster::import::XLSX),
        _ => anyhow::bail!("{} is neither .csv nor .xlsx", file.display()),
    }
}

/// The progress of job `id` on stderr; hidden when stderr is not a terminal (indicatif
/// draws nothing then) or when the output is JSON.
fn progress_bar(id: u64, json: bool) -> ProgressBar {
    let target = if json {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("import {prefix} {msg:<9} [{bar:30}] {pos}/{len} rows")
            .expect("a valid progress template")
            .progress_chars("#> "),
    );
    bar.set_prefix(id.to_string());
    bar
}

async fn all_pages(api: &mut Authorized, url: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for page in 1.. {
        let got = api
            .send(
                "GET",
                &format!("{url}&page={page}&per_page=100"),
                &[],
                vec![],
            )
            .await?
            .ok("reading results")?;
        let data = got["data"].as_array().cloned().unwrap_or_default();
        out.extend(data.iter().cloned());
        if data.is_empty()
            || out.len() as u64 >= got["meta"]["pagination"]["total"].as_u64().unwrap_or(0)
            || out.len() >= 10_000
        {
            return Ok(out);
        }
    }
    Ok(out)
}

pub async fn run(a: ImportArgs) -> anyhow::Result<std::process::ExitCode> {
    let mode: muster::import::Mode = a.mode.parse().map_err(anyhow::Error::msg)?;
    let bytes = std::fs::read(&a.file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", a.file.display()))?;
    let ct = content_type(&a.file)?;
    let base = a.url.trim_end_matches('/');
    let mut api = Authorized::obtain(base, &a.client_id, &a.client_secret).await?;
    let json_headers = [("content-type", "application/json".to_owned())];
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("members")
        .to_owned();
    let blob = json!({"blob": {"filename": name, "content_type": ct, "byte_size": bytes.len(), "checksum": muster::blob::md5_base64(&bytes)}});
    let user = &a.user_id;
    let presigned = api
        .send(
            "POST",
            &format!("{base}/v1/blobs?user_id={user}"),
            &json_headers,
            blob.to_string().into_bytes(),
        )
        .await?
        .ok("preparing the upload")?;
    let upload = &presigned["direct_upload"];
    let signed: Vec<(&str, String)> = upload["headers_for_direct_upload"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    api.http()
        .send(
            "PUT",
            upload["url_for_direct_upload"].as_str().unwrap_or_default(),
            &signed,
            bytes,
        )
        .await?
        .ok("uploading the file")?;
    let mut start = format!(
        "{base}/v1/member_provisionings?signed_id={}&user_id={user}&operation={}",
        presigned["signed_id"].as_str().unwrap_or_default(),
        format!("{mode:?}").to_uppercase()
    );
    if a.allow_mass_delete {
        start.push_str("&allow_mass_delete=true");
    }
    if let Some(r) = a.max_delete_ratio {
        start.push_str(&format!("&max_delete_ratio={r}"));
    }
    if a.dry_run {
        start.push_str("&dry_run=true");
    }
    let mut start_headers = vec![];
    if let Some(k) = &a.idempotency_key {
        start_headers.push(("idempotency-key", k.clone()));
    }
    let job = api
        .send("POST", &start, &start_headers, vec![])
        .await?
        .ok("starting the import")?;
    let id = job["id"].as_u64().unwrap_or_default();
    let status_url = format!("{base}/v1/member_provisionings?id={id}&user_id={user}");
    let bar = progress_bar(id, a.json);
    let deadline = std::time::Instant::now() + Duration::from_secs(a.timeout);
    let mut pace = crate::pace::Pace::new(std::time::Instant::now());
    let status = loop {
        let s = api
            .send("GET", &status_url, &[], vec![])
            .await?
            .ok("following the import")?;
        // A dry run reads rows and applies none.
        let done = if a.dry_run {
            "rows_read"
        } else {
            "rows_applied"
        };
        let (total, done) = (
            s["rows_total"].as_u64().unwrap_or(0),
            s[done].as_u64().unwrap_or(0),
        );
        bar.set_length(total);
        bar.set_position(done);
        bar.set_message(s["state"].as_str().unwrap_or("?").to_owned());
        if matches!(s["state"].as_str(), Some("succeeded" | "failed")) {
            break s;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "import {id} is still running after {} s",
            a.timeout
        );
        let wait = pace.wait(std::time::Instant::now(), done, total);
        tokio::time::sleep(wait).await;
    };
    bar.finish();
    let report = all_pages(
        &mut api,
        &format!("{base}/v1/member_provisionings/reports?id={id}&user_id={user}"),
    )
    .await?;
    let errors = all_pages(
        &mut api,
        &format!("{base}/v1/member_provisionings/errors?id={id}&user_id={user}"),
    )
    .await?;
    if a.json {
        print(
            &json!({"job": status, "report": report, "errors": errors}),
            true,
        );
    } else {
        print_table(id, &status, &report, &errors);
    }
    let ok = if a.dry_run {
        status["would_apply"] == true
    } else {
        status["state"] == "succeeded"
    };
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// The outcome of import `id` as text: its state, its report, its row errors and, for a dry
/// run, the verdict ("would apply", or "would be refused: " and the reason).
fn print_table(id: u64, status: &Value, report: &[Value], errors: &[Value]) {
    let dry_run = status["dry_run"] == true;
    let state = status["state"].as_str().unwrap_or("?");
    let reason = status["reason"]
        .as_str()
        .filter(|_| state == "failed")
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let kind = if dry_run {
        "dry run of import"
    } else {
        "import"
    };
    println!("{kind} {id}: {state}{reason}");
    println!("{:<15} {:<30} {:>8}", "CODE", "COMMUNITY", "COUNT");
    for r in report {
        println!(
            "{:<15} {:<30} {:>8}",
            r["code"].as_str().unwrap_or(""),
            r["operation_data"]["name"].as_str().unwrap_or(""),
            r["operation_data"]["value"]
        );
    }
    if !errors.is_empty() {
        println!("\n{:>6}  {:<12} {:<24} MESSAGE", "LINE", "COLUMN", "CODE");
        for e in errors {
            println!(
                "{:>6}  {:<12} {:<24} {}",
                e["line"],
                e["column"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            );
        }
    }
    match status["would_apply"].as_bool() {
        Some(true) => println!("\nwould apply"),
        Some(false) => println!(
            "\nwould be refused: {}",
            status["reason"].as_str().unwrap_or("")
        ),
        None => {}
    }
}
