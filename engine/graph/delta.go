package graph

import (
	"context"
	"errors"
)

// deltaResponse is a page of a delta query as msgraph-sdk-go parses it.
type deltaResponse[V any] interface {
	GetValue() []V
	GetOdataNextLink() *string
	GetOdataDeltaLink() *string
}

// runDelta pages through one round of a delta query. get fetches a page:
// the first one when link is "", else the page at link (a nextLink or the
// caller's deltaLink, followed verbatim). Every page's values are converted
// (entries conv rejects are dropped) and handed to fn; the round's
// deltaLink is returned.
func runDelta[V, X any, R deltaResponse[V]](ctx context.Context, op, link string, get func(ctx context.Context, link string) (R, error),
	conv func(V) (X, bool), fn func([]X) error) (string, error) {
	prev := link
	for {
		resp, err := get(ctx, link)
		if err != nil {
			return "", withOp(op, err)
		}
		if any(resp) == nil {
			return "", &Error{Op: op, Kind: ErrTransient, Err: errors.New("empty response")}
		}
		values := resp.GetValue()
		out := make([]X, 0, len(values))
		for _, v := range values {
			if x, ok := conv(v); ok {
				out = append(out, x)
			}
		}
		if err := fn(out); err != nil {
			return "", err
		}
		if dl := str(resp.GetOdataDeltaLink()); dl != "" {
			return dl, nil
		}
		next := str(resp.GetOdataNextLink())
		if next == "" {
			return "", &Error{Op: op, Err: errors.New("page has neither a nextLink nor a deltaLink")}
		}
		if next == prev {
			return "", &Error{Op: op, Err: errors.New("nextLink repeats itself")}
		}
		prev, link = next, next
	}
}
