//! The layer around every route: `X-RXON-Version` on every response, and 414 for a request
//! target over the configured limit. Written as a plain tower service (no boxed future, no
//! per-request clone of the inner service), because it runs on every request.

use crate::reply;
use axum::extract::Request;
use axum::response::Response;
use futures_util::future::{Either, MapOk, Ready, TryFutureExt, ready};
use http::{HeaderName, HeaderValue, StatusCode};
use rxon_core::ProtocolVersion;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Adds the profile's version header; answers 414 past `max_uri` bytes of path and query.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProtocolLayer {
    pub(crate) profile: ProtocolVersion,
    pub(crate) max_uri: usize,
}

impl<S> Layer<S> for ProtocolLayer {
    type Service = ProtocolService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProtocolService { inner, cfg: *self }
    }
}

/// The service of [`ProtocolLayer`].
#[derive(Clone, Debug)]
pub(crate) struct ProtocolService<S> {
    inner: S,
    cfg: ProtocolLayer,
}

type AddHeader = fn(Response) -> Response;

/// `X-RXON-Version` (header names are case-insensitive; the connection writes it in the case
/// the client used, see `serve`).
const VERSION_HEADER: HeaderName = HeaderName::from_static("x-rxon-version");

fn with_b9(r: Response) -> Response {
    with_version(r, ProtocolVersion::V1_0b9)
}

fn with_b17(r: Response) -> Response {
    with_version(r, ProtocolVersion::V1_0b17)
}

fn with_version(mut r: Response, profile: ProtocolVersion) -> Response {
    r.headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(profile.as_str()));
    r
}

impl<S> Service<Request> for ProtocolService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, MapOk<S::Future, AddHeader>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let profile = self.cfg.profile;
        let add: AddHeader = match profile {
            ProtocolVersion::V1_0b9 => with_b9,
            _ => with_b17,
        };
        let target_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
        if target_len > self.cfg.max_uri {
            let r = reply::error_body(StatusCode::URI_TOO_LONG, None, "URI Too Long", profile);
            return Either::Left(ready(Ok(add(r))));
        }
        Either::Right(self.inner.call(req).map_ok(add))
    }
}
