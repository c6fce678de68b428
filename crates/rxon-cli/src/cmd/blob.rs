//! `rxon blob`: put, get, stat and delete blobs by `s3://bucket/key` URI, and print the
//! storage configuration hash workers advertise.
use std::path::PathBuf;
use std::process::ExitCode;

use rxon::blob::{BlobConfig, BlobProvider as _, BlobStore, S3Config, StoreConfig};
use rxon::{FileMetadata, Model as _, ProtocolVersion};

/// Arguments of `rxon blob`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Store location instead of S3: `file:///dir` or `memory://`.
    #[arg(long, global = true)]
    store: Option<String>,
    /// S3 endpoint URL (default: env `S3_ENDPOINT_URL`).
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Default bucket, for relative paths and the config hash (default: env `S3_DEFAULT_BUCKET`).
    #[arg(long, global = true)]
    bucket: Option<String>,
    /// Access key (default: env `S3_ACCESS_KEY`).
    #[arg(long, global = true)]
    access_key: Option<String>,
    /// Secret key (default: env `S3_SECRET_KEY`).
    #[arg(long, global = true)]
    secret_key: Option<String>,
    /// Region (default: env `S3_REGION`, else `us-east-1`).
    #[arg(long, global = true)]
    region: Option<String>,
    #[command(subcommand)]
    command: BlobCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BlobCommand {
    /// Upload a local file; prints its FileMetadata as JSON.
    Put {
        /// Local file.
        local: PathBuf,
        /// Target URI (or a path relative to the default bucket).
        uri: String,
    },
    /// Download an object; with --size/--etag it is verified (exit 1 on a mismatch).
    Get {
        /// Source URI.
        uri: String,
        /// Local file to write.
        local: PathBuf,
        /// Expected size in bytes.
        #[arg(long)]
        size: Option<i64>,
        /// Expected ETag.
        #[arg(long)]
        etag: Option<String>,
    },
    /// Print an object's size, ETag and content type as JSON (exit 1 if it does not exist).
    Stat {
        /// URI.
        uri: String,
    },
    /// Delete an object, or with --recursive everything under a prefix (exit 1 if nothing was deleted).
    Rm {
        /// URI.
        uri: String,
        /// Delete every object under the URI as a prefix.
        #[arg(long)]
        recursive: bool,
    },
    /// Print the storage configuration hash (`s3_config_hash`) of endpoint, access key and bucket.
    ConfigHash,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn config(args: &Args) -> Result<BlobConfig, super::CmdError> {
    let bucket = args.bucket.clone().or_else(|| env("S3_DEFAULT_BUCKET"));
    let mut config = match &args.store {
        Some(location) => BlobConfig::parse_location(location)?,
        None => {
            let mut s3 = S3Config::default();
            s3.endpoint = args.endpoint.clone().or_else(|| env("S3_ENDPOINT_URL"));
            s3.region = args.region.clone().or_else(|| env("S3_REGION"));
            s3.access_key = args.access_key.clone().or_else(|| env("S3_ACCESS_KEY"));
            s3.secret_key = args.secret_key.clone().or_else(|| env("S3_SECRET_KEY"));
            BlobConfig::new(StoreConfig::S3(s3))
        }
    };
    config.default_bucket = bucket;
    Ok(config)
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let config = config(args)?;
    if matches!(args.command, BlobCommand::ConfigHash) {
        return Ok(match config.config_hash() {
            Some(h) => {
                println!("{h}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("rxon: no hash: endpoint, access key and bucket are all needed");
                ExitCode::FAILURE
            }
        });
    }
    let store = BlobStore::new(config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match &args.command {
            BlobCommand::Put { local, uri } => {
                let meta = store.upload(local, uri).await?;
                println!("{}", meta.to_json(ProtocolVersion::V1_0b17)?);
                Ok(ExitCode::SUCCESS)
            }
            BlobCommand::Get {
                uri,
                local,
                size,
                etag,
            } => {
                let result = if size.is_some() || etag.is_some() {
                    let expected = FileMetadata {
                        size: *size,
                        etag: etag.clone(),
                        ..FileMetadata::new(uri.clone())
                    };
                    store.download_verified(uri, local, &expected).await
                } else {
                    store.download(uri, local).await
                };
                match result {
                    Ok(meta) => {
                        println!(
                            "{}",
                            describe(
                                meta.size,
                                meta.etag.as_deref(),
                                meta.content_type.as_deref()
                            )
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e @ rxon::Error::Integrity { .. }) => {
                        println!("{e}");
                        Ok(ExitCode::FAILURE)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            BlobCommand::Stat { uri } => match store.metadata(uri).await? {
                Some(meta) => {
                    println!(
                        "{}",
                        describe(
                            meta.size,
                            meta.etag.as_deref(),
                            meta.content_type.as_deref()
                        )
                    );
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    println!("not found");
                    Ok(ExitCode::FAILURE)
                }
            },
            BlobCommand::Rm { uri, recursive } => {
                let n = if *recursive {
                    store.delete_prefix(uri).await?
                } else {
                    u64::from(store.delete(uri).await?)
                };
                println!("deleted {n}");
                Ok(if n > 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            BlobCommand::ConfigHash => Ok(ExitCode::SUCCESS),
        }
    })
}

fn describe(size: u64, etag: Option<&str>, content_type: Option<&str>) -> String {
    let mut m = rxon::Map::new();
    m.insert("size", rxon::Value::Number(rxon::Number::from_u64(size)));
    m.insert(
        "etag",
        etag.map_or(rxon::Value::Null, |e| rxon::Value::String(e.to_owned())),
    );
    m.insert(
        "content_type",
        content_type.map_or(rxon::Value::Null, |c| rxon::Value::String(c.to_owned())),
    );
    rxon::json::to_string(&rxon::Value::Object(m))
}
