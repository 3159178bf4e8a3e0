package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// writePKI creates, once per data directory, a CA and what is signed by it. Keeping
// them across restarts keeps an existing kubeconfig valid.
func writePKI(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "admin.key")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := newKey()
	if err != nil {
		return err
	}
	caTemplate := template("meshgen-test-ca", nil)
	caTemplate.IsCA = true
	caTemplate.BasicConstraintsValid = true
	caTemplate.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePair(dir, "ca", caDER, caKey); err != nil {
		return err
	}

	serving := template("kube-apiserver", nil)
	serving.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	serving.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	serving.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.96.0.1")}
	if err := signPair(dir, "serving", serving, ca, caKey); err != nil {
		return err
	}

	// system:masters is bound to cluster-admin by the API server's bootstrap policy.
	admin := template("meshgen-admin", []string{"system:masters"})
	admin.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if err := signPair(dir, "admin", admin, ca, caKey); err != nil {
		return err
	}

	serviceAccountKey, err := newKey()
	if err != nil {
		return err
	}
	return writeKey(filepath.Join(dir, "service-account.key"), serviceAccountKey)
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func template(commonName string, organizations []string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: organizations},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
}

func signPair(dir, name string, cert, ca *x509.Certificate, caKey crypto.Signer) error {
	key, err := newKey()
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, cert, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	return writePair(dir, name, der, key)
}

func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), certPEM, 0o644); err != nil {
		return err
	}
	return writeKey(filepath.Join(dir, name+".key"), key)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

// writeKubeconfig embeds the certificates, so the file works wherever it is copied.
func writeKubeconfig(path, server, pki string) error {
	read := func(name string) (string, error) {
		data, err := os.ReadFile(filepath.Join(pki, name))
		return base64.StdEncoding.EncodeToString(data), err
	}
	ca, errCA := read("ca.crt")
	cert, errCert := read("admin.crt")
	key, errKey := read("admin.key")
	if err := errors.Join(errCA, errCert, errKey); err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: meshgen-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: meshgen-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: meshgen-test
  context:
    cluster: meshgen-test
    user: meshgen-admin
current-context: meshgen-test
`, server, ca, cert, key)
	partial := path + ".partial"
	if err := os.WriteFile(partial, []byte(config), 0o600); err != nil {
		return err
	}
	return os.Rename(partial, path)
}
