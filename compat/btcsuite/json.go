package websocket

import "encoding/json"

// WriteJSON sends v, encoded by encoding/json's Encoder, as one text
// message (whose payload therefore ends with a newline).
func (c *Conn) WriteJSON(v interface{}) error {
	w, err := c.NextWriter(TextMessage)
	if err != nil {
		return err
	}
	err1 := json.NewEncoder(w).Encode(v)
	err2 := w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// ReadJSON decodes the first JSON value of the next data message, of
// either type, into v; anything after that value is ignored. An empty
// message gives io.EOF.
func (c *Conn) ReadJSON(v interface{}) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	return json.NewDecoder(r).Decode(v)
}

// WriteJSON is c.WriteJSON(v).
//
// Deprecated: use c.WriteJSON.
func WriteJSON(c *Conn, v interface{}) error { return c.WriteJSON(v) }

// ReadJSON is c.ReadJSON(v).
//
// Deprecated: use c.ReadJSON.
func ReadJSON(c *Conn, v interface{}) error { return c.ReadJSON(v) }
