module github.com/convene/convene/deploy

go 1.26.0

require (
	github.com/moby/buildkit v0.20.2
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/containerd/typeurl/v2 v2.2.3 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/planetscale/vtprotobuf v0.6.1-0.20240319094008-0393e58bdf10 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	google.golang.org/protobuf v1.35.2 // indirect
)

replace (
	github.com/convene/convene/platform => ../platform
	github.com/convene/convene/proto => ../proto
)
