package credhelper

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// doctorReport explains one host: what the helper would do for it and, online, what happened.
type doctorReport struct {
	Input      string   `json:"input"`
	Host       string   `json:"host,omitempty"`
	ACR        bool     `json:"acr"`
	Edition    string   `json:"edition,omitempty"`
	Region     string   `json:"region,omitempty"`
	Instance   string   `json:"instance,omitempty"`
	How        []string `json:"how,omitempty"`
	ConfigFile string   `json:"configFile,omitempty"`
	// ConfigFileLine names the file read, or the one the helper would read (doctor's line).
	ConfigFileLine string         `json:"configFileStatus,omitempty"`
	Entry          string         `json:"configEntry,omitempty"`
	Profile        string         `json:"profile,omitempty"` // the entry's profile: its base credentials
	RoleChain      []string       `json:"roleChain,omitempty"`
	STS            string         `json:"stsEndpoint,omitempty"`
	CR             string         `json:"crEndpoint,omitempty"`
	Sources        []string       `json:"credentialSources,omitempty"`
	Using          string         `json:"credentialSource,omitempty"`
	ECSSkipped     string         `json:"ecsSkipped,omitempty"`
	Stored         bool           `json:"storedLogin"`
	CacheDir       string         `json:"cacheDir,omitempty"`
	Cached         *cachedToken   `json:"cachedToken,omitempty"`
	Challenge      *challengeRead `json:"registryChallenge,omitempty"`
	Steps          []doctorStep   `json:"steps,omitempty"`
	Problems       []string       `json:"problems,omitempty"`
	// Notices are findings that do not stop the helper from doing its job: with no credentials on
	// the machine it answers "not found" and clients pull anonymously (`--online` turns that one
	// into a problem, since the token it is asked to prove cannot be had); personalInstanceTokens
	// is experimental.
	Notices []string `json:"notices,omitempty"`
	// Secret is set for a host served from a KMS secret (secret.go).
	Secret *secretReport `json:"secret,omitempty"`
	// Advice is the config entry proposed for a host that no entry serves (doctor_advice.go).
	Advice *entryAdvice `json:"proposedEntry,omitempty"`
}

// challengeRead is the registry's anonymous /v2/ challenge as doctor --online read it: the raw
// WWW-Authenticate header and what the helper concluded from it, so that a new variant seen on a
// real account can be reported in one paste.
type challengeRead struct {
	URL       string `json:"url"`
	Header    string `json:"wwwAuthenticate"`
	Concluded string `json:"concluded"`
	// What it established, for doctor's advice: an instance behind a custom domain, or that the
	// registry could not be reached at all.
	instanceID, region string
	unreachable        bool
}

// cachedToken describes a cache entry without its secret.
type cachedToken struct {
	Username  string    `json:"username"`
	ExpiresAt time.Time `json:"expiresAt"`
	FetchedAt time.Time `json:"fetchedAt"`
	Fresh     bool      `json:"fresh"`
}

// doctorStep is one online step with its latency.
type doctorStep struct {
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Millis  float64 `json:"ms"`
	Detail  string  `json:"detail,omitempty"`
	Failure string  `json:"failure,omitempty"`
}

