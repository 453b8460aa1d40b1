package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// 1,000 namespaces converge from one token call per registry; the time is measured and logged
// (and written to $CONTROLLER_FIGURES), not asserted: the machine is shared.
func TestThousandNamespaces(t *testing.T) {
	w := newWorld(t)
	const n = 1000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("scale-%04d", i)
	}
	var wg sync.WaitGroup
	work := make(chan string)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ns := range work {
				createNamespaces(t, ns)
			}
		}()
	}
	for _, ns := range names {
		work <- ns
	}
	close(work)
	wg.Wait()
	// The add-on's form of the Enterprise entry: its domains come from ListInstanceEndpoint.
	w.writeConfig(w.config("watchNamespace: all", "  - instanceId: "+teamID+"\n    regionId: cn-hangzhou\n"+personalEntry))
	start := time.Now()
	w.startController(nil)
	ctx := context.Background()
	var took time.Duration
	waitFor(t, "1,000 namespaces to converge", func() (bool, string) {
		secs, err := admin.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=acr-credential-controller"})
		if err != nil {
			return false, err.Error()
		}
		have := 0
		for _, s := range secs.Items {
			if strings.HasPrefix(s.Namespace, "scale-") && len(s.Data[".dockerconfigjson"]) > 0 {
				have++
			}
		}
		sas, err := admin.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=default"})
		if err != nil {
			return false, err.Error()
		}
		attached := 0
		for _, sa := range sas.Items {
			if strings.HasPrefix(sa.Namespace, "scale-") && len(sa.ImagePullSecrets) == 1 && sa.ImagePullSecrets[0].Name == secretName {
				attached++
			}
		}
		if have == n && attached == n {
			took = time.Since(start)
			return true, ""
		}
		return false, fmt.Sprintf("%d Secrets, %d service accounts of %d", have, attached, n)
	})
	calls := len(w.fc.Calls())
	tokens := tokenCalls(w.fc)
	endpoints := w.fc.Count("ListInstanceEndpoint")
	line := fmt.Sprintf("1,000 namespaces converged in %.1fs (from controller start, informer sync included) with %d cloud API calls (%d token calls for 2 registries, %d ListInstanceEndpoint for the instance without domains)", took.Seconds(), calls, tokens, endpoints)
	t.Log(line)
	if f := os.Getenv("CONTROLLER_FIGURES"); f != "" {
		appendFigure(t, f, line)
	}
	if endpoints != 1 {
		t.Errorf("%d ListInstanceEndpoint calls for 1,000 namespaces and one instance, want 1", endpoints)
	}
	if tokens != 2 {
		t.Errorf("%d token calls for 1,000 namespaces and 2 registries, want 2", tokens)
	}
}
