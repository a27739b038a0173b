package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: convene/api:1
`

func TestDecode(t *testing.T) {
	t.Parallel()
	objs, err := Decode([]byte(deployment + `---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data: {A: "1"}
---
# an empty document is skipped
`))
	require.NoError(t, err)
	require.Len(t, objs.Deployments, 1)
	require.Equal(t, "convene/api:1", objs.Deployment("api").Spec.Template.Spec.Containers[0].Image)
	require.NotNil(t, objs.Service("api"))
	require.Equal(t, "1", objs.ConfigMap("cfg").Data["A"])
	require.Nil(t, objs.Deployment("nope"))
	require.Nil(t, objs.Service("nope"))
	require.Nil(t, objs.ConfigMap("nope"))
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"misspelt field", deployment + "          imagePullPolicyy: Always\n", `Deployment api: error unmarshaling JSON: while decoding JSON: json: unknown field "imagePullPolicyy"`},
		{"wrong type", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: eighty}]}\n", "Service s"},
		{"unexpected kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin}\n", "unexpected rbac.authorization.k8s.io/v1 ClusterRole"},
		{"old api version", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n", "unexpected autoscaling/v1"},
		{"bad yaml", "kind: [\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.doc))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "deployment.yaml"), []byte(deployment), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: team
resources: [deployment.yaml]
images:
  - name: convene/api
    newTag: "2"
configMapGenerator:
  - name: cfg
    literals: [A=1]
`), 0o644))
	objs, err := Render(dir)
	require.NoError(t, err)
	d := objs.Deployment("api")
	require.NotNil(t, d)
	require.Equal(t, "team", d.Namespace)
	require.Equal(t, "convene/api:2", d.Spec.Template.Spec.Containers[0].Image)
	require.Len(t, objs.ConfigMaps, 1)
	require.NotEqual(t, "cfg", objs.ConfigMaps[0].Name, "generated ConfigMaps carry a content hash")

	_, err = Render(filepath.Join(dir, "missing"))
	require.Error(t, err)
}
