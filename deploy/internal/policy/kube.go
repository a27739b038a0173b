package policy

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/convene/convene/deploy/internal/kube"
	"github.com/convene/convene/deploy/internal/sourcescan"
)

// SecretName is the Secret every overlay references and none commits.
const SecretName = "convene-secrets"

// Autoscaled are the components with a HorizontalPodAutoscaler.
var Autoscaled = []string{"gateway", "messages-svc"}

// KubeExpect is what differs between overlays.
type KubeExpect struct {
	// MinReplicas is the least replicas (or HPA minReplicas) of every Deployment.
	MinReplicas int32
}

// CheckKube checks one rendered overlay.
func CheckKube(comps []Component, reads map[string]sourcescan.Vars, objs *kube.Objects, want KubeExpect) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("k8s: "+format, a...)) }

	if len(objs.Secrets) > 0 {
		fail("the manifests contain %d Secret(s); secrets are created on the cluster, never committed", len(objs.Secrets))
	}
	for _, name := range []string{"postgres", "redis"} {
		s := objs.Service(name)
		if s == nil || s.Spec.Type != corev1.ServiceTypeExternalName || s.Spec.ExternalName == "" {
			fail("Service %s must be an ExternalName to the external %s", name, name)
		}
	}
	known := map[string]bool{}
	for _, c := range comps {
		known[c.Name] = true
	}
	for _, d := range objs.Deployments {
		if !known[d.Name] {
			fail("Deployment %s is no Convene component", d.Name)
		}
	}
	jwt := map[string]map[string]bool{}
	for _, c := range comps {
		d := objs.Deployment(c.Name)
		if d == nil {
			fail("no Deployment %s", c.Name)
			continue
		}
		env, envErrs := resolveEnv(objs, d)
		errs = append(errs, envErrs...)
		for _, err := range CheckDeployment(c, reads[c.Name], d, env, want) {
			fail("%v", err)
		}
		for _, k := range []string{"JWT_ISSUER", "JWT_AUDIENCE"} {
			if v, ok := env[k]; ok {
				if jwt[k] == nil {
					jwt[k] = map[string]bool{}
				}
				jwt[k][v.Value] = true
			}
		}
		errs = append(errs, checkService(objs, c, d)...)
		errs = append(errs, checkDisruption(objs, c, d, want)...)
		if c.Name == "conference-svc" {
			errs = append(errs, checkMedia(objs, d, env)...)
		}
	}
	for k, vals := range jwt {
		if len(vals) > 1 {
			fail("%s differs between the gateway and users-svc", k)
		}
	}
	return errs
}

// resolveEnv flattens a Deployment's first container's environment: envFrom ConfigMaps
// first, then env entries, as the kubelet does.
func resolveEnv(objs *kube.Objects, d *appsv1.Deployment) (Env, []error) {
	var errs []error
	env := Env{}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return env, nil
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	for _, from := range ctr.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := objs.ConfigMap(from.ConfigMapRef.Name)
			if cm == nil {
				errs = append(errs, fmt.Errorf("k8s: %s: envFrom ConfigMap %s does not exist", d.Name, from.ConfigMapRef.Name))
				continue
			}
			for k, v := range cm.Data {
				env[k] = EnvValue{Value: v}
			}
		default:
			errs = append(errs, fmt.Errorf("k8s: %s: envFrom may only name ConfigMaps; take secrets key by key", d.Name))
		}
	}
	for _, e := range ctr.Env {
		v := EnvValue{Value: e.Value}
		if vf := e.ValueFrom; vf != nil {
			switch {
			case vf.SecretKeyRef != nil:
				v.Secret = vf.SecretKeyRef.Name + "/" + vf.SecretKeyRef.Key
			case vf.FieldRef != nil:
				v.Field = vf.FieldRef.FieldPath
			case vf.ConfigMapKeyRef != nil:
				cm := objs.ConfigMap(vf.ConfigMapKeyRef.Name)
				if cm == nil {
					errs = append(errs, fmt.Errorf("k8s: %s: %s refers to missing ConfigMap %s", d.Name, e.Name, vf.ConfigMapKeyRef.Name))
				} else {
					v.Value = cm.Data[vf.ConfigMapKeyRef.Key]
				}
			default:
				errs = append(errs, fmt.Errorf("k8s: %s: %s uses an unsupported valueFrom", d.Name, e.Name))
			}
		}
		env[e.Name] = v
	}
	return env, errs
}

