// Package httpx holds what every service's HTTP port shares: API.md's error shape, strict
// JSON binding with limits, request IDs, access logs, recovery, metrics, health endpoints and
// the identity middleware.
package httpx

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ErrorBody is API.md's error shape: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the rule that was broken (code) and explains it to a human (message).
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes shared by every service; services add their own (e.g. password_too_short).
const (
	CodeInvalidJSON     = "invalid_json"
	CodeInvalidField    = "invalid_field"
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
	CodeBodyTooLarge    = "body_too_large"
	CodeRateLimited     = "rate_limited"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
)

// Error is an HTTP status with an API error code; handlers return it, and Abort renders it.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// NewError builds an Error.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest is a 400 naming the broken rule.
func BadRequest(code, message string) *Error { return NewError(http.StatusBadRequest, code, message) }

// NotFound is a 404; message should not reveal whether the thing exists.
func NotFound(message string) *Error { return NewError(http.StatusNotFound, CodeNotFound, message) }

// Forbidden is a 403.
func Forbidden(message string) *Error { return NewError(http.StatusForbidden, CodeForbidden, message) }

// Conflict is a 409 with a specific code.
func Conflict(code, message string) *Error { return NewError(http.StatusConflict, code, message) }

// Abort writes err as API.md's error body and stops the handler chain. An err that is not
// an *Error is logged by the recovery/access log as an internal error and answered with a
// 500 that reveals nothing.
func Abort(c *gin.Context, err error) {
	e, ok := err.(*Error)
	if !ok {
		_ = c.Error(err)
		e = NewError(http.StatusInternalServerError, CodeInternal, "internal error")
	}
	c.AbortWithStatusJSON(e.Status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message}})
}
