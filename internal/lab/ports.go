package lab

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are drawn from below Linux's ephemeral range (32768 and up), so that
// an outgoing connection does not take one between the test and the use.
const (
	portLow     = 10000
	portHigh    = 32000
	portRetries = 200
)

// pickPort finds one port free on every address, by binding it on each and
// closing it again: the port is then only likely to stay free, which is all
// one can know of a port that another process (sshd, HAProxy) will bind.
func pickPort(addrs []string, exclude map[int]bool) (int, error) {
	for range portRetries {
		port := portLow + rand.IntN(portHigh-portLow)
		if exclude[port] {
			continue
		}
		lns, err := listenAll(addrs, port)
		if err != nil {
			continue
		}
		closeAll(lns)
		return port, nil
	}
	return 0, fmt.Errorf("no port free on all %d host addresses after %d tries", len(addrs), portRetries)
}

func listenAll(addrs []string, port int) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(addrs))
	for _, a := range addrs {
		ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// pickPorts finds n distinct ports free on 127.0.0.1.
func pickPorts(n int, exclude map[int]bool) ([]int, error) {
	taken := map[int]bool{}
	for p := range exclude {
		taken[p] = true
	}
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := pickPort([]string{"127.0.0.1"}, taken)
		if err != nil {
			return nil, errors.New("not enough free ports on 127.0.0.1")
		}
		taken[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}
