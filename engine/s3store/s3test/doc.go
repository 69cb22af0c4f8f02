// Package s3test runs a real S3 server for tests: versitygw (the Versity S3
// Gateway, Apache-2.0) on its POSIX backend with versioning and Object Lock,
// on loopback, in a temporary folder. The binary is built once from the Go
// module proxy into a cache folder (make versitygw does it ahead of the
// tests; Binary does it when it is missing), so a clean machine gets it
// with nothing but Go.
//
// versitygw's known gaps, which the tests make up for: it does not require
// Content-MD5 on uploads with Object Lock parameters (AWS does), and it lets
// a COMPLIANCE lock be shortened (S3 forbids it). Proxy records every request
// Lifeboat sends, so tests check those headers and dates themselves.
package s3test
