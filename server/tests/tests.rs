//! The server's integration tests, one binary (ripgrep's `tests/tests.rs` shape): the real
//! `mnemosynce` binary driven as a user drives it — the command line (`cli`, `cli_ssh`) and the web
//! server over HTTP and WebSocket (`serve`), and its installation on a system (`install`) — against real rsync, an OpenSSH server and an SMTP
//! server on loopback (`testkit`). Shared helpers are in `util`.

mod util;

mod cli;
mod cli_ssh;
mod install;
mod serve;
