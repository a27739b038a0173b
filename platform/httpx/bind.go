package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DefaultMaxBody bounds every JSON body (413 beyond it); a service may set a smaller one.
const DefaultMaxBody = 64 << 10

// BindJSON decodes the request body into dst strictly: malformed JSON, a wrong type, trailing
// data or a body over maxBytes are answered with a 4xx error (never a 500). Unknown fields
// are accepted, as clients may send more than a route reads.
func BindJSON(c *gin.Context, dst any, maxBytes int64) *Error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if c.Request.ContentLength > maxBytes {
		return NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("body exceeds %d bytes", maxBytes))
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, maxBytes)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err, maxBytes)
		}
		return BadRequest(CodeInvalidJSON, "body must hold a single JSON object")
	}
	return nil
}

func decodeError(err error, maxBytes int64) *Error {
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooLarge):
		return NewError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("body exceeds %d bytes", maxBytes))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return BadRequest(CodeInvalidJSON, "body must be a JSON object")
		}
		return BadRequest(CodeInvalidField, fmt.Sprintf("field %q must be a %s", field, typeErr.Type.String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest(CodeInvalidJSON, "malformed JSON")
	case errors.Is(err, io.EOF):
		return BadRequest(CodeInvalidJSON, "empty body")
	default:
		if strings.HasPrefix(err.Error(), "json: ") {
			return BadRequest(CodeInvalidJSON, "malformed JSON")
		}
		return BadRequest(CodeInvalidJSON, "unreadable body")
	}
}

// Required answers a 400 with code "<field>_required" when value is blank.
func Required(field, value string) *Error {
	if strings.TrimSpace(value) == "" {
		return BadRequest(field+"_required", field+" is required")
	}
	return nil
}
