package refresh

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
)

// The admission side: a service account created in a watched namespace lists the pull Secret from
// its first moment, so that a pod created right after it (the ServiceAccount admission plugin
// copies imagePullSecrets into the pod at creation) pulls with it. The reconcile loop does the
// same a moment later for service accounts the webhook missed (it was down, failurePolicy Ignore).

// AdmitPath is where the webhook is served.
const AdmitPath = "/mutate-serviceaccount"

const maxReview = 1 << 20

// AdmitHandler serves AdmissionReview v1 requests for service account creation.
func (c *Controller) AdmitHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxReview+1))
		if err != nil || len(body) > maxReview {
			http.Error(w, "unreadable or too large AdmissionReview", http.StatusBadRequest)
			return
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "not an AdmissionReview v1", http.StatusBadRequest)
			return
		}
		resp := c.admit(review.Request)
		resp.UID = review.Request.UID
		out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
		if out.APIVersion == "" {
			out.APIVersion, out.Kind = "admission.k8s.io/v1", "AdmissionReview"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// admit allows every request; for a created service account that the settings select in a
// watched namespace it adds the Secret to imagePullSecrets (once).
func (c *Controller) admit(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Operation != admissionv1.Create || req.Kind.Kind != "ServiceAccount" || req.Kind.Group != "" {
		return allow
	}
	var sa corev1.ServiceAccount
	if err := json.Unmarshal(req.Object.Raw, &sa); err != nil {
		allow.Warnings = []string{"acr-credential-controller: could not read the service account; the pull Secret is added by the controller shortly"}
		return allow
	}
	name := sa.Name
	if name == "" {
		name = req.Name
	}
	s, _ := c.snapshot()
	if !s.watches(req.Namespace) || !s.selects(name) || len(s.Registries) == 0 {
		return allow
	}
	secret := c.secretName()
	if slices.ContainsFunc(sa.ImagePullSecrets, func(r corev1.LocalObjectReference) bool { return r.Name == secret }) {
		// Someone named the Secret already: theirs, not marked as the controller's.
		return allow
	}
	var ops []patchOp
	if sa.ImagePullSecrets == nil {
		ops = []patchOp{{Op: "add", Path: "/imagePullSecrets", Value: []corev1.LocalObjectReference{{Name: secret}}}}
	} else {
		ops = []patchOp{{Op: "add", Path: "/imagePullSecrets/-", Value: corev1.LocalObjectReference{Name: secret}}}
	}
	if sa.Annotations == nil {
		ops = append(ops, patchOp{Op: "add", Path: "/metadata/annotations", Value: map[string]string{AddedAnnotation: secret}})
	} else {
		ops = append(ops, patchOp{Op: "add", Path: "/metadata/annotations/" + escapePointer(AddedAnnotation), Value: secret})
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return allow
	}
	pt := admissionv1.PatchTypeJSONPatch
	allow.Patch, allow.PatchType = patch, &pt
	c.log().Info("webhook: added the pull secret to a new service account", "namespace", req.Namespace, "serviceAccount", name, "secret", secret)
	c.Metrics.accountPatched()
	return allow
}
