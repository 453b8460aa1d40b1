package secrets

import "context"

// Reader reads the registry login stored in a secret at a version stage ("" is DefaultStage).
// Package secrets/kms reads it from KMS Secrets Manager; this package stays free of any cloud SDK,
// so that the settings reader (config) and programs that read no secret do not link one.
type Reader interface {
	Login(ctx context.Context, ref Ref, stage string) (Login, error)
}
