package conformance

import (
	"encoding/json"
	"testing"
)

// TestMatchShape checks the matcher itself: a conformance suite whose
// comparison lets everything through would prove nothing.
func TestMatchShape(t *testing.T) {
	tests := []struct {
		name, doc, actual string
		rules             shapeRules
		diffs             int
	}{
		{"extra properties are fine", `{"a":"x"}`, `{"a":"y","b":1}`, shapeRules{}, 0},
		{"missing property", `{"a":"x","b":1}`, `{"a":"y"}`, shapeRules{}, 1},
		{"wrong type", `{"a":1}`, `{"a":"1"}`, shapeRules{}, 1},
		{"null is not a string", `{"a":"x"}`, `{"a":null}`, shapeRules{}, 1},
		{"nullable", `{"a":"x"}`, `{"a":null}`, shapeRules{Nullable: []string{"/a"}}, 0},
		{"documented null matches anything", `{"a":null}`, `{"a":{"b":1}}`, shapeRules{}, 0},
		{"exact", `{"t":"Bearer"}`, `{"t":"bearer"}`, shapeRules{Exact: []string{"/t"}}, 1},
		{"array element matched by some element", `{"v":[{"file":{}}]}`, `{"v":[{"folder":{}},{"file":{"x":1}}]}`, shapeRules{}, 0},
		{"array element matched by none", `{"v":[{"deleted":{}}]}`, `{"v":[{"folder":{}},{"file":{}}]}`, shapeRules{}, 1},
		{"documented element, empty array", `{"v":[{"a":1}]}`, `{"v":[]}`, shapeRules{}, 1},
		{"documented empty array matches any array", `{"v":[]}`, `{"v":[1,2]}`, shapeRules{}, 0},
		{"object for array", `{"v":[]}`, `{"v":{}}`, shapeRules{}, 1},
		{"skip", `{"a":{"b":1}}`, `{}`, shapeRules{Skip: []string{"/a"}}, 0},
		{"rules under arrays", `{"v":[{"a":"x"}]}`, `{"v":[{"a":null}]}`, shapeRules{Nullable: []string{"/v/0/a"}}, 0},
		{"escaped keys", `{"@odata.nextLink":"u","a/b":1}`, `{"@odata.nextLink":"v"}`, shapeRules{}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc, act any
			if err := json.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.actual), &act); err != nil {
				t.Fatal(err)
			}
			if d := matchShape(doc, act, tc.rules); len(d) != tc.diffs {
				t.Errorf("got %d differences %q, want %d", len(d), d, tc.diffs)
			}
		})
	}
	v, ok := lookup(map[string]any{"a/b": []any{"x", map[string]any{"c": true}}}, "/a~1b/1/c")
	if !ok || v != true {
		t.Errorf("lookup: %v %v", v, ok)
	}
}
