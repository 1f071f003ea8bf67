package main

// room is the hub of the chat: its run goroutine alone touches members, so
// joining, leaving and broadcasting need no lock.
type room struct {
	members   map[*member]bool
	broadcast chan []byte  // a message from one member, for all
	enter     chan *member // a member that has connected
	leave     chan *member // a member whose connection has ended
}

func newRoom() *room {
	return &room{
		members:   make(map[*member]bool),
		broadcast: make(chan []byte),
		enter:     make(chan *member),
		leave:     make(chan *member),
	}
}

func (r *room) run() {
	for {
		select {
		case m := <-r.enter:
			r.members[m] = true
		case m := <-r.leave:
			if r.members[m] {
				delete(r.members, m)
				close(m.outbox)
			}
		case msg := <-r.broadcast:
			for m := range r.members {
				select {
				case m.outbox <- msg:
				default:
					// Its outbox is full: the page is not keeping up.
					// Closing the outbox makes its writer close the
					// connection.
					delete(r.members, m)
					close(m.outbox)
				}
			}
		}
	}
}
