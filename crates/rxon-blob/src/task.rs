//! The large-data convention of workers (spec §14.3): task params that are `s3://` URIs are
//! downloaded into a per-task directory before the handler runs, and result values that are
//! files under that directory are uploaded to `s3://<bucket>/<job_id>/<file>` and described
//! in `data_metadata`, keyed by the value's dotted/indexed path (`output.file`, `files[0]`).

use crate::BlobStore;
use rxon_core::{BlobProvider as _, Error, FileMetadata, Map, Result, TaskPayload, Value};
use std::path::{Path, PathBuf};

/// A per-task working directory, removed with everything in it when dropped.
#[derive(Debug)]
pub struct TaskDir {
    path: PathBuf,
    keep: bool,
}

impl TaskDir {
    /// Creates `<base>/<task_id>`.
    ///
    /// # Errors
    /// [`Error::Validation`] for a task id that is not a plain name; I/O errors as
    /// [`Error::Internal`].
    pub fn create(base: &Path, task_id: &str) -> Result<Self> {
        if !is_plain_name(task_id) {
            return Err(Error::Validation {
                message: format!("unusable task id for a directory: {task_id:?}"),
            });
        }
        let path = base.join(task_id);
        std::fs::create_dir_all(&path).map_err(|e| io_error(&path, e))?;
        Ok(Self { path, keep: false })
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory (it is no longer removed on drop) and returns its path.
    #[must_use]
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TaskDir {
    fn drop(&mut self) {
        if !self.keep
            && !self.path.as_os_str().is_empty()
            && let Err(e) = std::fs::remove_dir_all(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a task directory");
        }
    }
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Internal {
        message: format!("{}: {e}", path.display()),
        source: Some(Box::new(e)),
    }
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

fn collect_strings(
    v: &Value,
    path: &mut Vec<Seg>,
    out: &mut Vec<(Vec<Seg>, String)>,
    pred: &dyn Fn(&str) -> bool,
) {
    match v {
        Value::String(s) if pred(s) => out.push((path.clone(), s.clone())),
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                collect_strings(item, path, out, pred);
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, item) in m.iter() {
                path.push(Seg::Key(k.clone()));
                collect_strings(item, path, out, pred);
                path.pop();
            }
        }
        _ => {}
    }
}

fn set_at(map: &mut Map, path: &[Seg], value: Value) {
    let Some((Seg::Key(first), rest)) = path.split_first() else {
        return;
    };
    let Some(mut cur) = map.get_mut(first) else {
        return;
    };
    for seg in rest {
        let next = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k),
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        let Some(n) = next else {
            return;
        };
        cur = n;
    }
    *cur = value;
}

/// A file name under `dir` not used yet, derived from the last segment of a key.
fn free_name(dir: &Path, key: &str) -> PathBuf {
    let base = key
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|b| is_plain_name(b))
        .unwrap_or("blob");
    let mut candidate = dir.join(base);
    let mut n = 1;
    while candidate.exists() {
        candidate = dir.join(format!("{n}-{base}"));
        n += 1;
    }
    candidate
}

/// Downloads every `s3://` string of the task's params into `dir` and returns the params
/// with those strings replaced by local paths. A URI ending in `/` is a directory: every
/// object under it is downloaded, keeping relative paths. A file whose dotted path has an
/// entry in `params_metadata` is verified against it ([`BlobStore::download_verified`]).
///
/// # Errors
/// Store errors, [`Error::Integrity`] on a verification failure.
pub async fn resolve_params(store: &BlobStore, task: &TaskPayload, dir: &TaskDir) -> Result<Map> {
    let mut params = task.params.clone().unwrap_or_default();
    let mut found = Vec::new();
    let root = Value::Object(params.clone());
    collect_strings(&root, &mut Vec::new(), &mut found, &|s| {
        s.starts_with("s3://")
    });
    for (path, uri) in found {
        let parsed = store.parse(&uri)?;
        let local = free_name(dir.path(), &parsed.key);
        if parsed.is_directory {
            let prefix = parsed.key.clone();
            for (object_uri, _) in store.list(&uri).await? {
                let key = store.parse(&object_uri)?.key;
                let rel = key
                    .strip_prefix(prefix.as_str())
                    .unwrap_or(&key)
                    .trim_start_matches('/');
                if !rel.split('/').all(is_plain_name) {
                    return Err(Error::Validation {
                        message: format!("unsafe object key under {uri}: {key:?}"),
                    });
                }
                store.download(&object_uri, &local.join(rel)).await?;
            }
            std::fs::create_dir_all(&local).map_err(|e| io_error(&local, e))?;
        } else {
            let expected = task
                .params_metadata
                .as_ref()
                .and_then(|m| m.get(&dotted(&path)));
            match expected {
                Some(meta) => store.download_verified(&uri, &local, meta).await?,
                None => store.download(&uri, &local).await?,
            };
        }
        set_at(
            &mut params,
            &path,
            Value::String(local.to_string_lossy().into_owned()),
        );
    }
    Ok(params)
}

/// Uploads every result value that is a path of a file or directory inside `dir` to
/// `s3://<bucket>/<job_id>/<name>` (a directory to `…/<name>/`, every file under it),
/// replaces the value with the URI, and returns the `data_metadata` entries keyed by the
/// value's dotted path.
///
/// # Errors
/// Store and I/O errors.
pub async fn offload_results(
    store: &BlobStore,
    data: &mut Map,
    dir: &TaskDir,
    bucket: &str,
    job_id: &str,
) -> Result<Map<FileMetadata>> {
    let root_dir = std::fs::canonicalize(dir.path()).map_err(|e| io_error(dir.path(), e))?;
    let inside = |s: &str| {
        let p = Path::new(s);
        p.is_absolute()
            && std::fs::canonicalize(p).is_ok_and(|c| c.starts_with(&root_dir) && c != root_dir)
    };
    let mut found = Vec::new();
    let root = Value::Object(data.clone());
    collect_strings(&root, &mut Vec::new(), &mut found, &inside);
    let mut metadata = Map::new();
    for (path, local) in found {
        let local = PathBuf::from(local);
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "blob".to_owned());
        let meta = if local.is_dir() {
            let uri = format!("s3://{bucket}/{job_id}/{name}/");
            let mut total: i64 = 0;
            for file in walk_files(&local)? {
                let rel = file
                    .strip_prefix(&local)
                    .unwrap_or(&file)
                    .to_string_lossy()
                    .replace('\\', "/");
                let m = store.upload(&file, &format!("{uri}{rel}")).await?;
                total = total.saturating_add(m.size.unwrap_or(0));
            }
            FileMetadata {
                size: Some(total),
                ..FileMetadata::new(uri)
            }
        } else {
            store
                .upload(&local, &format!("s3://{bucket}/{job_id}/{name}"))
                .await?
        };
        set_at(data, &path, Value::String(meta.uri.clone()));
        metadata.insert(dotted(&path), meta);
    }
    Ok(metadata)
}

fn walk_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io_error(&d, e))? {
            let entry = entry.map_err(|e| io_error(&d, e))?;
            let ft = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
