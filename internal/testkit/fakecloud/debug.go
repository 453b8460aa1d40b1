package fakecloud

import (
	"net/http"
	"strconv"
)

// DebugHandler serves the fake's own state for shell tests (see EnableDebugEndpoints):
//
//	GET /_fake/calls[?action=A]   JSON array of Call
//	GET /_fake/tokens             JSON array of IssuedToken
//	GET /_fake/count?action=A     the number of calls matching A, as plain text
func (s *Server) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fake/calls", func(w http.ResponseWriter, r *http.Request) {
		calls := s.Calls()
		if a := r.URL.Query().Get("action"); a != "" {
			kept := calls[:0]
			for _, c := range calls {
				if c.matches(a) {
					kept = append(kept, c)
				}
			}
			calls = kept
		}
		if calls == nil {
			calls = []Call{}
		}
		writeJSON(w, calls)
	})
	mux.HandleFunc("GET /_fake/tokens", func(w http.ResponseWriter, r *http.Request) {
		tokens := s.IssuedTokens()
		if tokens == nil {
			tokens = []IssuedToken{}
		}
		writeJSON(w, tokens)
	})
	mux.HandleFunc("GET /_fake/count", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strconv.Itoa(s.Count(r.URL.Query().Get("action"))) + "\n"))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(marshal(v), '\n'))
}

// EnableDebugEndpoints makes the API handler answer /_fake/… with DebugHandler (cmd/fakecloud
// does this; real clients never ask for these paths, and they need no signature).
func (s *Server) EnableDebugEndpoints() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.debug = true
}
