//! S3 object storage against a real S3 server (s3s + s3s-fs, in this process): the store on its
//! own ([`store`]) and the whole daemon binary pointed at it ([`daemon`]), with faults.

mod daemon;
mod store;
