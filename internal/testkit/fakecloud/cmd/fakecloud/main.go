//go:build fakecloud

// Command fakecloud runs the fake Alibaba Cloud API (package fakecloud) as its own process, for
// tests of separate binaries and shell scripts. It listens on 127.0.0.1 only.
//
//	fakecloud -scenario testdata/world.json [-port 0] [-metadata-port 0]
//	          [-metadata-addr 100.100.100.200:80] [-tls] [-ca-file ca.pem] [-calls calls.jsonl] [-latency 0s]
//	          [-challenge-region cn-hangzhou -challenge-suffix 26842] [-dockerauth-cert cert.pem]
//
// Standard output, one line each, in this order, then nothing more:
//
//	listening http://127.0.0.1:PORT          the API (plus GET /_fake/calls, /_fake/tokens, /_fake/count?action=A)
//	metadata-proxy http://127.0.0.1:PORT     HTTP_PROXY value that reaches http://100.100.100.200
//	metadata http://ADDR                     with -metadata-addr: the metadata service served directly
//	tls https://127.0.0.1:PORT               with -tls (certificate in -ca-file)
//	challenge http://127.0.0.1:PORT          with -challenge-region or a scenario's challenges (by Host)
//	dockerauth http://127.0.0.1:PORT         with -dockerauth-cert: the registries' token server
//	                                         (fakecloud.DockerAuth; its signing certificate in that file)
//
// It stops on SIGTERM or SIGINT.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fakecloud:", err)
		os.Exit(1)
	}
}

func run() error {
	scenario := flag.String("scenario", "", "scenario JSON file (the shared test world is testdata/world.json)")
	port := flag.Int("port", 0, "API port on 127.0.0.1 (0: random)")
	mdPort := flag.Int("metadata-port", 0, "metadata proxy port on 127.0.0.1 (0: random)")
	withTLS := flag.Bool("tls", false, "also serve the API over HTTPS with a fresh self-signed certificate")
	caFile := flag.String("ca-file", "", "with -tls: write the certificate (PEM) here")
	callsFile := flag.String("calls", "", "append every call as a JSON line to this file")
	latency := flag.Duration("latency", 0, "added latency per call")
	mdAddr := flag.String("metadata-addr", "", "also serve the metadata service directly on this address: 100.100.100.200:80 inside a network namespace whose lo carries that address (or 127.0.0.1:PORT)")
	chRegion := flag.String("challenge-region", "", "also serve a registry /v2/ challenge for this region")
	chSuffix := flag.String("challenge-suffix", "26842", "service suffix of the challenge: 26842 or china:cri-…")
	authCert := flag.String("dockerauth-cert", "", "also serve the registry token server (the dockerauth realm) and write its signing certificate (PEM) here")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}

	fc := fakecloud.New()
	var challenges fakecloud.Challenges
	if *scenario != "" {
		sc, err := fakecloud.LoadScenario(*scenario)
		if err != nil {
			return err
		}
		if err := fc.Apply(sc); err != nil {
			return err
		}
		challenges = sc.Challenges
	}
	if *latency > 0 {
		fc.SetLatency(*latency)
	}
	if *callsFile != "" {
		f, err := os.OpenFile(*callsFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		var mu sync.Mutex
		fc.OnCall(func(c fakecloud.Call) {
			b, _ := json.Marshal(c)
			mu.Lock()
			defer mu.Unlock()
			_, _ = f.Write(append(b, '\n'))
		})
	}

	// The API listener also serves /_fake/ (state for shell tests).
	fc.EnableDebugEndpoints()
	if err := fc.Listen(loopback(*port), loopback(*mdPort)); err != nil {
		return err
	}
	defer fc.Close()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "listening "+fc.URL())
	fmt.Fprintln(out, "metadata-proxy "+fc.MetadataProxyURL())
	if *mdAddr != "" {
		// Only the two addresses that cannot leave the machine: loopback, and the metadata address,
		// which exists on this machine only where a namespace put it on lo.
		if h, _, err := net.SplitHostPort(*mdAddr); err != nil || (h != "127.0.0.1" && h != "100.100.100.200") {
			return fmt.Errorf("-metadata-addr %q: want 100.100.100.200:80 or 127.0.0.1:PORT", *mdAddr)
		}
		ln, err := net.Listen("tcp", *mdAddr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: fc.MetadataProxyHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintln(out, "metadata http://"+ln.Addr().String())
	}

	if *withTLS {
		if err := fc.StartTLS(); err != nil {
			return err
		}
		if *caFile != "" {
			if err := os.WriteFile(*caFile, fc.CACertPEM(), 0o600); err != nil {
				return err
			}
		}
		fmt.Fprintln(out, "tls https://"+fc.TLSEndpoint())
	}
	if *chRegion != "" || len(challenges) > 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// The scenario's challenges by Host; any other host gets -challenge-region's, if given.
		var fallback http.Handler = http.NotFoundHandler()
		if *chRegion != "" {
			fallback = fakecloud.Challenge(*chRegion, *chSuffix)
		}
		byHost := challenges.Handler()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := strings.ToLower(r.Host)
			if hh, _, err := net.SplitHostPort(host); err == nil {
				host = hh
			}
			if _, ok := challenges[host]; ok {
				byHost.ServeHTTP(w, r)
				return
			}
			fallback.ServeHTTP(w, r)
		})
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintln(out, "challenge http://"+ln.Addr().String())
	}
	if *authCert != "" {
		da, err := fc.NewDockerAuth()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*authCert, da.CertPEM(), 0o644); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: da.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintln(out, "dockerauth http://"+ln.Addr().String())
	}
	// Catch SIGTERM before the addresses are printed: a caller that reads them may stop the fake
	// at once, and a signal between the print and Notify would kill it (exit by signal, not 0).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	if err := out.Flush(); err != nil {
		return err
	}
	<-sig
	return nil
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
