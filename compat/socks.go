package websocket

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
)

// dialSOCKS5 connects to addr through the SOCKS5 proxy at proxyURL (RFC
// 1928), with user name and password authentication (RFC 1929) when the
// URL carries them. The proxy resolves host names.
func dialSOCKS5(proxyURL *url.URL, forward func(network, addr string) (net.Conn, error), network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 0xffff {
		return nil, errors.New("proxy: bad port in " + addr)
	}
	proxyAddr := proxyURL.Host
	if proxyURL.Port() == "" {
		proxyAddr = net.JoinHostPort(proxyURL.Hostname(), "1080")
	}
	conn, err := forward(network, proxyAddr)
	if err != nil {
		return nil, err
	}
	if err := socks5Handshake(conn, proxyURL.User, host, port); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func socks5Handshake(conn net.Conn, user *url.Userinfo, host string, port int) error {
	methods := []byte{5, 1, 0}
	if user != nil {
		methods = []byte{5, 2, 0, 2}
	}
	if _, err := conn.Write(methods); err != nil {
		return err
	}
	var b [4]byte
	if _, err := io.ReadFull(conn, b[:2]); err != nil {
		return err
	}
	if b[0] != 5 {
		return errors.New("proxy: SOCKS5 proxy answered with version " + strconv.Itoa(int(b[0])))
	}
	switch b[1] {
	case 0:
	case 2:
		if user == nil {
			return errors.New("proxy: SOCKS5 proxy requires authentication")
		}
		name := user.Username()
		pass, _ := user.Password()
		if len(name) > 255 || len(pass) > 255 {
			return errors.New("proxy: SOCKS5 user name or password too long")
		}
		req := append([]byte{1, byte(len(name))}, name...)
		req = append(req, byte(len(pass)))
		req = append(req, pass...)
		if _, err := conn.Write(req); err != nil {
			return err
		}
		if _, err := io.ReadFull(conn, b[:2]); err != nil {
			return err
		}
		if b[1] != 0 {
			return errors.New("proxy: SOCKS5 proxy refused the user name and password")
		}
	default:
		return errors.New("proxy: SOCKS5 proxy accepts none of the offered authentication methods")
	}
	req := []byte{5, 1, 0}
	if ip := net.ParseIP(host); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			req = append(req, 1)
			req = append(req, ip4...)
		} else {
			req = append(req, 4)
			req = append(req, ip...)
		}
	} else {
		if len(host) > 255 {
			return errors.New("proxy: host name too long for SOCKS5: " + host)
		}
		req = append(req, 3, byte(len(host)))
		req = append(req, host...)
	}
	req = append(req, byte(port>>8), byte(port))
	if _, err := conn.Write(req); err != nil {
		return err
	}
	if _, err := io.ReadFull(conn, b[:4]); err != nil {
		return err
	}
	if b[1] != 0 {
		return errors.New("proxy: SOCKS5 proxy failed to connect: reply code " + strconv.Itoa(int(b[1])))
	}
	var skip int
	switch b[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		if _, err := io.ReadFull(conn, b[:1]); err != nil {
			return err
		}
		skip = int(b[0])
	default:
		return errors.New("proxy: SOCKS5 reply with unknown address type")
	}
	_, err := io.CopyN(io.Discard, conn, int64(skip+2))
	return err
}
