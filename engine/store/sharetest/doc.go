// Package sharetest gives tests real network shares and real broken
// destinations on this machine, all on loopback and all started and
// stopped by the test itself:
//
//   - SMB starts Samba's smbd with a private configuration on a free
//     loopback port and mounts its share through FUSE with rclone's SMB
//     client (the kernel here has no CIFS client);
//   - SSHFS starts OpenSSH's sshd on a free loopback port with a throwaway
//     host key and user key, and mounts a folder with sshfs;
//   - Flawed mounts a folder through an in-process FUSE file system that
//     breaks chosen guarantees (fsync, rename over an existing file), like
//     a badly behaved NAS;
//   - InMountNamespace re-runs a test in a child process with a private
//     mount namespace, where NewDrive makes a small tmpfs drive that can
//     fill up, be pulled out (a lazy unmount) and come back, without
//     touching the machine's mounts.
//
// These need root (FUSE mounts, namespaces) and Debian's samba, rclone,
// openssh-server, sshfs and fuse3, which installer/deps.sh installs. A test
// that cannot have them fails rather than skips: a skipped reliability test
// proves nothing.
package sharetest
