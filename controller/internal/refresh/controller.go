package refresh

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Labels and defaults.
const (
	ManagedByLabel    = "app.kubernetes.io/managed-by"
	ManagedByValue    = "acr-credential-controller"
	DefaultSecretName = "acr-credential-controller"
	DefaultWorkers    = 16
)

// Controller keeps the pull Secrets. Run it only while leading.
type Controller struct {
	Client     kubernetes.Interface
	SecretName string // DefaultSecretName if empty; the RBAC names it too
	Workers    int
	Log        *slog.Logger
	Metrics    *Metrics // nil: none
	Now        func() time.Time
	// Adopt refreshes in place the ACK add-on's Secrets (acr-credential-<32 hex>) of watched
	// namespaces, named by service accounts or by workloads directly (adopt.go). Opt-in: it needs
	// get, list and update of Secrets by any name.
	Adopt bool
	// Namespaced watches service accounts and Secrets per watched namespace when the watch set is
	// a list, so that the RBAC can be granted per namespace (deploy/namespaced/); a change of the
	// list makes Run return ErrWatchSetChanged (the process restarts with the new list).
	Namespaced bool

	mu       sync.Mutex
	settings Settings
	tokens   map[string]*tokenState // by Registry.Key
	wake     chan struct{}
	synced   bool
	said     map[string]bool      // what was logged once
	scanGen  uint64               // advanced by enqueueAll: the add-on's Secrets are listed again
	scans    map[string]addonScan // by namespace (Adopt)
	runSet   []string             // the namespaces Run watches one by one (Namespaced), nil if all
	restart  chan []string        // namespaces that left runSet (Namespaced)

	queue      workqueue.TypedRateLimitingInterface[string]
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	secrets    corelisters.SecretLister
}

// New returns a controller with the first settings.
func New(client kubernetes.Interface, s Settings) *Controller {
	return &Controller{Client: client, settings: s, tokens: map[string]*tokenState{}, wake: make(chan struct{}, 1), restart: make(chan []string, 1),
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
}

func (c *Controller) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Controller) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Controller) secretName() string {
	if c.SecretName != "" {
		return c.SecretName
	}
	return DefaultSecretName
}

// Synced reports whether the caches are filled (readiness of the leader).
func (c *Controller) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced
}

// Update swaps in new settings (a config reload). Registries whose Key is unchanged keep their
// token; new ones are fetched; removed ones are forgotten, and every namespace is reconciled.
func (c *Controller) Update(s Settings) {
	c.mu.Lock()
	keep := map[string]bool{}
	for _, r := range s.Registries {
		keep[r.Key] = true
	}
	for k := range c.tokens {
		if !keep[k] {
			delete(c.tokens, k)
		}
	}
	c.settings = s
	removed, changed := c.leftRunSet(s)
	c.mu.Unlock()
	if changed {
		select {
		case c.restart <- removed:
		default:
		}
	}
	names := map[string]bool{}
	for _, r := range s.Registries {
		names[r.Name] = true
	}
	c.Metrics.keepRegistries(names)
	c.poke()
	c.enqueueAll()
}

func (c *Controller) snapshot() (Settings, map[string]Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	toks := map[string]Token{}
	for k, st := range c.tokens {
		if st.have {
			toks[k] = st.token
		}
	}
	return c.settings, toks
}

// Run watches namespaces, service accounts and its own Secrets, refreshes the tokens and
// reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	workers := c.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	defer c.queue.ShutDown()
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	// Namespaces are listed cluster-wide; service accounts and its own Secret (by name, which the
	// RBAC's resourceNames allow, and label) cluster-wide too, or per watched namespace when the
	// RBAC is granted per namespace (Namespaced, namespaced.go).
	all := informers.NewSharedInformerFactory(c.Client, 0)
	ownSecret := informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", c.secretName()).String()
		o.LabelSelector = labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedByValue}).String()
	})
	nsInf := all.Core().V1().Namespaces()
	factories := []informers.SharedInformerFactory{all}
	infs := []cache.SharedIndexInformer{nsInf.Informer()}
	s, _ := c.snapshot()
	watchSet := c.namespacedSet(s)
	var accounts corelisters.ServiceAccountLister
	var secrets corelisters.SecretLister
	if watchSet == nil {
		own := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, ownSecret)
		saInf, secInf := all.Core().V1().ServiceAccounts(), own.Core().V1().Secrets()
		accounts, secrets = saInf.Lister(), secInf.Lister()
		factories = append(factories, own)
		infs = append(infs, saInf.Informer(), secInf.Informer())
	} else {
		sas, secs := accountListers{}, secretListers{}
		for _, ns := range watchSet {
			f := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithNamespace(ns))
			own := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithNamespace(ns), ownSecret)
			saInf, secInf := f.Core().V1().ServiceAccounts(), own.Core().V1().Secrets()
			sas[ns], secs[ns] = saInf.Lister(), secInf.Lister()
			factories = append(factories, f, own)
			infs = append(infs, saInf.Informer(), secInf.Informer())
		}
		accounts, secrets = sas, secs
	}
	c.mu.Lock()
	c.namespaces, c.accounts, c.secrets, c.runSet = nsInf.Lister(), accounts, secrets, watchSet
	c.mu.Unlock()
	byNamespace := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			ns, name, _ := cache.SplitMetaNamespaceKey(key)
			if ns == "" { // a Namespace object itself
				ns = name
			}
			c.queue.Add(ns)
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: byNamespace, UpdateFunc: func(_, n any) { byNamespace(n) }, DeleteFunc: byNamespace}
	for _, inf := range infs {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	for _, f := range factories {
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return fmt.Errorf("cache of %v did not sync", typ)
			}
		}
	}
	c.mu.Lock()
	c.synced = true
	c.mu.Unlock()
	c.log().Info("caches synced; refreshing", "secret", c.secretName())

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.refreshLoop(ctx) }()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case removed := <-c.restart:
		// The namespaced watch set changed: take away what the controller added in the namespaces
		// that left it while their informers (and RBAC) are still there, then stop, so that a
		// fresh start watches the new set.
		for _, ns := range removed {
			for try := 0; try < 3; try++ {
				if e := c.reconcile(ctx, ns); e == nil {
					break
				} else if try == 2 {
					c.log().Warn("could not take the pull secret out of a namespace that left the watch list", "namespace", ns, "error", e)
				}
			}
		}
		err = ErrWatchSetChanged
	}
	stop() // the refresh loop and the workers
	c.queue.ShutDown()
	wg.Wait()
	for _, f := range factories {
		f.Shutdown()
	}
	return err
}

func (c *Controller) processNext(ctx context.Context) bool {
	ns, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(ns)
	if err := c.reconcile(ctx, ns); err != nil {
		if ctx.Err() == nil {
			c.log().Warn("reconcile failed; retrying", "namespace", ns, "error", err)
			c.Metrics.reconcileFailed()
		}
		c.queue.AddRateLimited(ns)
		return true
	}
	c.queue.Forget(ns)
	return true
}

// enqueueAll queues every known namespace (tokens changed, or the settings did).
func (c *Controller) enqueueAll() {
	c.mu.Lock()
	nl := c.namespaces
	c.scanGen++
	c.mu.Unlock()
	if nl == nil {
		return // not running: Run lists them all anyway
	}
	list, err := nl.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ns := range list {
		c.queue.Add(ns.Name)
	}
}
