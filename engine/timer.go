package engine

// A timing wheel per loop: every connection that has something to time
// (handshake, idle read, heartbeat, write stall, close) is linked into one
// slot, that of its next check. Linking and unlinking are O(1) and need no
// allocation; the loop advances the wheel once per tick and checks only the
// connections in the slots it passes. A connection is checked when its slot
// comes up and decides then what is due and when to be checked next, so
// that activity (a read resetting an idle timer) costs a store, not a
// reschedule.

const (
	wheelSlots = 512
	tickNanos  = int64(100e6) // 100 ms: timeouts are seconds, and a tick's lateness is fine
)

type wheel struct {
	slots [wheelSlots]*Conn
	cur   int64 // the last tick advanced past
	count int   // connections linked
}

func (w *wheel) init(now int64) { w.cur = now / tickNanos }

// schedule links c to be checked at or after at (unix nanoseconds),
// replacing any earlier schedule.
func (w *wheel) schedule(c *Conn, at int64) {
	w.unlink(c)
	t := at / tickNanos
	if t <= w.cur {
		t = w.cur + 1
	}
	c.timerAt = at
	c.timerSlot = int32(t % wheelSlots)
	head := w.slots[c.timerSlot]
	c.timerNext, c.timerPrev = head, nil
	if head != nil {
		head.timerPrev = c
	}
	w.slots[c.timerSlot] = c
	w.count++
}

// unlink removes c from the wheel, if it is linked.
func (w *wheel) unlink(c *Conn) {
	if c.timerSlot < 0 {
		return
	}
	if c.timerPrev != nil {
		c.timerPrev.timerNext = c.timerNext
	} else {
		w.slots[c.timerSlot] = c.timerNext
	}
	if c.timerNext != nil {
		c.timerNext.timerPrev = c.timerPrev
	}
	c.timerNext, c.timerPrev, c.timerSlot = nil, nil, -1
	w.count--
}

// advance calls due for every connection whose check time has come by
// now. due may schedule or unlink the connection it is given.
func (w *wheel) advance(now int64, due func(*Conn)) {
	end := now / tickNanos
	for w.cur < end {
		w.cur++
		slot := int32(w.cur % wheelSlots)
		for c := w.slots[slot]; c != nil; {
			next := c.timerNext
			if c.timerAt <= now {
				w.unlink(c)
				due(c)
			}
			c = next
		}
		if w.count == 0 {
			w.cur = end
		}
	}
}

// wait returns how long the loop may sleep before the wheel needs
// advancing, in nanoseconds, or -1 when nothing is scheduled.
func (w *wheel) wait(now int64) int64 {
	if w.count == 0 {
		return -1
	}
	return (w.cur+1)*tickNanos - now
}
