package cloudapi

import (
	"errors"

	"github.com/alibabacloud-go/tea/tea"
)

// Decoding the answers the way the SDK does, only more so: the one decoder of every call (cr,
// sts, kms).
//
// The cr-20181201 client decodes an answer with tea.Convert: JSON through json-iterator with tea's
// "fuzzy" decoders, which take a number where a string is declared and the reverse, "true"/1 for
// a bool, and null or "" as zero (tea v1.5.3, tea/json_parser.go). That matters because the
// service is not consistent with its own models: ListInstance's CreateTime is a string, GetInstance's
// a number; TotalCount is an int in one answer and a string in another; expireDate and ExpireTime
// come as numbers or numeric strings. The helper decodes into the same SDK models with the same
// tea.Convert, but first keeps only the Fields it reads (project), so that a field it does not
// read can be of any type, or any shape, without failing the call.

// Fields names the Fields of an answer the helper reads: a name maps to nil for a value, or to
// the Fields read of an object, or of each object of a list.
type Fields map[string]Fields

// Decode keeps the Fields read of body and decodes them into out (an SDK response model, or a
// struct of the same kind) with the SDK's tolerant decoder.
func Decode(body map[string]any, read Fields, out any) error {
	if out == nil {
		return errors.New("nothing to decode into")
	}
	return tea.Convert(project(body, read), out)
}

// project returns the parts of v that read names. A value of another shape than read expects
// (a list where an object is read, an object where a value is) is kept as it is, for the decoder
// to refuse: the helper reads it, so it cannot be ignored.
func project(v any, read Fields) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(read))
		for name, sub := range read {
			val, ok := t[name]
			if !ok {
				continue
			}
			if sub == nil {
				out[name] = val
			} else {
				out[name] = project(val, sub)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = project(e, read)
		}
		return out
	}
	return v
}
