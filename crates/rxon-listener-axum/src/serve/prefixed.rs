//! An I/O stream with bytes already read from it put back in front, so that a connection
//! whose first requests were answered directly can be handed to hyper mid-stream.

use bytes::{Buf, Bytes};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `io`, read from `prefix` first.
#[derive(Debug)]
pub(super) struct Prefixed<IO> {
    prefix: Bytes,
    io: IO,
}

impl<IO> Prefixed<IO> {
    pub(super) fn new(prefix: Bytes, io: IO) -> Self {
        Self { prefix, io }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Prefixed<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        if let Some(head) = this.prefix.get(..n) {
            buf.put_slice(head);
        }
        this.prefix.advance(n);
        if this.prefix.is_empty() {
            // Let go of the buffer the bytes came from (it may be much larger).
            this.prefix = Bytes::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Prefixed<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_the_prefix_then_the_stream_and_writes_through() {
        let (mut far, near) = tokio::io::duplex(64);
        let mut io = Prefixed::new(Bytes::from_static(b"GET / "), near);
        far.write_all(b"HTTP/1.1").await.unwrap();
        let mut got = vec![0u8; 4];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"GET ");
        let mut rest = vec![0u8; 10];
        io.read_exact(&mut rest).await.unwrap();
        assert_eq!(rest, b"/ HTTP/1.1");
        io.write_all(b"ok").await.unwrap();
        let mut answer = [0u8; 2];
        far.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"ok");
    }
}
