//go:build linux

package sharetest

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Flaws are the guarantees a Flawed mount breaks.
type Flaws struct {
	// NoFsync: fsync answers "not supported", as some NAS and FUSE
	// file systems do.
	NoFsync bool
	// NoRenameReplace: renaming a file over an existing one fails
	// ("file exists"), as plain SFTP and some SMB servers do.
	NoRenameReplace bool
}

// Flawed mounts a new folder through an in-process FUSE file system that
// passes everything to the folder except the guarantees f breaks.
func Flawed(t testing.TB, f Flaws) *Share {
	t.Helper()
	requireTools(t, "fusermount3")
	base := t.TempDir()
	serverDir, mnt := filepath.Join(base, "share"), filepath.Join(base, "mnt")
	for _, d := range []string{serverDir, mnt} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(serverDir, &st); err != nil {
		t.Fatal(err)
	}
	root := &fs.LoopbackRoot{Path: serverDir, Dev: uint64(st.Dev)}
	node := &flawedNode{LoopbackNode: &fs.LoopbackNode{RootData: root}, flaws: f}
	root.RootNode = node
	srv, err := fs.Mount(mnt, node, &fs.Options{MountOptions: fuse.MountOptions{
		FsName: "flawed", Name: "flawed", DirectMount: true,
	}})
	if err != nil {
		t.Fatalf("sharetest: FUSE mount: %v", err)
	}
	s := &Share{Kind: "flawed", Dir: mnt, ServerDir: serverDir, t: t}
	s.unmnt = func() error {
		if err := srv.Unmount(); err != nil {
			return fuseUnmount(mnt)
		}
		return nil
	}
	t.Cleanup(func() { _ = s.Unmount() })
	if err := srv.WaitMount(); err != nil {
		t.Fatalf("sharetest: FUSE mount: %v", err)
	}
	return s
}

// flawedNode is a loopback node that breaks the chosen guarantees.
type flawedNode struct {
	*fs.LoopbackNode
	flaws Flaws
}

var (
	_ fs.NodeFsyncer     = (*flawedNode)(nil)
	_ fs.NodeRenamer     = (*flawedNode)(nil)
	_ fs.NodeWrapChilder = (*flawedNode)(nil)
)

func (n *flawedNode) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &flawedNode{LoopbackNode: ops.(*fs.LoopbackNode), flaws: n.flaws}
}

func (n *flawedNode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if n.flaws.NoFsync {
		return syscall.ENOTSUP
	}
	if fs, ok := f.(fs.FileFsyncer); ok {
		return fs.Fsync(ctx, flags)
	}
	return 0
}

func (n *flawedNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if n.flaws.NoRenameReplace {
		if p, ok := newParent.(*flawedNode); ok {
			target := filepath.Join(n.RootData.Path, p.Path(n.Root()), newName)
			if _, err := os.Lstat(target); err == nil {
				return syscall.EEXIST
			}
		}
	}
	if p, ok := newParent.(*flawedNode); ok {
		newParent = p.LoopbackNode
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}
