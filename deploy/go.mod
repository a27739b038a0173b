module github.com/convene/convene/deploy

go 1.26.0
