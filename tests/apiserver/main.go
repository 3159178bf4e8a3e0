// Command meshgen-test-apiserver runs the real kube-apiserver of the repositories'
// Kubernetes minor on loopback, backed by an embedded etcd, for meshgen's tests.
//
// It is a cluster without nodes: no kubelet, scheduler or controller manager runs, so
// objects are admitted or refused exactly as a cluster would, but no pod ever starts
// and no controller acts on what was stored (no default ServiceAccount, no
// EndpointSlices, no garbage collection).
//
// Usage: meshgen-test-apiserver -data DIR -port PORT
//
// On first start it writes DIR/pki (a CA, the serving certificate, a client
// certificate in system:masters, the service-account key) and DIR/kubeconfig with
// the context "meshgen-test"; etcd keeps its data in DIR/etcd. SIGTERM stops both.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	dataDir := flag.String("data", "", "directory for certificates, kubeconfig and etcd data (required)")
	port := flag.Int("port", 6443, "secure port of the API server on 127.0.0.1")
	verbosity := flag.Int("v", 0, "kube-apiserver log verbosity")
	flag.Parse()
	if *dataDir == "" {
		fail("-data DIR is required")
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fail(err.Error())
	}
	if err := checkPortFree(*port); err != nil {
		fail(err.Error())
	}
	pki := filepath.Join(dir, "pki")
	if err := writePKI(pki); err != nil {
		fail("writing certificates: " + err.Error())
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", *port)
	if err := writeKubeconfig(filepath.Join(dir, "kubeconfig"), server, pki); err != nil {
		fail("writing kubeconfig: " + err.Error())
	}
	etcd, etcdURL, err := startEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		fail("starting etcd: " + err.Error())
	}
	defer etcd.Close()

	command := app.NewAPIServerCommand()
	command.SetArgs([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(*port),
		"--tls-cert-file=" + filepath.Join(pki, "serving.crt"),
		"--tls-private-key-file=" + filepath.Join(pki, "serving.key"),
		"--client-ca-file=" + filepath.Join(pki, "ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(pki, "service-account.key"),
		"--service-account-signing-key-file=" + filepath.Join(pki, "service-account.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		// Webhooks and aggregated APIs are reached through their Service's endpoints, not
		// by resolving `<service>.<namespace>.svc` with the host's DNS: with no pods there
		// are none, and the call fails here ("no endpoints available") as it would in a
		// cluster whose webhook pod is down, instead of leaving the machine.
		"--enable-aggregator-routing=true",
		// The default admission plugins of this release stay on (NamespaceLifecycle,
		// ServiceAccount, PodSecurity, ResourceQuota, the webhook and policy plugins...).
		"--profiling=false",
		"--v=" + strconv.Itoa(*verbosity),
	})
	if err := command.Execute(); err != nil {
		etcd.Close()
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "meshgen-test-apiserver: "+message)
	os.Exit(1)
}

func checkPortFree(port int) error {
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d on 127.0.0.1 is in use; stop what holds it or pass another port", port)
	}
	return listener.Close()
}

// freeURL picks a free loopback port for one of etcd's listeners: only the API
// server talks to etcd, so its ports need not be fixed.
func freeURL() (url.URL, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		return url.URL{}, err
	}
	return url.URL{Scheme: "http", Host: address}, nil
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	client, err := freeURL()
	if err != nil {
		return nil, "", err
	}
	peer, err := freeURL()
	if err != nil {
		return nil, "", err
	}
	config := embed.NewConfig()
	config.Dir = dir
	config.ListenClientUrls = []url.URL{client}
	config.AdvertiseClientUrls = []url.URL{client}
	config.ListenPeerUrls = []url.URL{peer}
	config.AdvertisePeerUrls = []url.URL{peer}
	config.InitialCluster = config.Name + "=" + peer.String()
	config.LogLevel = "error"
	// A throw-away store for tests: durability across power loss buys nothing here
	// and fsync dominates write latency on shared disks.
	config.UnsafeNoFsync = true
	etcd, err := embed.StartEtcd(config)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-etcd.Server.ReadyNotify():
		return etcd, client.String(), nil
	case err := <-etcd.Err():
		etcd.Close()
		return nil, "", err
	case <-time.After(60 * time.Second):
		etcd.Close()
		return nil, "", fmt.Errorf("etcd was not ready within 60s")
	}
}
