// Package kube renders a kustomization with kustomize's own library (what `kubectl
// kustomize` runs) and decodes the result into the typed Kubernetes API objects, strictly:
// a misspelt field is an error here instead of being dropped silently by the API server.
package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// Objects are the rendered manifests, by kind.
type Objects struct {
	Deployments []appsv1.Deployment
	Services    []corev1.Service
	ConfigMaps  []corev1.ConfigMap
	Secrets     []corev1.Secret
	PDBs        []policyv1.PodDisruptionBudget
	HPAs        []autoscalingv2.HorizontalPodAutoscaler
}

// Render builds the kustomization in dir and decodes it.
func Render(dir string) (*Objects, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return Decode(out)
}

// Decode reads a multi-document YAML stream of the kinds Convene deploys; any other kind
// is an error, so that a new kind gets checks before it gets deployed.
func Decode(stream []byte) (*Objects, error) {
	objs := &Objects{}
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		doc, err := yaml.Marshal(&node)
		if err != nil {
			return nil, err
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := sigsyaml.Unmarshal(doc, &meta); err != nil {
			return nil, err
		}
		if meta.Kind == "" {
			continue
		}
		if err := objs.add(meta.APIVersion, meta.Kind, doc); err != nil {
			return nil, fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
		}
	}
}

func (o *Objects) add(apiVersion, kind string, doc []byte) error {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return decodeInto(doc, &o.Deployments)
	case "v1 Service":
		return decodeInto(doc, &o.Services)
	case "v1 ConfigMap":
		return decodeInto(doc, &o.ConfigMaps)
	case "v1 Secret":
		return decodeInto(doc, &o.Secrets)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &o.PDBs)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decodeInto(doc, &o.HPAs)
	}
	return fmt.Errorf("unexpected %s %s", apiVersion, kind)
}

func decodeInto[T any](doc []byte, list *[]T) error {
	var v T
	if err := sigsyaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// Deployment returns the Deployment called name, or nil.
func (o *Objects) Deployment(name string) *appsv1.Deployment {
	for i := range o.Deployments {
		if o.Deployments[i].Name == name {
			return &o.Deployments[i]
		}
	}
	return nil
}

// Service returns the Service called name, or nil.
func (o *Objects) Service(name string) *corev1.Service {
	for i := range o.Services {
		if o.Services[i].Name == name {
			return &o.Services[i]
		}
	}
	return nil
}

// ConfigMap returns the ConfigMap called name, or nil.
func (o *Objects) ConfigMap(name string) *corev1.ConfigMap {
	for i := range o.ConfigMaps {
		if o.ConfigMaps[i].Name == name {
			return &o.ConfigMaps[i]
		}
	}
	return nil
}
