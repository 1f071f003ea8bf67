module github.com/lullws/lull/interop

go 1.26

replace github.com/lullws/lull => ../

require (
	github.com/coder/websocket v1.8.15
	github.com/gobwas/httphead v0.1.0
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/lullws/lull v0.0.0
)

require (
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)
