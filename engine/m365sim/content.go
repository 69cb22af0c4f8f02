package m365sim

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/lifeboat-backup/lifeboat/engine/quickxor"
)

// quickXorOf returns the base64 QuickXorHash OneDrive for Business reports
// in file.hashes.quickXorHash.
func quickXorOf(c Content) (string, error) {
	h := quickxor.New()
	if _, err := io.Copy(h, c.Open()); err != nil {
		return "", fmt.Errorf("m365sim: hashing content: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}
