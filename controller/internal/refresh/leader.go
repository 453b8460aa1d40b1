package refresh

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderOptions name the Lease and its timing (client-go's usual 15s/10s/2s by default).
type LeaderOptions struct {
	Namespace     string
	Name          string // the Lease
	Identity      string // the pod name
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// RunLeading runs lead while this replica holds the Lease and returns when ctx ends or the Lease is
// lost (the caller exits then: a replica that lost the Lease may not know what it missed). On a
// clean stop the Lease is released, so the next leader starts at once; a killed leader's Lease moves
// after LeaseDuration, and the new leader's first refresh writes before the old logins expire.
func RunLeading(ctx context.Context, client kubernetes.Interface, o LeaderOptions, log *slog.Logger, m *Metrics, lead func(ctx context.Context)) error {
	if o.LeaseDuration == 0 {
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 15*time.Second, 10*time.Second, 2*time.Second
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.Namespace, o.Name, client.CoreV1(), client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: o.Identity})
	if err != nil {
		return err
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.LeaseDuration,
		RenewDeadline:   o.RenewDeadline,
		RetryPeriod:     o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            o.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				log.Info("leading", "lease", o.Namespace+"/"+o.Name, "identity", o.Identity)
				m.SetLeader(true)
				lead(ctx)
			},
			OnStoppedLeading: func() {
				m.SetLeader(false)
				log.Info("not leading", "lease", o.Namespace+"/"+o.Name, "identity", o.Identity)
			},
			OnNewLeader: func(id string) {
				if id != o.Identity {
					log.Info("following", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return err
	}
	le.Run(ctx)
	return nil
}