// CheckDeployment checks one component's Deployment: image, ports, environment, probes,
// resources, security context, graceful termination.
func CheckDeployment(c Component, reads sourcescan.Vars, d *appsv1.Deployment, env Env, want KubeExpect) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("Deployment %s: "+format, append([]any{d.Name}, a...)...))
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		fail("must have exactly one container")
		return errs
	}
	ctr := pod.Containers[0]
	if got, ok := ComponentOfImage([]Component{c}, ctr.Image); !ok || got.Name != c.Name {
		fail("image %q is not %s (built by %s)", ctr.Image, c.Image(), c.Dockerfile())
	}
	if strings.HasSuffix(ctr.Image, ":latest") || !strings.Contains(ctr.Image, ":") {
		fail("image %q must carry a pinned tag (the overlay's images:)", ctr.Image)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < want.MinReplicas {
		fail("needs at least %d replicas", want.MinReplicas)
	}
	if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		fail("selector does not match its pod labels")
	}

	ports := map[string]corev1.ContainerPort{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p
	}
	if p := ports["http"]; p.ContainerPort != int32(c.HTTPPort) {
		fail("container port http must be %d", c.HTTPPort)
	}
	if c.IsService() {
		if p := ports["grpc"]; p.ContainerPort != int32(c.GRPCPort) {
			fail("container port grpc must be %d", c.GRPCPort)
		}
	}

	for _, err := range CheckEnv(c, reads, env) {
		fail("%v", err)
	}
	for _, k := range Sensitive {
		if v, ok := env[k]; ok && (v.Secret == "" || !strings.HasPrefix(v.Secret, SecretName+"/")) {
			fail("%s must come from a secretKeyRef of Secret %s", k, SecretName)
		}
	}
	if c.IsService() && env["ADVERTISE_HOST"].Field != "status.podIP" {
		fail("ADVERTISE_HOST must be the pod IP (fieldRef status.podIP), the address Consul hands out")
	}
	if env["INSTANCE_ID"].Field != "metadata.name" {
		fail("INSTANCE_ID must be the pod name (fieldRef metadata.name)")
	}

	errs = append(errs, checkProbes(c, d.Name, ctr)...)
	errs = append(errs, checkResources(d.Name, ctr)...)
	errs = append(errs, checkSecurity(d.Name, pod, ctr)...)

	grace, err := time.ParseDuration(env["SHUTDOWN_GRACE"].Value)
	if err != nil {
		fail("SHUTDOWN_GRACE must be set to a duration")
	} else if pod.TerminationGracePeriodSeconds == nil ||
		time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= grace+time.Second+preStopSleep(ctr) {
		fail("terminationGracePeriodSeconds must exceed the preStop sleep, the drain delay and SHUTDOWN_GRACE (%s)", grace)
	}
	return errs
}

