package vault_test

import (
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
	if strings.Contains(a, "4111") {
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
