package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/controller/internal/refresh"
)

// source is where the configuration comes from: the helper's file (--config), or the ACK add-on's
// ConfigMap read through the API (--addon-configmap).
type source interface {
	load(ctx context.Context) (*config.Config, error)
	// watch calls reload whenever the configuration may have changed, until ctx ends.
	watch(ctx context.Context, log *slog.Logger, reload func()) error
	addon() bool
}

type fileSource struct{ path string }

func (f fileSource) load(context.Context) (*config.Config, error) { return loadConfig(f.path) }
func (f fileSource) watch(ctx context.Context, log *slog.Logger, reload func()) error {
	return refresh.WatchConfig(ctx, f.path, log, reload)
}
func (fileSource) addon() bool { return false }

// configMapSource is the add-on's ConfigMap: a get of that one name, and a watch of it (a field
// selector on its name, which RBAC's resourceNames allows), so that an edit is applied at once.
type configMapSource struct {
	client          kubernetes.Interface
	namespace, name string
}

func parseConfigMapRef(s string) (namespace, name string, err error) {
	ns, n, ok := strings.Cut(s, "/")
	if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
		return "", "", fmt.Errorf("--addon-configmap %q: write NAMESPACE/NAME, such as kube-system/acr-configuration", s)
	}
	return ns, n, nil
}

func (c configMapSource) String() string { return "ConfigMap " + c.namespace + "/" + c.name }

func (c configMapSource) load(ctx context.Context) (*config.Config, error) {
	cm, err := c.client.CoreV1().ConfigMaps(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s does not exist: create it (the add-on's acr-configuration), or point --addon-configmap at the one you have", c)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c, err)
	}
	if len(cm.BinaryData) > 0 {
		return nil, fmt.Errorf("%s: binaryData is not read: put every key under data", c)
	}
	return config.LoadMap(c.String(), cm.Data, os.Getenv)
}

func (c configMapSource) watch(ctx context.Context, log *slog.Logger, reload func()) error {
	f := informers.NewSharedInformerFactoryWithOptions(c.client, 0, informers.WithNamespace(c.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", c.name).String()
		}))
	inf := f.Core().V1().ConfigMaps().Informer()
	var synced atomic.Bool
	on := func(any) {
		if synced.Load() {
			reload()
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: on, UpdateFunc: func(_, n any) { on(n) }, DeleteFunc: on}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	synced.Store(true)
	reload() // anything that changed between the first read and the watch
	<-ctx.Done()
	f.Shutdown()
	return nil
}

func (configMapSource) addon() bool { return true }
