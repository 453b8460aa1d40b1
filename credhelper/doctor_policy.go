package credhelper

// doctor --policy HOST...: the minimal RAM policy of each identity of the plans that serve the
// hosts, from exactly what those plans call (package policy writes the documents).

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/policy"
)

// policyReport is the policy one identity needs for the hosts it serves.
type policyReport struct {
	// Identity names who needs the policy: the base credentials, or a role of a hop.
	Identity string          `json:"identity"`
	Hosts    []string        `json:"hosts"`
	Policy   policy.Document `json:"policy"`
	// Notes say what the plan cannot know offline (a secret's customer key).
	Notes []string `json:"notes,omitempty"`
	calls policy.Calls
}

// policies works out, for each identity in each chain that serves hosts, what it calls. The
// identities come in the order first met: each chain's base credentials, then its hops.
// Hosts that cannot be planned are returned as problems.
func policies(k *keychain.Keychain, ctx context.Context, hosts []string) ([]*policyReport, []string) {
	var out []*policyReport
	index := map[string]*policyReport{}
	var problems []string
	for _, h := range hosts {
		reg, err := keychain.ParseServer(h)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", truncate(h), err))
			continue
		}
		p, err := k.Plan(ctx, reg)
		if err != nil {
			problems = append(problems, reg.Host+": "+err.Error())
			continue
		}
		// Who signs each call: the base credentials, then each hop's role. The policy needs no
		// credentials: without any on this machine it is for the identity the user will give it.
		base := "base credentials: " + p.Chain.Describe()
		if p.Chain.Empty() {
			base = "base credentials: none on this machine yet (the identity you will give the helper)"
		}
		ids := []string{base}
		keys := []string{"base\x00" + p.Chain.Identity()}
		for _, hop := range p.Hops {
			ids = append(ids, "role "+hop.RoleARN)
			keys = append(keys, "role\x00"+hop.RoleARN)
		}
		for i := range ids {
			r := index[keys[i]]
			if r == nil {
				r = &policyReport{Identity: ids[i]}
				index[keys[i]] = r
				out = append(out, r)
			}
			if !contains(r.Hosts, reg.Host) {
				r.Hosts = append(r.Hosts, reg.Host)
			}
			if i < len(p.Hops) {
				r.calls.AssumeRoles = append(r.calls.AssumeRoles, p.Hops[i].RoleARN)
				continue
			}
			targetCalls(k, p, &r.calls)
			if p.Secret != nil {
				note := "if " + p.Secret.ARN() + " is encrypted with a customer key, also allow kms:Decrypt on acs:kms:" +
					p.Secret.Ref.Region + ":<account>:key/<key-id> (the secret's key, shown by DescribeSecret)"
				if !contains(r.Notes, note) {
					r.Notes = append(r.Notes, note)
				}
			}
		}
	}
	var kept []*policyReport
	for _, r := range out {
		doc, err := policy.For(r.calls)
		if err != nil {
			problems = append(problems, r.Identity+": "+err.Error())
			continue
		}
		r.Policy = doc
		kept = append(kept, r)
	}
	return kept, problems
}

// targetCalls adds what the last identity of plan p calls: the token (or the secret) and the
// discovery the plan needs to find its instance.
func targetCalls(k *keychain.Keychain, p *keychain.Plan, c *policy.Calls) {
	account := k.SignerAccount(p)
	switch p.Kind {
	case keychain.TargetSecret:
		s := p.Secret
		acct := s.Ref.Account
		if acct == "" {
			acct = s.Account
		}
		c.Secrets = append(c.Secrets, policy.Secret{Scope: policy.Scope{Region: s.Ref.Region, Account: acct}, Name: s.Ref.Name})
	case keychain.TargetPersonal:
		c.PersonalTokens = append(c.PersonalTokens, policy.Scope{Region: p.Region, Account: account})
	case keychain.TargetEnterprise:
		in := policy.Instance{Scope: policy.Scope{Region: p.Region, Account: account}, ID: p.InstanceID, Token: true}
		if p.InstanceID == "" {
			switch p.Registry.Edition {
			case acr.EditionEnterprise:
				// The default domain names the instance: found by name with ListInstance
				// (when the registry's challenge does not say its id).
				in.Discover = true
			case acr.EditionUnknown:
				// A custom domain without instanceId: the challenge names the instance, and
				// ListInstanceEndpoint confirms the domain is the instance's.
				in.Endpoints = true
			}
		}
		c.Instances = append(c.Instances, in)
	}
}

// printPolicies is `doctor --policy [--json] HOST...`: the policy documents on stdout (one per
// identity, each as RAM takes it; a JSON array of policyReport with --json), which identity each
// is for on stderr. It returns the exit code: 1 if a host could not be planned.
func printPolicies(k *keychain.Keychain, ctx context.Context, hosts []string, asJSON bool, stdout, stderr io.Writer) int {
	reports, problems := policies(k, ctx, hosts)
	if asJSON {
		if reports == nil {
			reports = []*policyReport{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reports)
	} else {
		for i, r := range reports {
			fmt.Fprintf(stderr, "policy %d of %d: for %s (serves %s)\n", i+1, len(reports), r.Identity, strings.Join(r.Hosts, ", "))
			for _, n := range r.Notes {
				fmt.Fprintf(stderr, "  note: %s\n", n)
			}
			_, _ = stdout.Write(r.Policy.JSON())
		}
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "PROBLEM: %s\n", p)
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
