package domain

// Page sizes of every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Page selects one page of a list: at most Limit items after Cursor in the list's order.
// The cursor is the id of the last item of the previous page; ids are time-ordered and
// unique, so a cursor stays valid while items are added or removed.
type Page struct {
	Limit  int
	Cursor string
}

// NewPage validates a requested page.
func NewPage(limit int, cursor string) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, invalid("invalid_limit", "limit must be between 1 and 200")
	}
	if cursor != "" && !ValidID(cursor) {
		return Page{}, invalid("invalid_cursor", "cursor is malformed")
	}
	return Page{Limit: limit, Cursor: cursor}, nil
}

// Paged is one page of a list; Next is the cursor of the following page, "" at the end.
type Paged[T any] struct {
	Items []T
	Next  string
}
