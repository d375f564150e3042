//! The S3 Blobs adapter against a strict S3: an s3s-fs server started in the test itself on
//! 127.0.0.1, over a temporary directory, with static credentials. s3s verifies SigV4
//! (presigned URLs included: the signed headers, the signature, the expiry) and s3s-fs
//! checks the body against `Content-MD5`; uploads go as real HTTP PUTs to the presigned URL.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use muster::blob::{
    BlobMeta, Blobs, PresignedUpload, S3Blobs, UploadSpec, create_bucket_if_missing, md5_base64,
};
use s3s::dto::{
    CreateBucketInput, CreateBucketOutput, DeleteObjectInput, DeleteObjectOutput, GetObjectInput,
    GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput,
    PutObjectInput, PutObjectOutput,
};
use s3s::{S3, S3ErrorCode, S3Request, S3Response, S3Result};

const ACCESS_KEY: &str = "muster-test";
const SECRET_KEY: &str = "muster-test-secret";
const BUCKET: &str = "muster-uploads";
const BODY: &[u8] = b"matricule;email\n42;ada@acme.example\n";

/// s3s-fs with one repair: 0.14 moves a PUT's body into place before comparing it with
/// `Content-MD5` (fixed in later releases, which need a newer Rust), so after its BadDigest
/// refusal the file is removed, leaving nothing stored, as S3 does. Only the operations the
/// adapter uses are served.
struct StrictFs {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
}

#[async_trait::async_trait]
impl S3 for StrictFs {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let path = self.root.join(&req.input.bucket).join(&req.input.key);
        let put = self.fs.put_object(req).await;
        if let Err(e) = &put
            && *e.code() == S3ErrorCode::BadDigest
        {
            let _ = std::fs::remove_file(path);
        }
        put
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.fs.get_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }
}

/// A strict S3 serving on 127.0.0.1 for the current test's runtime, with one bucket, and
/// the adapter on it. The directory is removed on drop.
struct StrictS3 {
    blobs: S3Blobs,
    dir: PathBuf,
}

impl Drop for StrictS3 {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl StrictS3 {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("muster-s3-{}", muster::ids::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fs = s3s_fs::FileSystem::new(&dir).unwrap();
        let root = dir.canonicalize().unwrap();
        let mut builder = s3s::service::S3ServiceBuilder::new(StrictFs { fs, root });
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });

        let client = S3Blobs::static_client(&endpoint, "eu-west-3", ACCESS_KEY, SECRET_KEY);
        create_bucket_if_missing(&client, BUCKET).await.unwrap();
        create_bucket_if_missing(&client, BUCKET).await.unwrap();
        Self {
            blobs: S3Blobs::new(client, BUCKET),
            dir,
        }
    }
}

fn spec(body: &[u8]) -> UploadSpec {
    spec_with_key(body, &format!("imports/{}", muster::ids::random_id()))
}

fn spec_with_key(body: &[u8], key: &str) -> UploadSpec {
    UploadSpec {
        key: key.to_owned(),
        filename: "membres é.csv".into(),
        content_type: "text/csv".into(),
        byte_size: body.len() as u64,
        checksum: md5_base64(body),
    }
}

/// The status and the error code (empty when none) S3 answers to a PUT of `body` to
/// `upload`'s URL with its headers, each of `changed` replacing the header of that name.
async fn put(
    upload: &PresignedUpload,
    url: &str,
    changed: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, String) {
    let mut req = Request::builder().method(Method::PUT).uri(url);
    for (name, value) in &upload.headers {
        let value = changed
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(value.as_str(), |(_, v)| v);
        req = req.header(name.as_str(), value);
    }
    let req = req.body(Full::new(Bytes::from(body.to_vec()))).unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http();
    let res = client.request(req).await.unwrap();
    let status = res.status();
    let text = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&text);
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code);
    (status, code.to_owned())
}

/// Asserts that S3 refused the upload with `status` and `code` and stored nothing.
async fn assert_refused(
    s3: &StrictS3,
    key: &str,
    got: (StatusCode, String),
    status: u16,
    code: &str,
) {
    assert_eq!((got.0.as_u16(), got.1.as_str()), (status, code));
    assert_eq!(s3.blobs.head(key).await.unwrap(), None);
}

