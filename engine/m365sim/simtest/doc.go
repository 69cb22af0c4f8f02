// Package simtest starts the simulated Microsoft 365 tenant inside a test
// and hands out clients wired to it: the real msgraph-sdk-go with the
// simulator's CA and base URL, and the real MSAL public client.
// It is for other packages' tests; nothing in the product imports it.
package simtest
