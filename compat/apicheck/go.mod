module github.com/lullws/lull/compat/apicheck

go 1.24.0

require (
	github.com/btcsuite/websocket v0.0.0-20150119174127-31079b680792
	github.com/gorilla/websocket v1.5.3
	github.com/lullws/lull v0.0.0
)

require (
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)

replace github.com/lullws/lull => ../../
