package conformance

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// shapeRules are a case's exceptions to plain shape matching, each a JSON
// pointer into the documented body ("/value/0/jobTitle"). In a pointer
// into an array, the index names the documented element.
type shapeRules struct {
	// Exact pointers must hold the documented value itself, not just one
	// of its type ("token_type": "Bearer").
	Exact []string `json:"exact,omitempty"`
	// Nullable pointers may be null where the example shows a value: the
	// property is nullable and the fixture has no value for it.
	Nullable []string `json:"nullable,omitempty"`
	// Absent pointers (into the actual body) must not be there at all.
	Absent []string `json:"absent,omitempty"`
	// Skip pointers are not compared, each with the reason in the case's
	// notes (a property the simulator does not model yet).
	Skip []string `json:"skip,omitempty"`
	// Equal maps pointers (into the actual body) to the value they must
	// hold, with {var} expanded: the fixture's own IDs and names.
	Equal map[string]string `json:"equal,omitempty"`
}

// matchShape compares an actual JSON body with a documented example:
//   - an object must have every documented property, of the documented
//     type (documentation examples are truncated: more is allowed);
//   - a documented non-empty array must be an array in which each
//     documented element's shape is matched by some actual element; a
//     documented empty array matches any array;
//   - strings, numbers and booleans must be of the same JSON type;
//     documented null means "any value or null".
//
// It returns one line per difference.
func matchShape(doc, actual any, rules shapeRules) []string {
	var diffs []string
	var walk func(p string, doc, act any)
	walk = func(p string, doc, act any) {
		if slices.Contains(rules.Skip, p) {
			return
		}
		if slices.Contains(rules.Exact, p) {
			if !jsonEqual(doc, act) {
				diffs = append(diffs, fmt.Sprintf("%s: documented %s, got %s", ptr(p), compact(doc), compact(act)))
			}
			return
		}
		if act == nil && doc != nil && slices.Contains(rules.Nullable, p) {
			return
		}
		switch d := doc.(type) {
		case nil:
		case map[string]any:
			a, ok := act.(map[string]any)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: documented an object, got %s", ptr(p), typeName(act)))
				return
			}
			for _, k := range sortedKeys(d) {
				v, has := a[k]
				if !has {
					if !slices.Contains(rules.Skip, p+"/"+escape(k)) {
						diffs = append(diffs, fmt.Sprintf("%s: documented property missing", ptr(p+"/"+escape(k))))
					}
					continue
				}
				walk(p+"/"+escape(k), d[k], v)
			}
		case []any:
			a, ok := act.([]any)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: documented an array, got %s", ptr(p), typeName(act)))
				return
			}
			for i, de := range d {
				ep := p + "/" + strconv.Itoa(i)
				if slices.Contains(rules.Skip, ep) {
					continue
				}
				if len(a) == 0 {
					diffs = append(diffs, fmt.Sprintf("%s: documented an element, the array is empty", ptr(ep)))
					continue
				}
				var best []string
				for _, ae := range a {
					sub := matchShape(de, ae, rules.under(ep))
					if len(sub) == 0 {
						best = nil
						break
					}
					if best == nil || len(sub) < len(best) {
						best = sub
					}
				}
				for _, s := range best {
					diffs = append(diffs, fmt.Sprintf("%s (no element matches): %s", ptr(ep), s))
				}
			}
		default:
			if typeName(doc) != typeName(act) {
				diffs = append(diffs, fmt.Sprintf("%s: documented %s (%s), got %s", ptr(p), typeName(doc), compact(doc), typeName(act)))
			}
		}
	}
	walk("", doc, actual)
	return diffs
}

// under re-roots the rules at pointer p, for an array element compared
// on its own.
func (r shapeRules) under(p string) shapeRules {
	cut := func(list []string) []string {
		var out []string
		for _, s := range list {
			if rest, ok := strings.CutPrefix(s, p); ok && (rest == "" || rest[0] == '/') {
				out = append(out, rest)
			}
		}
		return out
	}
	return shapeRules{Exact: cut(r.Exact), Nullable: cut(r.Nullable), Skip: cut(r.Skip)}
}

// lookup follows a JSON pointer into a decoded body.
func lookup(v any, pointer string) (any, bool) {
	if pointer == "" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func escape(k string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(k) }

func ptr(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
