// Command buildgw builds versitygw, the S3 server the off-site tests run
// against, into the test cache folder (s3test.BinaryPath) unless it is
// already there: `make versitygw` runs it before the tests, so they do not
// each wait for the build.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lifeboat-backup/lifeboat/engine/s3store/s3test"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	bin, err := s3test.Build(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