func preStopSleep(ctr corev1.Container) time.Duration {
	if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Sleep != nil {
		return time.Duration(ctr.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	return 0
}

// checkProbes: readiness on /readyz (fails while draining or when a dependency is down),
// liveness on /healthz (fails only when the process is stuck), both on the HTTP port;
// gRPC health probes on the gRPC port are accepted too.
func checkProbes(c Component, name string, ctr corev1.Container) []error {
	var errs []error
	check := func(kind string, p *corev1.Probe, path string) {
		switch {
		case p == nil:
			errs = append(errs, fmt.Errorf("Deployment %s: no %s probe", name, kind))
		case p.HTTPGet != nil:
			if p.HTTPGet.Path != path || !portIs(p.HTTPGet.Port, "http", c.HTTPPort) {
				errs = append(errs, fmt.Errorf("Deployment %s: %s probe must GET %s on the http port", name, kind, path))
			}
		case p.GRPC != nil:
			if !c.IsService() || p.GRPC.Port != int32(c.GRPCPort) {
				errs = append(errs, fmt.Errorf("Deployment %s: %s gRPC probe must use port %d", name, kind, c.GRPCPort))
			}
		default:
			errs = append(errs, fmt.Errorf("Deployment %s: %s probe must be httpGet or grpc", name, kind))
		}
	}
	check("readiness", ctr.ReadinessProbe, "/readyz")
	check("liveness", ctr.LivenessProbe, "/healthz")
	return errs
}

func portIs(p intstr.IntOrString, name string, number int) bool {
	if p.Type == intstr.String {
		return p.StrVal == name
	}
	return int(p.IntVal) == number
}

func checkResources(name string, ctr corev1.Container) []error {
	var errs []error
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := ctr.Resources.Requests[r]
		lim, hasLim := ctr.Resources.Limits[r]
		switch {
		case !hasReq || !hasLim:
			errs = append(errs, fmt.Errorf("Deployment %s: needs a %s request and limit", name, r))
		case req.Cmp(lim) > 0:
			errs = append(errs, fmt.Errorf("Deployment %s: %s request exceeds its limit", name, r))
		}
	}
	return errs
}

func checkSecurity(name string, pod corev1.PodSpec, ctr corev1.Container) []error {
	var errs []error
	fail := func(msg string) { errs = append(errs, fmt.Errorf("Deployment %s: %s", name, msg)) }
	psc, sc := pod.SecurityContext, ctr.SecurityContext
	nonRoot := (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) ||
		(psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot && (sc == nil || sc.RunAsNonRoot == nil))
	if !nonRoot {
		fail("must set runAsNonRoot: true")
	}
	if sc == nil {
		fail("container needs a securityContext")
		return errs
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("must set readOnlyRootFilesystem: true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("must set allowPrivilegeEscalation: false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail("must not be privileged")
	}
	dropsAll := false
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Drop {
			dropsAll = dropsAll || c == "ALL"
		}
		if len(sc.Capabilities.Add) > 0 {
			fail("must not add capabilities")
		}
	}
	if !dropsAll {
		fail("must drop ALL capabilities")
	}
	if pod.HostNetwork {
		fail("must not use the host network")
	}
	tmp := false
	for _, m := range ctr.VolumeMounts {
		if m.MountPath == "/tmp" {
			for _, v := range pod.Volumes {
				tmp = tmp || (v.Name == m.Name && v.EmptyDir != nil)
			}
		}
	}
	if !tmp {
		fail("needs an emptyDir on /tmp (the root filesystem is read-only)")
	}
	return errs
}

// checkService: a Service of the component's name selects its pods and targets its named
// ports.
func checkService(objs *kube.Objects, c Component, d *appsv1.Deployment) []error {
	s := objs.Service(c.Name)
	if s == nil {
		return []error{fmt.Errorf("k8s: no Service %s", c.Name)}
	}
	var errs []error
	if !selects(s.Spec.Selector, d.Spec.Template.Labels) {
		errs = append(errs, fmt.Errorf("k8s: Service %s does not select the pods of Deployment %s", s.Name, d.Name))
	}
	names := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		names[p.Name] = true
	}
	for _, p := range s.Spec.Ports {
		if p.TargetPort.Type != intstr.String || !names[p.TargetPort.StrVal] {
			errs = append(errs, fmt.Errorf("k8s: Service %s port %s must target a named container port", s.Name, p.Name))
		}
	}
	return errs
}

