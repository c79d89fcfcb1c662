//! The request-response codec for `/cpeers/sync/1`: fetching transaction sets and ledgers.
//!
//! One request or response per stream, read to the end under a hard byte limit before anything
//! is decoded, so a peer can neither make us buffer without bound nor make us decode garbage
//! (decoding itself is [`super::wire`]).

use std::io;

use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response::Codec;

use super::wire::{self, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, Request, Response, WireError};

/// The protocol name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/cpeers/sync/1");

/// What a read produced: a message, or the reason it was refused (kept so the caller can count
/// the refusal against the peer instead of only seeing a dropped stream).
pub type Decoded<T> = Result<T, WireError>;

/// The codec.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncCodec;

async fn read_limited<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    // One byte more than allowed tells "exactly at the limit" from "over it".
    io.take(max as u64 + 1).read_to_end(&mut buf).await?;
    if buf.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message over {max} bytes"),
        ));
    }
    Ok(buf)
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Decoded<Request>;
    type Response = Decoded<Response>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Self::Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_limited(io, MAX_REQUEST_BYTES).await?;
        Ok(wire::decode_request(&bytes))
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_limited(io, MAX_RESPONSE_BYTES).await?;
        Ok(wire::decode_response(&bytes))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Self::Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let req = req.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let bytes = wire::encode_request(&req)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        io.write_all(&bytes).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Self::Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let res = res.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let bytes = wire::encode_response(&res)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        io.write_all(&bytes).await?;
        io.close().await
    }
}
