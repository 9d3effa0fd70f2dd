// Package vault seals secrets at rest (card numbers) with AES-256-GCM.
//
// A sealed value is "v1:" followed by base64 of nonce || ciphertext || tag.
// The version prefix leaves room for key rotation: a later key gets "v2:"
// and values sealed under v1 stay readable.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyLen is the length of an AES-256 key in bytes.
const KeyLen = 32

// KeyFileName is the key file created in the data directory when no key is
// given in the environment.
const KeyFileName = "encryption.key"

const prefix = "v1:"

// Vault seals and opens values with one key, and derives the keys of
// other uses from it.
type Vault struct {
	aead cipher.AEAD
	// prk is the pseudorandom key that derived keys expand from; the
	// sealing key itself is never used for anything but sealing.
	prk []byte
}

// deriveSalt is the extract step's salt. Fixed and public, as HKDF allows:
// the input key is already uniformly random.
const deriveSalt = "poise vault key derivation"

// New returns a vault for a 32-byte key.
func New(key []byte) (*Vault, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("vault: key must be %d bytes, got %d", KeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	extract := hmac.New(sha256.New, []byte(deriveSalt))
	extract.Write(key)
	return &Vault{aead: aead, prk: extract.Sum(nil)}, nil
}

// DeriveKey returns a 32-byte key for one use, named by label, from the
// vault key: HKDF-SHA256 (RFC 5869) with one block of output. Different
// labels give independent keys, and none of them reveals the vault key.
func (v *Vault) DeriveKey(label string) []byte {
	expand := hmac.New(sha256.New, v.prk)
	expand.Write([]byte(label))
	expand.Write([]byte{1})
	return expand.Sum(nil)
}

// Seal encrypts plaintext with a fresh random nonce.
func (v *Vault) Seal(plaintext string) string {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("vault: crypto/rand failed: " + err.Error())
	}
	sealed := v.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return prefix + base64.RawStdEncoding.EncodeToString(sealed)
}

// Open decrypts a value made by Seal.
func (v *Vault) Open(sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errors.New("vault: unknown sealed value version")
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < v.aead.NonceSize() {
		return "", errors.New("vault: malformed sealed value")
	}
	n := v.aead.NonceSize()
	plain, err := v.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", errors.New("vault: sealed value does not open with this key")
	}
	return string(plain), nil
}

// LoadKey returns the key from hexKey (64 hex digits, as in
// POISE_ENCRYPTION_KEY) when given, and otherwise from dataDir's key file,
// creating it with mode 0600 on first use.
func LoadKey(hexKey, dataDir string) ([]byte, error) {
	if hexKey != "" {
		key, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil || len(key) != KeyLen {
			return nil, fmt.Errorf("vault: the encryption key must be %d hex digits", 2*KeyLen)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeyLen {
			return nil, fmt.Errorf("vault: %s does not hold a %d-byte hex key", path, KeyLen)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not write two keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadKey("", dataDir)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	return key, f.Sync()
}
