# Sourced by controller/hack/build-kube.sh and e2e/build-kubelet.sh: the one way this project builds a
# command of k8s.io/kubernetes from the Go module proxy.
#
#   build_k8s_cmd VERSION CMD OUTFILE DIR
#
# builds k8s.io/kubernetes/cmd/CMD at VERSION into OUTFILE, in a throwaway module made in DIR.
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/src/...;
# replace directives of a dependency do not apply, so each is mapped to its published version, as
# Kubernetes' own consumers do. Expects GOFLAGS=-mod=mod, CGO_ENABLED=0 and GOWORK=off.
build_k8s_cmd() {
	local version=$1 cmd=$2 outfile=$3 dir=$4
	mkdir -p "$dir"
	(
		cd "$dir"
		printf 'module k8sbuild\n\ngo 1.26.0\n' >go.mod
		gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
		staging_version=v0${version#v1}
		for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod"); do
			go mod edit -replace "$m=$m@$staging_version"
		done
		go mod edit -require "k8s.io/kubernetes@$version"
		go mod download k8s.io/kubernetes >&2
		major=${version#v}; minor=${major#*.}; major=${major%%.*}; minor=${minor%%.*}
		vpkg=k8s.io/component-base/version
		go build -trimpath -o "$outfile" \
			-ldflags "-s -w -X $vpkg.gitVersion=$version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean" \
			"k8s.io/kubernetes/cmd/$cmd" >&2
	)
}
