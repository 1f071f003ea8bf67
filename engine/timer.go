package engine

import "time"

// A timing wheel per loop: every connection that has something to time
// (handshake, idle read, heartbeat, write stall, close) is linked into one
// slot, that of its next check. Linking and unlinking are O(1) and need no
// allocation; the loop advances the wheel once per tick and checks only the
// connections in the slots it passes. A connection is checked when its slot
// comes up and decides then what is due and when to be checked next, so
// that activity (a read resetting an idle timer) costs a store, not a
// reschedule.
//
// Times are kept in ticks since the engine started, in 32 bits (wrapping
// after 13 years, compared with wrap-around arithmetic), which keeps the
// per-connection timer state at 4 bytes per time plus the two links.

const (
	wheelSlots = 512
	tickNanos  = int64(100 * time.Millisecond) // timeouts are seconds; a tick's lateness is fine
)

// ticks converts unix nanoseconds to ticks since the engine's epoch.
func (e *Engine) ticks(now int64) uint32 { return uint32((now - e.epoch) / tickNanos) }

// durationTicks converts a duration to whole ticks, rounding up; zero
// stays zero.
func durationTicks(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	t := (int64(d) + tickNanos - 1) / tickNanos
	if t > 1<<30 {
		t = 1 << 30
	}
	return uint32(t)
}

// before reports whether tick a comes before tick b, allowing wrap-around.
func before(a, b uint32) bool { return int32(a-b) < 0 }

// after reports whether tick a is b or later.
func after(a, b uint32) bool { return int32(a-b) >= 0 }

type wheel struct {
	slots [wheelSlots]*Conn
	cur   uint32 // the last tick advanced past
	count int    // connections linked
}

func (w *wheel) init(now uint32) { w.cur = now }

// schedule links c to be checked at tick at (or the next tick, if at has
// passed), replacing any earlier schedule.
func (w *wheel) schedule(c *Conn, at uint32) {
	w.unlink(c)
	if !after(at, w.cur+1) {
		at = w.cur + 1
	}
	c.timerAt = at
	c.flags |= fTimer
	slot := at % wheelSlots
	head := w.slots[slot]
	c.timerNext, c.timerPrev = head, nil
	if head != nil {
		head.timerPrev = c
	}
	w.slots[slot] = c
	w.count++
}

// unlink removes c from the wheel, if it is linked.
func (w *wheel) unlink(c *Conn) {
	if c.flags&fTimer == 0 {
		return
	}
	if c.timerPrev != nil {
		c.timerPrev.timerNext = c.timerNext
	} else {
		w.slots[c.timerAt%wheelSlots] = c.timerNext
	}
	if c.timerNext != nil {
		c.timerNext.timerPrev = c.timerPrev
	}
	c.timerNext, c.timerPrev = nil, nil
	c.flags &^= fTimer
	w.count--
}

// advance calls due for every connection whose check time has come by
// tick now. due may schedule or unlink the connection it is given.
func (w *wheel) advance(now uint32, due func(*Conn)) {
	for before(w.cur, now) {
		w.cur++
		for c := w.slots[w.cur%wheelSlots]; c != nil; {
			next := c.timerNext
			if after(w.cur, c.timerAt) {
				w.unlink(c)
				due(c)
			}
			c = next
		}
		if w.count == 0 {
			w.cur = now
		}
	}
}

// wait returns how long the loop may sleep before the wheel needs
// advancing, in nanoseconds, or -1 when nothing is scheduled.
func (w *wheel) wait(now, epoch int64) int64 {
	if w.count == 0 {
		return -1
	}
	d := epoch + int64(w.cur+1)*tickNanos - now
	if d < 0 {
		return 0
	}
	return d
}
