package main

import (
	"fmt"
	"os"

	"github.com/lifeboat-backup/lifeboat/engine/secret"
)

// secretStore picks where Lifeboat keeps its keys: --secret-store (flag),
// else LIFEBOAT_SECRET_STORE, else the system keychain. The file store
// lives in dir and is never a silent choice: warning is printed on every
// run that uses it.
func secretStore(g *globals, flag, dir, warning string) (secret.Keychain, string, error) {
	switch s := firstNonEmpty(flag, os.Getenv("LIFEBOAT_SECRET_STORE"), "keychain"); s {
	case "keychain":
		return secret.OS{}, s, nil
	case "file":
		fmt.Fprintln(g.stderr, warning)
		return secret.File{Dir: dir}, s, nil
	default:
		return nil, "", usageError{fmt.Errorf("--secret-store %q: use keychain or file", s)}
	}
}