#[tokio::test]
async fn an_upload_of_the_declared_bytes_is_stored_and_read_back() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    assert_eq!(upload.headers, spec.headers());
    assert_eq!(s3.blobs.head(&spec.key).await.unwrap(), None);

    let (status, code) = put(&upload, &upload.url, &[], BODY).await;
    assert_eq!((status, code.as_str()), (StatusCode::OK, ""));

    let meta = s3.blobs.head(&spec.key).await.unwrap();
    let expected = BlobMeta {
        size: spec.byte_size,
        checksum: spec.checksum.clone(),
    };
    assert_eq!(meta, Some(expected));
    let mut reader = s3.blobs.open(&spec.key).await.unwrap();
    let read = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map(|_| bytes)
    });
    assert_eq!(read.await.unwrap().unwrap(), BODY);
}

#[tokio::test]
async fn the_reference_documents_upload_call_with_content_disposition_null_is_accepted() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    // The seed's curl: Content-MD5, `Content-Disposition: null` and Content-Type, as given.
    let seed = [("Content-Disposition", "null")];
    let (status, code) = put(&upload, &upload.url, &seed, BODY).await;
    assert_eq!((status, code.as_str()), (StatusCode::OK, ""));
    assert_eq!(
        s3.blobs.head(&spec.key).await.unwrap().unwrap().size,
        spec.byte_size
    );
    // What stays signed still binds: the same headers with another type are refused.
    let other = spec_with_key(BODY, "imports/other");
    let upload = s3.blobs.presign_upload(&other).await.unwrap();
    let changed = [
        ("Content-Disposition", "null"),
        ("Content-Type", "text/plain"),
    ];
    let got = put(&upload, &upload.url, &changed, BODY).await;
    assert_refused(&s3, &other.key, got, 403, "SignatureDoesNotMatch").await;
}

#[tokio::test]
async fn a_body_of_the_declared_length_but_other_bytes_is_refused_with_bad_digest() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    let mut other = BODY.to_vec();
    other[0] = b'M';
    let got = put(&upload, &upload.url, &[], &other).await;
    assert_refused(&s3, &spec.key, got, 400, "BadDigest").await;
}

#[tokio::test]
async fn a_body_of_another_length_is_refused_as_its_length_is_signed() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    let longer = [BODY, b"43;eve@acme.example\n"].concat();
    let md5 = md5_base64(&longer);
    let got = put(&upload, &upload.url, &[("Content-MD5", &md5)], &longer).await;
    assert_refused(&s3, &spec.key, got, 403, "SignatureDoesNotMatch").await;
}

#[tokio::test]
async fn a_changed_content_md5_header_is_refused_even_when_it_matches_the_body() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    let mut other = BODY.to_vec();
    other[0] = b'M';
    let md5 = md5_base64(&other);
    let got = put(&upload, &upload.url, &[("Content-MD5", &md5)], &other).await;
    assert_refused(&s3, &spec.key, got, 403, "SignatureDoesNotMatch").await;
}

#[tokio::test]
async fn a_changed_content_type_header_is_refused() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    let got = put(
        &upload,
        &upload.url,
        &[("Content-Type", "text/plain")],
        BODY,
    )
    .await;
    assert_refused(&s3, &spec.key, got, 403, "SignatureDoesNotMatch").await;
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    let (before, signature) = upload.url.split_once("X-Amz-Signature=").unwrap();
    let mut signature = signature.to_owned().into_bytes();
    signature[0] = if signature[0] == b'0' { b'1' } else { b'0' };
    let url = format!(
        "{before}X-Amz-Signature={}",
        String::from_utf8(signature).unwrap()
    );
    let got = put(&upload, &url, &[], BODY).await;
    assert_refused(&s3, &spec.key, got, 403, "SignatureDoesNotMatch").await;
}

#[tokio::test]
async fn an_expired_upload_url_is_refused() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3
        .blobs
        .presign_upload_for(&spec, Duration::from_secs(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = put(&upload, &upload.url, &[], BODY).await;
    assert_refused(&s3, &spec.key, got, 403, "AccessDenied").await;
}

#[tokio::test]
async fn opening_a_missing_key_is_an_error_and_its_head_is_none() {
    let s3 = StrictS3::start().await;
    assert_eq!(s3.blobs.head("imports/none").await.unwrap(), None);
    assert!(s3.blobs.open("imports/none").await.is_err());
}

#[tokio::test]
async fn a_deleted_blob_is_gone_and_deleting_it_again_is_no_error() {
    let s3 = StrictS3::start().await;
    let spec = spec(BODY);
    let upload = s3.blobs.presign_upload(&spec).await.unwrap();
    assert_eq!(put(&upload, &upload.url, &[], BODY).await.0, StatusCode::OK);
    s3.blobs.delete(&spec.key).await.unwrap();
    assert_eq!(s3.blobs.head(&spec.key).await.unwrap(), None);
    s3.blobs.delete(&spec.key).await.unwrap();
}
