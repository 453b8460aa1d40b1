package fakecloud

import (
	"encoding/json"
	"fmt"
	"time"
)

// FaultKind names a kind of injected failure.
type FaultKind string

// The fault kinds. See the Fault constructors for what each does.
const (
	FaultKindStatus     FaultKind = "status"     // plain HTTP error with a service-shaped body
	FaultKindAPIError   FaultKind = "apiError"   // any error code/status/message
	FaultKindThrottling FaultKind = "throttling" // Throttling / Throttling.User / Throttling.Api
	FaultKindReset      FaultKind = "reset"      // hijack the connection and reset it (RST)
	FaultKindHang       FaultKind = "hang"       // never answer until the client gives up or the server closes
	FaultKindMalformed  FaultKind = "malformed"  // HTTP 200 with a body that is not JSON
	FaultKindTruncated  FaultKind = "truncated"  // HTTP 200 with the real answer cut in half
	FaultKindMissing    FaultKind = "missing"    // HTTP 200 with the real answer minus some fields
	FaultKindNotSuccess FaultKind = "notSuccess" // HTTP 200 with IsSuccess=false and a Code
	FaultKindDelay      FaultKind = "delay"      // answer normally after Delay
)

// Fault is one injected failure. Build it with the constructors (FaultStatus, FaultReset, ...);
// it is also the JSON form used by scenario files, e.g. {"kind":"status","status":503} or
// {"kind":"delay","delay":"2s"}.
type Fault struct {
	Kind    FaultKind     `json:"kind"`
	Status  int           `json:"status,omitempty"`
	Code    string        `json:"code,omitempty"`
	Message string        `json:"message,omitempty"`
	Fields  []string      `json:"fields,omitempty"` // for FaultKindMissing: dotted paths
	Delay   time.Duration `json:"-"`
}

// UnmarshalJSON accepts "delay" as a Go duration string ("1.5s") or a number of milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var aux struct {
		plain
		Delay json.RawMessage `json:"delay,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Fault(aux.plain)
	if len(aux.Delay) > 0 {
		var s string
		if err := json.Unmarshal(aux.Delay, &s); err == nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("fault delay: %w", err)
			}
			f.Delay = d
		} else {
			var ms int64
			if err := json.Unmarshal(aux.Delay, &ms); err != nil {
				return fmt.Errorf("fault delay: want a duration string or milliseconds")
			}
			f.Delay = time.Duration(ms) * time.Millisecond
		}
	}
	switch f.Kind {
	case FaultKindStatus, FaultKindAPIError, FaultKindThrottling, FaultKindReset, FaultKindHang,
		FaultKindMalformed, FaultKindTruncated, FaultKindMissing, FaultKindNotSuccess, FaultKindDelay:
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return nil
}

// MarshalJSON writes Delay as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	aux := struct {
		plain
		Delay string `json:"delay,omitempty"`
	}{plain: plain(f)}
	if f.Delay != 0 {
		aux.Delay = f.Delay.String()
	}
	return json.Marshal(aux)
}

// FaultStatus answers with HTTP status (e.g. 500, 502, 503) and a body shaped like the gateway's:
// {"Code":"InternalError"|"ServiceUnavailable"|...,"Message",...}.
func FaultStatus(status int) Fault { return Fault{Kind: FaultKindStatus, Status: status} }

// FaultAPIError answers with any error code, e.g. FaultAPIError(403, "Forbidden.RAM", "...").
func FaultAPIError(status int, code, message string) Fault {
	return Fault{Kind: FaultKindAPIError, Status: status, Code: code, Message: message}
}

// FaultThrottling answers like the gateway's flow control: code is "Throttling", "Throttling.User"
// or "Throttling.Api"; status 0 means 400 (use 429 or 503 to vary the shape). The answer carries
// x-ratelimit-user-api/x-ratelimit-user headers with TimeLeft, which darabonba reads.
func FaultThrottling(code string, status int) Fault {
	if code == "" {
		code = "Throttling.User"
	}
	return Fault{Kind: FaultKindThrottling, Code: code, Status: status}
}

// FaultReset hijacks the connection and closes it with SO_LINGER 0 (a TCP reset), after the
// request was read.
func FaultReset() Fault { return Fault{Kind: FaultKindReset} }

// FaultHang accepts the request and never answers until the client goes away or Close is called.
func FaultHang() Fault { return Fault{Kind: FaultKindHang} }

// FaultMalformedJSON answers HTTP 200 with an HTML page instead of JSON.
func FaultMalformedJSON() Fault { return Fault{Kind: FaultKindMalformed} }

// FaultTruncatedJSON answers HTTP 200 with the real JSON answer cut in half.
func FaultTruncatedJSON() Fault { return Fault{Kind: FaultKindTruncated} }

// FaultMissingFields answers HTTP 200 with the real answer minus the given fields; a field is a
// dotted path into the JSON body ("AuthorizationToken", "Credentials.Expiration",
// "data.expireDate", "Code" for the metadata service).
func FaultMissingFields(fields ...string) Fault {
	return Fault{Kind: FaultKindMissing, Fields: fields}
}

// FaultNotSuccess answers HTTP 200 with {"IsSuccess":false,"Code":code,...}; code "" means
// "INSTANCE_NOT_EXIST".
func FaultNotSuccess(code string) Fault { return Fault{Kind: FaultKindNotSuccess, Code: code} }

// FaultDelay answers normally after d.
func FaultDelay(d time.Duration) Fault { return Fault{Kind: FaultKindDelay, Delay: d} }
