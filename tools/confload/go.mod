module github.com/convene/convene/tools/confload

go 1.26.0

require (
	github.com/convene/convene/platform v0.0.0
	github.com/convene/convene/proto v0.0.0
)

replace (
	github.com/convene/convene/platform => ../../platform
	github.com/convene/convene/proto => ../../proto
)
