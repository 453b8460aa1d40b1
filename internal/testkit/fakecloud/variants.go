package fakecloud

import (
	"fmt"
	"strconv"
	"time"
)

// WireVariant is a way the real API's answers differ from one call or release to another in the
// types of their fields (the package doc's table gives the source of each). By default the fake
// answers with the types of the cr-20181201 v2.5.0 response models: ListInstance's CreateTime a
// string, GetInstance's a number, ListInstance's TotalCount a number, ExpireTime and expireDate
// numbers of milliseconds.
type WireVariant string

const (
	// WireCreateTimeSwapped swaps the CreateTime/ModifiedTime types: a number in ListInstance, a
	// numeric string in GetInstance (fields the helper does not read).
	WireCreateTimeSwapped WireVariant = "createTimeSwapped"
	// WireTotalCountString sends ListInstance's TotalCount as a numeric string, as the
	// cr-20181201 models declare it for ListNamespace and ListRepository.
	WireTotalCountString WireVariant = "totalCountString"
	// WireExpiryString sends the token expiry (Enterprise ExpireTime, Personal expireDate) as a
	// numeric string of milliseconds instead of a number.
	WireExpiryString WireVariant = "expiryString"
)

// WireVariants lists every variant, for table tests.
var WireVariants = []WireVariant{WireCreateTimeSwapped, WireTotalCountString, WireExpiryString}

// SetWireVariants makes the fake answer with these variants (and only these) from now on.
func (s *Server) SetWireVariants(vs ...WireVariant) error {
	set := map[WireVariant]bool{}
	for _, v := range vs {
		switch v {
		case WireCreateTimeSwapped, WireTotalCountString, WireExpiryString:
			set[v] = true
		default:
			return fmt.Errorf("fakecloud: unknown wire variant %q (want one of %v)", v, WireVariants)
		}
	}
	s.mu.Lock()
	s.wire = set
	s.mu.Unlock()
	return nil
}

func (s *Server) hasWire(v WireVariant) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wire[v]
}

const fakeCreateTime = int64(1700000000000)

func (s *Server) listInstanceTime() any {
	if s.hasWire(WireCreateTimeSwapped) {
		return fakeCreateTime
	}
	return strconv.FormatInt(fakeCreateTime, 10)
}

func (s *Server) getInstanceTime() any {
	if s.hasWire(WireCreateTimeSwapped) {
		return strconv.FormatInt(fakeCreateTime, 10)
	}
	return fakeCreateTime
}

func (s *Server) totalCount(n int) any {
	if s.hasWire(WireTotalCountString) {
		return strconv.Itoa(n)
	}
	return n
}

func (s *Server) expiry(t time.Time) any {
	if s.hasWire(WireExpiryString) {
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	return t.UnixMilli()
}