// Doctor runs `doctor [--json] [--online] HOST...`; it returns the exit code.
func Doctor(ctx context.Context, k *keychain.Keychain, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	online := fs.Bool("online", false, "also run each step (credentials, role hops, token) and time it")
	pol := fs.Bool("policy", false, "print the minimal RAM policy of each identity that serves the hosts (JSON policy documents)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: docker-credential-acr doctor [--json] [--online] HOST...
       docker-credential-acr doctor --policy [--json] HOST...

Explains, for each registry host, how the helper gets its login (a temporary Alibaba Cloud ACR token, or a
KMS secret) and what is missing: the edition, region and instance it recognises, the config file and entry,
the role chain, the credentials it would use, the cache. For a host no entry serves it proposes the entry to
add. It needs no account: without credentials it says so and still explains the host.
  docker-credential-acr doctor registry.cn-hangzhou.aliyuncs.com
  docker-credential-acr doctor --online team-registry.cn-beijing.cr.aliyuncs.com   (runs each step, timed)
  docker-credential-acr doctor --policy docker.io   (the RAM policies to grant; no API call)
Exit status: 0 no problem found, 1 a problem found, 2 bad usage.

Options:
`)
		fs.PrintDefaults()
	}
	if askedForHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(flagsFirst(args)); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if *pol {
		return printPolicies(k, ctx, fs.Args(), *asJSON, stdout, stderr)
	}
	var reports []*doctorReport
	bad := false
	for _, h := range fs.Args() {
		r := diagnose(k, ctx, h, *online)
		bad = bad || len(r.Problems) > 0
		reports = append(reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(reports)
	} else {
		for _, r := range reports {
			r.print(stdout)
		}
	}
	if bad {
		return 1
	}
	return 0
}

func diagnose(k *keychain.Keychain, ctx context.Context, input string, online bool) *doctorReport {
	r := &doctorReport{Input: input, ConfigFile: k.Config.Path, ConfigFileLine: configFileLine(k.Config), CacheDir: k.Cache.Dir()}
	reg, err := keychain.ParseServer(input)
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%v: write the registry host as it appears in the image name, e.g. registry.cn-hangzhou.aliyuncs.com", err))
		return r
	}
	if dockerHubImage(reg) && !slices.Contains(k.Config.Domains(), reg.Host) {
		// "nginx": an image name without a registry, which docker pulls from Docker Hub.
		if hub, err := keychain.ParseServer("docker.io"); err == nil {
			r.How = append(r.How, reg.Host+" names no registry: an image written without one is on Docker Hub, docker.io")
			reg = hub
		}
	}
	r.Host = reg.Host
	if reg.Edition != acr.EditionUnknown {
		// An ACR host by its name (crpi- instances included), whatever the plan says next.
		r.ACR, r.Edition, r.Region = true, reg.Edition.String(), reg.Region
	}
	if k.Logins != nil {
		_, _, r.Stored = k.Logins.Get(reg.Host)
	}
	if online {
		r.Challenge = readChallengeForDoctor(k, ctx, reg.Host)
	} else {
		ctx = keychain.WithoutAPICalls(ctx)
	}
	if reg.Edition == acr.EditionPersonalInstance && k.Config.PersonalInstanceTokens {
		r.Notices = append(r.Notices, personalInstanceNote)
	}
	p, err := k.Plan(ctx, reg)
	if err != nil {
		var nf *keychain.NotFoundError
		unserved := errors.As(err, &nf) && nf.Hint == "" && reg.Edition == acr.EditionUnknown
		if unserved {
			what := "is not an Alibaba Cloud ACR host"
			switch hostKind(reg, r.Challenge) {
			case kindDockerHub:
				what = "is Docker Hub, not an Alibaba Cloud ACR host,"

			case kindGHCR:
				what = "is GitHub's registry (GHCR), not an Alibaba Cloud ACR host,"
			case kindCustomDomain:
				what = "is a custom domain of an ACR Enterprise instance (its challenge says so)"
			}
			err = fmt.Errorf("%s %s and no entry of the config file lists it in domains: the helper answers \"not found\" for it (clients go on anonymously)", reg.Host, what)
		}
		if r.Stored {
			r.How = append(r.How, "a stored login (docker login) is used for this host")
			return r
		}
		r.Problems = append(r.Problems, err.Error())
		if unserved {
			r.Advice = adviseEntry(k.Config, reg, r.Challenge)
		}
		return r
	}
	if p.Secret != nil {
		diagnoseSecret(k, ctx, p, r, online)
		return r
	}
	r.ACR = true
	r.Edition, r.Region, r.Instance, r.How = reg.Edition.String(), p.Region, p.InstanceID, p.How
	if reg.Edition == acr.EditionUnknown {
		r.Edition = "enterprise (custom domain)"
	}
	if r.Instance == "" && reg.InstanceName != "" {
		r.Instance = "name " + reg.InstanceName + " (id found at run time: the registry's challenge, else ListInstance by exact name)"
	}
	if p.Entry != nil {
		r.Entry = p.Entry.Describe()
		r.Profile = p.Entry.Profile
	}
	r.RoleChain = sts.ARNs(p.Hops)
	if len(p.Hops) > 0 {
		r.STS = p.STSEndpoint.String()
	}
	if ep, err := k.CREndpoint(p); err == nil && p.Region != "" {
		r.CR = ep.String()
	}
	r.Sources = p.Chain.Sources()
	r.Using = p.Chain.Describe()
	r.ECSSkipped = p.Chain.ECSSkipped
	if r.Stored {
		r.How = append(r.How, "a stored login (docker login) is used before any token")
	}
	if e, ok := k.Cache.Get(p.Key); ok {
		r.Cached = &cachedToken{Username: cloudapi.Scrub(e.Username), ExpiresAt: e.ExpiresAt, FetchedAt: e.FetchedAt, Fresh: e.Fresh(k.Now(), k.Config.ExpiringThreshold)}
	}
	if p.Chain.Empty() && !r.Stored {
		r.noCredentials("no Alibaba Cloud credentials on this machine", p.Chain.ECSSkipped, online)
		return r
	}
	if online {
		runSteps(k, ctx, p, r)
	}
	return r
}

// runSteps runs the chain, each role hop and the token call one by one, timing each.
func runSteps(k *keychain.Keychain, ctx context.Context, p *keychain.Plan, r *doctorReport) {
	step := func(name string, f func() (string, error)) bool {
		t0 := time.Now()
		detail, err := f()
		s := doctorStep{Name: name, OK: err == nil, Millis: float64(time.Since(t0).Microseconds()) / 1000, Detail: cloudapi.Scrub(detail)}
		if err != nil {
			s.Failure = k.Explain(p, err).Error()
			r.Problems = append(r.Problems, name+": "+s.Failure)
		}
		r.Steps = append(r.Steps, s)
		return err == nil
	}
	var creds sts.Credentials
	if !step("base credentials ("+p.Chain.Describe()+")", func() (string, error) {
		var err error
		creds, err = p.Chain.Credentials(ctx)
		return creds.String(), err
	}) {
		return
	}
	// The hops of the plan, in order: each runs with the previous step's credentials.
	for _, h := range p.Hops {
		hop := h.Assume(sts.Static(creds), p.STSEndpoint, k.Retry)
		if !step("AssumeRole "+hop.RoleARN, func() (string, error) {
			var err error
			creds, err = hop.Credentials(ctx)
			return creds.String(), err
		}) {
			return
		}
	}
	q := *p
	q.Provider = sts.Static(creds)
	if p.Secret != nil {
		step("KMS GetSecretValue "+p.Secret.ARN(), func() (string, error) { return secretStep(k, ctx, &q, q.Provider, r) })
		return
	}
	step("registry token", func() (string, error) {
		t, err := k.Fetch(ctx, &q)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("user %s, expires %s (in %s)", t.Username, t.ExpiresAt.UTC().Format(time.RFC3339), t.ExpiresAt.Sub(k.Now()).Round(time.Second)), nil
	})
}

// personalInstanceNote is doctor's word on personalInstanceTokens.
const personalInstanceNote = "personalInstanceTokens is experimental: nothing shows GetAuthorizationToken working for Personal Edition instances (crpi-), and a real crpi- host answers with the classic Personal challenge; if the token call fails, run `docker login` once with the instance's fixed password and set personalInstanceTokens: false"

// readChallengeForDoctor reads host's anonymous challenge afresh (not from the cache) and says
// what the helper makes of it.
func readChallengeForDoctor(k *keychain.Keychain, ctx context.Context, host string) *challengeRead {
	ch, header, url, err := k.ReadChallenge(ctx, host)
	c := &challengeRead{URL: url, Header: cloudapi.Scrub(header)}
	switch {
	case errors.As(err, new(*acr.UnreachableError)):
		// No answer at all: nothing is learnt about the registry, which is not "not ACR".
		c.unreachable = true
		c.Concluded = "nothing: the registry could not be reached (" + cloudapi.Scrub(err.Error()) + "); discovery goes on without its challenge: " +
			"an ACR host name still says what it is (an Enterprise default domain's instance is found with ListInstance by its name), " +
			"a custom domain is served only when its config entry names instanceId and regionId"
	case err != nil:
		c.Concluded = "not an ACR challenge: " + cloudapi.Scrub(err.Error())
	case ch.Personal:
		c.Concluded = "Personal Edition registry in " + ch.Region
	default:
		c.Concluded = "Enterprise Edition instance " + ch.InstanceID + " in " + ch.Region
		c.instanceID, c.region = ch.InstanceID, ch.Region
	}
	return c
}

func (r *doctorReport) print(w io.Writer) {
	fmt.Fprintf(w, "%s\n", r.Input)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-18s %s\n", k+":", v)
		}
	}
	line("host", r.Host)
	if r.Host != "" {
		line("Alibaba Cloud ACR", fmt.Sprint(r.ACR))
	}
	line("edition", r.Edition)
	line("region", r.Region)
	line("instance", r.Instance)
	for _, h := range r.How {
		line("found by", h)
	}
	if r.Host != "" {
		line("config file", r.ConfigFileLine)
	}
	entry := r.Entry
	if entry == "" && r.ACR && r.Secret == nil && len(r.How) > 0 { // planned: served without an entry
		entry = "none needed: ACR hosts are served with the machine's credentials (an entry adds role hops, a profile or RRSA)"
	}
	line("config entry", entry)
	line("profile", r.Profile)
	r.printSecret(line)
	if len(r.RoleChain) > 0 {
		line("role chain", "base credentials → "+strings.Join(r.RoleChain, " → "))
	}
	line("STS endpoint", r.STS)
	line("ACR API endpoint", r.CR)
	if r.Host != "" && (r.ACR || r.Secret != nil) {
		line("credentials", r.Using)
		if len(r.Sources) > 1 {
			line("present, not used", strings.Join(r.Sources[1:], "; "))
		}
		line("ECS RAM role", map[bool]string{true: "skipped: " + r.ECSSkipped, false: ""}[r.ECSSkipped != ""])
		line("stored login", fmt.Sprint(r.Stored))
		line("cache dir", r.CacheDir)
		if r.Cached != nil {
			line("cached token", fmt.Sprintf("user %s, expires %s, fresh %v", r.Cached.Username, r.Cached.ExpiresAt.UTC().Format(time.RFC3339), r.Cached.Fresh))
		} else {
			line("cached token", "none")
		}
	}
	if c := r.Challenge; c != nil {
		line("challenge URL", c.URL)
		h := c.Header
		if h == "" {
			h = "(none)"
		}
		line("WWW-Authenticate", h)
		line("challenge says", c.Concluded)
	}
	for _, s := range r.Steps {
		status := "ok"
		if !s.OK {
			status = "FAILED"
		}
		fmt.Fprintf(w, "  step %-40s %-6s %8.1f ms  %s%s\n", s.Name, status, s.Millis, s.Detail, s.Failure)
	}
	for _, n := range r.Notices {
		fmt.Fprintf(w, "  NOTE: %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
	if r.Advice != nil {
		r.Advice.print(w)
	}
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "  no problem found")
	}
}

// noCredentials is the one rule for a machine without credentials, for ACR hosts and KMS entries
// alike: offline it is a note (the helper answers "not found" and clients go on anonymously),
// online a problem. what says what is missing; ecsSkipped why the ECS RAM role was not tried.
func (r *doctorReport) noCredentials(what, ecsSkipped string, online bool) {
	msg := what + ": set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure the aliyun CLI, or use RRSA"
	if ecsSkipped != "" {
		msg += "; ECS RAM role not tried: " + ecsSkipped
	}
	if online {
		r.Problems = append(r.Problems, msg)
	} else {
		r.Notices = append(r.Notices, msg+"; until then the helper answers \"not found\" and clients pull anonymously")
	}
}
