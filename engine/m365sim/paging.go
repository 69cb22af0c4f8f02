package m365sim

import (
	"net/http"
	"strconv"
)

// validUserTop checks $top on the user list: the directory takes 1 to 999
// and refuses anything else with "Invalid page size specified: '1000'.
// Must be between 1 and 999 inclusive." (as a Microsoft engineer reproduced
// it: learn.microsoft.com/answers/questions/1129204; the paging page says
// GET /users returns 100 a page by default). The simulator capped larger
// values silently, so a client asking for 1000 would have passed here and
// failed against Microsoft.
func validUserTop(w http.ResponseWriter, r *http.Request) bool {
	t := r.URL.Query().Get("$top")
	if t == "" {
		return true
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 999 {
		return true
	}
	writeGraphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid page size specified: '"+truncateMsg(t)+"'. Must be between 1 and 999 inclusive.")
	return false
}
