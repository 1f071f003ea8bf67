package websocket

import (
	"bufio"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// proxyDialer returns a dial function that reaches its address through the
// proxy at proxyURL: an HTTP proxy (CONNECT) for the schemes http and
// https, or a SOCKS5 proxy for socks5 and socks5h.
func proxyDialer(proxyURL *url.URL, forward func(network, addr string) (net.Conn, error)) (func(network, addr string) (net.Conn, error), error) {
	switch proxyURL.Scheme {
	case "http":
		return func(network, addr string) (net.Conn, error) {
			return dialHTTPProxy(proxyURL, forward, network, addr)
		}, nil
	case "socks5", "socks5h":
		return func(network, addr string) (net.Conn, error) {
			return dialSOCKS5(proxyURL, forward, network, addr)
		}, nil
	}
	return nil, errors.New("proxy: unknown scheme: " + proxyURL.Scheme)
}

// dialHTTPProxy opens a tunnel to addr with an HTTP CONNECT request.
func dialHTTPProxy(proxyURL *url.URL, forward func(network, addr string) (net.Conn, error), network, addr string) (net.Conn, error) {
	hostPort, _ := hostPortNoPort(proxyURL)
	conn, err := forward(network, hostPort)
	if err != nil {
		return nil, err
	}
	connectHeader := make(http.Header)
	if user := proxyURL.User; user != nil {
		proxyUser := user.Username()
		if proxyPassword, passwordSet := user.Password(); passwordSet {
			credential := base64.StdEncoding.EncodeToString([]byte(proxyUser + ":" + proxyPassword))
			connectHeader.Set("Proxy-Authorization", "Basic "+credential)
		}
	}
	connectReq := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: connectHeader,
	}
	if err := connectReq.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	// Read the response one byte at a time, so that nothing the tunnel
	// carries after it is consumed here.
	br := bufio.NewReaderSize(oneByteReader{conn}, 16)
	resp, err := http.ReadResponse(br, connectReq)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != 200 {
		conn.Close()
		f := strings.SplitN(resp.Status, " ", 2)
		if len(f) < 2 {
			return nil, errors.New(resp.Status)
		}
		return nil, errors.New(f[1])
	}
	return conn, nil
}

// oneByteReader reads at most one byte per call.
type oneByteReader struct{ c net.Conn }

func (r oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return r.c.Read(p)
}
