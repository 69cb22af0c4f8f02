package m365sim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// odataBool is an Edm.Boolean parameter as Graph reads it: a JSON boolean
// or the string "true"/"false". Send mail's documented request sends
// "saveToSentItems": "false" (user-sendmail.md), and Graph takes it.
type odataBool struct {
	Set, Value bool
}

func (b *odataBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = odataBool{Set: true, Value: x}
	case string:
		switch strings.ToLower(x) {
		case "true":
			*b = odataBool{Set: true, Value: true}
		case "false":
			*b = odataBool{Set: true, Value: false}
		default:
			return fmt.Errorf("%q is not a Boolean", x)
		}
	case nil:
		*b = odataBool{}
	default:
		return fmt.Errorf("%s is not a Boolean", data)
	}
	return nil
}
