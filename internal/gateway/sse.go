package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"cairn/erasure"
	"cairn/internal/meta"
	"cairn/s3gw"
)

var _ s3gw.Encrypter = (*Gateway)(nil)

// EncryptsAtRest implements s3gw.Encrypter: with Seal, every stripe is
// sealed before it leaves the gateway, and an object written with SSE-S3
// is kept whole in stripes (no inline chunk, whose bytes the metadata
// store would hold in the clear).
func (g *Gateway) EncryptsAtRest() bool { return g.cfg.Seal && g.cfg.Sealer != nil }

// CustomerKeys implements s3gw.Encrypter: an object written with a
// customer key (SSE-C) is sealed by the Sealer's ForCustomer(key), in
// stripes only, whatever Seal says.
func (g *Gateway) CustomerKeys() bool { return g.cfg.Sealer != nil }

// sealing is how a write seals its chunks.
type sealing struct {
	sealer *erasure.Sealer // nil: the stripes code the plaintext
	scheme int             // meta.Stripe.Seal of the new stripes
	inline bool            // a short stream may be kept in its manifest
}

// sealingFor returns the sealing of a write with encryption enc.
func (g *Gateway) sealingFor(enc s3gw.Encryption) (sealing, error) {
	switch {
	case enc.CustomerKey != nil:
		if g.cfg.Sealer == nil {
			return sealing{}, errors.New("gateway: SSE-C needs a Sealer")
		}
		cs, err := g.cfg.Sealer.ForCustomer(enc.CustomerKey)
		if err != nil {
			return sealing{}, fmt.Errorf("gateway: %w", err)
		}
		return sealing{sealer: cs, scheme: erasure.SealCustomer}, nil
	case enc.S3:
		if !g.EncryptsAtRest() {
			return sealing{}, errors.New("gateway: SSE-S3 asked of a gateway that does not seal")
		}
		return sealing{sealer: g.cfg.Sealer, scheme: erasure.SealV1}, nil
	case g.cfg.Seal:
		return sealing{sealer: g.cfg.Sealer, scheme: erasure.SealV1, inline: true}, nil
	}
	return sealing{inline: true}, nil
}

// metaSSE is the record of encryption enc: nil for none; never the key.
func metaSSE(enc s3gw.Encryption) *meta.SSE {
	if !enc.S3 && enc.CustomerKeyCheck == nil {
		return nil
	}
	return &meta.SSE{S3: enc.S3, CustomerKeyCheck: enc.CustomerKeyCheck}
}

// keyCheck returns the customer key check an object or upload records,
// nil for none.
func keyCheck(sse *meta.SSE) []byte {
	if sse == nil {
		return nil
	}
	return sse.CustomerKeyCheck
}

// checkCustomerKey checks a request's customer key (nil: none) against
// the check an object or upload records (nil: none).
func checkCustomerKey(check, key []byte) error {
	switch {
	case check == nil && key != nil:
		return s3gw.ErrCustomerKeyNotApplicable
	case check == nil:
		return nil
	case key == nil:
		return s3gw.ErrCustomerKeyRequired
	case !s3gw.CustomerKeyMatches(check, key):
		return s3gw.ErrCustomerKeyMismatch
	}
	return nil
}

// customerSealer returns the sealer that opens an object's SSE-C stripes
// with the key the request carries (s3gw.CustomerKey), nil for an object
// without a customer key.
func (g *Gateway) customerSealer(m *meta.Object, key []byte) (*erasure.Sealer, error) {
	check := keyCheck(m.SSE)
	if err := checkCustomerKey(check, key); err != nil || check == nil {
		return nil, err
	}
	if g.cfg.Sealer == nil {
		return nil, errors.New("gateway: the object is sealed under a customer key, and this gateway has no sealing key")
	}
	return g.cfg.Sealer.ForCustomer(key)
}

// etag is the ETag of a body whose MD5 is sum, written with encryption
// enc: its hex MD5, or for a customer key 16 bytes of
// HMAC-SHA256(key, MD5), in hex. An SSE-C object's ETag is then no digest
// of its plaintext (on S3 neither), which would let whoever reads the
// metadata tell whether it is a file they know, yet it is the same for
// the same bytes under the same key, as clients comparing ETags expect.
func etag(sum []byte, enc s3gw.Encryption) string {
	if enc.CustomerKey == nil {
		return hex.EncodeToString(sum)
	}
	m := hmac.New(sha256.New, enc.CustomerKey)
	m.Write(sum)
	return hex.EncodeToString(m.Sum(nil)[:16])
}
