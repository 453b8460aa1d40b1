package cloudapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds every response body the helper reads: API answers (the largest, a ListInstance
// page of 50 instances, is tens of KiB), error pages, the registry challenge. A body past it is
// refused, never read into memory whole: an endpoint that streams without end would otherwise
// hold the command (and gigabytes of memory) until the deadline.
const maxBody = 2 << 20

// errBodyTooLarge is the read error of a response body past maxBody.
var errBodyTooLarge = fmt.Errorf("larger than %d MiB", maxBody>>20)

// boundedTransport bounds the response bodies of base and notes, for a call made through Call,
// that the bound was hit (the SDK turns read errors into untyped ones).
type boundedTransport struct{ base http.RoundTripper }

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	info, _ := req.Context().Value(callInfoKey{}).(*callInfo)
	if resp.ContentLength > maxBody {
		resp.Body.Close()
		if info != nil {
			info.tooLarge = true
		}
		return nil, errBodyTooLarge
	}
	resp.Body = &boundedBody{rc: resp.Body, left: maxBody, info: info}
	return resp, nil
}

// boundedBody reads at most left bytes of rc and fails, rather than ends, if there is more.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	info *callInfo
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			if b.info != nil {
				b.info.tooLarge = true
			}
			return 0, errBodyTooLarge
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// isTooLarge reports whether err is, or the call info says it was, a body past maxBody.
func isTooLarge(err error, info *callInfo) bool {
	return errors.Is(err, errBodyTooLarge) || info != nil && info.tooLarge
}
