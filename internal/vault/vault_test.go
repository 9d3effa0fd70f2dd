package vault_test

import (
	"crypto/hkdf"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poise-payments/poise/internal/vault"
)

func TestSealOpen(t *testing.T) {
	key, err := vault.LoadKey("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := v.Seal("4111111111111111"), v.Seal("4111111111111111")
	if a == b {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	// The whole number: a short run of digits turns up in random text.
	if strings.Contains(a, "4111111111111111") {
		t.Fatal("sealed value shows the plaintext")
	}
	if got, err := v.Open(a); err != nil || got != "4111111111111111" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := vault.New(make([]byte, vault.KeyLen))
	if _, err := other.Open(a); err == nil {
		t.Fatal("opened with the wrong key")
	}
	if _, err := v.Open(a[:len(a)-2] + "AA"); err == nil {
		t.Fatal("opened a tampered value")
	}
}

func TestKeyFileIsCreatedOnceAndPrivate(t *testing.T) {
	dir := t.TempDir()
	k1, err := vault.LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := vault.LoadKey("", dir)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, vault.KeyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v", st.Mode().Perm(), err)
	}
	if _, err := vault.LoadKey("abc", dir); err == nil {
		t.Fatal("a short hex key was accepted")
	}
	env := strings.Repeat("ab", vault.KeyLen)
	if k, err := vault.LoadKey(env, dir); err != nil || k[0] != 0xab {
		t.Fatalf("key from the environment: %v", err)
	}
}

func TestDeriveKeyIsPerLabelAndPerVaultKey(t *testing.T) {
	key := make([]byte, vault.KeyLen)
	v, _ := vault.New(key)
	a, b := v.DeriveKey("fingerprints"), v.DeriveKey("something else")
	if len(a) != 32 || string(a) == string(b) {
		t.Fatalf("labels do not separate keys: %x %x", a, b)
	}
	if string(v.DeriveKey("fingerprints")) != string(a) {
		t.Fatal("derivation is not deterministic")
	}
	if string(a) == string(key) {
		t.Fatal("the derived key is the vault key")
	}
	key2 := make([]byte, vault.KeyLen)
	key2[0] = 1
	v2, _ := vault.New(key2)
	if string(v2.DeriveKey("fingerprints")) == string(a) {
		t.Fatal("two vault keys derive the same key")
	}
}

// TestDeriveKeyMatchesRFC5869 checks the derivation against the standard
// library's HKDF, an implementation independent of this package's.
func TestDeriveKeyMatchesRFC5869(t *testing.T) {
	key := []byte(strings.Repeat("k", vault.KeyLen))
	v, _ := vault.New(key)
	want, err := hkdf.Key(sha256.New, key, []byte("poise vault key derivation"), "label", 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.DeriveKey("label"); string(got) != string(want) {
		t.Fatalf("DeriveKey = %x, want %x", got, want)
	}
}
