// Package oracle checks the simulated tenant (engine/m365sim) with clients
// nobody on this project wrote: rclone's OneDrive backend and CLI for
// Microsoft 365 run unmodified against the simulator serving Microsoft's
// own host names (login.microsoftonline.com, graph.microsoft.com, the
// tenant's -my.sharepoint.com download host) over TLS from its own CA.
//
// Each such test runs in a private mount and network namespace of its own
// (Isolated): the test binary re-executes itself there, brings up a
// loopback that nothing else shares, serves the simulator on its port 443
// and bind-mounts a hosts file over /etc/hosts that only that namespace
// sees. The machine's name resolution, trust store and network are never
// touched, and the clients can reach nothing but the simulator.
//
// The clients are installed by installer/deps.sh (rclone, from Debian) and
// installer/oracles.sh (CLI for Microsoft 365, from npm, pinned by
// installer/oracles/package-lock.json); a test fails, never skips, when one
// is missing.
package oracle
