// Command hello is baseline (b) of the benchmarks: a plain Go program that reads stdin and prints
// one JSON line, built with the same flags as the helper.
package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"
)

func main() {
	in, _ := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	json.NewEncoder(os.Stdout).Encode(map[string]string{"ServerURL": strings.TrimSpace(string(in)), "Username": "u", "Secret": "s"})
}
