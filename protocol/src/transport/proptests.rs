//! Property tests of the bytes under the service: the handshake reader and the frame decoder
//! never panic on arbitrary input, and handshake messages round-trip.

use proptest::prelude::*;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::{Hello, HelloReply, MAX_FRAME_BYTES, read_message, write_message};
use crate::service::{IdReviewRequest, IdReviewResponse};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

proptest! {
    #[test]
    fn a_hello_round_trips(version in any::<u32>(), oldest in any::<u32>(), token in proptest::option::of(".{0,64}"), client in ".{0,64}") {
        let hello = Hello { protocol_version: version, token, client, oldest_protocol_version: oldest };
        let read: Hello = block_on(async {
            let mut wire = Vec::new();
            write_message(&mut wire, &hello).await.expect("write");
            read_message(&mut wire.as_slice()).await.expect("read")
        });
        prop_assert_eq!(read, hello);
    }

    #[test]
    fn any_handshake_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        block_on(async {
            let _ = read_message::<_, Hello>(&mut bytes.as_slice()).await;
            let _ = read_message::<_, HelloReply>(&mut bytes.as_slice()).await;
        });
    }

    #[test]
    fn a_length_prefixed_garbage_hello_is_refused_not_trusted(
        len in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut wire = len.to_be_bytes().to_vec();
        wire.extend(&body);
        let read = block_on(read_message::<_, Hello>(&mut wire.as_slice()));
        if len as usize > body.len() {
            prop_assert!(read.is_err());
        }
    }

    #[test]
    fn any_frames_decode_or_fail_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut codec = super::framed(tokio::io::empty()).codec().clone();
        let mut buf = BytesMut::from(bytes.as_slice());
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            prop_assert!(frame.len() <= MAX_FRAME_BYTES);
            let _ = bincode::deserialize::<tarpc::ClientMessage<IdReviewRequest>>(&frame);
            let _ = bincode::deserialize::<tarpc::Response<IdReviewResponse>>(&frame);
        }
    }
}
