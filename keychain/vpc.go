package keychain

import (
	"strconv"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// apiVPC says whether a plan's cr (Enterprise) and KMS calls go to the VPC endpoints of their
// region: when the config says so (the entry's vpc, else the global one), or, where it says
// nothing, when the registry host is itself a VPC host (<name>-registry-vpc.<region>…, the P2P
// distributed form): a client that reaches that host is inside that region's VPC.
// ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED is not asked: the credentials SDKs read it for STS only, ACK's
// pod-identity webhook sets it in every pod it serves, and VPC endpoints answer only inside their
// own region, so it would break a pull from a registry in another region (README, Hosts and
// endpoints). Endpoint overrides are used as given whatever this says.
func (k *Keychain) apiVPC(p *Plan) bool {
	vpc, _ := k.vpcReason(p)
	return vpc
}

// vpcReason is apiVPC with the setting or fact that decided it, for doctor.
func (k *Keychain) vpcReason(p *Plan) (bool, string) {
	if vpc, set := k.Config.APIVPC(p.Entry); set {
		if p.Entry != nil && p.Entry.VPC != nil {
			return vpc, "vpc: " + strconv.FormatBool(vpc) + " in " + p.Entry.Describe()
		}
		return vpc, "vpc: true in the config file"
	}
	if p.Registry.VPC && p.Kind == TargetEnterprise {
		return true, p.Registry.Host + " is a VPC host"
	}
	return false, ""
}

// CREndpoint is the ACR API endpoint of a plan's calls in its region (Enterprise calls on cr-vpc
// when apiVPC says so; Personal GET /tokens always on cr), for doctor.
func (k *Keychain) CREndpoint(p *Plan) (cloudapi.Endpoint, error) {
	return cloudapi.ResolveEndpoint(k.Config.Endpoints.CR, "cr", p.Region, p.VPC && p.Kind == TargetEnterprise)
}
