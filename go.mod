module github.com/lullws/lull

go 1.24.0

require golang.org/x/sys v0.41.0

require github.com/valyala/bytebufferpool v1.0.0
