package main

import (
	"bytes"
	"log"
	"net/http"
	"time"

	websocket "github.com/lullws/lull/compat"
)

const (
	writeWait      = 10 * time.Second  // longest a write to the page may take
	pongWait       = 60 * time.Second  // longest the page may stay silent (pongs count)
	pingPeriod     = pongWait * 9 / 10 // how often the page is pinged
	maxMessageSize = 4096              // largest message a page may send
	outboxSize     = 64                // messages queued for a page before it counts as slow
)

// The page runs on the same origin as the server, so the Upgrader's
// default origin check (Origin's host equal to Host) is the right one.
var upgrader = websocket.Upgrader{}

// member is one connected page.
type member struct {
	room   *room
	conn   *websocket.Conn
	outbox chan []byte // messages for the page; the room closes it to drop the member
}

// join upgrades the request and runs the new member's two goroutines.
func join(room *room, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	m := &member{room: room, conn: conn, outbox: make(chan []byte, outboxSize)}
	room.enter <- m
	go m.write()
	go m.read()
}

// read passes each message from the page to the room until the connection
// fails or the page leaves. It is the connection's only reader.
func (m *member) read() {
	defer func() {
		m.room.leave <- m
		m.conn.Close()
	}()
	m.conn.SetReadLimit(maxMessageSize)
	m.conn.SetReadDeadline(time.Now().Add(pongWait))
	m.conn.SetPongHandler(func(string) error {
		return m.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, msg, err := m.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
				log.Printf("chat: %v", err)
			}
			return
		}
		m.room.broadcast <- bytes.TrimSpace(msg)
	}
}

// write sends the room's messages to the page, several at once as lines of
// one frame when they have piled up, and pings the page every pingPeriod.
// It is the connection's only writer (apart from the close frame below).
func (m *member) write() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		m.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-m.outbox:
			m.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				// Dropped by the room.
				m.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseGoingAway, "too slow"), time.Now().Add(writeWait))
				return
			}
			w, err := m.conn.NextWriter(websocket.TextMessage)
			if err != nil {
				return
			}
			w.Write(msg)
			for n := len(m.outbox); n > 0; n-- {
				w.Write([]byte{'\n'})
				w.Write(<-m.outbox)
			}
			if err := w.Close(); err != nil {
				return
			}
		case <-ticker.C:
			if err := m.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		}
	}
}
