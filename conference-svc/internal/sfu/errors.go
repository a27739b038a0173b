package sfu

import "errors"

// Sentinel errors of the media layer; the signaling socket turns each into an error frame.
var (
	ErrInvalidSDP          = errors.New("malformed or unusable SDP")
	ErrUnexpectedAnswer    = errors.New("an answer without an offer pending")
	ErrInvalidCandidate    = errors.New("malformed ICE candidate")
	ErrUnexpectedCandidate = errors.New("an ICE candidate with no session description to belong to")
	ErrUnknownTrack        = errors.New("no such track")
	ErrPeerBusy            = errors.New("peer connection overloaded")
)