// checkDisruption: every Deployment has one PodDisruptionBudget; the autoscaled ones an HPA.
func checkDisruption(objs *kube.Objects, c Component, d *appsv1.Deployment, want KubeExpect) []error {
	var errs []error
	pdbs := 0
	for _, p := range objs.PDBs {
		if p.Spec.Selector != nil && selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			pdbs++
			if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
				errs = append(errs, fmt.Errorf("k8s: PodDisruptionBudget %s sets no budget", p.Name))
			}
		}
	}
	if pdbs != 1 {
		errs = append(errs, fmt.Errorf("k8s: Deployment %s has %d PodDisruptionBudgets, want 1", d.Name, pdbs))
	}
	hpas := 0
	for _, h := range objs.HPAs {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name {
			continue
		}
		hpas++
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < want.MinReplicas || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			errs = append(errs, fmt.Errorf("k8s: HPA %s needs %d <= minReplicas <= maxReplicas", h.Name, want.MinReplicas))
		}
		if len(h.Spec.Metrics) == 0 {
			errs = append(errs, fmt.Errorf("k8s: HPA %s has no metric", h.Name))
		}
	}
	wantHPA := 0
	for _, a := range Autoscaled {
		if a == c.Name {
			wantHPA = 1
		}
	}
	if hpas != wantHPA {
		errs = append(errs, fmt.Errorf("k8s: Deployment %s has %d HorizontalPodAutoscalers, want %d", d.Name, hpas, wantHPA))
	}
	return errs
}

// checkMedia: the SFU's UDP port is a NodePort equal to the container port (ICE candidates
// carry the port the SFU listens on), kept on the node the client addressed, whose IP the
// SFU announces; one SFU pod per node so that the port is not shared.
func checkMedia(objs *kube.Objects, d *appsv1.Deployment, env Env) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("k8s: conference-svc media: "+format, a...))
	}
	port, err := portOf(env["MEDIA_UDP_ADDR"].Value)
	if err != nil {
		fail("MEDIA_UDP_ADDR=%q is not host:port", env["MEDIA_UDP_ADDR"].Value)
		return errs
	}
	if env["NAT_1TO1_IP"].Field != "status.hostIP" {
		fail("NAT_1TO1_IP must be the node's IP (fieldRef status.hostIP)")
	}
	var ctrPort *corev1.ContainerPort
	for i, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Protocol == corev1.ProtocolUDP {
			ctrPort = &d.Spec.Template.Spec.Containers[0].Ports[i]
		}
	}
	if ctrPort == nil || ctrPort.ContainerPort != int32(port) {
		fail("the container must declare UDP port %d", port)
	}
	var media *corev1.Service
	for i, s := range objs.Services {
		for _, p := range s.Spec.Ports {
			if p.Protocol == corev1.ProtocolUDP && selects(s.Spec.Selector, d.Spec.Template.Labels) {
				media = &objs.Services[i]
			}
		}
	}
	if media == nil {
		fail("no UDP Service selects the SFU pods")
		return errs
	}
	if media.Spec.Type != corev1.ServiceTypeNodePort && media.Spec.Type != corev1.ServiceTypeLoadBalancer {
		fail("Service %s must be a NodePort or LoadBalancer", media.Name)
	}
	if media.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		fail("Service %s needs externalTrafficPolicy: Local", media.Name)
	}
	for _, p := range media.Spec.Ports {
		if p.Protocol != corev1.ProtocolUDP {
			continue
		}
		if p.Port != int32(port) || p.NodePort != int32(port) || !portIs(p.TargetPort, ctrPortName(ctrPort), port) {
			fail("Service %s must expose UDP %d as port, nodePort and target", media.Name, port)
		}
	}
	aff := d.Spec.Template.Spec.Affinity
	onePerNode := false
	if aff != nil && aff.PodAntiAffinity != nil {
		for _, t := range aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if t.TopologyKey == "kubernetes.io/hostname" && t.LabelSelector != nil && selects(t.LabelSelector.MatchLabels, d.Spec.Template.Labels) {
				onePerNode = true
			}
		}
	}
	if !onePerNode {
		fail("needs a required pod anti-affinity on kubernetes.io/hostname (one SFU per node)")
	}
	return errs
}

func ctrPortName(p *corev1.ContainerPort) string {
	if p == nil {
		return ""
	}
	return p.Name
}

// selects tells whether a non-empty selector matches labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
