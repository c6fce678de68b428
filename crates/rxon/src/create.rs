//! `create_transport`: one transport type for every URL scheme (filled in with the transports).
