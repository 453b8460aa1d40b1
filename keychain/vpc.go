package keychain

// apiVPC says whether a plan's cr (Enterprise) and KMS calls go to the VPC endpoints of their
// region: when the config says so (the entry's vpc, else the global one), or, where it says
// nothing, when the registry host is itself a VPC host (<name>-registry-vpc.<region>…, the P2P
// distributed form): a client that reaches that host is inside that region's VPC.
// ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED is not asked: the credentials SDKs read it for STS only, ACK's
// pod-identity webhook sets it in every pod it serves, and VPC endpoints answer only inside their
// own region, so it would break a pull from a registry in another region (README, Hosts and
// endpoints). Endpoint overrides are used as given whatever this says.
func (k *Keychain) apiVPC(p *Plan) bool {
	if vpc, set := k.Config.APIVPC(p.Entry); set {
		return vpc
	}
	return p.Registry.VPC && p.Kind == TargetEnterprise
}
