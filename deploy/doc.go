// Package deploy holds Convene's deployment files — the images (docker/), the Kubernetes
// manifests (k8s/), the compose support files (compose/) and the health probe every image
// runs (cmd/healthprobe) — and the tests that keep them consistent with the services' code:
// the rules live in internal/policy, the tests in this package apply them to the real files
// of the repository (docker-compose.yml at its root included).
package deploy
